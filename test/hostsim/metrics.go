package hostsim

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The host metric, as the NixOS module's services.ringflow.exportRunning
// writes it for node_exporter's textfile collector and as a simulated host
// serves it: which system the host runs, and since when.
const (
	// ToplevelMetric is 1, labelled toplevel with what
	// `readlink -f /run/current-system` says.
	ToplevelMetric = "ringflow_host_toplevel_info"
	// SwitchedMetric is when the host switched to the system it runs, in
	// whole seconds since the epoch. Activating the same system again (a
	// reboot, a commit that changes nothing of this host) keeps the time.
	SwitchedMetric = "ringflow_host_switched_timestamp_seconds"
	// TextfileName is the file's name in the textfile directory. Not
	// ringflow.prom: that is what services.ringflow.metricsFile suggests for
	// the nightly job's metrics, and the machine running the job may well
	// be a host of the fleet too.
	TextfileName = "ringflow-host.prom"
)

// comin's own metric (github.com/nlewo/comin, internal/prometheus): the
// commit of its last deployment and how it ended, "done" or "failed"; reset
// at each deployment, so one series at most.
const (
	CominDeploymentMetric = "comin_deployment_info"
	CominDone             = "done"
	CominFailed           = "failed"
)

// Exposition is the host metric in Prometheus' text format: nothing but the
// HELP and TYPE lines before the host ran any system (toplevel ""). The
// NixOS module writes the same bytes (configs_test.go compares them).
func Exposition(toplevel string, switched time.Time) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# HELP %s The NixOS system this host runs (readlink -f /run/current-system).\n", ToplevelMetric)
	fmt.Fprintf(&b, "# TYPE %s gauge\n", ToplevelMetric)
	if toplevel != "" {
		fmt.Fprintf(&b, "%s{toplevel=\"%s\"} 1\n", ToplevelMetric, escapeLabel(toplevel))
	}
	fmt.Fprintf(&b, "# HELP %s When this host switched to the system it runs, in seconds since the epoch.\n", SwitchedMetric)
	fmt.Fprintf(&b, "# TYPE %s gauge\n", SwitchedMetric)
	if toplevel != "" {
		fmt.Fprintf(&b, "%s %d\n", SwitchedMetric, switched.Unix())
	}
	return b.Bytes()
}

// CominExposition is what comin serves on /metrics about its last
// deployment: commit "" is no deployment yet (comin shows no series then).
func CominExposition(commit, status string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# HELP %s Info of the last deployment.\n", CominDeploymentMetric)
	fmt.Fprintf(&b, "# TYPE %s gauge\n", CominDeploymentMetric)
	if commit != "" {
		fmt.Fprintf(&b, "%s{commit_id=\"%s\",status=\"%s\"} 1\n", CominDeploymentMetric, escapeLabel(commit), escapeLabel(status))
	}
	return b.Bytes()
}

// UnitStateMetric is node_exporter's systemd collector's unit state: 1
// for the state a unit is in, labelled name and state.
const UnitStateMetric = "node_systemd_unit_state"

// UnitExposition is node_exporter's node_systemd_unit_state for the failed
// units (nothing when none: the other units' states are left out).
func UnitExposition(failed []string) []byte {
	if len(failed) == 0 {
		return nil
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# HELP %s Systemd unit\n", UnitStateMetric)
	fmt.Fprintf(&b, "# TYPE %s gauge\n", UnitStateMetric)
	for _, u := range failed {
		fmt.Fprintf(&b, "%s{name=\"%s\",state=\"failed\",type=\"%s\"} 1\n", UnitStateMetric, escapeLabel(u), escapeLabel(unitType(u)))
	}
	return b.Bytes()
}

// unitType is what follows a unit name's last dot: service, timer, mount.
func unitType(u string) string {
	if i := strings.LastIndex(u, "."); i >= 0 {
		return u[i+1:]
	}
	return ""
}

// FailedUnits reads the units a fleetgen toplevel names on its
// "failed-units" line; none when it names none or cannot be read.
func FailedUnits(toplevel string) []string {
	b, err := os.ReadFile(toplevel)
	if err != nil {
		return nil
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "failed-units "); ok {
			return strings.Fields(rest)
		}
	}
	return nil
}

// escapeLabel escapes a label value as the text format wants: backslash,
// double quote and newline. A store path has none of them.
func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// WriteTextfile replaces path with content atomically (a temporary file in
// the same directory, synced, then renamed over it), so node_exporter never
// reads half a file.
func WriteTextfile(path string, content []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("hostsim: textfile: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename: nothing there
	if _, err := tmp.Write(content); err != nil {
		tmp.Close()
		return fmt.Errorf("hostsim: textfile: %w", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("hostsim: textfile: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("hostsim: textfile: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("hostsim: textfile: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("hostsim: textfile: %w", err)
	}
	return nil
}
