package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/route"
)

// The Cognito user-pool wire API (cognito-idp 2016-04-18) is AWS JSON 1.1:
// every operation is `POST /` with `X-Amz-Target:
// AWSCognitoIdentityProviderService.<Op>` and a JSON body with PascalCase
// members. Administration operations are SigV4-signed with the signing name
// cognito-idp (CognitoAuth, root key only); the operations the SDK sends
// anonymously (InitiateAuth, RespondToAuthChallenge, GetUser,
// ChangePassword, GlobalSignOut, RevokeToken, GetTokensFromRefreshToken,
// AssociateSoftwareToken, VerifySoftwareToken, SetUserMFAPreference)
// are authorized by what they carry: a client id and SECRET_HASH, an
// access token or a refresh token.
//
// Errors are `{"__type": "<Exception>", "message": "..."}` with the same
// name in X-Amzn-ErrorType: 400 for every client fault, 500 for
// InternalErrorException, whose cause is logged and never sent. An
// unavailable dependency (the database down) is InternalErrorException too,
// Cognito's documented service-side error, with Retry-After.

// cognitoTargetPrefix prefixes the X-Amz-Target of every cognito-idp operation.
const cognitoTargetPrefix = "AWSCognitoIdentityProviderService."

// cognitoContentType is the media type of AWS JSON 1.1 requests and responses.
const cognitoContentType = "application/x-amz-json-1.1"

// cognitoAuthSessionMinutes is the challenge Session lifetime Behalf's user
// pools use (Cognito's AuthSessionValidity default).
const cognitoAuthSessionMinutes = 3

// Exceptions the wire layer itself raises (the user-pool service raises the
// rest, see behalf.CognitoException).
const (
	cognitoUnknownOperation = "UnknownOperationException"
	cognitoSerialization    = "SerializationException"
	cognitoMissingAuth      = "MissingAuthenticationTokenException"
	cognitoUnrecognized     = "UnrecognizedClientException"
	cognitoInvalidSignature = "InvalidSignatureException"
	cognitoAccessDenied     = "AccessDeniedException"
)

// cognitoOperation runs one cognito-idp operation on its raw body and
// returns the response document.
type cognitoOperation func(ctx context.Context, body []byte) (any, error)

// cognitoOp is one entry of the operation table.
type cognitoOp struct {
	run cognitoOperation
	// anonymous operations take no signature (the SDK sends none).
	anonymous bool
	// effect says whether a success is an administrative change, audited
	// as admin.<name> with the resource it names (audit.go).
	effect effect
}

