package ledger

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ringflow/ringflow/pkg/gitrepo"
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

// fakeLog is a linear ledger: commits[0] is the oldest, each descends
// from the ones before it.
type fakeLog struct {
	commits []gitrepo.CommitInfo
	refs    map[string]string
}

func (f *fakeLog) index(c string) int {
	return slices.IndexFunc(f.commits, func(ci gitrepo.CommitInfo) bool { return ci.Hash == c })
}

func (f *fakeLog) Log(base, tip string, max int) ([]gitrepo.CommitInfo, error) {
	lo, hi := -1, f.index(tip)
	if base != "" {
		lo = f.index(base)
	}
	var out []gitrepo.CommitInfo
	for i := hi; i > lo; i-- {
		out = append(out, f.commits[i])
	}
	if max > 0 && len(out) > max {
		out = out[:max]
	}
	return out, nil
}

func (f *fakeLog) Ref(name string) (string, bool, error) {
	v, ok := f.refs[name]
	return v, ok, nil
}

func (f *fakeLog) IsAncestor(a, b string) (bool, error) {
	i, j := f.index(a), f.index(b)
	return i >= 0 && j >= 0 && i <= j, nil
}

// entryCommit is a ledger commit as ringflow writes it.
func entryCommit(hash string, e Entry) gitrepo.CommitInfo {
	subj, body, _ := strings.Cut(Message(e), "\n\n")
	return gitrepo.CommitInfo{Hash: hash, Subject: subj, Body: strings.TrimRight(body, "\n"), Author: "ringflow", AuthorEmail: "ringflow@localhost", Time: e.Time}
}

// garbage is a ledger commit someone wrote by hand.
func garbage(hash, subject, body string) gitrepo.CommitInfo {
	return gitrepo.CommitInfo{Hash: hash, Subject: subject, Body: body, Author: "Mallory", AuthorEmail: "m@example.org", Time: time.Unix(1_800_000_000, 0).UTC()}
}

func ledgerOf(specs ...gitrepo.CommitInfo) *fakeLog {
	return &fakeLog{commits: specs, refs: map[string]string{}}
}

