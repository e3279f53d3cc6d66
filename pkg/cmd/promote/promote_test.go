package promote

import (
	"context"
	"strings"
	"testing"

	"github.com/ringflow/ringflow/pkg/cmdutil"
	"github.com/ringflow/ringflow/pkg/iostreams"
	"github.com/ringflow/ringflow/pkg/ring"
)

func TestNewCmdPromote(t *testing.T) {
	tests := []struct {
		argv    string
		want    PromoteOptions
		wantErr string
	}{
		{argv: "canary", want: PromoteOptions{Ring: "canary"}},
		{argv: "stable 3f2a9c1", want: PromoteOptions{Ring: "stable", Rev: "3f2a9c1"}},
		{argv: "early --dry-run", want: PromoteOptions{Ring: "early", DryRun: true}},
		{argv: "", wantErr: "promote needs a ring"},
		{argv: "a b c", wantErr: "too many arguments"},
	}
	for _, tt := range tests {
		ios, _, _, _ := iostreams.Test()
		f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.Globals{Output: "text"}}
		var got *PromoteOptions
		cmd := NewCmdPromote(f, func(_ context.Context, o *PromoteOptions) error { got = o; return nil })
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
		if got.Ring != tt.want.Ring || got.Rev != tt.want.Rev || got.DryRun != tt.want.DryRun {
			t.Errorf("%q: options = %+v, want %+v", tt.argv, *got, tt.want)
		}
	}
}

// --help lists every gate the promotion really runs, each with what it
// checks, on lines that fit 80 columns.
func TestGatesHelp(t *testing.T) {
	help := gatesHelp()
	for _, g := range ring.DefaultGates() {
		if gateHelp[g.Name()] == "" {
			t.Errorf("gate %s has no line in gateHelp", g.Name())
		}
		if !strings.Contains(help, "  "+g.Name()+" ") {
			t.Errorf("gatesHelp lacks gate %s:\n%s", g.Name(), help)
		}
	}
	for _, line := range strings.Split(help, "\n") {
		if len(line) > 80 {
			t.Errorf("line wider than 80 columns: %q", line)
		}
	}
}
