package fleet

import (
	"fmt"
	"path"
	"path/filepath"

	"github.com/ringflow/ringflow/pkg/flakelock"
	"github.com/ringflow/ringflow/pkg/ring"
)

// FlakeDir is the top flake's directory in the repository ("." = its root).
func (f *Fleet) FlakeDir() string {
	d := path.Clean(filepath.ToSlash(f.Config.FlakeDir))
	if d == "" {
		return "."
	}
	return d
}

// LockPath is the repository path of the lock of the flake at rel (a
// directory relative to the top flake).
func (f *Fleet) LockPath(rel string) string {
	return path.Clean(path.Join(f.FlakeDir(), rel, "flake.lock"))
}

// ReadLock reads and parses the lock file at repository path p in commit.
func (f *Fleet) ReadLock(commit, p string) (*flakelock.Lock, error) {
	data, ok, err := f.Repo.FileAt(commit, p)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%s has no %s: run `nix flake lock` once and commit it", ring.Short(commit), p)
	}
	l, err := flakelock.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s at %s: %w", p, ring.Short(commit), err)
	}
	return l, nil
}

// KeyInputs reads the key inputs pinned at commit: the top flake's direct
// inputs and those of its sub-flakes (e.g. plex-flake/nixpkgs).
func (f *Fleet) KeyInputs(commit string) ([]flakelock.Input, error) {
	l, err := f.ReadLock(commit, f.LockPath("."))
	if err != nil {
		return nil, err
	}
	return l.KeyInputs()
}
