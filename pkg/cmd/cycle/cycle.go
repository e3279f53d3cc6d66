// Package cycle implements `ringflow cycle`: the nightly job — update dev,
// build it, promote every auto ring whose gates pass — with one summary
// and, optionally, a Prometheus metrics file.
package cycle

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ringflow/ringflow/pkg/cmdutil"
	"github.com/ringflow/ringflow/pkg/cycle"
	"github.com/ringflow/ringflow/pkg/flakelock"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/iostreams"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/metrics"
	"github.com/ringflow/ringflow/pkg/overview"
	"github.com/ringflow/ringflow/pkg/ring"
)

// CycleOptions are the inputs of `ringflow cycle`.
type CycleOptions struct {
	IO    *iostreams.IOStreams
	Fleet func() (*fleet.Fleet, error)
	Now   func() time.Time
	JSON  bool

	Strict      bool
	Wait        bool
	MetricsFile string
	Bounds      cmdutil.BuildBounds // --timeout, --max-silent
	// PrintBuildLogs (-L): stream each build's log lines, prefixed with
	// the host.
	PrintBuildLogs bool
}

// NewCmdCycle returns `ringflow cycle`.
func NewCmdCycle(f *cmdutil.Factory, runF func(context.Context, *CycleOptions) error) *cobra.Command {
	opts := &CycleOptions{IO: f.IOStreams, Fleet: f.Fleet, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "cycle [--metrics-file PATH] [--strict] [--wait] [-L]",
		Short: "Run the nightly job: update, build, promote the auto rings",
		Long: `The nightly job, in order: refresh flake.lock on dev (as ringflow update), build
dev's head (as ringflow build), promote the first ring if it is auto and its
gates pass, then every later auto ring whose gates pass. Prints one summary of
what moved and what waits and why.

With observe: in the config, each ring's promotion first asks what the ring
before it runs (gate converge): a ring moves on only after its hosts took the
last move. When they have, the cycle records the ring converged, with the time
its hosts switched, and its soak counts from then; rings that are not auto are
observed too.

A gate holding a ring is a normal night: exit 0 with the reasons shown (exit 3
with --strict). A red host exits 4 after every ring had its chance; so do
hosts no remote builder took (build.jobs 0), with exit 1; a failure exits 1.
A second cycle on the same repository leaves at once with a message
(or waits, with --wait, until SIGINT or SIGTERM ends the wait: exit 130,
nothing changed); the lock is an flock, so a killed cycle never leaves it
stuck. A cycle with nothing new changes nothing.

On a terminal a line on stderr says which step runs (update, build, health,
promote RING) and for how long, and during the build what ringflow build's
line says; through a pipe the build's plain lines (a host taken, its outcome,
"build: still building HOST (TIME)"), so the night's log shows life. -L
(--print-build-logs) prints each build's log lines, prefixed "HOST> ".

--metrics-file writes a Prometheus text file for node_exporter's textfile
collector, atomically, also when the cycle fails; with observe: in the config
it also says how many hosts of each ring run its position, how many are
unknown, and how old the commit each host runs is.`,
		Example: `  $ ringflow cycle
  $ ringflow cycle --metrics-file \
      /var/lib/prometheus/node-exporter/ringflow.prom
  $ ringflow cycle --strict -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.Bounds.Parse(cmd); err != nil {
				return err
			}
			opts.JSON = f.Globals.JSON()
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return cycleRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Strict, "strict", false, "exit 3 when a gate holds an auto ring")
	cmd.Flags().BoolVar(&opts.Wait, "wait", false, "wait for a cycle already running on this repository")
	cmd.Flags().StringVar(&opts.MetricsFile, "metrics-file", "", "write Prometheus metrics to this file (node_exporter textfile collector)")
	cmdutil.AddBuildBoundFlags(cmd, &opts.Bounds)
	cmdutil.AddPrintBuildLogsFlag(cmd, &opts.PrintBuildLogs)
	return cmdutil.JSONCapable(cmd)
}

// CycleJSON is `cycle -o json`.
type CycleJSON struct {
	Update UpdateJSON `json:"update"`
	Build  *BuildJSON `json:"build"`
	Rings  []RingJSON `json:"rings"`
	// Stopped are the rings held, or rolled back and held, for unhealthy
	// hosts (observe:); HealthError says why health was not read.
	Stopped     []cmdutil.StoppedJSON `json:"stopped,omitempty"`
	HealthError string                `json:"health_error,omitempty"`
	Seconds     float64               `json:"seconds"`
	Error       string                `json:"error,omitempty"`
}

// UpdateJSON is the update step.
type UpdateJSON struct {
	Committed bool                  `json:"committed"`
	Commit    string                `json:"commit"`
	Inputs    []flakelock.InputJSON `json:"inputs"`
	DoneBy    *cmdutil.DoneByJSON   `json:"done_by,omitempty"` // another run updated dev first
}

// BuildJSON is the build step.
type BuildJSON struct {
	Commit string   `json:"commit"`
	Hosts  int      `json:"hosts"`
	Red    []string `json:"red"`
	// NotBuilt are the hosts no remote builder took (build.jobs 0).
	NotBuilt []string `json:"not_built"`
}

// RingJSON is one ring's outcome.
type RingJSON struct {
	Name    string         `json:"name"`
	Auto    bool           `json:"auto"`
	Moved   bool           `json:"moved"`
	From    string         `json:"from,omitempty"`
	To      string         `json:"to,omitempty"`
	Waiting string         `json:"waiting,omitempty"`
	Refused []ring.Refusal `json:"refused"`
	// DoneBy: another run moved the ring to this cycle's candidate first.
	DoneBy *cmdutil.DoneByJSON `json:"done_by,omitempty"`
	// SourceConverged: the ring before this one was seen, this cycle, to
	// run this ring's candidate (observe:); its soak counts from then.
	SourceConverged *ConvergedJSON `json:"source_converged,omitempty"`
}

// ConvergedJSON is a converged entry the cycle recorded.
type ConvergedJSON struct {
	Ring   string `json:"ring"`
	Commit string `json:"commit"`
	// At is when the last host needed switched, when the source says;
	// else when the cycle saw it.
	At     string `json:"at"`
	Reason string `json:"reason"`
}

func convergedJSON(e *ledger.Entry) *ConvergedJSON {
	if e == nil {
		return nil
	}
	at := e.Time
	if !e.ConvergedAt.IsZero() {
		at = e.ConvergedAt
	}
	return &ConvergedJSON{Ring: e.Ring, Commit: e.To, At: at.UTC().Format(time.RFC3339), Reason: e.Reason}
}

func cycleRun(ctx context.Context, opts *CycleOptions) error {
	prog := cmdutil.NewBuildProgress(opts.IO, opts.Now, cmdutil.ProgressOptions{Logs: opts.PrintBuildLogs, Steps: true})
	defer prog.Done()
	// What the fleet and nix (-v) say meanwhile goes above the live line.
	errOut := opts.IO.ErrOut
	opts.IO.ErrOut = prog.Writer()
	defer func() { opts.IO.ErrOut = errOut }()
	fl, err := opts.Fleet()
	if err != nil {
		return err
	}
	if err := fl.RequireRings(); err != nil {
		return err
	}
	opts.Bounds.Apply(&fl.Config.Build)
	start := opts.Now()
	rep, err := cycle.New(fl).Run(ctx, cycle.Options{Wait: opts.Wait, OnWait: func(holder string) {
		prog.Message("another ringflow cycle is running on this repository (%s); waiting for it to finish (--wait)", cmp.Or(holder, "another process"))
	}, OnStep: prog.Step, Progress: prog.Event})
	prog.Done()
	var running *cycle.RunningError
	var interrupted *cycle.WaitInterruptedError
	if errors.As(err, &running) || errors.As(err, &interrupted) {
		return err // the other cycle writes the metrics; this one changed nothing
	}
	if opts.MetricsFile != "" {
		if merr := writeMetrics(ctx, fl, opts, rep, start, err == nil); merr != nil {
			fmt.Fprintf(opts.IO.ErrOut, "warning: %v\n", merr)
		}
	}
	if rep != nil {
		if opts.JSON {
			if jerr := cmdutil.WriteJSON(opts.IO.Out, toJSON(rep, err, opts.Now().Sub(start))); jerr != nil {
				return jerr
			}
		} else {
			printSummary(opts.IO, fl, rep)
		}
	}
	if err != nil {
		return err // a *build.RedError exits 4, anything else 1
	}
	if refused := rep.Refused(); opts.Strict && len(refused) > 0 {
		return &ring.GateRefusedError{Ring: "the auto rings", Refusals: refused}
	}
	return nil
}

func writeMetrics(ctx context.Context, fl *fleet.Fleet, opts *CycleOptions, rep *cycle.Report, start time.Time, ok bool) error {
	var snap metrics.Snapshot
	if ov, err := overview.New(fl).Read(ctx); err == nil {
		snap = ov.Metrics()
	} else {
		// Where the rings stand is unknown (the remote may be out of
		// reach), but that this cycle failed, and when, is worth telling.
		fmt.Fprintf(opts.IO.ErrOut, "warning: metrics without ring figures: %v\n", err)
		snap = metrics.Snapshot{Time: opts.Now()}
	}
	c := &metrics.Cycle{Success: ok, Duration: opts.Now().Sub(start)}
	if rep != nil {
		for _, r := range rep.Rings {
			if r.Moved {
				c.Moved++
			}
		}
		if rep.Build != nil {
			c.Red = len(rep.Build.Red())
		}
	}
	snap.Cycle = c
	if rep != nil && rep.Guard != nil && rep.Guard.Err == "" && snap.Observe != nil {
		snap.Observe.Health = true
		for _, rr := range rep.Guard.Rings {
			for i := range snap.Rings {
				if snap.Rings[i].Name == rr.Ring {
					snap.Rings[i].Unhealthy = len(rr.Unhealthy)
				}
			}
		}
	}
	return metrics.Write(opts.MetricsFile, snap)
}

func toJSON(rep *cycle.Report, err error, d time.Duration) CycleJSON {
	out := CycleJSON{Rings: []RingJSON{}, Seconds: d.Seconds(), Update: UpdateJSON{Inputs: []flakelock.InputJSON{}}}
	if err != nil {
		out.Error = err.Error()
	}
	if u := rep.Update; u != nil {
		out.Update.Committed, out.Update.Commit, out.Update.DoneBy = u.Committed, u.Commit, cmdutil.DoneBy(u.DoneBy)
		for _, c := range u.Changes {
			out.Update.Inputs = append(out.Update.Inputs, c.JSON())
		}
	}
	if b := rep.Build; b != nil {
		out.Build = &BuildJSON{Commit: b.Commit, Hosts: len(b.Hosts), Red: []string{}, NotBuilt: []string{}}
		for _, h := range b.Red() {
			out.Build.Red = append(out.Build.Red, h.Host)
		}
		for _, h := range b.NotBuilt() {
			out.Build.NotBuilt = append(out.Build.NotBuilt, h.Host)
		}
	}
	if g := rep.Guard; g != nil {
		out.HealthError = g.Err
		for _, a := range g.Acted() {
			out.Stopped = append(out.Stopped, cmdutil.Stopped(a))
		}
	}
	for _, r := range rep.Rings {
		rj := RingJSON{Name: r.Name, Auto: r.Auto, Moved: r.Moved, From: r.From, To: r.To, Waiting: r.Waiting, Refused: r.Refusals,
			DoneBy: cmdutil.DoneBy(r.DoneBy), SourceConverged: convergedJSON(r.Converged)}
		if rj.Refused == nil {
			rj.Refused = []ring.Refusal{}
		}
		out.Rings = append(out.Rings, rj)
	}
	return out
}

func printSummary(io *iostreams.IOStreams, fl *fleet.Fleet, rep *cycle.Report) {
	cs := io.ColorScheme()
	w := io.Out
	if u := rep.Update; u != nil {
		switch {
		case u.Committed:
			fmt.Fprintf(w, "update  committed %s on %s: %s\n", ring.Short(u.Commit), fl.Config.Dev, firstLine(u.Message))
		case u.DoneBy != nil:
			fmt.Fprintf(w, "update  lock is current (%s at %s): another run got there first (%s)\n", fl.Config.Dev, ring.Short(u.Base), u.DoneBy.Who())
		default:
			fmt.Fprintf(w, "update  lock is current (%s at %s)\n", fl.Config.Dev, ring.Short(u.Base))
		}
	}
	if b := rep.Build; b != nil {
		red, notBuilt := b.Red(), b.NotBuilt()
		line := fmt.Sprintf("build   %d host(s) at %s: %d green", len(b.Hosts), ring.Short(b.Commit), len(b.Hosts)-len(red)-len(notBuilt))
		if len(red) > 0 {
			var names []string
			for _, h := range red {
				names = append(names, fmt.Sprintf("%s (%s)", h.Host, h.Phase))
			}
			line += cs.Red(fmt.Sprintf(", %d red: %s", len(red), strings.Join(names, ", ")))
		}
		if len(notBuilt) > 0 {
			var names []string
			for _, h := range notBuilt {
				names = append(names, h.Host)
			}
			line += cs.Yellow(fmt.Sprintf(", %d not built (no remote builder took them): %s", len(notBuilt), strings.Join(names, ", ")))
		}
		fmt.Fprintln(w, line)
		// Evidence that did not count, and was replaced by this build's.
		for _, h := range b.Hosts {
			if h.Unverified != "" {
				fmt.Fprintf(w, "          %s: its evidence %s: built again\n", h.Host, h.Unverified)
			}
		}
		for _, m := range b.Replaced {
			fmt.Fprintf(w, "          %s: replaced\n", m)
		}
	}
	if g := rep.Guard; g != nil {
		if g.Err != "" {
			fmt.Fprintf(w, "health  %s\n", cs.Yellow("not observed, nothing stopped: "+g.Err))
		}
		for _, a := range g.Acted() {
			fmt.Fprintf(w, "%-7s %s\n", a.Ring, cs.Red(cmdutil.StoppedLine(a)))
		}
	}
	for _, r := range rep.Rings {
		if c := convergedJSON(r.Converged); c != nil {
			fmt.Fprintf(w, "%-7s converged on %s: %s\n", c.Ring, ring.Short(c.Commit), c.Reason)
		}
		switch {
		case r.Moved:
			fmt.Fprintf(w, "%-7s %s %s -> %s\n", r.Name, cs.Green("moved"), ring.Short(r.From), ring.Short(r.To))
		case len(r.Refusals) > 0:
			fmt.Fprintf(w, "%-7s %s\n", r.Name, cs.Yellow("waits: "+r.Waiting))
			for _, ref := range r.Refusals {
				fmt.Fprintf(w, "          gate %s: %s\n", ref.Gate, ref.Reason)
			}
		default:
			fmt.Fprintf(w, "%-7s %s\n", r.Name, r.Waiting)
		}
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
