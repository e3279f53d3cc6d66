package leftover

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/ringflow/ringflow/pkg/gitrepo"
)

var now = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

type fakeRepo struct {
	entries     []gitrepo.ScratchEntry
	orphans     []gitrepo.ScratchDir
	lockTaken   bool // another process holds the scratch lock
	locked      bool // the Finder holds it now
	locks       int
	cycleHeld   bool
	removed     []string
	removeFails map[string]bool
}

func (r *fakeRepo) RealDirs() (string, string, string) { return "/repo", "/repo/.git", "/repo/.git" }
func (r *fakeRepo) Lock(name string, wait bool) (func(), error) {
	if name != "scratch" || wait || r.locked {
		panic("want the scratch lock, not waiting, not held twice")
	}
	r.locks++
	if r.lockTaken {
		return nil, errors.New("held by another process")
	}
	r.locked = true
	return func() { r.locked = false }, nil
}
func (r *fakeRepo) LockHeld(name string) bool              { return name == "cycle" && r.cycleHeld }
func (r *fakeRepo) ScratchEntries() []gitrepo.ScratchEntry { return r.entries }
func (r *fakeRepo) OrphanScratchDirs([]gitrepo.ScratchEntry) []gitrepo.ScratchDir {
	return r.orphans
}
func (r *fakeRepo) RemoveScratchEntry(se gitrepo.ScratchEntry) error {
	if r.locked {
		panic("RemoveScratchEntry takes the scratch lock itself: not under Find's")
	}
	if r.removeFails[se.Admin] {
		return errors.New("permission denied")
	}
	r.removed = append(r.removed, se.Admin)
	return nil
}
func (r *fakeRepo) RemoveScratchDir(d gitrepo.ScratchDir) (bool, error) {
	r.removed = append(r.removed, d.Path)
	return true, nil
}

type fakeTemp struct {
	dirs    []gitrepo.TempDir
	removed []string
}

func (t *fakeTemp) NotesTempDirs() []gitrepo.TempDir { return t.dirs }
func (t *fakeTemp) RemoveTempDir(d gitrepo.TempDir) (bool, error) {
	t.removed = append(t.removed, d.Path)
	return true, nil
}

type fakeProcs struct {
	ringflow bool
	used     map[string]bool
}

func (p fakeProcs) RingflowIn([]string) bool { return p.ringflow }
func (p fakeProcs) UsedBy(dirs []string) bool {
	for _, d := range dirs {
		if p.used[d] {
			return true
		}
	}
	return false
}

// A killed run's leftovers, beside what live processes hold.
func leftovers() (*fakeRepo, *fakeTemp, fakeProcs) {
	repo := &fakeRepo{
		entries: []gitrepo.ScratchEntry{
			{Admin: "/repo/.git/worktrees/ringflow-scratch-1", Unfinished: true},
			{Admin: "/repo/.git/worktrees/ringflow-scratch-2", Dir: "/tmp/ringflow-scratch-2", DirGone: true, AdminTime: now},
			{Admin: "/repo/.git/worktrees/ringflow-scratch-3", Dir: "/tmp/ringflow-scratch-3", AdminTime: now},                      // nobody uses it
			{Admin: "/repo/.git/worktrees/ringflow-scratch-4", Dir: "/tmp/ringflow-scratch-4", AdminTime: now.Add(-25 * time.Hour)}, // used, but a day old
			{Admin: "/repo/.git/worktrees/ringflow-scratch-5", Dir: "/tmp/ringflow-scratch-5", AdminTime: now},                      // used
			{Admin: "/repo/.git/worktrees/ringflow-scratch-6", Dir: "/tmp/ringflow-scratch-6", Kept: true},
		},
		orphans: []gitrepo.ScratchDir{
			{Path: "/tmp/ringflow-scratch-7"},
			{Path: "/tmp/ringflow-scratch-7b"},                                           // its entry is gone, but a process works in it
			{Path: "/tmp/ringflow-scratch-8", Empty: true, ModTime: now},                 // just made
			{Path: "/tmp/ringflow-scratch-9", Empty: true, ModTime: now.Add(-time.Hour)}, // long empty
		},
	}
	temp := &fakeTemp{dirs: []gitrepo.TempDir{
		{Path: "/tmp/ringflow-notes-1", ModTime: now.Add(-time.Hour)},        // a killed write's
		{Path: "/tmp/ringflow-notes-2", ModTime: now.Add(-time.Second)},      // a write going on
		{Path: "/tmp/ringflow-notes-3", ModTime: now.Add(-10 * time.Minute)}, // git still at work in it
	}}
	procs := fakeProcs{used: map[string]bool{"/tmp/ringflow-scratch-4": true, "/tmp/ringflow-scratch-5": true,
		"/tmp/ringflow-scratch-7b": true, "/tmp/ringflow-notes-3": true}}
	return repo, temp, procs
}

