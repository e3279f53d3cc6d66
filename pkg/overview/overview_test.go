package overview

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ringflow/ringflow/pkg/config"
	"github.com/ringflow/ringflow/pkg/evidence"
	"github.com/ringflow/ringflow/pkg/flakelock"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/freeze"
	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/membership"
	"github.com/ringflow/ringflow/pkg/metrics"
	"github.com/ringflow/ringflow/pkg/ring"
)

var t0 = time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)

// history is a line of commits, one letter each, in order; commit i was
// made i hours after t0.
type history string

func (h history) index(c string) (int, error) {
	i := strings.Index(string(h), c)
	if len(c) != 1 || i < 0 {
		return 0, fmt.Errorf("rev %s: %w", c, gitrepo.ErrUnknownRevision)
	}
	return i, nil
}

func (h history) Commit(rev string) (gitrepo.CommitInfo, error) {
	i, err := h.index(rev)
	return gitrepo.CommitInfo{Hash: rev, Subject: "commit " + rev, Time: t0.Add(time.Duration(i) * time.Hour)}, err
}

func (h history) CountBetween(base, tip string) (int, error) {
	b, err := h.index(base)
	if err != nil {
		return 0, err
	}
	t, err := h.index(tip)
	return max(t-b, 0), err
}

func (h history) IsAncestor(a, b string) (bool, error) {
	i, err := h.index(a)
	if err != nil {
		return false, err
	}
	j, err := h.index(b)
	return i <= j, err
}

type fakeState struct{ st *fleet.State }

func (f fakeState) State(context.Context) (*fleet.State, error) { return f.st, nil }

// fakeHosts places the hosts of each commit; a commit in errs has none.
type fakeHosts struct {
	at   map[string][]membership.Placement
	errs map[string]error
}

func (f fakeHosts) Hosts(_ context.Context, commit string) ([]membership.Placement, error) {
	return f.at[commit], f.errs[commit]
}

// fakeEvidence holds each commit's hosts' statuses, each entry with its
// drv and out path as ringflow records them (a green entry without them
// counts as unbuilt).
type fakeEvidence map[string]map[string]string

func (f fakeEvidence) Get(commit string) (*evidence.Note, error) {
	n := &evidence.Note{Commit: commit, Hosts: map[string]evidence.Host{}}
	for h, s := range f[commit] {
		n.Hosts[h] = evidence.Host{Status: s, Drv: "/nix/store/" + h + ".drv", Out: "/nix/store/" + h}
	}
	return n, nil
}

type fakeLedger []ledger.Entry

func (f fakeLedger) Entries(int) ([]ledger.Entry, error) { return f, nil }

type fakeInputs struct{}

func (fakeInputs) KeyInputs(commit string) ([]flakelock.Input, error) {
	return []flakelock.Input{{Path: "nixpkgs"}}, nil
}

func group(name string, pinned bool, commit string) ring.GroupState {
	return ring.GroupState{Group: ring.Group{Name: name, Branch: name, Pinned: pinned}, Commit: commit, Head: commit}
}

func place(hostsByGroup map[string][]string) []membership.Placement {
	var ps []membership.Placement
	for g, hs := range hostsByGroup {
		for _, h := range hs {
			ps = append(ps, membership.Placement{Host: h, Group: g})
		}
	}
	return ps
}

// fixture: dev at g; canary at e; stable at b with a pinned group sbc at
// a and a group edge whose branch is missing. canary's hosts at e are
// unreadable; stable's hosts at b and a are known.
func fixture() *Reader {
	st := &fleet.State{Dev: "main", DevCommit: "g", Rings: []fleet.RingState{
		{Ring: config.Ring{Name: "canary"}, Position: "e", Groups: []ring.GroupState{group("canary", false, "e")}},
		{Ring: config.Ring{Name: "stable"}, Position: "b", Groups: []ring.GroupState{
			group("stable", false, "b"), group("sbc", true, "a"), group("edge", false, "")}},
	}}
	hosts := fakeHosts{
		at: map[string][]membership.Placement{
			"b": place(map[string][]string{"canary": {"c1"}, "stable": {"s1", "s2", "s3"}, "sbc": {"p1"}}),
			"a": place(map[string][]string{"stable": {"s1"}, "sbc": {"p1", "p2"}}),
		},
		errs: map[string]error{"e": errors.New("nixosConfigurations: error: boom")},
	}
	ev := fakeEvidence{
		"b": {"s1": evidence.Green, "s2": evidence.Red},
		"a": {"p1": evidence.Green, "p2": evidence.Green},
	}
	return &Reader{State: fakeState{st}, Hosts: hosts, Evidence: ev, Commits: history("abcdefg"),
		Ledger: fakeLedger(nil), Inputs: fakeInputs{}, Now: func() time.Time { return t0.Add(10 * time.Hour) }}
}

