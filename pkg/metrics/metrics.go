// Package metrics renders where every ring stands as a Prometheus text
// file for node_exporter's textfile collector, and writes it atomically so
// the collector never reads half a file.
package metrics

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Snapshot is what one run knows.
type Snapshot struct {
	Time         time.Time
	Cycle        *Cycle // nil when not written by a cycle
	DevCommitAge time.Duration
	Rings        []Ring
	// Observe is what the hosts run (observe:); nil when the fleet is not
	// observed, and the observed families are then left out.
	Observe *Observe
}

// Observe is what the observation of the hosts found.
type Observe struct {
	Up bool // the source answered
	// Health: the hosts' health was read (the cycle's guard), and each
	// Ring's Unhealthy is shown.
	Health bool
	Hosts  []HostRunning // hosts whose running commit is known
}

// HostRunning is the commit one host runs.
type HostRunning struct {
	Host, Group, Ring string
	CommitAge         time.Duration // now minus the committer time of the commit it runs
}

// Cycle is how the nightly cycle went.
type Cycle struct {
	Success  bool
	Duration time.Duration
	Moved    int // rings that moved
	Red      int // hosts red in its build
}

// Ring is one ring's state.
type Ring struct {
	Name         string
	PositionAge  time.Duration // age of the commit the ring's position holds
	Behind       int           // commits behind the ring before it (dev for the first)
	SoakLeft     time.Duration
	Green        int
	Red          int
	Missing      int
	PinnedGroups int
	Frozen       bool
	Held         bool // held by `ringflow hold` until released
	// Converged and Unknown count the ring's hosts that run its position
	// and those not observed or running no commit ringflow knows; shown
	// when Snapshot.Observe is set.
	Converged int
	Unknown   int
	// Unhealthy counts the ring's hosts on its position known unhealthy;
	// shown when Snapshot.Observe.Health is set.
	Unhealthy int
}

type family struct {
	name, help, kind string
	samples          []sample
}

type sample struct {
	labels string
	value  float64
}

