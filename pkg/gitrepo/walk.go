package gitrepo

import (
	"container/heap"
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object/commitgraph"
)

// IsAncestor reports whether ancestor is reachable from descendant, or equal
// to it (git merge-base --is-ancestor).
func (r *Repo) IsAncestor(ancestor, descendant string) (bool, error) {
	var ok bool
	err := r.read(func(s *store) error {
		a, err := s.resolve(ancestor)
		if err != nil {
			return revError(ancestor, err)
		}
		d, err := s.resolve(descendant)
		if err != nil {
			return revError(descendant, err)
		}
		ok, err = newWalker(s).isAncestor(a, d)
		return err
	})
	if err != nil {
		return false, walkError(err, "is %s an ancestor of %s", ancestor, descendant)
	}
	return ok, nil
}

// CountBetween counts the commits reachable from tip but not from base, like
// `git rev-list --count base..tip`; base "" counts all of tip's history.
func (r *Repo) CountBetween(base, tip string) (int, error) {
	var n int
	err := r.read(func(s *store) error {
		b, t, err := s.resolveRange(base, tip)
		if err != nil {
			return err
		}
		in, err := newWalker(s).between(b, t)
		n = len(in)
		return err
	})
	if err != nil {
		return 0, walkError(err, "count %s..%s", base, tip)
	}
	return n, nil
}

// Log returns the commits in base..tip (base "" = all of tip's history),
// newest first by committer time, at most max of them (max <= 0: all).
func (r *Repo) Log(base, tip string, max int) ([]CommitInfo, error) {
	var out []CommitInfo
	err := r.read(func(s *store) error {
		out = nil
		b, t, err := s.resolveRange(base, tip)
		if err != nil {
			return err
		}
		in, err := newWalker(s).between(b, t)
		if err != nil {
			return err
		}
		sort.SliceStable(in, func(i, j int) bool { return in[i].when > in[j].when })
		if max > 0 && len(in) > max {
			in = in[:max]
		}
		for _, n := range in {
			c, err := n.node.Commit()
			if err != nil {
				return err
			}
			out = append(out, commitInfo(c))
		}
		return nil
	})
	if err != nil {
		return nil, walkError(err, "log %s..%s", base, tip)
	}
	return out, nil
}

// walkError prefixes err with what was asked, unless it already names an
// unknown revision.
func walkError(err error, format string, args ...any) error {
	if errors.Is(err, ErrUnknownRevision) {
		return err
	}
	return fmt.Errorf("gitrepo: "+format+": %w", append(args, err)...)
}

func (s *store) resolveRange(base, tip string) (b, t plumbing.Hash, err error) {
	if base != "" {
		if b, err = s.resolve(base); err != nil {
			return b, t, revError(base, err)
		}
	}
	if t, err = s.resolve(tip); err != nil {
		return b, t, revError(tip, err)
	}
	return b, t, nil
}

// The walks below are git's "paint down" walks. Nodes are taken newest
// first by (generation, commit time): generation numbers come from the
// commit-graph and are exact (a commit's generation is above all its
// ancestors'); commits the graph does not cover get an infinite generation,
// which is still correct because a graph commit never descends from a
// commit outside the graph. Among those, commit time orders the walk; it
// only decides how early a walk can stop, never the answer of IsAncestor.
const (
	sideA uint8 = 1 << iota // reached from the ancestor / base
	sideB                   // reached from the descendant / tip
)

const infinity = math.MaxUint64

type wnode struct {
	hash    plumbing.Hash
	node    commitgraph.CommitNode
	gen     uint64
	when    int64
	flags   uint8
	seq     int
	index   int // position in the queue, -1 when not queued
	counted bool
}

// before orders the queue: higher generation, then later commit time, then
// first seen.
func (a *wnode) before(b *wnode) bool {
	if a.gen != b.gen {
		return a.gen > b.gen
	}
	if a.when != b.when {
		return a.when > b.when
	}
	return a.seq < b.seq
}

// below reports whether a is strictly lower than b by generation, or by
// commit time at equal generation. Then b is not an ancestor of a (for
// commits outside the commit-graph: barring clock skew).
func (a *wnode) below(b *wnode) bool {
	if a.gen != b.gen {
		return a.gen < b.gen
	}
	return a.when < b.when
}

type queue []*wnode

func (q queue) Len() int           { return len(q) }
func (q queue) Less(i, j int) bool { return q[i].before(q[j]) }
func (q queue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index = i
	q[j].index = j
}
func (q *queue) Push(x any) {
	n := x.(*wnode)
	n.index = len(*q)
	*q = append(*q, n)
}
func (q *queue) Pop() any {
	old := *q
	n := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	n.index = -1
	return n
}

type walker struct {
	s     *store
	nodes map[plumbing.Hash]*wnode
	q     queue
	seq   int
	onlyB int // queued nodes whose flags are exactly sideB
}

func newWalker(s *store) *walker {
	return &walker{s: s, nodes: make(map[plumbing.Hash]*wnode)}
}

