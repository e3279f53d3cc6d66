package promote

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ringflow/ringflow/pkg/config"
	"github.com/ringflow/ringflow/pkg/evidence"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/hook"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/membership"
	"github.com/ringflow/ringflow/pkg/observe"
	"github.com/ringflow/ringflow/pkg/ring"
)

// History is one line: a <- b <- c <- d (each letter a commit).
type chain string

func (c chain) IsAncestor(a, b string) (bool, error) {
	i, j := strings.Index(string(c), a), strings.Index(string(c), b)
	return i >= 0 && j >= 0 && i <= j, nil
}

type fakes struct {
	state    *fleet.State
	hosts    []membership.Placement
	notes    map[string]*evidence.Note
	entries  []ledger.Entry
	landed   []fleet.Landing
	hookEnv  []string
	hookRes  hook.Result
	sigErr   error
	now      time.Time
	resolved map[string]string
	stores   *fakeStores
}

// greenAt is a green entry of derivation drv-<name>, output out-<name>.
func greenAt(name string) evidence.Host {
	return evidence.Host{Status: "green", Drv: "/nix/store/drv-" + name + ".drv", Out: "/nix/store/out-" + name}
}

// fakeStores has the outputs of valid in this machine's store, and no
// cache.
type fakeStores struct{ valid map[string]bool }

func (s *fakeStores) ValidPaths(_ context.Context, paths []string) (map[string]bool, error) {
	v := map[string]bool{}
	for _, p := range paths {
		v[p] = s.valid[p]
	}
	return v, nil
}

func (s *fakeStores) ValidPathsIn(context.Context, string, []string) (map[string]bool, error) {
	return nil, errors.New("no cache in these tests")
}

func (f *fakes) State(context.Context) (*fleet.State, error) { return f.state, nil }
func (f *fakes) DevCommit() (string, error)                  { return f.state.DevCommit, nil }
func (f *fakes) Resolve(_ context.Context, rev string) (string, error) {
	if c, ok := f.resolved[rev]; ok {
		return c, nil
	}
	return "", errors.New("unknown revision " + rev)
}
func (f *fakes) Hosts(context.Context, string) ([]membership.Placement, error) { return f.hosts, nil }
func (f *fakes) Get(commit string) (*evidence.Note, error) {
	if n, ok := f.notes[commit]; ok {
		return n, nil
	}
	return &evidence.Note{Commit: commit, Hosts: map[string]evidence.Host{}}, nil
}
func (f *fakes) Entries(int) ([]ledger.Entry, error) { return f.entries, nil }
func (f *fakes) NewEntry(event, ringName string) ledger.Entry {
	return ledger.Entry{Event: event, Ring: ringName, Actor: "ops@test", Time: f.now}
}
func (f *fakes) Land(_ context.Context, l fleet.Landing) ([]ring.Move, error) {
	f.landed = append(f.landed, l)
	return l.Moves, nil
}
func (f *fakes) VerifySignature(string, []byte) (gitrepo.Signer, error) {
	return gitrepo.Signer{}, f.sigErr
}

func group(name, ringName string, pinned bool) config.Group {
	return config.Group{Name: name, Ring: ringName, Branch: name, Pin: config.Pin{Pinned: pinned}}
}

