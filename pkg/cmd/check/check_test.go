package check

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ringflow/ringflow/pkg/check"
	"github.com/ringflow/ringflow/pkg/cmdutil"
	"github.com/ringflow/ringflow/pkg/config"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/iostreams"
	"github.com/ringflow/ringflow/pkg/nix"
)

func TestNewCmdCheck(t *testing.T) {
	for _, tt := range []struct {
		argv   string
		repair bool
	}{
		{argv: "", repair: false},
		{argv: "--repair", repair: true},
	} {
		ios, _, _, _ := iostreams.Test()
		f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.Globals{Output: "text"}}
		var got *CheckOptions
		cmd := NewCmdCheck(f, func(_ context.Context, o *CheckOptions) error { got = o; return nil })
		cmd.SetArgs(strings.Fields(tt.argv))
		cmd.SetOut(ios.Out)
		cmd.SetErr(ios.ErrOut)
		if err := cmd.Execute(); err != nil {
			t.Fatalf("%q: %v", tt.argv, err)
		}
		if got.Repair != tt.repair {
			t.Errorf("%q: Repair = %v, want %v", tt.argv, got.Repair, tt.repair)
		}
	}
}

// brokenRepo is a repository without a remote (and without dev, so no nix
// is needed) holding what a killed git leaves: a ref lock, a work tree
// entry `git worktree add` never finished, and an empty ref file, which
// without a remote needs a person.
func brokenRepo(t *testing.T) (dir, cfgFile string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir = t.TempDir()
	repo := filepath.Join(dir, "repo")
	if out, err := exec.Command("git", "init", "-q", repo).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	gitDir := filepath.Join(repo, ".git")
	half := filepath.Join(gitDir, "worktrees", "ringflow-scratch-123")
	for _, d := range []string{filepath.Join(gitDir, "refs", "heads"), half} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for p, content := range map[string]string{
		filepath.Join(gitDir, "refs", "heads", "canary.lock"): "",
		filepath.Join(gitDir, "refs", "heads", "stable"):      "",
		filepath.Join(half, "locked"):                         "initializing\n",
	} {
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfgFile = filepath.Join(dir, "ringflow.yaml")
	yaml := "repo: " + repo + "\nremote: \"\"\nrings:\n  - name: canary\n    hosts: [\"lab-*\"]\n  - name: stable\n    hosts: [\"*\"]\n"
	if err := os.WriteFile(cfgFile, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return repo, cfgFile
}

func openFleet(cfgFile string) func() (*fleet.Fleet, error) {
	return func() (*fleet.Fleet, error) {
		cfg, err := config.Load(config.LoadOptions{File: cfgFile, Env: []string{}})
		if err != nil {
			return nil, err
		}
		return fleet.Open(cfg, nix.New(nix.Options{}), io.Discard, nil)
	}
}

func TestCheckRepair(t *testing.T) {
	repo, cfgFile := brokenRepo(t)
	gitDir := filepath.Join(repo, ".git")

	// Without --repair: every leftover is a problem, nothing changes.
	ios, _, out, errOut := iostreams.Test()
	err := checkRun(context.Background(), &CheckOptions{IO: ios, Fleet: openFleet(cfgFile)})
	var cerr *check.CheckError
	if !errors.As(err, &cerr) {
		t.Fatalf("check: err = %v, want a *check.CheckError", err)
	}
	for _, want := range []string{
		"stale lock file " + filepath.Join(gitDir, "refs", "heads", "canary.lock"),
		"stale ringflow scratch checkout " + filepath.Join(gitDir, "worktrees", "ringflow-scratch-123"),
		"ref file .git/refs/heads/stable is empty",
		`dev branch "dev" does not exist`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("check: stdout lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(errOut.String(), "repaired:") {
		t.Errorf("check without --repair repaired something:\n%s", errOut)
	}
	if _, err := os.Stat(filepath.Join(gitDir, "refs", "heads", "canary.lock")); err != nil {
		t.Errorf("check without --repair touched the lock: %v", err)
	}

	// With --repair: the lock and the entry go, each said on stderr; the
	// empty ref stays a problem for a person and is left as it is.
	ios, _, out, errOut = iostreams.Test()
	err = checkRun(context.Background(), &CheckOptions{IO: ios, Fleet: openFleet(cfgFile), Repair: true})
	if !errors.As(err, &cerr) {
		t.Fatalf("check --repair: err = %v, want a *check.CheckError (dev is missing)", err)
	}
	for _, want := range []string{
		"repaired: removed stale lock file " + filepath.Join(gitDir, "refs", "heads", "canary.lock") + "\n",
		"repaired: removed stale scratch checkout " + filepath.Join(gitDir, "worktrees", "ringflow-scratch-123"),
	} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("check --repair: stderr lacks %q:\n%s", want, errOut)
		}
	}
	if !strings.Contains(out.String(), "ref file .git/refs/heads/stable is empty") || !strings.Contains(out.String(), "needs a person") {
		t.Errorf("check --repair: the empty ref without a remote is not a problem for a person:\n%s", out)
	}
	if strings.Contains(out.String(), "stale lock file") {
		t.Errorf("check --repair still lists the lock:\n%s", out)
	}
	for _, gone := range []string{filepath.Join(gitDir, "refs", "heads", "canary.lock"), filepath.Join(gitDir, "worktrees", "ringflow-scratch-123")} {
		if _, err := os.Stat(gone); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is still there (%v)", gone, err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(gitDir, "refs", "heads", "stable")); err != nil || len(b) != 0 {
		t.Errorf("the empty ref file was touched: %q, %v", b, err)
	}

	// -o json: the repairs (none left to do) are a field of the document.
	ios, _, out, _ = iostreams.Test()
	_ = checkRun(context.Background(), &CheckOptions{IO: ios, Fleet: openFleet(cfgFile), Repair: true, JSON: true})
	var doc struct {
		OK       bool      `json:"ok"`
		Problems []string  `json:"problems"`
		Repaired *[]string `json:"repaired"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("check --repair -o json: %v\n%s", err, out)
	}
	if doc.OK || doc.Repaired == nil || len(*doc.Repaired) != 0 {
		t.Errorf("check --repair -o json = %s, want ok false and an empty repaired list", out)
	}
	ios, _, out, _ = iostreams.Test()
	_ = checkRun(context.Background(), &CheckOptions{IO: ios, Fleet: openFleet(cfgFile), JSON: true})
	if strings.Contains(out.String(), `"repaired"`) {
		t.Errorf("check -o json without --repair has a repaired field:\n%s", out)
	}
}
