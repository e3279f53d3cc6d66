// Package history implements `ringflow history [RING]`: the ledger of
// ring movements, updates, rollbacks, pins and holds, newest first.
package history

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ringflow/ringflow/pkg/cmdutil"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/iostreams"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/tableprinter"
)

// HistoryOptions are the inputs of `ringflow history`.
type HistoryOptions struct {
	IO    *iostreams.IOStreams
	Fleet func() (*fleet.Fleet, error)
	JSON  bool

	Ring string
}

// NewCmdHistory returns `ringflow history`.
func NewCmdHistory(f *cmdutil.Factory, runF func(context.Context, *HistoryOptions) error) *cobra.Command {
	opts := &HistoryOptions{IO: f.IOStreams, Fleet: f.Fleet}
	cmd := &cobra.Command{
		Use:   "history [RING]",
		Short: "Show the ledger of ring movements, newest first",
		Long: `Show the ledger (refs/ringflow/ledger): every promotion, rollback, lock
update, ring creation, pin, unpin, hold and release, newest first, with who
did it, when, from which commit to which, why and which gates it passed. An
entry about one group of a ring (a pin, an unpin, a one-group promotion)
shows it as RING/GROUP. With RING, only that ring's entries (dev's name: the
lock updates).

A ledger commit that holds no entry (no JSON, bad JSON, no event or time:
written by hand, not by ringflow) is shown as "undecodable", with what is
wrong, its commit's author and time; every decision passes over it, and
"ringflow check" names it. It belongs to no ring, so only the full history
shows it.`,
		Example: `  $ ringflow history
  $ ringflow history stable -o json | jq '.[0]'
  $ git log --format=%B refs/ringflow/ledger   # the same, with plain git`,
		Args:              cmdutil.RangeArgs(0, 1, ""),
		ValidArgsFunction: cmdutil.Completer(f, cmdutil.CompleteRings, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cmdutil.NonEmpty("RING", args...); err != nil {
				return err
			}
			if len(args) == 1 {
				opts.Ring = args[0]
			}
			opts.JSON = f.Globals.JSON()
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return historyRun(cmd.Context(), opts)
		},
	}
	return cmdutil.JSONCapable(cmd)
}

// EntryJSON is one row of `history -o json`; field names are stable.
type EntryJSON struct {
	Time     string   `json:"time"`
	Event    string   `json:"event"`
	Ring     string   `json:"ring"`
	Group    string   `json:"group"` // the one group a pin, unpin or one-group promotion is about; "" = the whole ring
	Groups   []string `json:"groups"`
	From     string   `json:"from"`
	To       string   `json:"to"`
	Actor    string   `json:"actor"`
	Reason   string   `json:"reason"`
	Gates    []string `json:"gates,omitempty"`
	Skipped  []string `json:"skipped,omitempty"`
	NoImpact bool     `json:"no_impact,omitempty"`
	Reset    bool     `json:"reset,omitempty"`
	// ConvergedAt, on a converged entry, is when the last host needed
	// switched, as observed; time is when ringflow recorded it.
	ConvergedAt string `json:"converged_at,omitempty"`
	Entry       string `json:"entry"` // the ledger commit
	// Undecodable is set on a ledger commit that holds no entry; time and
	// actor are then its commit's (committer time, author), the rest empty.
	Undecodable *UndecodableJSON `json:"undecodable,omitempty"`
}

// UndecodableJSON says what a ledger commit that holds no entry holds.
type UndecodableJSON struct {
	Error   string `json:"error"`   // what is wrong: "is not JSON: …", "has no JSON body", "lacks its event or time"
	Subject string `json:"subject"` // the commit's first line
}

func historyRun(ctx context.Context, opts *HistoryOptions) error {
	fl, err := opts.Fleet()
	if err != nil {
		return err
	}
	entries, err := history(ctx, fl, opts.Ring)
	if err != nil {
		return err
	}
	return render(opts, rowsOf(entries))
}