func finder(repo *fakeRepo, temp *fakeTemp, procs fakeProcs, scans *int) *Finder {
	return &Finder{Repo: repo, Temp: temp, Now: func() time.Time { return now },
		Scan: func() Processes { *scans++; return procs }}
}

// Sweep removes exactly what no process uses — never a checkout that is
// in use however old (that is check --repair's), nor one just made, nor
// anything while another ringflow works in the repository — and says
// each; the processes are read once.
func TestSweep(t *testing.T) {
	repo, temp, procs := leftovers()
	scans := 0
	got := finder(repo, temp, procs, &scans).Sweep()
	wantRepo := []string{"/repo/.git/worktrees/ringflow-scratch-1", "/repo/.git/worktrees/ringflow-scratch-2",
		"/repo/.git/worktrees/ringflow-scratch-3", "/tmp/ringflow-scratch-7", "/tmp/ringflow-scratch-9"}
	if !slices.Equal(repo.removed, wantRepo) {
		t.Errorf("removed %v\nwant %v", repo.removed, wantRepo)
	}
	if !slices.Equal(temp.removed, []string{"/tmp/ringflow-notes-1"}) {
		t.Errorf("removed notes directories %v, want only the killed write's", temp.removed)
	}
	want := []string{
		"removed stale scratch checkout /repo/.git/worktrees/ringflow-scratch-1 and its work tree entry (its entry was never finished (the process creating it was killed))",
		"removed stale scratch checkout /tmp/ringflow-scratch-2 and its work tree entry (its directory is gone)",
		"removed stale scratch checkout /tmp/ringflow-scratch-3 and its work tree entry (no process is using it)",
		"removed stale scratch directory /tmp/ringflow-scratch-7 (its work tree entry is gone)",
		"removed empty scratch directory /tmp/ringflow-scratch-9 (its checkout never started)",
		"removed temporary index directory /tmp/ringflow-notes-1 of an evidence write (no process is using it)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("said\n%q\nwant\n%q", got, want)
	}
	if scans != 1 {
		t.Errorf("read the process table %d times, want once", scans)
	}

	// Another ringflow works in the repository, or a cycle holds its lock:
	// a checkout nobody seems to use may be theirs.
	for _, busy := range []fakeProcs{{ringflow: true, used: procs.used}, procs} {
		repo, temp, _ := leftovers()
		repo.cycleHeld = !busy.ringflow
		finder(repo, temp, busy, &scans).Sweep()
		if slices.Contains(repo.removed, "/repo/.git/worktrees/ringflow-scratch-3") {
			t.Errorf("swept scratch-3 while another ringflow may use it (ringflow %v, cycle %v)", busy.ringflow, repo.cycleHeld)
		}
	}

	// While another process holds the scratch lock no checkout is looked
	// at; a removal that fails is not said.
	repo, temp, procs = leftovers()
	repo.lockTaken = true
	if got := finder(repo, temp, procs, &scans).Sweep(); len(repo.removed) != 0 || len(got) != 1 {
		t.Errorf("under another's lock: removed %v, said %q", repo.removed, got)
	}
	repo, temp, procs = leftovers()
	repo.removeFails = map[string]bool{"/repo/.git/worktrees/ringflow-scratch-1": true}
	if got := finder(repo, temp, procs, &scans).Sweep(); len(got) != 5 {
		t.Errorf("said %q, want the 5 removals that worked", got)
	}
}

// Nothing left behind: no lock taken, no process table read.
func TestSweepNothingThere(t *testing.T) {
	repo, temp, scans := &fakeRepo{}, &fakeTemp{}, 0
	if got := finder(repo, temp, fakeProcs{}, &scans).Sweep(); got != nil || repo.locks != 0 || scans != 0 {
		t.Errorf("said %q, %d locks, %d scans; want nothing at all", got, repo.locks, scans)
	}
}

// Find, for check: every leftover is a problem but the young empty
// directory and the notes directories, and the day-old checkout in use is
// there for --repair, not for a sweep.
func TestFindForCheck(t *testing.T) {
	repo, temp, procs := leftovers()
	scans := 0
	var problems []string
	sweep := map[string]bool{}
	for _, it := range finder(repo, temp, procs, &scans).Find() {
		if it.Problem != "" {
			problems = append(problems, it.Problem)
			sweep[it.Problem] = it.Sweep
		}
	}
	if len(problems) != 7 {
		t.Errorf("problems:\n%q", problems)
	}
	old := "stale ringflow scratch checkout /tmp/ringflow-scratch-4 (work tree entry /repo/.git/worktrees/ringflow-scratch-4): it is older than 24h0m0s"
	if s, ok := sweep[old]; !ok || s {
		t.Errorf("the day-old checkout in use: listed %v, swept %v; want listed, not swept", ok, s)
	}
}
