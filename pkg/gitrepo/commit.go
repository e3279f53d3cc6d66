package gitrepo

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// ErrNoChange reports a commit that would not change anything: CommitFiles
// was given exactly the content its parent already has.
var ErrNoChange = errors.New("nothing to commit: files unchanged")

// CommitFiles creates a commit whose only parent is parent (a commit ID or
// any revision ResolveCommit accepts) and whose tree is parent's tree with
// files written into it: repo-relative slash paths ("flake.lock",
// "hosts/plex/flake.lock") → content, each stored as a regular 0644 blob. A
// file that exists is replaced (an executable or symlink at that path
// becomes a regular file); missing directories are created. Every other
// entry — executables, symlinks, submodule gitlinks, untouched subtrees —
// stays exactly as it was, by ID. A path whose parent is a file or gitlink,
// or which names a directory, is an error.
//
// Author and committer are identity ("Name <email>") at when, kept to the
// second with when's zone offset. message is stored as given, plus a final
// newline if it lacks one (as `git commit` leaves it). No ref moves: point
// the branch at the result with UpdateRefs or Push (Old = parent).
//
// When the new tree equals parent's, nothing is written and the error is
// ErrNoChange. Objects are encoded with go-git and written as loose objects
// into the repository's object store, which git reads at once.
func (r *Repo) CommitFiles(parent string, files map[string][]byte, message, identity string, when time.Time) (string, error) {
	sig, message, err := commitMeta("commit files", identity, when, message)
	if err != nil {
		return "", err
	}
	edit := &treeEdit{}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	slices.Sort(paths) // deterministic errors
	for _, p := range paths {
		if err := edit.add(p, files[p]); err != nil {
			return "", fmt.Errorf("commit files: %w", err)
		}
	}

	var commit plumbing.Hash
	err = r.read(func(s *store) error {
		ph, err := s.resolve(parent)
		if err != nil {
			return revError(parent, err)
		}
		pc, err := object.GetCommit(s.st, ph)
		if err != nil {
			return err
		}
		var objs []plumbing.EncodedObject
		root, err := s.applyEdit(pc.TreeHash, edit, "", &objs)
		if err != nil {
			return err
		}
		if root == pc.TreeHash {
			return ErrNoChange
		}
		// Trees and blobs before the commit that names them: a reader never
		// sees a commit whose tree is missing.
		written := map[plumbing.Hash]bool{}
		for _, o := range objs {
			if written[o.Hash()] {
				continue
			}
			written[o.Hash()] = true
			if err := s.writeObject(o); err != nil {
				return err
			}
		}
		commit, err = s.writeCommit(sig, message, root, []plumbing.Hash{ph})
		return err
	})
	if errors.Is(err, ErrNoChange) {
		return "", ErrNoChange
	}
	var ure *UnknownRevisionError
	if errors.As(err, &ure) {
		return "", err
	}
	if err != nil {
		return "", fmt.Errorf("commit files on %s: %w", parent, err)
	}
	return commit.String(), nil
}

// writeObject stores o unless the object database already has it.
func (s *store) writeObject(o plumbing.EncodedObject) error {
	if s.st.HasEncodedObject(o.Hash()) == nil {
		return nil
	}
	_, err := s.st.SetEncodedObject(o)
	return err
}

// treeEdit is the set of files to write into one tree: blobs directly in
// it, and edits of its subdirectories.
type treeEdit struct {
	files map[string][]byte
	dirs  map[string]*treeEdit
}

func (t *treeEdit) add(path string, content []byte) error {
	parts, err := splitPath(path)
	if err != nil {
		return err
	}
	for i, name := range parts {
		if strings.EqualFold(name, ".git") {
			return fmt.Errorf("path %q: git does not track .git", path)
		}
		if i == len(parts)-1 {
			if _, isDir := t.dirs[name]; isDir {
				return fmt.Errorf("path %q is both a file and a directory", path)
			}
			if t.files == nil {
				t.files = map[string][]byte{}
			}
			t.files[name] = content
			return nil
		}
		if _, isFile := t.files[name]; isFile {
			return fmt.Errorf("path %q: %q is both a file and a directory", path, strings.Join(parts[:i+1], "/"))
		}
		sub := t.dirs[name]
		if sub == nil {
			sub = &treeEdit{}
			if t.dirs == nil {
				t.dirs = map[string]*treeEdit{}
			}
			t.dirs[name] = sub
		}
		t = sub
	}
	return nil
}

