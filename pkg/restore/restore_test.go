package restore

import (
	"context"
	"testing"
	"time"

	"github.com/ringflow/ringflow/pkg/config"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/ring"
)

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

// d1-d2-d3 on dev; h off d2; r a rollback copy on d3 carrying d1.
var history = graph{"d1": nil, "d2": {"d1"}, "d3": {"d2"}, "h": {"d2"}, "r": {"d3"}}

type fakes struct {
	st     *fleet.State
	landed []fleet.Landing
}

func (f *fakes) State(context.Context) (*fleet.State, error) { return f.st, nil }
func (f *fakes) RingIndex(string) (int, error)               { return 0, nil }
func (f *fakes) Carried(head string) (string, error) {
	if head == "r" {
		return "d1", nil
	}
	return head, nil
}
func (f *fakes) NewEntry(event, ringName string) ledger.Entry {
	return ledger.Entry{Event: event, Ring: ringName, Time: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)}
}
func (f *fakes) Land(_ context.Context, l fleet.Landing) ([]ring.Move, error) {
	f.landed = append(f.landed, l)
	return l.Moves, nil
}

func grp(name string) ring.Group { return ring.Group{Name: name, Ring: "canary", Branch: name} }

// Each kind of drift goes back forward: a rewound branch fast-forwards, a
// deleted one is created, one moved on or rewritten gets a copy of the
// recorded tree on top; all in one landing with one restore entry.
func TestRestore(t *testing.T) {
	groups := []ring.GroupState{
		{Group: grp("rewound"), Commit: "d1", Head: "d1", Recorded: "d3"},
		{Group: grp("deleted"), Recorded: "d3"},
		{Group: grp("forward"), Commit: "d3", Head: "d3", Recorded: "d2"},
		{Group: grp("rewritten"), Commit: "h", Head: "h", Recorded: "r"},
		{Group: grp("fine"), Commit: "d3", Head: "d3", Recorded: "d3"},
	}
	f := &fakes{st: &fleet.State{Dev: "dev", DevCommit: "d3", Rings: []fleet.RingState{{Ring: config.Ring{Name: "canary"}, Groups: groups}}}}
	res, err := (&Restorer{Positions: f, Ancestry: history, Lander: f}).Run(context.Background(), Options{Ring: "canary"})
	if err != nil {
		t.Fatal(err)
	}
	want := []ring.Move{
		{Group: "rewound", Branch: "rewound", From: "d1", To: "d3", Carries: "d3"},
		{Group: "deleted", Branch: "deleted", From: "", To: "d3", Carries: "d3"},
		{Group: "forward", Branch: "forward", From: "d3", To: "", Carries: "d2"},
		{Group: "rewritten", Branch: "rewritten", From: "h", To: "", Carries: "d1"},
	}
	if len(res.Moves) != len(want) {
		t.Fatalf("moves %+v, want %+v", res.Moves, want)
	}
	for i := range want {
		if res.Moves[i] != want[i] {
			t.Errorf("move %d = %+v, want %+v", i, res.Moves[i], want[i])
		}
	}
	if len(f.landed) != 1 || len(f.landed[0].Entries) != 1 || f.landed[0].Entries[0].Event != ledger.EventRestore {
		t.Errorf("landed %+v", f.landed)
	}
	// A dry run lands nothing.
	f.landed = nil
	if _, err := (&Restorer{Positions: f, Ancestry: history, Lander: f}).Run(context.Background(), Options{Ring: "canary", DryRun: true}); err != nil || len(f.landed) != 0 {
		t.Errorf("dry run: %v, landed %+v", err, f.landed)
	}
}
