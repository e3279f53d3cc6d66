// Package diff compares two rings, branches or commits: the inputs their
// lock files pin, the commits between them, and the hosts whose toplevel
// changes according to the build evidence of both. It evaluates nothing
// and moves nothing.
package diff

import (
	"context"
	"fmt"
	"sort"

	"github.com/ringflow/ringflow/pkg/evidence"
	"github.com/ringflow/ringflow/pkg/flakelock"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/ring"
)

// Resolver turns what a user typed (a ring, a branch, a commit) into a
// commit (fleet.Fleet.Resolve).
type Resolver interface {
	Resolve(ctx context.Context, rev string) (string, error)
}

// LockReader reads and parses the lock file at a repository path in a
// commit (fleet.Fleet.ReadLock).
type LockReader interface {
	ReadLock(commit, path string) (*flakelock.Lock, error)
}

// CommitLog lists the commits between two and counts them
// (gitrepo.Repo).
type CommitLog interface {
	Log(base, tip string, max int) ([]gitrepo.CommitInfo, error)
	CountBetween(base, tip string) (int, error)
}

// EvidenceReader reads the build evidence of a commit (evidence.Store).
type EvidenceReader interface {
	Get(commit string) (*evidence.Note, error)
}

// Differ compares commits of one fleet.
type Differ struct {
	Revs     Resolver
	Locks    LockReader
	Commits  CommitLog
	Evidence EvidenceReader
	LockPath string // the top flake's lock file in the repository
}

// New compares commits of the fleet's repository.
func New(fl *fleet.Fleet) *Differ {
	return &Differ{Revs: fl, Locks: fl, Commits: fl.Repo, Evidence: fl.Evidence, LockPath: fl.LockPath(".")}
}

// Report is what changes between two commits.
type Report struct {
	From, To         string // commits
	FromName, ToName string // what the user typed
	Inputs           []flakelock.Change
	Commits          []gitrepo.CommitInfo // in From..To, newest first
	Behind           int                  // commits in To..From: From is not an ancestor of To when > 0
	HostsChanged     []string             // hosts whose derivation differs, where evidence has both
	HostsCompared    int                  // hosts with a derivation on both sides
}

// Diff compares a and b: the inputs their lock files pin, the commits
// between them, and the hosts whose toplevel changes according to the
// evidence of both.
func (d *Differ) Diff(ctx context.Context, a, b string) (*Report, error) {
	from, err := d.Revs.Resolve(ctx, a)
	if err != nil {
		return nil, err
	}
	to, err := d.Revs.Resolve(ctx, b)
	if err != nil {
		return nil, err
	}
	rep := &Report{From: from, To: to, FromName: a, ToName: b}
	if rep.Inputs, err = d.inputs(from, to); err != nil {
		return nil, err
	}
	if rep.Commits, err = d.Commits.Log(from, to, 0); err != nil {
		return nil, err
	}
	if rep.Behind, err = d.Commits.CountBetween(to, from); err != nil {
		return nil, err
	}
	if rep.HostsChanged, rep.HostsCompared, err = d.hosts(from, to); err != nil {
		return nil, err
	}
	return rep, nil
}

// inputs compares the lock files at from and to.
func (d *Differ) inputs(from, to string) ([]flakelock.Change, error) {
	oldLock, err := d.Locks.ReadLock(from, d.LockPath)
	if err != nil {
		return nil, err
	}
	newLock, err := d.Locks.ReadLock(to, d.LockPath)
	if err != nil {
		return nil, err
	}
	changes, err := flakelock.Diff(oldLock, newLock)
	if err != nil {
		// Diff walks both input trees; name the lock whose tree is broken.
		for _, side := range []struct {
			lock   *flakelock.Lock
			commit string
		}{{oldLock, from}, {newLock, to}} {
			if _, ierr := side.lock.Inputs(); ierr != nil {
				return nil, fmt.Errorf("%s at %s: %w", d.LockPath, ring.Short(side.commit), ierr)
			}
		}
		return nil, err
	}
	return changes, nil
}

// hosts compares the derivations the evidence at from and to records:
// the hosts whose derivation differs (sorted), of those with one on both
// sides.
func (d *Differ) hosts(from, to string) (changed []string, compared int, err error) {
	oldNote, err := d.Evidence.Get(from)
	if err != nil {
		return nil, 0, err
	}
	newNote, err := d.Evidence.Get(to)
	if err != nil {
		return nil, 0, err
	}
	for host, n := range newNote.Hosts {
		o, ok := oldNote.Hosts[host]
		if !ok || o.Drv == "" || n.Drv == "" {
			continue
		}
		compared++
		if o.Drv != n.Drv {
			changed = append(changed, host)
		}
	}
	sort.Strings(changed)
	return changed, compared, nil
}
