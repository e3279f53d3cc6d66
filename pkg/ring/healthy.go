package ring

import (
	"fmt"
	"strings"
)

// HealthCheck is how the source ring's hosts are, observed (observe:):
// the next ring takes nothing while more of them than allowed are
// unhealthy.
type HealthCheck struct {
	Ring    string       // the source ring whose hosts are counted
	Allowed int          // how many may be unhealthy (max-unhealthy)
	Rule    string       // max-unhealthy as written, for messages ("0", "25%")
	Hosts   []HostHealth // each host of the source ring
	// Err says why the hosts' health could not be read at all; the gate
	// then refuses, as nothing shows they are healthy.
	Err string
}

// HostHealth is how one host is, as observed.
type HostHealth struct {
	Host string
	// Known: the source could tell; a host it could not is counted as
	// unhealthy by the gate (nothing shows it is healthy), yet never
	// rolled back for (nothing shows it is not).
	Known       bool
	Healthy     bool
	Reasons     []string // why it is unhealthy, or why it is not known
	FailedUnits []string
}

// Unhealthy lists the hosts that are not known to be healthy.
func (c *HealthCheck) Unhealthy() []HostHealth {
	var bad []HostHealth
	for _, h := range c.Hosts {
		if !h.Known || !h.Healthy {
			bad = append(bad, h)
		}
	}
	return bad
}

// Describe says what is wrong with a host, for messages and the ledger:
// "lab-1: failed units: nginx.service".
func (h HostHealth) Describe() string {
	why := strings.Join(h.Reasons, "; ")
	if !h.Known {
		if why == "" {
			why = "the source said nothing of it"
		}
		return h.Host + ": health not known (" + why + ")"
	}
	if why == "" && len(h.FailedUnits) > 0 {
		why = "failed units: " + strings.Join(h.FailedUnits, ", ")
	}
	if why == "" {
		why = "unhealthy"
	}
	return h.Host + ": " + why
}

// Healthy is the gate of observed health: a ring takes nothing from a
// source ring with more unhealthy hosts than that ring's max-unhealthy.
// Without observe: there is nothing to check.
type Healthy struct{}

// Name implements Gate.
func (Healthy) Name() string { return "healthy" }

// Check implements Gate.
func (Healthy) Check(req *Request, _ Ancestry) (string, error) {
	c := req.Health
	if c == nil {
		return "", nil
	}
	if c.Err != "" {
		return fmt.Sprintf("the health of %s's hosts could not be observed (%s), so nothing shows they are healthy", c.Ring, c.Err), nil
	}
	bad := c.Unhealthy()
	if len(bad) <= c.Allowed {
		return "", nil
	}
	what := make([]string, len(bad))
	for i, h := range bad {
		what[i] = h.Describe()
	}
	return fmt.Sprintf("%d of %d host(s) of %s are unhealthy, %d allowed (max-unhealthy: %s): %s", len(bad), len(c.Hosts), c.Ring,
		c.Allowed, c.Rule, strings.Join(what, "; ")), nil
}
