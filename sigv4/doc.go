// Package sigv4 verifies requests signed with AWS Signature Version 4, the
// header form the AWS SDKs use for Behalf's AWS-compatible APIs:
//
//	Authorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/bedrock-agentcore/aws4_request,
//	    SignedHeaders=content-type;host;x-amz-date, Signature=<64 hex digits>
//	X-Amz-Date: 20260101T120000Z
//
// A Verifier parses the Authorization header with a small strict parser,
// checks the credential scope and the clock skew, looks the access key up,
// and recomputes the signature over the signed headers alone, building the
// canonical request exactly as the official signer
// (github.com/aws/aws-sdk-go-v2/aws/signer/v4) does, so Behalf
// canonicalises as the SDK clients do (the tests compare the two on many
// requests, and the fuzz test on any). Signing keys are derived once per
// secret, day, region and service. Signatures are compared in constant
// time.
//
// Every rejection is a *behalf.Error with code behalf.EFORBIDDEN and an
// AWS-like message; messages never contain the secret or a signature.
// Presigned (query-string) requests, streaming payloads and
// UNSIGNED-PAYLOAD are not supported.
package sigv4