// cognitoOps is the cognito-idp operation table.
func (s *Server) cognitoOps() map[string]cognitoOp {
	// Signed (root key) operations: administrative changes, reads, and
	// the sign-ins a backend runs for its users.
	change := func(op cognitoOperation, resource ...resourcePart) cognitoOp {
		return cognitoOp{run: op, effect: changes(resource...)}
	}
	read := func(op cognitoOperation) cognitoOp { return cognitoOp{run: op, effect: reads()} }
	signIn := func(op cognitoOperation) cognitoOp { return cognitoOp{run: op, effect: userCall()} }
	// Unsigned operations: a user's own, never administrative.
	anon := func(op cognitoOperation) cognitoOp { return cognitoOp{run: op, anonymous: true, effect: userCall()} }
	return map[string]cognitoOp{
		"CreateUserPool":   change(s.cognitoCreateUserPool, fromOut("UserPool.Id")),
		"DescribeUserPool": read(s.cognitoDescribeUserPool),
		"UpdateUserPool":   change(s.cognitoUpdateUserPool, fromBody("UserPoolId")),
		"ListUserPools":    read(s.cognitoListUserPools),
		"DeleteUserPool":   change(s.cognitoDeleteUserPool, fromBody("UserPoolId")),

		"CreateUserPoolClient":   change(s.cognitoCreateUserPoolClient, fromBody("UserPoolId"), fromOut("UserPoolClient.ClientId")),
		"DescribeUserPoolClient": read(s.cognitoDescribeUserPoolClient),
		"UpdateUserPoolClient":   change(s.cognitoUpdateUserPoolClient, fromBody("UserPoolId"), fromBody("ClientId")),
		"ListUserPoolClients":    read(s.cognitoListUserPoolClients),
		"DeleteUserPoolClient":   change(s.cognitoDeleteUserPoolClient, fromBody("UserPoolId"), fromBody("ClientId")),

		"CreateResourceServer":   change(s.cognitoCreateResourceServer, fromBody("UserPoolId"), fromBody("Identifier")),
		"DescribeResourceServer": read(s.cognitoDescribeResourceServer),
		"UpdateResourceServer":   change(s.cognitoUpdateResourceServer, fromBody("UserPoolId"), fromBody("Identifier")),
		"ListResourceServers":    read(s.cognitoListResourceServers),
		"DeleteResourceServer":   change(s.cognitoDeleteResourceServer, fromBody("UserPoolId"), fromBody("Identifier")),

		"CreateUserPoolDomain":   change(s.cognitoCreateUserPoolDomain, fromBody("UserPoolId"), fromBody("Domain")),
		"DescribeUserPoolDomain": read(s.cognitoDescribeUserPoolDomain),
		"UpdateUserPoolDomain":   change(s.cognitoUpdateUserPoolDomain, fromBody("UserPoolId"), fromBody("Domain")),
		"DeleteUserPoolDomain":   change(s.cognitoDeleteUserPoolDomain, fromBody("UserPoolId"), fromBody("Domain")),

		"AdminCreateUser":        change(s.cognitoAdminCreateUser, fromBody("UserPoolId"), fromOut("User.Username")),
		"AdminSetUserPassword":   change(s.cognitoAdminSetUserPassword, fromBody("UserPoolId"), fromBody("Username")),
		"AdminGetUser":           read(s.cognitoAdminGetUser),
		"AdminDeleteUser":        change(s.cognitoAdminDeleteUser, fromBody("UserPoolId"), fromBody("Username")),
		"AdminDisableUser":       change(s.cognitoAdminDisableUser, fromBody("UserPoolId"), fromBody("Username")),
		"AdminEnableUser":        change(s.cognitoAdminEnableUser, fromBody("UserPoolId"), fromBody("Username")),
		"ListUsers":              read(s.cognitoListUsers),
		"AdminUserGlobalSignOut": change(s.cognitoAdminUserGlobalSignOut, fromBody("UserPoolId"), fromBody("Username")),
		"AdminConfirmSignUp":     change(s.cognitoAdminConfirmSignUp, fromBody("UserPoolId"), fromBody("Username")),
		"AdminResetUserPassword": change(s.cognitoAdminResetUserPassword, fromBody("UserPoolId"), fromBody("Username")),

		"CreateGroup":              change(s.cognitoCreateGroup, fromBody("UserPoolId"), fromBody("GroupName")),
		"GetGroup":                 read(s.cognitoGetGroup),
		"UpdateGroup":              change(s.cognitoUpdateGroup, fromBody("UserPoolId"), fromBody("GroupName")),
		"DeleteGroup":              change(s.cognitoDeleteGroup, fromBody("UserPoolId"), fromBody("GroupName")),
		"ListGroups":               read(s.cognitoListGroups),
		"AdminAddUserToGroup":      change(s.cognitoAdminAddUserToGroup, fromBody("UserPoolId"), fromBody("Username")),
		"AdminRemoveUserFromGroup": change(s.cognitoAdminRemoveUserFromGroup, fromBody("UserPoolId"), fromBody("Username")),
		"AdminListGroupsForUser":   read(s.cognitoAdminListGroupsForUser),
		"ListUsersInGroup":         read(s.cognitoListUsersInGroup),

		"SetUserPoolMfaConfig":      change(s.cognitoSetUserPoolMfaConfig, fromBody("UserPoolId")),
		"GetUserPoolMfaConfig":      read(s.cognitoGetUserPoolMfaConfig),
		"AdminSetUserMFAPreference": change(s.cognitoAdminSetUserMFAPreference, fromBody("UserPoolId"), fromBody("Username")),

		"AdminInitiateAuth":           signIn(s.cognitoAdminInitiateAuth),
		"AdminRespondToAuthChallenge": signIn(s.cognitoAdminRespondToAuthChallenge),

		"InitiateAuth":              anon(s.cognitoInitiateAuth),
		"RespondToAuthChallenge":    anon(s.cognitoRespondToAuthChallenge),
		"GetUser":                   anon(s.cognitoGetUser),
		"ChangePassword":            anon(s.cognitoChangePassword),
		"GlobalSignOut":             anon(s.cognitoGlobalSignOut),
		"RevokeToken":               anon(s.cognitoRevokeToken),
		"GetTokensFromRefreshToken": anon(s.cognitoGetTokensFromRefreshToken),
		"SignUp":                    anon(s.cognitoSignUp),
		"ConfirmSignUp":             anon(s.cognitoConfirmSignUp),
		"ResendConfirmationCode":    anon(s.cognitoResendConfirmationCode),
		"ForgotPassword":            anon(s.cognitoForgotPassword),
		"ConfirmForgotPassword":     anon(s.cognitoConfirmForgotPassword),
		"AssociateSoftwareToken":    anon(s.cognitoAssociateSoftwareToken),
		"VerifySoftwareToken":       anon(s.cognitoVerifySoftwareToken),
		"SetUserMFAPreference":      anon(s.cognitoSetUserMFAPreference),
	}
}

