package nix

import (
	"slices"
	"testing"
)

func TestLockArgs(t *testing.T) {
	v28 := Version{Major: 2, Minor: 8}
	v224 := Version{Major: 2, Minor: 24}
	lix := Version{Lix: true, Major: 2, Minor: 91}
	ef := []string{"--extra-experimental-features", "nix-command flakes"}
	cat := func(parts ...[]string) []string { return slices.Concat(parts...) }
	tests := []struct {
		v      Version
		inputs []string
		want   []string
	}{
		{v28, nil, cat([]string{"flake", "update"}, ef, []string{"/s"})},
		{v28, []string{"nixpkgs", "hm/nixpkgs"}, cat([]string{"flake", "lock"}, ef, []string{"/s", "--update-input", "nixpkgs", "--update-input", "hm/nixpkgs"})},
		{v224, nil, cat([]string{"flake", "update"}, ef, []string{"--flake", "/s"})},
		{v224, []string{"nixpkgs"}, cat([]string{"flake", "update"}, ef, []string{"nixpkgs", "--flake", "/s"})},
		{lix, []string{"nixpkgs"}, cat([]string{"flake", "update"}, ef, []string{"nixpkgs", "--flake", "/s"})},
	}
	for _, tt := range tests {
		if got := lockArgs(tt.v, "/s", tt.inputs, nil); !slices.Equal(got, tt.want) {
			t.Errorf("%s %q: lockArgs = %q, want %q", tt.v, tt.inputs, got, tt.want)
		}
	}
	if got := lockArgs(v28, "/s", nil, []string{"--option", "x", "y"}); !slices.Equal(got[len(got)-3:], []string{"--option", "x", "y"}) {
		t.Errorf("nix-args not appended: %q", got)
	}
}
