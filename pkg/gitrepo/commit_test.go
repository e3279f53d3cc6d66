package gitrepo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// lsTree maps every path of a commit's tree (recursively, gitlinks
// included) to "mode type id", as git sees it.
func lsTree(f *fx, dir, commit string) map[string]string {
	f.tb.Helper()
	out := gitRaw(f, dir, "ls-tree", "-r", "-z", commit)
	m := map[string]string{}
	for _, rec := range strings.Split(string(out), "\x00") {
		if rec == "" {
			continue
		}
		meta, path, ok := strings.Cut(rec, "\t")
		if !ok {
			f.tb.Fatalf("ls-tree record %q", rec)
		}
		m[path] = meta
	}
	return m
}

// fleetRepo makes a work tree whose tree has the shapes CommitFiles must
// keep: nested lock files, an executable, a symlink, a submodule gitlink,
// names that sort around "hosts" ("hosts-old", "hosts.nix"), an empty blob.
func fleetRepo(f *fx) (dir, head string) {
	f.tb.Helper()
	dir = f.repo()
	write := func(p, content string, mode os.FileMode) {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			f.tb.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), mode); err != nil {
			f.tb.Fatal(err)
		}
	}
	write("flake.nix", "{ outputs = _: { }; }\n", 0o644)
	write("flake.lock", `{"nodes":{"root":{}},"version":7}`+"\n", 0o644)
	write("hosts/plex/flake.lock", "plex lock v1\n", 0o644)
	write("hosts/plex/default.nix", "{ }\n", 0o644)
	write("hosts/web/default.nix", "{ web }\n", 0o644)
	write("hosts-old/x.nix", "old\n", 0o644)
	write("hosts.nix", "hosts\n", 0o644)
	write("bin/deploy.sh", "#!/bin/sh\necho deploy\n", 0o755)
	write("empty", "", 0o644)
	if err := os.Symlink("hosts/plex/default.nix", filepath.Join(dir, "plex.nix")); err != nil {
		f.tb.Fatal(err)
	}
	f.run(dir, "add", "-A")
	// Unpopulated submodules look like empty directories.
	for _, p := range []string{"vendor/sub", "hosts/plex/sub"} {
		if err := os.MkdirAll(filepath.Join(dir, p), 0o755); err != nil {
			f.tb.Fatal(err)
		}
	}
	// A gitlink: a submodule pinned at some commit, never checked out.
	f.run(dir, "update-index", "--add", "--cacheinfo", "160000,"+f.run(dir, "rev-parse", "HEAD")+",vendor/sub")
	f.run(dir, "update-index", "--add", "--cacheinfo", "160000,"+f.run(dir, "rev-parse", "HEAD")+",hosts/plex/sub")
	head = f.commit(dir, "", "fleet")
	return dir, head
}

// gitTreeWith builds, with git plumbing in a throwaway index, the tree git
// itself makes from base's tree with files written as 0644 blobs.
func gitTreeWith(f *fx, dir, base string, files map[string][]byte) string {
	f.tb.Helper()
	env := []string{"GIT_INDEX_FILE=" + filepath.Join(f.tb.TempDir(), "index")}
	if _, err := f.try(dir, env, "read-tree", base); err != nil {
		f.tb.Fatal(err)
	}
	for p, content := range files {
		blob := gitStdin(f, dir, string(content), "hash-object", "-w", "--stdin")
		if _, err := f.try(dir, env, "update-index", "--add", "--replace", "--cacheinfo", "100644,"+blob+","+p); err != nil {
			f.tb.Fatal(err)
		}
	}
	out, err := f.try(dir, env, "write-tree")
	if err != nil {
		f.tb.Fatal(err)
	}
	return out
}

func fsckClean(f *fx, dir string) {
	f.tb.Helper()
	out, err := f.try(dir, nil, "fsck", "--strict", "--no-dangling", "--no-progress")
	if err != nil || out != "" {
		f.tb.Errorf("git fsck: %v\n%s", err, out)
	}
}

