package sigv4

import (
	"strings"
	"time"
)

const (
	algorithm    = "AWS4-HMAC-SHA256"
	terminator   = "aws4_request"
	shortLayout  = "20060102"
	amzLayout    = "20060102T150405Z"
	maxAuthLen   = 8192 // longer Authorization headers are rejected unparsed
	maxTokenLen  = 128  // access key id, region, service, header name
	signatureLen = 64   // hex-encoded HMAC-SHA256
)

// authHeader is a parsed SigV4 Authorization header.
type authHeader struct {
	AccessKeyID   string
	Date          string // the scope's date, YYYYMMDD
	Region        string
	Service       string
	SignedHeaders []string // lower-case, sorted, unique
	Signature     string   // 64 lower-case hex digits
}

// credential returns the Credential component: AKID/date/region/service/aws4_request.
func (a authHeader) credential() string {
	return strings.Join([]string{a.AccessKeyID, a.Date, a.Region, a.Service, terminator}, "/")
}

// String serialises a in the canonical form the AWS SDKs emit.
func (a authHeader) String() string {
	return algorithm + " Credential=" + a.credential() +
		", SignedHeaders=" + strings.Join(a.SignedHeaders, ";") +
		", Signature=" + a.Signature
}

// parseAuthorization parses a SigV4 Authorization header strictly: the
// algorithm, then exactly the Credential, SignedHeaders and Signature
// components (in any order, each once), separated by commas and optional
// spaces. Errors are EFORBIDDEN and never echo the header.
func parseAuthorization(s string) (authHeader, error) {
	if len(s) > maxAuthLen {
		return authHeader{}, malformed("Authorization header is too long.")
	}
	rest, ok := strings.CutPrefix(s, algorithm+" ")
	if !ok {
		return authHeader{}, malformed("Authorization header requires the '" + algorithm + "' algorithm.")
	}
	params, err := splitParams(rest)
	if err != nil {
		return authHeader{}, err
	}
	var a authHeader
	if err := parseCredential(params.credential, &a); err != nil {
		return authHeader{}, err
	}
	if a.SignedHeaders, err = parseSignedHeaders(params.signedHeaders); err != nil {
		return authHeader{}, err
	}
	if a.Signature, err = parseSignature(params.signature); err != nil {
		return authHeader{}, err
	}
	return a, nil
}

// authParams are the three parameters of an Authorization header.
type authParams struct{ credential, signedHeaders, signature string }

// splitParams splits "k=v, k=v, k=v" into exactly the three known keys.
func splitParams(s string) (authParams, error) {
	var p authParams
	if strings.Count(s, ",") != 2 {
		return p, malformed("Authorization header requires exactly the 'Credential', 'SignedHeaders' and 'Signature' parameters.")
	}
	var seen [3]bool
	for range 3 {
		part, rest, _ := strings.Cut(s, ",")
		s = rest
		key, value, ok := strings.Cut(strings.Trim(part, " "), "=")
		if !ok {
			return p, malformed("Invalid key=value pair (missing equal-sign) in Authorization header.")
		}
		var i int
		switch key {
		case "Credential":
			i, p.credential = 0, value
		case "SignedHeaders":
			i, p.signedHeaders = 1, value
		case "Signature":
			i, p.signature = 2, value
		default:
			return p, malformed("Authorization header has an unknown parameter.")
		}
		if seen[i] {
			return p, malformed("Authorization header repeats the '" + key + "' parameter.")
		}
		seen[i] = true
	}
	return p, nil
}

// parseCredential fills a's scope from AKID/YYYYMMDD/region/service/aws4_request.
func parseCredential(s string, a *authHeader) error {
	var parts [5]string
	if strings.Count(s, "/") != 4 {
		return malformed("Credential should be scoped to a valid region, a service and 'aws4_request'.")
	}
	for i := range parts {
		parts[i], s, _ = strings.Cut(s, "/")
	}
	if parts[4] != terminator {
		return malformed("Credential should be scoped to a valid region, a service and 'aws4_request'.")
	}
	for _, p := range parts[:4] {
		if !isToken(p, isScopeByte) {
			return malformed("Credential is malformed.")
		}
	}
	if !isDate(parts[1]) {
		return malformed("Credential should be scoped to a valid date (YYYYMMDD).")
	}
	a.AccessKeyID, a.Date, a.Region, a.Service = parts[0], parts[1], parts[2], parts[3]
	return nil
}

// parseSignedHeaders checks a ';'-separated, lower-case, strictly sorted
// header list that names host and x-amz-date.
func parseSignedHeaders(s string) ([]string, error) {
	names := strings.Split(s, ";")
	var host, date bool
	for i, n := range names {
		if !isToken(n, isHeaderByte) {
			return nil, malformed("SignedHeaders must be lower-case header names separated by ';'.")
		}
		if i > 0 && names[i-1] >= n {
			return nil, malformed("SignedHeaders must be sorted and unique.")
		}
		host = host || n == "host"
		date = date || n == "x-amz-date"
	}
	if !host || !date {
		return nil, malformed("SignedHeaders must include 'host' and 'x-amz-date'.")
	}
	return names, nil
}

// parseSignature checks a 64-digit lower-case hex signature.
func parseSignature(s string) (string, error) {
	if len(s) != signatureLen || strings.IndexFunc(s, notLowerHex) >= 0 {
		return "", malformed("Signature must be 64 lower-case hexadecimal digits.")
	}
	return s, nil
}

// isDate reports whether s is a valid YYYYMMDD date.
func isDate(s string) bool {
	if len(s) != len(shortLayout) {
		return false
	}
	t, err := time.Parse(shortLayout, s)
	var buf [len(shortLayout)]byte
	return err == nil && string(t.AppendFormat(buf[:0], shortLayout)) == s
}

// isToken reports whether s is a non-empty, bounded run of bytes accepted by ok.
func isToken(s string, ok func(byte) bool) bool {
	if s == "" || len(s) > maxTokenLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

// isScopeByte accepts the bytes of access key ids, regions and services.
func isScopeByte(c byte) bool {
	return isAlnum(c) || c == '-' || c == '_' || c == '.'
}

// isHeaderByte accepts the bytes of lower-case header names.
func isHeaderByte(c byte) bool {
	return ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') || c == '-' || c == '_' || c == '.'
}

func isAlnum(c byte) bool {
	return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

func notLowerHex(r rune) bool {
	return !(('0' <= r && r <= '9') || ('a' <= r && r <= 'f'))
}
