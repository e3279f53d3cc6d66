package status

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ringflow/ringflow/pkg/config"
	"github.com/ringflow/ringflow/pkg/evidence"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/iostreams"
	"github.com/ringflow/ringflow/pkg/nix"
)

// newFleet makes a local repository (no remote) with dev three commits
// ahead of canary and stable at the first commit. Status needs no nix.
func newFleet(t *testing.T) (*fleet.Fleet, time.Time) {
	t.Helper()
	dir := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t",
			"GIT_COMMITTER_EMAIL=t@t", "GIT_AUTHOR_DATE=2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE=2026-01-01T00:00:00Z")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %q: %v\n%s", args, err, out)
		}
	}
	git("init", "-q", "-b", "dev")
	git("commit", "-q", "--allow-empty", "-m", "first")
	git("branch", "stable")
	git("branch", "sbc")
	git("commit", "-q", "--allow-empty", "-m", "second")
	git("branch", "canary")
	git("commit", "-q", "--allow-empty", "-m", "third")
	git("commit", "-q", "--allow-empty", "-m", "fourth")
	cfgFile := filepath.Join(dir, "ringflow.yaml")
	yaml := "remote: \"\"\nrepo: " + dir + "\nrings:\n  - name: canary\n    hosts: [a]\n  - name: stable\n    groups:\n" +
		"      - name: stable\n        hosts: [\"*\"]\n      - name: sbc\n        hosts: [b]\n        pin: true\n"
	if err := os.WriteFile(cfgFile, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.LoadOptions{File: cfgFile, SearchPaths: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	fl, err := fleet.Open(cfg, nix.New(nix.Options{}), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return fl, time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)
}

func TestStatusRun(t *testing.T) {
	fl, now := newFleet(t)
	for _, tty := range []bool{false, true} {
		ios, _, out, errOut := iostreams.Test()
		ios.SetStdoutTTY(tty)
		opts := &StatusOptions{IO: ios, Fleet: func() (*fleet.Fleet, error) { return fl, nil }, Now: func() time.Time { return now }}
		if err := statusRun(context.Background(), opts); err != nil {
			t.Fatal(err)
		}
		got := out.String()
		// This repository holds no flake: the hosts, and so the evidence, are unknown, and said so.
		if !strings.Contains(errOut.String(), "warning: evidence of group canary unknown") {
			t.Errorf("stderr lacks the unknown-evidence warning:\n%s", errOut)
		}
		var want []string
		if tty {
			want = []string{
				`(?m)^RING +GROUP +BRANCH +COMMIT +AGE +BEHIND +PINNED +EVIDENCE +SOAK LEFT +SUBJECT$`,
				`(?m)^canary +canary +canary +[0-9a-f]{7} +2d ago +2 +- +\? +- +second$`,
				`(?m)^stable +sbc +sbc +[0-9a-f]{7} +2d ago +1 +pinned +\? +- +first$`,
			}
		} else {
			want = []string{
				`(?m)^dev\t-\tdev\t[0-9a-f]{40}\t2026-01-01T00:00:00Z\t-\t-\t-\t-\tfourth$`,
				`(?m)^canary\tcanary\tcanary\t[0-9a-f]{40}\t2026-01-01T00:00:00Z\t2\t-\t\?\t0\tsecond$`,
				`(?m)^stable\tstable\tstable\t[0-9a-f]{40}\t2026-01-01T00:00:00Z\t1\t-\t\?\t0\tfirst$`,
			}
			if strings.Contains(got, "RING") {
				t.Errorf("pipe output has a header:\n%s", got)
			}
		}
		for _, re := range want {
			if !regexp.MustCompile(re).MatchString(got) {
				t.Errorf("tty=%v: output lacks %s:\n%s", tty, re, got)
			}
		}
	}
}

func TestStatusRunJSON(t *testing.T) {
	fl, now := newFleet(t)
	ios, _, out, _ := iostreams.Test()
	opts := &StatusOptions{IO: ios, Fleet: func() (*fleet.Fleet, error) { return fl, nil }, Now: func() time.Time { return now }, JSON: true}
	if err := statusRun(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	var got StatusJSON
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("not one JSON document: %v\n%s", err, out)
	}
	if got.Dev.Branch != "dev" || len(got.Rings) != 2 || got.Rings[1].Groups[1].Name != "sbc" ||
		!got.Rings[1].Groups[1].Pinned || got.Rings[0].Groups[0].Behind != 2 || got.Rings[0].Groups[0].AgeSeconds != 2*86400 {
		t.Errorf("status JSON = %+v", got)
	}
	if got.Rings[1].Position != got.Rings[1].Groups[0].Commit {
		t.Errorf("stable's position %s is not its unpinned group's commit %s", got.Rings[1].Position, got.Rings[1].Groups[0].Commit)
	}
}

func TestPipeline(t *testing.T) {
	s := StatusJSON{
		Dev: BranchJSON{Branch: "dev", Commit: strings.Repeat("d", 40)},
		Rings: []RingJSON{
			{Name: "canary", Position: strings.Repeat("c", 40), Groups: []GroupJSON{{Name: "canary", Commit: strings.Repeat("c", 40), Behind: 3,
				Evidence: &evidence.Tally{Green: 2}}}},
			{Name: "stable", Position: strings.Repeat("5", 40), SoakLeftSeconds: 7200, Groups: []GroupJSON{
				{Name: "stable", Commit: strings.Repeat("5", 40), Evidence: &evidence.Tally{Green: 4, Red: 1}},
				{Name: "sbc", Commit: strings.Repeat("1", 40), Pinned: true, Behind: 9}}},
		},
	}
	ios, _, _, _ := iostreams.Test()
	got := pipeline(s, ios.ColorScheme())
	want := "dev ddddddd ─3─▶ canary ccccccc (2/2 green) ─▶ stable 5555555 (4/5 green, 1 red, soak 2h)"
	if got != want {
		t.Errorf("pipeline =\n%s\nwant\n%s", got, want)
	}
	ios.SetColorEnabled(true)
	if got := pipeline(s, ios.ColorScheme()); !strings.Contains(got, "\x1b[31m4/5 green, 1 red\x1b[0m") {
		t.Errorf("coloured pipeline lacks a red evidence note: %q", got)
	}
}
