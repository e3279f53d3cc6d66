package promote

import (
	"fmt"
	"strings"

	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/ring"
)

// Counter counts commits in base..tip (*gitrepo.Repo).
type Counter interface {
	CountBetween(base, tip string) (int, error)
}

// Idle says why a promotion of a ring to its default candidate has
// nothing to do: the ring holds it already, and so may the rings before
// it; what holds things up is the nearest of them whose own source is
// ahead (Behind), or nothing at all (dev is there too).
type Idle struct {
	Ring   string
	Holds  string   // the commit the ring holds, its candidate
	SameAs []string // the rings before it that hold it too, nearest first
	// Behind is the nearest ring (the ring's source or one before it)
	// whose source is elsewhere; "" when every ring before holds it and
	// so does dev.
	Behind string
	Source string // Behind's source: the ring before it, or dev
	At     string // where Source stands
	Count  int    // commits Source has that Behind lacks; -1 = not counted
}

// idle works out Idle for ring i, which holds candidate; nil when the
// rings do not stand as that tells (the candidate was not the source's).
func (p *Promoter) idle(st *fleet.State, i int, candidate string) *Idle {
	id := &Idle{Ring: st.Rings[i].Ring.Name, Holds: candidate, Count: -1}
	for k := i - 1; k >= 0; k-- {
		rs := st.Rings[k]
		if rs.Err != nil || rs.Position != candidate {
			return nil
		}
		id.SameAs = append(id.SameAs, rs.Ring.Name)
		src, at := st.Dev, st.DevCommit
		if k > 0 {
			src, at = st.Rings[k-1].Ring.Name, st.Rings[k-1].Position
		}
		if at != "" && at != candidate {
			id.Behind, id.Source, id.At = rs.Ring.Name, src, at
			break
		}
	}
	if id.Behind == "" && st.DevCommit != candidate {
		return nil
	}
	if id.Behind != "" && p.Count != nil {
		if n, err := p.Count.CountBetween(candidate, id.At); err == nil {
			id.Count = n
		}
	}
	return id
}

// Why says it in a sentence, without "nothing to do: ".
func (id *Idle) Why() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ring %s already holds %s", id.Ring, ring.Short(id.Holds))
	switch len(id.SameAs) {
	case 0:
	case 1:
		fmt.Fprintf(&b, ", as does %s", id.SameAs[0])
	default:
		fmt.Fprintf(&b, ", as do %s", strings.Join(id.SameAs, " and "))
	}
	switch {
	case id.Behind == "" && len(id.SameAs) == 0:
		b.WriteString(", dev's head")
	case id.Behind == "":
		b.WriteString(", and dev is there too")
	case id.Count > 0:
		fmt.Fprintf(&b, "; %s is %d commit%s behind %s (at %s): promote %s first (`%s`)", id.Behind, id.Count, plural(id.Count),
			id.Source, ring.Short(id.At), id.Behind, id.Next())
	default:
		fmt.Fprintf(&b, "; %s is at %s: promote %s first (`%s`)", id.Source, ring.Short(id.At), id.Behind, id.Next())
	}
	return b.String()
}

// Next is the command that moves things on; "" when nothing waits.
func (id *Idle) Next() string {
	if id.Behind == "" {
		return ""
	}
	return "ringflow promote " + id.Behind
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