// Render writes the snapshot in the Prometheus text exposition format.
func Render(s Snapshot) []byte {
	ring := func(name string) string { return fmt.Sprintf(`{ring="%s"}`, escape(name)) }
	fams := []*family{
		{name: "ringflow_last_run_timestamp_seconds", help: "When ringflow wrote these metrics.", kind: "gauge",
			samples: []sample{{"", float64(s.Time.Unix())}}},
		{name: "ringflow_dev_commit_age_seconds", help: "Age of the commit at dev's head.", kind: "gauge",
			samples: []sample{{"", secs(s.DevCommitAge)}}},
	}
	if c := s.Cycle; c != nil {
		fams = append(fams,
			&family{name: "ringflow_cycle_success", help: "1 if the last cycle finished without failure, else 0.", kind: "gauge",
				samples: []sample{{"", boolValue(c.Success)}}},
			&family{name: "ringflow_cycle_timestamp_seconds", help: "When the last cycle ended.", kind: "gauge",
				samples: []sample{{"", float64(s.Time.Unix())}}},
			&family{name: "ringflow_cycle_duration_seconds", help: "How long the last cycle took.", kind: "gauge",
				samples: []sample{{"", secs(c.Duration)}}},
			&family{name: "ringflow_cycle_rings_moved", help: "Rings the last cycle moved.", kind: "gauge",
				samples: []sample{{"", float64(c.Moved)}}},
			&family{name: "ringflow_cycle_red_hosts", help: "Hosts red in the last cycle's build.", kind: "gauge",
				samples: []sample{{"", float64(c.Red)}}},
		)
	}
	age := &family{name: "ringflow_ring_position_age_seconds", help: "Age of the commit the ring's position holds.", kind: "gauge"}
	behind := &family{name: "ringflow_ring_behind_commits", help: "Commits the ring is behind the ring before it (dev for the first ring).", kind: "gauge"}
	soak := &family{name: "ringflow_ring_soak_left_seconds", help: "Soak left before the next ring may take this ring's position.", kind: "gauge"}
	hosts := &family{name: "ringflow_ring_hosts", help: "Hosts of the ring by build evidence at its position.", kind: "gauge"}
	pinned := &family{name: "ringflow_ring_pinned_groups", help: "Groups of the ring that are pinned.", kind: "gauge"}
	frozen := &family{name: "ringflow_ring_frozen", help: "1 while a freeze window holds the ring.", kind: "gauge"}
	held := &family{name: "ringflow_ring_held", help: "1 while the ring is held (ringflow hold) until a person releases it.", kind: "gauge"}
	rings := append([]Ring(nil), s.Rings...)
	for _, r := range rings {
		l := ring(r.Name)
		age.samples = append(age.samples, sample{l, secs(r.PositionAge)})
		behind.samples = append(behind.samples, sample{l, float64(r.Behind)})
		soak.samples = append(soak.samples, sample{l, secs(r.SoakLeft)})
		for _, st := range []struct {
			status string
			n      int
		}{{"green", r.Green}, {"red", r.Red}, {"missing", r.Missing}} {
			hosts.samples = append(hosts.samples, sample{fmt.Sprintf(`{ring="%s",status="%s"}`, escape(r.Name), st.status), float64(st.n)})
		}
		pinned.samples = append(pinned.samples, sample{l, float64(r.PinnedGroups)})
		frozen.samples = append(frozen.samples, sample{l, boolValue(r.Frozen)})
		held.samples = append(held.samples, sample{l, boolValue(r.Held)})
	}
	fams = append(fams, age, behind, soak, hosts, pinned, frozen, held)
	if o := s.Observe; o != nil {
		converged := &family{name: "ringflow_ring_hosts_converged", help: "Hosts of the ring that run its position, as observed (observe:).", kind: "gauge"}
		unknown := &family{name: "ringflow_ring_hosts_unknown", help: "Hosts of the ring not observed, or running a system built at no commit ringflow knows.", kind: "gauge"}
		for _, r := range rings {
			converged.samples = append(converged.samples, sample{ring(r.Name), float64(r.Converged)})
			unknown.samples = append(unknown.samples, sample{ring(r.Name), float64(r.Unknown)})
		}
		commitAge := &family{name: "ringflow_host_running_commit_age_seconds", help: "Age of the commit the host runs, as observed (observe:).", kind: "gauge"}
		for _, h := range o.Hosts {
			commitAge.samples = append(commitAge.samples, sample{fmt.Sprintf(`{host="%s",group="%s",ring="%s"}`, escape(h.Host), escape(h.Group), escape(h.Ring)), secs(h.CommitAge)})
		}
		up := &family{name: "ringflow_observe_up", help: "1 if the observe source answered, else 0.", kind: "gauge",
			samples: []sample{{"", boolValue(o.Up)}}}
		fams = append(fams, converged, unknown, commitAge, up)
		if o.Health {
			unhealthy := &family{name: "ringflow_ring_hosts_unhealthy", help: "Hosts of the ring that run its position and are unhealthy, as observed (observe:).", kind: "gauge"}
			for _, r := range rings {
				unhealthy.samples = append(unhealthy.samples, sample{ring(r.Name), float64(r.Unhealthy)})
			}
			fams = append(fams, unhealthy)
		}
	}
	sort.SliceStable(fams, func(i, j int) bool { return fams[i].name < fams[j].name })
	var b strings.Builder
	for _, f := range fams {
		if len(f.samples) == 0 {
			continue
		}
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", f.name, f.help, f.name, f.kind)
		for _, smp := range f.samples {
			fmt.Fprintf(&b, "%s%s %g\n", f.name, smp.labels, smp.value)
		}
	}
	return []byte(b.String())
}

// Write renders s to path atomically: a temporary file in the same
// directory, synced, then renamed over path.
func Write(path string, s Snapshot) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	defer os.Remove(tmp.Name()) // gone after the rename; cleans up on failure
	if _, err := tmp.Write(Render(s)); err != nil {
		tmp.Close()
		return fmt.Errorf("metrics: write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("metrics: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("metrics: sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// escape quotes a label value as the exposition format asks.
func escape(v string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v)
}

// secs is a duration in whole seconds: finer is noise on a nightly job.
func secs(d time.Duration) float64 { return d.Round(time.Second).Seconds() }