func TestCommitFiles(t *testing.T) {
	for _, bare := range []bool{false, true} {
		name := map[bool]string{false: "work tree", true: "bare"}[bare]
		t.Run(name, func(t *testing.T) {
			f := newFx(t)
			dir, parent := fleetRepo(f)
			if bare {
				b := filepath.Join(t.TempDir(), "fleet.git")
				f.run(dir, "clone", "-q", "--bare", dir, b)
				dir = b
			}
			r := mustOpen(t, dir)
			before := lsTree(f, dir, parent)

			files := map[string][]byte{
				"flake.lock":             []byte(`{"nodes":{"root":{},"nixpkgs":{}},"version":7}` + "\n"),
				"hosts/plex/flake.lock":  []byte("plex lock v2\n"),
				"hosts/new/sub/x.lock":   []byte("brand new, nested\n"),
				"bin/deploy.sh.lock":     nil, // an empty file next to the executable
				"hosts-old/zzz/new.lock": []byte("new\n"),
			}
			when := time.Date(2024, 3, 1, 2, 3, 4, 999, time.FixedZone("IST", 5*3600+1800))
			msg := "flake.lock: update\n\nnixpkgs: abc → def\n  indented line\n"
			c, err := r.CommitFiles(parent, files, msg, "Ringflow Bot <bot@example.org>", when)
			if err != nil {
				t.Fatal(err)
			}
			if !isObjectID(c) {
				t.Fatalf("CommitFiles = %q", c)
			}

			// git reads it at once and finds nothing wrong.
			raw := string(gitRaw(f, dir, "cat-file", "-p", c))
			if !strings.Contains(raw, "\nparent "+parent+"\n") {
				t.Errorf("cat-file -p:\n%s", raw)
			}
			wantRaw := "author Ringflow Bot <bot@example.org> 1709238784 +0530\n" +
				"committer Ringflow Bot <bot@example.org> 1709238784 +0530\n\n" + msg
			if !strings.HasSuffix(raw, wantRaw) {
				t.Errorf("cat-file -p ends\n%q\nwant\n%q", raw, wantRaw)
			}
			if typ := f.run(dir, "cat-file", "-t", c); typ != "commit" {
				t.Errorf("type %s", typ)
			}
			stat := f.run(dir, "show", "--stat", "--format=", c)
			for p := range files {
				if !strings.Contains(stat, filepath.Base(p)) {
					t.Errorf("show --stat does not name %s:\n%s", p, stat)
				}
			}
			if got := f.run(dir, "rev-list", "--parents", "-n1", c); got != c+" "+parent {
				t.Errorf("parents: %s", got)
			}
			got := f.run(dir, "log", "-1", "--date=raw", "--format=%an|%ae|%ad|%cn|%ce|%cd", c)
			if want := "Ringflow Bot|bot@example.org|1709238784 +0530|Ringflow Bot|bot@example.org|1709238784 +0530"; got != want {
				t.Errorf("log = %q, want %q", got, want)
			}
			if got := string(gitRaw(f, dir, "log", "-1", "--format=%B", c)); got != msg+"\n" {
				t.Errorf("message %q, want %q", got, msg)
			}
			fsckClean(f, dir)

			// Exactly the tree git would build; every other entry as it was.
			if got, want := f.run(dir, "rev-parse", c+"^{tree}"), gitTreeWith(f, dir, parent, files); got != want {
				t.Errorf("tree %s, git builds %s", got, want)
			}
			after := lsTree(f, dir, c)
			for p, meta := range before {
				if _, changed := files[p]; changed {
					continue
				}
				if after[p] != meta {
					t.Errorf("%s: %q → %q", p, meta, after[p])
				}
			}
			for p, content := range files {
				if !strings.HasPrefix(after[p], "100644 blob ") {
					t.Errorf("%s: %q, want a 100644 blob", p, after[p])
				}
				if got := gitRaw(f, dir, "show", c+":"+p); string(got) != string(content) {
					t.Errorf("%s: %q, want %q", p, got, content)
				}
			}
			if len(after) != len(before)+3 {
				t.Errorf("%d paths after, %d before (+3 new)", len(after), len(before))
			}
			for _, p := range []string{"bin/deploy.sh", "plex.nix", "vendor/sub", "hosts/plex/sub"} {
				t.Logf("%s kept as %s", p, after[p])
			}

			// The same content again: nothing to commit, nothing written.
			objects := f.run(dir, "count-objects")
			for _, same := range []map[string][]byte{
				files,
				{"flake.lock": files["flake.lock"]},
				{"hosts/plex/flake.lock": files["hosts/plex/flake.lock"]},
				{},
			} {
				if got, err := r.CommitFiles(c, same, "again", ident, when); !errors.Is(err, ErrNoChange) || got != "" {
					t.Errorf("unchanged files: %q, %v; want ErrNoChange", got, err)
				}
			}
			if got := f.run(dir, "count-objects"); got != objects {
				t.Errorf("objects %q → %q after ErrNoChange", objects, got)
			}

			// Replacing an executable or a symlink makes a regular file.
			c2, err := r.CommitFiles(c, map[string][]byte{"bin/deploy.sh": []byte("x"), "plex.nix": []byte("y")}, "replace", ident, when)
			if err != nil {
				t.Fatal(err)
			}
			after2 := lsTree(f, dir, c2)
			for _, p := range []string{"bin/deploy.sh", "plex.nix"} {
				if !strings.HasPrefix(after2[p], "100644 blob ") {
					t.Errorf("%s: %q", p, after2[p])
				}
			}
			fsckClean(f, dir)

			// Our own reads see the new commits.
			if ci, err := r.Commit(c2); err != nil || ci.Subject != "replace" || ci.Author != "Ringflow Bot" {
				t.Errorf("Commit(c2) = %+v, %v", ci, err)
			}
			if got, ok, err := r.FileAt(c, "hosts/plex/flake.lock"); err != nil || !ok || string(got) != "plex lock v2\n" {
				t.Errorf("FileAt = %q, %v, %v", got, ok, err)
			}
		})
	}
}

