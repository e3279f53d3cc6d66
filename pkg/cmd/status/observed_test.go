package status

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/iostreams"
	"github.com/ringflow/ringflow/pkg/overview"
)

// observedOverview is canary at c2 with lab-2 still on c1 since two hours,
// and stable with web-1 running a system built at no known commit.
func observedOverview(now time.Time, srcErr error) *overview.Overview {
	c1, c2 := strings.Repeat("1", 40), strings.Repeat("2", 40)
	lab2 := fleet.HostObservation{Host: "lab-2", Group: "canary", Ring: "canary", Commit: c1, Toplevel: "/nix/store/m1", Since: now.Add(-2 * time.Hour), GroupCommit: c2}
	web1 := fleet.HostObservation{Host: "web-1", Group: "stable", Ring: "stable", Toplevel: "/nix/store/hand-built", Unknown: true, GroupCommit: c1}
	o := &fleet.Observation{Source: "command", Err: srcErr, Rings: []fleet.RingObservation{
		{Ring: "canary", Position: c2, Hosts: []string{"lab-1", "lab-2"}, Converged: 1, Need: 2, Rule: "100%", Lagging: []fleet.HostObservation{lab2}},
		{Ring: "stable", Position: c1, Hosts: []string{"web-1"}, Unknown: 1, Lagging: []fleet.HostObservation{web1}},
	}}
	if srcErr != nil {
		o.Rings[0].Converged, o.Rings[0].Unknown, o.Rings[0].Lagging, o.Rings[1].Lagging = 0, 2, nil, nil
	}
	return &overview.Overview{Time: now, Dev: overview.Dev{Branch: "dev"}, Observed: &overview.Observed{Observation: o},
		Rings: []overview.Ring{
			{Name: "canary", Source: "dev", Position: overview.Commit{Hash: c2}},
			{Name: "stable", Source: "canary", Position: overview.Commit{Hash: c1}},
		}}
}

func TestPrintObserved(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		tty  bool
		want string
	}{
		{false, "observed\tcanary\t1/2\t100%\t0\n" +
			"lagging\tcanary\tlab-2\t" + strings.Repeat("1", 40) + "\t2026-12-07T10:00:00Z\tbehind its ring\n" +
			"observed\tstable\t0/1\t-\t1\n" +
			"lagging\tstable\tweb-1\t-\t-\truns /nix/store/hand-built, built at no commit ringflow knows\n"},
		{true, "\n" +
			"RING    HOSTS                  CONVERGE\n" +
			"canary  1/2 run it             100% (2 of 2)\n" +
			"stable  0/1 run it, 1 unknown  -\n" +
			"\nNot running their ring's position:\n" +
			"  lab-2 (canary) runs 1111111 since 2h ago\n" +
			"  web-1 (stable) runs /nix/store/hand-built (at no commit ringflow knows)\n"},
	} {
		ios, _, out, _ := iostreams.Test()
		ios.SetStdoutTTY(tt.tty)
		s := toJSON(observedOverview(now, nil), ios)
		if err := printObserved(ios, s); err != nil {
			t.Fatal(err)
		}
		if out.String() != tt.want {
			t.Errorf("tty=%v:\n%s\nwant\n%s", tt.tty, out, tt.want)
		}
		for _, l := range strings.Split(out.String(), "\n") {
			if tt.tty && len([]rune(l)) > 80 {
				t.Errorf("tty=%v: wider than 80 columns: %q", tt.tty, l)
			}
		}
	}
	// the pipeline line says it too
	ios, _, _, _ := iostreams.Test()
	s := toJSON(observedOverview(now, nil), ios)
	if p := pipeline(s, ios.ColorScheme(), 200); !strings.Contains(p, "canary 2222222 (1/2 run it)") || !strings.Contains(p, "stable 1111111 (0/1 run it)") {
		t.Errorf("pipeline: %s", p)
	}
}

// A source that fails as a whole is named; status still prints.
func TestPrintObservedFailed(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	failed := errors.New("observe: command fleet-running: exit status 1 (check observe.command)")
	ios, _, out, _ := iostreams.Test()
	s := toJSON(observedOverview(now, failed), ios)
	if err := printObserved(ios, s); err != nil {
		t.Fatal(err)
	}
	want := "observe-error\t" + failed.Error() + "\nobserved\tcanary\t?/2\t100%\t2\nobserved\tstable\t?/1\t-\t1\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`"observe_error":"observe: command fleet-running: exit status 1 (check observe.command)"`,
		`"observed":{"hosts":2,"converged":0,"unknown":2,"need":2,"rule":"100%","lagging":[]}`} {
		if !strings.Contains(string(b), w) {
			t.Errorf("JSON lacks %s:\n%s", w, b)
		}
	}
}

func TestObservedJSON(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	ios, _, _, _ := iostreams.Test()
	b, err := json.Marshal(toJSON(observedOverview(now, nil), ios))
	if err != nil {
		t.Fatal(err)
	}
	want := `"observed":{"hosts":2,"converged":1,"unknown":0,"need":2,"rule":"100%","lagging":[{"host":"lab-2","commit":"` +
		strings.Repeat("1", 40) + `","toplevel":"/nix/store/m1","since":"2026-12-07T10:00:00Z","error":""}]}`
	if !strings.Contains(string(b), want) || strings.Contains(string(b), "observe_error") {
		t.Errorf("JSON:\n%s\nwant %s", b, want)
	}
	// without observe: no observed object
	ov := observedOverview(now, nil)
	ov.Observed = nil
	if b, _ := json.Marshal(toJSON(ov, ios)); strings.Contains(string(b), "observed") {
		t.Errorf("JSON without observe: %s", b)
	}
}
