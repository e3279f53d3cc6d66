//go:build linux

package observe_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ringflow/ringflow/test/testenv"

	"github.com/ringflow/ringflow/pkg/fleetgen"
	"github.com/ringflow/ringflow/test/promserver"
)

// healthRings: canary (lab-1, lab-2) feeds early (web-1); what canary does
// when its hosts turn unhealthy is %s (on-unhealthy). %s: the URL.
const healthRings = `observe:
  prometheus:
    url: %q
    host-label: host
rings:
  - name: canary
    hosts: [lab-1, lab-2]
    soak: 0s
    auto: true
    on-unhealthy: %s
  - name: early
    hosts: [web-1]
    soak: 0s
    auto: true
`

// healthFleet is a fleet whose three hosts run as simulated hosts scraped
// by a real Prometheus, with healthRings as its config.
type healthFleet struct {
	*fleet
	prom *promserver.Server
	c0   string
}

func newHealthFleet(t *testing.T, onUnhealthy string) *healthFleet {
	f := newFleet(t, "rings:\n  - name: canary\n    hosts: [lab-1, lab-2]\n  - name: early\n    hosts: [web-1]\n", "lab-1", "lab-2", "web-1")
	c0 := f.branch("dev")
	f.ringflow("build")
	var targets []promserver.Target
	for _, h := range []struct{ name, branch string }{{"lab-1", "canary"}, {"lab-2", "canary"}, {"web-1", "early"}} {
		sim := f.startHost(h.name, h.branch)
		targets = append(targets, promserver.Target{Addr: sim.Addr, Labels: map[string]string{"host": h.name}})
	}
	prom := promserver.Start(t, targets...)
	prom.WaitTargetsUp(30 * time.Second)
	if err := os.WriteFile(filepath.Join(f.fg.Repo, "ringflow.yaml"), fmt.Appendf(nil, healthRings, prom.URL, onUnhealthy), 0o644); err != nil {
		t.Fatal(err)
	}
	return &healthFleet{fleet: f, prom: prom, c0: c0}
}

// failedUnits is each host's failed units, by Prometheus.
func (f *healthFleet) failedUnits(ctx context.Context) (map[string]string, error) {
	samples, err := f.prom.Query(ctx, `node_systemd_unit_state{state="failed"} == 1`)
	if err != nil {
		return nil, err
	}
	got := map[string]string{}
	for _, s := range samples {
		got[s.Metric["host"]] += s.Metric["name"]
	}
	return got, nil
}

// badCommit commits hosts.json with lab-1's nginx failing once it runs
// the commit (its build stays green), builds it and promotes canary.
func (f *healthFleet) badCommit(ctx context.Context) string {
	f.t.Helper()
	c1, err := f.fg.SetHosts(ctx, []fleetgen.Host{{Name: "lab-1", FailedUnits: []string{"nginx.service"}}, {Name: "lab-2"}, {Name: "web-1"}},
		"lab-1: a module change that breaks nginx")
	if err != nil {
		f.t.Fatal(err)
	}
	f.ringflow("build")
	f.ringflow("promote", "canary")
	if got := f.branch("canary"); got != c1 {
		f.t.Fatalf("canary at %s, want the bad commit %s", got, c1)
	}
	return c1
}

// waitNginxFails waits until Prometheus says lab-1's nginx failed.
func (f *healthFleet) waitNginxFails(ctx context.Context) time.Time {
	f.t.Helper()
	waitFor(f.t, "lab-1 reports nginx.service failed", 2*time.Minute, func() (bool, string) {
		got, err := f.failedUnits(ctx)
		if err != nil {
			return false, err.Error()
		}
		return got["lab-1"] == "nginx.service", fmt.Sprintf("failed units %v", got)
	})
	return time.Now()
}

// history is the ledger's entries of ring, newest first.
func (f *healthFleet) history(ring string) []struct {
	Event, From, To, Reason string
} {
	f.t.Helper()
	var h []struct{ Event, From, To, Reason string }
	if err := json.Unmarshal([]byte(f.ringflow("history", ring, "-o", "json")), &h); err != nil {
		f.t.Fatal(err)
	}
	return h
}

// watcher is a running `ringflow watch`.
type watcher struct {
	cmd         *exec.Cmd
	out, errOut *testenv.Buffer // its looks (-o json); what it said on stderr
	exited      chan error
}

