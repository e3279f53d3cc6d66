package ledger

import (
	"slices"
	"testing"
)

func TestOfRing(t *testing.T) {
	// Newest first, as Entries lists them.
	entries := []Entry{
		{Event: EventPromote, Ring: "stable", Commit: "5"},
		{Event: EventUpdate, Commit: "4"},
		{Event: EventPromote, Ring: "canary", Commit: "3"},
		{Event: EventRollback, Ring: "stable", Commit: "2"},
		{Event: EventInit, Ring: "canary", Commit: "1"},
	}
	commits := func(es []Entry) []string {
		var cs []string
		for _, e := range es {
			cs = append(cs, e.Commit)
		}
		return cs
	}
	for _, tt := range []struct {
		ring string
		want []string
	}{
		{"stable", []string{"5", "2"}},
		{"canary", []string{"3", "1"}},
		{"main", []string{"4"}}, // dev's name: its updates, which belong to no ring
		{"early", nil},
	} {
		if got := commits(OfRing(entries, tt.ring, "main")); !slices.Equal(got, tt.want) {
			t.Errorf("OfRing(%s) = %v, want %v", tt.ring, got, tt.want)
		}
	}
}
