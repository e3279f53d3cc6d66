// Package pin is `ringflow pin GROUP [REV]` and `ringflow unpin GROUP`: a
// person holds a group's branch where it is while its ring moves (the field
// boards stay on what they run), optionally moving it first to a chosen
// commit, and later lets it follow its ring again. The pin is a ledger
// entry (who, when, why), pushed with everything else; the config's `pin:`
// stays the standing policy of a group and is not lifted here.
package pin

import (
	"context"
	"fmt"
	"strings"

	"github.com/ringflow/ringflow/pkg/suggest"

	"github.com/ringflow/ringflow/pkg/evidence"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/membership"
	"github.com/ringflow/ringflow/pkg/promote"
	"github.com/ringflow/ringflow/pkg/ring"
)

// Positions reads where the rings stand, with their pins (*fleet.Fleet).
type Positions interface {
	State(ctx context.Context) (*fleet.State, error)
}

// HostLister places the hosts of the flake at a commit (*fleet.Fleet).
type HostLister interface {
	Hosts(ctx context.Context, commit string) ([]membership.Placement, error)
}

// EvidenceReader reads a commit's build evidence (*evidence.Store).
type EvidenceReader interface {
	Get(commit string) (*evidence.Note, error)
}

// Mover plans and records a one-group promotion (*promote.Promoter).
type Mover interface {
	Plan(ctx context.Context, o promote.Options) (*promote.Promotion, error)
	Entry(pr *promote.Promotion, o promote.Options) ledger.Entry
}

// Pinner pins and unpins the groups of a fleet.
type Pinner struct {
	Positions Positions
	Hosts     HostLister
	Evidence  EvidenceReader
	Mover     Mover
	Lander    fleet.Lander
}

// New is the pinner of a fleet.
func New(fl *fleet.Fleet) *Pinner {
	return &Pinner{Positions: fl, Hosts: fl, Evidence: fl.Evidence, Mover: promote.New(fl), Lander: fl}
}

// Options says which group to pin or unpin, where to, and why.
type Options struct {
	Group  string
	Rev    string // pin only: move the group there first (promote --group)
	Unpin  bool
	Reason string // required: the ledger keeps it
	DryRun bool
}

// Result is what pinning or unpinning did.
type Result struct {
	Group, Ring string
	Commit      string    // where the group's branch stands (after the move)
	Was         *ring.Pin // what pinned it before; nil = nothing
	// Move is the promotion that put the group at Rev first (pin REV).
	Move *promote.Promotion
	// Entry is the pin or unpin recorded; nil when there was nothing to
	// record or on a dry run.
	Entry *ledger.Entry
	// Impact is, on unpin, what the group's hosts meet when its ring next
	// moves them: the ring's position, from their evidence.
	Impact *Impact
}

// Impact compares a group's hosts at the group's commit and at its ring's
// position, by their evidence: which change derivation.
type Impact struct {
	From, To string   // the group's commit, the ring's position
	Hosts    []string // the group's hosts at To
	Changed  []string // those whose derivation differs
	Unknown  []string // those without green evidence at both
}

// UnknownGroupError names a group the config does not have. It exits 2.
type UnknownGroupError struct {
	Group string
	Known []string
}

func (e *UnknownGroupError) Error() string {
	msg := fmt.Sprintf("unknown group %q", e.Group)
	if s := suggest.Nearest(e.Group, e.Known); s != "" {
		msg += ": did you mean " + s + "?"
	}
	return msg + " (groups: " + strings.Join(e.Known, ", ") + ")"
}

// ConfigPinError says the config pins the group, which unpin does not lift.
// It exits 2.
type ConfigPinError struct {
	Group, Ring, Key string
}

func (e *ConfigPinError) Error() string {
	return fmt.Sprintf("group %s is pinned by the config (%s), its standing policy, which ringflow unpin does not lift: "+
		"move it on purpose with `ringflow promote %s --group %s [REV]`, or remove its pin: from the config to let it follow %s",
		e.Group, e.Key, e.Ring, e.Group, e.Ring)
}

