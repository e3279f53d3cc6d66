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
	"github.com/ringflow/ringflow/pkg/leftover"
	"github.com/ringflow/ringflow/pkg/ring"
)

// What a killed ringflow (or a killed git under it) can leave behind, and
// how `check` finds it and `check --repair` clears it. The work on git's
// files is gitrepo's (it changes them the way git does); what is decided
// here is what counts as left behind, what a person has to see, and which
// fix is safe.

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

	items = append(items, c.scratchItems(procs)...)

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

// scratchItems finds what a killed ringflow left that may be unused —
// scratch checkouts, scratch directories in $TMPDIR, temporary index
// directories of evidence writes — as package leftover decides it (every
// ordinary command sweeps what no process uses through the same
// decision); check lists it, and --repair also removes what a process may
// still have open but is old (see leftover.Finder.Find).
func (c *checker) scratchItems(procs Processes) []hygiene {
	f := &leftover.Finder{Repo: c.repo, Temp: c.temp, Now: c.now,
		Scan: func() leftover.Processes { return procs }}
	var items []hygiene
	for _, it := range f.Find() {
		items = append(items, hygiene{problem: it.Problem, fix: func(context.Context) (string, error) { return it.Remove() }})
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