// mountCognito adds the cognito-idp API to mux; it does nothing when the
// server has no user pools. The pools' discovery documents, JWKS and OAuth
// 2.0 endpoints under /{poolId}/ are served by package userpool/oidcop,
// mounted in front of this handler.
func (s *Server) mountCognito(m *router) {
	if s.UserPools == nil {
		return
	}
	ops := s.cognitoOps()
	m.handleNamed("POST /{$}", func(r *http.Request) route.Route { return cognitoRoute(ops, r) }, s.serveCognito(ops))
	m.handle("OPTIONS /{$}", route.Route{Name: "CognitoPreflight", Kind: route.Cognito}, http.HandlerFunc(cognitoPreflight))
}

// cognitoRoute names a request to POST / by the operation of its
// X-Amz-Target; one that names no operation is Cognito's all the same,
// unnamed.
func cognitoRoute(ops map[string]cognitoOp, r *http.Request) route.Route {
	if name, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), cognitoTargetPrefix); ok {
		if _, known := ops[name]; known {
			return route.Route{Name: name, Kind: route.Cognito}
		}
	}
	return route.Route{Kind: route.Cognito}
}

// serveCognito dispatches on X-Amz-Target: it reads the body (at most
// MaxBodyBytes), checks the signature of administration operations, runs
// the operation and writes its result or error.
func (s *Server) serveCognito(ops map[string]cognitoOp) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			// A panic is an InternalErrorException in Cognito's shape
			// (the outer handler would answer in restJson1's).
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.writeCognitoError(w, r, fmt.Errorf("panic in %s: %v", opName(r), p))
			}
		}()
		setCognitoCORS(w.Header())
		target := r.Header.Get("X-Amz-Target")
		name, ok := strings.CutPrefix(target, cognitoTargetPrefix)
		op, known := ops[name]
		if !ok || !known || len(r.Header.Values("X-Amz-Target")) != 1 {
			s.writeCognitoError(w, r, cognitoWireError(cognitoUnknownOperation, http.StatusBadRequest, "Unknown operation: %.128q.", target))
			return
		}
		markNoStore(w.Header(), name)
		body, err := readBody(w, r)
		if err != nil {
			s.writeCognitoError(w, r, err)
			return
		}
		ctx := r.Context()
		if !op.anonymous {
			p, err := s.verifyCognitoAdmin(r, body, name)
			if err != nil {
				s.writeCognitoError(w, r, err)
				return
			}
			ctx = behalf.WithPrincipal(ctx, p)
		}
		out, err := op.run(ctx, body)
		if err != nil {
			s.writeCognitoError(w, r, err)
			return
		}
		s.audit(ctx, r, name, op.effect, body, out)
		if out == nil {
			out = struct{}{}
		}
		w.Header().Set("Content-Type", cognitoContentType)
		w.WriteHeader(http.StatusOK)
		_ = json.NewEncoder(w).Encode(out)
	})
}

// verifyCognitoAdmin checks the SigV4 signature of an administration
// operation (signing name cognito-idp) and that the key is the root key:
// keys scoped to a workload are for the AgentCore data plane only.
func (s *Server) verifyCognitoAdmin(r *http.Request, body []byte, op string) (behalf.Principal, error) {
	if s.CognitoAuth == nil {
		return behalf.Principal{}, cognitoWireError(cognitoAccessDenied, http.StatusBadRequest, "This server does not accept signed cognito-idp requests.")
	}
	p, err := s.CognitoAuth.Verify(r, body)
	if err != nil {
		return behalf.Principal{}, cognitoAuthError(err)
	}
	if !p.IsRoot() {
		return behalf.Principal{}, cognitoWireError(cognitoAccessDenied, http.StatusBadRequest,
			"User: %s is not authorized to perform: cognito-idp:%s; the key is scoped to one workload's data plane.", p.AccessKeyID, op)
	}
	return p, nil
}

// cognitoAuthError names a signature failure the way AWS JSON services
// do. Failures of the key lookup itself (uncoded) stay internal errors.
func cognitoAuthError(err error) error {
	if behalf.ErrorCode(err) != behalf.EFORBIDDEN {
		return err
	}
	msg := behalf.ErrorMessage(err)
	switch msg {
	case "Missing Authentication Token":
		return cognitoWireError(cognitoMissingAuth, http.StatusBadRequest, "%s", msg)
	case "The security token included in the request is invalid.":
		return cognitoWireError(cognitoUnrecognized, http.StatusBadRequest, "%s", msg)
	}
	return cognitoWireError(cognitoInvalidSignature, http.StatusBadRequest, "%s", msg)
}

// wireErr is an error the Cognito wire layer raises with its own exception
// name and status.
type wireErr struct {
	exception string
	status    int
	message   string
}

func (e *wireErr) Error() string { return e.exception + ": " + e.message }