// A fleet of two rings: canary (one group, at b) and stable (stable at a,
// field pinned at a); dev at d. canary soaks 24h and has a verify hook.
func newFakes() (*fakes, *Promoter) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	canary := config.Ring{Name: "canary", Soak: 24 * time.Hour, Verify: []string{"check-canary"}, Groups: []config.Group{group("canary", "canary", false)}}
	stable := config.Ring{Name: "stable", Groups: []config.Group{group("stable", "stable", false), group("field", "stable", true)}}
	gs := func(r config.Ring, at ...string) fleet.RingState {
		rs := fleet.RingState{Ring: r, Position: at[0]}
		for i, g := range r.Groups {
			rs.Groups = append(rs.Groups, ring.GroupState{Group: fleet.GroupOf(g), Commit: at[i]})
		}
		return rs
	}
	f := &fakes{now: now,
		state: &fleet.State{Dev: "dev", DevCommit: "d", Rings: []fleet.RingState{gs(canary, "b"), gs(stable, "a", "a")}},
		hosts: []membership.Placement{{Host: "lab-1", Group: "canary", Ring: "canary"}, {Host: "web-1", Group: "stable", Ring: "stable"},
			{Host: "sbc-1", Group: "field", Ring: "stable"}},
		notes: map[string]*evidence.Note{
			"b": {Commit: "b", Hosts: map[string]evidence.Host{"lab-1": greenAt("lab-b"), "web-1": greenAt("web-b")}},
			"a": {Commit: "a", Hosts: map[string]evidence.Host{"web-1": greenAt("web-a")}},
		},
		// canary took b 30h ago: its soak is over.
		entries: []ledger.Entry{{Event: "promote", Ring: "canary", To: "b", Time: now.Add(-30 * time.Hour)}},
	}
	f.stores = &fakeStores{valid: map[string]bool{}}
	for _, n := range f.notes {
		for _, h := range n.Hosts {
			f.stores.valid[h.Out] = true
		}
	}
	p := &Promoter{Rings: []config.Ring{canary, stable}, Positions: f, Hosts: f, Evidence: f, Ledger: f, Lander: f,
		Verify:   &evidence.Verifier{Stores: f.stores},
		Ancestry: chain("abcd"), Signatures: f, Now: func() time.Time { return now },
		RunHook: func(_ context.Context, argv, base, env []string, _ time.Duration) (hook.Result, error) {
			f.hookEnv = env
			return f.hookRes, nil
		}}
	return f, p
}

// stable takes canary's b: the unpinned group moves, the pinned one is
// held, and one entry lands with the moves and every gate passed.
func TestPromoteMovesAndRecords(t *testing.T) {
	f, p := newFakes()
	pr, err := p.Run(context.Background(), Options{Ring: "stable"})
	if err != nil {
		t.Fatal(err)
	}
	if len(pr.Moves) != 1 || pr.Moves[0].Branch != "stable" || pr.Moves[0].From != "a" || pr.Moves[0].To != "b" {
		t.Errorf("moves = %+v", pr.Moves)
	}
	if len(pr.Held) != 1 || pr.Held[0].Group != "field" {
		t.Errorf("held = %+v", pr.Held)
	}
	if len(f.landed) != 1 || len(f.landed[0].Entries) != 1 {
		t.Fatalf("landed %+v", f.landed)
	}
	e := f.landed[0].Entries[0]
	if e.Event != ledger.EventPromote || e.Ring != "stable" || e.From != "a" || e.To != "b" || len(e.Skipped) != 0 ||
		!slices.Equal(e.Gates, []string{"drift", "hold", "fast-forward", "order", "evidence", "healthy", "converge", "soak", "pin", "signature", "verify"}) {
		t.Errorf("entry = %+v", e)
	}
	// The verify hook of canary ran with canary's hosts at the candidate.
	if want := "RINGFLOW_HOSTS=lab-1"; !slices.Contains(f.hookEnv, want) || !slices.Contains(f.hookEnv, "RINGFLOW_COMMIT=b") {
		t.Errorf("hook env %v, want %s", f.hookEnv, want)
	}
	if pr.NoImpact {
		t.Error("web-1 changes derivation, yet the promotion says no impact")
	}
}

// Refusals gather every gate's reason and land nothing: missing evidence,
// a soak not over, a failing hook, an unknown signing key.
func TestPromoteRefusals(t *testing.T) {
	f, p := newFakes()
	f.notes["b"].Hosts = map[string]evidence.Host{"lab-1": greenAt("lab-b")} // web-1 never built at b
	f.entries[0].Time = f.now.Add(-2 * time.Hour)
	f.hookRes = hook.Result{ExitCode: 2, Output: "lab-1 down"}
	f.sigErr = &gitrepo.UnknownKeyError{KeyID: "DEADBEEF"}
	keyring := filepath.Join(t.TempDir(), "keys.asc")
	if err := os.WriteFile(keyring, []byte("keys"), 0o644); err != nil {
		t.Fatal(err)
	}
	p.SignedBy = keyring
	pr, err := p.Run(context.Background(), Options{Ring: "stable"})
	var refused *ring.GateRefusedError
	if !errors.As(err, &refused) || pr == nil {
		t.Fatalf("err = %v", err)
	}
	got := map[string]string{}
	for _, r := range refused.Refusals {
		got[r.Gate] = r.Reason
	}
	for gate, want := range map[string]string{
		"evidence":  "not built at b: web-1",
		"soak":      "2h of its 1d soak: 22h left",
		"verify":    "verify hook of canary exited 2:\nlab-1 down",
		"signature": "b is signed by key DEADBEEF, which is not in " + keyring,
	} {
		if !strings.Contains(got[gate], want) {
			t.Errorf("gate %s: %q, want it to contain %q", gate, got[gate], want)
		}
	}
	if len(f.landed) != 0 {
		t.Errorf("a refused promotion landed %+v", f.landed)
	}
}

