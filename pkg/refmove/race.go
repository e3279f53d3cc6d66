package refmove

import (
	"errors"

	"github.com/ringflow/ringflow/pkg/gitrepo"
)

// LostRace says a Move failed because a ref it leased was no longer at
// its Old value — another run moved it first — and nothing moved: a
// *gitrepo.RefConflictError locally, a stale *gitrepo.PushRejectedError
// remotely. The caller fetches again and looks: its work may be done
// already, or has to be decided afresh.
func LostRace(err error) bool {
	var conflict *gitrepo.RefConflictError
	var rejected *gitrepo.PushRejectedError
	return errors.As(err, &conflict) || (errors.As(err, &rejected) && rejected.Stale())
}
