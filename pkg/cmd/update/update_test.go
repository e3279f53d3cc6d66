package update

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/ringflow/ringflow/pkg/cmdutil"
	"github.com/ringflow/ringflow/pkg/config"
	"github.com/ringflow/ringflow/pkg/iostreams"
)

func TestNewCmdUpdate(t *testing.T) {
	tests := []struct {
		argv       string
		configured []string
		inputs     []string
		dryRun     bool
		wantErr    string
	}{
		{argv: "", inputs: nil},
		{argv: "--input nixpkgs --input home-manager/nixpkgs", inputs: []string{"nixpkgs", "home-manager/nixpkgs"}},
		{argv: "--dry-run", dryRun: true},
		// update.inputs from the config applies when no --input is given …
		{argv: "", configured: []string{"nixpkgs"}, inputs: []string{"nixpkgs"}},
		// … and --input overrides it.
		{argv: "--input srvos", configured: []string{"nixpkgs"}, inputs: []string{"srvos"}},
		{argv: "extra", wantErr: "takes no arguments"},
	}
	for _, tt := range tests {
		ios, _, _, _ := iostreams.Test()
		cfg := config.Default()
		cfg.Update.Inputs = tt.configured
		f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.Globals{Output: "text"},
			Config: func() (*config.Config, error) { return cfg, nil }}
		var got *UpdateOptions
		cmd := NewCmdUpdate(f, func(_ context.Context, o *UpdateOptions) error { got = o; return nil })
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
		if !slices.Equal(got.Inputs, tt.inputs) || got.DryRun != tt.dryRun {
			t.Errorf("%q: inputs=%q dry-run=%v, want %q %v", tt.argv, got.Inputs, got.DryRun, tt.inputs, tt.dryRun)
		}
	}
}
