// Package guard stops a ring that went bad. It reads how each ring's hosts
// are (observe:) and, where more of the hosts that took the ring's
// position are unhealthy than the ring's max-unhealthy, holds the ring —
// or, with on-unhealthy: rollback, rolls it back, forward, to where it
// stood before and holds it, in one landing. Releasing stays a person's
// decision (ringflow release): once a ring was released on a position,
// the guard leaves it alone there until it moves.
package guard

import (
	"context"
	"fmt"
	"strings"

	"github.com/ringflow/ringflow/pkg/config"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/membership"
	"github.com/ringflow/ringflow/pkg/observe"
	"github.com/ringflow/ringflow/pkg/ring"
)

// Fleet is what the guard reads of the fleet (*fleet.Fleet).
type Fleet interface {
	State(ctx context.Context) (*fleet.State, error)
	RingHosts(ctx context.Context, st *fleet.State) ([]membership.Placement, error)
	Observe(ctx context.Context, st *fleet.State, ps []membership.Placement) (*fleet.Observation, error)
}

// Guard watches the rings of one fleet.
type Guard struct {
	Fleet  Fleet
	Health func() (observe.HealthSource, error)
	Ledger ledger.Reader
	Lander fleet.Lander
}

// New is the guard of a fleet; nil when the fleet is not observed.
func New(fl *fleet.Fleet) *Guard {
	obs := fl.Observer()
	if obs == nil {
		return nil
	}
	return &Guard{Fleet: fl, Ledger: fl.Ledger, Lander: fl, Health: func() (observe.HealthSource, error) { return obs.Source() }}
}

// Action is what the guard did to a ring.
type Action string

const (
	None       Action = ""
	Held       Action = "hold"     // the ring was held
	RolledBack Action = "rollback" // rolled back to Before and held
)

// RingReport is how one ring's hosts are and what the guard did.
type RingReport struct {
	Ring     string
	Position string
	Hosts    int // the ring's hosts
	// Unhealthy are the ring's hosts that run its position and are known
	// to be unhealthy: what a move did to them.
	Unhealthy []ring.HostHealth
	Allowed   int    // max-unhealthy, for this ring's hosts
	Rule      string // max-unhealthy as written
	Action    Action
	Before    string // with RolledBack: the position it went back to
	// Skipped says why a ring past its max-unhealthy was left alone
	// (already held; released by a person on this position).
	Skipped string
	Entries []ledger.Entry // what was recorded
}

// Report is one look at the fleet.
type Report struct {
	// Err says why the hosts could not be read; nothing is done then:
	// a source that fails never stops a ring.
	Err   string
	Rings []RingReport
}

// Acted lists the rings the guard held or rolled back.
func (r *Report) Acted() []RingReport {
	var out []RingReport
	for _, rr := range r.Rings {
		if rr.Action != None {
			out = append(out, rr)
		}
	}
	return out
}

// Options configures one look.
type Options struct {
	Rings  []config.Ring
	Actor  string // who acts, for the reason: "ringflow watch", "ringflow cycle"
	DryRun bool
}

// Run looks at every ring once and acts on those that went bad.
func (g *Guard) Run(ctx context.Context, o Options) (*Report, error) {
	st, err := g.Fleet.State(ctx)
	if err != nil {
		return nil, err
	}
	ps, err := g.Fleet.RingHosts(ctx, st)
	if err != nil {
		return nil, err
	}
	obs, err := g.Fleet.Observe(ctx, st, ps)
	if err != nil {
		return nil, err
	}
	rep := &Report{}
	if obs == nil {
		return rep, nil
	}
	if obs.Err != nil {
		rep.Err = obs.Err.Error()
		return rep, nil
	}
	health, err := g.health(ctx, ps)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		rep.Err = err.Error()
		return rep, nil
	}
	entries, err := g.Ledger.Entries(0)
	if err != nil {
		return nil, err
	}
	atRing := map[string]bool{}
	for _, h := range obs.Hosts {
		atRing[h.Host] = h.AtRing
	}
	for i, rs := range st.Rings {
		r := rs.Ring
		if i < len(o.Rings) {
			r = o.Rings[i]
		}
		rr := RingReport{Ring: r.Name, Position: rs.Position, Rule: r.MaxUnhealthy.String()}
		for _, p := range ps {
			if p.Ring != r.Name {
				continue
			}
			rr.Hosts++
			if h, ok := health[p.Host]; ok && h.Known && !h.Healthy && atRing[p.Host] {
				rr.Unhealthy = append(rr.Unhealthy, ring.HostHealth{Host: p.Host, Known: true, Reasons: h.Reasons, FailedUnits: h.FailedUnits})
			}
		}
		rr.Allowed = r.MaxUnhealthy.Allowed(rr.Hosts)
		if rs.Position == "" || len(rr.Unhealthy) <= rr.Allowed {
			rep.Rings = append(rep.Rings, rr)
			continue
		}
		switch released := releasedAt(entries, r.Name); {
		case rs.Hold != nil:
			rr.Skipped = "already " + rs.Hold.Describe()
		case released != nil:
			rr.Skipped = fmt.Sprintf("released on %s by %s: left to them until it moves", ring.Short(rs.Position), released.Who())
		default:
			if err := g.act(ctx, o, rs, r, entries, &rr); err != nil {
				return rep, err
			}
		}
		rep.Rings = append(rep.Rings, rr)
	}
	return rep, nil
}

