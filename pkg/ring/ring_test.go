package ring

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ringflow/ringflow/pkg/freeze"
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

func grp(name string, pinned bool) Group {
	return Group{Name: name, Ring: "stable", Branch: "deploy/" + name, Pinned: pinned}
}

func TestDecide(t *testing.T) {
	ringCfg := "stable"
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
			groups:    []GroupState{{Group: grp("stable", false), Commit: "B"}, {Group: grp("west", false), Commit: "B"}, {Group: grp("sbc", true), Commit: "A"}},
			candidate: "D", source: "D",
			moves: []string{"deploy/stable:B>D", "deploy/west:B>D"}, held: 1,
		},
		{
			name:      "missing branch is created",
			groups:    []GroupState{{Group: grp("stable", false), Commit: ""}},
			candidate: "C", source: "D",
			moves: []string{"deploy/stable:>C"},
		},
		{
			name:      "already there",
			groups:    []GroupState{{Group: grp("stable", false), Commit: "D"}},
			candidate: "D", source: "D",
		},
		{
			name:      "not a fast-forward",
			groups:    []GroupState{{Group: grp("stable", false), Commit: "X"}},
			candidate: "D", source: "D",
			refused: []string{"fast-forward"},
		},
		{
			name:      "candidate not on source",
			groups:    []GroupState{{Group: grp("stable", false), Commit: "B"}},
			candidate: "X", source: "D",
			refused: []string{"order"},
		},
		{
			name:      "every failed gate listed",
			groups:    []GroupState{{Group: grp("stable", false), Commit: "C"}},
			candidate: "X", source: "D",
			refused: []string{"fast-forward", "order"},
		},
		{
			name:      "all pinned",
			groups:    []GroupState{{Group: grp("sbc", true), Commit: "A"}},
			candidate: "D", source: "D",
			held: 1, refused: []string{"pin"},
		},
		{
			name:      "pinned branch behind does not block fast-forward",
			groups:    []GroupState{{Group: grp("stable", false), Commit: "C"}, {Group: grp("sbc", true), Commit: "X"}},
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
	req := &Request{Ring: "early", Source: "canary", SourceHead: "D", Candidate: "D",
		Groups:   []GroupState{{Group: grp("early", false), Commit: "C"}},
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
	req := &Request{Ring: "stable", Source: "early", SourceHead: "D", Candidate: "X",
		Groups: []GroupState{{Group: grp("stable", false), Commit: "C"}}}
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
		{"one group", []GroupState{{Group: grp("a", false), Commit: "C"}}, "C", false},
		{"pinned ignored", []GroupState{{Group: grp("a", false), Commit: "C"}, {Group: grp("p", true), Commit: "A"}}, "C", false},
		{"all pinned", []GroupState{{Group: grp("p", true), Commit: "B"}}, "B", false},
		{"newest of a line", []GroupState{{Group: grp("a", false), Commit: "B"}, {Group: grp("b", false), Commit: "D"}}, "D", false},
		{"no branches", []GroupState{{Group: grp("a", false), Commit: ""}}, "", false},
		{"diverged", []GroupState{{Group: grp("a", false), Commit: "D"}, {Group: grp("b", false), Commit: "X"}}, "", true},
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

func TestSoakGate(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	base := func() *Request {
		return &Request{Ring: "stable", Source: "early", SourceHead: "D", Candidate: "D",
			Groups: []GroupState{{Group: grp("stable", false), Commit: "C"}}, SoakNeeded: 24 * time.Hour, Now: t0}
	}
	tests := []struct {
		name   string
		edit   func(*Request)
		reason string // "" = passes
	}{
		{"soaked long enough", func(r *Request) { r.SoakSince = t0.Add(-25 * time.Hour) }, ""},
		{"too early", func(r *Request) { r.SoakSince = t0.Add(-90 * time.Minute) },
			"D has been on early for 1h30m of its 1d soak: 22h30m left (until 2026-05-02T10:30:00Z)"},
		{"no record", func(r *Request) {}, "no record of when early took D, so its soak of 1d cannot be told"},
		{"observed, not converged", func(r *Request) { r.Converge = &ConvergeCheck{Ring: "early", Needed: 1} },
			"early's soak of 1d counts from when its hosts run D, which they do not yet (see gate converge)"},
		{"forced", func(r *Request) { r.SkipSoak = true }, ""},
		{"no impact on the source ring", func(r *Request) { r.SoakWaived = true }, ""},
		{"no soak", func(r *Request) { r.SoakNeeded = 0 }, ""},
	}
	for _, tt := range tests {
		req := base()
		tt.edit(req)
		got, err := Soak{}.Check(req, history)
		if err != nil || got != tt.reason {
			t.Errorf("%s: reason %q (err %v), want %q", tt.name, got, err, tt.reason)
		}
	}
}

func TestFreezeSignatureVerifyGates(t *testing.T) {
	until := time.Date(2026, 12, 28, 8, 0, 0, 0, time.UTC)
	req := &Request{Ring: "stable", Source: "early", SourceHead: "D", Candidate: "D",
		Groups:    []GroupState{{Group: grp("stable", false), Commit: "C"}},
		Now:       until.Add(-time.Hour),
		Freeze:    []freeze.Window{{Start: until.Add(-24 * time.Hour), End: until, Reason: "holidays"}},
		Signature: &SignatureCheck{Keyring: "keys.asc", Unsigned: "no signature"},
		Verify:    &HookRun{Ring: "early", ExitCode: 1, Output: "hosts unhealthy"},
	}
	p, err := Decide(req, history, DefaultGates())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"pin":       "ring stable is frozen until 2026-12-28T08:00:00Z (holidays)",
		"signature": "D is not signed (no signature)",
		"verify":    "verify hook of early exited 1:\nhosts unhealthy",
	}
	if len(p.Refusals) != len(want) {
		t.Fatalf("refusals = %+v", p.Refusals)
	}
	for _, r := range p.Refusals {
		if want[r.Gate] != r.Reason {
			t.Errorf("gate %s: %q, want %q", r.Gate, r.Reason, want[r.Gate])
		}
	}
	// Each way a signature or a hook fails is said in its own words; a
	// window that ended, a valid signature and a passing hook hold nothing.
	for _, tt := range []struct {
		sig  SignatureCheck
		hook HookRun
		want []string
	}{
		{SignatureCheck{Keyring: "k.asc", UnknownKey: "ABCD"}, HookRun{Ring: "early", TimedOut: true, Duration: 90 * time.Second},
			[]string{"D is signed by key ABCD, which is not in k.asc", "verify hook of early timed out after 1m30s"}},
		{SignatureCheck{Keyring: "k.asc", Bad: "hash mismatch"}, HookRun{Ring: "early", RunError: "exec: no such file"},
			[]string{"D has a bad signature: hash mismatch", "verify hook of early could not run: exec: no such file"}},
		{SignatureCheck{Keyring: "k.asc"}, HookRun{Ring: "early"}, nil},
	} {
		req.Now, req.Signature, req.Verify = until, &tt.sig, &tt.hook
		p, err := Decide(req, history, DefaultGates())
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range p.Refusals {
			got = append(got, r.Reason)
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("refusals %q, want %q", got, tt.want)
		}
	}
}

func TestFrozenAt(t *testing.T) {
	start := time.Date(2026, 12, 24, 0, 0, 0, 0, time.UTC)
	ws := []freeze.Window{{Start: start, End: start.Add(48 * time.Hour), Reason: "holidays"}}
	if f := FrozenAt(ws, start.Add(time.Hour)); f == nil || !f.Until.Equal(start.Add(48*time.Hour)) || f.Reason != "holidays" {
		t.Errorf("inside the window: %+v", f)
	}
	if f := FrozenAt(ws, start.Add(48*time.Hour)); f != nil {
		t.Errorf("at its end: %+v, want not frozen", f)
	}
}

// A branch whose head is a ringflow-made commit (after a rollback) carries
// an older dev commit: the candidate must descend from that, and lands as
// a copy of its tree on top of the head.
func TestCarriedCommit(t *testing.T) {
	req := &Request{Ring: "stable", Source: "early", SourceHead: "D", Candidate: "D",
		Groups: []GroupState{
			{Group: grp("stable", false), Commit: "B", Head: "R"}, // R: a rollback commit carrying B
			{Group: grp("west", false), Commit: "C"},
		}}
	p, err := Decide(req, history, DefaultGates())
	if err != nil {
		t.Fatal(err)
	}
	if p.Refused() || len(p.Moves) != 2 {
		t.Fatalf("plan = %+v", p)
	}
	if m := p.Moves[0]; m.From != "R" || m.To != "" || m.Carries != "D" || !m.NeedsCarry() {
		t.Errorf("carried move = %+v, want from R, to be made, carrying D", m)
	}
	if m := p.Moves[1]; m.From != "C" || m.To != "D" || m.NeedsCarry() {
		t.Errorf("plain move = %+v, want C -> D", m)
	}
	// Already carrying the candidate: nothing to do for that group.
	req.Groups[0].Commit = "D"
	if p, _ = Decide(req, history, DefaultGates()); len(p.Moves) != 1 {
		t.Errorf("moves = %+v, want only west", p.Moves)
	}
}

// A green entry that does not count is unbuilt, with its reason and the
// build that replaces it; hosts sharing a reason share a part. A malformed
// note is named where it leaves hosts unbuilt.
func TestEvidenceGateUnverifiedAndMalformed(t *testing.T) {
	const noPaths = "has no drv/out path"
	req := &Request{Ring: "canary", Source: "dev", SourceHead: "D", Candidate: "D",
		Groups: []GroupState{{Group: grp("canary", false), Commit: "C"}},
		Hosts:  []string{"lab-1", "lab-2", "lab-3", "it's", "ok"},
		Evidence: map[string]HostEvidence{
			"lab-1": {Status: "green", Unverified: noPaths},
			"lab-2": {Status: "green", Unverified: noPaths},
			"lab-3": {Status: "green", Unverified: "has out path /nix/store/x-lab-3, which is in no store (not here, not in build.cache file:///c)"},
			"it's":  {Status: "green", Unverified: noPaths},
			"ok":    {Status: "green"},
		},
	}
	p, err := Decide(req, history, DefaultGates())
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Refusals) != 1 || p.Refusals[0].Gate != "evidence" || len(p.Moves) != 0 {
		t.Fatalf("plan = %+v, want only the evidence gate refusing", p)
	}
	want := "evidence of lab-1, lab-2, it's at D has no drv/out path, so it counts as unbuilt (run `ringflow build D --host lab-1 --host lab-2 --host 'it'\\''s'`); " +
		"evidence of lab-3 at D has out path /nix/store/x-lab-3, which is in no store (not here, not in build.cache file:///c), so it counts as unbuilt (run `ringflow build D --host lab-3`)"
	if got := p.Refusals[0].Reason; got != want {
		t.Errorf("reason =\n %q\nwant\n %q", got, want)
	}

	req.Evidence = map[string]HostEvidence{"ok": {Status: "green"}}
	req.EvidenceMalformed = []string{"the evidence note on D in refs/notes/ringflow/evidence is not ringflow's evidence (cut short: unexpected end of JSON input)"}
	p, _ = Decide(req, history, DefaultGates())
	want = "not built at D: lab-1, lab-2, lab-3, it's, as the evidence note on D in refs/notes/ringflow/evidence is not ringflow's evidence (cut short: unexpected end of JSON input) and counts as none (run `ringflow build D`)"
	if len(p.Refusals) != 1 || p.Refusals[0].Reason != want {
		t.Errorf("malformed note: refusals = %+v\nwant %q", p.Refusals, want)
	}

	for _, h := range req.Hosts {
		req.Evidence[h] = HostEvidence{Status: "green"}
	}
	if p, _ = Decide(req, history, DefaultGates()); p.Refused() || len(p.Moves) != 1 {
		t.Errorf("every entry counting: plan = %+v, want one move", p)
	}
}

