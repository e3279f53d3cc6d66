package soak

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/ledger"
)

// chain is a line of history, each letter descending from those before.
type chain string

func (c chain) IsAncestor(a, b string) (bool, error) {
	i, j := strings.Index(string(c), a), strings.Index(string(c), b)
	if j < 0 {
		return false, fmt.Errorf("rev %s: %w", b, gitrepo.ErrUnknownRevision)
	}
	return i >= 0 && i <= j, nil
}

func TestHeldSinceAndLeft(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	// Newest first, as the ledger lists them.
	entries := []ledger.Entry{
		{Event: "promote", Ring: "canary", To: "d", Time: at(30)},
		{Event: "promote", Ring: "early", To: "c", Time: at(20)},
		{Event: "rollback", Ring: "canary", To: "b", Time: at(10)}, // let go of c
		{Event: "promote", Ring: "canary", To: "c", Time: at(5)},
		{Event: "promote", Ring: "canary", To: "z", Time: at(3)}, // a commit the repository lost
		{Event: "init", Ring: "canary", To: "a", Time: at(0), NoImpact: true},
	}
	h := chain("abcd")
	for _, tt := range []struct {
		commit string
		since  time.Time
		waived bool
	}{
		{"a", at(5), false},       // z (lost) let go of it; c took it again
		{"c", at(30), false},      // let go by the rollback, held again by d
		{"d", at(30), false},      //
		{"x", time.Time{}, false}, // never held
	} {
		since, waived, err := HeldSince(entries, "canary", tt.commit, h)
		if err != nil || !since.Equal(tt.since) || waived != tt.waived {
			t.Errorf("HeldSince(%s) = %v, %v, %v; want %v, %v", tt.commit, since, waived, err, tt.since, tt.waived)
		}
	}
	if left, err := Left(entries, "canary", 48*time.Hour, "d", at(40), h); err != nil || left != 38*time.Hour {
		t.Errorf("Left = %v, %v; want 38h", left, err)
	}
	if left, err := Left(entries[len(entries)-1:], "canary", 48*time.Hour, "a", at(1), h); err != nil || left != 0 {
		t.Errorf("Left of a waived soak = %v, %v; want 0", left, err)
	}
}

// Observed, the soak counts from when the ring's hosts were first seen
// running the commit (or a descendant), not from the branch move; a move
// off it starts over; before any converged entry there is no time yet.
func TestConvergedSince(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	h := chain("abcd")
	entries := []ledger.Entry{ // newest first
		{Event: ledger.EventConverged, Ring: "canary", To: "d", Time: at(40)},
		{Event: ledger.EventPromote, Ring: "canary", To: "d", Time: at(30)},
		{Event: ledger.EventConverged, Ring: "canary", To: "c", Time: at(12)},
		{Event: ledger.EventConverged, Ring: "canary", To: "c", Time: at(8)},
		{Event: ledger.EventPromote, Ring: "canary", To: "c", Time: at(5)},
		{Event: ledger.EventConverged, Ring: "early", To: "c", Time: at(6)},
	}
	for _, tt := range []struct {
		commit string
		want   time.Time
	}{
		{"c", at(8)},  // converged at 8 (the move at 5 does not count), held since
		{"d", at(40)}, // moved at 30, converged at 40
		{"b", at(8)},  // an ancestor of c: held as long as c
		{"z", time.Time{}},
	} {
		got, _, err := ConvergedSince(entries, "canary", tt.commit, h)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("%s: since %v, %v; want %v", tt.commit, got, err, tt.want)
		}
	}
	// Moved, not yet converged: no time.
	if got, _, _ := ConvergedSince(entries[1:], "canary", "d", h); !got.IsZero() {
		t.Errorf("d before its hosts took it: since %v, want none", got)
	}
	// Recorded late (a nightly cycle), with the switch time the source
	// gave: the soak counts from the switch, never from before the move.
	late := []ledger.Entry{
		{Event: ledger.EventConverged, Ring: "canary", To: "d", Time: at(40), ConvergedAt: at(33)},
		{Event: ledger.EventPromote, Ring: "canary", To: "d", Time: at(30)},
	}
	if got, _, _ := ConvergedSince(late, "canary", "d", h); !got.Equal(at(33)) {
		t.Errorf("converged at 33, recorded at 40: since %v, want %v", got, at(33))
	}
	late[0].ConvergedAt = at(20) // the same system ran from an older commit
	if got, _, _ := ConvergedSince(late, "canary", "d", h); !got.Equal(at(30)) {
		t.Errorf("switched at 20, moved at 30: since %v, want the move %v", got, at(30))
	}
}
