// Package diff implements `ringflow diff A B`: what changes between two
// rings, branches or commits — inputs, commits, and the hosts whose
// toplevel changes.
package diff

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/ringflow/ringflow/pkg/cmdutil"
	"github.com/ringflow/ringflow/pkg/diff"
	"github.com/ringflow/ringflow/pkg/flakelock"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/iostreams"
	"github.com/ringflow/ringflow/pkg/ring"
	"github.com/ringflow/ringflow/pkg/tableprinter"
)

// DiffOptions are the inputs of `ringflow diff`.
type DiffOptions struct {
	IO    *iostreams.IOStreams
	Fleet func() (*fleet.Fleet, error)
	JSON  bool

	From, To string
}

// NewCmdDiff returns `ringflow diff`.
func NewCmdDiff(f *cmdutil.Factory, runF func(context.Context, *DiffOptions) error) *cobra.Command {
	opts := &DiffOptions{IO: f.IOStreams, Fleet: f.Fleet}
	cmd := &cobra.Command{
		Use:   "diff A B",
		Short: "Show what changes between two rings, branches or commits",
		Long: `Compare A and B — ring names (their positions), branches (dev or a group
branch, read from the remote) or commits: the inputs whose locked revision
differs (read from the two lock files; nothing is evaluated), the commits in
A..B, and, where build evidence exists at both, the hosts whose toplevel
derivation changes.`,
		Example: `  $ ringflow diff stable canary
  $ ringflow diff early dev -o json | jq '.inputs[] | .name'`,
		Args:              cmdutil.ExactArgs(2, "diff needs two rings, branches or commits: ringflow diff A B"),
		ValidArgsFunction: cmdutil.Completer(f, cmdutil.CompleteRevs, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cmdutil.NonEmpty("A or B", args...); err != nil {
				return err
			}
			opts.From, opts.To = args[0], args[1]
			opts.JSON = f.Globals.JSON()
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return diffRun(cmd.Context(), opts)
		},
	}
	return cmdutil.JSONCapable(cmd)
}

// DiffJSON is `diff -o json`; field names are stable.
type DiffJSON struct {
	From          string                `json:"from"`
	To            string                `json:"to"`
	Inputs        []flakelock.InputJSON `json:"inputs"`
	Commits       []CommitJSON          `json:"commits"`
	HostsChanged  []string              `json:"hosts_changed"`
	HostsCompared int                   `json:"hosts_compared"`
	Behind        int                   `json:"behind"`
}

// CommitJSON is one commit between A and B.
type CommitJSON struct {
	Commit  string `json:"commit"`
	Subject string `json:"subject"`
}

func diffRun(ctx context.Context, opts *DiffOptions) error {
	fl, err := opts.Fleet()
	if err != nil {
		return err
	}
	rep, err := diff.New(fl).Diff(ctx, opts.From, opts.To)
	if err != nil {
		return unknownName(fl, opts, err)
	}
	if opts.JSON {
		out := DiffJSON{From: rep.From, To: rep.To, Inputs: []flakelock.InputJSON{}, Commits: []CommitJSON{},
			HostsChanged: []string{}, HostsCompared: rep.HostsCompared, Behind: rep.Behind}
		for _, c := range rep.Inputs {
			out.Inputs = append(out.Inputs, c.JSON())
		}
		for _, c := range rep.Commits {
			out.Commits = append(out.Commits, CommitJSON{Commit: c.Hash, Subject: c.Subject})
		}
		out.HostsChanged = append(out.HostsChanged, rep.HostsChanged...)
		return cmdutil.WriteJSON(opts.IO.Out, out)
	}
	w := opts.IO.Out
	cs := opts.IO.ColorScheme()
	fmt.Fprintf(w, "%s %s (%s) → %s (%s)\n", cs.Bold("diff"), rep.FromName, ring.Short(rep.From), rep.ToName, ring.Short(rep.To))
	if rep.Behind > 0 {
		fmt.Fprintf(w, "note: %s has %d commit(s) that %s lacks\n", rep.FromName, rep.Behind, rep.ToName)
	}
	fmt.Fprintf(w, "\n%s\n", cs.Bold(fmt.Sprintf("inputs (%d changed)", len(rep.Inputs))))
	if len(rep.Inputs) > 0 {
		fmt.Fprint(w, flakelock.Body(rep.Inputs))
	}
	fmt.Fprintf(w, "\n%s\n", cs.Bold(fmt.Sprintf("commits (%d)", len(rep.Commits))))
	for _, c := range rep.Commits {
		fmt.Fprintf(w, "%s %s\n", ring.Short(c.Hash)[:7], c.Subject)
	}
	switch {
	case rep.HostsCompared == 0:
		fmt.Fprintf(w, "\n%s\nunknown: no host has build evidence at both commits\n", cs.Bold("hosts"))
	default:
		fmt.Fprintf(w, "\n%s\n", cs.Bold(fmt.Sprintf("hosts whose toplevel changes (%d of %d with evidence at both)", len(rep.HostsChanged), rep.HostsCompared)))
		for _, h := range rep.HostsChanged {
			fmt.Fprintln(w, tableprinter.Escape(h))
		}
	}
	return nil
}

// unknownName turns git's "unknown revision" for A or B into what a user
// can act on: the rings and branches there are, and the nearest one.
func unknownName(fl *fleet.Fleet, opts *DiffOptions, err error) error {
	var unknown *gitrepo.UnknownRevisionError
	if !errors.As(err, &unknown) || (unknown.Rev != opts.From && unknown.Rev != opts.To) {
		return err
	}
	rings := fl.Config.RingNames()
	var branches []string
	for _, b := range fl.Branches() {
		if !slices.Contains(rings, b) {
			branches = append(branches, b)
		}
	}
	kind := "branches"
	if len(branches) < len(fl.Branches()) {
		kind = "other branches"
	}
	return &cmdutil.UnknownNameError{What: "ring, branch or commit", Name: unknown.Rev,
		Known: []cmdutil.Names{{Kind: "rings", Names: rings}, {Kind: kind, Names: branches}}}
}