// Run pins or unpins a group. Pinning a group the ledger already pins
// records nothing, unless it is moved (Rev); unpinning a group the ledger
// does not pin records nothing.
func (p *Pinner) Run(ctx context.Context, o Options) (*Result, error) {
	if o.Reason == "" {
		return nil, fmt.Errorf("pin: a reason is required: the ledger keeps why %s was pinned or unpinned", o.Group)
	}
	st, err := p.Positions.State(ctx)
	if err != nil {
		return nil, err
	}
	rs, gs, err := find(st, o.Group)
	if err != nil {
		return nil, err
	}
	res := &Result{Group: o.Group, Ring: rs.Ring.Name, Commit: gs.Commit, Was: gs.Group.Pin}
	ledgerPinned := gs.Group.Pin != nil && !gs.Group.Pin.Time.IsZero()
	if o.Unpin {
		return p.unpin(ctx, o, rs, gs, res, ledgerPinned)
	}
	var moves []ring.Move
	var entries []ledger.Entry
	if o.Rev != "" {
		popts := promote.Options{Ring: rs.Ring.Name, Group: o.Group, Rev: o.Rev, Reason: o.Reason}
		pr, err := p.Mover.Plan(ctx, popts)
		if err != nil {
			return nil, err
		}
		res.Move = pr
		if pr.Refused() {
			return res, &ring.GateRefusedError{Ring: rs.Ring.Name + " group " + o.Group, Refusals: pr.Refusals}
		}
		res.Commit = pr.Candidate
		if !pr.NothingToDo() {
			moves = pr.Moves
			entries = append(entries, p.Mover.Entry(pr, popts))
		}
	}
	if ledgerPinned && len(moves) == 0 {
		return res, nil // pinned already, and stays where it is
	}
	if o.DryRun {
		return res, nil
	}
	e := p.Lander.NewEntry(ledger.EventPin, rs.Ring.Name)
	e.Group, e.Reason, e.To = o.Group, o.Reason, res.Commit
	entries = append(entries, e)
	landed, err := p.Lander.Land(ctx, fleet.Landing{Moves: moves, Entries: entries,
		Why: fmt.Sprintf("ringflow: pin %s at %s: %s", o.Group, ring.Short(res.Commit), o.Reason)})
	if err != nil {
		return nil, err
	}
	if res.Move != nil {
		res.Move.Moves = landed
	}
	res.Entry = &e
	return res, nil
}

func (p *Pinner) unpin(ctx context.Context, o Options, rs fleet.RingState, gs ring.GroupState, res *Result, ledgerPinned bool) (*Result, error) {
	if o.Rev != "" {
		return nil, fmt.Errorf("unpin takes no commit: the group follows %s from its next promotion (or now: ringflow promote %s --group %s)", rs.Ring.Name, rs.Ring.Name, o.Group)
	}
	if !ledgerPinned {
		if gs.Group.Pin != nil && gs.Group.Pin.Config != "" {
			return nil, &ConfigPinError{Group: o.Group, Ring: rs.Ring.Name, Key: gs.Group.Pin.Config}
		}
		return res, nil // not pinned: nothing to do
	}
	impact, err := p.impact(ctx, gs, rs.Position)
	if err != nil {
		return nil, err
	}
	res.Impact = impact
	if o.DryRun {
		return res, nil
	}
	e := p.Lander.NewEntry(ledger.EventUnpin, rs.Ring.Name)
	e.Group, e.Reason = o.Group, o.Reason
	if _, err := p.Lander.Land(ctx, fleet.Landing{Entries: []ledger.Entry{e}, Why: fmt.Sprintf("ringflow: unpin %s: %s", o.Group, o.Reason)}); err != nil {
		return nil, err
	}
	res.Entry = &e
	return res, nil
}

// impact compares the group's hosts where the group stands and at the
// ring's position; nil when either is unknown or they are the same.
func (p *Pinner) impact(ctx context.Context, gs ring.GroupState, position string) (*Impact, error) {
	if gs.Commit == "" || position == "" || gs.Commit == position {
		return nil, nil
	}
	ps, err := p.Hosts.Hosts(ctx, position)
	if err != nil {
		return nil, err
	}
	from, err := p.Evidence.Get(gs.Commit)
	if err != nil {
		return nil, err
	}
	to, err := p.Evidence.Get(position)
	if err != nil {
		return nil, err
	}
	im := &Impact{From: gs.Commit, To: position}
	for _, pl := range ps {
		if pl.Group != gs.Group.Name {
			continue
		}
		im.Hosts = append(im.Hosts, pl.Host)
		a, b := from.Hosts[pl.Host], to.Hosts[pl.Host]
		switch {
		case a.Status != evidence.Green || b.Status != evidence.Green || a.Drv == "" || b.Drv == "":
			im.Unknown = append(im.Unknown, pl.Host)
		case a.Drv != b.Drv:
			im.Changed = append(im.Changed, pl.Host)
		}
	}
	return im, nil
}

// find is the group named name and its ring.
func find(st *fleet.State, name string) (fleet.RingState, ring.GroupState, error) {
	var known []string
	for _, rs := range st.Rings {
		for _, gs := range rs.Groups {
			if gs.Group.Name == name {
				return rs, gs, nil
			}
			known = append(known, gs.Group.Name)
		}
	}
	return fleet.RingState{}, ring.GroupState{}, &UnknownGroupError{Group: name, Known: known}
}
