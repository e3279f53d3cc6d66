// Package adopt implements `ringflow adopt RING --reason TEXT`: record a
// ring's branches, moved outside ringflow, where they stand.
package adopt

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ringflow/ringflow/pkg/adopt"
	"github.com/ringflow/ringflow/pkg/cmdutil"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/iostreams"
	"github.com/ringflow/ringflow/pkg/ring"
)

// AdoptOptions are the inputs of `ringflow adopt`.
type AdoptOptions struct {
	IO    *iostreams.IOStreams
	Fleet func() (*fleet.Fleet, error)
	JSON  bool

	Ring   string
	Reason string
	DryRun bool
}

// NewCmdAdopt returns `ringflow adopt`.
func NewCmdAdopt(f *cmdutil.Factory, runF func(context.Context, *AdoptOptions) error) *cobra.Command {
	opts := &AdoptOptions{IO: f.IOStreams, Fleet: f.Fleet}
	cmd := &cobra.Command{
		Use:   "adopt RING --reason TEXT [--dry-run]",
		Short: "Record a ring's branches, moved outside ringflow, where they stand",
		Long: `Record in the ledger that RING's group branches, moved outside ringflow
(rewound, fast-forwarded, committed on or rewritten), stay where they stand.
No branch moves. Until a person adopts or restores a drifted ring, promotions
into and out of it are refused (gate drift) and check names it.

A deleted branch cannot be adopted (restore it), nor a branch whose head
is not on dev: a ring only ever holds commits that lie on dev.`,
		Example:           `  $ ringflow adopt canary --reason "hotfix pushed by hand during the outage"`,
		Args:              cmdutil.ExactArgs(1, "adopt needs a ring: ringflow adopt RING --reason TEXT"),
		ValidArgsFunction: cmdutil.Completer(f, cmdutil.CompleteRings, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cmdutil.NonEmpty("RING", args...); err != nil {
				return err
			}
			opts.Ring = args[0]
			opts.JSON = f.Globals.JSON()
			if opts.Reason == "" {
				return cmdutil.UsageErrorf("--reason TEXT is required: the ledger keeps why %s stays where it was moved", opts.Ring)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return adoptRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Reason, "reason", "", "why, for the ledger")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print what would be recorded, and record nothing")
	return cmdutil.JSONCapable(cmd)
}

// AdoptJSON is `adopt -o json`.
type AdoptJSON struct {
	Ring    string       `json:"ring"`
	DryRun  bool         `json:"dry_run"`
	Adopted []ring.Drift `json:"adopted"`
}

func adoptRun(ctx context.Context, opts *AdoptOptions) error {
	fl, err := opts.Fleet()
	if err != nil {
		return err
	}
	if err := fl.RequireRings(); err != nil {
		return err
	}
	res, err := adopt.New(fl).Run(ctx, adopt.Options{Ring: opts.Ring, Reason: opts.Reason, DryRun: opts.DryRun})
	if err != nil {
		return err
	}
	if opts.JSON {
		adopted := res.Adopted
		if adopted == nil {
			adopted = []ring.Drift{}
		}
		return cmdutil.WriteJSON(opts.IO.Out, AdoptJSON{Ring: res.Ring, DryRun: opts.DryRun, Adopted: adopted})
	}
	if len(res.Adopted) == 0 {
		fmt.Fprintf(opts.IO.ErrOut, "nothing to adopt: every branch of ring %s is where the ledger has it\n", res.Ring)
		return nil
	}
	verb := "adopted"
	if opts.DryRun {
		verb = "would adopt"
	}
	for _, d := range res.Adopted {
		fmt.Fprintf(opts.IO.Out, "%s %s: %s at %s (%s from %s)\n", verb, d.Group, d.Branch, ring.Short(d.Head), d.Kind, ring.Short(d.Recorded))
	}
	if !opts.DryRun {
		fmt.Fprintf(opts.IO.ErrOut, "%s the ledger records ring %s where it stands\n", opts.IO.ColorScheme().Green("✓"), res.Ring)
	}
	return nil
}
