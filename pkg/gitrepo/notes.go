package gitrepo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Git notes, read and written as `git notes` lays them out: a notes ref
// points at a commit whose tree holds one blob per annotated object, named
// by the object's hex ID. The name may be split into fanout directories of
// two hex digits each ("ab/cdef…", "ab/cd/ef…"); git reads any such split
// and picks one by how many notes there are when it writes. Reads run
// in-process; WriteNoteCommit builds the new tree with git plumbing in a
// throwaway index. Moving the notes ref is left to UpdateRefs and Push, so
// that every change of it is a compare-and-swap (`git notes add` moves the
// ref without checking its old value).

// noteEntry is one note blob in a notes tree.
type noteEntry struct {
	path  string // in the tree: "ab/cdef…", or the flat 40-hex ID
	blob  plumbing.Hash
	mode  filemode.FileMode
	depth int // number of fanout directories above it
}

// NoteAt reads the note for target (a 40-hex object ID) in the notes commit
// notesCommit, as `git notes show` would with a notes ref at notesCommit.
// notesCommit "" stands for "no notes yet": ok is false. A notesCommit that
// is no commit, or whose tree holds anything but notes, is an error.
func (r *Repo) NoteAt(notesCommit, target string) (content []byte, ok bool, err error) {
	key, err := noteKey(target)
	if err != nil {
		return nil, false, err
	}
	if notesCommit == "" {
		return nil, false, nil
	}
	if !isObjectID(notesCommit) {
		return nil, false, fmt.Errorf("notes commit %q: not a 40-hex commit ID", notesCommit)
	}
	err = r.read(func(s *store) error {
		content, ok = nil, false
		root, err := s.commitTree(notesCommit)
		if err != nil {
			return err
		}
		e, found, err := s.findNote(root, key)
		if err != nil || !found {
			return err
		}
		content, err = s.blob(e.blob)
		ok = err == nil
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("note for %s in notes commit %s: %w", key, notesCommit, err)
	}
	return content, ok, nil
}

// Notes lists every note in the notes commit notesCommit: annotated object
// (40-hex, lowercase) → ID of the note's blob, for NoteBlob. notesCommit ""
// yields an empty map. Should a tree hold two notes for one object (git never
// writes that; it would show them concatenated), the one nearer the root
// counts, here and in NoteAt.
func (r *Repo) Notes(notesCommit string) (map[string]string, error) {
	notes := map[string]string{}
	if notesCommit == "" {
		return notes, nil
	}
	if !isObjectID(notesCommit) {
		return nil, fmt.Errorf("notes commit %q: not a 40-hex commit ID", notesCommit)
	}
	err := r.read(func(s *store) error {
		root, err := s.commitTree(notesCommit)
		if err != nil {
			return err
		}
		all, err := s.allNotes(root)
		if err != nil {
			return err
		}
		clear(notes)
		for key, es := range all {
			notes[key] = es[0].blob.String()
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("notes in notes commit %s: %w", notesCommit, err)
	}
	return notes, nil
}

// NoteBlob returns the content of a note blob, by the ID Notes reported.
func (r *Repo) NoteBlob(blob string) ([]byte, error) {
	if !isObjectID(blob) {
		return nil, fmt.Errorf("note blob %q: not a 40-hex object ID", blob)
	}
	var content []byte
	err := r.read(func(s *store) error {
		var err error
		content, err = s.blob(plumbing.NewHash(blob))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("note blob %s: %w", blob, err)
	}
	return content, nil
}

// WriteNoteCommit creates a notes commit whose parent is base ("" = a root
// commit) and whose tree is base's tree with the note for target set to
// content, replacing whatever note target had there. No ref moves: point
// the notes ref at the result with UpdateRefs (Old = base) and push it with
// Push, both compare-and-swap, and on a conflict read the new value, merge
// and write again.
//
// Notes go where `git notes` would put them: flat (the full 40-hex ID) in
// small trees, and in fanout directories ("ab/cdef…") once there are enough
// notes that git would use them (roughly from 50–100 notes on). When the
// layout changes, the other notes move with it, as they would with git.
//
// The commit's author and committer are identity ("Name <email>") at the
// current time; msg is its message. The tree is built with git plumbing in a
// temporary index: the repository's own index and work tree are not touched,
// and bare repositories work the same.
func (r *Repo) WriteNoteCommit(ctx context.Context, base, target string, content []byte, msg, identity string) (string, error) {
	key, err := noteKey(target)
	if err != nil {
		return "", err
	}
	if base != "" && !isObjectID(base) {
		return "", fmt.Errorf("write note: base %q: not a 40-hex commit ID", base)
	}
	name, email, err := parseIdentity(identity)
	if err != nil {
		return "", err
	}
	fail := func(err error) (string, error) {
		return "", fmt.Errorf("write note for %s on %s: %w", key, orNone(base), err)
	}

	var root plumbing.Hash
	var existing map[string][]noteEntry
	if base != "" {
		err := r.read(func(s *store) error {
			var err error
			if root, err = s.commitTree(base); err != nil {
				return err
			}
			existing, err = s.allNotes(root)
			return err
		})
		if err != nil {
			return fail(err)
		}
	}

	out, err := r.run(ctx, gitCmd{args: []string{"hash-object", "-w", "--no-filters", "--stdin"}, stdin: content})
	if err != nil {
		return fail(err)
	}
	blob := strings.TrimSpace(string(out))

	// The index lines that turn base's tree into the new one: the note for
	// key at its (maybe new) place, and any note the layout moves.
	keys := make([]string, 0, len(existing)+1)
	for k := range existing {
		keys = append(keys, k)
	}
	if _, ok := existing[key]; !ok {
		keys = append(keys, key)
	}
	layout := noteLayout(keys)
	var info bytes.Buffer
	remove := func(path string) { fmt.Fprintf(&info, "0 %s\t%s\x00", zeroHex, path) }
	add := func(mode filemode.FileMode, blob, path string) { fmt.Fprintf(&info, "%o %s\t%s\x00", mode, blob, path) }
	for _, e := range existing[key] {
		if e.path != layout[key] {
			remove(e.path)
		}
	}
	add(filemode.Regular, blob, layout[key])
	for k, es := range existing {
		// Two notes for one object are not ours to merge: leave them.
		if k == key || len(es) != 1 || es[0].path == layout[k] {
			continue
		}
		remove(es[0].path)
		add(es[0].mode, es[0].blob.String(), layout[k])
	}

	tmp, err := os.MkdirTemp("", notesTempPrefix)
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(tmp)
	indexEnv := []string{"GIT_INDEX_FILE=" + filepath.Join(tmp, "index")}
	// A split index would leave its shared part in the git dir.
	noSplit := []string{"-c", "core.splitIndex=false"}
	if base != "" {
		if _, err := r.run(ctx, gitCmd{args: append(noSplit, "read-tree", root.String()), env: indexEnv}); err != nil {
			return fail(err)
		}
	}
	if _, err := r.run(ctx, gitCmd{args: append(noSplit, "update-index", "-z", "--index-info"), stdin: info.Bytes(), env: indexEnv}); err != nil {
		return fail(err)
	}
	out, err = r.run(ctx, gitCmd{args: append(noSplit, "write-tree"), env: indexEnv})
	if err != nil {
		return fail(err)
	}
	tree := strings.TrimSpace(string(out))

	now := time.Now()
	date := fmt.Sprintf("@%d %s", now.Unix(), now.Format("-0700"))
	args := []string{"commit-tree", "--no-gpg-sign", tree}
	if base != "" {
		args = append(args, "-p", base)
	}
	args = append(args, "-F", "-")
	if msg != "" && !strings.HasSuffix(msg, "\n") {
		msg += "\n"
	}
	out, err = r.run(ctx, gitCmd{args: args, stdin: []byte(msg), env: []string{
		"GIT_AUTHOR_NAME=" + name, "GIT_AUTHOR_EMAIL=" + email, "GIT_AUTHOR_DATE=" + date,
		"GIT_COMMITTER_NAME=" + name, "GIT_COMMITTER_EMAIL=" + email, "GIT_COMMITTER_DATE=" + date,
	}})
	if err != nil {
		return fail(err)
	}
	r.invalidate()
	commit := strings.TrimSpace(string(out))
	if !isObjectID(commit) {
		return fail(fmt.Errorf("git commit-tree printed %q", commit))
	}
	return commit, nil
}

func orNone(base string) string {
	if base == "" {
		return "no notes"
	}
	return base
}

// noteKey checks that target is a full object ID and returns it lowercased,
// as git names notes.
func noteKey(target string) (string, error) {
	if !isObjectID(target) {
		return "", fmt.Errorf("note target %q: not a 40-hex object ID", target)
	}
	return strings.ToLower(target), nil
}

func isObjectID(s string) bool { return len(s) == 40 && isHex(s) }

// parseIdentity splits "Name <email>".
func parseIdentity(ident string) (name, email string, err error) {
	i := strings.LastIndexByte(ident, '<')
	if i >= 0 && strings.HasSuffix(ident, ">") {
		name, email = strings.TrimSpace(ident[:i]), ident[i+1:len(ident)-1]
	}
	if name == "" || email == "" || strings.ContainsAny(ident, "\n\x00") || strings.ContainsAny(name, "<>") || strings.ContainsAny(email, "<> ") {
		return "", "", fmt.Errorf("identity %q: want \"Name <email>\"", ident)
	}
	return name, email, nil
}

// commitTree returns the tree of a commit, which must exist and be a commit.
func (s *store) commitTree(commit string) (plumbing.Hash, error) {
	h := plumbing.NewHash(commit)
	o, err := s.st.EncodedObject(plumbing.AnyObject, h)
	if err != nil {
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			// Both: callers can tell, and Repo.read reloads packs and retries.
			return plumbing.ZeroHash, fmt.Errorf("%w %s: %w", ErrUnknownRevision, commit, err)
		}
		return plumbing.ZeroHash, err
	}
	if o.Type() != plumbing.CommitObject {
		return plumbing.ZeroHash, fmt.Errorf("%s is a %s, not a notes commit", commit, o.Type())
	}
	c, err := object.DecodeCommit(s.st, o)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return c.TreeHash, nil
}

func (s *store) blob(h plumbing.Hash) ([]byte, error) {
	o, err := s.st.EncodedObject(plumbing.AnyObject, h)
	if err != nil {
		return nil, err
	}
	if o.Type() != plumbing.BlobObject {
		return nil, fmt.Errorf("%s is a %s, not a blob", h, o.Type())
	}
	rd, err := o.Reader()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	return io.ReadAll(rd)
}

// Kinds of entries in a notes tree, as git's notes.c tells them apart.
const (
	nonNote = iota
	noteBlob
	fanoutDir
)

// noteKind classifies an entry of a notes (sub)tree whose path so far spells
// prefixLen hex digits: a blob named by the rest of an object ID is a note,
// a tree named by two hex digits a fanout directory, anything else is not
// part of any note.
func noteKind(e object.TreeEntry, prefixLen int) int {
	switch {
	case len(e.Name) == 40-prefixLen && isHex(e.Name) && e.Mode.IsFile():
		return noteBlob
	case len(e.Name) == 2 && prefixLen+2 < 40 && isHex(e.Name) && e.Mode == filemode.Dir:
		return fanoutDir
	}
	return nonNote
}

// nonNoteError reports a tree entry that can't be part of a note: the
// commit is no notes commit (or someone put other files in it).
func nonNoteError(path string) error {
	return fmt.Errorf("not a notes tree: %q is not a note", path)
}

// findNote looks for key's note along its fanout path from the root tree;
// the note nearest the root wins.
func (s *store) findNote(root plumbing.Hash, key string) (noteEntry, bool, error) {
	h, dir := root, ""
	for depth := 0; ; depth++ {
		t, err := object.GetTree(s.st, h)
		if err != nil {
			return noteEntry{}, false, err
		}
		prefix := 2 * depth
		var note *object.TreeEntry
		var sub *object.TreeEntry
		for i := range t.Entries {
			e := &t.Entries[i]
			switch noteKind(*e, prefix) {
			case noteBlob:
				if note == nil && strings.EqualFold(e.Name, key[prefix:]) {
					note = e
				}
			case fanoutDir:
				if sub == nil && strings.EqualFold(e.Name, key[prefix:prefix+2]) {
					sub = e
				}
			default:
				return noteEntry{}, false, nonNoteError(dir + e.Name)
			}
		}
		switch {
		case note != nil:
			return noteEntry{path: dir + note.Name, blob: note.Hash, mode: note.Mode, depth: depth}, true, nil
		case sub == nil:
			return noteEntry{}, false, nil
		}
		h, dir = sub.Hash, dir+sub.Name+"/"
	}
}

// allNotes reads a whole notes tree: object → its notes, nearest the root
// first (normally exactly one).
func (s *store) allNotes(root plumbing.Hash) (map[string][]noteEntry, error) {
	notes := map[string][]noteEntry{}
	var walk func(h plumbing.Hash, prefix, dir string, depth int) error
	walk = func(h plumbing.Hash, prefix, dir string, depth int) error {
		t, err := object.GetTree(s.st, h)
		if err != nil {
			return err
		}
		for _, e := range t.Entries {
			switch noteKind(e, len(prefix)) {
			case noteBlob:
				key := strings.ToLower(prefix + e.Name)
				notes[key] = append(notes[key], noteEntry{path: dir + e.Name, blob: e.Hash, mode: e.Mode, depth: depth})
			case fanoutDir:
				if err := walk(e.Hash, prefix+e.Name, dir+e.Name+"/", depth+1); err != nil {
					return err
				}
			default:
				return nonNoteError(dir + e.Name)
			}
		}
		return nil
	}
	if err := walk(root, "", "", 0); err != nil {
		return nil, err
	}
	for _, es := range notes {
		slices.SortStableFunc(es, func(a, b noteEntry) int { return a.depth - b.depth })
	}
	return notes, nil
}

// noteLayout returns the path `git notes` gives each note in a tree holding
// exactly the notes for keys (lowercase 40-hex IDs). Git's rule (notes.c,
// determine_fanout): a group of notes sharing the first 2d hex digits gets
// one more level of two-digit directories when, for each of the 16 values
// of the next digit, at least two of its notes have it.
func noteLayout(keys []string) map[string]string {
	keys = slices.Clone(keys)
	slices.Sort(keys)
	out := make(map[string]string, len(keys))
	var place func(group []string, depth int)
	place = func(group []string, depth int) {
		pos := 2 * depth
		if fansOut(group, pos) {
			for i := 0; i < len(group); {
				j := i + 1
				for j < len(group) && group[j][pos:pos+2] == group[i][pos:pos+2] {
					j++
				}
				place(group[i:j], depth+1)
				i = j
			}
			return
		}
		for _, k := range group {
			var b strings.Builder
			for d := range depth {
				b.WriteString(k[2*d : 2*d+2])
				b.WriteByte('/')
			}
			b.WriteString(k[pos:])
			out[k] = b.String()
		}
	}
	place(keys, 0)
	return out
}

func fansOut(group []string, pos int) bool {
	if len(group) < 32 || pos+2 >= 40 {
		return false
	}
	var n [16]int
	for _, k := range group {
		c := k[pos]
		if c <= '9' {
			n[c-'0']++
		} else {
			n[c-'a'+10]++
		}
	}
	for _, c := range n {
		if c < 2 {
			return false
		}
	}
	return true
}
