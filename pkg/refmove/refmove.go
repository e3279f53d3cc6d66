// Package refmove is the one way ringflow moves refs. A Change holds every
// ref one operation moves — group branches or dev, a ledger entry, an
// evidence note — each with the value it must still have. With a remote the
// change is one atomic push with a lease on every ref, after which the
// local copies follow; without one it is one `git update-ref --stdin`
// transaction. Either all of it lands or none of it does.
package refmove

import (
	"context"
	"fmt"
	"io"

	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/ring"
)

// Repo is what moving refs needs of a repository (a *gitrepo.Repo).
type Repo interface {
	Ref(name string) (commit string, ok bool, err error)
	IsAncestor(a, b string) (bool, error)
	Push(ctx context.Context, remote string, updates []gitrepo.RefUpdate) error
	UpdateRefs(ctx context.Context, updates []gitrepo.RefUpdate, reflogMsg string) error
	AdvanceBranch(ctx context.Context, branch, old, new string) (gitrepo.Advance, error)
	CheckedOutBranch() (branch string, ok bool)
	WorktreeClean(ctx context.Context) (bool, error)
}

// Mover moves the refs of one repository, on its remote when it has one.
type Mover struct {
	Repo   Repo
	Remote string    // "" = the local refs are the truth
	Log    io.Writer // notes on local copies that could not follow
}

// Branch is one branch moving from Old (where it stands on the remote, or
// locally without one; "" = it does not exist yet) to New.
type Branch struct {
	Name     string // without refs/heads/
	Old, New string
}

// Own is one of ringflow's own refs (the ledger, the evidence notes). With
// a remote, Old is the remote's value as last fetched into Tracking, which
// follows once the push landed, and so does the local Ref when it still
// was where the remote was.
type Own struct {
	Ref      string
	Tracking string
	Old, New string
}

// Change is everything one operation moves, all or nothing.
type Change struct {
	Branches []Branch
	Own      []Own
	// CreateLocal are local branches created after the rest landed (init:
	// local copies of branches that exist on the remote, or were just
	// pushed there). Without a remote they are part of the one transaction.
	CreateLocal []Branch
	Why         string // the reflog message
}

func (c Change) empty() bool { return len(c.Branches)+len(c.Own)+len(c.CreateLocal) == 0 }

// CheckedOutError says a branch to move is checked out here with changes
// its move would run over. Nothing moved.
type CheckedOutError struct {
	Branch string
	Reason string // e.g. "work tree has uncommitted changes"
}

func (e *CheckedOutError) Error() string {
	return fmt.Sprintf("branch %s is checked out here and %s: commit or stash them, or check out another branch", e.Branch, e.Reason)
}

// Move lands c. A lost race (a ref no longer at its Old value) is a
// *gitrepo.RefConflictError locally, a stale *gitrepo.PushRejectedError
// remotely; nothing moved then.
func (m *Mover) Move(ctx context.Context, c Change) error {
	if c.empty() {
		return nil
	}
	if m.Remote == "" {
		return m.moveLocal(ctx, c)
	}
	var updates []gitrepo.RefUpdate
	for _, b := range c.Branches {
		updates = append(updates, gitrepo.RefUpdate{Ref: "refs/heads/" + b.Name, Old: b.Old, New: b.New})
	}
	for _, o := range c.Own {
		updates = append(updates, gitrepo.RefUpdate{Ref: o.Ref, Old: o.Old, New: o.New})
	}
	if len(updates) > 0 {
		if err := m.Repo.Push(ctx, m.Remote, updates); err != nil {
			return err
		}
	}
	// The remote moved: from here on the local copies are caches that
	// follow where they can and are said where they cannot.
	for _, o := range c.Own {
		if err := m.followOwn(ctx, o); err != nil {
			m.note("note: the remote's %s moved to %s but the local copy did not follow: %v\n", o.Ref, ring.Short(o.New), err)
		}
	}
	for _, b := range c.Branches {
		m.followBranch(ctx, b.Name, b.New)
	}
	if len(c.CreateLocal) > 0 {
		var local []gitrepo.RefUpdate
		for _, b := range c.CreateLocal {
			local = append(local, gitrepo.RefUpdate{Ref: "refs/heads/" + b.Name, Old: b.Old, New: b.New})
		}
		if err := m.Repo.UpdateRefs(ctx, local, c.Why); err != nil {
			return fmt.Errorf("create local branches: %w", err)
		}
	}
	return nil
}

