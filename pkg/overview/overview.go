// Package overview computes where dev and every ring and group stand: the
// commits they hold and how old they are, how far each is behind the ring
// before it, the build evidence of each group's hosts, the soak left, the
// freeze or hold holding a ring, what pins each group, the key inputs
// pinned at each position and, with observe:, what the hosts run
// (fleet.Observe) with the age of each host's commit. Status
// renders it and the cycle's metrics are derived from it, so both say the
// same thing. It reads through narrow interfaces and prints nothing.
package overview

import (
	"context"
	"time"

	"github.com/ringflow/ringflow/pkg/evidence"
	"github.com/ringflow/ringflow/pkg/flakelock"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/membership"
	"github.com/ringflow/ringflow/pkg/metrics"
	"github.com/ringflow/ringflow/pkg/ring"
	"github.com/ringflow/ringflow/pkg/soak"
)

// StateReader reads where dev and every ring stand (fleet.Fleet.State).
type StateReader interface {
	State(ctx context.Context) (*fleet.State, error)
}

// HostLister places the hosts of the flake at a commit in their groups
// (fleet.Fleet.Hosts).
type HostLister interface {
	Hosts(ctx context.Context, commit string) ([]membership.Placement, error)
}

// EvidenceReader reads the build evidence of a commit (evidence.Store).
type EvidenceReader interface {
	Get(commit string) (*evidence.Note, error)
}

// CommitReader reads commits: their time and subject, how many commits
// one lacks of another, and ancestry (the soak's ledger walk asks it). A
// *gitrepo.Repo.
type CommitReader interface {
	Commit(rev string) (gitrepo.CommitInfo, error)
	CountBetween(base, tip string) (int, error)
	ring.Ancestry
}

// InputReader reads the key inputs pinned at a commit
// (fleet.Fleet.KeyInputs).
type InputReader interface {
	KeyInputs(commit string) ([]flakelock.Input, error)
}

// Reader takes overviews of one fleet.
type Reader struct {
	State    StateReader
	Hosts    HostLister
	Evidence EvidenceReader
	Commits  CommitReader
	Ledger   ledger.Reader
	Inputs   InputReader
	Now      func() time.Time // ages, soak left and freezes are read at Now
	// Observer tells what the hosts run (observe:); nil when the fleet is
	// not observed, and the overview then has no Observed.
	Observer Observer
}

// Observer observes what the hosts of every ring run (fleet.Fleet).
type Observer interface {
	RingHosts(ctx context.Context, st *fleet.State) ([]membership.Placement, error)
	Observe(ctx context.Context, st *fleet.State, ps []membership.Placement) (*fleet.Observation, error)
}

// New reads the fleet's state, hosts, evidence, repository, ledger and
// lock files, at the fleet's clock.
func New(fl *fleet.Fleet) *Reader {
	r := &Reader{State: fl, Hosts: fl, Evidence: fl.Evidence, Commits: fl.Repo, Ledger: fl.Ledger, Inputs: fl, Now: fl.Now}
	if fl.Observer() != nil {
		r.Observer = fl
	}
	return r
}

// Overview is where dev and every ring stand at Time.
type Overview struct {
	Time  time.Time
	Dev   Dev
	Rings []Ring
	// Observed is what the hosts run, observed once; nil without
	// observe:.
	Observed *Observed
}

// Observed is the fleet's observation with the commit each host runs as
// an overview shows commits.
type Observed struct {
	*fleet.Observation
	// Running is, by host, the commit it runs with its committer time and
	// age; a host whose commit is unknown, or not in the repository, is
	// absent.
	Running map[string]Commit
}

// Commit is a commit as an overview shows it; Hash is "" when there is
// none (a missing branch, a ring without a position).
type Commit struct {
	Hash    string
	Time    time.Time     // committer time
	Age     time.Duration // at the overview's Time
	Subject string
}

// Inputs are the key inputs pinned at a commit, or why they are unknown.
type Inputs struct {
	Inputs []flakelock.Input
	Err    error // the lock could not be read: a warning, not a failure
}

// Dev is where dev stands.
type Dev struct {
	Branch string
	Commit Commit
	Inputs Inputs // when Commit.Hash is set
}

// Ring is where one ring stands.
type Ring struct {
	Name     string
	Source   string // the ring it takes candidates from (dev's branch for the first)
	Position Commit // Hash "" when no branch exists or the groups diverged
	Err      error  // *ring.DivergedError
	// Behind counts the commits the position lacks of the source's
	// position (0 when either has none).
	Behind   int
	SoakLeft time.Duration // how long the position must still sit before the next ring may take it; 0 for the last ring
	Frozen   *ring.Freeze  // nil when no freeze window holds the ring
	Hold     *ring.Hold    // nil when no one holds the ring (ringflow hold)
	Inputs   Inputs        // when Position.Hash is set
	// Drifts are its branches moved outside ringflow: not where the
	// ledger last recorded them.
	Drifts []ring.Drift
	Groups []Group
}

