package check

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ringflow/ringflow/pkg/evidence"
	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/ring"
)

// What a killed ringflow (or a killed git under it) can leave behind, and
// how `check` finds it and `check --repair` clears it. The work on git's
// files is gitrepo's (it changes them the way git does); what is decided
// here is what counts as left behind, what a person has to see, and which
// fix is safe.

const (
	// scratchAge: a scratch checkout older than this is stale even while
	// some ringflow runs (an update holds its checkout for seconds).
	scratchAge = 24 * time.Hour
	// emptyScratchAge: an empty ringflow-scratch-* directory in $TMPDIR
	// (a process killed between creating it and `git worktree add`) older
	// than this is a problem; --repair removes empty ones of any age.
	emptyScratchAge = 10 * time.Minute
)

// hygiene is one thing found: a problem to list, and the fix when one is safe.
type hygiene struct {
	problem string
	fix     func(ctx context.Context) (string, error) // nil: needs a person
}

// lockAt is a lock file and whose it is: "" for this repository, else
// "remote <name>".
type lockAt struct {
	gitrepo.LockFile
	where string
}

// what says what a broken ref file holds.
func what(b gitrepo.BrokenRef) string {
	if len(b.Content) == 0 {
		return "empty"
	}
	return fmt.Sprintf("corrupt (%d bytes: %q)", len(b.Content), clip(string(b.Content), 64))
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// inScope says whether ref is one of ringflow's: its own refs, the
// evidence notes, dev and the group branches, and the remote's tracking
// refs.
func (c *checker) inScope(ref string) bool {
	switch {
	case strings.HasPrefix(ref, "refs/ringflow/"), strings.HasPrefix(ref, "refs/notes/ringflow/"):
		return true
	case c.s.Remote != "" && strings.HasPrefix(ref, "refs/remotes/"+c.s.Remote+"/"):
		return true
	}
	b, ok := strings.CutPrefix(ref, "refs/heads/")
	return ok && slices.Contains(c.s.Branches, b)
}

// tracking says whether ref is a copy of the remote's that a fetch rewrites.
func (c *checker) tracking(ref string) bool {
	r := c.s.Remote
	return r != "" && (strings.HasPrefix(ref, "refs/remotes/"+r+"/") || strings.HasPrefix(ref, "refs/ringflow/remotes/"+r+"/"))
}

// ---- the checks ----

// preSync finds what would stop git or ringflow from working at all — lock
// files a killed git left, stale scratch checkouts, unreadable ref files —
// before anything fetches. With a remote, the fix of an unreadable ref of
// ringflow's deletes it so that the fetch can run (git's fetch stops at
// any ref it cannot read); tracking refs are then written afresh by the
// fetch, and the others are added to *restore, for afterSync to restore
// from the remote's copies.
func (c *checker) preSync(restore *[]gitrepo.BrokenRef) (items []hygiene) {
	top, gitDir, commonDir := c.repo.RealDirs()
	repoDirs := []string{top, commonDir, gitDir}
	for _, se := range c.repo.ScratchEntries() {
		if se.Dir != "" {
			repoDirs = append(repoDirs, se.RealDir())
		}
	}

	// Lock files: listed first, then the processes looked at, so that a
	// lock listed was there before the scan (see gitrepo.LockFile.Stale).
	var locks []lockAt
	for _, l := range c.repo.LockFiles() {
		locks = append(locks, lockAt{LockFile: l})
	}
	remoteDir, remoteLocks, localRemote := c.repo.RemoteLockFiles(c.s.Remote)
	for _, l := range remoteLocks {
		locks = append(locks, lockAt{LockFile: l, where: "remote " + c.s.Remote})
	}
	procs := c.scan()
	now := c.now()
	busyHere := procs.GitIn(repoDirs)
	busyRemote := localRemote && procs.GitIn([]string{remoteDir})
	for _, l := range locks {
		busy := busyHere
		if l.where != "" {
			busy = busyRemote
		}
		if !l.Stale(procs.Visible(), busy, now) {
			continue
		}
		where := ""
		if l.where != "" {
			where = " of " + l.where
		}
		items = append(items, hygiene{
			problem: fmt.Sprintf("stale lock file %s%s, left by a git that was killed (%s old): git refuses to work on what it locks until it is removed (ringflow check --repair)",
				l.Path, where, now.Sub(l.ModTime).Round(time.Second)),
			fix: func(context.Context) (string, error) {
				removed, err := c.repo.RemoveLockFile(l.LockFile)
				if err != nil || !removed {
					return "", err // not removed: its owner finished after all
				}
				return fmt.Sprintf("removed stale lock file %s%s", l.Path, where), nil
			},
		})
	}

	items = append(items, c.scratchItems(repoDirs[:3], procs)...)

	for _, b := range c.repo.BrokenRefs() {
		rel, _ := filepath.Rel(c.repo.Path(), b.Path)
		if rel == "" || strings.HasPrefix(rel, "..") {
			rel = b.Path
		}
		// git's fetch reads every ref to tell the remote what it has, and
		// stops at one it cannot read: each has to go before the sync.
		switch {
		case !c.inScope(b.Name) || c.s.Remote == "":
			hint := ""
			if last := c.repo.LastReflogValue(b.Name); last != "" {
				hint = fmt.Sprintf("; its reflog last recorded %s: if that is right, `rm %s && git update-ref %s %s`", ring.Short(last), rel, b.Name, last)
			}
			whose := "with no remote there is no copy to restore it from"
			if !c.inScope(b.Name) {
				whose = "it is not ringflow's to restore"
			}
			items = append(items, hygiene{
				problem: fmt.Sprintf("ref file %s is %s (a write cut short): %s cannot be read, and %s: it needs a person%s", rel, what(b), b.Name, whose, hint),
			})
		case c.tracking(b.Name):
			items = append(items, hygiene{
				problem: fmt.Sprintf("ref file %s is %s (a write cut short): %s is a copy of remote %s's and cannot be read (ringflow check --repair deletes it; the next fetch writes it again)", rel, what(b), b.Name, c.s.Remote),
				fix: func(context.Context) (string, error) {
					if err := c.repo.ReplaceRefFile(b.Path, b.Content, ""); err != nil {
						return "", err
					}
					return fmt.Sprintf("deleted the %s ref file %s; fetched again from remote %s", what(b), rel, c.s.Remote), nil
				},
			})
		default:
			items = append(items, hygiene{
				problem: fmt.Sprintf("ref file %s is %s (a write cut short): %s cannot be read (ringflow check --repair restores it from remote %s)", rel, what(b), b.Name, c.s.Remote),
				fix: func(context.Context) (string, error) {
					if err := c.repo.ReplaceRefFile(b.Path, b.Content, ""); err != nil {
						return "", err
					}
					*restore = append(*restore, b)
					return "", nil // said once restored, after the sync
				},
			})
		}
	}
	return items
}

// scratchItems finds scratch checkouts nobody uses any more: an entry whose
// directory is gone or whose files git never finished writing, a checkout
// whose process is gone (no process works in it, no other ringflow works
// in the repository, no cycle holds its lock — or it is older than
// scratchAge), and a ringflow-scratch-* directory in $TMPDIR
// whose entry is gone. With repair they are examined under the lock that
// ringflow holds while it creates or removes one, so none is half made by
// a live process; while another process holds it, they are not examined.
func (c *checker) scratchItems(repoDirs []string, procs Processes) []hygiene {
	unlock, err := c.repo.Lock("scratch", false)
	if err != nil {
		return nil // a ringflow is making or removing a checkout right now
	}
	defer unlock()
	var items []hygiene
	now := c.now()
	// A ringflow working on this repository may be using any checkout.
	busy := procs.RingflowIn(repoDirs) || c.repo.LockHeld("cycle")
	entries := c.repo.ScratchEntries()
	for _, se := range entries {
		if se.Kept {
			continue // `git worktree lock`: someone wants it kept
		}
		var why string
		switch {
		case se.Unfinished:
			why = "its entry was never finished (the process creating it was killed)"
		case se.DirGone:
			why = "its directory is gone"
		case !busy && !procs.UsedBy([]string{se.RealDir()}):
			why = "no process is using it"
		case !se.AdminTime.IsZero() && now.Sub(se.AdminTime) > scratchAge:
			why = fmt.Sprintf("it is older than %s", scratchAge)
		default:
			continue
		}
		name := se.Dir
		if name == "" {
			name = se.Admin
		}
		items = append(items, hygiene{
			problem: fmt.Sprintf("stale ringflow scratch checkout %s (work tree entry %s): %s", name, se.Admin, why),
			fix: func(context.Context) (string, error) {
				if err := c.repo.RemoveScratchEntry(se); err != nil {
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
	// makes the directory again when it adds a work tree there. So with
	// --repair every empty one goes; only one older than emptyScratchAge
	// counts as a problem.
	for _, d := range c.repo.OrphanScratchDirs(entries) {
		if !d.Empty {
			items = append(items, hygiene{
				problem: fmt.Sprintf("stale ringflow scratch directory %s: its work tree entry is gone", d.Path),
				fix: func(context.Context) (string, error) {
					if _, err := c.repo.RemoveScratchDir(d); err != nil {
						return "", err
					}
					return fmt.Sprintf("removed stale scratch directory %s (its work tree entry is gone)", d.Path), nil
				},
			})
			continue
		}
		it := hygiene{fix: func(context.Context) (string, error) {
			if removed, _ := c.repo.RemoveScratchDir(d); !removed {
				return "", nil // gone, or no longer empty: someone's checkout after all
			}
			return fmt.Sprintf("removed empty scratch directory %s (its checkout never started)", d.Path), nil
		}}
		if now.Sub(d.ModTime) >= emptyScratchAge {
			it.problem = fmt.Sprintf("stale ringflow scratch directory %s: it is empty (its checkout never started)", d.Path)
		}
		items = append(items, it)
	}
	return items
}

// trackingRefs are the refs the sync rewrites from the remote.
func (c *checker) trackingRefs() []string {
	if c.s.Remote == "" {
		return nil
	}
	var refs []string
	for _, b := range c.s.Branches {
		refs = append(refs, c.fl.BranchRef(b))
	}
	return append(refs, c.s.EvidenceTracking, c.s.LedgerTracking)
}

// snapshot reads refs; an unreadable one counts as missing.
func (c *checker) snapshot(refs []string) map[string]string {
	m := map[string]string{}
	for _, r := range refs {
		if v, ok, err := c.repo.Ref(r); err == nil && ok {
			m[r] = v
		}
	}
	return m
}

// afterSync restores the broken local refs preSync found from the remote's
// copies, and finds a local ledger left behind the remote's (a run killed
// between its push and moving the local copy).
func (c *checker) afterSync(ctx context.Context, restore []gitrepo.BrokenRef) []hygiene {
	var items []hygiene
	for _, b := range restore {
		src := ""
		switch {
		case b.Name == "refs/ringflow/ledger":
			src = c.s.LedgerTracking
		case strings.HasPrefix(b.Name, "refs/notes/ringflow/"):
			src = c.s.EvidenceTracking
		case strings.HasPrefix(b.Name, "refs/heads/"):
			src = c.fl.BranchRef(strings.TrimPrefix(b.Name, "refs/heads/"))
		}
		rel, _ := filepath.Rel(c.repo.Path(), b.Path)
		items = append(items, hygiene{
			fix: func(context.Context) (string, error) {
				val := ""
				if src != "" {
					v, ok, err := c.repo.Ref(src)
					if err != nil {
						return "", err
					}
					if ok {
						val = v
					}
				}
				if err := c.repo.ReplaceRefFile(b.Path, b.Content, val); err != nil {
					return "", err
				}
				if val == "" {
					return fmt.Sprintf("deleted the %s ref file %s: remote %s does not have it either", what(b), rel, c.s.Remote), nil
				}
				return fmt.Sprintf("restored the %s ref file %s from remote %s: %s", what(b), rel, c.s.Remote, ring.Short(val)), nil
			},
		})
	}
	if c.s.Remote == "" {
		return items
	}
	return append(items, c.unpushedEvidence()...)
}

// unpushedEvidence finds build results recorded here that the remote's
// evidence lacks (or holds older): a build killed between writing its
// note here and pushing it. Later builds answer those hosts from the local
// note and never record them again, so without this the remote — and
// every other machine — would never see them.
func (c *checker) unpushedEvidence() []hygiene {
	todo, err := evidence.UnpushedIn(c.repo, evidence.Ref, c.s.EvidenceTracking)
	if err != nil || len(todo) == 0 {
		return nil
	}
	var items []hygiene
	for _, m := range todo {
		names := m.Names()
		items = append(items, hygiene{
			problem: fmt.Sprintf("evidence for %s recorded here was never pushed to remote %s (a build cut short before its push): %s (the next ringflow command, or ringflow check --repair, pushes it)",
				ring.Short(m.Commit), c.s.Remote, strings.Join(names, ", ")),
			fix: func(ctx context.Context) (string, error) {
				if err := c.fl.RecordEvidence(ctx, m.Commit, m.Hosts); err != nil {
					return "", err
				}
				return fmt.Sprintf("pushed the evidence for %s recorded here to remote %s: %s", ring.Short(m.Commit), c.s.Remote, strings.Join(names, ", ")), nil
			},
		})
	}
	return items
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