// splitPath checks a repo-relative slash path and splits it into names.
func splitPath(path string) ([]string, error) {
	if path == "" {
		return nil, errors.New("empty path")
	}
	parts := strings.Split(path, "/")
	for _, p := range parts {
		if p == "" || p == "." || p == ".." || strings.IndexByte(p, 0) >= 0 {
			return nil, fmt.Errorf("path %q: not a clean repo-relative slash path", path)
		}
	}
	return parts, nil
}

// applyEdit returns the ID of the tree base (ZeroHash: empty) with edit
// applied, appending every new blob and tree to objs (children first)
// without storing anything. dir is the tree's path, for errors.
func (s *store) applyEdit(base plumbing.Hash, edit *treeEdit, dir string, objs *[]plumbing.EncodedObject) (plumbing.Hash, error) {
	var entries []object.TreeEntry
	if !base.IsZero() {
		t, err := object.GetTree(s.st, base)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		entries = slices.Clone(t.Entries)
	}
	find := func(name string) int {
		for i := range entries {
			if entries[i].Name == name {
				return i
			}
		}
		return -1
	}
	changed := false
	set := func(e object.TreeEntry) {
		i := find(e.Name)
		switch {
		case i < 0:
			entries = append(entries, e)
			changed = true
		case entries[i].Mode != e.Mode || entries[i].Hash != e.Hash:
			entries[i] = e
			changed = true
		}
	}
	for name, content := range edit.files {
		if i := find(name); i >= 0 {
			switch entries[i].Mode {
			case filemode.Dir:
				return plumbing.ZeroHash, fmt.Errorf("%s%s is a directory", dir, name)
			case filemode.Submodule:
				return plumbing.ZeroHash, fmt.Errorf("%s%s is a submodule", dir, name)
			}
		}
		o := s.st.NewEncodedObject()
		o.SetType(plumbing.BlobObject)
		w, err := o.Writer()
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if _, err := w.Write(content); err != nil {
			return plumbing.ZeroHash, err
		}
		if err := w.Close(); err != nil {
			return plumbing.ZeroHash, err
		}
		*objs = append(*objs, o)
		set(object.TreeEntry{Name: name, Mode: filemode.Regular, Hash: o.Hash()})
	}
	for name, sub := range edit.dirs {
		subBase := plumbing.ZeroHash
		if i := find(name); i >= 0 {
			if entries[i].Mode != filemode.Dir {
				return plumbing.ZeroHash, fmt.Errorf("%s%s is not a directory", dir, name)
			}
			subBase = entries[i].Hash
		}
		h, err := s.applyEdit(subBase, sub, dir+name+"/", objs)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		set(object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h})
	}
	if !changed && !base.IsZero() {
		// Not re-encoded: go-git canonicalises modes on decoding, so an
		// old tree with, say, 100664 entries would get a new ID.
		return base, nil
	}
	// Git's order: names compared as if directories ended in "/".
	sort.Sort(object.TreeEntrySorter(entries))
	o := s.st.NewEncodedObject()
	if err := (&object.Tree{Entries: entries}).Encode(o); err != nil {
		return plumbing.ZeroHash, err
	}
	*objs = append(*objs, o)
	return o.Hash(), nil
}

// FileAt returns the content of the file at path (a repo-relative slash
// path) in commit (any revision ResolveCommit accepts), as `git show
// commit:path` prints it; for a symlink that is its target. ok is false when
// nothing is at path. A directory or submodule at path is an error.
func (r *Repo) FileAt(commit, path string) (content []byte, ok bool, err error) {
	parts, err := splitPath(path)
	if err != nil {
		return nil, false, fmt.Errorf("file at %s: %w", commit, err)
	}
	err = r.read(func(s *store) error {
		content, ok = nil, false
		h, err := s.resolve(commit)
		if err != nil {
			return revError(commit, err)
		}
		c, err := object.GetCommit(s.st, h)
		if err != nil {
			return err
		}
		tree := c.TreeHash
		for i, name := range parts {
			t, err := object.GetTree(s.st, tree)
			if err != nil {
				return err
			}
			var e *object.TreeEntry
			for j := range t.Entries {
				if t.Entries[j].Name == name {
					e = &t.Entries[j]
					break
				}
			}
			last := i == len(parts)-1
			switch {
			case e == nil:
				return nil
			case !last && e.Mode != filemode.Dir:
				return nil // a file where a directory would be: nothing at path
			case !last:
				tree = e.Hash
				continue
			case e.Mode == filemode.Dir:
				return fmt.Errorf("%s is a directory", path)
			case e.Mode == filemode.Submodule:
				return fmt.Errorf("%s is a submodule", path)
			}
			content, err = s.blob(e.Hash)
			ok = err == nil
			return err
		}
		return nil
	})
	var ure *UnknownRevisionError
	if errors.As(err, &ure) {
		return nil, false, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("file %s at %s: %w", path, commit, err)
	}
	return content, ok, nil
}

