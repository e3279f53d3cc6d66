package fleet

import (
	"context"
	"fmt"
	"time"

	"github.com/ringflow/ringflow/pkg/config"
	"github.com/ringflow/ringflow/pkg/membership"
	"github.com/ringflow/ringflow/pkg/observe"
)

// Observation is what the fleet's hosts run, observed once, against where
// their groups and rings stand: hosts --running, status and the metrics
// all show this one reading.
type Observation struct {
	Source string // the config's source: prometheus, ssh or command
	// Err says why the source failed as a whole (unreachable, the command
	// failed); the hosts then carry no runs and every ring counts its
	// hosts unknown.
	Err   error
	Hosts []HostObservation // in the placements' order
	Rings []RingObservation // in the config's order
}

// HostObservation is what one host runs.
type HostObservation struct {
	Host, Group, Ring string
	// Commit is a commit whose evidence gives the host what it runs (the
	// newest known, or the one the source names); "" = unknown.
	Commit   string
	Toplevel string    // the system it runs, when known
	Since    time.Time // since when; zero = unknown
	Err      string    // it could not be observed: why
	// Unknown: not observed, or it runs a toplevel at no commit ringflow
	// knows.
	Unknown bool
	// GroupCommit is its group's position; AtGroup says it runs that (or
	// a commit giving it the same toplevel).
	GroupCommit string
	AtGroup     bool
	// AtRing says it runs its ring's position, as the converge gate
	// counts.
	AtRing bool
}

// RingObservation is how far one ring's hosts have taken its position.
type RingObservation struct {
	Ring     string
	Position string   // "" when the ring has none (no branch, diverged)
	Hosts    []string // the ring's hosts
	// Converged counts the hosts that run Position; Unknown those not
	// observed or running a toplevel at no commit ringflow knows.
	Converged, Unknown int
	// Need is how many must run it before the next ring takes it
	// (converge:); 0 and Rule "" when the ring sets no converge.
	Need int
	Rule string
	// Lagging are the hosts that do not run Position, in host order;
	// nil when the source failed.
	Lagging []HostObservation
}

// errNotSaid is a host the source answered nothing of.
const errNotSaid = "the source said nothing of it"

// Observe asks the config's source once what every placed host runs and
// compares it with st: its group's commit and its ring's position. A
// source that fails as a whole is not an error here but the
// Observation's Err; a cancelled ctx and unreadable evidence are. Nil,
// nil without observe: in the config.
func (f *Fleet) Observe(ctx context.Context, st *State, ps []membership.Placement) (*Observation, error) {
	obs := f.Observer()
	if obs == nil {
		return nil, nil
	}
	src, err := obs.Source()
	if err != nil {
		return Observe(ctx, nil, err, nil, f.Config, st, ps)
	}
	hosts := make([]string, len(ps))
	for i, p := range ps {
		hosts[i] = p.Host
	}
	runs, err := src.Running(ctx, hosts)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return Observe(ctx, nil, err, nil, f.Config, st, ps)
	}
	outs, err := obs.Outs()
	if err != nil {
		return nil, err
	}
	return Observe(ctx, runs, nil, outs, f.Config, st, ps)
}

// Observe is the computation of Fleet.Observe on what the source
// returned (runs, or srcErr when it failed as a whole) and the
// evidence's out paths.
func Observe(ctx context.Context, runs map[string]observe.Run, srcErr error, outs observe.Outs, cfg *config.Config, st *State, ps []membership.Placement) (*Observation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o := &Observation{Err: srcErr}
	if cfg.Observe != nil {
		o.Source = cfg.Observe.Source()
	}
	groupAt := map[string]string{}
	ringAt := map[string]string{}
	for _, rs := range st.Rings {
		ringAt[rs.Ring.Name] = rs.Position
		for _, gs := range rs.Groups {
			groupAt[gs.Group.Name] = gs.Commit
		}
	}
	var placed map[string]observe.Placed
	if srcErr == nil {
		placed = observe.Place(runs, outs, nil)
	}
	for _, p := range ps {
		h := HostObservation{Host: p.Host, Group: p.Group, Ring: p.Ring, GroupCommit: groupAt[p.Group]}
		pl, ok := placed[p.Host]
		switch {
		case srcErr != nil:
			h.Unknown = true
		case !ok:
			h.Err, h.Unknown = errNotSaid, true
		default:
			pl.Host = p.Host
			h.Commit, h.Toplevel, h.Since, h.Err = pl.Newest, pl.Toplevel, pl.Since, pl.Err
			if h.Commit == "" && len(pl.Commits) > 0 {
				h.Commit = pl.Commits[0] // any of them gives this host that toplevel
			}
			h.Unknown = pl.Err != "" || pl.Unknown()
			h.AtGroup = observe.Runs(pl.Run, h.GroupCommit, outs)
			h.AtRing = observe.Runs(pl.Run, ringAt[p.Ring], outs)
		}
		o.Hosts = append(o.Hosts, h)
	}
	for _, r := range cfg.Rings {
		ro := RingObservation{Ring: r.Name, Position: ringAt[r.Name]}
		for _, h := range o.Hosts {
			if h.Ring != r.Name {
				continue
			}
			ro.Hosts = append(ro.Hosts, h.Host)
			if h.AtRing {
				ro.Converged++
			} else if srcErr == nil {
				ro.Lagging = append(ro.Lagging, h)
			}
			if h.Unknown {
				ro.Unknown++
			}
		}
		if r.Converge.IsSet() {
			ro.Need, ro.Rule = r.Converge.Need(len(ro.Hosts)), r.Converge.String()
		}
		o.Rings = append(o.Rings, ro)
	}
	return o, nil
}

// RingHosts places each ring's hosts as the converge gate does: the
// hosts of the flake at the ring's position that fall in that ring (at
// dev's head for a ring without a position).
func (f *Fleet) RingHosts(ctx context.Context, st *State) ([]membership.Placement, error) {
	var out []membership.Placement
	for _, rs := range st.Rings {
		at := rs.Position
		if at == "" {
			at = st.DevCommit
		}
		if at == "" {
			continue
		}
		ps, err := f.Hosts(ctx, at)
		if err != nil {
			return nil, fmt.Errorf("hosts of ring %s at %s: %w", rs.Ring.Name, at, err)
		}
		for _, p := range ps {
			if p.Ring == rs.Ring.Name {
				out = append(out, p)
			}
		}
	}
	return out, nil
}
