// Package rollback implements `ringflow rollback RING --to REV --reason
// TEXT`: put a ring back on a commit it held before, by default without
// rewinding its branches.
package rollback

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ringflow/ringflow/pkg/cmdutil"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/iostreams"
	"github.com/ringflow/ringflow/pkg/ring"
	"github.com/ringflow/ringflow/pkg/rollback"
)

// RollbackOptions are the inputs of `ringflow rollback`.
type RollbackOptions struct {
	IO    *iostreams.IOStreams
	Fleet func() (*fleet.Fleet, error)
	JSON  bool

	Ring   string
	To     string
	Reason string
	Force  bool
	Reset  bool
	DryRun bool
}

// NewCmdRollback returns `ringflow rollback`.
func NewCmdRollback(f *cmdutil.Factory, runF func(context.Context, *RollbackOptions) error) *cobra.Command {
	opts := &RollbackOptions{IO: f.IOStreams, Fleet: f.Fleet}
	cmd := &cobra.Command{
		Use:   "rollback RING --to REV --reason TEXT [--reset] [--force]",
		Short: "Put a ring back on a commit it held before",
		Long: `Put RING's unpinned group branches back on REV, which must be a commit the ring
held before according to the ledger (--force allows any commit).

By default each branch gets a new commit on top whose tree is exactly REV's
tree, marked "Ringflow-Carries: REV": the branch only moves forward, so pull
agents that refuse a rewound branch keep working. The next promotion into
the ring lands its candidate the same way, as a commit on top whose tree is
the candidate's, and the order invariant, status and check reason about the
dev commit each branch carries. With --reset the branches are rewound to REV
instead (by compare-and-swap). Either way the movement and a ledger entry with
the reason land together. Freeze windows do not hold a rollback.`,
		Example: `  $ ringflow rollback canary --to 3f2a9c1 --reason "kernel panics on lab-2"
  $ ringflow rollback stable --to stable~1 --reset --reason "bad nixpkgs"`,
		Args:              cmdutil.ExactArgs(1, "rollback needs a ring: ringflow rollback RING --to REV --reason TEXT"),
		ValidArgsFunction: cmdutil.Completer(f, cmdutil.CompleteRings, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cmdutil.NonEmpty("RING", args...); err != nil {
				return err
			}
			opts.Ring = args[0]
			opts.JSON = f.Globals.JSON()
			if opts.To == "" {
				return cmdutil.UsageErrorf("--to REV is required: the commit to put %s back on", opts.Ring)
			}
			if opts.Reason == "" {
				return cmdutil.UsageErrorf("--reason TEXT is required: the ledger keeps why %s was rolled back", opts.Ring)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return rollbackRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.To, "to", "", "the commit to go back to (a commit, branch or ring)")
	_ = cmd.RegisterFlagCompletionFunc("to", cmdutil.Completer(f, cmdutil.CompleteRevs, 0))
	cmd.Flags().StringVar(&opts.Reason, "reason", "", "why, for the ledger")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "allow a commit the ring never held")
	cmd.Flags().BoolVar(&opts.Reset, "reset", false, "rewind the branches instead of committing on top")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print what would move, and move nothing")
	return cmdutil.JSONCapable(cmd)
}

// RollbackJSON is `rollback -o json`.
type RollbackJSON struct {
	Ring   string      `json:"ring"`
	To     string      `json:"to"`
	DryRun bool        `json:"dry_run"`
	Reset  bool        `json:"reset"`
	Moved  []ring.Move `json:"moved"`
}

func rollbackRun(ctx context.Context, opts *RollbackOptions) error {
	fl, err := opts.Fleet()
	if err != nil {
		return err
	}
	if err := fl.RequireRings(); err != nil {
		return err
	}
	res, err := rollback.New(fl).Run(ctx, rollback.Options{Ring: opts.Ring, To: opts.To, Reason: opts.Reason,
		Force: opts.Force, Reset: opts.Reset, DryRun: opts.DryRun})
	var notHeld *rollback.NotHeldError
	if errors.As(err, &notHeld) {
		return cmdutil.NewUsageError(err)
	}
	if err != nil {
		return err
	}
	if opts.JSON {
		moved := res.Moves
		if moved == nil {
			moved = []ring.Move{}
		}
		return cmdutil.WriteJSON(opts.IO.Out, RollbackJSON{Ring: res.Ring, To: res.To, DryRun: opts.DryRun, Reset: opts.Reset, Moved: moved})
	}
	if len(res.Moves) == 0 {
		fmt.Fprintf(opts.IO.ErrOut, "nothing to do: ring %s already carries %s\n", res.Ring, ring.Short(res.To))
		return nil
	}
	verb := "rolled back"
	if opts.DryRun {
		verb = "would roll back"
	}
	for _, m := range res.Moves {
		how := fmt.Sprintf("new commit %s on top, with the tree of %s", cmdutil.ShortOr(m.To, "(to be made)"), ring.Short(res.To))
		if opts.Reset {
			how = "rewound to " + ring.Short(res.To)
		}
		fmt.Fprintf(opts.IO.Out, "%s %s: %s %s -> %s\n", verb, m.Group, m.Branch, ring.Short(m.From), how)
	}
	if !opts.DryRun {
		fmt.Fprintf(opts.IO.ErrOut, "%s ring %s carries %s again\n", opts.IO.ColorScheme().Green("✓"), res.Ring, ring.Short(res.To))
	}
	return nil
}
