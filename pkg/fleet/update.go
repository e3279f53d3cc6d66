package fleet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ringflow/ringflow/pkg/flakelock"
	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/ring"
)

// UpdateOptions says what to refresh.
type UpdateOptions struct {
	Inputs []string // "" = every input of the top flake
	DryRun bool
}

// UpdateResult is what an update did.
type UpdateResult struct {
	Committed bool
	Commit    string // the new dev head (or the unchanged one)
	Base      string // dev's head the update was made on
	Changes   []flakelock.Change
	Message   string
	Attempts  int
}

// UnknownInputError names an --input the flake does not have. It exits 2.
type UnknownInputError struct {
	Input string
	Known []string
}

func (e *UnknownInputError) Error() string {
	return fmt.Sprintf("unknown input %q (inputs: %s)", e.Input, strings.Join(e.Known, ", "))
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

// updateAttempts bounds how often an update is redone on a dev that moved
// meanwhile: a busy dev branch is a reason to wait, not to spin.
const updateAttempts = 3

// Update refreshes flake.lock on dev's head in a scratch checkout (never
// the operator's work tree), commits the changed lock files as
// update.author, and moves dev by compare-and-swap. If dev moved meanwhile
// the update is redone on the new head.
func (f *Fleet) Update(ctx context.Context, o UpdateOptions) (*UpdateResult, error) {
	var lastErr error
	for attempt := 1; attempt <= updateAttempts; attempt++ {
		// Every attempt starts from the remote's dev.
		if err := f.Refresh(ctx); err != nil {
			return nil, err
		}
		res, err := f.updateOnce(ctx, o)
		if err == nil {
			res.Attempts = attempt
			return res, nil
		}
		if !lostRace(err) {
			return nil, err
		}
		lastErr = err
		fmt.Fprintf(f.Log, "dev moved while updating (attempt %d of %d); updating again on its new head\n", attempt, updateAttempts)
	}
	return nil, &DevMovedError{Attempts: updateAttempts, Err: lastErr}
}

func lostRace(err error) bool {
	var conflict *gitrepo.RefConflictError
	var rejected *gitrepo.PushRejectedError
	return errors.As(err, &conflict) || (errors.As(err, &rejected) && rejected.Stale())
}

func (f *Fleet) updateOnce(ctx context.Context, o UpdateOptions) (*UpdateResult, error) {
	if err := f.Sync(ctx); err != nil {
		return nil, err
	}
	dev, err := f.DevCommit()
	if err != nil {
		return nil, err
	}
	res := &UpdateResult{Base: dev, Commit: dev}
	lockPath := f.LockPath(".")
	oldTop, err := f.ReadLock(dev, lockPath)
	if err != nil {
		return nil, err
	}
	subs, err := f.subFlakes(oldTop, o.Inputs)
	if err != nil {
		return nil, err
	}

	dir, remove, err := f.Repo.Scratch(ctx, dev)
	if err != nil {
		return nil, err
	}
	defer remove()
	flakeDir := filepath.Join(dir, filepath.FromSlash(f.FlakeDir()))
	// A sub-flake's own lock first, so the top lock then takes its new inputs.
	for _, sub := range subs {
		if err := f.Nix.UpdateLock(ctx, filepath.Join(flakeDir, filepath.FromSlash(sub)), nil); err != nil {
			// The scratch checkout is gone once we return: name the file
			// where the operator can fix it.
			msg := strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
			return nil, fmt.Errorf("%s at %s: %s", f.LockPath(sub), ring.Short(dev), msg)
		}
	}
	if err := f.Nix.UpdateLock(ctx, flakeDir, o.Inputs); err != nil {
		return nil, err
	}

	files := map[string][]byte{}
	var changes []flakelock.Change
	for _, rel := range append([]string{"."}, subs...) {
		p := f.LockPath(rel)
		newData, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil {
			return nil, fmt.Errorf("read the updated %s: %w", p, err)
		}
		oldData, _, err := f.Repo.FileAt(dev, p)
		if err != nil {
			return nil, err
		}
		if bytes.Equal(oldData, newData) {
			continue
		}
		files[p] = newData
		if rel == "." {
			cs, err := lockDiff(oldData, newData)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			changes = append(changes, cs...)
		}
	}
	if len(files) == 0 {
		return res, nil
	}
	res.Changes = changes
	res.Message = flakelock.Summary(changes) + "\n\n" + flakelock.Body(changes)
	if len(changes) == 0 {
		// Only a sub-flake's own lock moved: say which.
		res.Message = "flake.lock: update " + strings.Join(sortedKeys(files), ", ") + "\n"
	}
	if o.DryRun {
		return res, nil
	}
	commit, err := f.Repo.CommitFiles(dev, files, res.Message, f.Config.Update.Author, f.Now())
	if err != nil {
		return nil, err
	}
	e := f.NewEntry(ledger.EventUpdate, "")
	e.From, e.To, e.Reason = dev, commit, flakelock.Summary(changes)
	e.Groups = []ledger.GroupMove{{Group: "dev", Branch: f.Config.Dev, From: dev, To: commit}}
	move := ring.Move{Group: "dev", Branch: f.Config.Dev, From: dev, To: commit}
	if _, err := f.Land(ctx, Landing{Moves: []ring.Move{move}, Entries: []ledger.Entry{e}, Why: "ringflow: update " + ring.Short(commit)}); err != nil {
		return nil, err
	}
	res.Committed, res.Commit = true, commit
	return res, nil
}

// subFlakes checks the named inputs against the top lock and returns the
// directories (relative to the top flake) of those that are sub-flakes of
// this repository: path inputs such as path:./hosts/plex.
func (f *Fleet) subFlakes(top *flakelock.Lock, inputs []string) ([]string, error) {
	if len(inputs) == 0 {
		return nil, nil
	}
	all, err := top.Inputs()
	if err != nil {
		return nil, err
	}
	var known []string
	root := top.Nodes[top.Root]
	for name := range root.Inputs {
		known = append(known, name)
	}
	sort.Strings(known)
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

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
