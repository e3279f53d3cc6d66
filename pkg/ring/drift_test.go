package ring

import (
	"strings"
	"testing"
)

func TestDriftOf(t *testing.T) {
	g := grp("stable", false)
	tests := []struct {
		name           string
		head, recorded string
		want           string // kind; "" = no drift
	}{
		{"where the ledger has it", "C", "C", ""},
		{"never recorded", "C", "", ""},
		{"deleted", "", "C", DriftDeleted},
		{"rewound", "B", "C", DriftRewound},
		{"fast-forwarded", "D", "B", DriftForward},
		{"rewritten", "X", "C", DriftRewritten},
	}
	for _, tt := range tests {
		gs := GroupState{Group: g, Commit: tt.head, Head: tt.head, Recorded: tt.recorded}
		d, err := DriftOf(gs, history)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		switch {
		case tt.want == "" && d != nil:
			t.Errorf("%s: drift %+v, want none", tt.name, d)
		case tt.want != "" && (d == nil || d.Kind != tt.want || d.Head != tt.head || d.Recorded != tt.recorded):
			t.Errorf("%s: drift %+v, want %s", tt.name, d, tt.want)
		}
	}
	// A rolled-back branch: its head is a copy carrying a dev commit; the
	// ledger records heads, not what they carry.
	gs := GroupState{Group: g, Commit: "B", Head: "R", Recorded: "R"}
	if d, err := DriftOf(gs, graph{"R": {"C"}, "C": {"B"}, "B": nil}); err != nil || d != nil {
		t.Errorf("rolled-back branch at its recorded head: drift %+v, %v", d, err)
	}
}

// The drift gate refuses promotions into and out of a drifted ring, naming
// the branch, both commits and the two ways out.
func TestDriftGate(t *testing.T) {
	ok := GroupState{Group: Group{Name: "early", Ring: "early", Branch: "early"}, Commit: "B", Recorded: "B"}
	rewound := GroupState{Group: Group{Name: "canary", Ring: "canary", Branch: "canary"}, Commit: "B", Recorded: "C"}
	req := &Request{Ring: "early", Source: "canary", SourceHead: "B", Candidate: "B", Groups: []GroupState{ok}, SourceGroups: []GroupState{rewound}}
	reason, err := DriftGate{}.Check(req, history)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"no promotion out of ring canary", "branch canary (group canary, ring canary) was rewound outside ringflow: the ledger has it at C, it is at B",
		"`ringflow restore canary`", "`ringflow adopt canary --reason TEXT`"} {
		if !strings.Contains(reason, want) {
			t.Errorf("reason %q lacks %q", reason, want)
		}
	}
	req = &Request{Ring: "canary", Source: "dev", SourceHead: "D", Candidate: "D", Groups: []GroupState{rewound}}
	if reason, _ := (DriftGate{}).Check(req, history); !strings.Contains(reason, "no promotion into ring canary") {
		t.Errorf("into a drifted ring: reason %q", reason)
	}
	req = &Request{Ring: "early", Source: "canary", SourceHead: "B", Candidate: "B", Groups: []GroupState{ok}, SourceGroups: []GroupState{ok}}
	if reason, _ := (DriftGate{}).Check(req, history); reason != "" {
		t.Errorf("no drift: reason %q", reason)
	}
}

// A candidate that is on its source ring but not on dev is refused: a
// commit made straight on a ring branch never travels on.
func TestOrderWantsDev(t *testing.T) {
	req := &Request{Ring: "early", Source: "canary", SourceHead: "X", Candidate: "X", Dev: "main", DevHead: "D"}
	reason, err := Order{}.Check(req, history)
	if err != nil {
		t.Fatal(err)
	}
	if want := "X is not on main (at D): a ring only holds commits that lie on main"; reason != want {
		t.Errorf("reason %q, want %q", reason, want)
	}
	req.Candidate, req.SourceHead = "C", "C"
	if reason, _ := (Order{}).Check(req, history); reason != "" {
		t.Errorf("a dev commit: reason %q", reason)
	}
}