// rowsOf turns ledger entries into history rows, in order.
func rowsOf(entries []ledger.Entry) []EntryJSON {
	rows := make([]EntryJSON, 0, len(entries))
	for _, e := range entries {
		if u := e.Undecodable; u != nil {
			rows = append(rows, EntryJSON{Time: u.Time.UTC().Format(time.RFC3339), Groups: []string{}, Actor: u.Author,
				Entry: e.Commit, Undecodable: &UndecodableJSON{Error: u.Err.What, Subject: u.Subject}})
			continue
		}
		r := EntryJSON{Time: e.Time.UTC().Format(time.RFC3339), Event: e.Event, Ring: e.Ring, Group: e.Group, Groups: []string{},
			From: e.From, To: e.To, Actor: e.Actor, Reason: e.Reason, Gates: e.Gates, Skipped: e.Skipped,
			NoImpact: e.NoImpact, Reset: e.Reset, Entry: e.Commit}
		if !e.ConvergedAt.IsZero() {
			r.ConvergedAt = e.ConvergedAt.UTC().Format(time.RFC3339)
		}
		for _, g := range e.Groups {
			r.Groups = append(r.Groups, g.Group)
		}
		rows = append(rows, r)
	}
	return rows
}

// render prints the rows: JSON, or a table.
func render(opts *HistoryOptions, rows []EntryJSON) error {
	if opts.JSON {
		return cmdutil.WriteJSON(opts.IO.Out, rows)
	}
	tty := opts.IO.IsStdoutTTY()
	tp := tableprinter.New(opts.IO.Out, tty, "TIME", "EVENT", "RING", "FROM", "TO", "ACTOR", "REASON")
	// On a terminal a long actor gives way first, then the reason, then
	// the actor again: the rest is short and says what happened.
	tp.FitWidth(opts.IO.TerminalWidth())
	narrow := opts.IO.TerminalWidth() < 100
	tp.Shrink(5, 14, false)
	tp.Shrink(6, 10, false)
	tp.Shrink(5, 8, false)
	for _, r := range rows {
		from, to, when := r.From, r.To, r.Time
		if tty {
			from, to = cmdutil.ShortCommit(from), cmdutil.ShortCommit(to)
			when = strings.Replace(strings.TrimSuffix(when, "Z"), "T", " ", 1)
			if narrow && len(when) >= 16 {
				when = when[5:16] // "12-08 01:07": room for who and why
			}
		}
		reason := r.Reason
		if len(r.Skipped) > 0 {
			reason = "skipped " + strings.Join(r.Skipped, ",") + ": " + reason
		}
		if r.NoImpact {
			reason = strings.TrimPrefix(reason+"; no host changed", "; ")
		}
		ringName, event := r.Ring, r.Event
		switch {
		case ringName == "":
			ringName = "dev"
		case r.Group != "":
			ringName += "/" + r.Group
		}
		if u := r.Undecodable; u != nil {
			entry := r.Entry
			if tty {
				entry = cmdutil.ShortCommit(entry)
			}
			ringName, event = "-", "undecodable"
			reason = fmt.Sprintf("ledger commit %s %s (subject %q): passed over", entry, u.Error, u.Subject)
		}
		tp.AddRow(when, event, ringName, from, to, r.Actor, reason)
	}
	return tp.Render()
}

// history reads the ledger newest first, only ring's entries when ring is
// set (dev's updates when ring is the dev branch's name).
func history(ctx context.Context, fl *fleet.Fleet, ringName string) ([]ledger.Entry, error) {
	if ringName != "" && ringName != fl.Config.Dev {
		if _, err := fl.RingIndex(ringName); err != nil {
			return nil, err
		}
	}
	if err := fl.Sync(ctx); err != nil {
		return nil, err
	}
	all, err := fl.Ledger.Read(0)
	if err != nil || ringName == "" {
		return all, err
	}
	return ledger.OfRing(all, ringName, fl.Config.Dev), nil
}
