package adopt

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ringflow/ringflow/pkg/config"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/ring"
)

// graph is a commit DAG: child -> parents. d1-d2-d3 on dev; h off d2.
type graph map[string][]string

func (g graph) IsAncestor(a, b string) (bool, error) {
	seen := map[string]bool{}
	for stack := []string{b}; len(stack) > 0; {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if c == a {
			return true, nil
		}
		if !seen[c] {
			seen[c] = true
			stack = append(stack, g[c]...)
		}
	}
	return false, nil
}

var history = graph{"d1": nil, "d2": {"d1"}, "d3": {"d2"}, "h": {"d2"}}

type fakes struct {
	st     *fleet.State
	landed []fleet.Landing
}

func (f *fakes) State(context.Context) (*fleet.State, error) { return f.st, nil }
func (f *fakes) RingIndex(name string) (int, error) {
	for i, rs := range f.st.Rings {
		if rs.Ring.Name == name {
			return i, nil
		}
	}
	return -1, &fleet.UnknownRingError{Ring: name}
}
func (f *fakes) NewEntry(event, ringName string) ledger.Entry {
	return ledger.Entry{Event: event, Ring: ringName, Actor: "ops@test", Time: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)}
}
func (f *fakes) Land(_ context.Context, l fleet.Landing) ([]ring.Move, error) {
	f.landed = append(f.landed, l)
	return l.Moves, nil
}

func state(groups ...ring.GroupState) *fleet.State {
	return &fleet.State{Dev: "dev", DevCommit: "d3", Rings: []fleet.RingState{{Ring: config.Ring{Name: "canary"}, Groups: groups, Position: groups[0].Commit}}}
}

func grp(name string) ring.Group { return ring.Group{Name: name, Ring: "canary", Branch: name} }

// A branch moved forward on dev is recorded where it stands, with the
// reason, in one ledger entry; nothing moves.
func TestAdoptRecords(t *testing.T) {
	f := &fakes{st: state(ring.GroupState{Group: grp("canary"), Commit: "d3", Head: "d3", Recorded: "d2"}, ring.GroupState{Group: grp("lab"), Commit: "d2", Head: "d2", Recorded: "d2"})}
	a := &Adopter{Positions: f, Ancestry: history, Lander: f}
	res, err := a.Run(context.Background(), Options{Ring: "canary", Reason: "pushed by hand"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Adopted) != 1 || res.Adopted[0].Kind != ring.DriftForward {
		t.Errorf("adopted %+v", res.Adopted)
	}
	if len(f.landed) != 1 || len(f.landed[0].Moves) != 0 || len(f.landed[0].Entries) != 1 {
		t.Fatalf("landed %+v", f.landed)
	}
	e := f.landed[0].Entries[0]
	want := ledger.GroupMove{Group: "canary", Branch: "canary", From: "d2", To: "d3"}
	if e.Event != ledger.EventAdopt || e.Reason != "pushed by hand" || len(e.Groups) != 1 || e.Groups[0] != want {
		t.Errorf("entry %+v, want an adopt entry with %+v", e, want)
	}
}

// A commit off dev, or a deleted branch, is refused (exit 3 as a gate),
// naming the branch and restore; nothing lands. A dry run lands nothing.
func TestAdoptRefuses(t *testing.T) {
	for _, tt := range []struct {
		name string
		gs   ring.GroupState
		want string
	}{
		{"off dev", ring.GroupState{Group: grp("canary"), Commit: "h", Head: "h", Recorded: "d2"}, "branch canary is at h, which is not on dev"},
		{"deleted", ring.GroupState{Group: grp("canary"), Recorded: "d2"}, "branch canary was deleted: there is nothing to adopt (`ringflow restore canary` puts it back at d2)"},
	} {
		f := &fakes{st: state(tt.gs)}
		_, err := (&Adopter{Positions: f, Ancestry: history, Lander: f}).Run(context.Background(), Options{Ring: "canary", Reason: "r"})
		var re *RefusedError
		if !errors.As(err, &re) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want a RefusedError saying %q", tt.name, err, tt.want)
		}
		if len(f.landed) != 0 {
			t.Errorf("%s: landed %+v", tt.name, f.landed)
		}
	}
	f := &fakes{st: state(ring.GroupState{Group: grp("canary"), Commit: "d3", Head: "d3", Recorded: "d2"})}
	res, err := (&Adopter{Positions: f, Ancestry: history, Lander: f}).Run(context.Background(), Options{Ring: "canary", Reason: "r", DryRun: true})
	if err != nil || len(res.Adopted) != 1 || len(f.landed) != 0 {
		t.Errorf("dry run: %+v, %v, landed %+v", res, err, f.landed)
	}
	// Nothing drifted: nothing to record.
	f = &fakes{st: state(ring.GroupState{Group: grp("canary"), Commit: "d3", Head: "d3", Recorded: "d3"})}
	res, err = (&Adopter{Positions: f, Ancestry: history, Lander: f}).Run(context.Background(), Options{Ring: "canary", Reason: "r"})
	if err != nil || len(res.Adopted) != 0 || len(f.landed) != 0 {
		t.Errorf("no drift: %+v, %v, landed %+v", res, err, f.landed)
	}
}
