package fleet

import (
	"context"
	"fmt"

	"github.com/ringflow/ringflow/pkg/gitrepo"
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
	if len(remoteUpdates) > 0 {
		if err := f.Repo.Push(ctx, f.Config.Remote, remoteUpdates); err != nil {
			return nil, err
		}
	}
	if len(localUpdates) > 0 {
		if err := f.Repo.UpdateRefs(ctx, localUpdates, "ringflow: init "+ring.Short(commit)); err != nil {
			return nil, fmt.Errorf("create local branches: %w", err)
		}
	}
	return created, nil
}