func (w *walker) get(h plumbing.Hash) (*wnode, error) {
	if n, ok := w.nodes[h]; ok {
		return n, nil
	}
	cn, err := w.s.nodes.Get(h)
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", h, err)
	}
	return w.wrap(cn), nil
}

func (w *walker) wrap(cn commitgraph.CommitNode) *wnode {
	gen := cn.Generation()
	if gen == 0 {
		// A graph written by old git without generations: unknown.
		gen = infinity
	}
	w.seq++
	n := &wnode{hash: cn.ID(), node: cn, gen: gen, when: cn.CommitTime().Unix(), seq: w.seq, index: -1}
	w.nodes[n.hash] = n
	return n
}

func (w *walker) push(n *wnode) {
	if n.index >= 0 {
		return
	}
	if n.flags == sideB {
		w.onlyB++
	}
	heap.Push(&w.q, n)
}

func (w *walker) pop() *wnode {
	n := heap.Pop(&w.q).(*wnode)
	if n.flags == sideB {
		w.onlyB--
	}
	return n
}

// mark adds flags to n and queues it if that changed anything, keeping
// onlyB in step.
func (w *walker) mark(n *wnode, flags uint8) {
	if n.flags|flags == n.flags {
		return
	}
	if n.index >= 0 && n.flags == sideB {
		w.onlyB--
	}
	n.flags |= flags
	if n.index >= 0 {
		if n.flags == sideB {
			w.onlyB++
		}
		return
	}
	w.push(n)
}

func (w *walker) parents(n *wnode) ([]*wnode, error) {
	if w.s.shallow[n.hash] {
		return nil, nil // git treats the shallow boundary as roots
	}
	hs := n.node.ParentHashes()
	ps := make([]*wnode, 0, len(hs))
	for i, h := range hs {
		if p, ok := w.nodes[h]; ok {
			ps = append(ps, p)
			continue
		}
		cn, err := n.node.ParentNode(i)
		if err != nil {
			return nil, fmt.Errorf("parent %d of commit %s: %w", i+1, n.hash, err)
		}
		ps = append(ps, w.wrap(cn))
	}
	return ps, nil
}

// isAncestor paints from both commits. A commit reached from both sides is
// an ancestor of a (or a itself), so nothing below it can lead to a: the
// descendant's walk ends when none of its commits remain unpainted by a.
// The answer is exact whatever the commit dates; generation numbers, when
// known, also stop the walk at commits too old to reach a.
func (w *walker) isAncestor(a, d plumbing.Hash) (bool, error) {
	if a == d {
		return true, nil
	}
	na, err := w.get(a)
	if err != nil {
		return false, err
	}
	nd, err := w.get(d)
	if err != nil {
		return false, err
	}
	// Generation numbers: a commit can only reach commits of lower
	// generation, so the descendant's side need not look at commits at or
	// below a's generation.
	tooLow := func(n *wnode) bool { return na.gen != infinity && n.gen <= na.gen }
	if tooLow(nd) {
		return false, nil
	}
	w.mark(na, sideA)
	w.mark(nd, sideB)
	for w.onlyB > 0 {
		x := w.pop()
		ps, err := w.parents(x)
		if err != nil {
			return false, err
		}
		for _, p := range ps {
			w.mark(p, x.flags)
			if p == na && na.flags&sideB != 0 {
				return true, nil
			}
			if p.flags == sideB && tooLow(p) {
				w.drop(p)
			}
		}
	}
	return false, nil
}

// drop takes n out of the queue.
func (w *walker) drop(n *wnode) {
	if n.index < 0 {
		return
	}
	if n.flags == sideB {
		w.onlyB--
	}
	heap.Remove(&w.q, n.index)
}

// between returns the commits reachable from tip and not from base (base
// may be zero), like git's base..tip. The walk stops once every queued
// commit is reachable from base and each is ordered below every commit
// counted so far, so none of them can reach a counted commit: exact with
// generation numbers, and, beyond the commit-graph, as long as no commit is
// dated after its child (git rev-list makes the same assumption). A few
// extra steps, like git's SLOP, absorb small clock skew.
func (w *walker) between(base, tip plumbing.Hash) ([]*wnode, error) {
	nt, err := w.get(tip)
	if err != nil {
		return nil, err
	}
	if !base.IsZero() {
		nb, err := w.get(base)
		if err != nil {
			return nil, err
		}
		w.mark(nb, sideA)
	}
	w.mark(nt, sideB)

	const slop = 5
	var counted []*wnode
	var lowest *wnode // the counted commit ordered last
	extra := 0
	for len(w.q) > 0 {
		if w.onlyB == 0 {
			if lowest == nil {
				break
			}
			if w.q[0].below(lowest) {
				if extra++; extra > slop {
					break
				}
			} else {
				extra = 0
			}
		}
		x := w.pop()
		if x.flags == sideB && !x.counted {
			x.counted = true
			counted = append(counted, x)
			if lowest == nil || x.below(lowest) {
				lowest = x
			}
		}
		ps, err := w.parents(x)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			w.mark(p, x.flags)
		}
	}
	out := counted[:0]
	for _, n := range counted {
		if n.flags == sideB {
			out = append(out, n)
		}
	}
	return out, nil
}
