package web

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/behalf-dev/behalf"
)

// failure is how a page answers err: its status and the message shown.
// An EINVALID or ENOTFOUND error shows its message with 400, EFORBIDDEN
// with 403; an unreachable sign-in provider (EUNAVAILABLE) is 502 with a
// retry hint, its cause logged as a warning; anything else is 500, logged
// as an error (at debug level once the browser went away, ctx ended) and
// never shown. page names the page in the log.
func failure(ctx context.Context, log *slog.Logger, page string, err error) (int, string) {
	switch behalf.ErrorCode(err) {
	case behalf.EINVALID, behalf.ENOTFOUND:
		return http.StatusBadRequest, behalf.ErrorMessage(err)
	case behalf.EFORBIDDEN:
		return http.StatusForbidden, behalf.ErrorMessage(err)
	case behalf.EUNAVAILABLE:
		log.WarnContext(ctx, page+": sign-in provider unavailable", "err", err)
		return http.StatusBadGateway, "The sign-in provider could not be reached. Please try again in a moment."
	}
	if ctx.Err() != nil {
		// The browser went away: not a server error.
		log.DebugContext(ctx, page+": client gone", "err", err)
	} else {
		log.ErrorContext(ctx, page+" error", "err", err)
	}
	return http.StatusInternalServerError, "Something went wrong on our side. Please try again."
}

// logOr is l, or the default logger when l is nil (the pages' Log
// fields are optional).
func logOr(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}
	return slog.Default()
}