// Group is where one group of a ring stands.
type Group struct {
	Name   string
	Branch string
	Pinned bool
	// Pin says what pins it (the config, the ledger or both), set when
	// Pinned; a config pin's Commit is resolved to a full commit ID when
	// the repository has it.
	Pin    *ring.Pin
	Commit Commit // the dev commit its branch carries; Hash "" when the branch is missing
	Behind int    // commits it lacks of the source's position
	// Evidence tallies the group's hosts at Commit; nil when there is no
	// commit or its hosts could not be read (EvidenceErr says why).
	Evidence    *evidence.Tally
	EvidenceErr error
}

// Read takes the overview: it reads the state (which fetches first when
// there is a remote), then every commit, count, tally, soak and freeze.
func (r *Reader) Read(ctx context.Context) (*Overview, error) {
	st, err := r.State.State(ctx)
	if err != nil {
		return nil, err
	}
	rd := &reading{Reader: r, now: r.Now(), placed: map[string]placement{}}
	ov := &Overview{Time: rd.now, Dev: Dev{Branch: st.Dev}}
	if st.DevCommit != "" {
		if ov.Dev.Commit, err = rd.commit(st.DevCommit); err != nil {
			return nil, err
		}
		ov.Dev.Inputs = rd.inputs(st.DevCommit)
	}
	for i, rs := range st.Rings {
		srcName, srcHead := st.Source(i)
		rv, err := rd.ring(ctx, rs, srcName, srcHead, i == len(st.Rings)-1)
		if err != nil {
			return nil, err
		}
		ov.Rings = append(ov.Rings, rv)
	}
	if r.Observer != nil {
		if ov.Observed, err = rd.observe(ctx, st); err != nil {
			return nil, err
		}
	}
	return ov, nil
}

// observe asks once what every ring's hosts run. Hosts that cannot be
// listed fail the observation, not the overview.
func (rd *reading) observe(ctx context.Context, st *fleet.State) (*Observed, error) {
	ps, err := rd.Observer.RingHosts(ctx, st)
	var o *fleet.Observation
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		o = &fleet.Observation{Err: err}
	} else if o, err = rd.Observer.Observe(ctx, st, ps); err != nil {
		return nil, err
	}
	obs := &Observed{Observation: o, Running: map[string]Commit{}}
	for _, h := range o.Hosts {
		if h.Commit == "" {
			continue
		}
		if c, err := rd.commit(h.Commit); err == nil {
			obs.Running[h.Host] = c
		}
	}
	return obs, nil
}

// reading is one Read: its clock reading and what it read once for many.
type reading struct {
	*Reader
	now     time.Time
	placed  map[string]placement // by commit: membership can change between commits
	entries []ledger.Entry
	read    bool // entries holds the ledger
}

type placement struct {
	ps  []membership.Placement
	err error
}

// last: no ring takes candidates from this one, so its soak (if the
// config gives it one) holds nothing back and none is left.
func (rd *reading) ring(ctx context.Context, rs fleet.RingState, srcName, srcHead string, last bool) (Ring, error) {
	rv := Ring{Name: rs.Ring.Name, Source: srcName, Err: rs.Err, Frozen: ring.FrozenAt(rs.Ring.Freeze, rd.now), Hold: rs.Hold}
	var err error
	if rv.Drifts, err = ring.Drifts(rs.Groups, rd.Commits); err != nil {
		return rv, err
	}
	if rs.Position != "" {
		if rv.Position, err = rd.commit(rs.Position); err != nil {
			return rv, err
		}
		if rv.Behind, err = rd.behind(rs.Position, srcHead); err != nil {
			return rv, err
		}
		if !last {
			if rv.SoakLeft, err = rd.soakLeft(rs.Ring.Name, rs.Ring.Soak, rs.Position); err != nil {
				return rv, err
			}
		}
		rv.Inputs = rd.inputs(rs.Position)
	}
	for _, gs := range rs.Groups {
		g, err := rd.group(ctx, gs, srcHead)
		if err != nil {
			return rv, err
		}
		rv.Groups = append(rv.Groups, g)
	}
	return rv, nil
}

func (rd *reading) group(ctx context.Context, gs ring.GroupState, srcHead string) (Group, error) {
	g := Group{Name: gs.Group.Name, Branch: gs.Group.Branch, Pinned: gs.Group.Pinned, Pin: rd.pin(gs.Group.Pin)}
	if gs.Commit == "" {
		return g, nil
	}
	var err error
	if g.Evidence, g.EvidenceErr, err = rd.tally(ctx, gs.Group.Name, gs.Commit); err != nil {
		return g, err
	}
	if g.Commit, err = rd.commit(gs.Commit); err != nil {
		return g, err
	}
	if g.Behind, err = rd.behind(gs.Commit, srcHead); err != nil {
		return g, err
	}
	return g, nil
}

