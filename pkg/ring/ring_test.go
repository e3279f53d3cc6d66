package ring

import (
	"errors"
	"strings"
	"testing"

	"github.com/ringflow/ringflow/pkg/config"
)

// graph is a commit DAG: child -> parents.
type graph map[string][]string

func (g graph) IsAncestor(a, b string) (bool, error) {
	if _, ok := g[b]; !ok {
		return false, errors.New("unknown commit " + b)
	}
	seen := map[string]bool{}
	stack := []string{b}
	for len(stack) > 0 {
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

// A-B-C-D on dev, X branching off B.
var history = graph{"A": nil, "B": {"A"}, "C": {"B"}, "D": {"C"}, "X": {"B"}}

func grp(name string, pinned bool) config.Group {
	return config.Group{Name: name, Ring: "stable", Branch: "deploy/" + name, Pin: config.Pin{Pinned: pinned}}
}

func TestDecide(t *testing.T) {
	ringCfg := config.Ring{Name: "stable"}
	tests := []struct {
		name      string
		groups    []GroupState
		candidate string
		source    string
		moves     []string // branch:from>to
		held      int
		refused   []string // gate names
	}{
		{
			name:      "fast-forward two groups, pinned one held",
			groups:    []GroupState{{grp("stable", false), "B"}, {grp("west", false), "B"}, {grp("sbc", true), "A"}},
			candidate: "D", source: "D",
			moves: []string{"deploy/stable:B>D", "deploy/west:B>D"}, held: 1,
		},
		{
			name:      "missing branch is created",
			groups:    []GroupState{{grp("stable", false), ""}},
			candidate: "C", source: "D",
			moves: []string{"deploy/stable:>C"},
		},
		{
			name:      "already there",
			groups:    []GroupState{{grp("stable", false), "D"}},
			candidate: "D", source: "D",
		},
		{
			name:      "not a fast-forward",
			groups:    []GroupState{{grp("stable", false), "X"}},
			candidate: "D", source: "D",
			refused: []string{"fast-forward"},
		},
		{
			name:      "candidate not on source",
			groups:    []GroupState{{grp("stable", false), "B"}},
			candidate: "X", source: "D",
			refused: []string{"order"},
		},
		{
			name:      "every failed gate listed",
			groups:    []GroupState{{grp("stable", false), "C"}},
			candidate: "X", source: "D",
			refused: []string{"fast-forward", "order"},
		},
		{
			name:      "all pinned",
			groups:    []GroupState{{grp("sbc", true), "A"}},
			candidate: "D", source: "D",
			held: 1, refused: []string{"pin"},
		},
		{
			name:      "pinned branch behind does not block fast-forward",
			groups:    []GroupState{{grp("stable", false), "C"}, {grp("sbc", true), "X"}},
			candidate: "D", source: "D",
			moves: []string{"deploy/stable:C>D"}, held: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &Request{Ring: ringCfg, Source: "early", SourceHead: tt.source, Candidate: tt.candidate, Groups: tt.groups}
			p, err := Decide(req, history, DefaultGates())
			if err != nil {
				t.Fatal(err)
			}
			var moves []string
			for _, m := range p.Moves {
				moves = append(moves, m.Branch+":"+m.From+">"+m.To)
			}
			var gates []string
			for _, r := range p.Refusals {
				gates = append(gates, r.Gate)
				if r.Reason == "" {
					t.Errorf("gate %s refused without a reason", r.Gate)
				}
			}
			if strings.Join(moves, ",") != strings.Join(tt.moves, ",") {
				t.Errorf("moves = %v, want %v", moves, tt.moves)
			}
			if strings.Join(gates, ",") != strings.Join(tt.refused, ",") {
				t.Errorf("refused gates = %v, want %v", gates, tt.refused)
			}
			if len(p.Held) != tt.held {
				t.Errorf("held = %v, want %d", p.Held, tt.held)
			}
			if want := len(tt.moves) == 0 && len(tt.refused) == 0; p.NothingToDo() != want {
				t.Errorf("NothingToDo = %v, want %v", p.NothingToDo(), want)
			}
		})
	}
}

func TestEvidenceGate(t *testing.T) {
	req := &Request{Ring: config.Ring{Name: "early"}, Source: "canary", SourceHead: "D", Candidate: "D",
		Groups:   []GroupState{{grp("early", false), "C"}},
		Hosts:    []string{"a", "b", "c", "d"},
		Evidence: map[string]HostEvidence{"a": {Status: "green"}, "b": {Status: "red", Phase: "eval"}, "c": {Status: "red", Phase: "build"}},
	}
	p, err := Decide(req, history, DefaultGates())
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Refusals) != 1 || p.Refusals[0].Gate != "evidence" || len(p.Moves) != 0 {
		t.Fatalf("plan = %+v, want only the evidence gate refusing", p)
	}
	want := "red at D: b (eval), c (build); not built at D: d (run `ringflow build D`)"
	if p.Refusals[0].Reason != want {
		t.Errorf("reason = %q, want %q", p.Refusals[0].Reason, want)
	}
	req.Evidence["b"], req.Evidence["c"], req.Evidence["d"] = HostEvidence{Status: "green"}, HostEvidence{Status: "green"}, HostEvidence{Status: "green"}
	if p, _ = Decide(req, history, DefaultGates()); p.Refused() || len(p.Moves) != 1 {
		t.Errorf("all green: plan = %+v, want one move", p)
	}
}

