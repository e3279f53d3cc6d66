package fleet

import (
	"context"

	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/refmove"
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
	var local []refmove.Branch // local copies to create after the remote's
	for _, b := range f.Branches() {
		at := commit
		if f.Config.Remote != "" {
			rc, err := f.BranchCommit(b)
			if err != nil {
				return nil, err
			}
			if rc == "" {
				created = append(created, BranchCreation{Branch: b, Commit: commit, Remote: true})
			} else {
				at = rc
			}
		}
		_, ok, err := f.Repo.Ref("refs/heads/" + b)
		if err != nil {
			return nil, err
		}
		switch {
		case ok:
		case f.Config.Remote == "":
			created = append(created, BranchCreation{Branch: b, Commit: at})
		default:
			local = append(local, refmove.Branch{Name: b, New: at})
		}
	}
	if dryRun {
		return created, nil
	}
	// The ledger records each ring whose branches init created where they
	// count, so soak can be told from the first promotion on.
	l := Landing{Entries: f.initEntries(created, commit), CreateLocal: local, Why: "ringflow: init " + ring.Short(commit)}
	for _, c := range created {
		l.Moves = append(l.Moves, ring.Move{Branch: c.Branch, To: c.Commit})
	}
	if _, err := f.Land(ctx, l); err != nil {
		return nil, err
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
		e := f.NewEntry(ledger.EventInit, r.Name)
		e.To, e.Groups = commit, groups
		entries = append(entries, e)
	}
	return entries
}
