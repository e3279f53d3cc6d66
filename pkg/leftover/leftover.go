// Package leftover decides what a killed ringflow left on this machine —
// a scratch checkout of update (its work tree entry under .git/worktrees
// and its directory in $TMPDIR), a scratch directory whose entry is gone,
// the temporary index directory of an evidence write in $TMPDIR — and
// whether a running process may still use it. What no process uses is
// removed by the next command that opens the repository (Sweep, through
// fleet), so a kill -9 needs no repair for it; `check` lists what is left
// and `check --repair` also removes what needs care (a checkout some
// process still has open, but a day old). The work on git's files is
// gitrepo's; it must not import the operations or the command layer.
package leftover

import (
	"fmt"
	"time"

	"github.com/ringflow/ringflow/pkg/gitrepo"
)

const (
	// scratchAge: a scratch checkout older than this is stale even while
	// some ringflow runs (an update holds its checkout for seconds).
	scratchAge = 24 * time.Hour
	// emptyScratchAge: an empty ringflow-scratch-* directory in $TMPDIR (a
	// process killed between creating it and `git worktree add`) older
	// than this is a problem; --repair removes empty ones of any age.
	emptyScratchAge = 10 * time.Minute
	// notesAge: a notes write takes a moment between making its index
	// directory and starting git on it, and between its git runs; a
	// directory nothing changed in for this long, that no process has
	// open, is a killed write's.
	notesAge = time.Minute
)

// Repo is what finding and removing leftovers needs of the repository
// (*gitrepo.Repo).
type Repo interface {
	RealDirs() (top, gitDir, commonDir string)
	Lock(name string, wait bool) (unlock func(), err error)
	LockHeld(name string) bool
	ScratchEntries() []gitrepo.ScratchEntry
	OrphanScratchDirs(entries []gitrepo.ScratchEntry) []gitrepo.ScratchDir
	RemoveScratchEntry(se gitrepo.ScratchEntry) error
	RemoveScratchDir(d gitrepo.ScratchDir) (removed bool, err error)
}

// TempDirs lists and removes the temporary index directories of notes
// writes in $TMPDIR (gitrepo.NotesTempDirs, gitrepo.RemoveTempDir).
type TempDirs interface {
	NotesTempDirs() []gitrepo.TempDir
	RemoveTempDir(d gitrepo.TempDir) (removed bool, err error)
}

// Processes is the process table at one moment (gitrepo.Procs): who may
// be working in a set of directories (real paths). Where processes
// cannot be seen, every answer is yes.
type Processes interface {
	RingflowIn(dirs []string) bool
	UsedBy(dirs []string) bool
}

// Item is one thing left behind.
type Item struct {
	// Problem is what `check` lists; "" when it is not worth listing (an
	// empty scratch directory just made, a temporary directory).
	Problem string
	// Sweep: no process uses it, so any command removes it on its way;
	// otherwise only `check --repair` does.
	Sweep bool
	// Remove deletes it and says what it did; "" when there was nothing
	// to remove after all (gone, or someone's after all).
	Remove func() (string, error)
}

// Finder finds the leftovers of one repository.
type Finder struct {
	Repo Repo
	Temp TempDirs         // nil: $TMPDIR's notes directories are not looked at
	Scan func() Processes // reads the process table; called at most once
	Now  func() time.Time
}

// New is the Finder of a repository, with the real process table, $TMPDIR
// and clock.
func New(repo *gitrepo.Repo, now func() time.Time) *Finder {
	if now == nil {
		now = time.Now
	}
	return &Finder{Repo: repo, Temp: SystemTempDirs(), Scan: func() Processes { return gitrepo.ScanProcs() }, Now: now}
}

// SystemTempDirs are the notes directories of this machine's $TMPDIR.
func SystemTempDirs() TempDirs { return realTemp{} }

type realTemp struct{}

func (realTemp) NotesTempDirs() []gitrepo.TempDir { return gitrepo.NotesTempDirs() }
func (realTemp) RemoveTempDir(d gitrepo.TempDir) (bool, error) {
	return gitrepo.RemoveTempDir(d)
}

// Find lists what is left behind. Scratch checkouts are examined under the
// lock ringflow holds while it creates or removes one, so none is half
// made by a live process; while another process holds it, none is
// examined. Remove takes that lock itself: call it after Find returned.
func (f *Finder) Find() []Item {
	var procs Processes
	scan := func() Processes {
		if procs == nil {
			procs = f.Scan()
		}
		return procs
	}
	items := f.scratch(scan)
	return append(items, f.notes(scan)...)
}

// Sweep removes what Find marks Sweep — what no process uses — and says
// one line per removal; what it could not remove is left for `check`.
// Where nothing is left behind it costs a directory listing or two: the
// lock is taken and the processes looked at only when something is there.
func (f *Finder) Sweep() (removed []string) {
	if !f.anything() {
		return nil
	}
	for _, it := range f.Find() {
		if !it.Sweep {
			continue
		}
		if done, err := it.Remove(); err == nil && done != "" {
			removed = append(removed, done)
		}
	}
	return removed
}

