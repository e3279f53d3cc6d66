package fleet

import (
	"context"
	"fmt"

	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/ring"
)

// BranchCreation is one branch init creates, and where.
type BranchCreation struct {
	Branch string `json:"branch"`
	Commit string `json:"commit"`
	Remote bool   `json:"remote"` // created on the remote (else only locally)
}

// CreateMissingBranches creates dev and every group branch that does not
// exist yet at commit: on the remote in one atomic push when there is one
// (each must still be absent there), and locally where a local branch is
// missing, at the remote's position when the remote already had it.
func (f *Fleet) CreateMissingBranches(ctx context.Context, commit string, dryRun bool) ([]BranchCreation, error) {
	if err := f.Sync(ctx); err != nil {
		return nil, err
	}
	var created []BranchCreation
	var remoteUpdates, localUpdates []gitrepo.RefUpdate
	for _, b := range f.Branches() {
		at := commit
		if f.Config.Remote != "" {
			rc, err := f.BranchCommit(b)
			if err != nil {
				return nil, err
			}
			if rc == "" {
				remoteUpdates = append(remoteUpdates, gitrepo.RefUpdate{Ref: "refs/heads/" + b, New: commit})
				created = append(created, BranchCreation{Branch: b, Commit: commit, Remote: true})
			} else {
				at = rc
			}
		}
		_, ok, err := f.Repo.Ref("refs/heads/" + b)
		if err != nil {
			return nil, err
		}
		if !ok {
			localUpdates = append(localUpdates, gitrepo.RefUpdate{Ref: "refs/heads/" + b, New: at})
			if f.Config.Remote == "" {
				created = append(created, BranchCreation{Branch: b, Commit: at})
			}
		}
	}
	if dryRun {
		return created, nil
	}
	// The ledger records each ring whose branches init created where they
	// count, so soak can be told from the first promotion on.
	entries := f.initEntries(created, commit)
	tip, next, err := f.prepareEntries(entries, nil)
	if err != nil {
		return nil, err
	}
	if f.Config.Remote != "" {
		if next != "" {
			remoteUpdates = append(remoteUpdates, ledger.Update(tip, next))
		}
		if len(remoteUpdates) > 0 {
			if err := f.Repo.Push(ctx, f.Config.Remote, remoteUpdates); err != nil {
				return nil, err
			}
		}
		if next != "" {
			f.ledgerTip = next
			if err := f.Ledger.Landed(ctx, tip, next); err != nil {
				return nil, err
			}
		}
	} else if next != "" {
		localUpdates = append(localUpdates, ledger.Update(tip, next))
	}
	if len(localUpdates) > 0 {
		if err := f.Repo.UpdateRefs(ctx, localUpdates, "ringflow: init "+ring.Short(commit)); err != nil {
			return nil, fmt.Errorf("create local branches: %w", err)
		}
	}
	return created, nil
}

// initEntries makes one init entry per ring that got a branch.
func (f *Fleet) initEntries(created []BranchCreation, commit string) []ledger.Entry {
	var entries []ledger.Entry
	for _, r := range f.Config.Rings {
		var groups []ledger.GroupMove
		for _, g := range r.Groups {
			for _, c := range created {
				if c.Branch == g.Branch {
					groups = append(groups, ledger.GroupMove{Group: g.Name, Branch: g.Branch, To: c.Commit})
				}
			}
		}
		if len(groups) == 0 {
			continue
		}
		e := f.newEntry(ledger.EventInit, r.Name)
		e.To, e.Groups = commit, groups
		entries = append(entries, e)
	}
	return entries
}