// A held ring refuses promotion, naming who, when, why and how to release
// it; without a hold the gate passes.
func TestHoldGate(t *testing.T) {
	req := &Request{Ring: "canary", Source: "dev", SourceHead: "D", Candidate: "D",
		Groups: []GroupState{{Group: grp("canary", false), Commit: "C"}}}
	p, err := Decide(req, history, DefaultGates())
	if err != nil || p.Refused() {
		t.Fatalf("not held: refused %v, err %v", p.Refusals, err)
	}
	req.Hold = &Hold{Actor: "ops@x", Time: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC), Reason: "incident 42"}
	p, err = Decide(req, history, DefaultGates())
	if err != nil || len(p.Refusals) != 1 || p.Refusals[0].Gate != "hold" || len(p.Moves) != 0 {
		t.Fatalf("held: plan %+v, err %v; want the hold gate alone refusing", p, err)
	}
	want := "ring canary is held by ops@x since 2026-12-07T10:00:00Z: incident 42 (release it with `ringflow release canary --reason TEXT`)"
	if p.Refusals[0].Reason != want {
		t.Errorf("reason = %q\nwant %q", p.Refusals[0].Reason, want)
	}
}

func TestHoldDescribe(t *testing.T) {
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	for _, tt := range []struct {
		hold *Hold
		want string
	}{
		{nil, ""},
		{&Hold{Actor: "ops@x", Time: at}, "held by ops@x since 2026-12-07T09:00:00Z"},
		{&Hold{Actor: "ops@x", Time: at, Reason: "incident 42"}, "held by ops@x since 2026-12-07T09:00:00Z: incident 42"},
	} {
		if got := tt.hold.Describe(); got != tt.want {
			t.Errorf("Describe(%+v) = %q, want %q", tt.hold, got, tt.want)
		}
	}
}

