// Package watch implements `ringflow watch`: between nightly cycles, stop
// a ring whose hosts turned unhealthy and record the rings that converged,
// every interval, until SIGINT or SIGTERM.
package watch

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ringflow/ringflow/pkg/cmdutil"
	"github.com/ringflow/ringflow/pkg/config"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/iostreams"
	"github.com/ringflow/ringflow/pkg/ring"
	"github.com/ringflow/ringflow/pkg/watch"
)

// WatchOptions are the inputs of `ringflow watch`.
type WatchOptions struct {
	IO        *iostreams.IOStreams
	Config    func() (*config.Config, error)
	OpenFleet func(*config.Config) (*fleet.Fleet, error)
	Now       func() time.Time
	JSON      bool

	Interval time.Duration
	Once     bool
}

// NewCmdWatch returns `ringflow watch`.
func NewCmdWatch(f *cmdutil.Factory, runF func(context.Context, *WatchOptions) error) *cobra.Command {
	opts := &WatchOptions{IO: f.IOStreams, Config: f.Config, OpenFleet: f.OpenFleet, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "watch [--interval DURATION] [--once]",
		Short: "Stop rings whose hosts turn unhealthy, between nightly cycles",
		Long: `Look at the fleet at once and then every --interval (default 5m), until SIGINT
or SIGTERM, which end it at once with exit 0. Needs observe: in the config.

Each look: a ring where more of the hosts that run its position are unhealthy
than its max-unhealthy is held (on-unhealthy: hold, the default) or rolled
back, forward, to where it stood before and held (on-unhealthy: rollback), in
one change with a ledger entry naming the hosts and their failed units. A ring
already held, or released by a person on its position, is left alone: releasing
is a person's decision (ringflow release). Then each ring whose hosts took its
last move is recorded converged, so its soak counts from their switch. A look
while a cycle runs does nothing (the cycle looks itself); a look that fails is
reported and the watch goes on (with --once: exit 1).

It prints what it did, one line each, and nothing for a look that did nothing;
with -o json one JSON object per look.`,
		Example: `  $ ringflow watch
  $ ringflow watch --interval 1m
  $ ringflow watch --once        # from a systemd timer`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.JSON = f.Globals.JSON()
			if opts.Interval <= 0 {
				return cmdutil.UsageErrorf("--interval must be more than 0, got %s", opts.Interval)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return watchRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().DurationVar(&opts.Interval, "interval", 5*time.Minute, "time between looks")
	cmd.Flags().BoolVar(&opts.Once, "once", false, "look once and exit (for a timer)")
	return cmdutil.JSONCapable(cmd)
}

// LookJSON is one look, with -o json; field names are stable.
type LookJSON struct {
	Time        string                `json:"time"`
	Busy        string                `json:"busy,omitempty"`
	HealthError string                `json:"health_error,omitempty"`
	Stopped     []cmdutil.StoppedJSON `json:"stopped"`
	Converged   []ConvergedJSON       `json:"converged"`
	Problems    []string              `json:"problems"`
	Error       string                `json:"error,omitempty"`
}

// ConvergedJSON is a ring recorded converged.
type ConvergedJSON struct {
	Ring   string `json:"ring"`
	Commit string `json:"commit"`
	Reason string `json:"reason"`
}

func watchRun(ctx context.Context, opts *WatchOptions) error {
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	if cfg.Observe == nil {
		return cmdutil.UsageErrorf("watch needs observe: in the config, to learn how the hosts are (README: Observing the fleet)")
	}
	looker := watch.FleetLooker{Open: func() (*fleet.Fleet, error) { return opts.OpenFleet(cfg) }, Now: opts.Now}
	return watch.Run(ctx, looker, watch.Options{Interval: opts.Interval, Once: opts.Once, Report: func(l *watch.Look, err error) {
		if opts.JSON {
			_ = cmdutil.WriteJSON(opts.IO.Out, toJSON(l, err, opts.Now()))
			return
		}
		printLook(opts.IO, l, err, opts.Now())
	}})
}

func toJSON(l *watch.Look, err error, now time.Time) LookJSON {
	out := LookJSON{Time: now.UTC().Format(time.RFC3339), Stopped: []cmdutil.StoppedJSON{}, Converged: []ConvergedJSON{}, Problems: []string{}}
	if err != nil {
		out.Error = err.Error()
	}
	if l == nil {
		return out
	}
	out.Busy = l.Busy
	out.Problems = append(out.Problems, l.Problems...)
	if g := l.Guard; g != nil {
		out.HealthError = g.Err
		for _, a := range g.Acted() {
			out.Stopped = append(out.Stopped, cmdutil.Stopped(a))
		}
	}
	for _, e := range l.Converged {
		out.Converged = append(out.Converged, ConvergedJSON{Ring: e.Ring, Commit: e.To, Reason: e.Reason})
	}
	return out
}

// printLook says what a look did, one line each, stamped; nothing for a look
// that did nothing.
func printLook(io *iostreams.IOStreams, l *watch.Look, err error, now time.Time) {
	cs := io.ColorScheme()
	stamp := now.UTC().Format(time.RFC3339)
	if err != nil {
		fmt.Fprintf(io.ErrOut, "%s the look failed (the watch goes on): %v\n", stamp, err)
	}
	if l == nil {
		return
	}
	if l.Busy != "" {
		fmt.Fprintf(io.Out, "%s %s\n", stamp, l.Busy)
	}
	if g := l.Guard; g != nil {
		if g.Err != "" {
			fmt.Fprintf(io.ErrOut, "%s %s\n", stamp, cs.Yellow("health not observed, nothing stopped: "+g.Err))
		}
		for _, a := range g.Acted() {
			fmt.Fprintf(io.Out, "%s %s %s\n", stamp, a.Ring, cs.Red(cmdutil.StoppedLine(a)))
		}
	}
	for _, e := range l.Converged {
		fmt.Fprintf(io.Out, "%s %s converged on %s: %s\n", stamp, e.Ring, ring.Short(e.To), e.Reason)
	}
	for _, p := range l.Problems {
		fmt.Fprintf(io.ErrOut, "%s %s\n", stamp, strings.TrimSpace(p))
	}
}