func read(t *testing.T, r *Reader) *Overview {
	t.Helper()
	ov, err := r.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ov
}

func TestReadBehindTheRingBefore(t *testing.T) {
	ov := read(t, fixture())
	canary, stable := ov.Rings[0], ov.Rings[1]
	for _, tt := range []struct {
		what      string
		got, want int
	}{
		{"canary's position behind dev (e..g)", canary.Behind, 2},
		{"canary group behind dev (e..g)", canary.Groups[0].Behind, 2},
		{"stable's position behind canary (b..e)", stable.Behind, 3},
		{"stable group behind canary (b..e)", stable.Groups[0].Behind, 3},
		{"pinned sbc behind canary (a..e)", stable.Groups[1].Behind, 4},
	} {
		if tt.got != tt.want {
			t.Errorf("%s = %d, want %d", tt.what, tt.got, tt.want)
		}
	}
	if canary.Source != "main" || stable.Source != "canary" {
		t.Errorf("sources = %q, %q; want main (dev's branch), canary", canary.Source, stable.Source)
	}
	if d := ov.Dev.Commit; d.Hash != "g" || d.Age != 4*time.Hour || d.Subject != "commit g" || len(ov.Dev.Inputs.Inputs) != 1 {
		t.Errorf("dev = %+v", ov.Dev)
	}
}

func TestReadMissingBranch(t *testing.T) {
	ov := read(t, fixture())
	edge := ov.Rings[1].Groups[2]
	if edge.Commit != (Commit{}) || edge.Behind != 0 || edge.Evidence != nil || edge.EvidenceErr != nil {
		t.Errorf("group with a missing branch = %+v; want no commit, behind, tally or error", edge)
	}
}

func TestReadUnreadableHosts(t *testing.T) {
	ov := read(t, fixture())
	canary := ov.Rings[0].Groups[0]
	if canary.Evidence != nil || canary.EvidenceErr == nil || !strings.Contains(canary.EvidenceErr.Error(), "boom") {
		t.Errorf("canary, whose hosts cannot be read: tally %v, error %v; want none and the placement error", canary.Evidence, canary.EvidenceErr)
	}
	stable, sbc := ov.Rings[1].Groups[0], ov.Rings[1].Groups[1]
	if stable.Evidence == nil || *stable.Evidence != (evidence.Tally{Green: 1, Red: 1, Missing: 1}) || stable.EvidenceErr != nil {
		t.Errorf("stable tally = %v, %v; want 1 green, 1 red, 1 missing", stable.Evidence, stable.EvidenceErr)
	}
	// sbc is placed at its own commit a, where it has two hosts.
	if sbc.Evidence == nil || *sbc.Evidence != (evidence.Tally{Green: 2}) {
		t.Errorf("sbc tally = %v; want 2 green", sbc.Evidence)
	}
}

func TestReadCancelledWhilePlacing(t *testing.T) {
	r := fixture()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Read(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Read with a cancelled context = %v; want context.Canceled, not a per-group warning", err)
	}
}

func TestReadSoakLeft(t *testing.T) {
	r := fixture()
	st := r.State.(fakeState).st
	st.Rings[0].Ring.Soak = 24 * time.Hour
	st.Rings[1].Ring.Soak = 24 * time.Hour
	// Newest first. canary took c, then e at t0+8h: its position e soaks
	// from then. stable took b with a change that touched no host.
	r.Ledger = fakeLedger{
		{Event: ledger.EventPromote, Ring: "canary", To: "e", Time: t0.Add(8 * time.Hour)},
		{Event: ledger.EventPromote, Ring: "canary", To: "c", Time: t0.Add(3 * time.Hour)},
		{Event: ledger.EventPromote, Ring: "stable", To: "b", Time: t0.Add(2 * time.Hour), NoImpact: true},
	}
	ov := read(t, r)
	if got := ov.Rings[0].SoakLeft; got != 22*time.Hour {
		t.Errorf("canary soak left = %v; want 22h (held e since t0+8h, now t0+10h)", got)
	}
	if got := ov.Rings[1].SoakLeft; got != 0 {
		t.Errorf("stable soak left = %v; want 0 (waived: no host changed)", got)
	}
}

