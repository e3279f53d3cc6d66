package gitrepo

import (
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
	return fmt.Sprintf("gitrepo: %s is locked%s (%s)", e.Name, holder, e.File)
}

// Lock takes the named exclusive lock of this repository (shared by all
// its work trees): an flock on ringflow-<name>.lock in the common git
// directory. The kernel drops it when the holder dies, so a killed process
// never leaves it stuck. With wait false, a held lock is a *LockedError.
func (r *Repo) Lock(name string, wait bool) (unlock func(), err error) {
	how := syscall.LOCK_EX
	if !wait {
		how |= syscall.LOCK_NB
	}
	return r.flock(name, how)
}

// lockShared takes the named lock shared: many holders at once, but none
// while someone holds it exclusively.
func (r *Repo) lockShared(name string) (unlock func(), err error) {
	return r.flock(name, syscall.LOCK_SH)
}

func (r *Repo) flock(name string, how int) (unlock func(), err error) {
	path := filepath.Join(r.commonDir, "ringflow-"+name+".lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("gitrepo: lock %s: %w", name, err)
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &LockedError{Name: name, File: path, Holder: strings.TrimSpace(string(holder))}
		}
		return nil, fmt.Errorf("gitrepo: lock %s: %w", path, err)
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
