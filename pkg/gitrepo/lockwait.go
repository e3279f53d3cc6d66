package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
)

// LockWaitError says a wait for a lock of this repository ended before
// the lock was free: ctx was cancelled (SIGINT, SIGTERM) or ran out.
// Nothing is held. It wraps ctx's error, so an interrupted wait is a
// context.Canceled.
type LockWaitError struct {
	Name   string
	File   string
	Holder string // what the holder wrote: its pid and command, when readable
	Err    error  // ctx's error
}

func (e *LockWaitError) Error() string {
	why := e.Err.Error()
	if errors.Is(e.Err, context.Canceled) {
		why = "interrupted"
	}
	holder := ""
	if e.Holder != "" {
		holder = ", held by " + e.Holder
	}
	return fmt.Sprintf("%s while waiting for the %s lock of this repository%s (%s)", why, e.Name, holder, e.File)
}

func (e *LockWaitError) Unwrap() error { return e.Err }

// flockRetry is flock(2), again when a signal cut it short.
func flockRetry(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// lockPoll is how often a wait for a lock tries it again.
const lockPoll = 50 * time.Millisecond

// waitFlock waits for the lock until ctx is done. flock(2) blocks in the
// kernel, where Go restarts it after every signal, so a blocking wait
// would outlast SIGTERM and SIGINT, and one left running in the background
// would take the lock after the wait was given up; so it tries without
// blocking, every lockPoll, until it has the lock or ctx is done. f is
// closed when the wait is given up.
func waitFlock(ctx context.Context, f *os.File, how int, name, path string) error {
	tick := time.NewTicker(lockPoll)
	defer tick.Stop()
	for {
		if err := ctx.Err(); err != nil {
			werr := lockWaitError(err, name, path)
			f.Close()
			return werr
		}
		err := flockRetry(f, how|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return err
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
		}
	}
}

func lockWaitError(err error, name, path string) error {
	holder, _ := os.ReadFile(path)
	return &LockWaitError{Name: name, File: path, Holder: strings.TrimSpace(string(holder)), Err: err}
}
