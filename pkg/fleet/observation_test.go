package fleet

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/ringflow/ringflow/pkg/config"
	"github.com/ringflow/ringflow/pkg/membership"
	"github.com/ringflow/ringflow/pkg/observe"
	"github.com/ringflow/ringflow/pkg/ring"
)

// fakeOuts is the evidence: commit -> host -> out path.
type fakeOuts map[string]map[string]string

func (f fakeOuts) Out(commit, host string) string { return f[commit][host] }

func (f fakeOuts) Commits(host, out string) []string {
	var cs []string
	for c, hosts := range f {
		if out != "" && hosts[host] == out {
			cs = append(cs, c)
		}
	}
	slices.Sort(cs)
	return cs
}

// canary (lab-1, lab-2; converge 100%) at c2, stable (web-1, sbc-1 in a
// group pinned at c1; no converge) at c1.
func observeFixture() (*config.Config, *State, []membership.Placement, fakeOuts) {
	cfg := &config.Config{Observe: &config.Observe{Command: []string{"fleet-running"}}, Rings: []config.Ring{
		{Name: "canary", Converge: config.Converge{Share: 100}},
		{Name: "stable"},
	}}
	st := &State{Rings: []RingState{
		{Ring: cfg.Rings[0], Position: "c2", Groups: []ring.GroupState{{Group: ring.Group{Name: "canary"}, Commit: "c2"}}},
		{Ring: cfg.Rings[1], Position: "c1", Groups: []ring.GroupState{
			{Group: ring.Group{Name: "stable"}, Commit: "c1"}, {Group: ring.Group{Name: "field"}, Commit: "c0"}}},
	}}
	ps := []membership.Placement{
		{Host: "lab-1", Group: "canary", Ring: "canary"},
		{Host: "lab-2", Group: "canary", Ring: "canary"},
		{Host: "sbc-1", Group: "field", Ring: "stable"},
		{Host: "web-1", Group: "stable", Ring: "stable"},
	}
	outs := fakeOuts{
		"c0": {"lab-1": "/nix/store/l0", "lab-2": "/nix/store/m0", "web-1": "/nix/store/w0", "sbc-1": "/nix/store/s0"},
		"c1": {"lab-1": "/nix/store/l1", "lab-2": "/nix/store/m0", "web-1": "/nix/store/w1", "sbc-1": "/nix/store/s1"},
		"c2": {"lab-1": "/nix/store/l2", "lab-2": "/nix/store/m2", "web-1": "/nix/store/w2", "sbc-1": "/nix/store/s2"},
	}
	return cfg, st, ps, outs
}

func TestObserve(t *testing.T) {
	cfg, st, ps, outs := observeFixture()
	since := time.Date(2026, 12, 7, 4, 40, 0, 0, time.UTC)
	runs := map[string]observe.Run{
		"lab-1": {Host: "lab-1", Toplevel: "/nix/store/l2"},
		"lab-2": {Host: "lab-2", Toplevel: "/nix/store/m0", Since: since}, // c0 and c1 give it this
		"web-1": {Host: "web-1", Toplevel: "/nix/store/hand-built"},
		// sbc-1: the source said nothing of it
	}
	o, err := Observe(context.Background(), runs, nil, outs, cfg, st, ps)
	if err != nil {
		t.Fatal(err)
	}
	if o.Source != "command" || o.Err != nil {
		t.Errorf("source %q, err %v", o.Source, o.Err)
	}
	wantHosts := []HostObservation{
		{Host: "lab-1", Group: "canary", Ring: "canary", Commit: "c2", Toplevel: "/nix/store/l2", GroupCommit: "c2", AtGroup: true, AtRing: true},
		{Host: "lab-2", Group: "canary", Ring: "canary", Commit: "c0", Toplevel: "/nix/store/m0", Since: since, GroupCommit: "c2"},
		{Host: "sbc-1", Group: "field", Ring: "stable", Err: errNotSaid, Unknown: true, GroupCommit: "c0"},
		{Host: "web-1", Group: "stable", Ring: "stable", Toplevel: "/nix/store/hand-built", Unknown: true, GroupCommit: "c1"},
	}
	if !reflect.DeepEqual(o.Hosts, wantHosts) {
		t.Errorf("hosts:\n%+v\nwant\n%+v", o.Hosts, wantHosts)
	}
	wantRings := []RingObservation{
		{Ring: "canary", Position: "c2", Hosts: []string{"lab-1", "lab-2"}, Converged: 1, Need: 2, Rule: "100%", Lagging: wantHosts[1:2]},
		{Ring: "stable", Position: "c1", Hosts: []string{"sbc-1", "web-1"}, Unknown: 2, Lagging: wantHosts[2:]},
	}
	if !reflect.DeepEqual(o.Rings, wantRings) {
		t.Errorf("rings:\n%+v\nwant\n%+v", o.Rings, wantRings)
	}
}

// A host runs its ring's position when its toplevel is the position's,
// whichever commit the source names; a pinned group's host runs its
// group's commit, not the ring's, and lags the ring.
func TestObserveSameToplevel(t *testing.T) {
	cfg, st, ps, outs := observeFixture()
	outs["c2"]["lab-2"] = "/nix/store/m0" // c2 changed nothing for lab-2
	runs := map[string]observe.Run{
		"lab-1": {Host: "lab-1", Commit: "c2"},
		"lab-2": {Host: "lab-2", Toplevel: "/nix/store/m0"},
		"sbc-1": {Host: "sbc-1", Toplevel: "/nix/store/s0"},
		"web-1": {Host: "web-1", Err: "unreachable"},
	}
	o, err := Observe(context.Background(), runs, nil, outs, cfg, st, ps)
	if err != nil {
		t.Fatal(err)
	}
	canary, stable := o.Rings[0], o.Rings[1]
	if canary.Converged != 2 || canary.Unknown != 0 || len(canary.Lagging) != 0 {
		t.Errorf("canary: %+v", canary)
	}
	if stable.Converged != 0 || stable.Unknown != 1 || len(stable.Lagging) != 2 {
		t.Errorf("stable: %+v", stable)
	}
	if sbc := o.Hosts[2]; !sbc.AtGroup || sbc.AtRing || sbc.Commit != "c0" {
		t.Errorf("sbc-1 on its pinned group's commit: %+v", sbc)
	}
	if web := o.Hosts[3]; web.Err != "unreachable" || !web.Unknown {
		t.Errorf("web-1: %+v", web)
	}
}

// A source that fails as a whole is the observation's error: every host
// unknown, none lagging by name, the rings still counted.
func TestObserveSourceFailed(t *testing.T) {
	cfg, st, ps, _ := observeFixture()
	failed := errors.New("observe: command fleet-running: exit status 1")
	o, err := Observe(context.Background(), nil, failed, nil, cfg, st, ps)
	if err != nil {
		t.Fatal(err)
	}
	if o.Err != failed {
		t.Errorf("err %v", o.Err)
	}
	for _, r := range o.Rings {
		if r.Converged != 0 || r.Unknown != 2 || r.Lagging != nil || len(r.Hosts) != 2 {
			t.Errorf("%+v", r)
		}
	}
	if o.Rings[0].Need != 2 || o.Rings[0].Rule != "100%" {
		t.Errorf("canary's need: %+v", o.Rings[0])
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Observe(ctx, nil, nil, fakeOuts{}, cfg, st, ps); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
