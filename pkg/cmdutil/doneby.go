package cmdutil

import (
	"time"

	"github.com/ringflow/ringflow/pkg/ledger"
)

// DoneByJSON is, in -o json, the ledger entry of another run that did
// this run's work while it was deciding (it lost the race, and had
// nothing left to do): `"done_by": {"event","ring","to","actor","time","entry"}`.
type DoneByJSON struct {
	Event string    `json:"event"`
	Ring  string    `json:"ring,omitempty"`
	To    string    `json:"to,omitempty"`
	Actor string    `json:"actor"`
	Time  time.Time `json:"time"`
	Entry string    `json:"entry,omitempty"` // the ledger commit
}

// DoneBy is e as DoneByJSON; nil for nil.
func DoneBy(e *ledger.Entry) *DoneByJSON {
	if e == nil {
		return nil
	}
	return &DoneByJSON{Event: e.Event, Ring: e.Ring, To: e.To, Actor: e.Actor, Time: e.Time.UTC(), Entry: e.Commit}
}
