package flakelock

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func mixedChanges() []Change {
	day := func(s string) time.Time {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			panic(err)
		}
		return t.Add(13 * time.Hour) // dates are the UTC day
	}
	return []Change{
		{Path: "buildbot-nix/flake-parts", Kind: Removed, From: Ref{Type: "github", Owner: "hercules-ci", Repo: "flake-parts", Rev: revC}},
		{Path: "nixpkgs", Kind: Updated,
			From: Ref{Type: "git", URL: "https://github.com/NixOS/nixpkgs", Ref: "nixos-unstable-small", Rev: revA, NarHash: hash, LastModified: day("2026-08-06"), Attrs: map[string]any{"shallow": true}},
			To:   Ref{Type: "git", URL: "https://github.com/NixOS/nixpkgs", Ref: "nixos-unstable-small", Rev: revB, NarHash: hash, LastModified: day("2026-08-10"), Attrs: map[string]any{"shallow": true}}},
		{Path: "sops-nix", Kind: Updated,
			From: Ref{Type: "github", Owner: "Mic92", Repo: "sops-nix", Rev: revC, NarHash: hash, LastModified: day("2026-07-04")},
			To:   Ref{Type: "github", Owner: "Mic92", Repo: "sops-nix", Rev: revA, NarHash: hash, LastModified: day("2026-08-10")}},
		{Path: "srvos/nixpkgs", Kind: Added, ToFollows: []string{"nixpkgs"}},
		{Path: "channel", Kind: Updated,
			From: Ref{Type: "tarball", URL: "https://nixos.org/channels/nixos-25.05/nixexprs.tar.xz", NarHash: "sha256-AAAA+BBB="},
			To:   Ref{Type: "tarball", URL: "https://nixos.org/channels/nixos-25.05/nixexprs.tar.xz", NarHash: "sha256-CCCC/DDD="}},
		{Path: "treefmt-nix", Kind: Added, To: Ref{Type: "github", Owner: "numtide", Repo: "treefmt-nix", Rev: revB, LastModified: day("2026-08-09")}},
		{Path: "disko/nixpkgs", Kind: Updated, From: Ref{Type: "github", Owner: "NixOS", Repo: "nixpkgs", Rev: revA, LastModified: day("2026-08-01")}, ToFollows: []string{"nixpkgs"}},
	}
}

func TestSummary(t *testing.T) {
	changes := mixedChanges()
	for _, tc := range []struct {
		changes []Change
		want    string
	}{
		{nil, "flake.lock: update"},
		{changes[1:2], "flake.lock: update nixpkgs"},
		{changes[1:4], "flake.lock: update nixpkgs, sops-nix, srvos/nixpkgs"},
		// The full list would be 76 characters; "…, treefmt-nix and 3 more inputs" too.
		{changes, "flake.lock: update nixpkgs, sops-nix, channel and 4 more inputs"},
		{[]Change{{Path: strings.Repeat("x", 60) + "/" + strings.Repeat("y", 20)}}, "flake.lock: update 1 input"},
		{[]Change{{Path: strings.Repeat("x", 50)}, {Path: "b"}}, "flake.lock: update " + strings.Repeat("x", 50) + ", b"}, // exactly 72
		{[]Change{{Path: strings.Repeat("x", 35)}, {Path: strings.Repeat("b", 20)}}, "flake.lock: update " + strings.Repeat("x", 35) + " and 1 more input"},
		{[]Change{{Path: strings.Repeat("x", 60)}, {Path: "b"}}, "flake.lock: update 2 inputs"},
	} {
		got := Summary(tc.changes)
		if got != tc.want {
			t.Errorf("Summary = %q, want %q", got, tc.want)
		}
	}
}

func TestSummaryLength(t *testing.T) {
	for n := 1; n <= 200; n++ {
		var changes []Change
		for i := range n {
			path := fmt.Sprintf("input-%d", i)
			if i%3 == 0 {
				path = fmt.Sprintf("parent-%d/nixpkgs", i)
			}
			changes = append(changes, Change{Path: path, Kind: Updated})
		}
		s := Summary(changes)
		if utf8.RuneCountInString(s) > SummaryMax {
			t.Fatalf("%d inputs: %d characters: %q", n, len(s), s)
		}
		if !strings.HasPrefix(s, "flake.lock: update input-") && n > 1 {
			t.Fatalf("%d inputs: top-level inputs not first: %q", n, s)
		}
	}
}

func TestBody(t *testing.T) {
	want := `• Removed input 'buildbot-nix/flake-parts'
• Updated input 'nixpkgs':
    git+https://github.com/NixOS/nixpkgs?ref=nixos-unstable-small&rev=506ac12&shallow=1 (2026-08-06)
  → git+https://github.com/NixOS/nixpkgs?ref=nixos-unstable-small&rev=265b7e2&shallow=1 (2026-08-10)
    https://github.com/NixOS/nixpkgs/compare/506ac128b11642ac576dcdc528b7a5455cc27927...265b7e2dbbdbe2e59609fa31ed8be38cdb517d13
• Updated input 'sops-nix':
    github:Mic92/sops-nix/dbc756c (2026-07-04)
  → github:Mic92/sops-nix/506ac12 (2026-08-10)
    https://github.com/Mic92/sops-nix/compare/dbc756c9d7287de19b3e0e38c928c47510d42c3e...506ac128b11642ac576dcdc528b7a5455cc27927
• Added input 'srvos/nixpkgs': follows 'nixpkgs'
• Updated input 'channel':
    https://nixos.org/channels/nixos-25.05/nixexprs.tar.xz?narHash=sha256-AAAA%2BBBB%3D
  → https://nixos.org/channels/nixos-25.05/nixexprs.tar.xz?narHash=sha256-CCCC/DDD%3D
• Added input 'treefmt-nix':
    github:numtide/treefmt-nix/265b7e2 (2026-08-09)
• Updated input 'disko/nixpkgs':
    github:NixOS/nixpkgs/506ac12 (2026-08-01)
  → follows 'nixpkgs'
`
	if got := Body(mixedChanges()); got != want {
		t.Errorf("Body =\n%s\nwant\n%s", got, want)
	}
	if Body(nil) != "" {
		t.Errorf("Body(nil) not empty")
	}
}

// TestBodyFromCorpus renders a real update end to end, as `ringflow update` does.
func TestBodyFromCorpus(t *testing.T) {
	corpusCases(t)
	oldL := readLock(t, corpusDir+"/000/old.lock")
	newL := readLock(t, corpusDir+"/000/new.lock")
	changes, err := Diff(oldL, newL)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := Summary(changes), "flake.lock: update nix-index-database, nixpkgs, sops-nix, srvos"; got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
	body := Body(changes)
	for _, line := range []string{
		"• Updated input 'nixpkgs':\n    git+https://github.com/NixOS/nixpkgs?ref=nixos-unstable-small&rev=506ac12&shallow=1 (2026-08-06)\n  → git+https://github.com/NixOS/nixpkgs?ref=nixos-unstable-small&rev=265b7e2&shallow=1 (2026-08-10)\n",
		"https://github.com/nix-community/srvos/compare/f8a1f138ff7ccdb736f56272093953e12bb87ad5...2077eec5063fce46b8c9e0754c4753542bb4f5f9\n",
	} {
		if !strings.Contains(body, line) {
			t.Errorf("Body lacks %q:\n%s", line, body)
		}
	}
}
