// Package initbranches is what `ringflow init` does to the repository:
// create dev and every group branch that is missing, and record in the
// ledger each ring that got its branches, so soak can be told from the
// first promotion on.
package initbranches

import (
	"context"

	"github.com/ringflow/ringflow/pkg/config"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/refmove"
	"github.com/ringflow/ringflow/pkg/ring"
)

// Positions reads where dev and the group branches stand (*fleet.Fleet):
// on the remote when there is one.
type Positions interface {
	Sync(ctx context.Context) error
	Branches() []string
	BranchCommit(branch string) (string, error)
	// RecordedHeads is where the ledger last recorded each group branch.
	RecordedHeads() (map[string]string, error)
}

// LocalRefs reads local refs (*gitrepo.Repo).
type LocalRefs interface {
	Ref(name string) (commit string, ok bool, err error)
}

// Initializer creates the missing branches of one fleet.
type Initializer struct {
	Remote    string        // "" = the local branches are the truth
	Rings     []config.Ring // in promotion order
	Positions Positions
	Local     LocalRefs
	Lander    fleet.Lander
}

// New is the initializer of a fleet.
func New(fl *fleet.Fleet) *Initializer {
	return &Initializer{Remote: fl.Config.Remote, Rings: fl.Config.Rings, Positions: fl, Local: fl.Repo, Lander: fl}
}

// BranchCreation is one branch init creates, and where.
type BranchCreation struct {
	Branch string `json:"branch"`
	Commit string `json:"commit"`
	Remote bool   `json:"remote"` // created on the remote (else only locally)
	// Restored: the ledger knows the branch (it was deleted outside
	// ringflow), so it is created where the ledger last had it, never at
	// HEAD: an unbuilt commit must not reach a ring that way.
	Restored bool `json:"restored,omitempty"`
}

// CreateMissingBranches creates dev and every group branch that does not
// exist yet at commit: on the remote in one atomic push when there is one
// (each must still be absent there), and locally where a local branch is
// missing, at the remote's position when the remote already had it.
func (in *Initializer) CreateMissingBranches(ctx context.Context, commit string, dryRun bool) ([]BranchCreation, error) {
	if err := in.Positions.Sync(ctx); err != nil {
		return nil, err
	}
	recorded, err := in.Positions.RecordedHeads()
	if err != nil {
		return nil, err
	}
	var created []BranchCreation
	var local []refmove.Branch // local copies to create after the remote's
	for _, b := range in.Positions.Branches() {
		at := commit
		if in.Remote != "" {
			rc, err := in.Positions.BranchCommit(b)
			if err != nil {
				return nil, err
			}
			if rc == "" {
				bc := BranchCreation{Branch: b, Commit: commit, Remote: true}
				if r := recorded[b]; r != "" {
					bc.Commit, bc.Restored, at = r, true, r
				}
				created = append(created, bc)
			} else {
				at = rc
			}
		}
		_, ok, err := in.Local.Ref("refs/heads/" + b)
		if err != nil {
			return nil, err
		}
		switch {
		case ok:
		case in.Remote == "":
			bc := BranchCreation{Branch: b, Commit: at}
			if r := recorded[b]; r != "" {
				bc.Commit, bc.Restored = r, true
			}
			created = append(created, bc)
		default:
			local = append(local, refmove.Branch{Name: b, New: at})
		}
	}
	if dryRun {
		return created, nil
	}
	// The ledger records each ring whose branches init created where they
	// count, so soak can be told from the first promotion on.
	l := fleet.Landing{Entries: in.entries(created, commit), CreateLocal: local, Why: "ringflow: init " + ring.Short(commit)}
	for _, c := range created {
		l.Moves = append(l.Moves, ring.Move{Branch: c.Branch, To: c.Commit})
	}
	if _, err := in.Lander.Land(ctx, l); err != nil {
		return nil, err
	}
	return created, nil
}

// entries makes one init entry per ring that got a new branch, and one
// restore entry per ring that got a deleted branch back.
func (in *Initializer) entries(created []BranchCreation, commit string) []ledger.Entry {
	var entries []ledger.Entry
	for _, r := range in.Rings {
		var fresh, restored []ledger.GroupMove
		for _, g := range r.Groups {
			for _, c := range created {
				switch {
				case c.Branch != g.Branch:
				case c.Restored:
					restored = append(restored, ledger.GroupMove{Group: g.Name, Branch: g.Branch, To: c.Commit})
				default:
					fresh = append(fresh, ledger.GroupMove{Group: g.Name, Branch: g.Branch, To: c.Commit})
				}
			}
		}
		if len(fresh) > 0 {
			e := in.Lander.NewEntry(ledger.EventInit, r.Name)
			e.To, e.Groups = commit, fresh
			entries = append(entries, e)
		}
		if len(restored) > 0 {
			e := in.Lander.NewEntry(ledger.EventRestore, r.Name)
			e.To, e.Groups = restored[0].To, restored
			e.Reason = "init: branch deleted outside ringflow, created again where the ledger had it"
			entries = append(entries, e)
		}
	}
	return entries
}
