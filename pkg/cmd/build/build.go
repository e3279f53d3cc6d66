// Package build implements `ringflow build [REV] [--host PATTERN]…`:
// test-build hosts at a commit straight from git, record the evidence as a
// git note, and report every host, green or red.
package build

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/ringflow/ringflow/pkg/build"
	"github.com/ringflow/ringflow/pkg/cmdutil"
	"github.com/ringflow/ringflow/pkg/evidence"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/iostreams"
	"github.com/ringflow/ringflow/pkg/ring"
	"github.com/ringflow/ringflow/pkg/tableprinter"
)

// BuildOptions are the inputs of `ringflow build`.
type BuildOptions struct {
	IO    *iostreams.IOStreams
	Fleet func() (*fleet.Fleet, error)
	Now   func() time.Time
	JSON  bool

	Rev    string
	Hosts  []string
	Bounds cmdutil.BuildBounds // --timeout, --max-silent
	// PrintBuildLogs (-L): stream each build's log lines, prefixed with
	// the host.
	PrintBuildLogs bool
}

// NewCmdBuild returns `ringflow build`.
func NewCmdBuild(f *cmdutil.Factory, runF func(context.Context, *BuildOptions) error) *cobra.Command {
	opts := &BuildOptions{IO: f.IOStreams, Fleet: f.Fleet, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "build [REV] [--host PATTERN]... [--timeout D] [-L]",
		Short: "Test-build every host at a commit and record the evidence",
		Long: `Build nixosConfigurations.<host>.<build.attribute> for every host (or those
matching --host) at REV, default dev's head, straight from git: the work tree
is never read. Evaluation runs in as few nix processes as the cores make
worthwhile, with failures isolated per host; then every derivation is realised
in one nix build --keep-going. A host already green at REV is reused when its
evidence stands up to the evaluation (the same drv and out path, the output
valid here or in build.cache), and built again, its entry replaced, when it
does not; hosts whose output is already in the store, or whose derivation was
green at any commit with its output in build.cache, are reported reused and not
built again. A note on REV that is not ringflow's evidence is replaced (the old
one stays in the history of refs/notes/ringflow/evidence).

Each build nix runs (a host's toplevel, and each dependency) is bounded by
build.timeout (default 2h; --timeout for this run) and build.max-silent
(--max-silent): nix stops a build past either, and its host is red in phase
timeout.

With build.jobs 0 (build nothing here), a host no remote builder of
build.builders takes (unreachable, or lacking the host's system or features) is
not-built: neither red nor green, and left out of the evidence, so the next
build takes it again.

While it runs, a line on stderr says how long it has taken, which hosts are
being built and evaluated, and how many are done; through a pipe (a nightly
job's log), a line when nix takes a host's build and when its outcome is known,
and "still building HOST (TIME)" while builds run with nothing else said (after
5s, then less often, at most once a minute). -L (--print-build-logs) prints each
build's log lines as they come, prefixed "HOST> " (a dependency's with its
derivation's name), as nix build -L does.

The result is recorded as a git note on REV (git notes --ref ringflow/evidence
show REV), pushed to the remote. Exit 4 if any host is red; otherwise exit 1 if
a host is not-built.`,
		Example: `  $ ringflow build
  $ ringflow build canary --host 'web-*'
  $ ringflow build 3f2a9c1 -o json | jq '.hosts[] | select(.status=="red")'
  $ ringflow build --host web-3 --timeout 4h
  $ ringflow build -L --host plex`,
		Args:              cmdutil.RangeArgs(0, 1, ""),
		ValidArgsFunction: cmdutil.Completer(f, cmdutil.CompleteRevs, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cmdutil.NonEmpty("REV", args...); err != nil {
				return err
			}
			if len(args) == 1 {
				opts.Rev = args[0]
			}
			if err := opts.Bounds.Parse(cmd); err != nil {
				return err
			}
			opts.JSON = f.Globals.JSON()
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return buildRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringArrayVar(&opts.Hosts, "host", nil, "build only hosts matching this name or glob (repeatable)")
	_ = cmd.RegisterFlagCompletionFunc("host", cmdutil.Completer(f, cmdutil.CompleteHosts, 0))
	cmdutil.AddBuildBoundFlags(cmd, &opts.Bounds)
	cmdutil.AddPrintBuildLogsFlag(cmd, &opts.PrintBuildLogs)
	return cmdutil.JSONCapable(cmd)
}

func buildRun(ctx context.Context, opts *BuildOptions) error {
	start := opts.Now()
	prog := cmdutil.NewBuildProgress(opts.IO, opts.Now, cmdutil.ProgressOptions{Logs: opts.PrintBuildLogs})
	defer prog.Done()
	// What the fleet and nix (-v) say meanwhile goes above the live line.
	errOut := opts.IO.ErrOut
	opts.IO.ErrOut = prog.Writer()
	defer func() { opts.IO.ErrOut = errOut }()
	fl, err := opts.Fleet()
	if err != nil {
		return err
	}
	opts.Bounds.Apply(&fl.Config.Build)
	rep, err := build.New(fl).Run(ctx, build.Options{Rev: opts.Rev, Patterns: opts.Hosts, Progress: prog.Event})
	prog.Done()
	var notTaken *build.NoBuilderError
	if err != nil && (rep == nil || !errors.As(err, &notTaken)) {
		return err
	}
	if opts.JSON {
		if err := cmdutil.WriteJSON(opts.IO.Out, rep); err != nil {
			return err
		}
	} else if err := printReport(opts.IO, rep); err != nil {
		return err
	}
	printReplaced(opts.IO, rep)
	if red := rep.Red(); len(red) > 0 {
		// Red decides the exit code (4); hosts no builder took are said too.
		return errors.Join(&build.RedError{Commit: rep.Commit, Red: red}, err)
	}
	if err != nil {
		return err
	}
	if !opts.JSON {
		fmt.Fprintf(opts.IO.ErrOut, "%s %d host(s) green at %s in %s\n", opts.IO.ColorScheme().Green("✓"),
			len(rep.Hosts), ring.Short(rep.Commit), opts.Now().Sub(start).Round(time.Millisecond))
	}
	return nil
}

func printReport(io *iostreams.IOStreams, rep *build.Report) error {
	cs := io.ColorScheme()
	// Where each host was built matters only once some went to a remote
	// builder (build.builders); a local-only build keeps the short table.
	remote := slices.ContainsFunc(rep.Hosts, build.HostOutcome.BuiltRemotely)
	head := []string{"HOST", "STATUS", "PHASE", "EVAL", "BUILD", "REUSED", "OUTPUT"}
	if remote {
		head = slices.Insert(head, 5, "BUILT ON")
	}
	var rows [][]string
	var colors [][]func(string) string
	for _, h := range rep.Hosts {
		color := cs.Green
		detail := h.Out
		switch h.Status {
		case evidence.Red:
			color = cs.Red
			detail = firstLine(h.Error)
		case build.NotBuilt:
			color = cs.Yellow
			detail = "no remote builder took it"
		}
		reused := "-"
		if h.Reused {
			reused = "reused"
		}
		row := []string{h.Host, h.Status, h.Phase, fmt.Sprintf("%.2f", h.EvalSeconds), fmt.Sprintf("%.2f", h.BuildSeconds), reused, detail}
		if remote {
			row = slices.Insert(row, 5, cmp.Or(h.Builder, "-"))
		}
		rows = append(rows, row)
		colors = append(colors, []func(string) string{nil, color})
	}
	if io.IsStdoutTTY() {
		fitLastColumn(head, rows, io.TerminalWidth())
	}
	tp := tableprinter.New(io.Out, io.IsStdoutTTY(), head...)
	for i, row := range rows {
		tp.AddColoredRow(row, colors[i])
	}
	if err := tp.Render(); err != nil {
		return err
	}
	for _, h := range rep.Red() {
		fmt.Fprintf(io.ErrOut, "\n%s %s (%s):\n%s\n", cs.Red("✗"), tableprinter.Escape(h.Host), h.Phase, indent(h.Error))
	}
	return nil
}

// fitLastColumn cuts the last field of each row (the output path, or the
// error's first line) so that the table fits a terminal of width columns:
// the full paths and errors are in -o json, the evidence, and below the
// table for red hosts.
func fitLastColumn(head []string, rows [][]string, width int) {
	last := len(head) - 1
	used := 0
	for i := range last {
		w := utf8.RuneCountInString(head[i])
		for _, r := range rows {
			w = max(w, utf8.RuneCountInString(tableprinter.Escape(r[i])))
		}
		used += w + 2
	}
	// Below 20 columns nothing useful is left: let such a line wrap.
	avail := max(width-1-used, 20)
	for _, r := range rows {
		r[last] = cutDetail(tableprinter.Escape(r[last]), avail)
	}
}

// cutDetail shortens s to width columns with "…": a store path loses the
// end of its hash, or more, keeping its name ("/nix/store/bh2s…-nixos-system-web-1"),
// anything else its end.
func cutDetail(s string, width int) string {
	r := []rune(s)
	if len(r) <= width {
		return s
	}
	if rest, ok := strings.CutPrefix(s, "/nix/store/"); ok {
		if _, name, ok := strings.Cut(rest, "-"); ok {
			keep := width - 1 - utf8.RuneCountInString(name) - 1 // "…" and "-"
			if keep >= 0 {
				return string(r[:keep]) + "…-" + name
			}
		}
	}
	return string(r[:width-1]) + "…"
}

// printReplaced says which evidence this build replaced because it did not
// count: green entries that could not be checked, and notes that were not
// ringflow's evidence.
func printReplaced(io *iostreams.IOStreams, rep *build.Report) {
	cs := io.ColorScheme()
	for _, h := range rep.Hosts {
		if h.Unverified != "" {
			fmt.Fprintf(io.ErrOut, "%s %s: its evidence at %s %s, so it did not count: built again, entry replaced\n",
				cs.Yellow("!"), tableprinter.Escape(h.Host), ring.Short(rep.Commit), h.Unverified)
		}
	}
	for _, m := range rep.Replaced {
		fmt.Fprintf(io.ErrOut, "%s %s: replaced by this build's; the old note stays in the history of %s\n",
			cs.Yellow("!"), m, evidence.Ref)
	}
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = "    " + l
	}
	return strings.Join(lines, "\n")
}