// --force-soak skips only the soak, and the entry says so with the reason;
// a dry run lands nothing; a ring already at the candidate has nothing to do.
func TestPromoteForceSoakDryRunNothingToDo(t *testing.T) {
	f, p := newFakes()
	f.entries = nil // no record of when canary took b
	if _, err := p.Run(context.Background(), Options{Ring: "stable", DryRun: true}); err == nil || !strings.Contains(err.Error(), "no record of when canary took b") {
		t.Fatalf("without a record: %v", err)
	}
	if _, err := p.Run(context.Background(), Options{Ring: "stable", DryRun: true, ForceSoak: true, Reason: "hotfix"}); err != nil || len(f.landed) != 0 {
		t.Fatalf("dry run: err %v, landed %+v", err, f.landed)
	}
	if _, err := p.Run(context.Background(), Options{Ring: "stable", ForceSoak: true, Reason: "hotfix"}); err != nil {
		t.Fatal(err)
	}
	if e := f.landed[0].Entries[0]; !slices.Equal(e.Skipped, []string{"soak"}) || slices.Contains(e.Gates, "soak") || e.Reason != "hotfix" {
		t.Errorf("entry = %+v", e)
	}
	f.landed = nil
	f.state.Rings[1].Groups[0].Commit = "b"
	pr, err := p.Run(context.Background(), Options{Ring: "stable"})
	if err != nil || !pr.NothingToDo() || len(f.landed) != 0 {
		t.Errorf("at the candidate already: %+v, %v, landed %+v", pr, err, f.landed)
	}
}

// A promotion whose every moving host keeps its derivation waives the
// next ring's soak; an unknown ring names the rings there are.
func TestPromoteNoImpactAndUnknownRing(t *testing.T) {
	f, p := newFakes()
	f.notes["d"] = &evidence.Note{Commit: "d", Hosts: map[string]evidence.Host{"lab-1": greenAt("lab-b")}}
	pr, err := p.Run(context.Background(), Options{Ring: "canary"})
	if err != nil || !pr.NoImpact || !f.landed[0].Entries[0].NoImpact {
		t.Fatalf("promotion %+v, %v", pr, err)
	}
	_, err = p.Run(context.Background(), Options{Ring: "stabel"})
	if err == nil || err.Error() != `unknown ring "stabel": did you mean stable? (rings: canary, stable)` {
		t.Errorf("unknown ring: %v", err)
	}
}

// Finding 2 of issue 14: a hand-written note ({"status":"green"} per host)
// and a note whose output is in no store count as unbuilt: the evidence
// gate refuses naming each host, why, and the build to run; nothing lands.
// An unchecked entry waives no soak either.
func TestPromoteRefusesEvidenceThatCannotBeChecked(t *testing.T) {
	f, p := newFakes()
	f.notes["d"] = &evidence.Note{Commit: "d", Hosts: map[string]evidence.Host{"lab-1": {Status: "green"}}}
	_, err := p.Run(context.Background(), Options{Ring: "canary"})
	var refused *ring.GateRefusedError
	if !errors.As(err, &refused) || len(refused.Refusals) != 1 || refused.Refusals[0].Gate != "evidence" {
		t.Fatalf("hand-written note: err = %v", err)
	}
	if want := "evidence of lab-1 at d has no drv/out path, so it counts as unbuilt (run `ringflow build d --host lab-1`)"; refused.Refusals[0].Reason != want {
		t.Errorf("hand-written note: %q, want %q", refused.Refusals[0].Reason, want)
	}

	// Its drv and out path as the real thing, but the output in no store.
	f.notes["d"].Hosts["lab-1"] = greenAt("lab-d")
	pr, err := p.Run(context.Background(), Options{Ring: "canary"})
	want := "evidence of lab-1 at d has out path /nix/store/out-lab-d, which is in no store (not here, and build.cache is not set), so it counts as unbuilt (run `ringflow build d --host lab-1`)"
	if !errors.As(err, &refused) || refused.Refusals[0].Reason != want || pr.NoImpact {
		t.Errorf("out path in no store: err = %v\nwant %q", err, want)
	}
	if len(f.landed) != 0 {
		t.Fatalf("landed %+v", f.landed)
	}

	// Built after all: it counts.
	f.stores.valid["/nix/store/out-lab-d"] = true
	if _, err := p.Run(context.Background(), Options{Ring: "canary"}); err != nil || len(f.landed) != 1 {
		t.Errorf("output valid here: err %v, landed %d", err, len(f.landed))
	}

	// No impact is judged only on entries that count: the same drv as at
	// canary's position, but no output anywhere.
	f, p = newFakes()
	e := greenAt("lab-b")
	e.Out = "/nix/store/out-gone"
	f.notes["d"] = &evidence.Note{Commit: "d", Hosts: map[string]evidence.Host{"lab-1": e}}
	pr, _ = p.Plan(context.Background(), Options{Ring: "canary"})
	if pr == nil || pr.NoImpact || !pr.Refused() {
		t.Errorf("unchecked entry: promotion %+v, want refused and not no-impact", pr)
	}
}