func TestPinDescribe(t *testing.T) {
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		pin  *Pin
		want string
	}{
		{nil, ""},
		{&Pin{Config: "rings[2].groups[1].pin"}, "pinned by the config (rings[2].groups[1].pin)"},
		{&Pin{Config: "rings[2].groups[1].pin", Commit: "734a2e0"}, "pinned at 734a2e0 by the config (rings[2].groups[1].pin)"},
		{&Pin{Actor: "ops@x", Time: at, Reason: "boards at a fair"}, "pinned by ops@x at 2026-12-07T10:00:00Z: boards at a fair"},
		{&Pin{Config: "rings[2].groups[1].pin", Actor: "ops@x", Time: at}, "pinned by the config (rings[2].groups[1].pin), and by ops@x at 2026-12-07T10:00:00Z"},
	} {
		if got := tt.pin.Describe(); got != tt.want {
			t.Errorf("Describe(%+v) = %q, want %q", tt.pin, got, tt.want)
		}
	}
}

// A one-group promotion moves that group alone, pinned or not: forward by
// fast-forward, back by a tree copy on top; the candidate may lie on the
// ring or on its source, nowhere else; a freeze still holds it.
func TestDecideGroup(t *testing.T) {
	sbc := func(commit string) []GroupState {
		return []GroupState{{Group: grp("sbc", true), Commit: commit}}
	}
	for _, tt := range []struct {
		name      string
		groups    []GroupState
		candidate string
		frozen    bool
		move      string // from>to, "copy" for a tree copy; "" = none
		refused   string // gate
	}{
		{name: "pinned group catches up with its ring", groups: sbc("A"), candidate: "C", move: "A>C"},
		{name: "to a commit its ring held before", groups: sbc("A"), candidate: "B", move: "A>B"},
		{name: "ahead of its ring, from the source", groups: sbc("A"), candidate: "D", move: "A>D"},
		{name: "back, as a copy on top", groups: sbc("C"), candidate: "A", move: "copy"},
		{name: "already there", groups: sbc("C"), candidate: "C"},
		{name: "off the ring and its source", groups: sbc("A"), candidate: "X", refused: "order"},
		{name: "frozen", groups: sbc("A"), candidate: "C", frozen: true, refused: "pin"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := &Request{Ring: "stable", Source: "early", SourceHead: "D", Candidate: tt.candidate, Groups: tt.groups,
				Group: "sbc", RingHead: "C", Now: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
			if tt.frozen {
				req.Freeze = []freeze.Window{{Key: "rings[2].freeze[0]", Reason: "fair", Start: req.Now.Add(-time.Hour), End: req.Now.Add(time.Hour)}}
			}
			p, err := Decide(req, history, DefaultGates())
			if err != nil {
				t.Fatal(err)
			}
			var refused []string
			for _, r := range p.Refusals {
				refused = append(refused, r.Gate)
			}
			if strings.Join(refused, ",") != tt.refused {
				t.Fatalf("refused by %v (%+v), want %q", refused, p.Refusals, tt.refused)
			}
			got := ""
			if len(p.Moves) == 1 {
				m := p.Moves[0]
				got = m.From + ">" + m.To
				if m.NeedsCarry() && m.Carries == tt.candidate {
					got = "copy"
				}
			}
			if len(p.Moves) > 1 || got != tt.move {
				t.Errorf("moves %+v, want %q", p.Moves, tt.move)
			}
		})
	}
}