func TestRefusalMessagesNameTheFault(t *testing.T) {
	req := &Request{Ring: config.Ring{Name: "stable"}, Source: "early", SourceHead: "D", Candidate: "X",
		Groups: []GroupState{{grp("stable", false), "C"}}}
	p, err := Decide(req, history, DefaultGates())
	if err != nil {
		t.Fatal(err)
	}
	err = &GateRefusedError{Ring: "stable", Refusals: p.Refusals}
	msg := err.Error()
	for _, want := range []string{"2 gates refused promotion to stable", "gate fast-forward: branch deploy/stable is at C", "gate order: X is not on early (at D)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
}

func TestPosition(t *testing.T) {
	tests := []struct {
		name    string
		groups  []GroupState
		want    string
		diverge bool
	}{
		{"one group", []GroupState{{grp("a", false), "C"}}, "C", false},
		{"pinned ignored", []GroupState{{grp("a", false), "C"}, {grp("p", true), "A"}}, "C", false},
		{"all pinned", []GroupState{{grp("p", true), "B"}}, "B", false},
		{"newest of a line", []GroupState{{grp("a", false), "B"}, {grp("b", false), "D"}}, "D", false},
		{"no branches", []GroupState{{grp("a", false), ""}}, "", false},
		{"diverged", []GroupState{{grp("a", false), "D"}, {grp("b", false), "X"}}, "", true},
	}
	for _, tt := range tests {
		got, err := Position(tt.groups, history)
		var de *DivergedError
		if tt.diverge != errors.As(err, &de) || (!tt.diverge && err != nil) {
			t.Errorf("%s: err = %v, want diverged=%v", tt.name, err, tt.diverge)
		}
		if got != tt.want {
			t.Errorf("%s: Position = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestOrderProblems(t *testing.T) {
	names := []string{"canary", "early", "stable"}
	probs, err := OrderProblems("dev", "C", names, []string{"D", "B", "X"}, history)
	if err != nil {
		t.Fatal(err)
	}
	if len(probs) != 2 || !strings.Contains(probs[0], "ring canary is at D, which is not on dev") ||
		!strings.Contains(probs[1], "ring stable is at X, which is not on early") {
		t.Errorf("problems = %q", probs)
	}
	probs, err = OrderProblems("dev", "D", names, []string{"C", "", "A"}, history)
	if err != nil || len(probs) != 0 {
		t.Errorf("a missing middle ring: problems = %q, err = %v", probs, err)
	}
}