// Finding 5 of issue 14: a malformed note on the candidate is no error: it
// counts as no evidence, and the refusal names it (exit 3, not 1).
func TestPromoteMalformedNoteIsNoEvidence(t *testing.T) {
	f, p := newFakes()
	bad := evidence.Malformed{Commit: "d", Reason: "cut short: unexpected end of JSON input"}
	f.notes["d"] = &evidence.Note{Commit: "d", Hosts: map[string]evidence.Host{}, Malformed: []evidence.Malformed{bad}}
	_, err := p.Run(context.Background(), Options{Ring: "canary"})
	var refused *ring.GateRefusedError
	if !errors.As(err, &refused) || len(refused.Refusals) != 1 {
		t.Fatalf("err = %v, want a refusal", err)
	}
	want := "not built at d: lab-1, as the evidence note on d in refs/notes/ringflow/evidence is not ringflow's evidence (cut short: unexpected end of JSON input) and counts as none (run `ringflow build d`)"
	if got := refused.Refusals[0].Reason; got != want {
		t.Errorf("reason = %q\nwant %q", got, want)
	}
}

// stableAt puts ring stable's group stable at commit and field at fieldAt,
// field pinned as given.
func (f *fakes) stableAt(commit, fieldAt string, pinned bool) {
	rs := &f.state.Rings[1]
	rs.Position = commit
	rs.Groups[0].Commit = commit
	rs.Groups[1].Commit = fieldAt
	rs.Groups[1].Group.Pinned = pinned
}

// promote --group: the pinned group catches up with its ring's position
// without the source's soak or verify hook (the ring passed them for what it
// holds); a commit on neither the ring nor its source is refused; a group of
// another ring is named with the right command.
func TestPromoteGroup(t *testing.T) {
	f, p := newFakes()
	f.stableAt("b", "a", true)
	f.notes["b"].Hosts["sbc-1"] = greenAt("sbc-b")
	f.stores.valid[greenAt("sbc-b").Out] = true
	f.entries = nil // no record of canary's soak: a soak gate would refuse
	pr, err := p.Run(context.Background(), Options{Ring: "stable", Group: "field", Reason: "boards back"})
	if err != nil {
		t.Fatal(err)
	}
	if len(pr.Moves) != 1 || pr.Moves[0].Branch != "field" || pr.Moves[0].From != "a" || pr.Moves[0].To != "b" || pr.Candidate != "b" {
		t.Errorf("moves %+v to %s, want field a -> b", pr.Moves, pr.Candidate)
	}
	if f.hookEnv != nil {
		t.Errorf("canary's verify hook ran for a commit stable holds already")
	}
	if e := f.landed[0].Entries[0]; e.Group != "field" || e.Ring != "stable" || e.From != "a" || e.To != "b" || e.Reason != "boards back" {
		t.Errorf("entry %+v", e)
	}

	f.resolved = map[string]string{"c": "c"}
	pr, err = p.Run(context.Background(), Options{Ring: "stable", Group: "field", Rev: "c"})
	var refused *ring.GateRefusedError
	if !errors.As(err, &refused) || len(pr.Refusals) == 0 || pr.Refusals[0].Gate != "order" || len(pr.Moves) != 0 {
		t.Errorf("c is on neither canary (b) nor stable (b): err %v", err)
	}

	var unknown *UnknownGroupError
	if _, err = p.Run(context.Background(), Options{Ring: "stable", Group: "canary"}); !errors.As(err, &unknown) ||
		err.Error() != `group "canary" is in ring canary, not stable: ringflow promote canary --group canary` {
		t.Errorf("a group of another ring: %v", err)
	}
}

