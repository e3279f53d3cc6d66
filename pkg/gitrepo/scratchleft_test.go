package gitrepo

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestScratchEntries: the entries of scratch checkouts, and what they say;
// the operator's own work trees are not among them.
func TestScratchEntries(t *testing.T) {
	f := newFx(t)
	tmp := scratchTmp(t)
	dir := f.repo()
	r := mustOpen(t, dir)
	f.run(dir, "worktree", "add", "-q", "--detach", filepath.Join(t.TempDir(), "mine"))
	live, remove, err := r.Scratch(t.Context(), "main")
	if err != nil {
		t.Fatal(err)
	}
	defer remove()
	_, _, common := r.RealDirs()
	half := filepath.Join(common, "worktrees", "ringflow-scratch-123")
	writeFile(t, filepath.Join(half, "locked"), "initializing\n")

	got := map[string]ScratchEntry{}
	for _, se := range r.ScratchEntries() {
		got[se.Admin] = se
	}
	if len(got) != 2 {
		t.Fatalf("ScratchEntries = %+v", got)
	}
	if se := got[half]; se.Dir != "" || !se.Unfinished || se.Kept {
		t.Errorf("half-made entry = %+v", se)
	}
	var liveEntry ScratchEntry
	for _, se := range got {
		if se.Dir == live {
			liveEntry = se
		}
	}
	if liveEntry.Unfinished || liveEntry.Kept || liveEntry.DirGone || liveEntry.AdminTime.IsZero() || liveEntry.RealDir() != live {
		t.Errorf("live entry = %+v (checkout %s)", liveEntry, live)
	}
	f.run(dir, "worktree", "lock", live)
	for _, se := range r.ScratchEntries() {
		if se.Dir == live && !se.Kept {
			t.Errorf("locked entry not Kept: %+v", se)
		}
	}
	f.run(dir, "worktree", "unlock", live)

	// $TMPDIR: a checkout whose entry is gone, an empty directory, and
	// what is not an orphan of this repository.
	orphan := filepath.Join(tmp, "ringflow-scratch-orphan")
	writeFile(t, filepath.Join(orphan, ".git"), "gitdir: "+filepath.Join(common, "worktrees", "ringflow-scratch-orphan")+"\n")
	writeFile(t, filepath.Join(orphan, "flake.nix"), "{}\n")
	empty := filepath.Join(tmp, "ringflow-scratch-empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(tmp, "ringflow-scratch-other", ".git"), "gitdir: /elsewhere/.git/worktrees/x\n")
	writeFile(t, filepath.Join(tmp, "ringflow-scratch-full", "file"), "")
	writeFile(t, filepath.Join(tmp, "not-ours", "x"), "")

	dirs := r.OrphanScratchDirs(r.ScratchEntries())
	if len(dirs) != 2 {
		t.Fatalf("OrphanScratchDirs = %+v", dirs)
	}
	byPath := map[string]ScratchDir{}
	for _, d := range dirs {
		byPath[d.Path] = d
	}
	if d, ok := byPath[realPath(orphan)]; !ok || d.Empty {
		t.Errorf("orphan checkout: %+v", dirs)
	}
	if d, ok := byPath[realPath(empty)]; !ok || !d.Empty || d.ModTime.IsZero() {
		t.Errorf("empty directory: %+v", dirs)
	}

	// Removal: an empty directory that got files stays.
	writeFile(t, filepath.Join(empty, "new"), "")
	if removed, err := r.RemoveScratchDir(byPath[realPath(empty)]); removed || err != nil {
		t.Errorf("RemoveScratchDir of a directory no longer empty = %v, %v", removed, err)
	}
	if removed, err := r.RemoveScratchDir(byPath[realPath(orphan)]); !removed || err != nil {
		t.Errorf("RemoveScratchDir(orphan) = %v, %v", removed, err)
	}
	if _, err := os.Stat(orphan); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("orphan still there: %v", err)
	}
	if err := r.RemoveScratchEntry(got[half]); err != nil {
		t.Fatal(err)
	}
	if err := r.RemoveScratchEntry(liveEntry); err != nil {
		t.Fatal(err)
	}
	for _, gone := range []string{half, liveEntry.Admin, live} {
		if _, err := os.Stat(gone); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there: %v", gone, err)
		}
	}
	if n := len(r.ScratchEntries()); n != 0 {
		t.Errorf("%d entries left", n)
	}
}