// The last ring's soak holds nothing back: no ring takes its position.
func TestReadSoakLeftLastRing(t *testing.T) {
	r := fixture()
	st := r.State.(fakeState).st
	st.Rings[0].Ring.Soak = 24 * time.Hour
	st.Rings[1].Ring.Soak = 72 * time.Hour
	r.Ledger = fakeLedger{
		{Event: ledger.EventPromote, Ring: "stable", To: "b", Time: t0.Add(9 * time.Hour)},
		{Event: ledger.EventPromote, Ring: "canary", To: "e", Time: t0.Add(8 * time.Hour)},
	}
	ov := read(t, r)
	if got := ov.Rings[0].SoakLeft; got != 22*time.Hour {
		t.Errorf("canary soak left = %v; want 22h", got)
	}
	if got := ov.Rings[1].SoakLeft; got != 0 {
		t.Errorf("stable (the last ring) soak left = %v; want 0: nothing promotes from it", got)
	}
}

func TestReadFrozen(t *testing.T) {
	r := fixture()
	until := t0.Add(12 * time.Hour)
	r.State.(fakeState).st.Rings[1].Ring.Freeze = []freeze.Window{{Start: t0, End: until, Reason: "release week"}}
	ov := read(t, r)
	if ov.Rings[0].Frozen != nil {
		t.Errorf("canary frozen: %+v", ov.Rings[0].Frozen)
	}
	if fz := ov.Rings[1].Frozen; fz == nil || !fz.Until.Equal(until) || fz.Reason != "release week" {
		t.Errorf("stable frozen = %+v; want until %v for release week", fz, until)
	}
}

func TestMetrics(t *testing.T) {
	r := fixture()
	r.State.(fakeState).st.Rings[1].Ring.Freeze = []freeze.Window{{Start: t0, End: t0.Add(time.Hour * 24)}}
	r.State.(fakeState).st.Rings[1].Hold = &ring.Hold{Actor: "ops@x", Time: t0}
	got := read(t, r).Metrics()
	want := metrics.Snapshot{Time: t0.Add(10 * time.Hour), DevCommitAge: 4 * time.Hour, Rings: []metrics.Ring{
		// canary's hosts are unknown: no tally to add.
		{Name: "canary", PositionAge: 6 * time.Hour, Behind: 2},
		// stable (1 green, 1 red, 1 missing) + sbc (2 green); edge has no branch.
		{Name: "stable", PositionAge: 9 * time.Hour, Behind: 3, Green: 3, Red: 1, Missing: 1, PinnedGroups: 1, Frozen: true, Held: true},
	}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Metrics =\n%+v\nwant\n%+v", got, want)
	}
}

func TestMetricsWithoutPositions(t *testing.T) {
	r := fixture()
	st := r.State.(fakeState).st
	st.DevCommit = ""
	st.Rings = st.Rings[:1]
	st.Rings[0].Position, st.Rings[0].Groups = "", []ring.GroupState{group("canary", true, "")}
	got := read(t, r).Metrics()
	want := metrics.Snapshot{Time: t0.Add(10 * time.Hour), Rings: []metrics.Ring{{Name: "canary", PinnedGroups: 1}}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Metrics =\n%+v\nwant\n%+v", got, want)
	}
}

// abbrevs resolves abbreviated commits, as git does, to the history's.
type abbrevs struct {
	history
	full map[string]string
}

func (a abbrevs) Commit(rev string) (gitrepo.CommitInfo, error) {
	if c, ok := a.full[rev]; ok {
		rev = c
	}
	return a.history.Commit(rev)
}

