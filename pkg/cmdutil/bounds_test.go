package cmdutil

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/ringflow/ringflow/pkg/config"
)

func TestBuildBounds(t *testing.T) {
	tests := []struct {
		argv               string
		timeout, maxSilent time.Duration // over a config of 2h and 5m
		wantErr            string
	}{
		{argv: "", timeout: 2 * time.Hour, maxSilent: 5 * time.Minute},
		{argv: "--timeout 90m", timeout: 90 * time.Minute, maxSilent: 5 * time.Minute},
		{argv: "--timeout none --max-silent=0", timeout: 0, maxSilent: 0},
		{argv: "--max-silent 1d", timeout: 2 * time.Hour, maxSilent: 24 * time.Hour},
		{argv: "--timeout 90", wantErr: `--timeout: write a duration with a unit, e.g. 2h (or none: no bound), got "90"`},
		{argv: "--max-silent soon", wantErr: `--max-silent: want a duration such as 90m or 2h, or none (no bound), got "soon"`},
	}
	for _, tt := range tests {
		var b BuildBounds
		var parseErr error
		cmd := &cobra.Command{Use: "x", RunE: func(cmd *cobra.Command, _ []string) error {
			parseErr = b.Parse(cmd)
			return nil
		}}
		AddBuildBoundFlags(cmd, &b)
		cmd.SetArgs(strings.Fields(tt.argv))
		if err := cmd.Execute(); err != nil {
			t.Fatalf("%q: %v", tt.argv, err)
		}
		if tt.wantErr != "" {
			var ue *UsageError
			if !errors.As(parseErr, &ue) || parseErr.Error() != tt.wantErr {
				t.Errorf("%q: err = %v, want the usage error %q", tt.argv, parseErr, tt.wantErr)
			}
			continue
		}
		if parseErr != nil {
			t.Fatalf("%q: %v", tt.argv, parseErr)
		}
		c := config.Build{Timeout: 2 * time.Hour, MaxSilent: 5 * time.Minute}
		b.Apply(&c)
		if c.Timeout != tt.timeout || c.MaxSilent != tt.maxSilent {
			t.Errorf("%q: timeout %v, max-silent %v; want %v, %v", tt.argv, c.Timeout, c.MaxSilent, tt.timeout, tt.maxSilent)
		}
	}
}
