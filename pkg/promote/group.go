package promote

import (
	"context"
	"fmt"
	"strings"

	"github.com/ringflow/ringflow/pkg/suggest"

	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/ring"
)

// UnknownGroupError names a group that is not one of the ring's. It exits 2.
type UnknownGroupError struct {
	Ring, Group string
	OfRing      []string // the ring's groups
	InRing      string   // the ring that has the group, if another does
}

func (e *UnknownGroupError) Error() string {
	if e.InRing != "" {
		return fmt.Sprintf("group %q is in ring %s, not %s: ringflow promote %s --group %s", e.Group, e.InRing, e.Ring, e.InRing, e.Group)
	}
	msg := fmt.Sprintf("ring %s has no group %q", e.Ring, e.Group)
	if s := suggest.Nearest(e.Group, e.OfRing); s != "" {
		msg += ": did you mean " + s + "?"
	}
	return msg + " (its groups: " + strings.Join(e.OfRing, ", ") + ")"
}

// planGroup decides a one-group promotion (promote RING --group GROUP
// [REV]): that group moves, pinned or not, to REV or else to the ring's
// position, always forward. The candidate must lie on the ring or on its
// source; the group's own hosts need evidence there; a freeze, a hold and
// the signature gate hold it as any promotion. Its soak and verify hook
// are the source ring's, and apply only to a candidate newer than what the
// ring itself took: the ring passed them for everything it holds.
func (p *Promoter) planGroup(ctx context.Context, o Options, i int, st *fleet.State) (*Promotion, error) {
	rs := st.Rings[i]
	gs, err := groupOf(rs, o.Group, st)
	if err != nil {
		return nil, err
	}
	if rs.Err != nil {
		return nil, rs.Err
	}
	candidate := rs.Position
	if o.decided != "" {
		candidate = o.decided
	} else if o.Rev != "" {
		if candidate, err = p.Positions.Resolve(ctx, o.Rev); err != nil {
			return nil, err
		}
	} else if candidate == "" {
		return nil, fmt.Errorf("ring %s has no position for group %s to catch up with: name the commit, ringflow promote %s --group %s REV", rs.Ring.Name, o.Group, rs.Ring.Name, o.Group)
	}
	srcName, srcHead := st.Source(i)
	req := &ring.Request{Ring: rs.Ring.Name, Source: srcName, SourceHead: srcHead, Candidate: candidate,
		Groups: []ring.GroupState{gs}, Dev: st.Dev, DevHead: st.DevCommit, Hold: rs.Hold,
		Group: o.Group, RingHead: rs.Position}
	if i > 0 {
		req.SourceGroups = st.Rings[i-1].Groups
	}
	pr := &Promotion{From: gs.Commit, Group: o.Group}
	if gs.Commit != candidate {
		if _, err = p.addEvidence(ctx, req); err != nil {
			return nil, err
		}
		newer := rs.Position == ""
		if !newer {
			held, err := p.Ancestry.IsAncestor(candidate, rs.Position)
			if err != nil {
				return nil, err
			}
			newer = !held
		}
		if err := p.gateFacts(ctx, pr, i, req, o.ForceSoak, newer); err != nil {
			return nil, err
		}
	}
	return p.decide(pr, req, o.Gates)
}

// groupOf finds the group named name in ring rs.
func groupOf(rs fleet.RingState, name string, st *fleet.State) (ring.GroupState, error) {
	e := &UnknownGroupError{Ring: rs.Ring.Name, Group: name}
	for _, gs := range rs.Groups {
		if gs.Group.Name == name {
			return gs, nil
		}
		e.OfRing = append(e.OfRing, gs.Group.Name)
	}
	for _, other := range st.Rings {
		for _, gs := range other.Groups {
			if gs.Group.Name == name {
				e.InRing = other.Ring.Name
			}
		}
	}
	return ring.GroupState{}, e
}
