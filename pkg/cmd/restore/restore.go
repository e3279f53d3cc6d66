// Package restore implements `ringflow restore RING`: put a ring's
// branches, moved outside ringflow, back where the ledger has them.
package restore

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ringflow/ringflow/pkg/cmdutil"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/iostreams"
	"github.com/ringflow/ringflow/pkg/restore"
	"github.com/ringflow/ringflow/pkg/ring"
)

// RestoreOptions are the inputs of `ringflow restore`.
type RestoreOptions struct {
	IO    *iostreams.IOStreams
	Fleet func() (*fleet.Fleet, error)
	JSON  bool

	Ring   string
	Reason string
	DryRun bool
}

// NewCmdRestore returns `ringflow restore`.
func NewCmdRestore(f *cmdutil.Factory, runF func(context.Context, *RestoreOptions) error) *cobra.Command {
	opts := &RestoreOptions{IO: f.IOStreams, Fleet: f.Fleet}
	cmd := &cobra.Command{
		Use:   "restore RING [--reason TEXT] [--dry-run]",
		Short: "Put branches moved outside ringflow back where the ledger has them",
		Long: `Put RING's group branches that moved outside ringflow back where the ledger
last recorded them, forward: a rewound branch is fast-forwarded back, a
deleted one is created again, and one moved on or rewritten gets a commit on
top whose tree is the recorded commit's (marked "Ringflow-Carries", as a
rollback makes), so pull agents that refuse rewinds keep working. The moves
and a ledger entry land together, by compare-and-swap.`,
		Example:           `  $ ringflow restore stable`,
		Args:              cmdutil.ExactArgs(1, "restore needs a ring: ringflow restore RING"),
		ValidArgsFunction: cmdutil.Completer(f, cmdutil.CompleteRings, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cmdutil.NonEmpty("RING", args...); err != nil {
				return err
			}
			opts.Ring = args[0]
			opts.JSON = f.Globals.JSON()
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return restoreRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Reason, "reason", "", "why, for the ledger")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print what would move, and move nothing")
	return cmdutil.JSONCapable(cmd)
}

// RestoreJSON is `restore -o json`.
type RestoreJSON struct {
	Ring     string       `json:"ring"`
	DryRun   bool         `json:"dry_run"`
	Restored []ring.Drift `json:"restored"`
	Moved    []ring.Move  `json:"moved"`
}

func restoreRun(ctx context.Context, opts *RestoreOptions) error {
	fl, err := opts.Fleet()
	if err != nil {
		return err
	}
	if err := fl.RequireRings(); err != nil {
		return err
	}
	res, err := restore.New(fl).Run(ctx, restore.Options{Ring: opts.Ring, Reason: opts.Reason, DryRun: opts.DryRun})
	if err != nil {
		return err
	}
	if opts.JSON {
		out := RestoreJSON{Ring: res.Ring, DryRun: opts.DryRun, Restored: res.Restored, Moved: res.Moves}
		if out.Restored == nil {
			out.Restored = []ring.Drift{}
		}
		if out.Moved == nil {
			out.Moved = []ring.Move{}
		}
		return cmdutil.WriteJSON(opts.IO.Out, out)
	}
	if len(res.Moves) == 0 {
		fmt.Fprintf(opts.IO.ErrOut, "nothing to restore: every branch of ring %s is where the ledger has it\n", res.Ring)
		return nil
	}
	verb := "restored"
	if opts.DryRun {
		verb = "would restore"
	}
	for i, m := range res.Moves {
		d := res.Restored[i]
		how := "fast-forwarded to " + ring.Short(d.Recorded)
		switch {
		case d.Kind == ring.DriftDeleted:
			how = "created again at " + ring.Short(d.Recorded)
		case m.Carries != "" && (m.To == "" || m.To != d.Recorded):
			how = fmt.Sprintf("new commit %s on top, with the tree of %s", cmdutil.ShortOr(m.To, "(to be made)"), ring.Short(m.Carries))
		}
		fmt.Fprintf(opts.IO.Out, "%s %s: %s %s (%s) -> %s\n", verb, m.Group, m.Branch, cmdutil.ShortOr(m.From, "(deleted)"), d.Kind, how)
	}
	if !opts.DryRun {
		fmt.Fprintf(opts.IO.ErrOut, "%s ring %s is where the ledger has it again\n", opts.IO.ColorScheme().Green("✓"), res.Ring)
	}
	return nil
}
