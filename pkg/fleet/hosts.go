package fleet

import (
	"context"
	"fmt"
	"strings"

	"github.com/ringflow/ringflow/pkg/membership"
	"github.com/ringflow/ringflow/pkg/nix"
	"github.com/ringflow/ringflow/pkg/ring"
)

// FlakeRef is the flake at commit, read from git. In a bare repository
// nix also needs a ref that reaches the commit: the first of dev and the
// group branches that does.
func (f *Fleet) FlakeRef(commit string) (nix.FlakeRef, error) {
	ref := nix.FlakeRef{Repo: f.Repo.Path(), Rev: commit, Dir: f.Config.FlakeDir}
	if !f.Repo.IsBare() {
		return ref, nil
	}
	for _, b := range f.Branches() {
		name := f.BranchRef(b)
		tip, ok, err := f.Repo.Ref(name)
		if err != nil {
			return ref, err
		}
		if !ok {
			continue
		}
		if reach, err := f.Repo.IsAncestor(commit, tip); err != nil {
			return ref, err
		} else if reach {
			ref.Ref = name
			return ref, nil
		}
	}
	return ref, fmt.Errorf("commit %s is on none of the branches %s: nix can only read a bare repository's commit through a branch that holds it",
		ring.Short(commit), strings.Join(f.Branches(), ", "))
}

type hostNames struct {
	names []string
	err   error
}

// HostNames lists the hosts of the flake at commit, evaluated once per run.
func (f *Fleet) HostNames(ctx context.Context, commit string) ([]string, error) {
	if c, ok := f.hostNames[commit]; ok {
		return c.names, c.err
	}
	ref, err := f.FlakeRef(commit)
	if err != nil {
		return nil, err
	}
	names, err := f.Nix.HostNames(ctx, ref)
	if ctx.Err() == nil { // a cancelled evaluation says nothing of the commit
		f.hostNames[commit] = hostNames{names, err}
	}
	return names, err
}

// Hosts places every host of the flake at commit into its group.
func (f *Fleet) Hosts(ctx context.Context, commit string) ([]membership.Placement, error) {
	names, err := f.HostNames(ctx, commit)
	if err != nil {
		return nil, err
	}
	return membership.Assign(f.Config.Groups(), names)
}
