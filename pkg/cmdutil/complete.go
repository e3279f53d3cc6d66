package cmdutil

import (
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ringflow/ringflow/pkg/membership"
)

// Completion kinds, read from the config only: completing never runs git
// or nix, so it stays instant.
const (
	CompleteRings = iota
	CompleteRevs  // rings, dev and group branches: what diff and --rev take
	CompleteHosts // host names and globs written in the config
	CompleteGroups
)

// Completer returns a cobra completion function for the first kind up to
// n positional arguments (0 = any number).
func Completer(f *Factory, kind, n int) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if n > 0 && len(args) >= n {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return names(f, kind, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

func names(f *Factory, kind int, prefix string) []string {
	cfg, err := f.Config()
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	add := func(s string) {
		if strings.HasPrefix(s, prefix) {
			seen[s] = true
		}
	}
	switch kind {
	case CompleteRings:
		for _, r := range cfg.Rings {
			add(r.Name)
		}
	case CompleteRevs:
		add(cfg.Dev)
		for _, r := range cfg.Rings {
			add(r.Name)
		}
		for _, g := range cfg.Groups() {
			add(g.Branch)
		}
	case CompleteGroups:
		for _, g := range cfg.Groups() {
			add(g.Name)
		}
	case CompleteHosts:
		for _, g := range cfg.Groups() {
			for _, h := range g.Hosts {
				if !membership.IsGlob(h) { // a literal host name, not a pattern
					add(h)
				}
			}
		}
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}
