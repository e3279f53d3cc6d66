package gitrepo

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBrokenRefs: ref files cut short are found, and replaced or deleted
// only while they still hold what was found.
func TestBrokenRefs(t *testing.T) {
	f := newFx(t)
	dir := f.repo()
	head := f.run(dir, "rev-parse", "HEAD")
	f.run(dir, "symbolic-ref", "refs/ringflow/sym", "refs/heads/main")
	r := mustOpen(t, dir)
	_, _, common := r.RealDirs()
	empty := filepath.Join(common, "refs", "heads", "dev")
	cut := filepath.Join(common, "refs", "ringflow", "ledger")
	writeFile(t, empty, "")
	writeFile(t, cut, head[:17])
	writeFile(t, filepath.Join(common, "refs", "heads", "x.lock"), "") // a lock, not a ref

	got := map[string]BrokenRef{}
	for _, b := range r.BrokenRefs() {
		got[b.Name] = b
	}
	if len(got) != 2 || got["refs/heads/dev"].Path != empty || len(got["refs/heads/dev"].Content) != 0 ||
		got["refs/ringflow/ledger"].Path != cut || string(got["refs/ringflow/ledger"].Content) != head[:17] {
		t.Fatalf("BrokenRefs = %+v", got)
	}

	// Changed meanwhile: left alone.
	if err := r.ReplaceRefFile(cut, []byte("something else"), head); err == nil || !strings.Contains(err.Error(), "changed meanwhile; left alone") {
		t.Errorf("ReplaceRefFile of a changed file: %v", err)
	}
	// Its lock taken: git's error.
	writeFile(t, cut+".lock", "")
	if err := r.ReplaceRefFile(cut, []byte(head[:17]), head); err == nil || !strings.Contains(err.Error(), "lock "+cut+".lock") {
		t.Errorf("ReplaceRefFile under another's lock: %v", err)
	}
	os.Remove(cut + ".lock")
	if b, _ := os.ReadFile(cut); string(b) != head[:17] {
		t.Errorf("the ref file was touched: %q", b)
	}

	if err := r.ReplaceRefFile(cut, []byte(head[:17]), head); err != nil {
		t.Fatal(err)
	}
	if got := f.run(dir, "rev-parse", "refs/ringflow/ledger"); got != head {
		t.Errorf("restored ref = %s, want %s", got, head)
	}
	if err := r.ReplaceRefFile(empty, nil, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(empty); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("deleted ref file: %v", err)
	}
	if _, err := os.Stat(cut + ".lock"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock left: %v", err)
	}
	if bs := r.BrokenRefs(); len(bs) != 0 {
		t.Errorf("BrokenRefs after the repairs = %+v", bs)
	}
}

// TestLastReflogValue: the reflog's newest value, when it is a commit here.
func TestLastReflogValue(t *testing.T) {
	f := newFx(t)
	dir := f.repo()
	f.commit(dir, "a", "second")
	head := f.run(dir, "rev-parse", "HEAD")
	r := mustOpen(t, dir)
	if got := r.LastReflogValue("refs/heads/main"); got != head {
		t.Errorf("LastReflogValue(main) = %q, want %s", got, head)
	}
	if got := r.LastReflogValue("refs/heads/nosuch"); got != "" {
		t.Errorf("LastReflogValue(nosuch) = %q", got)
	}
	_, _, common := r.RealDirs()
	zero := strings.Repeat("0", 40)
	writeFile(t, filepath.Join(common, "logs", "refs", "heads", "gone"),
		zero+" "+strings.Repeat("ab", 20)+" A <a@b> 1 +0000\tno such commit\n")
	writeFile(t, filepath.Join(common, "logs", "refs", "heads", "deleted"),
		head+" "+zero+" A <a@b> 1 +0000\tdeleted\n")
	for _, ref := range []string{"refs/heads/gone", "refs/heads/deleted"} {
		if got := r.LastReflogValue(ref); got != "" {
			t.Errorf("LastReflogValue(%s) = %q, want none", ref, got)
		}
	}
}
