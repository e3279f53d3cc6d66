package gitrepo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"

	"github.com/go-git/go-git/v5/plumbing"
)

// commitGraph reads a commit-graph file, or a split chain of them, straight
// from the mapped bytes: the walks need only parents, generation and commit
// time per commit, and reading them in place costs no allocation and no
// go-git object per commit. (go-git's own reader, which store keeps for its
// CommitNodeIndex, copies every entry through ReadAt.)
//
// Commits are numbered by graph position: the base layer's commits first,
// each layer sorted by ID, exactly as the parent fields of the CDAT chunk
// number them. See git's Documentation/gitformat-commit-graph.txt.
type commitGraph struct {
	layers []graphLayer // base first
	n      uint32       // commits in all layers
	levels bool         // topological levels (generation v1) are present
}

type graphLayer struct {
	first uint32 // graph position of the layer's first commit
	n     uint32
	fan   []byte // OIDF: 256 big-endian uint32
	oids  []byte // OIDL: n sorted IDs
	cdat  []byte // CDAT: n entries of tree ID, parent 1, parent 2, level and time
	edge  []byte // EDGE: extra parents of octopus merges; may be empty
}

const (
	graphHashLen   = uint32(len(plumbing.Hash{}))
	graphCDATLen   = graphHashLen + 16
	graphNoParent  = 0x70000000
	graphEdgeBit   = 0x80000000
	graphLevelMax  = 0x3FFFFFFF // GENERATION_NUMBER_V1_MAX: "this or more"
	graphHeaderLen = 8
)

var errBadCommitGraph = errors.New("malformed commit-graph")

// addLayer parses one commit-graph file and stacks it on the layers so far.
func (g *commitGraph) addLayer(data []byte) error {
	if len(data) < graphHeaderLen || string(data[:4]) != "CGPH" || data[4] != 1 {
		return errBadCommitGraph
	}
	if data[5] != 1 || graphHashLen != 20 { // SHA-1
		return errBadCommitGraph
	}
	chunks, bases := int(data[6]), int(data[7])
	if bases != len(g.layers) {
		return errBadCommitGraph
	}
	// The table of contents: chunks+1 entries of ID and offset; the last
	// entry's offset ends the last chunk.
	toc := data[graphHeaderLen:]
	if len(toc) < (chunks+1)*12 {
		return errBadCommitGraph
	}
	var l graphLayer
	var base []byte
	for i := 0; i < chunks; i++ {
		id := string(toc[i*12 : i*12+4])
		start := binary.BigEndian.Uint64(toc[i*12+4:])
		end := binary.BigEndian.Uint64(toc[(i+1)*12+4:])
		if start > end || end > uint64(len(data)) {
			return errBadCommitGraph
		}
		c := data[start:end]
		switch id {
		case "OIDF":
			l.fan = c
		case "OIDL":
			l.oids = c
		case "CDAT":
			l.cdat = c
		case "EDGE":
			l.edge = c
		case "BASE":
			base = c
		}
	}
	if len(l.fan) != 256*4 {
		return errBadCommitGraph
	}
	n := binary.BigEndian.Uint32(l.fan[255*4:])
	if uint64(len(l.oids)) != uint64(n)*uint64(graphHashLen) || uint64(len(l.cdat)) != uint64(n)*uint64(graphCDATLen) ||
		len(l.edge)%4 != 0 || len(base) != bases*int(graphHashLen) || uint64(g.n)+uint64(n) >= graphNoParent {
		return errBadCommitGraph
	}
	l.first, l.n = g.n, n
	if n > 0 {
		// Graphs from git before 2.19 have no generation numbers: all zero.
		g.levels = (len(g.layers) == 0 || g.levels) && l.rawLevel(0) != 0
	}
	g.layers = append(g.layers, l)
	g.n += n
	return nil
}

func (l *graphLayer) rawLevel(i uint32) uint32 {
	return binary.BigEndian.Uint32(l.cdat[i*graphCDATLen+graphHashLen+8:]) >> 2
}

// layer returns the layer holding graph position pos and pos's index in it.
func (g *commitGraph) layer(pos uint32) (*graphLayer, uint32) {
	for i := len(g.layers) - 1; i > 0; i-- {
		if l := &g.layers[i]; pos >= l.first {
			return l, pos - l.first
		}
	}
	return &g.layers[0], pos
}

// lookup returns the graph position of commit h.
func (g *commitGraph) lookup(h plumbing.Hash) (uint32, bool) {
	for i := range g.layers {
		l := &g.layers[i]
		lo := uint32(0)
		if h[0] > 0 {
			lo = binary.BigEndian.Uint32(l.fan[(int(h[0])-1)*4:])
		}
		hi := binary.BigEndian.Uint32(l.fan[int(h[0])*4:])
		for lo < hi {
			mid := lo + (hi-lo)/2
			switch c := bytes.Compare(l.oids[mid*graphHashLen:(mid+1)*graphHashLen], h[:]); {
			case c == 0:
				return l.first + mid, true
			case c < 0:
				lo = mid + 1
			default:
				hi = mid
			}
		}
	}
	return 0, false
}

// hash returns the ID of the commit at pos.
func (g *commitGraph) hash(pos uint32) plumbing.Hash {
	l, i := g.layer(pos)
	var h plumbing.Hash
	copy(h[:], l.oids[i*graphHashLen:])
	return h
}

// genWhen returns pos's generation for the walks and its committer time
// in Unix seconds. The generation is the topological level, or infinity
// when unknown (no levels in the graph, or more than the format can
// store). A commit's finite generation is above every ancestor's, and no
// commit of finite generation has an ancestor of infinite generation.
func (g *commitGraph) genWhen(pos uint32) (uint64, int64) {
	l, i := g.layer(pos)
	e := l.cdat[i*graphCDATLen+graphHashLen+8:]
	hi := binary.BigEndian.Uint32(e)
	when := int64(hi&3)<<32 | int64(binary.BigEndian.Uint32(e[4:]))
	gen := uint64(hi >> 2)
	if !g.levels || gen == 0 || gen >= graphLevelMax {
		gen = infinity
	}
	return gen, when
}

// parents appends the graph positions of pos's parents to buf.
func (g *commitGraph) parents(pos uint32, buf []uint32) ([]uint32, error) {
	l, i := g.layer(pos)
	e := l.cdat[i*graphCDATLen+graphHashLen:]
	p1, p2 := binary.BigEndian.Uint32(e), binary.BigEndian.Uint32(e[4:])
	if p1 == graphNoParent {
		return buf, nil
	}
	if p1 >= g.n {
		return buf, errBadCommitGraph
	}
	buf = append(buf, p1)
	switch {
	case p2 == graphNoParent:
	case p2&graphEdgeBit == 0:
		if p2 >= g.n {
			return buf, errBadCommitGraph
		}
		buf = append(buf, p2)
	default:
		// An octopus: the rest are listed in EDGE, the last one flagged.
		for k := uint64(p2 &^ graphEdgeBit); ; k++ {
			if (k+1)*4 > uint64(len(l.edge)) {
				return buf, errBadCommitGraph
			}
			p := binary.BigEndian.Uint32(l.edge[k*4:])
			if p&^graphEdgeBit >= g.n {
				return buf, errBadCommitGraph
			}
			buf = append(buf, p&^graphEdgeBit)
			if p&graphEdgeBit != 0 {
				break
			}
		}
	}
	return buf, nil
}

const infinity = math.MaxUint64
