// Package hold implements `ringflow hold RING --reason TEXT` and `ringflow
// release RING --reason TEXT`: stop a ring from taking any promotion, and
// let it go again, recorded in the ledger.
package hold

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ringflow/ringflow/pkg/cmdutil"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/hold"
	"github.com/ringflow/ringflow/pkg/iostreams"
)

// HoldOptions are the inputs of `ringflow hold` and `ringflow release`.
type HoldOptions struct {
	IO    *iostreams.IOStreams
	Fleet func() (*fleet.Fleet, error)
	JSON  bool

	Ring    string
	Release bool
	Reason  string
	DryRun  bool
}

// NewCmdHold returns `ringflow hold`.
func NewCmdHold(f *cmdutil.Factory, runF func(context.Context, *HoldOptions) error) *cobra.Command {
	return newCmd(f, runF, false, &cobra.Command{
		Use:   "hold RING --reason TEXT [--dry-run]",
		Short: "Stop a ring from taking any promotion until it is released",
		Long: `Record in the ledger that RING takes no promotion (an incident on canary, a
trade show): every promote, every promote --group and every cycle move into it
is refused by gate hold, naming who held it, when and why, until a person runs
ringflow release. No branch moves. Rollback still works: it is the emergency
brake. Shown in status, history and metrics (ringflow_ring_held).`,
		Example: `  $ ringflow hold canary --reason "incident 42: nginx fails on the new kernel"`,
	})
}

// NewCmdRelease returns `ringflow release`.
func NewCmdRelease(f *cmdutil.Factory, runF func(context.Context, *HoldOptions) error) *cobra.Command {
	return newCmd(f, runF, true, &cobra.Command{
		Use:   "release RING --reason TEXT [--dry-run]",
		Short: "Let a held ring take promotions again",
		Long: `Record in the ledger that RING, held by ringflow hold, may move again. No
branch moves; the next promote or cycle decides as usual.`,
		Example: `  $ ringflow release canary --reason "incident 42 fixed in 5c1d2e3"`,
	})
}

func newCmd(f *cmdutil.Factory, runF func(context.Context, *HoldOptions) error, release bool, cmd *cobra.Command) *cobra.Command {
	opts := &HoldOptions{IO: f.IOStreams, Fleet: f.Fleet, Release: release}
	verb := cmd.Name()
	cmd.Args = cmdutil.ExactArgs(1, fmt.Sprintf("%s needs a ring: ringflow %s RING --reason TEXT", verb, verb))
	cmd.ValidArgsFunction = cmdutil.Completer(f, cmdutil.CompleteRings, 1)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := cmdutil.NonEmpty("RING", args...); err != nil {
			return err
		}
		opts.Ring = args[0]
		opts.JSON = f.Globals.JSON()
		if opts.Reason == "" {
			return cmdutil.UsageErrorf("--reason TEXT is required: the ledger keeps why %s was %s", opts.Ring, map[bool]string{false: "held", true: "released"}[release])
		}
		if runF != nil {
			return runF(cmd.Context(), opts)
		}
		return holdRun(cmd.Context(), opts)
	}
	cmd.Flags().StringVar(&opts.Reason, "reason", "", "why, for the ledger")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print what would be recorded, and record nothing")
	return cmdutil.JSONCapable(cmd)
}

// HoldJSON is `hold -o json` and `release -o json`; field names are stable.
type HoldJSON struct {
	Ring    string `json:"ring"`
	Held    bool   `json:"held"`    // after the command (or after it, for a dry run)
	Changed bool   `json:"changed"` // false: it already was (or a dry run)
	DryRun  bool   `json:"dry_run"`
	// By is the hold the ring was under before, when there was one.
	By *cmdutil.HoldJSON `json:"held_by"`
}

func holdRun(ctx context.Context, opts *HoldOptions) error {
	fl, err := opts.Fleet()
	if err != nil {
		return err
	}
	if err := fl.RequireRings(); err != nil {
		return err
	}
	o := hold.Options{Ring: opts.Ring, Release: opts.Release, Reason: opts.Reason, DryRun: opts.DryRun}
	res, err := hold.New(fl).Run(ctx, o)
	if err != nil {
		return err
	}
	nothing := res.NothingToDo(o)
	if opts.JSON {
		return cmdutil.WriteJSON(opts.IO.Out, HoldJSON{Ring: res.Ring, Held: !opts.Release,
			Changed: res.Entry != nil, DryRun: opts.DryRun, By: cmdutil.Hold(res.Was)})
	}
	cs := opts.IO.ColorScheme()
	switch {
	case nothing && opts.Release:
		fmt.Fprintf(opts.IO.ErrOut, "nothing to do: ring %s is not held\n", res.Ring)
	case nothing:
		fmt.Fprintf(opts.IO.ErrOut, "nothing to do: ring %s is already %s\n", res.Ring, res.Was.Describe())
	case opts.DryRun && opts.Release:
		fmt.Fprintf(opts.IO.Out, "would release %s (held by %s: %s)\n", res.Ring, res.Was.Actor, res.Was.Reason)
	case opts.DryRun:
		fmt.Fprintf(opts.IO.Out, "would hold %s: %s\n", res.Ring, opts.Reason)
	case opts.Release:
		fmt.Fprintf(opts.IO.ErrOut, "%s released %s (%s): it may take promotions again\n", cs.Green("✓"), res.Ring, res.Was.Describe())
	default:
		fmt.Fprintf(opts.IO.ErrOut, "%s held %s: no promotion moves it until `ringflow release %s --reason TEXT`\n", cs.Green("✓"), res.Ring, res.Ring)
	}
	return nil
}
