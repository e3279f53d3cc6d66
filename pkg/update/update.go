// Package update is `ringflow update`'s operation: refresh flake.lock on
// dev's head in a scratch checkout, commit the changed lock files with a
// changelog of every input, and land dev by compare-and-swap, redone when
// dev moved meanwhile. It reaches git, nix and the fleet's core through
// narrow interfaces; it must not import the command layer (pkg/cmd/...).
package update

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ringflow/ringflow/pkg/suggest"

	"github.com/ringflow/ringflow/pkg/flakelock"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/ring"
)

// Options says what to refresh.
type Options struct {
	Inputs []string // none = every input of the top flake
	DryRun bool
}

// Result is what an update did.
type Result struct {
	Committed bool
	Commit    string // the new dev head (or the unchanged one)
	Base      string // dev's head the update was made on
	Changes   []flakelock.Change
	Message   string
	Attempts  int
	// DoneBy is the ledger entry of another run that updated the lock on
	// dev while this one was updating: this one lost the race, and found
	// nothing left to commit.
	DoneBy *ledger.Entry
}

// UnknownInputError names an --input the flake does not have. It exits 2.
type UnknownInputError struct {
	Input string
	Known []string
}

func (e *UnknownInputError) Error() string {
	msg := fmt.Sprintf("unknown input %q", e.Input)
	if s := suggest.Nearest(e.Input, e.Known); s != "" {
		msg += ": did you mean " + s + "?"
	}
	return msg + " (inputs: " + strings.Join(e.Known, ", ") + ")"
}

// DevMovedError says dev kept moving while the update was redone.
type DevMovedError struct {
	Attempts int
	Err      error
}

func (e *DevMovedError) Error() string {
	return fmt.Sprintf("dev moved under every one of %d attempts to update it; try again later: %v", e.Attempts, e.Err)
}

func (e *DevMovedError) Unwrap() error { return e.Err }

// attempts bounds how often an update is redone on a dev that moved
// meanwhile: a busy dev branch is a reason to wait, not to spin.
const attempts = 3

// Dev is the dev branch as the fleet's core sees it (*fleet.Fleet).
type Dev interface {
	// Refresh fetches the remote's refs again, even when this run already did.
	Refresh(ctx context.Context) error
	DevCommit() (string, error)
	// Land moves branches and appends ledger entries, all or none: the one
	// way dev moves.
	Land(ctx context.Context, l fleet.Landing) ([]ring.Move, error)
	NewEntry(event, ringName string) ledger.Entry
}

// Locks finds and reads the flake's lock files (*fleet.Fleet).
type Locks interface {
	FlakeDir() string
	LockPath(rel string) string
	ReadLock(commit, p string) (*flakelock.Lock, error)
}

// Repo is what the update does in the git repository (*gitrepo.Repo).
type Repo interface {
	FileAt(commit, path string) (content []byte, ok bool, err error)
	Scratch(ctx context.Context, commit string) (dir string, remove func() error, err error)
	CommitFiles(parent string, files map[string][]byte, message, identity string, when time.Time) (string, error)
}

// LockUpdater updates a flake's lock in place (*nix.Nix).
type LockUpdater interface {
	UpdateLock(ctx context.Context, dir string, inputs []string) error
}

// Settings are the config values an update needs.
type Settings struct {
	Dev    string // the dev branch's name
	Author string // update.author: who commits the lock
}

// Updater refreshes the lock on dev.
type Updater struct {
	Dev      Dev
	Locks    Locks
	Repo     Repo
	Nix      LockUpdater
	Now      func() time.Time // the commit's time
	Log      io.Writer        // why an attempt is redone
	Settings Settings
	// Ledger tells who updated dev when a lost race left nothing to do;
	// nil: not said.
	Ledger ledger.Reader
}

// New is the updater of a fleet.
func New(fl *fleet.Fleet) *Updater {
	return &Updater{Dev: fl, Locks: fl, Repo: fl.Repo, Nix: fl.Nix, Now: fl.Now, Log: fl.Log,
		Settings: Settings{Dev: fl.Config.Dev, Author: fl.Config.Update.Author}, Ledger: fl.Ledger}
}