// --force-soak is named only when it would open every gate that refused.
func TestGateRefusedSkip(t *testing.T) {
	soak := Refusal{Gate: "soak", Reason: "no record of when early took D, so its soak of 1d cannot be told", Skip: "--force-soak --reason TEXT"}
	order := Refusal{Gate: "order", Reason: "D is not on early (at C): a ring only takes commits its source holds"}
	one := (&GateRefusedError{Ring: "stable", Refusals: []Refusal{soak}}).Error()
	if want := "gate soak refused promotion to stable: " + soak.Reason + " (skip it with --force-soak --reason TEXT)"; one != want {
		t.Errorf("soak alone: %q, want %q", one, want)
	}
	two := (&GateRefusedError{Ring: "stable", Refusals: []Refusal{order, soak}}).Error()
	if strings.Contains(two, "force-soak") {
		t.Errorf("order and soak: %q names --force-soak, which leaves order refusing", two)
	}
	req := &Request{Source: "early", Candidate: "D", SoakNeeded: time.Hour}
	if got := (Soak{}).SkipWith(req); got != "--force-soak --reason TEXT" {
		t.Errorf("SkipWith(no record) = %q", got)
	}
	req.SoakSince = time.Now()
	if got := (Soak{}).SkipWith(req); got != "" {
		t.Errorf("SkipWith(time left) = %q, want none", got)
	}
}
