//go:build linux

// Package observe_test drives the fleet as its hosts see it, for real:
// simulated hosts (test/hostsim, one process each, doing what
// system.autoUpgrade does with the real git and the real nix) follow their
// group's branch of a generated fleet's remote and export what they run; a
// real Prometheus (Debian's, test/promserver) scrapes them on loopback; and
// ringflow, built from this tree, moves the branches. What Prometheus
// answers over its HTTP API is checked against nix's own evaluation of
// each host at its branch's commit. ssh_test.go reads the same hosts
// through the ssh source instead, against a real sshd (test/sshd).
package observe_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ringflow/ringflow/test/hostsim"
	"github.com/ringflow/ringflow/test/promserver"
)

// threeRings puts lab-1 in canary, web-1 in early and the other hosts in
// stable; no soak, so each promotion may follow the last at once.
const threeRings = `rings:
  - name: canary
    hosts: [lab-1]
    soak: 0s
  - name: early
    hosts: [web-1]
    soak: 0s
  - name: stable
    hosts: ["*"]
    soak: 0s
`

// running is the toplevel each host runs, by Prometheus: host label ->
// the toplevel label of ringflow_host_toplevel_info.
func running(ctx context.Context, prom *promserver.Server) (map[string]string, error) {
	samples, err := prom.Query(ctx, hostsim.ToplevelMetric)
	if err != nil {
		return nil, err
	}
	got := map[string]string{}
	for _, s := range samples {
		h := s.Metric["host"]
		if _, dup := got[h]; dup {
			return nil, fmt.Errorf("host %s has two %s series: %+v", h, hostsim.ToplevelMetric, samples)
		}
		if s.Value != 1 {
			return nil, fmt.Errorf("host %s: %s is %v, want 1", h, hostsim.ToplevelMetric, s.Value)
		}
		got[h] = s.Metric["toplevel"]
	}
	return got, nil
}

// deployed is comin's last deployment of each host, by Prometheus: host
// label -> "commit status".
func deployed(ctx context.Context, prom *promserver.Server) (map[string]string, error) {
	samples, err := prom.Query(ctx, hostsim.CominDeploymentMetric)
	if err != nil {
		return nil, err
	}
	got := map[string]string{}
	for _, s := range samples {
		got[s.Metric["host"]] = s.Metric["commit_id"] + " " + s.Metric["status"]
	}
	return got, nil
}

// switchedAt is when host switched, by Prometheus.
func switchedAt(ctx context.Context, prom *promserver.Server, host string) (time.Time, error) {
	samples, err := prom.Query(ctx, fmt.Sprintf("%s{host=%q}", hostsim.SwitchedMetric, host))
	if err != nil {
		return time.Time{}, err
	}
	if len(samples) != 1 {
		return time.Time{}, fmt.Errorf("%s of %s: %d series, want 1", hostsim.SwitchedMetric, host, len(samples))
	}
	return time.Unix(int64(samples[0].Value), 0), nil
}

// equal compares the hosts' view with want, for the hosts want names.
func equal(got, want map[string]string) (bool, string) {
	for h, w := range want {
		if got[h] != w {
			return false, fmt.Sprintf("%s: got %q, want %q (all: %v)", h, got[h], w, got)
		}
	}
	return true, ""
}

