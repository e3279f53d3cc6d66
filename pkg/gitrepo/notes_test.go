package gitrepo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	notesRef = "refs/notes/ringflow/evidence"
	ident    = "Ringflow Bot <ringflow@example.com>"
)

// gitRaw runs git and returns its stdout untrimmed, for byte-exact checks.
func gitRaw(f *fx, dir string, args ...string) []byte {
	f.tb.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	if err := cmd.Run(); err != nil {
		f.tb.Fatalf("git %s: %v: %s", strings.Join(args, " "), err, se.String())
	}
	return so.Bytes()
}

func gitStdin(f *fx, dir, stdin string, args ...string) string {
	f.tb.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	if err := cmd.Run(); err != nil {
		f.tb.Fatalf("git %s: %v: %s", strings.Join(args, " "), err, se.String())
	}
	return strings.TrimSpace(so.String())
}

// notesList parses `git notes list` of a notes ref: object → note blob.
func notesList(f *fx, dir, ref string) map[string]string {
	f.tb.Helper()
	out := f.run(dir, "notes", "--ref", ref, "list")
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if line == "" {
			continue
		}
		blob, obj, ok := strings.Cut(line, " ")
		if !ok {
			f.tb.Fatalf("git notes list line %q", line)
		}
		if _, dup := m[obj]; dup {
			f.tb.Errorf("git notes list shows %s twice", obj)
		}
		m[obj] = blob
	}
	return m
}