// The impact of a promotion is measured per moving group from where that
// group stands: a group that was held back and now moves changes
// derivation although nothing changes between the ring's position and the
// candidate, so the next ring's soak is not waived.
func TestNoImpactPerGroup(t *testing.T) {
	for _, tt := range []struct {
		name     string
		sbcAtA   string // sbc-1's derivation where field stands
		noImpact bool
	}{
		{"the held-back group changes", "sbc-a", false},
		{"the held-back group is the same", "sbc-b", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, p := newFakes()
			f.stableAt("a", "a", false)
			f.state.Rings[1].Groups[0].Commit = "b" // stable's own group took b already; field lags at a
			f.notes["a"].Hosts["sbc-1"] = greenAt(tt.sbcAtA)
			f.notes["b"].Hosts["sbc-1"] = greenAt("sbc-b")
			f.stores.valid[greenAt("sbc-b").Out] = true
			pr, err := p.Plan(context.Background(), Options{Ring: "stable"})
			if err != nil || pr.Refused() {
				t.Fatalf("err %v, refused %+v", err, pr.Refusals)
			}
			if len(pr.Moves) != 1 || pr.Moves[0].Group != "field" || pr.NoImpact != tt.noImpact {
				t.Errorf("moves %+v, no impact %v; want field moving, no impact %v", pr.Moves, pr.NoImpact, tt.noImpact)
			}
		})
	}
}

// fakeObserver says what hosts run and indexes the fakes' notes.
type fakeObserver struct {
	runs   map[string]observe.Run
	health map[string]observe.Health // nil: every host healthy
	f      *fakes
}

func (o fakeObserver) Health(_ context.Context, hosts []string) (map[string]observe.Health, error) {
	out := map[string]observe.Health{}
	for _, h := range hosts {
		hh, ok := o.health[h]
		if !ok {
			hh = observe.Health{Known: true, Healthy: true}
		}
		hh.Host = h
		out[h] = hh
	}
	return out, nil
}

func (o fakeObserver) Source() (observe.Source, error) { return o, nil }
func (o fakeObserver) Running(_ context.Context, hosts []string) (map[string]observe.Run, error) {
	out := map[string]observe.Run{}
	for _, h := range hosts {
		if r, ok := o.runs[h]; ok {
			r.Host = h
			out[h] = r
		}
	}
	return out, nil
}
func (o fakeObserver) Outs() (observe.Outs, error) { return evidence.IndexOuts(o.f.notes), nil }

// Observed: stable takes b only once canary's hosts run it; the first
// promotion that sees canary converged records it, and canary's soak
// counts from then, not from when its branch moved 30h ago.
func TestPromoteObserved(t *testing.T) {
	f, p := newFakes()
	p.Rings[0].Converge = config.Converge{Share: 100}
	obs := fakeObserver{f: f, runs: map[string]observe.Run{"lab-1": {Toplevel: "/nix/store/out-lab-a"}}}
	p.Observe = obs

	pr, err := p.Run(context.Background(), Options{Ring: "stable"})
	var refused *ring.GateRefusedError
	if !errors.As(err, &refused) || pr.Converged != nil {
		t.Fatalf("lab-1 runs another system: err %v, converged %+v", err, pr.Converged)
	}
	if r := pr.Refusals[0]; r.Gate != "converge" || !strings.Contains(r.Reason, "0 of 1 host(s) of canary run b, 1 needed (converge: 100%): lab-1 runs /nix/store/out-lab-a") {
		t.Errorf("refusal %+v", pr.Refusals)
	}

	obs.runs["lab-1"] = observe.Run{Toplevel: greenAt("lab-b").Out} // switched to b
	p.Observe = obs
	pr, err = p.Run(context.Background(), Options{Ring: "stable"})
	if !errors.As(err, &refused) || len(pr.Refusals) != 1 || pr.Refusals[0].Gate != "soak" {
		t.Fatalf("converged just now: err %v, want only canary's 24h soak (counted from now) refusing", err)
	}
	if pr.Converged == nil || len(f.landed) != 1 || f.landed[0].Entries[0].Event != ledger.EventConverged || f.landed[0].Entries[0].To != "b" {
		t.Fatalf("converged entry: %+v, landed %+v", pr.Converged, f.landed)
	}
	if !strings.Contains(pr.Refusals[0].Reason, "for 0s of its 1d soak") {
		t.Errorf("soak counted from the branch move, not from convergence: %s", pr.Refusals[0].Reason)
	}

	// Seen late (the nightly cycle), with the switch time the source
	// reports: the soak counts from the switch, 10h ago.
	f, p = newFakes()
	p.Rings[0].Converge = config.Converge{Share: 100}
	switched := p.Now().Add(-10 * time.Hour)
	p.Observe = fakeObserver{f: f, runs: map[string]observe.Run{"lab-1": {Toplevel: greenAt("lab-b").Out, Since: switched}}}
	pr, err = p.Run(context.Background(), Options{Ring: "stable"})
	if !errors.As(err, &refused) || len(pr.Refusals) != 1 || !strings.Contains(pr.Refusals[0].Reason, "for 10h of its 1d soak") {
		t.Fatalf("switched 10h ago: err %v, want canary's soak counted from the switch", err)
	}
	if got := f.landed[0].Entries[0]; !got.ConvergedAt.Equal(switched) || !strings.Contains(got.Reason, "the last needed since") {
		t.Errorf("converged entry %+v: want converged_at %v", got, switched)
	}
}

