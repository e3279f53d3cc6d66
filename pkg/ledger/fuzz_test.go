package ledger

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ringflow/ringflow/pkg/ring"
)

// seedEntries are entries as ringflow writes them.
func seedEntries() []Entry {
	t0 := time.Date(2026, 11, 22, 0, 31, 7, 0, time.UTC)
	a, b, c := strings.Repeat("a", 40), strings.Repeat("b", 40), strings.Repeat("c", 40)
	return []Entry{
		{Event: EventInit, Ring: "canary", Groups: []GroupMove{{Group: "canary", Branch: "deploy/canary", To: a}}, To: a, Actor: "ops@build-1", Time: t0},
		{Event: EventPromote, Ring: "stable", Groups: []GroupMove{{Group: "stable", Branch: "stable", From: a, To: b}, {Group: "field-sbc", Branch: "field-sbc", From: a, To: c, Carries: b}},
			From: a, To: b, Candidate: b, Actor: "ops@build-1", Time: t0.Add(time.Hour), Gates: []string{"fast-forward", "order", "evidence", "pin"},
			Skipped: []string{"soak"}, Reason: "hotfix for CVE-2026-1234\nsecond line"},
		{Event: EventRollback, Ring: "canary", From: b, To: a, Actor: "root@lab", Time: t0.In(time.FixedZone("", 3600)), Reason: "kernel panics on lab-2", Reset: true},
		{Event: EventUpdate, To: c, Actor: "ringflow@nightly", Time: t0.Add(24 * time.Hour), NoImpact: true},
	}
}

// FuzzDecode reads arbitrary ledger commit messages. Decode must not panic;
// an entry it accepts has its event, time and commit; and writing it back
// with Message and reading that again gives the same entry.
func FuzzDecode(f *testing.F) {
	for _, e := range seedEntries() {
		f.Add(strings.Repeat("d", 40), Message(e))
	}
	f.Add("97b83369f8c50ee125b6658d84d9c33101f6942f", "promote canary\n\nthis is not json")
	f.Add("abc", "promote canary")
	f.Add("", "x\n\n{\"event\":\"promote\"}")
	f.Add("abc", "x\n\n{\"event\":\"promote\",\"time\":\"2026-01-01T00:00:00+14:00\",\"groups\":null,\"gates\":[]}")
	f.Add("abc", "x\n\n{\"event\":\"\\u0000\",\"time\":\"0001-01-01T00:00:00Z\"}")
	f.Fuzz(func(t *testing.T, commit, message string) {
		e, err := Decode(commit, message)
		if err != nil {
			if !strings.Contains(err.Error(), ring.Short(commit)) {
				t.Fatalf("error %q does not name entry %q", err, ring.Short(commit))
			}
			return
		}
		if e.Event == "" || e.Time.IsZero() || e.Commit != commit {
			t.Fatalf("Decode accepted %+v", e)
		}
		msg := Message(e)
		back, err := Decode(commit, msg)
		if err != nil {
			t.Fatalf("Message(%+v) = %q does not decode: %v", e, msg, err)
		}
		if !sameEntry(e, back) {
			t.Fatalf("round trip changed the entry:\n%+v\n%+v", e, back)
		}
	})
}

// sameEntry compares entries by their JSON (so an empty list and a
// missing one are the same, as omitempty makes them), their instant in
// time and their commit.
func sameEntry(a, b Entry) bool {
	ja, erra := json.Marshal(a)
	jb, errb := json.Marshal(b)
	return erra == nil && errb == nil && bytes.Equal(ja, jb) && a.Time.Equal(b.Time) && a.Commit == b.Commit
}
