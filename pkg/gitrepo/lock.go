package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// LockedError says another process holds a lock of this repository.
type LockedError struct {
	Name   string
	File   string
	Holder string // what the holder wrote: its pid and command, when readable
}

func (e *LockedError) Error() string {
	holder := ""
	if e.Holder != "" {
		holder = " by " + e.Holder
	}
	return fmt.Sprintf("%s is locked%s (%s)", e.Name, holder, e.File)
}

// Lock takes the named exclusive lock of this repository (shared by all
// its work trees): an flock on ringflow-<name>.lock in the common git
// directory. The kernel drops it when the holder dies, so a killed process
// never leaves it stuck. With wait false, a held lock is a *LockedError.
// A wait is not interruptible: LockContext's is.
func (r *Repo) Lock(name string, wait bool) (unlock func(), err error) {
	return r.LockContext(context.Background(), name, wait)
}

// LockContext is Lock, whose wait ends when ctx is done (SIGINT, SIGTERM)
// with a *LockWaitError wrapping ctx's error; nothing is held then.
func (r *Repo) LockContext(ctx context.Context, name string, wait bool) (unlock func(), err error) {
	how := syscall.LOCK_EX
	if !wait {
		how |= syscall.LOCK_NB
	}
	return r.flock(ctx, name, how)
}

// lockShared takes the named lock shared: many holders at once, but none
// while someone holds it exclusively.
func (r *Repo) lockShared(ctx context.Context, name string) (unlock func(), err error) {
	return r.flock(ctx, name, syscall.LOCK_SH)
}

func (r *Repo) flock(ctx context.Context, name string, how int) (unlock func(), err error) {
	path := filepath.Join(r.commonDir, "ringflow-"+name+".lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	err = flockRetry(f, how|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) && how&syscall.LOCK_NB == 0 {
		err = waitFlock(ctx, f, how, name, path)
	}
	if err != nil {
		var we *LockWaitError
		switch {
		case errors.As(err, &we):
			return nil, err // the wait closes f
		case errors.Is(err, syscall.EWOULDBLOCK):
			holder, _ := os.ReadFile(path)
			f.Close()
			return nil, &LockedError{Name: name, File: path, Holder: strings.TrimSpace(string(holder))}
		}
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	// Say who holds it, for the message another process shows; shared
	// holders leave the file alone.
	if how&syscall.LOCK_SH == 0 && f.Truncate(0) == nil {
		f.WriteAt([]byte("pid "+strconv.Itoa(os.Getpid())+" ("+strings.Join(os.Args, " ")+")\n"), 0)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
