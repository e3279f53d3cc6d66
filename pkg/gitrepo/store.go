package gitrepo

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	graphfmt "github.com/go-git/go-git/v5/plumbing/format/commitgraph/v2"
	"github.com/go-git/go-git/v5/plumbing/object/commitgraph"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"github.com/go-git/go-git/v5/storage/filesystem/dotgit"
)

// maxOpenPacks bounds the pack files go-git keeps open between reads. With
// go-git's default of 0 it opens and closes the pack for every object, which
// makes a history walk an order of magnitude slower.
const maxOpenPacks = 64

// store is the in-process read side: go-git's filesystem storage plus the
// commit-graph, if the repository has one.
//
// go-git loads the list of pack indexes once and never looks again, so a
// pack written later by `git fetch` (ours or anyone's) is invisible to it:
// reads would report existing commits as missing. store therefore watches
// the directories git writes packs and commit-graphs into and reloads when
// they change, and Repo.read retries once after a reload when an object is
// missing (directory mtimes can be too coarse to see two quick writes).
type store struct {
	objectsDir string
	st         *filesystem.Storage
	graph      graphfmt.Index // nil when the repository has no usable commit-graph
	cg         *commitGraph   // the same commit-graph, read in place by the walks; nil with graph
	nodes      commitgraph.CommitNodeIndex
	w          *walker // reused by the walks, which run one at a time under Repo.mu
	shallow    map[plumbing.Hash]bool
	stamp      [3]time.Time
}

func openStore(gitDir, commonDir string, c cache.Object) (*store, error) {
	if c == nil {
		c = cache.NewObjectLRUDefault()
	}
	var fsys = osfs.New(gitDir)
	if commonDir != gitDir {
		fsys = dotgit.NewRepositoryFilesystem(fsys, osfs.New(commonDir))
	}
	s := &store{
		objectsDir: filepath.Join(commonDir, "objects"),
		st:         filesystem.NewStorageWithOptions(fsys, c, filesystem.Options{MaxOpenDescriptors: maxOpenPacks}),
	}
	if err := s.load(); err != nil {
		s.st.Close()
		return nil, err
	}
	return s, nil
}

func (s *store) stamps() [3]time.Time {
	var t [3]time.Time
	for i, d := range []string{"pack", "info", filepath.Join("info", "commit-graphs")} {
		if fi, err := os.Stat(filepath.Join(s.objectsDir, d)); err == nil {
			t[i] = fi.ModTime()
		}
	}
	return t
}

// load (re)reads everything store caches about the object database.
func (s *store) load() error {
	s.stamp = s.stamps()
	s.st.Reindex()
	if s.graph != nil {
		s.graph.Close()
		s.graph, s.cg = nil, nil
	}
	s.w = nil
	// A missing, unreadable or unsupported commit-graph only costs speed:
	// every commit can still be read from the object database.
	if g, cg, err := openCommitGraph(filepath.Join(s.objectsDir, "info")); err == nil {
		s.graph, s.cg = g, cg
	}
	if s.graph != nil {
		s.nodes = commitgraph.NewGraphCommitNodeIndex(s.graph, s.st)
	} else {
		s.nodes = commitgraph.NewObjectCommitNodeIndex(s.st)
	}
	sh, err := s.st.Shallow()
	if err != nil {
		return fmt.Errorf("reading shallow file: %w", err)
	}
	s.shallow = nil
	if len(sh) > 0 {
		s.shallow = make(map[plumbing.Hash]bool, len(sh))
		for _, h := range sh {
			s.shallow[h] = true
		}
	}
	return nil
}

func (s *store) close() error {
	var err error
	if s.graph != nil {
		err = s.graph.Close()
		s.graph, s.cg = nil, nil
	}
	s.w = nil
	return errors.Join(err, s.st.Close())
}

// read runs fn on the store under the lock. See store for why it reloads
// and retries.
func (r *Repo) read(fn func(s *store) error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.store == nil {
		return errors.New("repository is closed")
	}
	if r.store.stamps() != r.store.stamp {
		if err := r.store.load(); err != nil {
			return fmt.Errorf("%s: %w", r.path, err)
		}
	}
	err := fn(r.store)
	if err != nil && (errors.Is(err, plumbing.ErrObjectNotFound) || errors.Is(err, fs.ErrNotExist)) {
		if lerr := r.store.load(); lerr != nil {
			return fmt.Errorf("%s: %w", r.path, lerr)
		}
		err = fn(r.store)
	}
	return err
}

// invalidate makes the next read reload, after our own git process may have
// written objects.
func (r *Repo) invalidate() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.store != nil {
		r.store.stamp = [3]time.Time{}
	}
}

// openCommitGraph opens objects/info/commit-graph, or else the split
// commit-graph chain, memory-mapping each file: go-git reads the graph with
// several tiny ReadAt calls per commit, which are syscalls on an *os.File.
// It returns go-git's reader and ours (see commitGraph) over the same
// mappings, which closing the first unmaps.
func openCommitGraph(infoDir string) (graphfmt.Index, *commitGraph, error) {
	cg := &commitGraph{}
	single := filepath.Join(infoDir, "commit-graph")
	if m, err := mapFile(single); err == nil {
		idx, err := graphfmt.OpenFileIndex(m)
		if err != nil {
			m.Close()
			return nil, nil, err
		}
		if err := cg.addLayer(m.data); err != nil {
			return nil, nil, closeIndex(idx, err)
		}
		return idx, cg, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, err
	}

	dir := filepath.Join(infoDir, "commit-graphs")
	f, err := os.Open(filepath.Join(dir, "commit-graph-chain"))
	if err != nil {
		return nil, nil, err
	}
	var chain []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if h := strings.TrimSpace(sc.Text()); h != "" {
			chain = append(chain, h)
		}
	}
	f.Close()
	if err := sc.Err(); err != nil {
		return nil, nil, err
	}
	var idx graphfmt.Index
	for _, h := range chain {
		if !plumbing.IsHash(h) {
			return nil, nil, closeIndex(idx, graphfmt.ErrMalformedCommitGraphFile)
		}
		m, err := mapFile(filepath.Join(dir, "graph-"+h+".graph"))
		if err != nil {
			return nil, nil, closeIndex(idx, err)
		}
		next, err := graphfmt.OpenFileIndexWithParent(m, idx)
		if err != nil {
			m.Close()
			return nil, nil, closeIndex(idx, err)
		}
		idx = next
		if err := cg.addLayer(m.data); err != nil {
			return nil, nil, closeIndex(idx, err)
		}
	}
	if idx == nil {
		return nil, nil, fs.ErrNotExist
	}
	return idx, cg, nil
}

func closeIndex(idx graphfmt.Index, err error) error {
	if idx != nil {
		idx.Close()
	}
	return err
}

// memReader serves ReadAt from a byte slice (a mapping or a file read whole).
type memReader struct {
	data    []byte
	release func([]byte) error
}

func (m *memReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= int64(len(m.data)) {
		return 0, io.EOF
	}
	n := copy(p, m.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (m *memReader) Close() error {
	data := m.data
	m.data = nil
	if m.release == nil || data == nil {
		return nil
	}
	return m.release(data)
}
