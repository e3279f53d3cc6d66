package promote

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/ring"
)

// racing is the fakes of promote_test.go with a remote another run
// pushes to first: Land fails as a lost race would (nothing lands), and
// Refresh brings what the other run did.
type racing struct {
	*fakes
	landErr   error
	failures  int // Land fails this often, then lands; 0: always
	failed    int
	refreshed int
	winner    func(f *fakes) // what the other run did, seen once fetched again
}

func (r *racing) Land(_ context.Context, l fleet.Landing) ([]ring.Move, error) {
	if r.landErr != nil && (r.failures == 0 || r.failed < r.failures) {
		r.failed++
		return nil, r.landErr
	}
	r.landed = append(r.landed, l)
	return l.Moves, nil
}

func (r *racing) Refresh(context.Context) error {
	r.refreshed++
	if r.winner != nil {
		r.winner(r.fakes)
	}
	return nil
}

// stale is what git says when the ledger moved under an atomic push.
var stale = &gitrepo.PushRejectedError{Remote: "origin", Refs: []gitrepo.RejectedRef{
	{Ref: "refs/heads/stable", Reason: "atomic push failed"}, {Ref: "refs/ringflow/ledger", Reason: "stale info"}}}

func newRacing() (*racing, *Promoter) {
	f, p := newFakes()
	r := &racing{fakes: f, landErr: stale}
	p.Lander, p.Fresh = r, r
	return r, p
}

func entryBy(actor, event, ringName, branch, from, to string, at time.Time) ledger.Entry {
	return ledger.Entry{Event: event, Ring: ringName, To: to, Actor: actor, Time: at,
		Groups: []ledger.GroupMove{{Group: branch, Branch: branch, From: from, To: to}}}
}

// Another run promoted stable to the same candidate first: this one has
// nothing left to do, exits 0, and says who did it — from the ledger.
func TestPromoteLostRaceWorkDone(t *testing.T) {
	r, p := newRacing()
	won := entryBy("alice@lab", ledger.EventPromote, "stable", "stable", "a", "b", r.now.Add(-time.Second))
	r.winner = func(f *fakes) {
		f.state.Rings[1].Groups[0].Commit, f.state.Rings[1].Groups[0].Head = "b", "b"
		f.entries = append([]ledger.Entry{won}, f.entries...)
	}
	pr, err := p.Run(context.Background(), Options{Ring: "stable"})
	if err != nil {
		t.Fatalf("a race lost to the same move: %v", err)
	}
	if !pr.NothingToDo() || pr.Entry != nil || len(r.landed) != 0 {
		t.Errorf("the loser says it moved something: %+v, landed %+v", pr.Plan, r.landed)
	}
	if pr.DoneBy == nil || pr.DoneBy.Actor != "alice@lab" || !pr.DoneBy.Time.Equal(won.Time) {
		t.Errorf("DoneBy = %+v, want alice@lab's entry", pr.DoneBy)
	}
	if r.refreshed != 1 {
		t.Errorf("fetched again %d times, want 1", r.refreshed)
	}
}

// When the other run left something to do — it moved the ring elsewhere,
// or only the ledger moved, or the branch moved without an entry — the
// promotion refuses, naming what moved, who moved it, and the command
// that decides again; the lost push stays in the chain.
func TestPromoteLostRaceStillToDo(t *testing.T) {
	for _, tc := range []struct {
		name   string
		winner func(f *fakes)
		want   []string
	}{
		{"ring moved elsewhere", func(f *fakes) {
			f.state.Rings[1].Groups[0].Commit, f.state.Rings[1].Groups[0].Head = "c", "c"
			f.entries = append([]ledger.Entry{entryBy("bob@lab", ledger.EventPromote, "stable", "stable", "a", "c", f.now)}, f.entries...)
		}, []string{"branch stable moved from a to c (promote stable to c by bob@lab at 2026-12-07T12:00:00Z)",
			"run `ringflow promote stable` to decide again from where the rings now stand"}},
		{"only the ledger moved", func(f *fakes) {
			f.entries = append([]ledger.Entry{entryBy("carol@ci", ledger.EventUpdate, "", "dev", "d", "e", f.now)}, f.entries...)
		}, []string{"the ledger took another entry (update to e by carol@ci at 2026-12-07T12:00:00Z)",
			"run `ringflow promote stable` to decide again from where the rings now stand"}},
		{"moved outside ringflow", func(f *fakes) {
			f.state.Rings[1].Groups[0].Commit, f.state.Rings[1].Groups[0].Head = "b", "b"
		}, []string{"branch stable moved from a to b (no ledger entry records it: it was moved outside ringflow)",
			"`ringflow restore stable` puts it back where the ledger has it, or `ringflow adopt stable --reason TEXT` records where it stands; then `ringflow promote stable`"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, p := newRacing()
			r.winner = tc.winner
			pr, err := p.Run(context.Background(), Options{Ring: "stable"})
			var lre *LostRaceError
			if !errors.As(err, &lre) || pr != nil {
				t.Fatalf("got %+v, %v; want a *LostRaceError", pr, err)
			}
			msg := err.Error()
			for _, w := range append(tc.want, "promotion of stable to b lost a race on remote origin: while it was deciding, ", "nothing of this promotion landed: ") {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q\nlacks %q", msg, w)
				}
			}
			var rejected *gitrepo.PushRejectedError
			if !errors.As(err, &rejected) {
				t.Errorf("the lost push is not in the chain: %v", err)
			}
		})
	}
}

