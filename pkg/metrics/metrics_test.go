package metrics

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func snapshot() Snapshot {
	return Snapshot{
		Time:         time.Unix(1790000000, 0),
		Cycle:        &Cycle{Success: true, Duration: 12 * time.Second, Moved: 2, Red: 1},
		DevCommitAge: time.Hour,
		Rings: []Ring{
			{Name: "canary", PositionAge: 30 * time.Minute, SoakLeft: 0, Green: 2},
			{Name: `odd "ring"`, PositionAge: 2 * time.Hour, Behind: 3, SoakLeft: 20 * time.Hour, Green: 5, Red: 1, Missing: 2, PinnedGroups: 1, Frozen: true, Held: true},
		},
	}
}

func TestRender(t *testing.T) {
	out := string(Render(snapshot()))
	for _, want := range []string{
		"# TYPE ringflow_cycle_success gauge\nringflow_cycle_success 1\n",
		`ringflow_ring_hosts{ring="odd \"ring\"",status="red"} 1`,
		`ringflow_ring_soak_left_seconds{ring="odd \"ring\""} 72000`,
		`ringflow_ring_pinned_groups{ring="odd \"ring\""} 1`,
		`ringflow_ring_frozen{ring="canary"} 0`,
		"# HELP ringflow_ring_held 1 while the ring is held (ringflow hold) until a person releases it.\n# TYPE ringflow_ring_held gauge\n" +
			`ringflow_ring_held{ring="canary"} 0` + "\n" + `ringflow_ring_held{ring="odd \"ring\""} 1` + "\n",
		"ringflow_cycle_timestamp_seconds 1.79e+09",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "ringflow_observe_up") || strings.Contains(out, "converged") {
		t.Errorf("observe metrics without observe:\n%s", out)
	}
	// Without a cycle there are no cycle metrics.
	s := snapshot()
	s.Cycle = nil
	if strings.Contains(string(Render(s)), "ringflow_cycle_") {
		t.Error("cycle metrics written outside a cycle")
	}
}

// With observe:, converged and unknown hosts per ring, each host's
// running commit's age and whether the source answered.
func TestRenderObserved(t *testing.T) {
	s := observedSnapshot()
	out := string(Render(s))
	for _, want := range []string{
		"# HELP ringflow_ring_hosts_converged Hosts of the ring that run its position, as observed (observe:).\n" +
			"# TYPE ringflow_ring_hosts_converged gauge\n" +
			`ringflow_ring_hosts_converged{ring="canary"} 1` + "\n" + `ringflow_ring_hosts_converged{ring="odd \"ring\""} 4` + "\n",
		`ringflow_ring_hosts_unknown{ring="odd \"ring\""} 2` + "\n",
		`ringflow_host_running_commit_age_seconds{host="lab-2",group="canary",ring="canary"} 7200` + "\n",
		"# TYPE ringflow_observe_up gauge\nringflow_observe_up 1\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "ringflow_ring_hosts_unhealthy") {
		t.Errorf("unhealthy hosts shown though health was not read:\n%s", out)
	}
	s.Observe.Health, s.Rings[0].Unhealthy = true, 1
	if out = string(Render(s)); !strings.Contains(out, "# TYPE ringflow_ring_hosts_unhealthy gauge\n"+`ringflow_ring_hosts_unhealthy{ring="canary"} 1`+"\n") {
		t.Errorf("health read: no unhealthy hosts per ring:\n%s", out)
	}
	s.Observe = &Observe{Up: false}
	out = string(Render(s))
	if !strings.Contains(out, "ringflow_observe_up 0\n") || strings.Contains(out, "ringflow_host_running_commit_age_seconds") {
		t.Errorf("source down:\n%s", out)
	}
}

func observedSnapshot() Snapshot {
	s := snapshot()
	s.Rings[0].Converged = 1
	s.Rings[1].Converged, s.Rings[1].Unknown = 4, 2
	s.Observe = &Observe{Up: true, Hosts: []HostRunning{{Host: "lab-2", Group: "canary", Ring: "canary", CommitAge: 2 * time.Hour}}}
	return s
}

// promtool, from Debian's prometheus package, is the oracle.
func TestPromtoolAccepts(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool is not installed but CI is set")
		}
		t.Skip("promtool not installed (Debian: apt-get install prometheus)")
	}
	path := filepath.Join(t.TempDir(), "ringflow.prom")
	if err := Write(path, observedSnapshot()); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = f
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

func TestWriteIsAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ringflow.prom")
	if err := os.WriteFile(path, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, snapshot()); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), "# HELP") {
		t.Errorf("file = %q", data)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644 so node_exporter can read it", fi.Mode())
	}
	if err := Write(filepath.Join(dir, "no-such-dir", "x.prom"), snapshot()); err == nil {
		t.Error("Write into a missing directory: want an error")
	}
}
