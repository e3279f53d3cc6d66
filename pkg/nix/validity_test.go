package nix_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ringflow/ringflow/pkg/nix"
)

func TestIsStorePath(t *testing.T) {
	const hash = "000bdz7bpmzcyipb57i0xrmgmxynlir0"
	for _, tt := range []struct {
		p    string
		want bool
	}{
		{"/nix/store/" + hash + "-nixos-system-lab-1", true},
		{"/nix/store/" + hash + "-nixos-system-lab-1.drv", true},
		{"/nix/store/" + hash + "-a+b_c?d=e", true},
		{"/nix/store/" + hash + "-x/bin/sh", false},              // a file inside a store path
		{"/nix/store/" + hash, false},                            // no name
		{"/nix/store/" + hash + "-", false},                      // empty name
		{"/nix/store/" + hash + "-.hidden", false},               // a name may not start with a dot
		{"/nix/store/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-x", false}, // e is no base-32 digit of Nix's
		{"/nix/store/short-x", false},
		{"/gnu/store/" + hash + "-x", false}, // another store's
		{"/tmp/" + hash + "-x", false},
		{"nix/store/" + hash + "-x", false},
		{"/nix/store/" + hash + "-x y", false},
		{"", false},
	} {
		if got := nix.IsStorePath("/nix/store", tt.p); got != tt.want {
			t.Errorf("IsStorePath(%q) = %v, want %v", tt.p, got, tt.want)
		}
	}
	if !nix.IsStorePath("/gnu/store/", "/gnu/store/"+hash+"-x") {
		t.Error("a store path of another store directory, asked with that directory: want true")
	}
}

// ValidPaths and ValidPathsIn against the real nix-store: the local store
// and a file:// binary cache, with paths that are not store paths at all
// (as a hand-written note may give) answered invalid rather than failing
// the call.
func TestValidPathsRealNix(t *testing.T) {
	env := needNix(t)
	n := nix.New(nix.Options{Env: append(os.Environ(), env...)})
	ctx := context.Background()
	f := filepath.Join(t.TempDir(), "ringflow-validity-test")
	if err := os.WriteFile(f, []byte(t.Name()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("nix-store", "--add", f)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("nix-store --add: %v", err)
	}
	have := strings.TrimSpace(string(out))
	gone := "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-ringflow-never-built"
	paths := []string{have, gone, have + "/inside", "/nix/store/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-x", "/tmp/x", "garbage"}

	valid, err := n.ValidPaths(ctx, paths)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		if want := p == have; valid[p] != want {
			t.Errorf("ValidPaths: %q valid %v, want %v", p, valid[p], want)
		}
	}

	cache := "file://" + t.TempDir()
	valid, err = n.ValidPathsIn(ctx, cache, paths)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		if valid[p] {
			t.Errorf("ValidPathsIn an empty cache: %q valid", p)
		}
	}
	if err := n.CopyTo(ctx, cache, []string{have}); err != nil {
		t.Fatal(err)
	}
	valid, err = n.ValidPathsIn(ctx, cache, paths)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		if want := p == have; valid[p] != want {
			t.Errorf("ValidPathsIn the cache: %q valid %v, want %v", p, valid[p], want)
		}
	}
	if _, err := n.ValidPathsIn(ctx, "", paths); err == nil {
		t.Error("ValidPathsIn with no store URL: want an error")
	}
}
