package ring

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// ConvergeCheck is what the source ring's hosts run, observed (observe:):
// the next ring takes the candidate only when enough of them run it.
type ConvergeCheck struct {
	Ring   string    // the source ring whose hosts are counted
	Needed int       // how many of them must run the candidate (converge:)
	Rule   string    // converge: as written, for messages ("100%", "2")
	Hosts  []HostRun // each host of the source ring at the candidate
	// Err says why the hosts could not be observed at all; the gate then
	// refuses, as nothing shows they took the candidate.
	Err string
}

// HostRun is what one host runs, as observed.
type HostRun struct {
	Host string
	// Runs: it runs the candidate, or a commit whose toplevel for this
	// host is the candidate's.
	Runs     bool
	Commit   string    // the commit it runs, when known
	Toplevel string    // the system it runs, when known
	Since    time.Time // since when, when known
	Err      string    // it could not be observed: why
}

// Converged counts the hosts that run the candidate.
func (c *ConvergeCheck) Converged() int {
	n := 0
	for _, h := range c.Hosts {
		if h.Runs {
			n++
		}
	}
	return n
}

// At is when the ring converged, as the source tells it: the switch of
// the Needed-th host to run the candidate. Zero when it has not, or when
// one of those hosts' switch time is unknown.
func (c *ConvergeCheck) At() time.Time {
	var at []time.Time
	for _, h := range c.Hosts {
		if h.Runs {
			if h.Since.IsZero() {
				return time.Time{}
			}
			at = append(at, h.Since)
		}
	}
	if c.Needed <= 0 || len(at) < c.Needed {
		return time.Time{}
	}
	slices.SortFunc(at, time.Time.Compare)
	return at[c.Needed-1]
}

// Converge is the gate of observed rollout: the source ring's hosts run
// the candidate (at least converge: of them) before the next ring takes
// it. Without observe: there is nothing to check.
type Converge struct{}

// Name implements Gate.
func (Converge) Name() string { return "converge" }

// Check implements Gate.
func (Converge) Check(req *Request, _ Ancestry) (string, error) {
	c := req.Converge
	if c == nil {
		return "", nil
	}
	cand := Short(req.Candidate)
	if c.Err != "" {
		return fmt.Sprintf("what the hosts of %s run could not be observed (%s), so nothing shows they took %s", c.Ring, c.Err, cand), nil
	}
	if c.Converged() >= c.Needed {
		return "", nil
	}
	var lag []string
	for _, h := range c.Hosts {
		if !h.Runs {
			lag = append(lag, h.describe())
		}
	}
	return fmt.Sprintf("%d of %d host(s) of %s run %s, %d needed (converge: %s): %s", c.Converged(), len(c.Hosts), c.Ring, cand,
		c.Needed, c.Rule, strings.Join(lag, "; ")), nil
}

// describe says what a host that does not run the candidate runs.
func (h HostRun) describe() string {
	var what, note string
	switch {
	case h.Err != "":
		return fmt.Sprintf("%s could not be observed (%s)", h.Host, h.Err)
	case h.Commit != "":
		what = "runs " + Short(h.Commit)
	case h.Toplevel != "":
		what, note = "runs "+h.Toplevel, " (built at no commit ringflow knows)"
	default:
		what = "reports nothing"
	}
	if !h.Since.IsZero() {
		what += " since " + h.Since.UTC().Format(time.RFC3339)
	}
	return h.Host + " " + what + note
}