// Observed health: stable takes nothing while a canary host is unhealthy
// beyond canary's max-unhealthy, naming it and its failed unit; a host
// the source cannot tell about counts too.
func TestPromoteHealthy(t *testing.T) {
	f, p := newFakes()
	p.Rings[0].Converge = config.Converge{Share: 100}
	obs := fakeObserver{f: f, runs: map[string]observe.Run{"lab-1": {Toplevel: greenAt("lab-b").Out}},
		health: map[string]observe.Health{"lab-1": {Known: true, Reasons: []string{"failed units: nginx.service"}, FailedUnits: []string{"nginx.service"}}}}
	p.Observe = obs
	pr, err := p.Run(context.Background(), Options{Ring: "stable", ForceSoak: true, Reason: "test"})
	var refused *ring.GateRefusedError
	if !errors.As(err, &refused) || len(pr.Refusals) != 1 || pr.Refusals[0].Gate != "healthy" ||
		!strings.Contains(pr.Refusals[0].Reason, "1 of 1 host(s) of canary are unhealthy, 0 allowed (max-unhealthy: 0): lab-1: failed units: nginx.service") {
		t.Fatalf("lab-1 unhealthy: err %v, refusals %+v", err, pr)
	}
	obs.health["lab-1"] = observe.Health{Reasons: []string{"no up series"}}
	pr, err = p.Run(context.Background(), Options{Ring: "stable", ForceSoak: true, Reason: "test"})
	if !errors.As(err, &refused) || !strings.Contains(pr.Refusals[0].Reason, "lab-1: health not known (no up series)") {
		t.Fatalf("lab-1 not known: err %v", err)
	}
	p.Rings[0].MaxUnhealthy = config.Tolerance{Count: 1}
	if _, err := p.Run(context.Background(), Options{Ring: "stable", ForceSoak: true, Reason: "test"}); err != nil {
		t.Fatalf("one unhealthy host allowed: %v", err)
	}
}

// A converged entry counts only since the ring's last move: canary,
// converged on b, moved to c and rolled back to b, converges on b anew.
func TestConvergedAgainAfterRollback(t *testing.T) {
	for _, tt := range []struct {
		name    string
		entries []ledger.Entry
		record  bool
	}{
		{"recorded already", []ledger.Entry{
			{Event: ledger.EventConverged, Ring: "canary", To: "b"},
			{Event: ledger.EventPromote, Ring: "canary", To: "b"},
		}, false},
		{"back on b by a rollback", []ledger.Entry{
			{Event: ledger.EventRollback, Ring: "canary", From: "c", To: "b"},
			{Event: ledger.EventPromote, Ring: "canary", From: "b", To: "c"},
			{Event: ledger.EventConverged, Ring: "canary", To: "b"},
			{Event: ledger.EventPromote, Ring: "canary", To: "b"},
		}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, p := newFakes()
			f.entries = tt.entries
			p.Rings[0].Converge = config.Converge{Share: 100}
			p.Observe = fakeObserver{f: f, runs: map[string]observe.Run{"lab-1": {Toplevel: greenAt("lab-b").Out}}}
			pr, _ := p.Run(context.Background(), Options{Ring: "stable", ForceSoak: true, Reason: "test"})
			if pr == nil || (pr.Converged != nil) != tt.record {
				t.Errorf("converged recorded: %+v, want %v", pr, tt.record)
			}
		})
	}
}