// treePaths lists the blob paths of a commit's tree.
func treePaths(f *fx, dir, commit string) []string {
	f.tb.Helper()
	out := f.run(dir, "ls-tree", "-r", "--name-only", commit)
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

// manyCommits makes n commits on refs/heads/many with fast-import and, if
// notes > 0, a notes ref (by fast-import, which fans out from 256 notes on)
// annotating the first notes of them with "note <i>\n". It returns the
// commits, oldest first.
func manyCommits(f *fx, dir string, n, notes int, ref string) []string {
	f.tb.Helper()
	var b strings.Builder
	for i := 1; i <= n; i++ {
		msg := fmt.Sprintf("commit %d", i)
		fmt.Fprintf(&b, "commit refs/heads/many\nmark :%d\ncommitter T <t@example.com> %d +0000\ndata %d\n%s\n", i, 1_700_000_000+i, len(msg), msg)
	}
	if notes > 0 {
		msg := "notes"
		fmt.Fprintf(&b, "commit %s\ncommitter T <t@example.com> 1700000000 +0000\ndata %d\n%s\n", ref, len(msg), msg)
		for i := 1; i <= notes; i++ {
			note := fmt.Sprintf("note %d\n", i)
			fmt.Fprintf(&b, "N inline :%d\ndata %d\n%s", i, len(note), note)
		}
	}
	gitStdin(f, dir, b.String(), "fast-import", "--quiet")
	out := f.run(dir, "rev-list", "--reverse", "refs/heads/many")
	return strings.Split(out, "\n")
}

func TestWriteNoteCommit(t *testing.T) {
	for _, bare := range []bool{false, true} {
		name := "work tree"
		if bare {
			name = "bare"
		}
		t.Run(name, func(t *testing.T) {
			f := newFx(t)
			dir := f.repo()
			c1 := f.run(dir, "rev-parse", "HEAD")
			c2 := f.commit(dir, "a", "two")
			if bare {
				b := filepath.Join(t.TempDir(), "b.git")
				f.run(dir, "clone", "-q", "--bare", dir, b)
				dir = b
			} else {
				// A staged change and an unstaged one, which must survive.
				if err := os.WriteFile(filepath.Join(dir, "a"), []byte("staged\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				f.run(dir, "add", "a")
				if err := os.WriteFile(filepath.Join(dir, "a"), []byte("unstaged\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			status := func() string {
				if bare {
					return ""
				}
				return f.run(dir, "--no-optional-locks", "status", "--porcelain") + "\n--\n" +
					f.run(dir, "--no-optional-locks", "diff", "--cached") + "\n--\n" +
					f.run(dir, "--no-optional-locks", "diff")
			}
			indexBytes := func() []byte {
				b, _ := os.ReadFile(filepath.Join(dir, ".git", "index"))
				return b
			}
			statusBefore := status()
			indexBefore := indexBytes()
			r := mustOpen(t, dir)
			ctx := t.Context()

			json1 := []byte(`{"hosts":{"web1":{"ok":true}}}` + "\n")
			start := time.Now().Add(-2 * time.Second)
			n1, err := r.WriteNoteCommit(ctx, "", c1, json1, "ringflow: evidence for "+c1[:12], ident)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(indexBefore, indexBytes()) {
				t.Error("WriteNoteCommit changed the repository's index")
			}
			if err := r.UpdateRefs(ctx, []RefUpdate{{Ref: notesRef, Old: "", New: n1}}, "ringflow: evidence"); err != nil {
				t.Fatal(err)
			}
			if got := gitRaw(f, dir, "notes", "--ref", "ringflow/evidence", "show", c1); !bytes.Equal(got, json1) {
				t.Errorf("git notes show = %q, want %q", got, json1)
			}
			if l := notesList(f, dir, "ringflow/evidence"); len(l) != 1 || l[c1] == "" {
				t.Errorf("git notes list = %v", l)
			}
			if got := treePaths(f, dir, n1); len(got) != 1 || got[0] != c1 {
				t.Errorf("notes tree paths = %v, want the flat ID", got)
			}
			meta := f.run(dir, "log", "-1", "--format=%an <%ae>|%cn <%ce>|%s|%P|%ct", n1)
			parts := strings.Split(meta, "|")
			if parts[0] != ident || parts[1] != ident || parts[2] != "ringflow: evidence for "+c1[:12] || parts[3] != "" {
				t.Errorf("notes commit = %q", meta)
			}
			if ct, err := strconv.ParseInt(parts[4], 10, 64); err != nil || ct < start.Unix() || ct > time.Now().Unix()+2 {
				t.Errorf("commit time %s, want about now (%d)", parts[4], start.Unix())
			}
			if got, ok, err := r.NoteAt(n1, c1); err != nil || !ok || !bytes.Equal(got, json1) {
				t.Errorf("NoteAt(n1, c1) = %q, %v, %v", got, ok, err)
			}
			if got, ok, err := r.NoteAt(n1, strings.ToUpper(c1)); err != nil || !ok || !bytes.Equal(got, json1) {
				t.Errorf("NoteAt(n1, upper-case c1) = %q, %v, %v", got, ok, err)
			}
			if _, ok, err := r.NoteAt(n1, c2); err != nil || ok {
				t.Errorf("NoteAt(n1, c2) = %v, %v; want no note", ok, err)
			}
			if _, ok, err := r.NoteAt("", c1); err != nil || ok {
				t.Errorf(`NoteAt("", c1) = %v, %v; want no note`, ok, err)
			}

			// A second note keeps the first.
			json2 := []byte(`{"hosts":{"db1":{"ok":false}}}`)
			n2, err := r.WriteNoteCommit(ctx, n1, c2, json2, "ringflow: evidence", ident)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.UpdateRefs(ctx, []RefUpdate{{Ref: notesRef, Old: n1, New: n2}}, ""); err != nil {
				t.Fatal(err)
			}
			if l := notesList(f, dir, "ringflow/evidence"); len(l) != 2 || l[c1] == "" || l[c2] == "" {
				t.Errorf("git notes list = %v", l)
			}
			if got := gitRaw(f, dir, "notes", "--ref", "ringflow/evidence", "show", c2); !bytes.Equal(got, json2) {
				t.Errorf("git notes show c2 = %q, want %q", got, json2)
			}
			if got := f.run(dir, "rev-parse", n2+"^"); got != n1 {
				t.Errorf("parent of n2 = %s, want n1", got)
			}

			// Replacing the first leaves one note for it.
			json1b := []byte(`{"hosts":{"web1":{"ok":true},"web2":{"ok":true}}}` + "\n")
			n3, err := r.WriteNoteCommit(ctx, n2, c1, json1b, "ringflow: evidence", ident)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.UpdateRefs(ctx, []RefUpdate{{Ref: notesRef, Old: n2, New: n3}}, ""); err != nil {
				t.Fatal(err)
			}
			l := notesList(f, dir, "ringflow/evidence")
			if len(l) != 2 {
				t.Errorf("git notes list = %v", l)
			}
			if got := gitRaw(f, dir, "notes", "--ref", "ringflow/evidence", "show", c1); !bytes.Equal(got, json1b) {
				t.Errorf("git notes show c1 = %q, want %q", got, json1b)
			}
			notes, err := r.Notes(n3)
			if err != nil || len(notes) != 2 || notes[c1] != l[c1] || notes[c2] != l[c2] {
				t.Errorf("Notes(n3) = %v, %v; git says %v", notes, err, l)
			}
			if b, err := r.NoteBlob(notes[c2]); err != nil || !bytes.Equal(b, json2) {
				t.Errorf("NoteBlob = %q, %v", b, err)
			}
			if notes, err := r.Notes(""); err != nil || len(notes) != 0 {
				t.Errorf(`Notes("") = %v, %v`, notes, err)
			}

			if got := status(); got != statusBefore {
				t.Errorf("work tree or index changed:\nbefore:\n%s\nafter:\n%s", statusBefore, got)
			}
			if !bytes.Equal(indexBefore, indexBytes()) {
				t.Error("the repository's index file changed")
			}
			if !bare {
				if b, _ := os.ReadFile(filepath.Join(dir, "a")); string(b) != "unstaged\n" {
					t.Errorf("work tree file a = %q", b)
				}
			}
		})
	}
}

// TestNoteLayoutMatchesGit: the tree WriteNoteCommit makes is the very tree
// `git notes add -f` makes from the same base, from flat trees through the
// size where git starts fanning out, and from fanned-out ones.
func TestNoteLayoutMatchesGit(t *testing.T) {
	f := newFx(t)
	dir := filepath.Join(t.TempDir(), "r.git")
	f.run(filepath.Dir(dir), "init", "-q", "--bare", dir)
	commits := manyCommits(f, dir, 320, 0, "")
	r := mustOpen(t, dir)
	ctx := t.Context()

	sawFlat, sawFanout := false, false
	for _, n := range []int{0, 1, 20, 40, 60, 70, 80, 90, 100, 120, 150, 200, 255, 300} {
		// base: notes for commits[0:n], flat as fast-import writes them below 256.
		ref := fmt.Sprintf("refs/notes/base%d", n)
		base := ""
		if n > 0 {
			var b strings.Builder
			fmt.Fprintf(&b, "commit %s\ncommitter T <t@example.com> 1700000000 +0000\ndata 5\nnotes\n", ref)
			for _, c := range commits[:n] {
				fmt.Fprintf(&b, "N inline %s\ndata 5\nold!\n", c)
			}
			gitStdin(f, dir, b.String(), "fast-import", "--quiet")
			base = f.run(dir, "rev-parse", ref)
		}
		for _, target := range []string{commits[n], commits[0]} { // a new note, and a replaced one
			if n == 0 && target == commits[0] {
				continue
			}
			ours, err := r.WriteNoteCommit(ctx, base, target, []byte("fresh\n"), "m", ident)
			if err != nil {
				t.Fatal(err)
			}
			oracle := "refs/notes/oracle"
			if base != "" {
				f.run(dir, "update-ref", oracle, base)
			} else {
				f.run(dir, "update-ref", "-d", oracle)
			}
			f.run(dir, "notes", "--ref", oracle, "add", "-f", "-m", "fresh", target)
			want := f.run(dir, "rev-parse", oracle+"^{tree}")
			if got := f.run(dir, "rev-parse", ours+"^{tree}"); got != want {
				t.Errorf("%d notes, note for %s: tree %s, git made %s\nours: %v\ngit's: %v", n, target[:8], got, want,
					treePaths(f, dir, ours), treePaths(f, dir, oracle))
			}
			fanned := strings.Contains(strings.Join(treePaths(f, dir, ours), " "), "/")
			sawFlat = sawFlat || !fanned
			sawFanout = sawFanout || fanned
		}
	}
	if !sawFlat || !sawFanout {
		t.Errorf("cases covered flat trees: %v, fanned-out trees: %v; want both", sawFlat, sawFanout)
	}
}

func TestNotesFanout(t *testing.T) {
	f := newFx(t)
	dir := f.repo()
	commits := manyCommits(f, dir, 300, 300, "refs/notes/ringflow/evidence")
	base := f.run(dir, "rev-parse", notesRef)
	// fast-import fanned the tree out: no note sits at the root.
	for _, p := range treePaths(f, dir, base) {
		if len(p) != 41 || p[2] != '/' {
			t.Fatalf("fast-import made path %q, want 2/38 fanout", p)
		}
	}
	r := mustOpen(t, dir)
	ctx := t.Context()

	want := notesList(f, dir, "ringflow/evidence")
	got, err := r.Notes(base)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 300 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Notes: %d notes, git lists %d; equal: %v", len(got), len(want), fmt.Sprint(got) == fmt.Sprint(want))
	}
	for _, i := range []int{0, 1, 150, 299} {
		if b, ok, err := r.NoteAt(base, commits[i]); err != nil || !ok || string(b) != fmt.Sprintf("note %d\n", i+1) {
			t.Errorf("NoteAt(commit %d) = %q, %v, %v", i+1, b, ok, err)
		}
	}

	// Replacing a fanned-out note leaves one note for it.
	target := commits[150]
	n, err := r.WriteNoteCommit(ctx, base, target, []byte(`{"x":1}`), "replace", ident)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.UpdateRefs(ctx, []RefUpdate{{Ref: notesRef, Old: base, New: n}}, ""); err != nil {
		t.Fatal(err)
	}
	if out := f.run(dir, "notes", "--ref", "ringflow/evidence", "list", target); strings.Count(out, "\n") != 0 || out == "" {
		t.Errorf("git notes list %s = %q", target, out)
	}
	if got := gitRaw(f, dir, "notes", "--ref", "ringflow/evidence", "show", target); string(got) != `{"x":1}` {
		t.Errorf("git notes show = %q", got)
	}
	if l := notesList(f, dir, "ringflow/evidence"); len(l) != 300 {
		t.Errorf("git notes list: %d notes, want 300", len(l))
	}
	count := 0
	for _, p := range treePaths(f, dir, n) {
		if strings.ReplaceAll(p, "/", "") == target {
			count++
			if p != target[:2]+"/"+target[2:] {
				t.Errorf("replaced note moved to %s", p)
			}
		}
	}
	if count != 1 {
		t.Errorf("%d paths for the replaced note", count)
	}

	// Deeper fanout, and a stray flat duplicate, crafted by hand.
	blob := func(s string) string { return gitStdin(f, dir, s, "hash-object", "-w", "--stdin") }
	mktree := func(lines ...string) string { return gitStdin(f, dir, strings.Join(lines, "\n")+"\n", "mktree") }
	c := commits[7]
	deep := mktree("040000 tree " + mktree("040000 tree "+mktree("100644 blob "+blob("deep\n")+"\t"+c[4:])+"\t"+c[2:4]) + "\t" + c[:2])
	deepCommit := f.run(dir, "commit-tree", "-m", "deep", deep)
	if b, ok, err := r.NoteAt(deepCommit, c); err != nil || !ok || string(b) != "deep\n" {
		t.Errorf("NoteAt(2/2/36 fanout) = %q, %v, %v", b, ok, err)
	}
	f.run(dir, "update-ref", "refs/notes/deep", deepCommit)
	if got := f.run(dir, "notes", "--ref", "deep", "show", c); got != "deep" {
		t.Fatalf("git reads the crafted tree as %q", got)
	}
	ours, err := r.WriteNoteCommit(ctx, deepCommit, c, []byte("new\n"), "m", ident)
	if err != nil {
		t.Fatal(err)
	}
	f.run(dir, "notes", "--ref", "deep", "add", "-f", "-m", "new", c)
	if got, want := f.run(dir, "rev-parse", ours+"^{tree}"), f.run(dir, "rev-parse", "refs/notes/deep^{tree}"); got != want {
		t.Errorf("rewriting a 2/2/36 note: tree %v, git makes %v", treePaths(f, dir, ours), treePaths(f, dir, "refs/notes/deep"))
	}

	dup := mktree("100644 blob "+blob("flat\n")+"\t"+c, "040000 tree "+mktree("100644 blob "+blob("fanned\n")+"\t"+c[2:])+"\t"+c[:2])
	dupCommit := f.run(dir, "commit-tree", "-m", "dup", dup)
	if b, ok, err := r.NoteAt(dupCommit, c); err != nil || !ok || string(b) != "flat\n" {
		t.Errorf("NoteAt(duplicate notes) = %q, %v, %v; want the flat one", b, ok, err)
	}
	ours, err = r.WriteNoteCommit(ctx, dupCommit, c, []byte("one\n"), "m", ident)
	if err != nil {
		t.Fatal(err)
	}
	if got := treePaths(f, dir, ours); len(got) != 1 || got[0] != c {
		t.Errorf("after rewriting duplicate notes: paths %v", got)
	}
}

func TestNoteCAS(t *testing.T) {
	f := newFx(t)
	dir := f.repo()
	c1 := f.run(dir, "rev-parse", "HEAD")
	c2 := f.commit(dir, "b", "two")
	r := mustOpen(t, dir)
	ctx := t.Context()

	base, err := r.WriteNoteCommit(ctx, "", c1, []byte(`{}`), "init", ident)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.UpdateRefs(ctx, []RefUpdate{{Ref: notesRef, New: base}}, ""); err != nil {
		t.Fatal(err)
	}
	// Two builds race on one commit, each from the same base.
	var wg sync.WaitGroup
	results := make([]string, 2)
	errs := make([]error, 2)
	for i, host := range []string{"web1", "db1"} {
		wg.Go(func() {
			results[i], errs[i] = r.WriteNoteCommit(ctx, base, c2, []byte(`{"`+host+`":true}`), "build "+host, ident)
		})
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	if err := r.UpdateRefs(ctx, []RefUpdate{{Ref: notesRef, Old: base, New: results[0]}}, ""); err != nil {
		t.Fatal(err)
	}
	err = r.UpdateRefs(ctx, []RefUpdate{{Ref: notesRef, Old: base, New: results[1]}}, "")
	var conflict *RefConflictError
	if !errors.As(err, &conflict) || conflict.Ref != notesRef || conflict.Actual != results[0] || conflict.Expected != base {
		t.Fatalf("second CAS: error = %v", err)
	}
	// The loser rereads, merges and writes again.
	cur, _, err := r.Ref(notesRef)
	if err != nil {
		t.Fatal(err)
	}
	old, ok, err := r.NoteAt(cur, c2)
	if err != nil || !ok || string(old) != `{"web1":true}` {
		t.Fatalf("NoteAt after the race = %q, %v, %v", old, ok, err)
	}
	merged, err := r.WriteNoteCommit(ctx, cur, c2, []byte(`{"db1":true,"web1":true}`), "build db1", ident)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.UpdateRefs(ctx, []RefUpdate{{Ref: notesRef, Old: cur, New: merged}}, ""); err != nil {
		t.Fatal(err)
	}
	if got := f.run(dir, "notes", "--ref", "ringflow/evidence", "show", c2); got != `{"db1":true,"web1":true}` {
		t.Errorf("git notes show = %q", got)
	}
	if got := f.run(dir, "rev-list", "--count", notesRef); got != "3" {
		t.Errorf("notes history has %s commits, want 3", got)
	}
}

func TestNoteErrors(t *testing.T) {
	f := newFx(t)
	dir := f.repo()
	c1 := f.run(dir, "rev-parse", "HEAD")
	blob := f.run(dir, "rev-parse", "HEAD:README")
	r := mustOpen(t, dir)
	ctx := t.Context()
	n1, err := r.WriteNoteCommit(ctx, "", c1, []byte("x"), "m", ident)
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, commit, target, want string
	}{
		{"garbage commit", "not-a-commit", c1, "not a 40-hex commit ID"},
		{"short commit", c1[:12], c1, "not a 40-hex commit ID"},
		{"missing commit", strings.Repeat("ab", 20), c1, "unknown revision"},
		{"a blob", blob, c1, "is a blob, not a notes commit"},
		{"a branch commit", c1, c1, `not a notes tree: "README" is not a note`},
		{"garbage target", n1, "HEAD", "not a 40-hex object ID"},
	} {
		_, _, err := r.NoteAt(tc.commit, tc.target)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: NoteAt error = %v, want %q", tc.name, err, tc.want)
		}
		if tc.target == c1 {
			if _, err := r.Notes(tc.commit); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: Notes error = %v, want %q", tc.name, err, tc.want)
			}
			if _, err := r.WriteNoteCommit(ctx, tc.commit, c1, []byte("y"), "m", ident); err == nil {
				t.Errorf("%s: WriteNoteCommit on it accepted", tc.name)
			}
		}
	}
	if _, _, err := r.NoteAt(strings.Repeat("ab", 20), c1); !errors.Is(err, ErrUnknownRevision) {
		t.Errorf("missing notes commit: error %v is not ErrUnknownRevision", err)
	}
	for _, id := range []string{"", "Bot", "Bot <>", "<bot@x>", "Bot <bot@x", "Bot\n <bot@x>"} {
		if _, err := r.WriteNoteCommit(ctx, "", c1, []byte("y"), "m", id); err == nil || !strings.Contains(err.Error(), "identity") {
			t.Errorf("identity %q: error = %v", id, err)
		}
	}
	if _, err := r.NoteBlob(c1); err == nil || !strings.Contains(err.Error(), "not a blob") {
		t.Errorf("NoteBlob(commit) error = %v", err)
	}
	if _, err := r.NoteBlob("zz"); err == nil {
		t.Error("NoteBlob(zz) accepted")
	}
	// The git user's signing config doesn't reach notes commits.
	f.run(dir, "config", "commit.gpgSign", "true")
	f.run(dir, "config", "gpg.program", "false")
	if _, err := r.WriteNoteCommit(ctx, n1, c1, []byte("z"), "m", ident); err != nil {
		t.Errorf("with commit.gpgSign: %v", err)
	}
}

func TestNotesRemote(t *testing.T) {
	f := newFx(t)
	origin, ours := f.remoteSetup()
	other := f.clone(origin, "other")
	c1 := f.run(ours, "rev-parse", "HEAD")
	c2 := f.commit(ours, "x", "candidate")
	r := mustOpen(t, ours)
	ro := mustOpen(t, other)
	ctx := t.Context()
	track := "refs/ringflow/remotes/origin/notes/evidence"
	spec := []RefSpec{{Src: notesRef, Dst: track}}

	// Nothing on the remote yet: no error, nothing made.
	if err := r.FetchRefs(ctx, "origin", spec); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := r.Ref(track); ok {
		t.Error("FetchRefs made a ref for a missing source")
	}

	// The notes ref goes out in the same atomic push as a branch.
	n1, err := r.WriteNoteCommit(ctx, "", c2, []byte(`{"a":1}`), "m", ident)
	if err != nil {
		t.Fatal(err)
	}
	err = r.Push(ctx, "origin", []RefUpdate{{Ref: "refs/heads/main", Old: c1, New: c2}, {Ref: notesRef, Old: "", New: n1}})
	if err != nil {
		t.Fatal(err)
	}
	if got := refAt(f, origin, notesRef); got != n1 {
		t.Errorf("origin notes = %s, want %s", got, n1)
	}
	if got := refAt(f, origin, "refs/heads/main"); got != c2 {
		t.Errorf("origin main = %s, want %s", got, c2)
	}

	// Another clone fetches it and adds its note.
	if err := ro.FetchRefs(ctx, "origin", append(spec, RefSpec{Src: "refs/heads/main", Dst: "refs/ringflow/test/main"})); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := ro.Ref(track); got != n1 {
		t.Fatalf("other's tracking ref = %s, want %s", got, n1)
	}
	if got, _, _ := ro.Ref("refs/ringflow/test/main"); got != c2 {
		t.Errorf("other's refs/ringflow/test/main = %s, want %s", got, c2)
	}
	if b, ok, err := ro.NoteAt(n1, c2); err != nil || !ok || string(b) != `{"a":1}` {
		t.Errorf("NoteAt on fetched notes = %q, %v, %v", b, ok, err)
	}
	n2, err := ro.WriteNoteCommit(ctx, n1, c2, []byte(`{"a":1,"b":2}`), "m", ident)
	if err != nil {
		t.Fatal(err)
	}
	if err := ro.Push(ctx, "origin", []RefUpdate{{Ref: notesRef, Old: n1, New: n2}}); err != nil {
		t.Fatal(err)
	}

	// Our lease is stale now: rejected, the remote keeps theirs.
	stale, err := r.WriteNoteCommit(ctx, n1, c2, []byte(`{"a":1,"c":3}`), "m", ident)
	if err != nil {
		t.Fatal(err)
	}
	err = r.Push(ctx, "origin", []RefUpdate{{Ref: notesRef, Old: n1, New: stale}})
	var rej *PushRejectedError
	if !errors.As(err, &rej) || !hasRejected(rej, notesRef, "stale info") {
		t.Fatalf("push with stale lease: error = %v", err)
	}
	if got := refAt(f, origin, notesRef); got != n2 {
		t.Errorf("origin notes = %s after a rejected push, want %s", got, n2)
	}
	// Fetch, merge, push with the right lease.
	if err := r.FetchRefs(ctx, "origin", spec); err != nil {
		t.Fatal(err)
	}
	cur, _, _ := r.Ref(track)
	if cur != n2 {
		t.Fatalf("tracking ref = %s, want %s", cur, n2)
	}
	n3, err := r.WriteNoteCommit(ctx, cur, c2, []byte(`{"a":1,"b":2,"c":3}`), "m", ident)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Push(ctx, "origin", []RefUpdate{{Ref: notesRef, Old: n2, New: n3}}); err != nil {
		t.Fatal(err)
	}
	if got := f.run(origin, "--git-dir", origin, "rev-parse", notesRef); got != n3 {
		t.Errorf("origin notes = %s, want %s", got, n3)
	}
	if got := f.run(origin, "notes", "--ref", "ringflow/evidence", "show", c2); got != `{"a":1,"b":2,"c":3}` {
		t.Errorf("origin's note = %q", got)
	}

	// Gone from the remote: the local copy goes too, other specs still fetch.
	f.run(origin, "update-ref", "-d", notesRef)
	f.run(other, "pull", "-q", "--ff-only", "origin", "main")
	newMain := f.commit(other, "y", "more")
	f.run(other, "push", "-q", "origin", "main")
	if err := r.FetchRefs(ctx, "origin", append(spec, RefSpec{Src: "refs/heads/main", Dst: "refs/ringflow/test/main"})); err != nil {
		t.Fatal(err)
	}
	if got, ok, _ := r.Ref(track); ok {
		t.Errorf("tracking ref still at %s after the remote deleted the notes", got)
	}
	if got, _, _ := r.Ref("refs/ringflow/test/main"); got != newMain {
		t.Errorf("refs/ringflow/test/main = %s, want %s", got, newMain)
	}
	if err := r.FetchRefs(ctx, "origin", spec); err != nil {
		t.Errorf("fetching a missing ref twice: %v", err)
	}
}

func TestFetchRefsErrors(t *testing.T) {
	f := newFx(t)
	_, ours := f.remoteSetup()
	r := mustOpen(t, ours)
	f.run(ours, "remote", "add", "secret", "https://alice:hunter2@127.0.0.1:1/repo.git")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	spec := []RefSpec{{Src: notesRef, Dst: "refs/ringflow/remotes/secret/notes/evidence"}}
	err := r.FetchRefs(ctx, "secret", spec)
	if err == nil || !strings.Contains(err.Error(), "remote secret") || strings.Contains(err.Error(), "hunter2") ||
		!strings.Contains(err.Error(), "https://alice@127.0.0.1:1/repo.git") {
		t.Errorf("credentialed remote: error = %v", err)
	}
	if err := r.FetchRefs(ctx, "nope", spec); err == nil || !strings.Contains(err.Error(), `remote "nope" is not configured`) {
		t.Errorf("unknown remote: error = %v", err)
	}
	for _, s := range []RefSpec{{Src: "main", Dst: "refs/x"}, {Src: notesRef, Dst: "refs/x:refs/y"}, {Src: "refs/*", Dst: "refs/x/*"}, {Src: notesRef, Dst: ""}} {
		if err := r.FetchRefs(ctx, "origin", []RefSpec{s}); err == nil || !strings.Contains(err.Error(), "not a full ref name") {
			t.Errorf("FetchRefs(%+v) error = %v", s, err)
		}
	}
}

// TestNoteLayoutRule checks noteLayout against git's rule on crafted keys.
func TestNoteLayoutRule(t *testing.T) {
	key := func(prefix string, i int) string {
		s := prefix + fmt.Sprintf("%038x", i)
		return s[:40]
	}
	var keys []string
	for d := range 16 {
		for i := range 2 {
			keys = append(keys, key(fmt.Sprintf("%x%x", d, i), i))
		}
	}
	// 32 keys, two per first digit: one level of fanout.
	l := noteLayout(keys)
	for _, k := range keys {
		if l[k] != k[:2]+"/"+k[2:] {
			t.Errorf("%s at %s", k, l[k])
		}
	}
	// Drop one: the 0 digit has a single note, so everything is flat.
	l = noteLayout(keys[1:])
	paths := make([]string, 0, len(l))
	for _, p := range l {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if strings.Contains(p, "/") {
			t.Errorf("path %s, want flat", p)
		}
	}
}
