package nix

import (
	"context"
	"fmt"
)

// UpdateLock refreshes the lock file of the flake in dir (a checked-out
// directory): every input when inputs is empty, else only those named
// (nested ones as "home-manager/nixpkgs").
func (n *Nix) UpdateLock(ctx context.Context, dir string, inputs []string) error {
	v, err := n.Version(ctx)
	if err != nil {
		return err
	}
	if _, err := n.output(ctx, lockArgs(v, dir, inputs, n.opts.ExtraArgs)); err != nil {
		return fmt.Errorf("update the lock of %s: %w", dir, err)
	}
	return nil
}

// lockArgs spells the update for the Nix at hand. Nix 2.19 turned
// `nix flake update` from taking a flake into taking input names; before
// it, named inputs go through `nix flake lock --update-input`. Lix
// follows the new spelling.
func lockArgs(v Version, dir string, inputs, extra []string) []string {
	args := []string{"flake"}
	switch {
	case v.Modern():
		args = append(args, "update", "--extra-experimental-features", "nix-command flakes")
		args = append(args, inputs...)
		args = append(args, "--flake", dir)
	case len(inputs) == 0:
		args = append(args, "update", "--extra-experimental-features", "nix-command flakes", dir)
	default:
		args = append(args, "lock", "--extra-experimental-features", "nix-command flakes", dir)
		for _, in := range inputs {
			args = append(args, "--update-input", in)
		}
	}
	return append(args, extra...)
}