// moveLocal moves everything in one ref transaction. A checked-out branch
// must move with its work tree, which a ref transaction would not do: it
// moves on its own, after the rest, and only when the tree is clean (said
// before anything moves).
func (m *Mover) moveLocal(ctx context.Context, c Change) error {
	checkedOut, _ := m.Repo.CheckedOutBranch()
	var rest []gitrepo.RefUpdate
	var wt *Branch
	for i, b := range c.Branches {
		if checkedOut != "" && b.Name == checkedOut {
			wt = &c.Branches[i]
			continue
		}
		rest = append(rest, gitrepo.RefUpdate{Ref: "refs/heads/" + b.Name, Old: b.Old, New: b.New})
	}
	for _, b := range c.CreateLocal {
		rest = append(rest, gitrepo.RefUpdate{Ref: "refs/heads/" + b.Name, Old: b.Old, New: b.New})
	}
	for _, o := range c.Own {
		rest = append(rest, gitrepo.RefUpdate{Ref: o.Ref, Old: o.Old, New: o.New})
	}
	if wt != nil {
		if clean, err := m.Repo.WorktreeClean(ctx); err != nil {
			return err
		} else if !clean {
			return &CheckedOutError{Branch: wt.Name, Reason: "work tree has uncommitted changes"}
		}
	}
	if len(rest) > 0 {
		if err := m.Repo.UpdateRefs(ctx, rest, c.Why); err != nil {
			return err
		}
	}
	if wt != nil {
		adv, err := m.Repo.AdvanceBranch(ctx, wt.Name, wt.Old, wt.New)
		if err != nil {
			return err
		}
		if adv.Skipped {
			return &CheckedOutError{Branch: wt.Name, Reason: adv.Reason}
		}
	}
	return nil
}

// followOwn moves the tracking copy of an own ref to where the push put
// it, and the local ref too when that is a fast-forward (or it is absent);
// a local ref with entries of its own is kept, since the remote is the
// truth and readers merge both.
func (m *Mover) followOwn(ctx context.Context, o Own) error {
	if err := m.Repo.UpdateRefs(ctx, []gitrepo.RefUpdate{{Ref: o.Tracking, Old: o.Old, New: o.New}}, "ringflow: pushed "+o.Ref); err != nil {
		return err
	}
	local, ok, err := m.Repo.Ref(o.Ref)
	if err != nil {
		return err
	}
	if ok && local != o.Old {
		if ff, err := m.Repo.IsAncestor(local, o.New); err != nil || !ff {
			return nil
		}
	}
	if !ok {
		local = ""
	}
	return m.Repo.UpdateRefs(ctx, []gitrepo.RefUpdate{{Ref: o.Ref, Old: local, New: o.New}}, "ringflow: pushed "+o.Ref)
}

// followBranch brings an existing local branch along after the remote
// moved, when that is a fast-forward; anything else is left for the
// operator and said.
func (m *Mover) followBranch(ctx context.Context, branch, to string) {
	local, ok, err := m.Repo.Ref("refs/heads/" + branch)
	if err != nil || !ok || local == to || to == "" {
		return
	}
	if ff, err := m.Repo.IsAncestor(local, to); err != nil || !ff {
		m.note("note: local branch %s is not behind the remote's %s; left as it was\n", branch, ring.Short(to))
		return
	}
	adv, err := m.Repo.AdvanceBranch(ctx, branch, local, to)
	switch {
	case err != nil:
		m.note("note: local branch %s not moved: %v\n", branch, err)
	case adv.Skipped:
		m.note("note: local branch %s not moved (%s); the remote moved to %s\n", branch, adv.Reason, ring.Short(to))
	}
}

func (m *Mover) note(format string, args ...any) {
	if m.Log != nil {
		fmt.Fprintf(m.Log, format, args...)
	}
}