// ChangedFiles lists the paths whose content, mode or kind differ between
// the trees of commits a and b (any revisions ResolveCommit accepts): added,
// removed and modified files, symlinks and submodules, sorted — what `git
// diff --no-renames --name-only a b` lists. A file replaced by a directory
// lists the file and every path under the directory.
func (r *Repo) ChangedFiles(a, b string) ([]string, error) {
	var changed []string
	err := r.read(func(s *store) error {
		changed = changed[:0]
		var trees [2]plumbing.Hash
		for i, rev := range []string{a, b} {
			h, err := s.resolve(rev)
			if err != nil {
				return revError(rev, err)
			}
			c, err := object.GetCommit(s.st, h)
			if err != nil {
				return err
			}
			trees[i] = c.TreeHash
		}
		return s.diffTrees(trees[0], trees[1], "", &changed)
	})
	var ure *UnknownRevisionError
	if errors.As(err, &ure) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("changed files %s..%s: %w", a, b, err)
	}
	slices.Sort(changed)
	return changed, nil
}

// diffTrees appends to out the paths below dir that differ between trees a
// and b; ZeroHash stands for an empty tree.
func (s *store) diffTrees(a, b plumbing.Hash, dir string, out *[]string) error {
	if a == b {
		return nil
	}
	entries := func(h plumbing.Hash) (map[string]object.TreeEntry, error) {
		m := map[string]object.TreeEntry{}
		if h.IsZero() {
			return m, nil
		}
		t, err := object.GetTree(s.st, h)
		if err != nil {
			return nil, err
		}
		for _, e := range t.Entries {
			m[e.Name] = e
		}
		return m, nil
	}
	ea, err := entries(a)
	if err != nil {
		return err
	}
	eb, err := entries(b)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(ea)+len(eb))
	for n := range ea {
		names = append(names, n)
	}
	for n := range eb {
		if _, dup := ea[n]; !dup {
			names = append(names, n)
		}
	}
	for _, n := range names {
		x, inA := ea[n]
		y, inB := eb[n]
		if inA && inB && x.Hash == y.Hash && x.Mode == y.Mode {
			continue
		}
		xDir, yDir := inA && x.Mode == filemode.Dir, inB && y.Mode == filemode.Dir
		var sa, sb plumbing.Hash // subtrees to compare below n
		if xDir {
			sa = x.Hash
		}
		if yDir {
			sb = y.Hash
		}
		if (inA && !xDir) || (inB && !yDir) {
			*out = append(*out, dir+n)
		}
		if xDir || yDir {
			if err := s.diffTrees(sa, sb, dir+n+"/", out); err != nil {
				return err
			}
		}
	}
	return nil
}

// commitMeta checks what every commit ringflow writes needs, the same way
// for each kind: a "Name <email>" identity, a time after 1970 (go-git
// would store an earlier one as 0), a message without NUL ended by a
// newline as `git commit` leaves it.
func commitMeta(op, identity string, when time.Time, message string) (object.Signature, string, error) {
	name, email, err := parseIdentity(identity)
	if err != nil {
		return object.Signature{}, "", err
	}
	if when.IsZero() || when.Unix() < 0 {
		return object.Signature{}, "", fmt.Errorf("%s: time %s is before 1970", op, when)
	}
	if strings.IndexByte(message, 0) >= 0 {
		return object.Signature{}, "", fmt.Errorf("%s: message contains a NUL byte", op)
	}
	if message != "" && !strings.HasSuffix(message, "\n") {
		message += "\n"
	}
	return object.Signature{Name: name, Email: email, When: when.Truncate(time.Second)}, message, nil
}

// writeCommit encodes and stores a commit with sig as author and committer.
func (s *store) writeCommit(sig object.Signature, message string, tree plumbing.Hash, parents []plumbing.Hash) (plumbing.Hash, error) {
	c := &object.Commit{Author: sig, Committer: sig, Message: message, TreeHash: tree, ParentHashes: parents}
	o := s.st.NewEncodedObject()
	if err := c.Encode(o); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := s.writeObject(o); err != nil {
		return plumbing.ZeroHash, err
	}
	return o.Hash(), nil
}