func (f *healthFleet) startWatch(interval string) *watcher {
	f.t.Helper()
	w := &watcher{out: &testenv.Buffer{}, errOut: &testenv.Buffer{}, exited: make(chan error, 1)}
	w.cmd = exec.Command(ringflowBin, "watch", "--interval", interval, "-o", "json")
	w.cmd.Dir, w.cmd.Env = f.fg.Repo, f.env
	w.cmd.Stdout, w.cmd.Stderr = w.out, w.errOut
	if err := w.cmd.Start(); err != nil {
		f.t.Fatal(err)
	}
	go func() { w.exited <- w.cmd.Wait() }()
	f.t.Cleanup(func() {
		w.cmd.Process.Kill()
		f.t.Logf("ringflow watch said:\n%s\nstderr:\n%s", w.out.String(), w.errOut.String())
	})
	return w
}

// look is one look of the watch, as -o json prints it.
type look struct {
	Stopped []struct {
		Ring, Action, Position, Before string
		Unhealthy                      []string
	}
	Converged []struct{ Ring, Commit string }
	Error     string
}

// looks are the looks the watch printed so far.
func (w *watcher) looks() []look {
	var ls []look
	dec := json.NewDecoder(strings.NewReader(w.out.String()))
	for {
		var l look
		if dec.Decode(&l) != nil {
			return ls
		}
		ls = append(ls, l)
	}
}

// stop sends SIGTERM and wants exit 0 at once.
func (w *watcher) stop(t *testing.T) {
	t.Helper()
	start := time.Now()
	w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-w.exited:
		if err != nil {
			t.Errorf("watch after SIGTERM: %v, want exit 0", err)
		}
		t.Logf("watch ended %s after SIGTERM", time.Since(start).Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		t.Errorf("watch still running 10s after SIGTERM")
	}
}

// TestUnhealthyCanaryRollsBack: a commit that builds green but fails
// lab-1's nginx reaches canary; the healthy gate keeps it from early,
// naming lab-1 and the unit; the running watch rolls canary back, forward,
// to c0 and holds it, within its interval; lab-1 converges back and is
// healthy; early never takes the commit; history says it all.
func TestUnhealthyCanaryRollsBack(t *testing.T) {
	requireTools(t)
	ctx := context.Background()
	f := newHealthFleet(t, "rollback")
	w := f.startWatch("2s")
	// Nothing but the watch writes while it runs, so that no one loses a
	// race to it (a promotion that did would say so and exit 1).
	waitFor(t, "the watch's first look", time.Minute, func() (bool, string) {
		return len(w.looks()) > 0, "it said: " + w.out.String()
	})
	c1 := f.badCommit(ctx)
	failedAt := f.waitNginxFails(ctx)

	c0tree := strings.TrimSpace(f.run("git", "--git-dir", f.fg.Remote, "rev-parse", f.c0+"^{tree}"))
	waitFor(t, "the watch rolls canary back to c0's tree", time.Minute, func() (bool, string) {
		tree := strings.TrimSpace(f.run("git", "--git-dir", f.fg.Remote, "rev-parse", "refs/heads/canary^{tree}"))
		return tree == c0tree, "canary's tree is " + tree
	})
	t.Logf("rolled back %s after Prometheus first showed the failed unit", time.Since(failedAt).Round(time.Millisecond))
	// The look that did it says so once it is over.
	waitFor(t, "the watch says it rolled canary back from c1 to c0 for lab-1's nginx", 30*time.Second, func() (bool, string) {
		for _, l := range w.looks() {
			for _, st := range l.Stopped {
				if st.Ring == "canary" && st.Action == "rollback" && st.Position == c1 && st.Before == f.c0 &&
					len(st.Unhealthy) == 1 && st.Unhealthy[0] == "lab-1: failed units: nginx.service" {
					return true, ""
				}
			}
		}
		return false, "it said:\n" + w.out.String()
	})

	// lab-1 switches back and is healthy again; early never took c1.
	want := f.toplevel("lab-1", f.c0)
	waitFor(t, "lab-1 runs c0's system again, nginx not failed", 2*time.Minute, func() (bool, string) {
		got, err := running(ctx, f.prom)
		if err != nil {
			return false, err.Error()
		}
		units, err := f.failedUnits(ctx)
		if err != nil {
			return false, err.Error()
		}
		return got["lab-1"] == want && units["lab-1"] == "", fmt.Sprintf("lab-1 runs %s, failed units %v", got["lab-1"], units)
	})
	w.stop(t)
	f.ringflow("promote", "early") // nothing to take: canary carries c0 again
	if got := f.branch("early"); got != f.c0 {
		t.Errorf("early at %s, want c0 %s: it took the bad commit", got, f.c0)
	}
	// Held: canary takes nothing, c1 included, until a person releases it.
	if _, stderr, err := f.try(ringflowBin, "promote", "canary"); err == nil || !strings.Contains(stderr, "gate hold") {
		t.Errorf("promote canary while held: %v\n%s", err, stderr)
	}
	h := f.history("canary")
	if len(h) < 2 || h[0].Event != "hold" || h[1].Event != "rollback" || h[1].From != c1 || h[1].To != f.c0 ||
		!strings.Contains(h[0].Reason, "ringflow watch: 1 of 2 host(s) unhealthy on "+c1[:12]) || !strings.Contains(h[0].Reason, "lab-1: failed units: nginx.service") {
		t.Errorf("history of canary: %+v", h)
	}
}

