package gitrepo

import (
	"errors"
	"fmt"
	"sort"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
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
		ok, err = s.walker().isAncestor(a, d)
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
		in, err := s.walker().between(b, t)
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
		w := s.walker()
		ids, err := w.between(b, t)
		if err != nil {
			return err
		}
		type entry struct {
			hash plumbing.Hash
			when int64
		}
		in := make([]entry, len(ids))
		for i, id := range ids {
			_, when := w.genWhen(id)
			in[i] = entry{w.hash(id), when}
		}
		sort.SliceStable(in, func(i, j int) bool { return in[i].when > in[j].when })
		if max > 0 && len(in) > max {
			in = in[:max]
		}
		for _, e := range in {
			c, err := object.GetCommit(s.st, e.hash)
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
	return fmt.Errorf(format+": %w", append(args, err)...)
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

// The walks below are git's. Commits are numbered: graph positions first
// (see commitGraph), then the commits the graph does not cover, read from
// the object database as the walk meets them ("extras"). Per-commit state
// is a byte in a slice indexed by that number, so a walk allocates nothing
// per commit the graph covers.
//
// Generation numbers come from the commit-graph and are exact (a commit's
// generation is above all its ancestors'); commits the graph does not cover
// get an infinite generation, which is still correct because a graph commit
// never descends from a commit outside the graph. Where generations are
// equal (both infinite), commit time orders a walk; it only decides how
// early a walk can stop, never the answer of IsAncestor.
const (
	sideA   uint8 = 1 << iota // reached from the ancestor / base
	sideB                     // reached from the descendant / tip
	queued                    // in the queue
	counted                   // counted by between
	seen                      // visited by reaches

	sides = sideA | sideB
)

// extra is a commit the commit-graph does not cover.
type extra struct {
	hash    plumbing.Hash
	parents []plumbing.Hash
	when    int64
}

// qent is a queued commit with its sort key.
type qent struct {
	gen  uint64
	when int64
	seq  uint32
	id   uint32
}

// before orders the queue: higher generation, then later commit time, then
// first queued.
func (a *qent) before(b *qent) bool {
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
func (a *qent) below(b *qent) bool {
	if a.gen != b.gen {
		return a.gen < b.gen
	}
	return a.when < b.when
}

type walker struct {
	s       *store
	g       *commitGraph // nil without a commit-graph
	base    uint32       // commits in g: numbers from base on are extras
	flags   []uint8      // per commit number
	touched []uint32     // graph commits whose flags are set, for reset
	extras  []extra
	extraID map[plumbing.Hash]uint32
	q       []qent // a binary heap
	seq     uint32
	onlyB   int // queued commits whose sides are exactly sideB
	pbuf    []uint32
	stack   []uint32
}

// walker returns the store's walker, reset. Walks run under Repo.mu, one
// at a time, so one walker serves them all; load drops it.
func (s *store) walker() *walker {
	if w := s.w; w != nil {
		w.reset()
		return w
	}
	w := &walker{s: s, g: s.cg, extraID: map[plumbing.Hash]uint32{}}
	if w.g != nil {
		w.base = w.g.n
	}
	w.flags = make([]uint8, w.base)
	s.w = w
	return w
}

func (w *walker) reset() {
	for _, id := range w.touched {
		w.flags[id] = 0
	}
	w.touched = w.touched[:0]
	w.flags = w.flags[:w.base]
	if len(w.extras) > 0 {
		// Don't keep a big walk's commits alive.
		if len(w.extras) > 1024 {
			w.extras, w.extraID = nil, map[plumbing.Hash]uint32{}
		} else {
			clear(w.extras)
			w.extras = w.extras[:0]
			clear(w.extraID)
		}
	}
	w.q = w.q[:0]
	w.seq, w.onlyB = 0, 0
}

// id returns h's number, reading the commit if the graph lacks it.
func (w *walker) id(h plumbing.Hash) (uint32, error) {
	if w.g != nil {
		if pos, ok := w.g.lookup(h); ok {
			return pos, nil
		}
	}
	if id, ok := w.extraID[h]; ok {
		return id, nil
	}
	c, err := object.GetCommit(w.s.st, h)
	if err != nil {
		return 0, fmt.Errorf("commit %s: %w", h, err)
	}
	id := w.base + uint32(len(w.extras))
	w.extras = append(w.extras, extra{hash: h, parents: c.ParentHashes, when: c.Committer.When.Unix()})
	w.extraID[h] = id
	w.flags = append(w.flags, 0)
	return id, nil
}

func (w *walker) hash(id uint32) plumbing.Hash {
	if id < w.base {
		return w.g.hash(id)
	}
	return w.extras[id-w.base].hash
}

func (w *walker) genWhen(id uint32) (uint64, int64) {
	if id < w.base {
		return w.g.genWhen(id)
	}
	return infinity, w.extras[id-w.base].when
}

// parents returns id's parents, in a buffer the next call reuses.
func (w *walker) parents(id uint32) ([]uint32, error) {
	w.pbuf = w.pbuf[:0]
	if w.s.shallow != nil && w.s.shallow[w.hash(id)] {
		return nil, nil // git treats the shallow boundary as roots
	}
	if id < w.base {
		ps, err := w.g.parents(id, w.pbuf)
		if err != nil {
			return nil, fmt.Errorf("commit-graph entry of %s: %w", w.g.hash(id), err)
		}
		w.pbuf = ps
		return ps, nil
	}
	e := w.extras[id-w.base] // a copy: w.id may grow w.extras
	for i, h := range e.parents {
		p, err := w.id(h)
		if err != nil {
			return nil, fmt.Errorf("parent %d of commit %s: %w", i+1, e.hash, err)
		}
		w.pbuf = append(w.pbuf, p)
	}
	return w.pbuf, nil
}

func (w *walker) set(id uint32, f uint8) {
	old := w.flags[id]
	if old == 0 && id < w.base {
		w.touched = append(w.touched, id)
	}
	w.flags[id] = old | f
}

func (w *walker) entry(id uint32) qent {
	gen, when := w.genWhen(id)
	return qent{gen: gen, when: when, seq: w.seq, id: id}
}

func (w *walker) push(id uint32) {
	w.set(id, queued)
	if w.flags[id]&sides == sideB {
		w.onlyB++
	}
	w.seq++
	w.q = append(w.q, w.entry(id))
	q := w.q
	for i := len(q) - 1; i > 0; {
		up := (i - 1) / 2
		if !q[i].before(&q[up]) {
			break
		}
		q[i], q[up] = q[up], q[i]
		i = up
	}
}

func (w *walker) pop() qent {
	q := w.q
	top := q[0]
	last := len(q) - 1
	q[0] = q[last]
	q = q[:last]
	for i := 0; ; {
		l := 2*i + 1
		if l >= len(q) {
			break
		}
		if r := l + 1; r < len(q) && q[r].before(&q[l]) {
			l = r
		}
		if !q[l].before(&q[i]) {
			break
		}
		q[i], q[l] = q[l], q[i]
		i = l
	}
	w.q = q
	f := w.flags[top.id]
	if f&sides == sideB {
		w.onlyB--
	}
	w.flags[top.id] = f &^ queued
	return top
}

// mark adds side flags to id and queues it if that changed anything,
// keeping onlyB in step.
func (w *walker) mark(id uint32, f uint8) {
	old := w.flags[id]
	if old|f == old {
		return
	}
	if old&queued == 0 {
		w.set(id, f)
		w.push(id)
		return
	}
	if old&sides == sideB {
		w.onlyB--
	}
	w.flags[id] = old | f
	if (old|f)&sides == sideB {
		w.onlyB++
	}
}

// isAncestor reports whether a is d or one of its ancestors.
func (w *walker) isAncestor(a, d plumbing.Hash) (bool, error) {
	if a == d {
		return true, nil
	}
	ia, err := w.id(a)
	if err != nil {
		return false, err
	}
	id, err := w.id(d)
	if err != nil {
		return false, err
	}
	ga, _ := w.genWhen(ia)
	switch {
	case ga != infinity:
		return w.reaches(ia, ga, id)
	case ia >= w.base && id < w.base:
		return false, nil // a graph commit never descends from a commit outside it
	}
	return w.paint(ia, id)
}

// reaches searches d's history for a, depth first, first parents first
// (a ring position usually lies on dev's first-parent line), skipping every
// commit whose generation is not above a's: none of them can reach a. Like
// git's can_all_from_reach, it looks at no commit below a's generation.
func (w *walker) reaches(a uint32, ga uint64, d uint32) (bool, error) {
	low := func(x uint32) bool {
		if x >= w.base {
			return false
		}
		g, _ := w.g.genWhen(x)
		return g <= ga
	}
	if low(d) {
		return false, nil
	}
	w.set(d, seen)
	w.stack = append(w.stack[:0], d)
	for len(w.stack) > 0 {
		x := w.stack[len(w.stack)-1]
		w.stack = w.stack[:len(w.stack)-1]
		ps, err := w.parents(x)
		if err != nil {
			return false, err
		}
		for i := len(ps) - 1; i >= 0; i-- {
			p := ps[i]
			if p == a {
				return true, nil
			}
			if w.flags[p]&seen != 0 {
				continue
			}
			w.set(p, seen)
			if !low(p) {
				w.stack = append(w.stack, p)
			}
		}
	}
	return false, nil
}

// paint answers isAncestor when a's generation is unknown: it paints down
// from both commits. A commit reached from both sides is an ancestor of a
// (or a itself), so nothing below it can lead to a: the descendant's walk
// ends when none of its commits remain unpainted by a. The answer is exact
// whatever the commit dates.
func (w *walker) paint(a, d uint32) (bool, error) {
	w.mark(a, sideA)
	w.mark(d, sideB)
	for w.onlyB > 0 {
		x := w.pop()
		fx := w.flags[x.id] & sides
		ps, err := w.parents(x.id)
		if err != nil {
			return false, err
		}
		for _, p := range ps {
			w.mark(p, fx)
			if p == a && w.flags[a]&sideB != 0 {
				return true, nil
			}
		}
	}
	return false, nil
}

// between returns the commits reachable from tip and not from base (base
// may be zero), like git's base..tip. The walk stops once every queued
// commit is reachable from base and each is ordered below every commit
// counted so far, so none of them can reach a counted commit: exact with
// generation numbers, and, beyond the commit-graph, as long as no commit is
// dated after its child (git rev-list makes the same assumption). A few
// extra steps, like git's SLOP, absorb small clock skew.
func (w *walker) between(base, tip plumbing.Hash) ([]uint32, error) {
	it, err := w.id(tip)
	if err != nil {
		return nil, err
	}
	if !base.IsZero() {
		ib, err := w.id(base)
		if err != nil {
			return nil, err
		}
		w.mark(ib, sideA)
	}
	w.mark(it, sideB)

	const slop = 5
	var found []uint32
	var lowest qent // the counted commit ordered last, if any were
	extra := 0
	for len(w.q) > 0 {
		if w.onlyB == 0 {
			if len(found) == 0 {
				break
			}
			if w.q[0].below(&lowest) {
				if extra++; extra > slop {
					break
				}
			} else {
				extra = 0
			}
		}
		x := w.pop()
		fx := w.flags[x.id]
		if fx&sides == sideB && fx&counted == 0 {
			w.flags[x.id] = fx | counted
			found = append(found, x.id)
			if len(found) == 1 || x.below(&lowest) {
				lowest = x
			}
		}
		ps, err := w.parents(x.id)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			w.mark(p, fx&sides)
		}
	}
	out := found[:0]
	for _, id := range found {
		if w.flags[id]&sides == sideB {
			out = append(out, id)
		}
	}
	return out, nil
}
