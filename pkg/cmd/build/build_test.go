package build

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ringflow/ringflow/pkg/build"
	"github.com/ringflow/ringflow/pkg/cmdutil"
	"github.com/ringflow/ringflow/pkg/iostreams"
)

func TestNewCmdBuild(t *testing.T) {
	tests := []struct {
		argv    string
		rev     string
		hosts   []string
		wantErr string
	}{
		{argv: "", rev: ""},
		{argv: "canary", rev: "canary"},
		{argv: "3f2a9c1 --host web-* --host lab-1", rev: "3f2a9c1", hosts: []string{"web-*", "lab-1"}},
		{argv: "a b", wantErr: "too many arguments"},
	}
	for _, tt := range tests {
		ios, _, _, _ := iostreams.Test()
		f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.Globals{Output: "text"}}
		var got *BuildOptions
		cmd := NewCmdBuild(f, func(_ context.Context, o *BuildOptions) error { got = o; return nil })
		cmd.SetArgs(strings.Fields(tt.argv))
		cmd.SetOut(ios.Out)
		cmd.SetErr(ios.ErrOut)
		err := cmd.Execute()
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: err = %v, want %q", tt.argv, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", tt.argv, err)
		}
		if got.Rev != tt.rev || !slices.Equal(got.Hosts, tt.hosts) {
			t.Errorf("%q: options rev=%q hosts=%q, want %q %q", tt.argv, got.Rev, got.Hosts, tt.rev, tt.hosts)
		}
	}
}

// The table gains a BUILT ON column only when some host went to a remote
// builder; on a terminal and through a pipe alike.
func TestPrintReport(t *testing.T) {
	local := &build.Report{Commit: "c1", Hosts: []build.HostOutcome{
		{Host: "a", Status: "green", Phase: "build", Out: "/nix/store/a", EvalSeconds: 1, BuildSeconds: 2, Builder: "local"},
	}}
	remote := &build.Report{Commit: "c1", Hosts: []build.HostOutcome{
		{Host: "a", Status: "green", Phase: "build", Out: "/nix/store/a", EvalSeconds: 1, BuildSeconds: 2, Builder: "ssh-ng://builder"},
		{Host: "b", Status: "green", Phase: "build", Out: "/nix/store/b", Reused: true},
	}}
	notTaken := &build.Report{Commit: "c1", Hosts: []build.HostOutcome{
		{Host: "a", Status: "green", Phase: "build", Out: "/nix/store/a", EvalSeconds: 1, BuildSeconds: 2, Builder: "ssh-ng://builder"},
		{Host: "big", Status: build.NotBuilt, Phase: "build", Out: "/nix/store/big", EvalSeconds: 1, Error: "error: unable to start any build"},
	}}
	tests := []struct {
		name     string
		rep      *build.Report
		tty      bool
		want     []string
		wantNone string
	}{
		{name: "local, pipe", rep: local, want: []string{"a\tgreen\tbuild\t1.00\t2.00\t-\t/nix/store/a"}, wantNone: "ssh-ng"},
		{name: "local, terminal", rep: local, tty: true, want: []string{"HOST", "REUSED"}, wantNone: "BUILT ON"},
		{name: "remote, pipe", rep: remote, want: []string{"a\tgreen\tbuild\t1.00\t2.00\tssh-ng://builder\t-\t/nix/store/a", "b\tgreen\tbuild\t0.00\t0.00\t-\treused\t/nix/store/b"}},
		{name: "remote, terminal", rep: remote, tty: true, want: []string{"BUILT ON", "ssh-ng://builder"}},
		{name: "not taken, pipe", rep: notTaken, want: []string{"big\tnot-built\tbuild\t1.00\t0.00\t-\t-\tno remote builder took it"}, wantNone: "unable to start"},
	}
	for _, tt := range tests {
		ios, _, out, _ := iostreams.Test()
		ios.SetStdoutTTY(tt.tty)
		if err := printReport(ios, tt.rep); err != nil {
			t.Fatal(err)
		}
		for _, w := range tt.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%s: table\n%s\nwant it to contain %q", tt.name, out, w)
			}
		}
		if tt.wantNone != "" && strings.Contains(out.String(), tt.wantNone) {
			t.Errorf("%s: table\n%s\nhas %q", tt.name, out, tt.wantNone)
		}
	}
}

// Evidence the build replaced because it did not count is said on stderr,
// one line per host and per note; nothing is said when there is none.
func TestPrintReplaced(t *testing.T) {
	rep := &build.Report{Commit: "0123456789abcdef", Hosts: []build.HostOutcome{
		{Host: "lab-1", Status: "green", Out: "/nix/store/lab-1", Unverified: "has no drv/out path"},
		{Host: "lab-2", Status: "green", Out: "/nix/store/lab-2"},
	}, Replaced: []string{"the evidence note on 0123456789ab in refs/notes/ringflow/evidence is not ringflow's evidence (cut short: unexpected end of JSON input)"}}
	ios, _, _, errOut := iostreams.Test()
	printReplaced(ios, rep)
	want := "! lab-1: its evidence at 0123456789ab has no drv/out path, so it did not count: built again, entry replaced\n" +
		"! the evidence note on 0123456789ab in refs/notes/ringflow/evidence is not ringflow's evidence (cut short: unexpected end of JSON input): replaced by this build's; the old note stays in the history of refs/notes/ringflow/evidence\n"
	if errOut.String() != want {
		t.Errorf("stderr =\n%s\nwant\n%s", errOut, want)
	}
	ios, _, _, errOut = iostreams.Test()
	printReplaced(ios, &build.Report{Commit: "c1", Hosts: rep.Hosts[1:]})
	if errOut.Len() != 0 {
		t.Errorf("nothing replaced, yet stderr = %q", errOut)
	}
}

// On a terminal the table fits its width: an output path keeps its name; an error its end. Through a pipe nothing
// is cut.
func TestPrintReportFits(t *testing.T) {
	out := "/nix/store/bh2sjg3mfihax2li3x9vq7jw8zh1bhgg-nixos-system-desk-1"
	rep := &build.Report{Commit: "c1", Hosts: []build.HostOutcome{
		{Host: "desk-1", Status: "green", Phase: "build", Out: out, EvalSeconds: 0.55, BuildSeconds: 5.06},
		{Host: "field-board-3", Status: "red", Phase: "build", Error: "error: builder for '/nix/store/8x6k0pq3r1jcd6w2zm3h0x3kqv6d4p2a-nixos-system-field-board-3.drv' failed with exit code 1"},
	}}
	for _, cols := range []int{80, 160} {
		ios, _, stdout, _ := iostreams.Test()
		ios.SetStdoutTTY(true)
		ios.SetTerminalWidth(cols)
		if err := printReport(ios, rep); err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
			if w := utf8.RuneCountInString(l); w >= cols {
				t.Errorf("%d columns: a line of %d: %q", cols, w, l)
			}
		}
		if cols == 80 && !regexp.MustCompile(`/nix/\S*…-nixos-system-desk-1\n`).MatchString(stdout.String()) {
			t.Errorf("80 columns: the output path is not cut before its name:\n%s", stdout)
		}
		if cols == 160 && !strings.Contains(stdout.String(), out+"\n") {
			t.Errorf("160 columns: the output path was cut:\n%s", stdout)
		}
	}
	ios, _, stdout, _ := iostreams.Test()
	ios.SetTerminalWidth(80)
	if err := printReport(ios, rep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), out+"\n") || !strings.Contains(stdout.String(), "exit code 1\n") {
		t.Errorf("pipe: cut\n%s", stdout)
	}
}
