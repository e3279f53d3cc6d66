package history

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ringflow/ringflow/pkg/cmdutil"
	"github.com/ringflow/ringflow/pkg/iostreams"
	"github.com/ringflow/ringflow/pkg/ledger"
)

func TestNewCmdHistory(t *testing.T) {
	for _, tt := range []struct {
		argv    string
		ring    string
		wantErr bool
	}{
		{argv: "", ring: ""},
		{argv: "stable", ring: "stable"},
		{argv: "a b", wantErr: true},
	} {
		ios, _, _, _ := iostreams.Test()
		f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.Globals{Output: "text"}}
		var got *HistoryOptions
		cmd := NewCmdHistory(f, func(_ context.Context, o *HistoryOptions) error { got = o; return nil })
		cmd.SetArgs(strings.Fields(tt.argv))
		cmd.SetOut(ios.Out)
		cmd.SetErr(ios.ErrOut)
		err := cmd.Execute()
		if tt.wantErr {
			if err == nil {
				t.Errorf("%q: no error", tt.argv)
			}
			continue
		}
		if err != nil || got == nil || got.Ring != tt.ring {
			t.Errorf("%q: opts %+v, err %v", tt.argv, got, err)
		}
	}
}

// history reads the entries around a ledger commit that holds no entry
// and shows it for what it is, in the table and in JSON.
func TestHistoryRun(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	a, b := strings.Repeat("a", 40), strings.Repeat("b", 40)
	bad := "97b83369f8c50ee125b6658d84d9c33101f6942f"
	entries := []ledger.Entry{
		{Event: ledger.EventPromote, Ring: "canary", From: a, To: b, Actor: "ops@x", Time: t0.Add(time.Hour), Commit: strings.Repeat("3", 40)},
		{Commit: bad, Undecodable: &ledger.Undecodable{Subject: "promote canary", Author: "Mallory <m@example.org>", Time: t0.Add(time.Minute),
			Err: &ledger.DecodeError{Commit: bad, What: "is not JSON: invalid character 'h' in literal true (expecting 'r')"}}},
		{Event: ledger.EventUpdate, To: a, Actor: "ops@x", Time: t0, Commit: strings.Repeat("1", 40)},
	}
	rows := rowsOf(entries)

	ios, _, stdout, _ := iostreams.Test()
	if err := render(&HistoryOptions{IO: ios, JSON: true}, rows); err != nil {
		t.Fatal(err)
	}
	var doc []map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if len(doc) != 3 || doc[1]["entry"] != bad || doc[1]["time"] != "2026-11-22T03:01:00Z" || doc[1]["actor"] != "Mallory <m@example.org>" {
		t.Fatalf("json: %s", stdout)
	}
	u, _ := doc[1]["undecodable"].(map[string]any)
	if u["error"] != "is not JSON: invalid character 'h' in literal true (expecting 'r')" || u["subject"] != "promote canary" {
		t.Errorf("undecodable: %v", doc[1]["undecodable"])
	}
	if _, ok := doc[0]["undecodable"]; ok {
		t.Errorf("a decoded entry has an undecodable field: %v", doc[0])
	}
	if doc[0]["event"] != "promote" || doc[2]["event"] != "update" {
		t.Errorf("entries around it: %v", doc)
	}

	// At 80 columns the reason and the actor give way; every line fits.
	ios, _, narrow, _ := iostreams.Test()
	ios.SetStdoutTTY(true)
	ios.SetTerminalWidth(80)
	if err := render(&HistoryOptions{IO: ios}, rows); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(narrow.String()), "\n") {
		if utf8.RuneCountInString(line) > 80 {
			t.Errorf("at 80 columns a line is wider: %q", line)
		}
	}
	if !strings.Contains(narrow.String(), "undecodable") {
		t.Errorf("at 80 columns the event is gone:\n%s", narrow)
	}

	for _, tty := range []bool{false, true} {
		ios, _, stdout, _ := iostreams.Test()
		ios.SetStdoutTTY(tty)
		ios.SetTerminalWidth(300)
		if err := render(&HistoryOptions{IO: ios}, rows); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
		if tty {
			lines = lines[1:] // the header
		}
		if len(lines) != 3 {
			t.Fatalf("tty %v: %q", tty, stdout)
		}
		id := bad
		if tty {
			id = cmdutil.ShortCommit(bad)
		}
		for _, want := range []string{"undecodable", "Mallory <m@example.org>", "ledger commit " + id + " is not JSON: invalid character", `(subject "promote canary"): passed over`} {
			if !strings.Contains(lines[1], want) {
				t.Errorf("tty %v: row %q lacks %q", tty, lines[1], want)
			}
		}
		if !tty && !strings.HasPrefix(lines[1], "2026-11-22T03:01:00Z\tundecodable\t-\t\t\tMallory") {
			t.Errorf("row %q", lines[1])
		}
	}
}

