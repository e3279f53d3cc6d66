package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// SetRemoteTimeout limits every fetch and push to d (0 = no limit), so a
// remote that hangs fails the run instead of stalling it.
func (r *Repo) SetRemoteTimeout(d time.Duration) { r.remoteTimeout = d }

// RemoteTimeoutError says the remote did not answer in time. A push that
// timed out may or may not have landed there; the next run's fetch tells.
type RemoteTimeoutError struct {
	Op     string // "fetch from", "push to"
	Remote string // name and URL, password removed
	After  time.Duration
}

func (e *RemoteTimeoutError) Error() string {
	return fmt.Sprintf("%s %s: no answer within %s (--remote-timeout)", e.Op, e.Remote, e.After)
}

// remoteCtx bounds ctx by the remote timeout; done turns the deadline's
// error into a *RemoteTimeoutError naming the remote.
func (r *Repo) remoteCtx(ctx context.Context, op, label string) (context.Context, func(error) error) {
	if r.remoteTimeout <= 0 {
		return ctx, func(err error) error { return err }
	}
	tctx, cancel := context.WithTimeout(ctx, r.remoteTimeout)
	return tctx, func(err error) error {
		defer cancel()
		if err != nil && ctx.Err() == nil && errors.Is(tctx.Err(), context.DeadlineExceeded) {
			return &RemoteTimeoutError{Op: op, Remote: label, After: r.remoteTimeout}
		}
		return err
	}
}
