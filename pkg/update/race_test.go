package update

import (
	"context"
	"path"
	"testing"
	"time"

	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/ledger"
)

type fakeLedger []ledger.Entry

func (l fakeLedger) Entries(int) ([]ledger.Entry, error) { return l, nil }

// Two updates of one bump race: this one loses (dev moved under its
// push), redoes the update on the winner's head, finds the lock current
// there, commits nothing and names the winner from the ledger. Without a
// ledger entry for it, nobody is named.
func TestRunLostRaceWorkDone(t *testing.T) {
	won := ledger.Entry{Event: ledger.EventUpdate, From: dev1, To: dev2, Actor: "alice@lab", Time: time.Date(2026, 8, 10, 3, 0, 0, 0, time.UTC),
		Groups: []ledger.GroupMove{{Group: "dev", Branch: "main", From: dev1, To: dev2}}}
	other := ledger.Entry{Event: ledger.EventPromote, Ring: "canary", To: dev1, Actor: "bob@lab", Time: won.Time.Add(-time.Hour)}
	for _, tc := range []struct {
		name    string
		entries fakeLedger
		want    string // actor; "" = none named
	}{
		{"the winner's entry", fakeLedger{won, other}, "alice@lab"},
		{"no entry for it", fakeLedger{other}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, ".", lockFiles("."), dev1, dev2)
			// The winner committed the same lock on dev2.
			h.repo.trees[dev2] = map[string]string{path.Join(".", "flake.lock"): topLock(revB, revC)}
			h.nix.writes["."] = topLock(revB, revC)
			h.dev.landErrs = []error{&gitrepo.PushRejectedError{Remote: "origin", Refs: []gitrepo.RejectedRef{{Ref: "refs/heads/main", Reason: "stale info"}}}}
			h.u.Ledger = tc.entries
			res, err := h.u.Run(context.Background(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Committed || res.Base != dev2 || res.Attempts != 2 || len(h.dev.landed) != 0 {
				t.Errorf("result %+v, landed %+v: want nothing committed on dev2 at the 2nd attempt", res, h.dev.landed)
			}
			switch {
			case tc.want == "" && res.DoneBy != nil:
				t.Errorf("DoneBy = %+v, want none", res.DoneBy)
			case tc.want != "" && (res.DoneBy == nil || res.DoneBy.Actor != tc.want):
				t.Errorf("DoneBy = %+v, want %s's entry", res.DoneBy, tc.want)
			}
		})
	}
	// A first attempt that finds the lock current names nobody: no race.
	h := newHarness(t, ".", lockFiles("."), dev1)
	h.u.Ledger = fakeLedger{won}
	if res, err := h.u.Run(context.Background(), Options{}); err != nil || res.DoneBy != nil {
		t.Errorf("no race: %+v, %v", res, err)
	}
}