// Run refreshes flake.lock on dev's head in a scratch checkout (never the
// operator's work tree), commits the changed lock files as update.author,
// and lands dev by compare-and-swap. If dev moved meanwhile the update is
// redone on the new head; when that finds the lock current, the run that
// moved dev is named (DoneBy).
func (u *Updater) Run(ctx context.Context, o Options) (*Result, error) {
	var lastErr error
	first := ""
	for attempt := 1; attempt <= attempts; attempt++ {
		// Every attempt starts from the remote's dev.
		if err := u.Dev.Refresh(ctx); err != nil {
			return nil, err
		}
		if attempt == 1 {
			first, _ = u.Dev.DevCommit()
		}
		res, err := u.once(ctx, o)
		if err == nil {
			res.Attempts = attempt
			if attempt > 1 && !res.Committed && !o.DryRun {
				res.DoneBy = u.updatedBy(first, res.Base)
			}
			return res, nil
		}
		if !lostRace(err) {
			return nil, err
		}
		lastErr = err
		fmt.Fprintf(u.Log, "dev moved while updating (attempt %d of %d); updating again on its new head\n", attempt, attempts)
	}
	return nil, &DevMovedError{Attempts: attempts, Err: lastErr}
}

// lostRace says dev moved between the fetch and the landing.
func lostRace(err error) bool {
	var conflict *gitrepo.RefConflictError
	var rejected *gitrepo.PushRejectedError
	return errors.As(err, &conflict) || (errors.As(err, &rejected) && rejected.Stale())
}

// updatedBy is the newest update entry of the ledger that moved dev from
// first (where this run started) or to dev (where it is now): the run
// that did this one's work. nil when none says so (dev was updated
// outside ringflow) or the ledger cannot be read.
func (u *Updater) updatedBy(first, dev string) *ledger.Entry {
	if u.Ledger == nil {
		return nil
	}
	entries, err := u.Ledger.Entries(recentEntries)
	if err != nil {
		return nil
	}
	for _, e := range entries {
		if e.Event == ledger.EventUpdate && (e.To == dev || (first != "" && e.From == first)) {
			return &e
		}
	}
	return nil
}

// recentEntries bounds how far back the ledger is read for who updated
// dev: that entry landed moments ago.
const recentEntries = 50

// once is one attempt on dev's head as last fetched.
func (u *Updater) once(ctx context.Context, o Options) (*Result, error) {
	dev, err := u.Dev.DevCommit()
	if err != nil {
		return nil, err
	}
	top, err := u.Locks.ReadLock(dev, u.Locks.LockPath("."))
	if err != nil {
		return nil, err
	}
	subs, err := subFlakes(top, o.Inputs)
	if err != nil {
		return nil, err
	}
	files, changes, err := u.updateLocks(ctx, dev, subs, o.Inputs)
	if err != nil {
		return nil, err
	}
	res := &Result{Base: dev, Commit: dev}
	if len(files) == 0 {
		return res, nil
	}
	res.Changes, res.Message = changes, message(changes, files)
	if o.DryRun {
		return res, nil
	}
	if res.Commit, err = u.commitAndLand(ctx, dev, files, res.Message, changes); err != nil {
		return nil, err
	}
	res.Committed = true
	return res, nil
}

// updateLocks updates the locks in a scratch checkout of dev and returns
// the lock files that changed (by repository path) and the top lock's
// changes.
func (u *Updater) updateLocks(ctx context.Context, dev string, subs, inputs []string) (map[string][]byte, []flakelock.Change, error) {
	dir, remove, err := u.Repo.Scratch(ctx, dev)
	if err != nil {
		return nil, nil, err
	}
	defer remove()
	if err := u.runNix(ctx, dir, dev, subs, inputs); err != nil {
		return nil, nil, err
	}
	return u.changedLocks(dir, dev, subs)
}

// runNix updates the sub-flakes' own locks, then the top lock's inputs.
func (u *Updater) runNix(ctx context.Context, dir, dev string, subs, inputs []string) error {
	flakeDir := filepath.Join(dir, filepath.FromSlash(u.Locks.FlakeDir()))
	// A sub-flake's own lock first, so the top lock then takes its new inputs.
	for _, sub := range subs {
		if err := u.Nix.UpdateLock(ctx, filepath.Join(flakeDir, filepath.FromSlash(sub)), nil); err != nil {
			// The scratch checkout is gone once we return: name the file
			// where the operator can fix it.
			msg := strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
			return fmt.Errorf("%s at %s: %s", u.Locks.LockPath(sub), ring.Short(dev), msg)
		}
	}
	return u.Nix.UpdateLock(ctx, flakeDir, inputs)
}

