package cycle

import (
	"context"
	"errors"
	"fmt"

	"github.com/ringflow/ringflow/pkg/gitrepo"
)

// WaitInterruptedError says a cycle waiting (--wait) for the one running
// on this repository was interrupted (SIGINT, SIGTERM) before it got its
// turn: it changed nothing. It wraps context.Canceled, which exits 130.
type WaitInterruptedError struct{ Wait *gitrepo.LockWaitError }

func (e *WaitInterruptedError) Error() string {
	holder := e.Wait.Holder
	if holder == "" {
		holder = "another process"
	}
	why := "interrupted"
	if !errors.Is(e.Wait.Err, context.Canceled) {
		why = "stopped (" + e.Wait.Err.Error() + ")"
	}
	return fmt.Sprintf("%s while waiting for another ringflow cycle on this repository (%s) to finish; this cycle changed nothing", why, holder)
}

func (e *WaitInterruptedError) Unwrap() error { return e.Wait }

// lock takes the repository's cycle lock: at once, or, with Wait, once the
// running cycle lets go, told to OnWait first; a wait ends with ctx.
func (c *Cycle) lock(ctx context.Context, o Options) (unlock func(), err error) {
	unlock, err = c.Lock.LockContext(ctx, "cycle", false)
	var locked *gitrepo.LockedError
	if errors.As(err, &locked) && o.Wait {
		if o.OnWait != nil {
			o.OnWait(locked.Holder)
		}
		unlock, err = c.Lock.LockContext(ctx, "cycle", true)
	}
	var waited *gitrepo.LockWaitError
	switch {
	case errors.As(err, &locked):
		return nil, &RunningError{Locked: locked}
	case errors.As(err, &waited):
		return nil, &WaitInterruptedError{Wait: waited}
	}
	return unlock, err
}