// TestUnhealthyCanaryHeldUntilReleased: with on-unhealthy: hold (the
// default), the cycle holds canary at the bad commit; nothing moves on;
// a person fixes the commit and releases canary, which takes the fix, and
// early then takes it once canary's hosts are healthy.
func TestUnhealthyCanaryHeldUntilReleased(t *testing.T) {
	requireTools(t)
	ctx := context.Background()
	f := newHealthFleet(t, "hold")
	c1 := f.badCommit(ctx)
	f.waitNginxFails(ctx)

	_, stderr, err := f.try(ringflowBin, "promote", "early")
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Errorf("promote early with lab-1 unhealthy: %v, want exit 3", err)
	}
	if !strings.Contains(stderr, "gate healthy") || !strings.Contains(stderr, "1 of 2 host(s) of canary are unhealthy, 0 allowed (max-unhealthy: 0): lab-1: failed units: nginx.service") {
		t.Errorf("promote early refusal lacks the healthy gate naming lab-1's unit:\n%s", stderr)
	}

	out := f.ringflow("cycle")
	for _, w := range []string{"canary  held: ringflow cycle: 1 of 2 host(s) unhealthy on " + c1[:12], "early   waits: held by healthy"} {
		if !strings.Contains(out, w) {
			t.Errorf("cycle output lacks %q:\n%s", w, out)
		}
	}
	if f.branch("canary") != c1 || f.branch("early") != f.c0 {
		t.Fatalf("after the cycle: canary %s, early %s; want canary held on c1, early on c0", f.branch("canary"), f.branch("early"))
	}
	// The next look leaves a held ring alone: nothing is recorded twice.
	before := len(f.history("canary"))
	f.ringflow("watch", "--once")
	if n := len(f.history("canary")); n != before {
		t.Errorf("watch --once on a held ring recorded %d more entries", n-before)
	}

	// The fix, then a person's release: canary takes it, early follows.
	c2, err := f.fg.SetHosts(ctx, []fleetgen.Host{{Name: "lab-1"}, {Name: "lab-2"}, {Name: "web-1"}}, "lab-1: nginx fixed")
	if err != nil {
		t.Fatal(err)
	}
	f.ringflow("build")
	f.ringflow("release", "canary", "--reason", "nginx fixed in "+c2[:12])
	f.ringflow("watch", "--once") // released on c1: left to the person, though lab-1 is still unhealthy
	if h := f.history("canary"); h[0].Event != "release" {
		t.Errorf("watch held canary again after the release: %+v", h[0])
	}
	f.ringflow("promote", "canary")
	waitFor(t, "lab-1 runs the fix, nginx not failed", 2*time.Minute, func() (bool, string) {
		units, err := f.failedUnits(ctx)
		if err != nil {
			return false, err.Error()
		}
		got, err := running(ctx, f.prom)
		if err != nil {
			return false, err.Error()
		}
		want := f.toplevel("lab-1", c2)
		return got["lab-1"] == want && got["lab-2"] == f.toplevel("lab-2", c2) && units["lab-1"] == "",
			fmt.Sprintf("lab-1 runs %s, failed units %v", got["lab-1"], units)
	})
	time.Sleep(3 * promserver.ScrapeInterval)
	f.ringflow("promote", "early")
	if got := f.branch("early"); got != c2 {
		t.Errorf("early at %s, want the fix %s", got, c2)
	}
}