func TestCommitFilesErrors(t *testing.T) {
	f := newFx(t)
	dir, parent := fleetRepo(f)
	r := mustOpen(t, dir)
	when := time.Unix(1_700_000_000, 0)
	blob := f.run(dir, "rev-parse", parent+":flake.lock")
	for _, tc := range []struct {
		name   string
		parent string
		files  map[string][]byte
		ident  string
		want   string
	}{
		{"file as dir", parent, map[string][]byte{"flake.nix/x": nil}, ident, "flake.nix is not a directory"},
		{"gitlink as dir", parent, map[string][]byte{"vendor/sub/x": nil}, ident, "vendor/sub is not a directory"},
		{"dir as file", parent, map[string][]byte{"hosts/plex": nil}, ident, "hosts/plex is a directory"},
		{"gitlink", parent, map[string][]byte{"hosts/plex/sub": nil}, ident, "hosts/plex/sub is a submodule"},
		{"both", parent, map[string][]byte{"a": nil, "a/b": nil}, ident, "both a file and a directory"},
		{"empty path", parent, map[string][]byte{"": nil}, ident, "empty path"},
		{"absolute", parent, map[string][]byte{"/flake.lock": nil}, ident, "not a clean"},
		{"double slash", parent, map[string][]byte{"hosts//x": nil}, ident, "not a clean"},
		{"trailing slash", parent, map[string][]byte{"hosts/": nil}, ident, "not a clean"},
		{"dotdot", parent, map[string][]byte{"../x": nil}, ident, "not a clean"},
		{"dot", parent, map[string][]byte{"./x": nil}, ident, "not a clean"},
		{".git", parent, map[string][]byte{".git/config": nil}, ident, ".git"},
		{".GIT", parent, map[string][]byte{"x/.GIT": nil}, ident, ".git"},
		{"identity", parent, map[string][]byte{"x": nil}, "nobody", "identity"},
		{"unknown parent", strings.Repeat("ab", 20), map[string][]byte{"x": nil}, ident, "unknown revision"},
		{"blob parent", blob, map[string][]byte{"x": nil}, ident, "not a commit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := r.CommitFiles(tc.parent, tc.files, "m", tc.ident, when)
			if err == nil || c != "" || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("CommitFiles = %q, %v; want error with %q", c, err, tc.want)
			}
		})
	}
	if _, err := r.CommitFiles(strings.Repeat("ab", 20), map[string][]byte{"x": nil}, "m", ident, when); !errors.Is(err, ErrUnknownRevision) {
		t.Errorf("unknown parent: %v, want ErrUnknownRevision", err)
	}
	if _, err := r.CommitFiles(parent, map[string][]byte{"x": nil}, "m\x00", ident, when); err == nil {
		t.Error("NUL in message accepted")
	}
	if _, err := r.CommitFiles(parent, map[string][]byte{"x": nil}, "m", ident, time.Time{}); err == nil {
		t.Error("zero time accepted")
	}
	// A revision works as parent.
	c, err := r.CommitFiles("main", map[string][]byte{"x": []byte("x")}, "m", ident, when)
	if err != nil || f.run(dir, "rev-parse", c+"^") != parent {
		t.Errorf("CommitFiles(main) = %s, %v", c, err)
	}
	// A message gets the final newline git commit would give it.
	if raw := string(gitRaw(f, dir, "cat-file", "commit", c)); !strings.HasSuffix(raw, "\n\nm\n") {
		t.Errorf("raw commit %q", raw)
	}
	fsckClean(f, dir)
}