// anything says, without a lock, whether anything that could be left
// behind is there at all.
func (f *Finder) anything() bool {
	entries := f.Repo.ScratchEntries()
	if len(entries) > 0 || len(f.Repo.OrphanScratchDirs(entries)) > 0 {
		return true
	}
	return f.Temp != nil && len(f.Temp.NotesTempDirs()) > 0
}

// scratch finds scratch checkouts nobody uses any more: an entry whose
// directory is gone or whose files git never finished writing, a checkout
// whose process is gone (no process works in it, no other ringflow works
// in the repository, no cycle holds its lock) — or, for check --repair,
// one older than scratchAge — and a ringflow-scratch-* directory in
// $TMPDIR whose entry is gone.
func (f *Finder) scratch(scan func() Processes) []Item {
	unlock, err := f.Repo.Lock("scratch", false)
	if err != nil {
		return nil // a ringflow is making or removing a checkout right now
	}
	defer unlock()
	var items []Item
	now := f.Now()
	top, gitDir, commonDir := f.Repo.RealDirs()
	repoDirs := []string{top, commonDir, gitDir}
	entries := f.Repo.ScratchEntries()
	// A ringflow working on this repository may be using any checkout.
	busy := func() bool { return scan().RingflowIn(repoDirs) || f.Repo.LockHeld("cycle") }
	for _, se := range entries {
		if se.Kept {
			continue // `git worktree lock`: someone wants it kept
		}
		var why string
		sweep := true
		switch {
		case se.Unfinished:
			why = "its entry was never finished (the process creating it was killed)"
		case se.DirGone:
			why = "its directory is gone"
		case !busy() && !scan().UsedBy([]string{se.RealDir()}):
			why = "no process is using it"
		case !se.AdminTime.IsZero() && now.Sub(se.AdminTime) > scratchAge:
			why, sweep = fmt.Sprintf("it is older than %s", scratchAge), false
		default:
			continue
		}
		name := se.Dir
		if name == "" {
			name = se.Admin
		}
		items = append(items, Item{
			Problem: fmt.Sprintf("stale ringflow scratch checkout %s (work tree entry %s): %s", name, se.Admin, why),
			Sweep:   sweep,
			Remove: func() (string, error) {
				if err := f.Repo.RemoveScratchEntry(se); err != nil {
					return "", err
				}
				return fmt.Sprintf("removed stale scratch checkout %s and its work tree entry (%s)", name, why), nil
			},
		})
	}

	// Directories in $TMPDIR whose entry is gone: ours by their .git file,
	// or empty (a process killed between making the directory and `git
	// worktree add`). An empty one cannot be told to be ours, but taking
	// it away (rmdir, which fails on anything in it) harms no one: git
	// makes the directory again when it adds a work tree there. So
	// check --repair takes every empty one; only one older than
	// emptyScratchAge counts as a problem, and is swept.
	for _, d := range f.Repo.OrphanScratchDirs(entries) {
		if !d.Empty {
			items = append(items, Item{
				Problem: fmt.Sprintf("stale ringflow scratch directory %s: its work tree entry is gone", d.Path),
				Sweep:   !scan().UsedBy([]string{d.Path}),
				Remove: func() (string, error) {
					if _, err := f.Repo.RemoveScratchDir(d); err != nil {
						return "", err
					}
					return fmt.Sprintf("removed stale scratch directory %s (its work tree entry is gone)", d.Path), nil
				},
			})
			continue
		}
		it := Item{Remove: func() (string, error) {
			if removed, _ := f.Repo.RemoveScratchDir(d); !removed {
				return "", nil // gone, or no longer empty: someone's checkout after all
			}
			return fmt.Sprintf("removed empty scratch directory %s (its checkout never started)", d.Path), nil
		}}
		if now.Sub(d.ModTime) >= emptyScratchAge {
			it.Problem = fmt.Sprintf("stale ringflow scratch directory %s: it is empty (its checkout never started)", d.Path)
			it.Sweep = true
		}
		items = append(items, it)
	}
	return items
}

// notes finds temporary index directories of notes writes that nothing
// changed in for notesAge and no process has open. They name no
// repository and harm nothing but space, so `check` does not list them as
// a problem of this repository; they are removed all the same.
func (f *Finder) notes(scan func() Processes) []Item {
	if f.Temp == nil {
		return nil
	}
	var items []Item
	now := f.Now()
	for _, d := range f.Temp.NotesTempDirs() {
		if now.Sub(d.ModTime) < notesAge || scan().UsedBy([]string{d.Path}) {
			continue
		}
		items = append(items, Item{
			Sweep: true,
			Remove: func() (string, error) {
				if removed, err := f.Temp.RemoveTempDir(d); err != nil || !removed {
					return "", err
				}
				return fmt.Sprintf("removed temporary index directory %s of an evidence write (no process is using it)", d.Path), nil
			},
		})
	}
	return items
}
