package check

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ringflow/ringflow/pkg/gitrepo"
)

type fakeTempDirs struct {
	dirs    []gitrepo.TempDir
	removed []string
}

func (f *fakeTempDirs) NotesTempDirs() []gitrepo.TempDir { return f.dirs }
func (f *fakeTempDirs) RemoveTempDir(d gitrepo.TempDir) (bool, error) {
	f.removed = append(f.removed, d.Path)
	return true, nil
}

// A temporary index directory a killed evidence write left in $TMPDIR is
// no problem of the repository (it names none): check does not list it;
// --repair removes it all the same, and says so.
func TestCheckNotesTempDirs(t *testing.T) {
	fl, repo := healthy("origin")
	temp := &fakeTempDirs{dirs: []gitrepo.TempDir{{Path: "/tmp/ringflow-notes-1", ModTime: time.Now().Add(-time.Hour)}}}
	target := Target{Fleet: fl, Repo: repo, TempDirs: temp, ScanProcs: func() Processes { return fakeProcs{} }}
	if _, err := Check(context.Background(), target, CheckOptions{}); err != nil || len(temp.removed) != 0 {
		t.Fatalf("check: %v, removed %v", err, temp.removed)
	}
	rep, err := Check(context.Background(), target, CheckOptions{Repair: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(temp.removed, []string{"/tmp/ringflow-notes-1"}) ||
		!slices.Equal(rep.Repaired, []string{"removed temporary index directory /tmp/ringflow-notes-1 of an evidence write (no process is using it)"}) {
		t.Errorf("removed %v, repaired %q", temp.removed, rep.Repaired)
	}
}