// TestCommitFilesPackRefresh interleaves go-git's object writes with the
// git CLI's: commits that reach us only in packs written after Open, our
// loose objects packed away and pruned under us, a fetch into a clone.
func TestCommitFilesPackRefresh(t *testing.T) {
	f := newFx(t)
	dir, _ := fleetRepo(f)
	r := mustOpen(t, dir)
	if _, err := r.ResolveCommit("main"); err != nil { // load the pack list now
		t.Fatal(err)
	}
	prev := ""
	for i := range 6 {
		// The CLI makes a commit and packs everything, deleting the old
		// packs and loose objects (ours included) our store may hold.
		parent := f.commit(dir, fmt.Sprintf("cli-%d", i), fmt.Sprintf("cli %d", i))
		f.run(dir, "repack", "-a", "-d", "-q")
		f.run(dir, "prune-packed")
		if prev != "" {
			// The previous go-git commit, now only in the new pack.
			if _, ok, err := r.FileAt(prev, "flake.lock"); err != nil || !ok {
				t.Fatalf("round %d: FileAt(previous) = %v, %v", i, ok, err)
			}
		}
		c, err := r.CommitFiles(parent, map[string][]byte{"flake.lock": fmt.Appendf(nil, "lock %d\n", i)}, fmt.Sprintf("update %d", i), ident, time.Unix(1_800_000_000+int64(i), 0))
		if err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		if got := f.run(dir, "show", c+":flake.lock"); got != fmt.Sprintf("lock %d", i) {
			t.Fatalf("round %d: git show = %q", i, got)
		}
		// Move main by CAS, as update does; the CLI's next commit builds on it.
		if adv, err := r.AdvanceBranch(t.Context(), "main", parent, c); err != nil || !adv.Moved {
			t.Fatalf("round %d: AdvanceBranch = %+v, %v", i, adv, err)
		}
		prev = c
	}
	f.run(dir, "gc", "-q", "--prune=now")
	if got, err := r.ChangedFiles("main~2", "main"); err != nil || !slices.Equal(got, []string{"cli-5", "flake.lock"}) {
		t.Errorf("ChangedFiles after gc = %v, %v", got, err)
	}
	fsckClean(f, dir)

	// A clone gets a new commit by a fetch it does behind our back.
	origin := filepath.Join(t.TempDir(), "origin.git")
	f.run(dir, "clone", "-q", "--bare", dir, origin)
	ours := f.clone(origin, "ours")
	ro := mustOpen(t, ours)
	if _, err := ro.ResolveCommit("origin/main"); err != nil {
		t.Fatal(err)
	}
	other := f.clone(origin, "other")
	tip := f.commit(other, "flake.lock", "upstream lock")
	f.run(other, "push", "-q", "origin", "main")
	f.run(ours, "fetch", "-q", "origin")
	c, err := ro.CommitFiles(tip, map[string][]byte{"flake.lock": []byte("ours\n")}, "ours", ident, time.Unix(1_800_000_000, 0))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.run(ours, "log", "-1", "--format=%s %P", c); got != "ours "+tip {
		t.Errorf("log = %q", got)
	}
	fsckClean(f, ours)
}

