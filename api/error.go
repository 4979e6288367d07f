package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/behalf-dev/behalf"
)

// wireError is how one application error code appears on the wire.
type wireError struct {
	status int
	name   string // the AWS error shape, sent as X-Amzn-ErrorType and __type
}

// errorTable is the only mapping from behalf error codes to AWS errors.
var errorTable = map[string]wireError{
	behalf.EINVALID:        {http.StatusBadRequest, "ValidationException"},
	behalf.ENOTFOUND:       {http.StatusNotFound, "ResourceNotFoundException"},
	behalf.ECONFLICT:       {http.StatusConflict, "ConflictException"},
	behalf.EUNAUTHORIZED:   {http.StatusUnauthorized, "UnauthorizedException"},
	behalf.EFORBIDDEN:      {http.StatusForbidden, "AccessDeniedException"},
	behalf.ETOOLARGE:       {http.StatusRequestEntityTooLarge, "ValidationException"},
	behalf.ETHROTTLED:      {http.StatusTooManyRequests, "ThrottlingException"},
	behalf.EUNAVAILABLE:    {http.StatusServiceUnavailable, "ServiceUnavailableException"},
	behalf.ENOTIMPLEMENTED: {http.StatusBadRequest, "ValidationException"},
	behalf.EINTERNAL:       {http.StatusInternalServerError, "InternalServerException"},
}

// errorBody is the restJson1 error document. ValidationException adds
// reason and fieldList.
type errorBody struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
	Reason  string `json:"reason,omitempty"`
	// RetryAfterSeconds accompanies ServiceUnavailableException.
	RetryAfterSeconds int          `json:"retryAfterSeconds,omitempty"`
	FieldList         []fieldError `json:"fieldList,omitempty"`
}

type fieldError struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

// parseError marks a request body that could not be decoded.
type parseError struct{ msg string }

func (e *parseError) Error() string { return e.msg }

// writeError writes err in the AWS restJson1 error shape. Uncoded errors are
// logged with their cause and sent as "Internal error."; an unavailable
// database (behalf.ErrStoreUnavailable) is a 503 ServiceUnavailableException
// with Retry-After, its cause logged as a warning. A server-side error met
// after the client went away (clientGone) is logged at debug level only.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	body := errorBody{}
	var pe *parseError
	code := behalf.ErrorCode(err)
	if errors.As(err, &pe) {
		code = behalf.EINVALID
		body.Message, body.Reason = pe.msg, "CannotParse"
	} else {
		body.Message = behalf.ErrorMessage(err)
	}
	we, ok := errorTable[code]
	if !ok {
		we = errorTable[behalf.EINTERNAL]
	}
	switch {
	case we.status >= 500 && clientGone(r):
		// The caller gave up (its context ended what was running for it):
		// not a server error; the request line says 499.
		log.DebugContext(r.Context(), "client gone", "op", opName(r), "err", err)
	case we.status == http.StatusInternalServerError:
		log.ErrorContext(r.Context(), "internal error", "op", opName(r), "err", err)
	case errors.Is(err, behalf.ErrStoreUnavailable):
		// The driver's text is for the log only; the caller gets the
		// fixed message and Retry-After.
		log.WarnContext(r.Context(), "database unavailable", "op", opName(r), "err", err)
	}
	body.Type = we.name
	var ra behalf.RetryAfterError
	if errors.As(err, &ra) && ra.RetryAfter() > 0 {
		body.RetryAfterSeconds = int(ra.RetryAfter().Seconds() + 0.999)
		w.Header().Set("Retry-After", strconv.Itoa(body.RetryAfterSeconds))
	}
	if we.name == "ValidationException" && body.Reason == "" {
		body.Reason = "FieldValidationFailed"
		if f := behalf.ErrorField(err); f != "" {
			body.FieldList = []fieldError{{Name: f, Message: body.Message}}
		}
	}
	w.Header().Set("X-Amzn-ErrorType", we.name)
	writeJSON(w, we.status, body)
}

// writeJSON answers status with v as JSON, with its Content-Length: the
// request middleware sends a complete answer before it logs (server.go).
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	if v != nil {
		_ = json.NewEncoder(&buf).Encode(v)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// StatusClientClosed is the status logged and counted for a request whose
// client went away before it was answered (nginx's 499, "client closed
// request"). It is never sent: nobody is left to read it.
const StatusClientClosed = 499

// clientGone reports whether r's client went away: its connection closed
// (or its stream was reset) before the answer, which cancels r's context.
// An error met then is, whatever its text (a canceled query, an
// interrupted SQLite statement, a closed connection), the client's doing.
func clientGone(r *http.Request) bool { return r.Context().Err() != nil }
