package gitrepo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// catCommit returns a commit object's headers and message as git stores them.
func catCommit(f *fx, dir, commit string) (headers, message string) {
	f.tb.Helper()
	raw := string(gitRaw(f, dir, "cat-file", "commit", commit))
	headers, message, ok := strings.Cut(raw, "\n\n")
	if !ok {
		f.tb.Fatalf("commit %s has no message separator:\n%s", commit, raw)
	}
	return headers, message
}

// gitCommitTree makes, with git commit-tree, the commit CommitTreeOf should
// make byte for byte.
func gitCommitTree(f *fx, dir, tree, parent, message, name, email string, when time.Time) string {
	f.tb.Helper()
	args := []string{"commit-tree", "--no-gpg-sign", tree}
	if parent != "" {
		args = append(args, "-p", parent)
	}
	args = append(args, "-F", filepath.Join(f.tb.TempDir(), "msg"))
	if err := os.WriteFile(args[len(args)-1], []byte(message), 0o644); err != nil {
		f.tb.Fatal(err)
	}
	date := fmt.Sprintf("@%d %s", when.Unix(), when.Format("-0700"))
	out, err := f.try(dir, []string{
		"GIT_AUTHOR_NAME=" + name, "GIT_AUTHOR_EMAIL=" + email, "GIT_AUTHOR_DATE=" + date,
		"GIT_COMMITTER_NAME=" + name, "GIT_COMMITTER_EMAIL=" + email, "GIT_COMMITTER_DATE=" + date,
	}, args...)
	if err != nil {
		f.tb.Fatal(err)
	}
	return out
}

func TestCommitTreeOfRollback(t *testing.T) {
	f := newFx(t)
	dir, head := fleetRepo(f)
	good := f.commit(dir, "flake.lock", "lock v2")
	bad := f.commit(dir, "hosts/plex/flake.lock", "plex lock v2")
	f.run(dir, "branch", "canary", bad)
	r := mustOpen(t, dir)

	when := time.Date(2026, 3, 1, 12, 0, 5, 999, time.FixedZone("", 90*60))
	msg := "Roll canary back to " + good[:12] + "\n\nReason: plex fails to boot\n"
	c, err := r.CommitTreeOf("canary", good, msg, "Ring Flow <ringflow@example.com>", when)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.run(dir, "rev-parse", c+"^{tree}"), f.run(dir, "rev-parse", good+"^{tree}"); got != want {
		t.Errorf("tree %s, want %s (the tree of %s)", got, want, good)
	}
	if got := f.run(dir, "rev-parse", c+"^"); got != bad {
		t.Errorf("parent %s, want %s", got, bad)
	}
	if out := f.run(dir, "rev-list", "--count", c); out != "5" {
		t.Errorf("rev-list --count = %s, want 5", out)
	}
	// Every entry of the old tree, modes and gitlinks included, is back.
	if got, want := lsTree(f, dir, c), lsTree(f, dir, good); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ls-tree:\n%v\nwant\n%v", got, want)
	}
	if diff := f.run(dir, "diff", "--name-only", good, c); diff != "" {
		t.Errorf("diff %s %s: %s", good, c, diff)
	}
	headers, message := catCommit(f, dir, c)
	if message != msg {
		t.Errorf("message %q, want %q", message, msg)
	}
	for _, want := range []string{
		fmt.Sprintf("author Ring Flow <ringflow@example.com> %d +0130", when.Unix()),
		fmt.Sprintf("committer Ring Flow <ringflow@example.com> %d +0130", when.Unix()),
	} {
		if !strings.Contains(headers, want+"\n") && !strings.HasSuffix(headers, want) {
			t.Errorf("headers lack %q:\n%s", want, headers)
		}
	}
	// The same commit git itself writes.
	if want := gitCommitTree(f, dir, f.run(dir, "rev-parse", good+"^{tree}"), bad, msg, "Ring Flow", "ringflow@example.com", when); c != want {
		t.Errorf("commit %s, git commit-tree makes %s", c, want)
	}
	f.run(dir, "update-ref", "refs/heads/canary", c, bad) // a fast-forward
	f.run(dir, "fsck", "--strict", "--no-dangling")

	tc, err := r.TreeOf(c)
	if err != nil {
		t.Fatal(err)
	}
	tg, err := r.TreeOf(good)
	if err != nil {
		t.Fatal(err)
	}
	if tc != tg || tc != f.run(dir, "rev-parse", good+"^{tree}") {
		t.Errorf("TreeOf = %s and %s, want both %s", tc, tg, f.run(dir, "rev-parse", good+"^{tree}"))
	}
	if tb, _ := r.TreeOf("canary~1"); tb == tc {
		t.Errorf("TreeOf(canary~1) = %s, the rolled-back tree", tb)
	}
	if th, _ := r.TreeOf(head); th != f.run(dir, "rev-parse", head+"^{tree}") {
		t.Errorf("TreeOf(%s) = %s", head, th)
	}
}

