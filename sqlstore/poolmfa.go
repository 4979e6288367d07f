package sqlstore

import (
	"context"
	"fmt"

	"github.com/behalf-dev/behalf"
)

// UsePoolUserTOTPStep raises the TOTPLastStep of the user of pool poolID
// with the given username to step if it is below (migration 0038), in one
// conditional UPDATE: of concurrent callers with the same step, on any
// replica, exactly one succeeds. It returns ECONFLICT if the stored step
// is step or later, ENOTFOUND if there is no such user.
func (db *DB) UsePoolUserTOTPStep(ctx context.Context, poolID, username string, step int64) error {
	c := db.conn()
	res, err := c.exec(ctx, "UPDATE pool_users SET totp_last_step = ? WHERE pool_id = ? AND username = ? AND totp_last_step < ?",
		step, poolID, username, step)
	if err != nil {
		return fmt.Errorf("use a TOTP step of user %q of user pool %q: %w", username, poolID, err)
	}
	ok, err := affectedOne(res)
	if err != nil {
		return fmt.Errorf("use a TOTP step of user %q of user pool %q: %w", username, poolID, err)
	}
	if ok {
		return nil
	}
	if _, err := findPoolUser(ctx, c, poolID, "username", username); err != nil {
		return err
	}
	return behalf.Errorf(behalf.ECONFLICT, "The code was used already.")
}
