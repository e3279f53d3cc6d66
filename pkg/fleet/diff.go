package fleet

import (
	"context"
	"fmt"
	"sort"

	"github.com/ringflow/ringflow/pkg/flakelock"
	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/ring"
)

// DiffReport is what changes between two commits.
type DiffReport struct {
	From, To         string // commits
	FromName, ToName string // what the user typed
	Inputs           []flakelock.Change
	Commits          []gitrepo.CommitInfo // in From..To, newest first
	Behind           int                  // commits in To..From: From is not an ancestor of To when > 0
	HostsChanged     []string             // hosts whose derivation differs, where evidence has both
	HostsCompared    int                  // hosts with a derivation on both sides
}

// Diff compares two rings, branches or commits: the inputs their lock
// files pin, the commits between them, and the hosts whose toplevel
// changes according to the evidence of both.
func (f *Fleet) Diff(ctx context.Context, a, b string) (*DiffReport, error) {
	from, err := f.Resolve(ctx, a)
	if err != nil {
		return nil, err
	}
	to, err := f.Resolve(ctx, b)
	if err != nil {
		return nil, err
	}
	rep := &DiffReport{From: from, To: to, FromName: a, ToName: b}
	lockPath := f.LockPath(".")
	oldLock, err := f.ReadLock(from, lockPath)
	if err != nil {
		return nil, err
	}
	newLock, err := f.ReadLock(to, lockPath)
	if err != nil {
		return nil, err
	}
	if rep.Inputs, err = flakelock.Diff(oldLock, newLock); err != nil {
		// Diff walks both input trees; name the lock whose tree is broken.
		for _, side := range []struct {
			lock   *flakelock.Lock
			commit string
		}{{oldLock, from}, {newLock, to}} {
			if _, ierr := side.lock.Inputs(); ierr != nil {
				return nil, fmt.Errorf("%s at %s: %w", lockPath, ring.Short(side.commit), ierr)
			}
		}
		return nil, err
	}
	if rep.Commits, err = f.Repo.Log(from, to, 0); err != nil {
		return nil, err
	}
	if rep.Behind, err = f.Repo.CountBetween(to, from); err != nil {
		return nil, err
	}
	oldNote, err := f.Evidence.Get(from)
	if err != nil {
		return nil, err
	}
	newNote, err := f.Evidence.Get(to)
	if err != nil {
		return nil, err
	}
	for host, n := range newNote.Hosts {
		o, ok := oldNote.Hosts[host]
		if !ok || o.Drv == "" || n.Drv == "" {
			continue
		}
		rep.HostsCompared++
		if o.Drv != n.Drv {
			rep.HostsChanged = append(rep.HostsChanged, host)
		}
	}
	sort.Strings(rep.HostsChanged)
	return rep, nil
}