func TestReadKeepsGoingPastUndecodable(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	fl := ledgerOf(
		entryCommit("c1", Entry{Event: EventInit, Ring: "canary", To: "a", Actor: "ops@x", Time: t0}),
		garbage("c2", "promote canary", "this is not json"),
		garbage("c3", "hello", ""),
		garbage("c4", "x", `{"ring": "canary"}`),
		entryCommit("c5", Entry{Event: EventPromote, Ring: "canary", From: "a", To: "b", Actor: "ops@x", Time: t0.Add(time.Hour)}),
	)
	all, err := readLog(fl, "", "c5", 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range all {
		if u := e.Undecodable; u != nil {
			got = append(got, e.Commit+" "+u.Err.What)
			if u.Author != "Mallory <m@example.org>" || u.Time.IsZero() || e.Event != "" {
				t.Errorf("undecodable %s: %+v %+v", e.Commit, e, u)
			}
			continue
		}
		got = append(got, e.Commit+" "+e.Event)
	}
	want := []string{
		"c5 promote",
		"c4 lacks its event or time",
		"c3 has no JSON body",
		"c2 is not JSON: invalid character 'h' in literal true (expecting 'r')",
		"c1 init",
	}
	if !slices.Equal(got, want) {
		t.Errorf("read\n%q\nwant\n%q", got, want)
	}
	if d := Decoded(all); len(d) != 2 || d[0].Commit != "c5" || d[1].Commit != "c1" {
		t.Errorf("Decoded = %+v", d)
	}
	if u := Undecodables(all); len(u) != 3 || u[0].Undecodable.Subject != "x" {
		t.Errorf("Undecodables = %+v", u)
	}
	// The error still names the commit, as before, and is a *DecodeError.
	var de *DecodeError
	if _, err := Decode("97b83369f8c50ee125b6658d84d9c33101f6942f", "promote canary"); !errors.As(err, &de) ||
		err.Error() != "ledger: entry 97b83369f8c5 has no JSON body" {
		t.Errorf("Decode error = %v", err)
	}
	// An undecodable entry belongs to no ring, not even dev's.
	if es := OfRing(all, "main", "main"); len(es) != 0 {
		t.Errorf("OfRing(dev) = %+v", es)
	}
}

func TestLag(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	ok := func(h string) gitrepo.CommitInfo {
		return entryCommit(h, Entry{Event: EventUpdate, To: "a", Actor: "ops@x", Time: t0})
	}
	const local, tracking = "refs/ringflow/ledger", "refs/ringflow/remotes/origin/ledger"
	for _, tt := range []struct {
		name   string
		chain  []gitrepo.CommitInfo
		refs   map[string]string
		behind int
		to     string
		taken  int
		stop   string
	}{
		{name: "equal", chain: []gitrepo.CommitInfo{ok("e1")}, refs: map[string]string{local: "e1", tracking: "e1"}},
		{name: "no local copy", chain: []gitrepo.CommitInfo{ok("e1")}, refs: map[string]string{tracking: "e1"}},
		{name: "ahead", chain: []gitrepo.CommitInfo{ok("e1"), ok("e2")}, refs: map[string]string{local: "e2", tracking: "e1"}},
		{name: "behind, all decode", chain: []gitrepo.CommitInfo{ok("e1"), ok("e2"), ok("e3"), ok("e4")},
			refs: map[string]string{local: "e1", tracking: "e4"}, behind: 3, to: "e4", taken: 3},
		{name: "behind, garbage in the middle", chain: []gitrepo.CommitInfo{ok("e1"), ok("e2"), garbage("g3", "x", "no"), ok("e4")},
			refs: map[string]string{local: "e1", tracking: "e4"}, behind: 3, to: "e2", taken: 1, stop: "g3"},
		{name: "behind, garbage first", chain: []gitrepo.CommitInfo{ok("e1"), garbage("g2", "x", ""), ok("e3"), garbage("g4", "y", "")},
			refs: map[string]string{local: "e1", tracking: "g4"}, behind: 3, stop: "g2"},
		{name: "behind, garbage last", chain: []gitrepo.CommitInfo{ok("e1"), ok("e2"), garbage("g3", "x", "")},
			refs: map[string]string{local: "e1", tracking: "g3"}, behind: 2, to: "e2", taken: 1, stop: "g3"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fl := ledgerOf(tt.chain...)
			fl.refs = tt.refs
			l, err := lagOf(fl, local, tracking)
			if err != nil {
				t.Fatal(err)
			}
			stop := ""
			if l.Stop != nil {
				stop = l.Stop.Commit
			}
			if len(l.Behind) != tt.behind || l.To != tt.to || l.Taken != tt.taken || stop != tt.stop {
				t.Errorf("lag: behind %d, to %q, taken %d, stop %q; want %d, %q, %d, %q", len(l.Behind), l.To, l.Taken, stop, tt.behind, tt.to, tt.taken, tt.stop)
			}
			if l.Local != tt.refs[local] || l.Remote != tt.refs[tracking] {
				t.Errorf("tips %q %q", l.Local, l.Remote)
			}
		})
	}
}

// A group is pinned, a ring held, by its newest pin or hold entry, until a
// newer unpin or release; undecodable entries and other events pass by.
func TestPinsAndHolds(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	entries := []Entry{ // newest first
		{Event: EventPin, Ring: "stable", Group: "field-sbc", Actor: "ops", Reason: "trade show", Time: t0.Add(5 * time.Hour)},
		{Event: EventRelease, Ring: "early", Actor: "ops", Time: t0.Add(4 * time.Hour)},
		{Commit: "bad", Undecodable: &Undecodable{Subject: "junk"}},
		{Event: EventUnpin, Ring: "stable", Group: "field-sbc", Actor: "ops", Time: t0.Add(3 * time.Hour)},
		{Event: EventHold, Ring: "canary", Actor: "ops", Reason: "incident 42", Time: t0.Add(2 * time.Hour)},
		{Event: EventHold, Ring: "early", Actor: "ops", Time: t0.Add(time.Hour)},
		{Event: EventUnpin, Ring: "stable", Group: "lab", Actor: "ops", Time: t0.Add(time.Hour)},
		{Event: EventPin, Ring: "stable", Group: "lab", Actor: "ops", Time: t0},
		{Event: EventPromote, Ring: "canary", To: "c1", Time: t0},
	}
	pins := Pins(entries)
	if len(pins) != 1 || pins["field-sbc"].Reason != "trade show" {
		t.Errorf("pins = %+v, want field-sbc only (lab was unpinned)", pins)
	}
	holds := Holds(entries)
	if len(holds) != 1 || holds["canary"].Reason != "incident 42" {
		t.Errorf("holds = %+v, want canary only (early was released)", holds)
	}
	if s := subject(entries[0]); s != "pin stable group field-sbc: trade show" {
		t.Errorf("subject = %q", s)
	}
}
