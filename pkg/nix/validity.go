package nix

import (
	"context"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"
)

// DefaultStoreDir is where Nix keeps its store unless NIX_STORE_DIR says
// otherwise.
const DefaultStoreDir = "/nix/store"

// storeDir is the store directory of this Nix: NIX_STORE_DIR in its
// environment, else /nix/store (as Nix itself decides it).
func (n *Nix) storeDir() string {
	env := n.opts.Env
	if env == nil {
		env = os.Environ()
	}
	dir := DefaultStoreDir
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "NIX_STORE_DIR="); ok && v != "" {
			dir = v
		}
	}
	return path.Clean(dir)
}

// IsStorePath says whether p names a store path of storeDir itself (not a
// file inside one): <storeDir>/<32 characters of Nix's base-32>-<name>.
// nix-store refuses anything else with an error for the whole call, and
// answers for the store path around a file inside one: a path read from a
// note must be checked before it is asked about.
func IsStorePath(storeDir, p string) bool {
	dir, base := path.Split(p)
	if path.Clean(dir) != path.Clean(storeDir) || len(base) < 34 || base[32] != '-' {
		return false
	}
	for i := 0; i < 32; i++ {
		// Nix's base-32 digits: 0-9 and a-z without e, o, u and t.
		if c := base[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' && c != 'e' && c != 'o' && c != 'u' && c != 't') {
			return false
		}
	}
	name := base[33:]
	if len(name) > 211 || name[0] == '.' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || strings.IndexByte("+-._?=", c) >= 0) {
			return false
		}
	}
	return true
}

// ValidPathsIn says which of paths are valid in the store at storeURL
// (build.cache: file://…, s3://…, ssh-ng://…): `nix-store --store URL
// --check-validity --print-invalid`, which Nix 2.8 to 2.34 answer alike,
// asking a binary cache for each path's .narinfo. It copies nothing and
// builds nothing. A store that cannot be reached is an error naming it.
func (n *Nix) ValidPathsIn(ctx context.Context, storeURL string, paths []string) (map[string]bool, error) {
	if storeURL == "" {
		return nil, fmt.Errorf("nix: check validity: no store URL")
	}
	valid, err := n.validIn(ctx, storeURL, paths)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", storeURL, err)
	}
	return valid, nil
}

// validIn asks a store (the local one when storeURL is "") which of paths
// are valid, at most 1000 a call.
func (n *Nix) validIn(ctx context.Context, storeURL string, paths []string) (map[string]bool, error) {
	valid := map[string]bool{}
	storeDir := n.storeDir()
	var ask []string
	for _, p := range paths {
		if p == "" {
			continue
		}
		if _, seen := valid[p]; seen {
			continue
		}
		if !IsStorePath(storeDir, p) {
			valid[p] = false
			continue
		}
		valid[p] = true
		ask = append(ask, p)
	}
	for chunk := range slices.Chunk(ask, 1000) {
		var args []string
		if storeURL != "" {
			args = append(args, "--store", storeURL)
		}
		args = append(args, "--check-validity", "--print-invalid")
		args = append(args, chunk...)
		out, err := n.run(ctx, n.legacyBinary("nix-store"), args, nil)
		if err != nil {
			return nil, fmt.Errorf("nix: checking store paths: %w", err)
		}
		for _, l := range strings.Split(string(out), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				valid[l] = false
			}
		}
	}
	return valid, nil
}