// A refusal that is not a lost race (a hook declined) is returned as it
// is, without fetching again; so is any failure when nothing can fetch.
func TestPromoteLandFailureNotARace(t *testing.T) {
	r, p := newRacing()
	declined := &gitrepo.PushRejectedError{Remote: "origin", Refs: []gitrepo.RejectedRef{{Ref: "refs/heads/stable", Reason: "pre-receive hook declined"}}}
	r.landErr = declined
	if _, err := p.Run(context.Background(), Options{Ring: "stable"}); err != declined {
		t.Errorf("err = %v, want the hook's refusal as it is", err)
	}
	if r.refreshed != 0 {
		t.Errorf("fetched again after a hook's refusal")
	}
	r.landErr, p.Fresh = stale, nil
	if _, err := p.Run(context.Background(), Options{Ring: "stable"}); err != stale {
		t.Errorf("without a Refresher: err = %v, want the lost push as it is", err)
	}
}

// Only the ledger moved, and the ring's branch is where an older entry
// put it: the message names the newest entry (what moved), not that one.
func TestPromoteLostRaceLedgerOnlyNamesNewest(t *testing.T) {
	r, p := newRacing()
	older := entryBy("alice@lab", ledger.EventPromote, "stable", "stable", "", "a", r.now.Add(-time.Hour))
	r.entries = append([]ledger.Entry{older}, r.entries...)
	r.winner = func(f *fakes) {
		f.entries = append([]ledger.Entry{entryBy("carol@ci", ledger.EventUpdate, "", "dev", "d", "e", f.now)}, f.entries...)
	}
	_, err := p.Run(context.Background(), Options{Ring: "stable"})
	if err == nil || !strings.Contains(err.Error(), "the ledger took another entry (update to e by carol@ci") {
		t.Errorf("err = %v, want carol's update named", err)
	}
}

// Another run landed a ledger entry that moved no branch of this ring (an
// update; canary's promotion to a new commit): no conflict. The promotion
// decides again — the same candidate, not canary's new position nobody
// has looked at — and lands; it says which entry made it decide again.
func TestPromoteLostRaceLedgerOnlyDecidesAgain(t *testing.T) {
	r, p := newRacing()
	r.failures = 1
	r.winner = func(f *fakes) {
		if r.refreshed > 1 {
			return
		}
		f.state.Rings[0].Position, f.state.Rings[0].Groups[0].Commit = "c", "c"
		f.entries = append([]ledger.Entry{entryBy("carol@ci", ledger.EventPromote, "canary", "canary", "b", "c", f.now)}, f.entries...)
	}
	pr, err := p.Run(context.Background(), Options{Ring: "stable"})
	if err != nil {
		t.Fatalf("err = %v, want the promotion decided again and landed", err)
	}
	if len(r.landed) != 1 || pr.Candidate != "b" || len(pr.Moves) == 0 || pr.Moves[0].To != "b" {
		t.Fatalf("landed %+v, candidate %s; want stable moved to b, the candidate decided first", r.landed, pr.Candidate)
	}
	if len(pr.DecidedAgain) != 1 || pr.DecidedAgain[0].Actor != "carol@ci" {
		t.Errorf("DecidedAgain = %+v, want carol's promotion", pr.DecidedAgain)
	}
	if r.refreshed != 1 {
		t.Errorf("fetched again %d times, want 1", r.refreshed)
	}
}

// A ledger that moves under every attempt: after ledgerRaces attempts the
// promotion gives up, as a lost race.
func TestPromoteLostRaceLedgerOnlyGivesUp(t *testing.T) {
	r, p := newRacing()
	r.winner = func(f *fakes) {
		f.entries = append([]ledger.Entry{entryBy("carol@ci", ledger.EventUpdate, "", "dev", "d", "e", f.now)}, f.entries...)
	}
	_, err := p.Run(context.Background(), Options{Ring: "stable"})
	var lre *LostRaceError
	if !errors.As(err, &lre) {
		t.Fatalf("err = %v, want a *LostRaceError", err)
	}
	if r.failed != ledgerRaces+1 || len(r.landed) != 0 {
		t.Errorf("tried %d times, landed %d; want %d tries, nothing landed", r.failed, len(r.landed), ledgerRaces+1)
	}
}

// Interrupted while fetching again to see who won: still a lost race in
// words, and an interruption by its chain (exit 130).
func TestPromoteLostRaceFetchInterrupted(t *testing.T) {
	r, p := newRacing()
	p.Fresh = failingRefresh{context.Canceled}
	_, err := p.Run(context.Background(), Options{Ring: "stable"})
	var lre *LostRaceError
	if !errors.As(err, &lre) || !errors.Is(err, context.Canceled) || !errors.Is(err, stale) {
		t.Fatalf("err = %v, want a *LostRaceError wrapping the lost push and the cancellation", err)
	}
	if !strings.Contains(err.Error(), "a ref it leased moved meanwhile, and fetching again to see where failed (context canceled)") {
		t.Errorf("err = %v", err)
	}
	if len(r.landed) != 0 {
		t.Errorf("landed %+v", r.landed)
	}
}

type failingRefresh struct{ err error }

func (f failingRefresh) Refresh(context.Context) error { return f.err }