// TestHostsFollowTheirBranches: simulated hosts on every ring — lab-1 on
// canary, web-1 on early (a host whose switches fail after the first),
// web-2 and web-3 on stable in comin's format (web-3's switches fail after
// the first too) — scraped by a real Prometheus. Each
// first runs its branch's commit, as nix evaluates it. Then a new commit
// goes to canary: lab-1's metric changes to nix's toplevel at it, within a
// bounded wait, while the others stay. It goes on to early: web-1 fetches
// and builds it, its switch fails, and its metric keeps the old system. On
// to stable: comin's metric of web-2 names the new commit, done; web-3's
// names it, failed.
func TestHostsFollowTheirBranches(t *testing.T) {
	requireTools(t)
	ctx := context.Background()
	start := time.Now()
	f := newFleet(t, threeRings, "lab-1", "web-1", "web-2", "web-3")
	c0 := f.branch("dev")
	for _, b := range []string{"canary", "early", "stable"} {
		if got := f.branch(b); got != c0 {
			t.Fatalf("after init, %s is at %s, want dev's %s", b, got, c0)
		}
	}
	hosts := []*host{
		f.startHost("lab-1", "canary"),
		f.startHost("web-1", "early", "-never-switch"),
		f.startHost("web-2", "stable", "-comin"),
		f.startHost("web-3", "stable", "-comin", "-never-switch"),
	}
	var targets []promserver.Target
	for _, h := range hosts {
		targets = append(targets, promserver.Target{Addr: h.Addr, Labels: map[string]string{"host": h.Name}})
	}
	prom := promserver.Start(t, targets...)
	t.Logf("%s at %s; fleet and hosts ready after %s", prom.Version, prom.URL, time.Since(start).Round(time.Millisecond))
	prom.WaitTargetsUp(30 * time.Second)

	// Every host runs its branch's commit.
	want := map[string]string{"lab-1": f.toplevel("lab-1", c0), "web-1": f.toplevel("web-1", c0)}
	wantComin := map[string]string{"web-2": c0 + " " + hostsim.CominDone, "web-3": c0 + " " + hostsim.CominDone}
	took := waitFor(t, "every host runs its branch's commit", 2*time.Minute, func() (bool, string) {
		got, err := running(ctx, prom)
		if err != nil {
			return false, err.Error()
		}
		if ok, why := equal(got, want); !ok {
			return false, why
		}
		if len(got) != 2 {
			return false, fmt.Sprintf("%s of %d hosts, want lab-1 and web-1's only: %v", hostsim.ToplevelMetric, len(got), got)
		}
		dep, err := deployed(ctx, prom)
		if err != nil {
			return false, err.Error()
		}
		return equal(dep, wantComin)
	})
	t.Logf("hosts on their branches' commit %s, seen by prometheus %s after its targets were up", c0[:12], took.Round(time.Millisecond))
	old := map[string]string{"lab-1": want["lab-1"], "web-1": want["web-1"]}

	// A new commit on dev (every host's toplevel changes), built and
	// promoted to canary.
	if _, err := f.fg.BumpNixpkgs(ctx); err != nil {
		t.Fatal(err)
	}
	c1, err := f.fg.Relock(ctx, "flake.lock: update nixpkgs")
	if err != nil {
		t.Fatal(err)
	}
	f.ringflow("build")
	before := time.Now()
	f.ringflow("promote", "canary")
	if got := f.branch("canary"); got != c1 {
		t.Fatalf("canary is at %s after the promotion, want %s", got, c1)
	}
	want["lab-1"] = f.toplevel("lab-1", c1)
	if want["lab-1"] == old["lab-1"] {
		t.Fatalf("lab-1's toplevel is %s at both commits: the bump changed nothing", want["lab-1"])
	}
	took = waitFor(t, "lab-1 runs canary's new commit", time.Minute, func() (bool, string) {
		got, err := running(ctx, prom)
		if err != nil {
			return false, err.Error()
		}
		if got["web-1"] != old["web-1"] {
			t.Fatalf("web-1 (early) changed to %s while only canary moved", got["web-1"])
		}
		return equal(got, want)
	})
	t.Logf("lab-1 switched to %s: prometheus saw it %s after the promotion", want["lab-1"], took.Round(time.Millisecond))
	if at, err := switchedAt(ctx, prom, "lab-1"); err != nil || at.Before(before.Truncate(time.Second)) {
		t.Errorf("lab-1 switched at %v (%v), want after the promotion at %v", at, err, before)
	}
	if dep, err := deployed(ctx, prom); err != nil || dep["web-2"] != c0+" "+hostsim.CominDone {
		t.Errorf("web-2 (stable) deployed %q (%v) while only canary moved, want %s", dep["web-2"], err, c0)
	}
	// The textfile says what /metrics says.
	if b, err := os.ReadFile(filepath.Join(hosts[0].State, hostsim.TextfileName)); err != nil ||
		!strings.Contains(string(b), fmt.Sprintf("%s{toplevel=%q} 1\n", hostsim.ToplevelMetric, want["lab-1"])) {
		t.Errorf("lab-1's textfile (%v):\n%s", err, b)
	}

	// On to early: web-1 fetches and builds the commit, and its switch
	// fails. Prometheus keeps seeing the old system.
	f.ringflow("promote", "early")
	failed := fmt.Sprintf("switch to %s (commit %s) failed (-never-switch)", f.toplevel("web-1", c1), c1[:12])
	waitFor(t, "web-1 tries early's new commit", time.Minute, func() (bool, string) {
		return strings.Contains(hosts[1].Log(), failed), "its log lacks " + failed
	})
	time.Sleep(3 * promserver.ScrapeInterval) // scraped since the failure
	got, err := running(ctx, prom)
	if err != nil {
		t.Fatal(err)
	}
	if ok, why := equal(got, map[string]string{"lab-1": want["lab-1"], "web-1": old["web-1"]}); !ok {
		t.Errorf("after web-1's switch failed: %s", why)
	}

	// On to stable: comin's last deployment of web-2 is the new commit,
	// and web-3's too, failed.
	f.ringflow("promote", "stable")
	wantComin["web-2"] = c1 + " " + hostsim.CominDone
	wantComin["web-3"] = c1 + " " + hostsim.CominFailed
	took = waitFor(t, "web-2 deploys stable's new commit", time.Minute, func() (bool, string) {
		dep, err := deployed(ctx, prom)
		if err != nil {
			return false, err.Error()
		}
		return equal(dep, wantComin)
	})
	t.Logf("web-2 deployed %s and web-3 failed to: prometheus saw it %s after the promotion; whole test %s", c1[:12], took.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}