// TestCommitFilesConcurrent runs writes and reads from many goroutines on
// one Repo (under -race this checks the store's locking).
func TestCommitFilesConcurrent(t *testing.T) {
	f := newFx(t)
	dir, parent := fleetRepo(f)
	r := mustOpen(t, dir)
	var wg sync.WaitGroup
	commits := make([]string, 8)
	errs := make([]error, 8)
	for i := range commits {
		wg.Go(func() {
			content := fmt.Appendf(nil, "lock %d\n", i%4) // half the blobs collide
			commits[i], errs[i] = r.CommitFiles(parent, map[string][]byte{"flake.lock": content, fmt.Sprintf("hosts/h%d/flake.lock", i): content}, "m", ident, time.Unix(1_800_000_000, 0))
			if errs[i] == nil {
				_, _, errs[i] = r.FileAt(commits[i], "flake.lock")
			}
		})
	}
	wg.Wait()
	for i, c := range commits {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if got := f.run(dir, "show", c+":flake.lock"); got != fmt.Sprintf("lock %d", i%4) {
			t.Errorf("commit %d: %q", i, got)
		}
	}
	fsckClean(f, dir)
}

func TestFileAt(t *testing.T) {
	f := newFx(t)
	dir, head := fleetRepo(f)
	r := mustOpen(t, dir)
	first := f.run(dir, "rev-parse", "main~1")
	for _, tc := range []struct{ rev, path string }{
		{head, "flake.lock"},
		{head, "hosts/plex/flake.lock"},
		{head, "bin/deploy.sh"},
		{head, "plex.nix"}, // a symlink: its target, as git show prints it
		{head, "empty"},
		{"main", "hosts.nix"},
		{"main~1", "README"},
		{first[:8], "README"},
	} {
		want := gitRaw(f, dir, "show", tc.rev+":"+tc.path)
		got, ok, err := r.FileAt(tc.rev, tc.path)
		if err != nil || !ok || string(got) != string(want) {
			t.Errorf("FileAt(%s, %s) = %q, %v, %v; want %q", tc.rev, tc.path, got, ok, err, want)
		}
	}
	for _, tc := range []struct{ rev, path string }{
		{head, "missing"},
		{head, "hosts/plex/missing"},
		{head, "nope/flake.lock"},
		{head, "flake.lock/x"}, // under a file
		{head, "vendor/sub/x"}, // under a gitlink
		{"main~1", "flake.lock"},
		{head, "Flake.lock"}, // case matters
	} {
		if _, err := f.try(dir, nil, "cat-file", "-e", tc.rev+":"+tc.path); err == nil {
			t.Fatalf("git finds %s:%s", tc.rev, tc.path)
		}
		got, ok, err := r.FileAt(tc.rev, tc.path)
		if err != nil || ok || got != nil {
			t.Errorf("FileAt(%s, %s) = %q, %v, %v; want absent", tc.rev, tc.path, got, ok, err)
		}
	}
	for _, tc := range []struct{ rev, path, want string }{
		{head, "hosts", "is a directory"},
		{head, "vendor/sub", "is a submodule"},
		{head, "/flake.lock", "not a clean"},
		{head, "", "empty path"},
		{"nope", "flake.lock", "unknown revision"},
	} {
		if _, ok, err := r.FileAt(tc.rev, tc.path); err == nil || ok || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("FileAt(%s, %q) = %v, %v; want error with %q", tc.rev, tc.path, ok, err, tc.want)
		}
	}
	if _, _, err := r.FileAt("nope", "x"); !errors.Is(err, ErrUnknownRevision) {
		t.Errorf("FileAt(nope) = %v, want ErrUnknownRevision", err)
	}
}