// pin is p with the commit a config pin names (as written: "734a2e0")
// resolved to its full ID, so that it compares with the group's commit. A
// commit the repository lacks stays as written: check names that problem,
// status only shows it.
func (rd *reading) pin(p *ring.Pin) *ring.Pin {
	if p == nil || p.Commit == "" {
		return p
	}
	ci, err := rd.Commits.Commit(p.Commit)
	if err != nil {
		return p
	}
	resolved := *p
	resolved.Commit = ci.Hash
	return &resolved
}

// commit reads a commit's time and subject, and its age now.
func (rd *reading) commit(hash string) (Commit, error) {
	ci, err := rd.Commits.Commit(hash)
	if err != nil {
		return Commit{}, err
	}
	return Commit{Hash: hash, Time: ci.Time, Age: rd.now.Sub(ci.Time), Subject: ci.Subject}, nil
}

// behind counts the commits commit lacks of src (0 when there is no src).
func (rd *reading) behind(commit, src string) (int, error) {
	if src == "" {
		return 0, nil
	}
	return rd.Commits.CountBetween(commit, src)
}

// tally counts group's hosts at commit by their evidence. Hosts are placed
// at each commit afresh, since membership can change between commits; a
// commit whose hosts cannot be read leaves the group without a tally and
// says why in placeErr.
func (rd *reading) tally(ctx context.Context, group, commit string) (t *evidence.Tally, placeErr, err error) {
	p, seen := rd.placed[commit]
	if !seen {
		p.ps, p.err = rd.Hosts.Hosts(ctx, commit)
		rd.placed[commit] = p
	}
	if p.err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		return nil, p.err, nil
	}
	var hosts []string
	for _, pl := range p.ps {
		if pl.Group == group {
			hosts = append(hosts, pl.Host)
		}
	}
	note, err := rd.Evidence.Get(commit)
	if err != nil {
		return nil, nil, err
	}
	tally := note.Tally(hosts)
	return &tally, nil, nil
}

// soakLeft says how much longer position must sit on ring before the next
// ring may take it; the ledger is read once, and only when a soak asks.
func (rd *reading) soakLeft(ringName string, need time.Duration, position string) (time.Duration, error) {
	if need <= 0 {
		return 0, nil
	}
	if !rd.read {
		entries, err := rd.Ledger.Entries(0)
		if err != nil {
			return 0, err
		}
		rd.entries, rd.read = entries, true
	}
	return soak.Left(rd.entries, ringName, need, position, rd.now, rd.Commits)
}

// inputs reads the key inputs pinned at commit.
func (rd *reading) inputs(commit string) Inputs {
	ins, err := rd.Inputs.KeyInputs(commit)
	return Inputs{Inputs: ins, Err: err}
}

// Metrics is the overview as the metrics file shows it: per ring the
// position's age, behind and soak left, the hosts of all its groups by
// evidence, its pinned groups and whether it is frozen or held.
func (ov *Overview) Metrics() metrics.Snapshot {
	snap := metrics.Snapshot{Time: ov.Time}
	if ov.Dev.Commit.Hash != "" {
		snap.DevCommitAge = ov.Dev.Commit.Age
	}
	for _, r := range ov.Rings {
		m := metrics.Ring{Name: r.Name, Frozen: r.Frozen != nil, Held: r.Hold != nil}
		if r.Position.Hash != "" {
			m.PositionAge, m.Behind, m.SoakLeft = r.Position.Age, r.Behind, r.SoakLeft
		}
		for _, g := range r.Groups {
			if g.Pinned {
				m.PinnedGroups++
			}
			if t := g.Evidence; t != nil {
				m.Green, m.Red, m.Missing = m.Green+t.Green, m.Red+t.Red, m.Missing+t.Missing
			}
		}
		if o := ov.Observed; o != nil {
			for _, ro := range o.Rings {
				if ro.Ring == r.Name {
					m.Converged, m.Unknown = ro.Converged, ro.Unknown
				}
			}
		}
		snap.Rings = append(snap.Rings, m)
	}
	if o := ov.Observed; o != nil {
		snap.Observe = &metrics.Observe{Up: o.Err == nil}
		for _, h := range o.Hosts {
			if c, ok := o.Running[h.Host]; ok {
				snap.Observe.Hosts = append(snap.Observe.Hosts, metrics.HostRunning{Host: h.Host, Group: h.Group, Ring: h.Ring, CommitAge: c.Age})
			}
		}
	}
	return snap
}