// The next promotion after a rollback lands the candidate's exact tree on
// top of the ring branch, so the branch only moves forward.
func TestCommitTreeOfPromotionOnTop(t *testing.T) {
	f := newFx(t)
	dir := f.repo()
	base := f.run(dir, "rev-parse", "HEAD")
	f.run(dir, "checkout", "-q", "-b", "dev")
	cand := f.commit(dir, "flake.lock", "lock v2")
	f.run(dir, "branch", "canary", base)
	r := mustOpen(t, dir)
	rb, err := r.CommitTreeOf("canary", "canary", "Roll back (no-op tree)\n", "ringflow <ringflow@localhost>", time.Unix(1_800_000_000, 0))
	if err != nil {
		t.Fatal(err)
	}
	f.run(dir, "update-ref", "refs/heads/canary", rb, base)
	msg := "Promote " + cand + " to canary\n\nRingflow-Carries: " + cand + "\n"
	p, err := r.CommitTreeOf("canary", cand, msg, "ringflow <ringflow@localhost>", time.Unix(1_800_000_060, 0).In(time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.try(dir, nil, "merge-base", "--is-ancestor", rb, p); err != nil {
		t.Errorf("%s is not an ancestor of %s", rb, p)
	}
	if got, want := f.run(dir, "rev-parse", p+"^{tree}"), f.run(dir, "rev-parse", cand+"^{tree}"); got != want {
		t.Errorf("tree %s, want the candidate's %s", got, want)
	}
	if d := f.run(dir, "diff", "--stat", cand, p); d != "" {
		t.Errorf("content differs from the candidate: %s", d)
	}
	tp, _ := r.TreeOf(p)
	tcand, _ := r.TreeOf(cand)
	if tp != tcand {
		t.Errorf("TreeOf %s != %s", tp, tcand)
	}
	// The trailer survives and git reads it.
	trailers := f.run(dir, "-c", "trailer.separators=:", "interpret-trailers", "--parse", writeTemp(t, f.run(dir, "log", "-1", "--format=%B", p)+"\n"))
	if trailers != "Ringflow-Carries: "+cand {
		t.Errorf("interpret-trailers --parse: %q", trailers)
	}
	if got := f.run(dir, "log", "-1", "--format=%(trailers:key=Ringflow-Carries,valueonly)", p); got != cand {
		t.Errorf("%%(trailers) = %q, want %s", got, cand)
	}
	f.run(dir, "fsck", "--strict")
}

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Ledger entries: empty-tree commits chained on a ref, their messages JSON.
func TestCommitTreeOfLedger(t *testing.T) {
	f := newFx(t)
	dir := filepath.Join(t.TempDir(), "bare.git")
	f.run(filepath.Dir(dir), "init", "-q", "--bare", dir)
	r := mustOpen(t, dir)
	emptyObj := filepath.Join(dir, "objects", EmptyTree[:2], EmptyTree[2:])
	if _, err := os.Stat(emptyObj); err == nil {
		t.Fatalf("a fresh repository already has %s", emptyObj)
	}

	entries := []string{
		`{"time":"2026-03-01T12:00:00Z","event":"promote","ring":"canary","from":"","to":"abc"}`,
		"{\"event\":\"rollback\",\"reason\":\"tab\\there, unicode \u00e9\u2713, trailing spaces   \"}  \n\n",
		"\n  leading blank line and indent\r\nCRLF kept\r\n\nRingflow-Carries: 0123456789abcdef0123456789abcdef01234567\nSigned-off-by: A <a@b>\n",
	}
	var chain []string
	parent := ""
	for i, e := range entries {
		c, err := r.CommitTreeOf(parent, "", e, "ringflow <ringflow@localhost>", time.Unix(1_800_000_000+int64(i), 0).In(time.FixedZone("", -7*3600)))
		if err != nil {
			t.Fatal(err)
		}
		chain = append(chain, c)
		parent = c
	}
	if _, err := os.Stat(emptyObj); err != nil {
		t.Errorf("empty tree object not written: %v", err)
	}
	f.run(dir, "update-ref", "refs/ringflow/ledger", parent, "")
	f.run(dir, "fsck", "--strict", "--no-dangling")
	if got := f.run(dir, "cat-file", "-t", EmptyTree); got != "tree" {
		t.Errorf("cat-file -t %s = %s", EmptyTree, got)
	}
	for i, c := range chain {
		if got := f.run(dir, "rev-parse", c+"^{tree}"); got != EmptyTree {
			t.Errorf("entry %d: tree %s", i, got)
		}
		headers, message := catCommit(f, dir, c)
		want := entries[i]
		if !strings.HasSuffix(want, "\n") {
			want += "\n"
		}
		if message != want {
			t.Errorf("entry %d: message %q, want %q", i, message, want)
		}
		hasParent := strings.Contains(headers, "\nparent ")
		if hasParent != (i > 0) {
			t.Errorf("entry %d: headers:\n%s", i, headers)
		}
		if i > 0 {
			if got := f.run(dir, "rev-parse", c+"^"); got != chain[i-1] {
				t.Errorf("entry %d: parent %s, want %s", i, got, chain[i-1])
			}
		}
		if got := gitCommitTree(f, dir, EmptyTree, parentOf(chain, i), want,
			"ringflow", "ringflow@localhost", time.Unix(1_800_000_000+int64(i), 0).In(time.FixedZone("", -7*3600))); got != c {
			t.Errorf("entry %d: %s, git commit-tree makes %s", i, c, got)
		}
	}
	// The root is a root.
	if out := f.run(dir, "rev-list", "--max-parents=0", "refs/ringflow/ledger"); out != chain[0] {
		t.Errorf("root commits: %q, want %s", out, chain[0])
	}
	// The last entry's trailers parse.
	body := f.run(dir, "log", "-1", "--format=%B", chain[2])
	trailers := f.run(dir, "interpret-trailers", "--parse", writeTemp(t, body+"\n"))
	if trailers != "Ringflow-Carries: 0123456789abcdef0123456789abcdef01234567\nSigned-off-by: A <a@b>" {
		t.Errorf("trailers %q", trailers)
	}
	if tr, err := r.TreeOf("refs/ringflow/ledger"); err != nil || tr != EmptyTree {
		t.Errorf("TreeOf(ledger) = %s, %v", tr, err)
	}
}

func parentOf(chain []string, i int) string {
	if i == 0 {
		return ""
	}
	return chain[i-1]
}

// A root commit with a real tree, and commits named by objects git wrote
// after Open (so the store must notice them).
func TestCommitTreeOfRootAndFreshObjects(t *testing.T) {
	f := newFx(t)
	dir := f.repo()
	r := mustOpen(t, dir)
	if _, err := r.TreeOf("HEAD"); err != nil {
		t.Fatal(err)
	}
	fresh := f.commit(dir, "new.txt", "written after open")
	f.run(dir, "repack", "-adq") // into a new pack
	root, err := r.CommitTreeOf("", fresh, "orphan copy", "A <a@b>", time.Unix(1_700_000_000, 0))
	if err != nil {
		t.Fatal(err)
	}
	headers, message := catCommit(f, dir, root)
	if strings.Contains(headers, "parent ") {
		t.Errorf("root commit has a parent:\n%s", headers)
	}
	if message != "orphan copy\n" {
		t.Errorf("message %q", message)
	}
	if got, want := f.run(dir, "rev-parse", root+"^{tree}"), f.run(dir, "rev-parse", fresh+"^{tree}"); got != want {
		t.Errorf("tree %s, want %s", got, want)
	}
	f.run(dir, "branch", "orphan", root)
	f.run(dir, "fsck", "--strict", "--no-dangling")
	// Revisions as ResolveCommit takes them.
	c, err := r.CommitTreeOf("main~1", "main", "", "A <a@b>", time.Unix(1_700_000_001, 0))
	if err != nil {
		t.Fatal(err)
	}
	if _, message := catCommit(f, dir, c); message != "" {
		t.Errorf("empty message stored as %q", message)
	}
	if got := f.run(dir, "rev-parse", c+"^"); got != f.run(dir, "rev-parse", "main~1") {
		t.Errorf("parent %s", got)
	}
}

func TestCommitTreeOfErrors(t *testing.T) {
	f := newFx(t)
	dir := f.repo()
	r := mustOpen(t, dir)
	when := time.Unix(1_700_000_000, 0)
	missing := strings.Repeat("ab", 20)
	for _, tc := range []struct {
		parent, from, msg, ident string
		when                     time.Time
		unknown                  bool
		contains                 string
	}{
		{parent: "nope", from: "main", ident: "A <a@b>", when: when, unknown: true, contains: `"nope"`},
		{parent: "main", from: "nope", ident: "A <a@b>", when: when, unknown: true, contains: `"nope"`},
		{parent: missing, from: "", ident: "A <a@b>", when: when, unknown: true},
		{parent: "main", from: "main", ident: "no email", when: when, contains: "identity"},
		{parent: "main", from: "main", ident: "A <a@b>", msg: "a\x00b", when: when, contains: "NUL"},
		{parent: "main", from: "main", ident: "A <a@b>", when: time.Time{}, contains: "1970"},
	} {
		_, err := r.CommitTreeOf(tc.parent, tc.from, tc.msg, tc.ident, tc.when)
		if err == nil {
			t.Errorf("CommitTreeOf(%q, %q): no error", tc.parent, tc.from)
			continue
		}
		if errors.Is(err, ErrUnknownRevision) != tc.unknown {
			t.Errorf("CommitTreeOf(%q, %q): %v; unknown revision: %v", tc.parent, tc.from, err, errors.Is(err, ErrUnknownRevision))
		}
		if !strings.Contains(err.Error(), tc.contains) {
			t.Errorf("CommitTreeOf(%q, %q): %v, want it to mention %s", tc.parent, tc.from, err, tc.contains)
		}
	}
	if _, err := r.TreeOf("nope"); !errors.Is(err, ErrUnknownRevision) {
		t.Errorf("TreeOf(nope): %v", err)
	}
	f.run(dir, "fsck", "--strict")
}