func cognitoWireError(exception string, status int, format string, args ...any) error {
	return &wireErr{exception: exception, status: status, message: fmt.Sprintf(format, args...)}
}

// cognitoErrorBody is the AWS JSON 1.1 error document.
type cognitoErrorBody struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

// writeCognitoError writes err as a cognito-idp error: the exception name
// from behalf.CognitoException (or the wire layer's own), 400 for client
// faults and 500 for InternalErrorException, whose cause is logged and
// never sent.
func (s *Server) writeCognitoError(w http.ResponseWriter, r *http.Request, err error) {
	status, body := http.StatusBadRequest, cognitoErrorBody{}
	var we *wireErr
	var pe *parseError
	switch {
	case errors.As(err, &we):
		status, body.Type, body.Message = we.status, we.exception, we.message
	case errors.As(err, &pe):
		body.Type, body.Message = cognitoSerialization, pe.msg
	case behalf.ErrorCode(err) == behalf.ETOOLARGE:
		status, body.Type, body.Message = http.StatusRequestEntityTooLarge, behalf.CognitoInvalidParameter, behalf.ErrorMessage(err)
	default:
		body.Type, body.Message = behalf.CognitoException(err), behalf.ErrorMessage(err)
	}
	switch {
	case body.Type == behalf.CognitoInternalError && clientGone(r):
		status = http.StatusInternalServerError
		s.Log.DebugContext(r.Context(), "client gone", "op", opName(r), "err", err)
	case body.Type == behalf.CognitoInternalError && behalf.ErrorCode(err) == behalf.EUNAVAILABLE:
		// Cognito documents no 503 shape: its service-side error is
		// InternalErrorException (500), which SDKs retry. The message says
		// to retry and Retry-After when; the cause is only logged.
		status, body.Message = http.StatusInternalServerError, behalf.ErrorMessage(err)
		s.Log.WarnContext(r.Context(), "service unavailable", "op", opName(r), "err", err)
	case body.Type == behalf.CognitoInternalError:
		status, body.Message = http.StatusInternalServerError, "Internal error."
		s.Log.ErrorContext(r.Context(), "internal error", "op", opName(r), "err", err)
	}
	var ra behalf.RetryAfterError
	if errors.As(err, &ra) && ra.RetryAfter() > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(ra.RetryAfter().Seconds()+0.999)))
	}
	setCognitoCORS(w.Header())
	w.Header().Set("X-Amzn-ErrorType", body.Type)
	w.Header().Set("Content-Type", cognitoContentType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// decodeCognito parses a JSON request body into v. Unlike the AgentCore
// API it ignores unknown members, as Cognito does: the SDKs send members
// Behalf does not model. Syntax errors, wrong types and trailing data are
// SerializationException. An empty body decodes as {}.
func decodeCognito(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return &parseError{msg: describeDecodeError(err)}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &parseError{msg: "The request body must hold exactly one JSON object."}
	}
	return nil
}

// requireMembers returns an InvalidParameterException in AWS's wording for
// the members whose value is empty; pairs are member name, value.
func requireMembers(pairs ...string) error {
	var missing []string
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			missing = append(missing, "Value null at '"+lowerFirst(pairs[i])+"' failed to satisfy constraint: Member must not be null")
		}
	}
	switch len(missing) {
	case 0:
		return nil
	case 1:
		return behalf.CognitoErrorf(behalf.CognitoInvalidParameter, "1 validation error detected: %s", missing[0])
	}
	return behalf.CognitoErrorf(behalf.CognitoInvalidParameter, "%d validation errors detected: %s", len(missing), strings.Join(missing, "; "))
}

// unsupported returns the InvalidParameterException for a setting Behalf
// does not implement and will not silently ignore.
func unsupported(format string, args ...any) error {
	return behalf.CognitoErrorf(behalf.CognitoInvalidParameter, "Behalf does not support "+format, args...)
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// setCognitoCORS lets browser SDKs (Amplify, amazon-cognito-identity-js)
// call the API, as Cognito does. No cookies are involved: anonymous
// operations carry their own proof and the others a signature.
func setCognitoCORS(h http.Header) {
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "X-Amzn-RequestId, X-Amzn-ErrorType, X-Amzn-ErrorMessage, Date")
}

// cognitoPreflight answers a CORS preflight of POST /.
func cognitoPreflight(w http.ResponseWriter, r *http.Request) {
	setCognitoCORS(w.Header())
	w.Header().Set("Access-Control-Allow-Methods", "POST")
	w.Header().Set("Access-Control-Allow-Headers", "Content-Type, X-Amz-Target, X-Amz-User-Agent, X-Amz-Date, "+
		"X-Amz-Content-Sha256, X-Amz-Security-Token, Authorization, Amz-Sdk-Invocation-Id, Amz-Sdk-Request, Cache-Control")
	w.Header().Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusOK)
}