// What pins each group (the config with the commit it names resolved, the
// ledger, both) and who holds a ring reach the overview as the state has
// them; an unpinned group has no pin, a ring nobody holds no hold.
func TestReadPinsAndHolds(t *testing.T) {
	r := fixture()
	r.Commits = abbrevs{history("abcdefg"), map[string]string{"a1b2c3d": "a"}}
	st := r.State.(fakeState).st
	at := t0.Add(time.Hour)
	hold := &ring.Hold{Actor: "ops@x", Time: at, Reason: "incident 42"}
	st.Rings[1].Hold = hold
	groups := st.Rings[1].Groups
	groups[1].Group.Pin = &ring.Pin{Config: "rings[1].groups[1].pin", Commit: "a1b2c3d", Actor: "ops@x", Time: at, Reason: "trade show"}
	groups[2].Group.Pinned, groups[2].Group.Pin = true, &ring.Pin{Config: "rings[1].groups[2].pin", Commit: "0000000"}
	ov := read(t, r)
	if ov.Rings[0].Hold != nil || ov.Rings[0].Groups[0].Pin != nil || ov.Rings[1].Groups[0].Pin != nil {
		t.Errorf("canary held by %+v, canary pinned by %+v, stable pinned by %+v; want none",
			ov.Rings[0].Hold, ov.Rings[0].Groups[0].Pin, ov.Rings[1].Groups[0].Pin)
	}
	if ov.Rings[1].Hold != hold {
		t.Errorf("stable held by %+v, want %+v", ov.Rings[1].Hold, hold)
	}
	want := ring.Pin{Config: "rings[1].groups[1].pin", Commit: "a", Actor: "ops@x", Time: at, Reason: "trade show"}
	if sbc := ov.Rings[1].Groups[1]; !sbc.Pinned || sbc.Pin == nil || *sbc.Pin != want {
		t.Errorf("sbc pinned %v by %+v, want %+v (its commit resolved)", sbc.Pinned, sbc.Pin, want)
	}
	if groups[1].Group.Pin.Commit != "a1b2c3d" {
		t.Errorf("the state's pin was changed: %+v", groups[1].Group.Pin)
	}
	// A commit the repository lacks is check's problem: shown as written.
	if edge := ov.Rings[1].Groups[2]; edge.Pin == nil || edge.Pin.Commit != "0000000" {
		t.Errorf("edge pinned by %+v, want the pin's commit as written", edge.Pin)
	}
}

// fakeObserver observes a fixed observation; RingHosts fails with err.
type fakeObserver struct {
	o   *fleet.Observation
	err error
}

func (f fakeObserver) RingHosts(context.Context, *fleet.State) ([]membership.Placement, error) {
	return nil, f.err
}

func (f fakeObserver) Observe(context.Context, *fleet.State, []membership.Placement) (*fleet.Observation, error) {
	return f.o, nil
}

// With observe:, the overview carries the observation and the age of the
// commit each host runs; the metrics count converged and unknown hosts
// per ring and say the source answered.
func TestObservedMetrics(t *testing.T) {
	r := fixture()
	r.Observer = fakeObserver{o: &fleet.Observation{
		Hosts: []fleet.HostObservation{
			{Host: "c1", Group: "canary", Ring: "canary", Commit: "e", AtRing: true},
			{Host: "s1", Group: "stable", Ring: "stable", Commit: "a"},
			{Host: "s2", Group: "stable", Ring: "stable", Commit: "zz"}, // not in the repository
			{Host: "s3", Group: "stable", Ring: "stable", Err: "unreachable", Unknown: true},
		},
		Rings: []fleet.RingObservation{
			{Ring: "canary", Hosts: []string{"c1"}, Converged: 1},
			{Ring: "stable", Hosts: []string{"s1", "s2", "s3"}, Unknown: 1},
		},
	}}
	ov := read(t, r)
	if ov.Observed == nil || len(ov.Observed.Running) != 2 || ov.Observed.Running["s1"].Age != 10*time.Hour {
		t.Fatalf("observed: %+v", ov.Observed)
	}
	m := ov.Metrics()
	if m.Rings[0].Converged != 1 || m.Rings[1].Unknown != 1 || m.Rings[1].Converged != 0 {
		t.Errorf("rings: %+v", m.Rings)
	}
	want := &metrics.Observe{Up: true, Hosts: []metrics.HostRunning{
		{Host: "c1", Group: "canary", Ring: "canary", CommitAge: 6 * time.Hour},
		{Host: "s1", Group: "stable", Ring: "stable", CommitAge: 10 * time.Hour},
	}}
	if fmt.Sprint(m.Observe) != fmt.Sprint(want) {
		t.Errorf("observe = %+v, want %+v", m.Observe, want)
	}

	// hosts that cannot be listed fail the observation, not the overview
	r.Observer = fakeObserver{err: errors.New("nixosConfigurations: boom")}
	ov = read(t, r)
	if ov.Observed == nil || ov.Observed.Err == nil || ov.Metrics().Observe.Up {
		t.Errorf("observed: %+v", ov.Observed)
	}
	// without observe: nothing observed
	r.Observer = nil
	if ov := read(t, r); ov.Observed != nil || ov.Metrics().Observe != nil {
		t.Errorf("not observed: %+v", ov.Observed)
	}
}
