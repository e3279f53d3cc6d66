package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ringflow/ringflow/pkg/build"
	"github.com/ringflow/ringflow/pkg/check"
	"github.com/ringflow/ringflow/pkg/cmdutil"
	"github.com/ringflow/ringflow/pkg/config"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/iostreams"
	"github.com/ringflow/ringflow/pkg/membership"
	"github.com/ringflow/ringflow/pkg/ring"
	"github.com/ringflow/ringflow/pkg/update"
)

func TestExitCode(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("outer: %w", err) }
	tests := []struct {
		err  error
		want int
	}{
		{nil, ExitOK},
		{errors.New("disk full"), ExitFailure},
		{wrap(context.Canceled), ExitInterrupted},
		{wrap(cmdutil.UsageErrorf("bad flag")), ExitUsage},
		{wrap(&config.Error{Problems: []config.Problem{{Key: "x", Message: "y"}}}), ExitUsage},
		{wrap(&membership.Error{Unassigned: []string{"h"}}), ExitUsage},
		{wrap(&check.CheckError{Problems: []string{"p"}}), ExitUsage},
		{&fleet.UnknownRingError{Ring: "x"}, ExitUsage},
		{&fleet.NoRingsError{}, ExitUsage},
		{cmdutil.Reported(wrap(&ring.GateRefusedError{Ring: "canary"})), ExitGateRefused},
		{wrap(&build.RedError{Commit: "c"}), ExitBuildRed},
		{&build.UnknownHostPatternError{Pattern: "x"}, ExitUsage},
		{wrap(&update.UnknownInputError{Input: "x"}), ExitUsage},
		// A dev that kept moving is a failure to retry later, not a usage error.
		{wrap(&update.DevMovedError{Attempts: 3, Err: errors.New("stale")}), ExitFailure},
		// Where ringflow runs is set up wrong: like a bad config.
		{wrap(&gitrepo.NotRepositoryError{Path: "/tmp/x"}), ExitUsage},
		{wrap(&gitrepo.NoRemoteError{Remote: "origin", Repo: "/tmp/x"}), ExitUsage},
	}
	for _, tt := range tests {
		if got := ExitCode(tt.err); got != tt.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	code := Run(context.Background(), ios, []string{"HOME=" + t.TempDir()}, args)
	return code, out.String(), errOut.String()
}

func TestRunUsage(t *testing.T) {
	tests := []struct {
		args       []string
		code       int
		stderr     string
		showsUsage bool
	}{
		{[]string{"frobnicate"}, ExitUsage, `unknown command "frobnicate"`, true},
		{[]string{"status", "--bogus"}, ExitUsage, "unknown flag: --bogus", true},
		{[]string{"status", "-o", "yaml"}, ExitUsage, `invalid value "yaml"`, true},
		{[]string{"promote"}, ExitUsage, "promote needs a ring", true},
		{[]string{"promote", "a", "b", "c"}, ExitUsage, "too many arguments", true},
		{[]string{"version", "-o", "json"}, ExitUsage, "has no JSON output", true},
		{[]string{"status", "--config", "/nonexistent/ringflow.yaml"}, ExitUsage, "/nonexistent/ringflow.yaml", false},
	}
	for _, tt := range tests {
		code, out, errOut := run(t, tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.stderr) {
			t.Errorf("%q: exit %d, stderr %q; want exit %d and %q", tt.args, code, errOut, tt.code, tt.stderr)
		}
		if got := strings.Contains(errOut, "Usage:"); got != tt.showsUsage {
			t.Errorf("%q: usage shown = %v, want %v", tt.args, got, tt.showsUsage)
		}
		if out != "" {
			t.Errorf("%q: stdout %q, want nothing", tt.args, out)
		}
	}
}

func TestRunVersionAndHelp(t *testing.T) {
	code, out, _ := run(t, "version")
	if code != 0 || !strings.HasPrefix(out, "ringflow ") {
		t.Errorf("version: exit %d, stdout %q", code, out)
	}
	code, out, _ = run(t, "help", "exit-codes")
	if code != 0 || !strings.Contains(out, "3    a promotion gate refused") {
		t.Errorf("help exit-codes: exit %d, stdout %q", code, out)
	}
}

func TestMessage(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{context.Canceled, "interrupted"},
		{fmt.Errorf("fetch from remote origin (/srv/fleet.git): %w", context.Canceled), "fetch from remote origin (/srv/fleet.git): interrupted"},
		{errors.New("disk full"), "disk full"},
		// Only Go's wording at the end is replaced, not the user's words.
		{fmt.Errorf("hook said context canceled twice: %w", errors.Join(context.Canceled, errors.New("and more"))), "hook said context canceled twice: context canceled\nand more"},
	}
	for _, tt := range tests {
		if got := message(tt.err); got != tt.want {
			t.Errorf("message(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

// Outside a repository, or without its remote, the error names the
// directory or the remote and the command that fixes it.
func TestRunNextStep(t *testing.T) {
	dir := t.TempDir()
	ios, _, _, errOut := iostreams.Test()
	code := Run(context.Background(), ios, []string{"HOME=" + t.TempDir()}, []string{"status", "--repo", dir})
	want := "ringflow: " + dir + " is not a git repository: cd to a clone of your fleet's flake, or pass --repo DIR\n"
	if code != ExitUsage || !strings.HasPrefix(errOut.String(), want) {
		t.Errorf("status outside a repository: exit %d, stderr %q; want %d and %q", code, errOut.String(), ExitUsage, want)
	}
	err := cmdutil.WithNextStep(fmt.Errorf("fetch: %w", &gitrepo.NoRemoteError{Remote: "origin", Repo: dir}))
	want = `fetch: remote "origin" is not configured in ` + dir + ": add it with `git remote add origin URL`, or set remote: \"\" in ringflow.yaml (or pass --remote '') to work on local branches only"
	if err.Error() != want || ExitCode(err) != ExitUsage {
		t.Errorf("no remote: %q (exit %d), want %q (exit %d)", err, ExitCode(err), want, ExitUsage)
	}
}
