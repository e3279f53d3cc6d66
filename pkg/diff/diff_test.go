package diff

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ringflow/ringflow/pkg/evidence"
	"github.com/ringflow/ringflow/pkg/flakelock"
	"github.com/ringflow/ringflow/pkg/gitrepo"
)

var (
	c1 = strings.Repeat("1", 40)
	c2 = strings.Repeat("2", 40)
	c3 = strings.Repeat("3", 40)
)

type fakeRevs map[string]string

func (f fakeRevs) Resolve(_ context.Context, rev string) (string, error) {
	if c, ok := f[rev]; ok {
		return c, nil
	}
	return "", fmt.Errorf("unknown revision %q", rev)
}

// fakeLocks holds each commit's lock file (at path "nix/flake.lock").
type fakeLocks map[string]string

func (f fakeLocks) ReadLock(commit, path string) (*flakelock.Lock, error) {
	data, ok := f[commit]
	if !ok || path != "nix/flake.lock" {
		return nil, fmt.Errorf("%s has no %s", commit[:12], path)
	}
	return flakelock.Parse([]byte(data))
}

// line is a linear history, oldest first.
type line []string

func (l line) Log(base, tip string, max int) ([]gitrepo.CommitInfo, error) {
	var out []gitrepo.CommitInfo
	for i := slices.Index(l, tip); i > slices.Index(l, base); i-- {
		out = append(out, gitrepo.CommitInfo{Hash: l[i], Subject: "commit " + l[i][:1]})
	}
	return out, nil
}

func (l line) CountBetween(base, tip string) (int, error) {
	return max(slices.Index(l, tip)-slices.Index(l, base), 0), nil
}

// fakeEvidence holds each commit's hosts' derivations ("" = none).
type fakeEvidence map[string]map[string]string

func (f fakeEvidence) Get(commit string) (*evidence.Note, error) {
	n := &evidence.Note{Commit: commit, Hosts: map[string]evidence.Host{}}
	for h, drv := range f[commit] {
		n.Hosts[h] = evidence.Host{Status: evidence.Green, Drv: drv}
	}
	return n, nil
}

func lock(nixpkgsRev string) string {
	return `{"version": 7, "root": "root", "nodes": {
		"root": {"inputs": {"nixpkgs": "nixpkgs"}},
		"nixpkgs": {"locked": {"type": "github", "owner": "NixOS", "repo": "nixpkgs", "rev": "` + nixpkgsRev + `", "lastModified": 1, "narHash": "sha256-AAAA"},
			"original": {"type": "github", "owner": "NixOS", "repo": "nixpkgs"}}}}`
}

const cyclic = `{"version": 7, "root": "root", "nodes": {"root": {"inputs": {"p": ["q"], "q": ["p"]}}}}`

func differ() *Differ {
	return &Differ{
		Revs:    fakeRevs{"stable": c1, "dev": c3},
		Locks:   fakeLocks{c1: lock(strings.Repeat("a", 40)), c3: lock(strings.Repeat("b", 40))},
		Commits: line{c1, c2, c3},
		Evidence: fakeEvidence{
			c1: {"web-2": "/nix/store/w2-old.drv", "web-1": "/nix/store/w1.drv", "db-1": "/nix/store/d1-old.drv", "lab-1": ""},
			c3: {"web-2": "/nix/store/w2-new.drv", "web-1": "/nix/store/w1.drv", "db-1": "/nix/store/d1-new.drv", "lab-1": "/nix/store/l1.drv", "new-1": "/nix/store/n1.drv"},
		},
		LockPath: "nix/flake.lock",
	}
}

func TestDiff(t *testing.T) {
	rep, err := differ().Diff(context.Background(), "stable", "dev")
	if err != nil {
		t.Fatal(err)
	}
	if rep.From != c1 || rep.To != c3 || rep.FromName != "stable" || rep.ToName != "dev" {
		t.Errorf("ends = %s (%s) → %s (%s)", rep.FromName, rep.From, rep.ToName, rep.To)
	}
	if len(rep.Inputs) != 1 || rep.Inputs[0].Path != "nixpkgs" || rep.Inputs[0].Kind != flakelock.Updated {
		t.Errorf("inputs = %+v; want nixpkgs updated", rep.Inputs)
	}
	if len(rep.Commits) != 2 || rep.Commits[0].Hash != c3 || rep.Commits[1].Hash != c2 || rep.Behind != 0 {
		t.Errorf("commits = %+v, behind %d; want 3, 2 newest first, behind 0", rep.Commits, rep.Behind)
	}
	// lab-1 has no derivation at stable and new-1 none there at all: only
	// three hosts are compared; web-1 is unchanged.
	if want := []string{"db-1", "web-2"}; !slices.Equal(rep.HostsChanged, want) || rep.HostsCompared != 3 {
		t.Errorf("hosts changed %v of %d; want %v of 3", rep.HostsChanged, rep.HostsCompared, want)
	}
}

func TestDiffBackwards(t *testing.T) {
	rep, err := differ().Diff(context.Background(), "dev", "stable")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Commits) != 0 || rep.Behind != 2 {
		t.Errorf("dev → stable: %d commits, behind %d; want 0, 2", len(rep.Commits), rep.Behind)
	}
}

func TestDiffErrors(t *testing.T) {
	for _, tt := range []struct {
		name   string
		change func(*Differ)
		a, b   string
		want   string
	}{
		{"unknown revision", func(*Differ) {}, "stable", "nope", `unknown revision "nope"`},
		{"no lock at one side", func(d *Differ) { delete(d.Locks.(fakeLocks), c3) }, "stable", "dev", c3[:12] + " has no nix/flake.lock"},
		{"broken input tree names its side", func(d *Differ) { d.Locks.(fakeLocks)[c3] = cyclic }, "stable", "dev",
			"nix/flake.lock at " + c3[:12] + `: input "p": follows cycle`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := differ()
			tt.change(d)
			_, err := d.Diff(context.Background(), tt.a, tt.b)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v; want one saying %q", err, tt.want)
			}
		})
	}
}

func TestDiffEvidenceError(t *testing.T) {
	d := differ()
	bad := errors.New("evidence: note is not ringflow evidence")
	d.Evidence = failingEvidence{bad}
	if _, err := d.Diff(context.Background(), "stable", "dev"); !errors.Is(err, bad) {
		t.Errorf("err = %v; want the evidence error", err)
	}
}

type failingEvidence struct{ err error }

func (f failingEvidence) Get(string) (*evidence.Note, error) { return nil, f.err }
