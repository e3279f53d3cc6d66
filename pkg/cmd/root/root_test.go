package root

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/ringflow/ringflow/pkg/cmd/factory"
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
