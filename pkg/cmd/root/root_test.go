package root

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ringflow/ringflow/pkg/cmd/factory"
	"github.com/ringflow/ringflow/pkg/cmdutil"
	"github.com/ringflow/ringflow/pkg/iostreams"
)

// Every command a person can run says, by example, how.
func TestEveryCommandHasAnExample(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	root := NewCmdRoot(factory.New(ios, nil, "test"))
	var walk func(*cobra.Command)
	seen := 0
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if !c.Runnable() || c.Name() == "help" || c.Hidden {
			return
		}
		seen++
		if !strings.Contains(c.Example, "ringflow") {
			t.Errorf("%s has no example in --help", c.CommandPath())
		}
		if c.Short == "" || strings.HasSuffix(c.Short, ".") {
			t.Errorf("%s: Short %q should be a capitalised phrase without a final period", c.CommandPath(), c.Short)
		}
	}
	walk(root)
	if seen < 15 {
		t.Errorf("walked %d commands, expected every ringflow command", seen)
	}
}

// check and dry runs do not heal what an earlier run left; every other
// command does, on its first fetch.
func TestHealing(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	root := NewCmdRoot(factory.New(ios, nil, "test"))
	for _, tt := range []struct {
		argv  string
		heals bool
	}{
		{"status", true},
		{"build", true},
		{"history", true},
		{"cycle", true},
		{"promote canary", true},
		{"promote canary --dry-run", false},
		{"update --dry-run", false},
		{"init --dry-run", false},
		{"rollback canary --dry-run", false},
		{"check", false},
		{"check --repair", false},
	} {
		args := strings.Fields(tt.argv)
		cmd, rest, err := root.Find(args)
		if err != nil {
			t.Fatalf("%s: %v", tt.argv, err)
		}
		cmd.Flags().VisitAll(func(f *pflag.Flag) { _ = f.Value.Set(f.DefValue); f.Changed = false })
		if err := cmd.ParseFlags(rest); err != nil {
			t.Fatalf("%s: %v", tt.argv, err)
		}
		if got := cmdutil.HealsFor(cmd); got != tt.heals {
			t.Errorf("ringflow %s heals: %v, want %v", tt.argv, got, tt.heals)
		}
	}
}
