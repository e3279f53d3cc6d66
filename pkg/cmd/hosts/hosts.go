// Package hosts implements `ringflow hosts`: every host of the flake with
// its group, ring, branch, the rule that placed it and its deploy URI.
package hosts

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ringflow/ringflow/pkg/cmdutil"
	"github.com/ringflow/ringflow/pkg/deploy"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/iostreams"
	"github.com/ringflow/ringflow/pkg/membership"
	"github.com/ringflow/ringflow/pkg/ring"
	"github.com/ringflow/ringflow/pkg/tableprinter"
)

// HostsOptions are the inputs of `ringflow hosts`.
type HostsOptions struct {
	IO    *iostreams.IOStreams
	Fleet func() (*fleet.Fleet, error)
	JSON  bool

	Rev     string
	NixOS   string // --nixos HOST: print that host's deploy configuration
	Running bool   // --running: what each host runs (observe:)
}

// NewCmdHosts returns `ringflow hosts`.
func NewCmdHosts(f *cmdutil.Factory, runF func(context.Context, *HostsOptions) error) *cobra.Command {
	opts := &HostsOptions{IO: f.IOStreams, Fleet: f.Fleet}
	cmd := &cobra.Command{
		Use:   "hosts [--rev REV]",
		Short: "Show every host's group, ring, branch and deploy URI",
		Long: `Show, for every host of the flake's nixosConfigurations at dev's head (or at
--rev), the group and ring it belongs to, the branch it deploys from, the rule
that placed it (literal, glob, share, catch-all), the flake URI to deploy it,
and what pins its group now (the config, or who pinned it with "ringflow pin"
and why).

A share group takes its share of the hosts no name or glob takes, rounded
to whole hosts: they are ordered by a hash of their names and dealt out in
file order, so RULE reads e.g. "share 10%: 2 of 20" (the first 2 by hash).

With --running (and observe: in the config), what each host runs instead: the
commit (one whose evidence gives the host the system it runs), since when,
its group's position, and whether it runs that.`,
		Example: `  $ ringflow hosts
  $ ringflow hosts --rev canary
  $ ringflow hosts --running
  $ ringflow hosts --nixos lab-1 >> hosts/lab-1/deploy.nix
  $ ringflow hosts -o json | jq -r '.[] | select(.ring=="canary") | .host'`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.JSON = f.Globals.JSON()
			if cmd.Flags().Changed("rev") && opts.Rev == "" || cmd.Flags().Changed("nixos") && opts.NixOS == "" {
				return cmdutil.UsageErrorf("--rev and --nixos take a value; it is empty")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return hostsRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Rev, "rev", "", "read the hosts at this commit, branch or ring (default: dev's head)")
	_ = cmd.RegisterFlagCompletionFunc("rev", cmdutil.Completer(f, cmdutil.CompleteRevs, 0))
	cmd.Flags().BoolVar(&opts.Running, "running", false, "what each host runs, from observe: (its commit, since when, whether that is its group's position)")
	cmd.Flags().StringVar(&opts.NixOS, "nixos", "", "print the system.autoUpgrade and comin configuration that makes `HOST` follow its group")
	_ = cmd.RegisterFlagCompletionFunc("nixos", cmdutil.Completer(f, cmdutil.CompleteHosts, 0))
	return cmdutil.JSONCapable(cmd)
}

// HostJSON is one row of `hosts -o json`; field names are stable.
type HostJSON struct {
	Host   string `json:"host"`
	Group  string `json:"group"`
	Ring   string `json:"ring"`
	Branch string `json:"branch"`
	Rule   string `json:"rule"`
	// Share is, for rule share, the group's share and how many of the
	// hosts no name or glob took it has; absent for other rules.
	Share *ShareJSON `json:"share,omitempty"`
	URI   string     `json:"uri"`
	// Pin says what pins the host's group now, as in status; null when
	// nothing does.
	Pin *cmdutil.PinJSON `json:"pin"`
	pin *ring.Pin        // for the table (cmdutil.PinCell)
	// Running is what the host runs, with --running; absent without.
	Running *RunningJSON `json:"running,omitempty"`
}

// ShareJSON is how a share group was dealt its hosts: Hosts of the Of
// hosts no name or glob took, the first by hash order after the share
// groups before it.
type ShareJSON struct {
	Percent float64 `json:"percent"`
	Hosts   int     `json:"hosts"`
	Of      int     `json:"of"`
}

// RunningJSON is what a host runs, as observed (hosts --running).
type RunningJSON struct {
	Commit   string `json:"commit"`   // a commit whose evidence gives it what it runs; "" = unknown
	Toplevel string `json:"toplevel"` // the system it runs, when known
	Since    string `json:"since"`    // RFC 3339; "" = unknown
	// GroupCommit is its group's position; AtPosition says it runs that
	// (or a commit with the same toplevel for this host).
	GroupCommit string `json:"group_commit"`
	AtPosition  bool   `json:"at_position"`
	Error       string `json:"error"` // it could not be observed: why
}

func hostsRun(ctx context.Context, opts *HostsOptions) error {
	fl, err := opts.Fleet()
	if err != nil {
		return err
	}
	if err := fl.RequireRings(); err != nil {
		return err
	}
	if opts.NixOS != "" {
		s, err := deploy.New(fl).Snippet(ctx, opts.NixOS)
		if err != nil {
			return err
		}
		if opts.JSON {
			return cmdutil.WriteJSON(opts.IO.Out, s)
		}
		_, err = fmt.Fprint(opts.IO.Out, s.AutoUpgrade+"\n"+s.Comin)
		return err
	}
	var commit string
	if opts.Rev != "" {
		commit, err = fl.Resolve(ctx, opts.Rev)
	} else {
		if err = fl.Sync(ctx); err == nil {
			commit, err = fl.DevCommit()
		}
	}
	if err != nil {
		return err
	}
	ps, err := fl.Hosts(ctx, commit)
	if err != nil {
		return err
	}
	// Pins are the groups' now, whatever commit the hosts were read at.
	pins, err := fl.Pins(ctx)
	if err != nil {
		return err
	}
	rows := rowsOf(ps, pins, deploy.New(fl).URI)
	if !opts.Running {
		return render(opts, rows)
	}
	if err := addRunning(ctx, fl, ps, rows); err != nil {
		return err
	}
	return renderRunning(opts, rows)
}

// addRunning observes what every host runs and compares it with its
// group's position (fleet.Observe, which status and the metrics share).
func addRunning(ctx context.Context, fl *fleet.Fleet, ps []membership.Placement, rows []HostJSON) error {
	if fl.Observer() == nil {
		return cmdutil.UsageErrorf("hosts --running needs observe: in the config, to learn what the hosts run (README: Observing the fleet)")
	}
	st, err := fl.State(ctx)
	if err != nil {
		return err
	}
	o, err := fl.Observe(ctx, st, ps)
	if err != nil {
		return err
	}
	if o.Err != nil {
		return o.Err
	}
	for i, h := range o.Hosts {
		rj := &RunningJSON{Commit: h.Commit, Toplevel: h.Toplevel, GroupCommit: h.GroupCommit, AtPosition: h.AtGroup, Error: h.Err}
		if !h.Since.IsZero() {
			rj.Since = h.Since.UTC().Format(time.RFC3339)
		}
		rows[i].Running = rj
	}
	return nil
}

// renderRunning prints what each host runs: JSON, or a table.
func renderRunning(opts *HostsOptions, rows []HostJSON) error {
	if opts.JSON {
		return cmdutil.WriteJSON(opts.IO.Out, rows)
	}
	tty := opts.IO.IsStdoutTTY()
	tp := tableprinter.New(opts.IO.Out, tty, "HOST", "GROUP", "RING", "RUNS", "SINCE", "GROUP AT", "STATE")
	tp.FitWidth(opts.IO.TerminalWidth())
	tp.Shrink(6, 16, false)
	for _, r := range rows {
		run := r.Running
		runs, state := run.Commit, "behind its group"
		switch {
		case run.Error != "":
			runs, state = "?", "not observed: "+run.Error
		case run.Commit == "" && run.Toplevel != "":
			runs, state = "unknown", "runs "+run.Toplevel+", built at no commit ringflow knows"
		case run.AtPosition:
			state = "at its group's position"
		}
		if tty {
			runs = cmdutil.ShortCommit(runs)
		}
		group := run.GroupCommit
		if tty {
			group = cmdutil.ShortCommit(group)
		}
		tp.AddRow(r.Host, r.Group, r.Ring, runs, cmp.Or(run.Since, "-"), group, state)
	}
	return tp.Render()
}

// rowsOf is one row per placed host, with its deploy URI and what pins
// its group.
func rowsOf(ps []membership.Placement, pins map[string]*ring.Pin, uri func(branch, host string) string) []HostJSON {
	rows := make([]HostJSON, 0, len(ps))
	for _, p := range ps {
		row := HostJSON{Host: p.Host, Group: p.Group, Ring: p.Ring, Branch: p.Branch, Rule: string(p.Rule),
			URI: uri(p.Branch, p.Host), Pin: cmdutil.Pin(pins[p.Group]), pin: pins[p.Group]}
		if p.Rule == membership.RuleShare {
			row.Share = &ShareJSON{Percent: p.Share, Hosts: p.ShareCount, Of: p.ShareOf}
		}
		rows = append(rows, row)
	}
	return rows
}

// render prints the rows: JSON, or a table whose new columns come last,
// so that `cut -f` on the older ones keeps working.
func render(opts *HostsOptions, rows []HostJSON) error {
	if opts.JSON {
		return cmdutil.WriteJSON(opts.IO.Out, rows)
	}
	tty := opts.IO.IsStdoutTTY()
	tp := tableprinter.New(opts.IO.Out, tty, "HOST", "GROUP", "RING", "BRANCH", "RULE", "URI", "PINNED")
	// On a terminal the URI keeps its end (?ref=BRANCH#HOST, what differs
	// from host to host); its start is the same remote for every host and
	// whole through a pipe or -o json.
	tp.FitWidth(opts.IO.TerminalWidth())
	tp.Shrink(5, 16, true)
	tp.Shrink(6, 10, false)
	tp.Shrink(5, 10, true)
	tp.Shrink(4, 9, false) // a share's count is its point: the last to go
	for _, r := range rows {
		rule := r.Rule
		if r.Share != nil {
			// The count is the point of a share: 10% of 20 hosts is 2.
			rule = fmt.Sprintf("share %g%%: %d of %d", r.Share.Percent, r.Share.Hosts, r.Share.Of)
		}
		tp.AddRow(r.Host, r.Group, r.Ring, r.Branch, rule, r.URI, cmdutil.PinCell(r.pin, tty))
	}
	return tp.Render()
}
