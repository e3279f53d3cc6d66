package ring

import (
	"fmt"
	"strings"
)

// How a group branch moved outside ringflow.
const (
	DriftDeleted   = "deleted"       // the branch is gone
	DriftRewound   = "rewound"       // back to an ancestor of where it was
	DriftForward   = "moved forward" // fast-forwarded, or committed on
	DriftRewritten = "rewritten"     // onto another line of history
)

// Drift is a group branch that is not where the ledger last recorded it:
// someone moved it outside ringflow.
type Drift struct {
	Group    string `json:"group"`
	Ring     string `json:"ring"`
	Branch   string `json:"branch"`
	Recorded string `json:"recorded"` // the head the ledger last recorded
	Head     string `json:"head"`     // where it is; "" = deleted
	Kind     string `json:"kind"`     // DriftDeleted, DriftRewound, …
}

func (d Drift) String() string {
	if d.Kind == DriftDeleted {
		return fmt.Sprintf("branch %s (group %s, ring %s) was deleted outside ringflow; the ledger has it at %s",
			d.Branch, d.Group, d.Ring, Short(d.Recorded))
	}
	return fmt.Sprintf("branch %s (group %s, ring %s) was %s outside ringflow: the ledger has it at %s, it is at %s",
		d.Branch, d.Group, d.Ring, d.Kind, Short(d.Recorded), Short(d.Head))
}

// Remedy names the two commands a person chooses between.
func (d Drift) Remedy() string {
	if d.Kind == DriftDeleted {
		return fmt.Sprintf("run `ringflow restore %s` to put it back where the ledger has it", d.Ring)
	}
	return fmt.Sprintf("run `ringflow restore %s` to put it back where the ledger has it (forward), or `ringflow adopt %s --reason TEXT` to record it where it stands",
		d.Ring, d.Ring)
}

// DriftOf compares a group branch with the ledger's record of it: nil when
// it is where the ledger has it, or the ledger never recorded it.
func DriftOf(gs GroupState, a Ancestry) (*Drift, error) {
	head := gs.head()
	if gs.Recorded == "" || head == gs.Recorded {
		return nil, nil
	}
	d := &Drift{Group: gs.Group.Name, Ring: gs.Group.Ring, Branch: gs.Group.Branch, Recorded: gs.Recorded, Head: head}
	switch {
	case head == "":
		d.Kind = DriftDeleted
	default:
		fwd, err := a.IsAncestor(gs.Recorded, head)
		if err != nil {
			return nil, err
		}
		back := false
		if !fwd {
			if back, err = a.IsAncestor(head, gs.Recorded); err != nil {
				return nil, err
			}
		}
		switch {
		case fwd:
			d.Kind = DriftForward
		case back:
			d.Kind = DriftRewound
		default:
			d.Kind = DriftRewritten
		}
	}
	return d, nil
}

// Drifts are the drifted branches among groups.
func Drifts(groups []GroupState, a Ancestry) ([]Drift, error) {
	var out []Drift
	for _, gs := range groups {
		d, err := DriftOf(gs, a)
		if err != nil {
			return nil, err
		}
		if d != nil {
			out = append(out, *d)
		}
	}
	return out, nil
}

// DriftGate refuses a promotion into or out of a ring one of whose branches
// moved outside ringflow, until a person restores or adopts it.
type DriftGate struct{}

// Name implements Gate.
func (DriftGate) Name() string { return "drift" }

// Check implements Gate.
func (DriftGate) Check(req *Request, a Ancestry) (string, error) {
	var parts []string
	for _, side := range []struct {
		groups []GroupState
		what   string
	}{{req.SourceGroups, "out of"}, {req.Groups, "into"}} {
		ds, err := Drifts(side.groups, a)
		if err != nil {
			return "", err
		}
		for _, d := range ds {
			parts = append(parts, fmt.Sprintf("no promotion %s ring %s: %s; %s", side.what, d.Ring, d, d.Remedy()))
		}
	}
	return strings.Join(parts, "; "), nil
}
