package promote

import (
	"context"
	"fmt"
	"time"

	"github.com/ringflow/ringflow/pkg/config"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/observe"
	"github.com/ringflow/ringflow/pkg/ring"
)

// Observer is what a promotion needs to know what hosts run (observe:):
// the source, and the evidence's out paths to tell a toplevel as commits.
// Nil on a Promoter: the fleet is not observed.
type Observer interface {
	Source() (observe.Source, error)
	Outs() (observe.Outs, error)
}

// observed fills req.Converge: what the hosts of src, the ring the
// candidate leaves, run at the candidate. It says whether the ledger
// should now record that src converged on the candidate (it has, and no
// converged entry says so yet), so that its soak counts from now.
func (p *Promoter) observed(ctx context.Context, src config.Ring, req *ring.Request, entries []ledger.Entry) (record bool, err error) {
	hosts, err := p.ringHosts(ctx, src.Name, req.Candidate)
	if err != nil {
		return false, err
	}
	c := &ring.ConvergeCheck{Ring: src.Name, Needed: src.Converge.Need(len(hosts)), Rule: src.Converge.String()}
	req.Converge = c
	source, err := p.Observe.Source()
	if err != nil {
		return false, err
	}
	runs, err := source.Running(ctx, hosts)
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		c.Err = err.Error()
		return false, nil
	}
	outs, err := p.Observe.Outs()
	if err != nil {
		return false, err
	}
	placed := observe.Place(runs, outs, nil)
	for _, h := range hosts {
		r := placed[h]
		if r.Host == "" {
			r.Host, r.Err = h, "the source said nothing of it"
		}
		commit := r.Newest
		if commit == "" && len(r.Commits) > 0 {
			commit = r.Commits[0] // any of them gives this host that toplevel
		}
		c.Hosts = append(c.Hosts, ring.HostRun{Host: h, Runs: observe.Runs(r.Run, req.Candidate, outs),
			Commit: commit, Toplevel: r.Toplevel, Since: r.Since, Err: r.Err})
	}
	if c.Converged() < c.Needed || len(hosts) == 0 {
		return false, nil
	}
	for _, e := range entries { // newest first
		if e.Ring != src.Name || e.Group != "" || e.To == "" {
			continue
		}
		if e.Event != ledger.EventConverged {
			// The ring's last move: what it converged on before does not
			// count (it may come back to a commit, by a rollback).
			return true, nil
		}
		if held, err := p.Ancestry.IsAncestor(req.Candidate, e.To); err == nil && held {
			return false, nil // recorded already
		}
	}
	return true, nil
}

// recordConverged appends a converged entry for ring at commit: from now
// its soak counts for the commit, from the hosts' switch when the
// source tells it.
func (p *Promoter) recordConverged(ctx context.Context, ringName, commit string, c *ring.ConvergeCheck) (*ledger.Entry, error) {
	e := p.Lander.NewEntry(ledger.EventConverged, ringName)
	e.To, e.Candidate = commit, commit
	e.ConvergedAt = c.At()
	e.Reason = fmt.Sprintf("%d of %d host(s) run %s (converge: %s)", c.Converged(), len(c.Hosts), ring.Short(commit), c.Rule)
	if !e.ConvergedAt.IsZero() {
		e.Reason += ", the last needed since " + e.ConvergedAt.UTC().Format(time.RFC3339)
	}
	if _, err := p.Lander.Land(ctx, fleet.Landing{Entries: []ledger.Entry{e},
		Why: fmt.Sprintf("ringflow: %s converged on %s", ringName, ring.Short(commit))}); err != nil {
		return nil, err
	}
	return &e, nil
}

// ringHosts are the hosts of ring as placed at commit.
func (p *Promoter) ringHosts(ctx context.Context, ringName, commit string) ([]string, error) {
	ps, err := p.Hosts.Hosts(ctx, commit)
	if err != nil {
		return nil, err
	}
	var hosts []string
	for _, pl := range ps {
		if pl.Ring == ringName {
			hosts = append(hosts, pl.Host)
		}
	}
	return hosts, nil
}

// health fills req.Health: how the hosts of src, the ring the candidate
// leaves, are (observe:).
func (p *Promoter) health(ctx context.Context, src config.Ring, req *ring.Request) error {
	source, err := p.Observe.Source()
	if err != nil {
		return err
	}
	hosts, err := p.ringHosts(ctx, src.Name, req.Candidate)
	if err != nil {
		return err
	}
	c := &ring.HealthCheck{Ring: src.Name, Allowed: src.MaxUnhealthy.Allowed(len(hosts)), Rule: src.MaxUnhealthy.String()}
	req.Health = c
	got, err := source.Health(ctx, hosts)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		c.Err = err.Error()
		return nil
	}
	for _, h := range hosts {
		g, ok := got[h]
		if !ok {
			g = observe.Health{Reasons: []string{"the source said nothing of it"}}
		}
		c.Hosts = append(c.Hosts, ring.HostHealth{Host: h, Known: g.Known, Healthy: g.Healthy, Reasons: g.Reasons, FailedUnits: g.FailedUnits})
	}
	return nil
}
