package refmove

import (
	"context"
	"fmt"

	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/ring"
)

// NotForwardError says a catch-up was asked to move a local copy to a
// commit that does not descend from where it stands. Nothing moved.
type NotForwardError struct{ Ref, Old, New string }

func (e *NotForwardError) Error() string {
	return fmt.Sprintf("%s: %s does not descend from %s, where it stands: a local copy only catches up by fast-forward", e.Ref, ring.Short(e.New), ring.Short(e.Old))
}

// CatchUp moves the local copy of one of ringflow's own refs (the ledger)
// forward to a value the remote already has — a copy left behind because
// another clone appended, or because a run was killed between its push
// and moving the copy. Only here, only by fast-forward, and only if the
// copy still is at old (compare-and-swap): a lost race is a
// *gitrepo.RefConflictError and nothing moved.
func (m *Mover) CatchUp(ctx context.Context, ref, old, new, why string) error {
	if old == new {
		return nil
	}
	if old != "" {
		ff, err := m.Repo.IsAncestor(old, new)
		if err != nil {
			return err
		}
		if !ff {
			return &NotForwardError{Ref: ref, Old: old, New: new}
		}
	}
	return m.Repo.UpdateRefs(ctx, []gitrepo.RefUpdate{{Ref: ref, Old: old, New: new}}, why)
}
