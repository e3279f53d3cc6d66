package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
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
	return fmt.Sprintf("gitrepo: %s while waiting for the %s lock of this repository%s (%s)", why, e.Name, holder, e.File)
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

// waitFlock waits for the lock until ctx is done. flock(2) blocks in the
// kernel, where Go restarts it after every signal, so a wait there would
// outlast SIGTERM and SIGINT; it runs in a goroutine of its own instead,
// and ctx ends the wait. A wait given up goes on in the background only
// to let go of the lock at once, should it come, and close f.
func waitFlock(ctx context.Context, f *os.File, how int, name, path string) error {
	if err := ctx.Err(); err != nil {
		werr := lockWaitError(err, name, path)
		f.Close()
		return werr
	}
	done := make(chan error, 1)
	go func() { done <- flockRetry(f, how) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		werr := lockWaitError(ctx.Err(), name, path)
		go func() {
			if <-done == nil {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
			}
			f.Close()
		}()
		return werr
	}
}

func lockWaitError(err error, name, path string) error {
	holder, _ := os.ReadFile(path)
	return &LockWaitError{Name: name, File: path, Holder: strings.TrimSpace(string(holder)), Err: err}
}
