package observe

import (
	"context"
	"fmt"
	"strings"
)

// Health asks every host at once, at most parallel at a time, by the
// health command.
func (s *sshSource) Health(ctx context.Context, hosts []string) (map[string]Health, error) {
	return eachHost(ctx, s.parallel, hosts, s.oneHealth, unknown)
}

// oneHealth asks one host how it fares. A host ssh cannot reach is not
// Known: that may be ssh's fault (a key, a name) as well as the host's.
func (s *sshSource) oneHealth(ctx context.Context, host string) Health {
	out, dest, why := s.ssh(ctx, host, s.health)
	if why != "" {
		return unknown(host, why)
	}
	return systemHealth(host, string(out), fmt.Sprintf("ssh %s %s", dest, s.health))
}

// systemHealth reads what the health command printed: the state of
// `systemctl is-system-running` on the first line, then the failed
// units, a line each as `systemctl --failed --plain --no-legend` lists
// them (the unit first). ran names the command for messages.
//
// running is healthy; degraded, maintenance and offline are not;
// initializing, starting and stopping (a host booting or rebooting) and
// systemd's own unknown are not Known yet, nor is anything that is no
// state of systemctl's (a health command that prints something else
// says nothing about the host).
func systemHealth(host, out, ran string) Health {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return unknown(host, ran+" printed nothing, not a state of systemctl is-system-running")
	}
	state := lines[0]
	var units []string
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if f[0] == "●" || f[0] == "*" { // without --plain
			f = f[1:]
		}
		if len(f) == 0 || strings.HasPrefix(f[0], "-") || !strings.Contains(f[0], ".") {
			return unknown(host, fmt.Sprintf("%s printed %q where a failed unit was expected (want lines as systemctl --failed --plain --no-legend prints them)", ran, l))
		}
		units = append(units, f[0])
	}
	u := uniqueSorted(units)
	withUnits := func(reason string) Health {
		if len(u) == 0 {
			return unhealthy(host, nil, reason)
		}
		return unhealthy(host, u, reason, "failed units: "+strings.Join(u, ", "))
	}
	switch state {
	case "running":
		if len(u) > 0 {
			// A unit failed between the two commands.
			return unhealthy(host, u, "failed units: "+strings.Join(u, ", "))
		}
		return healthy(host)
	case "degraded":
		return withUnits("system degraded (systemctl is-system-running)")
	case "maintenance", "offline":
		return withUnits(fmt.Sprintf("system %s (systemctl is-system-running)", state))
	case "initializing", "starting", "stopping":
		return unknown(host, fmt.Sprintf("system %s (systemctl is-system-running): not settled yet", state))
	case "unknown":
		return unknown(host, "systemctl is-system-running says unknown: systemd could not tell")
	}
	return unknown(host, fmt.Sprintf("%s printed %q, not a state of systemctl is-system-running (running, degraded, …)", ran, state))
}