// changedLocks compares the lock files in the scratch checkout dir with
// dev's.
func (u *Updater) changedLocks(dir, dev string, subs []string) (map[string][]byte, []flakelock.Change, error) {
	files := map[string][]byte{}
	var changes []flakelock.Change
	for _, rel := range append([]string{"."}, subs...) {
		p := u.Locks.LockPath(rel)
		newData, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil {
			return nil, nil, fmt.Errorf("read the updated %s: %w", p, err)
		}
		oldData, _, err := u.Repo.FileAt(dev, p)
		if err != nil {
			return nil, nil, err
		}
		if bytes.Equal(oldData, newData) {
			continue
		}
		files[p] = newData
		if rel == "." {
			cs, err := lockDiff(oldData, newData)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", p, err)
			}
			changes = append(changes, cs...)
		}
	}
	return files, changes, nil
}

// message is the commit message: the top lock's changelog, or which
// lock files moved when only sub-flakes' own locks did.
func message(changes []flakelock.Change, files map[string][]byte) string {
	if len(changes) == 0 {
		return "flake.lock: update " + strings.Join(slices.Sorted(maps.Keys(files)), ", ") + "\n"
	}
	return flakelock.Summary(changes) + "\n\n" + flakelock.Body(changes)
}

// commitAndLand commits files on dev as update.author and lands dev on
// the commit with its ledger entry; it returns the commit.
func (u *Updater) commitAndLand(ctx context.Context, dev string, files map[string][]byte, msg string, changes []flakelock.Change) (string, error) {
	commit, err := u.Repo.CommitFiles(dev, files, msg, u.Settings.Author, u.Now())
	if err != nil {
		return "", err
	}
	e := u.Dev.NewEntry(ledger.EventUpdate, "")
	e.From, e.To, e.Reason = dev, commit, flakelock.Summary(changes)
	e.Groups = []ledger.GroupMove{{Group: "dev", Branch: u.Settings.Dev, From: dev, To: commit}}
	move := ring.Move{Group: "dev", Branch: u.Settings.Dev, From: dev, To: commit}
	if _, err := u.Dev.Land(ctx, fleet.Landing{Moves: []ring.Move{move}, Entries: []ledger.Entry{e}, Why: "ringflow: update " + ring.Short(commit)}); err != nil {
		return "", err
	}
	return commit, nil
}

// subFlakes checks the named inputs against the top lock and returns the
// directories (relative to the top flake) of those that are sub-flakes of
// this repository: path inputs such as path:./hosts/plex.
func subFlakes(top *flakelock.Lock, inputs []string) ([]string, error) {
	if len(inputs) == 0 {
		return nil, nil
	}
	all, err := top.Inputs()
	if err != nil {
		return nil, err
	}
	known := slices.Sorted(maps.Keys(top.Nodes[top.Root].Inputs))
	var subs []string
	for _, name := range inputs {
		in, ok := all[name]
		if !ok {
			return nil, &UnknownInputError{Input: name, Known: known}
		}
		if rel, ok := relativePath(in); ok && !strings.Contains(name, "/") {
			subs = append(subs, rel)
		}
	}
	return subs, nil
}

// relativePath says whether an input is a directory of this repository.
func relativePath(in flakelock.Input) (string, bool) {
	if in.Follows != nil || in.Locked.Type != "path" {
		return "", false
	}
	p := in.Locked.Path
	if p == "" || path.IsAbs(p) {
		return "", false
	}
	return path.Clean(p), true
}

func lockDiff(oldData, newData []byte) ([]flakelock.Change, error) {
	oldLock, err := flakelock.Parse(oldData)
	if err != nil {
		return nil, err
	}
	newLock, err := flakelock.Parse(newData)
	if err != nil {
		return nil, err
	}
	return flakelock.Diff(oldLock, newLock)
}