// Pins, unpins, holds and releases read as what they are about (a
// ring's group as RING/GROUP, a ring) and why; a promotion of one group
// names it too. JSON has the group, "" for an entry about a whole ring.
func TestHistoryPinsAndHolds(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	a, b := strings.Repeat("a", 40), strings.Repeat("b", 40)
	e := func(event, group, reason string, h time.Duration) ledger.Entry {
		return ledger.Entry{Event: event, Ring: "stable", Group: group, Actor: "ops@host", Reason: reason, Time: t0.Add(h), Commit: strings.Repeat("e", 40)}
	}
	promote := e(ledger.EventPromote, "field-sbc", "", 4*time.Hour)
	promote.From, promote.To = a, b
	promote.Groups = []ledger.GroupMove{{Group: "field-sbc", Branch: "field-sbc", From: a, To: b}}
	rows := rowsOf([]ledger.Entry{
		promote,
		e(ledger.EventRelease, "", "fixed", 3*time.Hour),
		e(ledger.EventUnpin, "field-sbc", "back home", 2*time.Hour),
		e(ledger.EventPin, "field-sbc", "trade show", time.Hour),
		e(ledger.EventHold, "", "incident 42", 0),
	})
	for _, tt := range []struct {
		tty  bool
		want []string
	}{
		{false, []string{
			"2026-12-07T14:00:00Z\tpromote\tstable/field-sbc\t" + a + "\t" + b + "\tops@host\t",
			"2026-12-07T13:00:00Z\trelease\tstable\t\t\tops@host\tfixed",
			"2026-12-07T12:00:00Z\tunpin\tstable/field-sbc\t\t\tops@host\tback home",
			"2026-12-07T11:00:00Z\tpin\tstable/field-sbc\t\t\tops@host\ttrade show",
			"2026-12-07T10:00:00Z\thold\tstable\t\t\tops@host\tincident 42",
		}},
		{true, []string{
			"TIME                 EVENT    RING              FROM     TO       ACTOR     REASON",
			"2026-12-07 14:00:00  promote  stable/field-sbc  aaaaaaa  bbbbbbb  ops@host",
			"2026-12-07 13:00:00  release  stable            -        -        ops@host  fixed",
			"2026-12-07 12:00:00  unpin    stable/field-sbc  -        -        ops@host  back home",
			"2026-12-07 11:00:00  pin      stable/field-sbc  -        -        ops@host  trade show",
			"2026-12-07 10:00:00  hold     stable            -        -        ops@host  incident 42",
		}},
	} {
		ios, _, stdout, _ := iostreams.Test()
		ios.SetStdoutTTY(tt.tty)
		ios.SetTerminalWidth(160)
		if err := render(&HistoryOptions{IO: ios}, rows); err != nil {
			t.Fatal(err)
		}
		if got, want := stdout.String(), strings.Join(tt.want, "\n")+"\n"; got != want {
			t.Errorf("tty %v:\n%s\nwant\n%s", tt.tty, got, want)
		}
	}

	ios, _, stdout, _ := iostreams.Test()
	if err := render(&HistoryOptions{IO: ios, JSON: true}, rows); err != nil {
		t.Fatal(err)
	}
	var doc []map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	for i, want := range []string{"field-sbc", "", "field-sbc", "field-sbc", ""} {
		if got, ok := doc[i]["group"]; !ok || got != want {
			t.Errorf("entry %d (%s): group %v, want %q", i, doc[i]["event"], got, want)
		}
	}
	if doc[3]["event"] != "pin" || doc[3]["ring"] != "stable" || doc[3]["reason"] != "trade show" {
		t.Errorf("pin entry: %v", doc[3])
	}
}
