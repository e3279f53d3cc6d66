package history

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

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

	for _, tty := range []bool{false, true} {
		ios, _, stdout, _ := iostreams.Test()
		ios.SetStdoutTTY(tty)
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