func TestChangedFiles(t *testing.T) {
	f := newFx(t)
	dir, a := fleetRepo(f)
	r := mustOpen(t, dir)
	w := func(p, content string) {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Every kind of change, in one commit. (Not `git add -A`: it would
	// stage the unpopulated gitlinks' deletion.)
	w("flake.lock", "modified\n")                                                         // modified
	w("hosts/new/flake.lock", "added\n")                                                  // added in a new dir
	f.run(dir, "rm", "-q", "hosts/web/default.nix")                                       // removed, its dir gone
	if err := os.Chmod(filepath.Join(dir, "hosts/plex/default.nix"), 0o755); err != nil { // mode only
		t.Fatal(err)
	}
	f.run(dir, "rm", "-q", "hosts.nix")
	w("hosts.nix/inner", "file became a dir\n") // file → dir
	f.run(dir, "rm", "-q", "-r", "hosts-old")
	w("hosts-old", "dir became a file\n") // dir → file
	os.Remove(filepath.Join(dir, "plex.nix"))
	if err := os.Symlink("elsewhere", filepath.Join(dir, "plex.nix")); err != nil { // symlink target
		t.Fatal(err)
	}
	f.run(dir, "add", "flake.lock", "hosts/new", "hosts/plex/default.nix", "hosts.nix", "hosts-old", "plex.nix")
	f.run(dir, "update-index", "--cacheinfo", "160000,"+a+",vendor/sub") // gitlink moved
	b := f.commit(dir, "", "changes")

	// A pure rename: git with rename detection would list one path.
	f.run(dir, "mv", "hosts/plex/flake.lock", "hosts/plex/renamed.lock")
	c := f.commit(dir, "", "rename")

	for _, tc := range [][2]string{{a, b}, {b, a}, {b, c}, {a, c}, {a, a}, {"main~1", "main"}, {"main~2", "main"}} {
		out := f.run(dir, "diff", "--no-renames", "--name-only", "-z", tc[0], tc[1])
		want := []string{}
		for _, p := range strings.Split(out, "\x00") {
			if p != "" {
				want = append(want, p)
			}
		}
		slices.Sort(want)
		got, err := r.ChangedFiles(tc[0], tc[1])
		if err != nil {
			t.Fatal(err)
		}
		if got == nil {
			got = []string{}
		}
		if !slices.Equal(got, want) {
			t.Errorf("ChangedFiles(%s, %s) =\n%q\ngit diff:\n%q", tc[0], tc[1], got, want)
		}
	}
	if got, _ := r.ChangedFiles(a, b); len(got) < 9 {
		t.Errorf("test covers too little: %q", got)
	}
	if _, err := r.ChangedFiles(a, "nope"); !errors.Is(err, ErrUnknownRevision) {
		t.Errorf("ChangedFiles(a, nope) = %v", err)
	}
}