// health asks the source how every placed host is.
func (g *Guard) health(ctx context.Context, ps []membership.Placement) (map[string]observe.Health, error) {
	hs, err := g.Health()
	if err != nil {
		return nil, err
	}
	hosts := make([]string, len(ps))
	for i, p := range ps {
		hosts[i] = p.Host
	}
	return hs.Health(ctx, hosts)
}

// act holds the ring, or rolls it back and holds it, in one landing.
func (g *Guard) act(ctx context.Context, o Options, rs fleet.RingState, r config.Ring, entries []ledger.Entry, rr *RingReport) error {
	what := make([]string, len(rr.Unhealthy))
	for i, h := range rr.Unhealthy {
		what[i] = h.Describe()
	}
	why := fmt.Sprintf("%s: %d of %d host(s) unhealthy on %s, %d allowed (max-unhealthy: %s): %s", o.Actor, len(rr.Unhealthy), rr.Hosts,
		ring.Short(rs.Position), rr.Allowed, rr.Rule, strings.Join(what, "; "))
	rr.Action = Held
	var moves []ring.Move
	var recorded []ledger.Entry
	if r.OnUnhealthy == config.OnUnhealthyRollback {
		before := positionBefore(entries, r.Name, rs.Position)
		if before == "" {
			why += fmt.Sprintf(" (on-unhealthy: rollback, but the ledger shows no position of %s before %s: held only)", r.Name, ring.Short(rs.Position))
		} else {
			for _, gs := range rs.Groups {
				if gs.Group.Pinned || gs.Commit == "" || gs.Commit == before {
					continue
				}
				moves = append(moves, ring.Move{Group: gs.Group.Name, Branch: gs.Group.Branch, From: gs.Head, Carries: before})
			}
			rb := g.Lander.NewEntry(ledger.EventRollback, r.Name)
			rb.From, rb.To, rb.Candidate, rb.Reason = rs.Position, before, before, why
			recorded = append(recorded, rb)
			rr.Action, rr.Before = RolledBack, before
		}
	}
	hold := g.Lander.NewEntry(ledger.EventHold, r.Name)
	hold.Reason = why
	recorded = append(recorded, hold)
	rr.Entries = recorded
	if o.DryRun {
		return nil
	}
	verb := "hold " + r.Name
	if rr.Action == RolledBack {
		verb = fmt.Sprintf("roll back %s to %s and hold it", r.Name, ring.Short(rr.Before))
	}
	if _, err := g.Lander.Land(ctx, fleet.Landing{Moves: moves, Entries: recorded, Why: "ringflow: " + verb + ": unhealthy hosts"}); err != nil {
		return fmt.Errorf("guard: %s: %w", verb, err)
	}
	return nil
}

// positionBefore is where ring stood before the ledger's last whole-ring
// move onto position; "" when no entry says.
func positionBefore(entries []ledger.Entry, ringName, position string) string {
	for _, e := range entries { // newest first
		if e.Ring != ringName || e.Group != "" || e.To == "" || e.Event == ledger.EventConverged {
			continue
		}
		if e.To != position {
			return ""
		}
		if e.From != "" && e.From != position {
			return e.From
		}
	}
	return ""
}

// releasedAt is the release of ring since its last move (onto where it
// stands), if any: a person let it go there.
func releasedAt(entries []ledger.Entry, ringName string) *ledger.Entry {
	for _, e := range entries { // newest first
		if e.Ring != ringName || e.Group != "" {
			continue
		}
		if e.Event == ledger.EventRelease {
			return &e
		}
		if e.To != "" && e.Event != ledger.EventConverged {
			return nil // the move onto where it stands
		}
	}
	return nil
}
