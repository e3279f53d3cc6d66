package status

import (
	"bytes"
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
	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/iostreams"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/nix"
	"github.com/ringflow/ringflow/pkg/ring"
)

// newFleet makes a local repository (no remote) with dev three commits
// ahead of canary and stable at the first commit, where the config pins
// group sbc (by its commit's first 10 digits). Status needs no nix.
func newFleet(t *testing.T) (*fleet.Fleet, time.Time) {
	t.Helper()
	dir := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t",
			"GIT_COMMITTER_EMAIL=t@t", "GIT_AUTHOR_DATE=2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE=2026-01-01T00:00:00Z")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %q: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q", "-b", "dev")
	git("commit", "-q", "--allow-empty", "-m", "first")
	first := git("rev-parse", "--short=10", "HEAD")
	git("branch", "stable")
	git("branch", "sbc")
	git("commit", "-q", "--allow-empty", "-m", "second")
	git("branch", "canary")
	git("commit", "-q", "--allow-empty", "-m", "third")
	git("commit", "-q", "--allow-empty", "-m", "fourth")
	cfgFile := filepath.Join(dir, "ringflow.yaml")
	yaml := "remote: \"\"\nrepo: " + dir + "\nrings:\n  - name: canary\n    hosts: [a]\n  - name: stable\n    groups:\n" +
		"      - name: stable\n        hosts: [\"*\"]\n      - name: sbc\n        hosts: [b]\n        pin: \"" + first + "\"\n"
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
		ios.SetTerminalWidth(200)
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
				`(?m)^stable +sbc +sbc +([0-9a-f]{7}) +2d ago +1 +([0-9a-f]{7}) by config +\? +- +first$`,
			}
		} else {
			want = []string{
				`(?m)^dev\tdev\t[0-9a-f]{40}\t2026-01-01T00:00:00Z\tfourth$`,
				`(?m)^ring\tcanary\tcanary\tcanary\t[0-9a-f]{40}\t2026-01-01T00:00:00Z\t2\t-\t\?\t0\tsecond$`,
				`(?m)^ring\tstable\tstable\tstable\t[0-9a-f]{40}\t2026-01-01T00:00:00Z\t1\t-\t\?\t0\tfirst$`,
				`(?m)^ring\tstable\tsbc\tsbc\t([0-9a-f]{40})\t2026-01-01T00:00:00Z\t1\tpinned at ([0-9a-f]{40}) by the config \(rings\[1\]\.groups\[1\]\.pin\)\t\?\t0\tfirst$`,
			}
			if strings.Contains(got, "RING") {
				t.Errorf("pipe output has a header:\n%s", got)
			}
		}
		for _, re := range want {
			m := regexp.MustCompile(re).FindStringSubmatch(got)
			if m == nil {
				t.Errorf("tty=%v: output lacks %s:\n%s", tty, re, got)
			}
			// sbc is at its pin: the commit the config names, resolved.
			if len(m) == 3 && m[1] != m[2] {
				t.Errorf("tty=%v: sbc is at %s but shown pinned at %s", tty, m[1], m[2])
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

// record appends entries, oldest first, to the fleet's ledger, as the
// pin, unpin, hold and release commands do.
func record(t *testing.T, fl *fleet.Fleet, entries ...ledger.Entry) {
	t.Helper()
	tip, err := fl.Ledger.Tip()
	if err != nil {
		t.Fatal(err)
	}
	next := tip
	for _, e := range entries {
		if next, err = fl.Ledger.Prepare(e, next); err != nil {
			t.Fatal(err)
		}
	}
	if err := fl.Repo.UpdateRefs(context.Background(), []gitrepo.RefUpdate{{Ref: ledger.Ref, Old: tip, New: next}}, "test"); err != nil {
		t.Fatal(err)
	}
}

// pinsAndHolds is newFleet with, in the ledger, group stable pinned and
// sbc pinned again (besides its config pin), ring stable held, canary held
// and released, group canary pinned and unpinned.
func pinsAndHolds(t *testing.T) (*fleet.Fleet, time.Time) {
	fl, now := newFleet(t)
	at := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	e := func(event, ringName, group, reason string, h time.Duration) ledger.Entry {
		return ledger.Entry{Event: event, Ring: ringName, Group: group, Actor: "ops@host", Reason: reason, Time: at.Add(h)}
	}
	record(t, fl,
		e(ledger.EventPin, "canary", "canary", "", 0), e(ledger.EventUnpin, "canary", "canary", "", time.Hour),
		e(ledger.EventHold, "canary", "", "", 0), e(ledger.EventRelease, "canary", "", "", time.Hour),
		e(ledger.EventPin, "stable", "stable", "trade show at Essen, booth 4", 2*time.Hour),
		e(ledger.EventPin, "stable", "sbc", "fair", 3*time.Hour),
		e(ledger.EventHold, "stable", "", "incident 42", 4*time.Hour))
	return fl, now
}

// A group shows what pins it, shortly on a terminal and in full through a
// pipe; a held ring shows who held it, and why, on its rows and on the
// pipeline line.
func TestStatusRunPinsAndHolds(t *testing.T) {
	fl, now := pinsAndHolds(t)
	for _, tty := range []bool{false, true} {
		ios, _, out, _ := iostreams.Test()
		ios.SetStdoutTTY(tty)
		ios.SetTerminalWidth(200)
		opts := &StatusOptions{IO: ios, Fleet: func() (*fleet.Fleet, error) { return fl, nil }, Now: func() time.Time { return now }}
		if err := statusRun(context.Background(), opts); err != nil {
			t.Fatal(err)
		}
		got := out.String()
		var want []string
		if tty {
			want = []string{
				`(?m)^dev [0-9a-f]{7} ─2─▶ canary [0-9a-f]{7} ─▶ stable [0-9a-f]{7} \(held by ops@host\)$`,
				`(?m)^canary +canary +canary +[0-9a-f]{7} +2d ago +2 +- +\? +- +second$`,
				`(?m)^stable +stable +stable +([0-9a-f]{7}) +2d ago +1 +([0-9a-f]{7}) by ops@host 22h ago: trade show at Essen, booth 4 +\? +held by ops@host: incident 42 +first$`,
				`(?m)^stable +sbc +sbc +[0-9a-f]{7} +2d ago +1 +[0-9a-f]{7} by config, ops@host 21h ago: fair +\? +held by ops@host: incident 42 +first$`,
			}
		} else {
			want = []string{
				`(?m)^ring\tcanary\tcanary\tcanary\t[0-9a-f]{40}\t\S+\t2\t-\t\?\t0\tsecond$`,
				`(?m)^ring\tstable\tstable\tstable\t[0-9a-f]{40}\t\S+\t1\tpinned by ops@host at 2026-01-02T02:00:00Z: trade show at Essen, booth 4\t\?\t` +
					`held by ops@host since 2026-01-02T04:00:00Z: incident 42\tfirst$`,
				`(?m)^ring\tstable\tsbc\tsbc\t[0-9a-f]{40}\t\S+\t1\tpinned at [0-9a-f]{40} by the config \(rings\[1\]\.groups\[1\]\.pin\), ` +
					`and by ops@host at 2026-01-02T03:00:00Z: fair\t\?\theld by ops@host since 2026-01-02T04:00:00Z: incident 42\tfirst$`,
			}
		}
		for _, re := range want {
			if !regexp.MustCompile(re).MatchString(got) {
				t.Errorf("tty=%v: output lacks %s:\n%s", tty, re, got)
			}
		}
		if tty {
			t.Logf("\n%s", got)
		}
	}
}

// On a narrow terminal every line fits: free text is cut, names, commits
// and counts stay.
func TestStatusRunNarrow(t *testing.T) {
	fl, now := pinsAndHolds(t)
	for _, width := range []int{80, 100} {
		ios, _, out, _ := iostreams.Test()
		ios.SetStdoutTTY(true)
		ios.SetTerminalWidth(width)
		ios.SetColorEnabled(true) // colour must not count towards the width
		opts := &StatusOptions{IO: ios, Fleet: func() (*fleet.Fleet, error) { return fl, nil }, Now: func() time.Time { return now }}
		if err := statusRun(context.Background(), opts); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "\x1b[") {
			t.Errorf("width %d: no colour:\n%s", width, out)
		}
		got := regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(out.String(), "")
		for _, l := range strings.Split(got, "\n") {
			if n := len([]rune(l)); n > width {
				t.Errorf("width %d: a line of %d: %q", width, n, l)
			}
		}
		for _, re := range []string{
			`(?m)^canary +canary +[0-9a-f]{7} +2d.* 2 +- `,
			`(?m)^stable +stable +[0-9a-f]{7} +2d.* 1 +[0-9a-f]{7} by`,
			`(?m)^stable +sbc +[0-9a-f]{7} +2d.* 1 +[0-9a-f]{7} by`,
		} {
			if !regexp.MustCompile(re).MatchString(got) {
				t.Errorf("width %d: output lacks %s:\n%s", width, re, got)
			}
		}
		t.Logf("width %d:\n%s", width, got)
	}
}

// -o json: a pin object per group and a hold object per ring, null when
// nothing pins or holds it; pinned stays.
func TestStatusRunJSONPinsAndHolds(t *testing.T) {
	fl, now := pinsAndHolds(t)
	ios, _, out, _ := iostreams.Test()
	opts := &StatusOptions{IO: ios, Fleet: func() (*fleet.Fleet, error) { return fl, nil }, Now: func() time.Time { return now }, JSON: true}
	if err := statusRun(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Rings []struct {
			Name   string          `json:"name"`
			Hold   json.RawMessage `json:"hold"`
			Groups []struct {
				Name   string          `json:"name"`
				Commit string          `json:"commit"`
				Pinned bool            `json:"pinned"`
				Pin    json.RawMessage `json:"pin"`
			} `json:"groups"`
		} `json:"rings"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("not one JSON document: %v\n%s", err, out)
	}
	canary, stable := got.Rings[0], got.Rings[1]
	sbc := stable.Groups[1]
	for _, tt := range []struct {
		what      string
		got, want string
	}{
		{"canary's hold", string(canary.Hold), "null"},
		{"canary's pin", string(canary.Groups[0].Pin), "null"},
		{"stable's hold", string(stable.Hold), `{"actor":"ops@host","time":"2026-01-02T04:00:00Z","reason":"incident 42"}`},
		{"group stable's pin", string(stable.Groups[0].Pin),
			`{"config":"","commit":"","actor":"ops@host","time":"2026-01-02T02:00:00Z","reason":"trade show at Essen, booth 4"}`},
		{"sbc's pin", string(sbc.Pin),
			`{"config":"rings[1].groups[1].pin","commit":"` + sbc.Commit + `","actor":"ops@host","time":"2026-01-02T03:00:00Z","reason":"fair"}`},
	} {
		var compact bytes.Buffer
		if err := json.Compact(&compact, []byte(tt.got)); err != nil {
			t.Fatalf("%s: %v", tt.what, err)
		}
		if compact.String() != tt.want {
			t.Errorf("%s = %s\nwant %s", tt.what, compact.String(), tt.want)
		}
	}
	if canary.Groups[0].Pinned || !stable.Groups[0].Pinned || !sbc.Pinned {
		t.Errorf("pinned: canary %v, stable %v, sbc %v; want false, true (by the ledger), true",
			canary.Groups[0].Pinned, stable.Groups[0].Pinned, sbc.Pinned)
	}
	if testing.Verbose() {
		t.Logf("\n%s", out)
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
	got := pipeline(s, ios.ColorScheme(), 200)
	want := "dev ddddddd ─3─▶ canary ccccccc (2/2 green) ─▶ stable 5555555 (4/5 green, 1 red, soak 2h)"
	if got != want {
		t.Errorf("pipeline =\n%s\nwant\n%s", got, want)
	}
	// What holds a ring says more than its soak left: a hold, then a freeze.
	s.Rings[1].FrozenUntil = "2099-01-01T00:00:00Z"
	if got := pipeline(s, ios.ColorScheme(), 200); !strings.HasSuffix(got, " stable 5555555 (4/5 green, 1 red, frozen until 2099-01-01T00:00:00Z)") {
		t.Errorf("frozen: pipeline = %s", got)
	}
	s.Rings[1].hold = &ring.Hold{Actor: "ops@x", Time: time.Now(), Reason: "incident 42"}
	if got := pipeline(s, ios.ColorScheme(), 200); !strings.HasSuffix(got, " stable 5555555 (4/5 green, 1 red, held by ops@x)") {
		t.Errorf("held: pipeline = %s", got)
	}
	ios.SetColorEnabled(true)
	if got := pipeline(s, ios.ColorScheme(), 200); !strings.Contains(got, "\x1b[31m4/5 green, 1 red\x1b[0m") {
		t.Errorf("coloured pipeline lacks a red evidence note: %q", got)
	}
}

// A narrow terminal breaks the pipeline line before an arrow, and cuts a
// ring's notes that do not fit a line of their own.
func TestPipelineNarrow(t *testing.T) {
	s := StatusJSON{
		Dev: BranchJSON{Branch: "dev", Commit: strings.Repeat("d", 40)},
		Rings: []RingJSON{
			{Name: "canary", Position: strings.Repeat("c", 40), SoakLeftSeconds: 3600, Groups: []GroupJSON{{Name: "canary", Commit: strings.Repeat("c", 40),
				Evidence: &evidence.Tally{Green: 2}}}},
			{Name: "stable", Position: strings.Repeat("5", 40), Groups: []GroupJSON{
				{Name: "stable", Commit: strings.Repeat("5", 40), Behind: 2, Evidence: &evidence.Tally{Green: 4, Red: 1, Missing: 3}}}},
		},
	}
	ios, _, _, _ := iostreams.Test()
	for _, tt := range []struct {
		width int
		want  string
	}{
		{80, "dev ddddddd ─▶ canary ccccccc (2/2 green, soak 1h)\n  ─2─▶ stable 5555555 (4/8 green, 1 red, 3 unbuilt)"},
		{40, "dev ddddddd\n  ─▶ canary ccccccc (2/2 green, soak 1h)\n  ─2─▶ stable 5555555 (…)"},
		{36, "dev ddddddd\n  ─▶ canary ccccccc (2/2 green, …)\n  ─2─▶ stable 5555555 (…)"},
	} {
		got := pipeline(s, ios.ColorScheme(), tt.width)
		if got != tt.want {
			t.Errorf("width %d: pipeline =\n%s\nwant\n%s", tt.width, got, tt.want)
		}
		for _, l := range strings.Split(got, "\n") {
			if n := len([]rune(l)); n > tt.width {
				t.Errorf("width %d: a line of %d: %q", tt.width, n, l)
			}
		}
	}
}
