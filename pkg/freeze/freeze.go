// Package freeze decides whether a moment falls in a ring's freeze windows
// and when they end.
//
// A window is either recurring (a time of day range on some days of the
// week, in a time zone) or one-off (a range of instants). Every range is
// half-open: it holds from its start, inclusive, to its end, exclusive.
//
// Recurring windows follow the wall clock of their zone. A window on day D
// from F to T starts at F on D and ends at T on D, or, when T is before F,
// at T on the day after D (it runs past midnight). T may be 24:00, the end
// of D. Where daylight saving time makes the wall clock skip or repeat a
// time, a window starts and ends at the first instant the clock shows that
// time or a later one:
//
//   - a time the clock skips (02:30 on 2026-03-29 in Europe/Berlin, where
//     02:00 CET jumps to 03:00 CEST) is the instant of the jump, 03:00 CEST;
//   - a time the clock shows twice (02:30 on 2026-10-25 in Europe/Berlin,
//     once in CEST, then again in CET) is its first showing, 02:30 CEST.
//
// So a night window 22:00–06:00 is an hour shorter on the spring night and
// an hour longer on the autumn night, as a person on site would see it.
//
// The package does no I/O. It embeds the time zone database, so that
// time.LoadLocation finds zones on machines without /usr/share/zoneinfo.
package freeze

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	_ "time/tzdata" // zones on machines without /usr/share/zoneinfo
)

// Lookahead bounds the search for recurring windows: Next looks this far
// ahead of t, and Active follows a chain of back-to-back windows until the
// freeze lifts or until this far past t.
const Lookahead = 14 * 24 * time.Hour

// Clock is a time of day in minutes since midnight: 0 (00:00) to 1440
// (24:00, the end of the day, allowed for a window's To only).
type Clock int

// EndOfDay is 24:00.
const EndOfDay Clock = 24 * 60

// ParseClock reads "HH:MM" (or "H:MM") from 00:00 to 24:00.
func ParseClock(s string) (Clock, bool) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 || !digits(h) || !digits(m) {
		return 0, false
	}
	hh, _ := strconv.Atoi(h)
	mm, _ := strconv.Atoi(m)
	if hh > 24 || mm > 59 || hh == 24 && mm != 0 {
		return 0, false
	}
	return Clock(hh*60 + mm), true
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// String renders c as "HH:MM".
func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", int(c)/60, int(c)%60) }

// Window is one freeze window of a ring.
type Window struct {
	// Recurring: the days the window starts on (empty = every day), the
	// time of day it starts (inclusive) and ends (exclusive; To < From ends
	// on the next day; To == From is an empty window that never holds),
	// and the zone both are read in (nil = UTC).
	Days     []time.Weekday
	From, To Clock
	Location *time.Location

	// One-off: Start inclusive, End exclusive. Both zero for a recurring
	// window.
	Start, End time.Time

	Reason string // why, shown in refusals; may be empty
	Key    string // where it was declared, e.g. "rings[1].freeze[0]"
}

// Recurring says whether w repeats by the week rather than being one range
// of time.
func (w Window) Recurring() bool { return w.Start.IsZero() && w.End.IsZero() }

func (w Window) loc() *time.Location {
	if w.Location == nil {
		return time.UTC
	}
	return w.Location
}

func (w Window) onDay(d time.Weekday) bool {
	if len(w.Days) == 0 {
		return true
	}
	for _, x := range w.Days {
		if x == d {
			return true
		}
	}
	return false
}

// span is one occurrence of a window: [start, end).
type span struct{ start, end time.Time }

// occurrence returns the occurrence of recurring w starting on the local
// date y-m-d, if w starts on that day.
func (w Window) occurrence(y int, m time.Month, d int) (span, bool) {
	if w.From == w.To || !w.onDay(time.Date(y, m, d, 12, 0, 0, 0, time.UTC).Weekday()) {
		return span{}, false
	}
	loc := w.loc()
	s := wallTime(y, m, d, w.From, loc)
	ed := d
	if w.To < w.From {
		ed++
	}
	e := wallTime(y, m, ed, w.To, loc)
	if !e.After(s) {
		return span{}, false // a window wholly inside a skipped hour
	}
	return span{s, e}, true
}

// wallTime is the first instant at which the wall clock of loc shows c on
// y-m-d or a later time (see the package comment). time.Date alone does
// not promise which instant it picks for a skipped or repeated time.
func wallTime(y int, m time.Month, d int, c Clock, loc *time.Location) time.Time {
	naive := time.Date(y, m, d, 0, int(c), 0, 0, time.UTC) // the wall time, read as if UTC
	// The wall time's instant lies within 14h of naive; offsets a day
	// either side are the ones in force before and after any transition
	// near it (zones do not change twice within two days).
	_, offA := naive.Add(-24 * time.Hour).In(loc).Zone()
	after := naive.Add(24 * time.Hour).In(loc)
	_, offB := after.Zone()
	if offA == offB {
		return time.Date(y, m, d, 0, int(c), 0, 0, loc)
	}
	jump, _ := after.ZoneBounds() // the transition
	a, b := time.Duration(offA)*time.Second, time.Duration(offB)*time.Second
	switch {
	case naive.Before(jump.Add(a)):
		// Shown before the transition (in an overlap: the first showing).
		return naive.Add(-a).In(loc)
	case naive.Before(jump.Add(b)):
		// Skipped: the clock passes it at the jump.
		return jump.In(loc)
	}
	return naive.Add(-b).In(loc)
}

// holding returns the occurrence of w that contains u, if any.
func (w Window) holding(u time.Time) (span, bool) {
	if !w.Recurring() {
		if !u.Before(w.Start) && u.Before(w.End) {
			return span{w.Start, w.End}, true
		}
		return span{}, false
	}
	var best span
	found := false
	lu := u.In(w.loc())
	// An occurrence holding u started on u's local date or the day before;
	// a day more either side covers DST oddities (a zone falling back at
	// midnight shows the next date's 00:00 before the last hour of u's).
	for back := 2; back >= -1; back-- {
		sp, ok := w.occurrence(lu.Year(), lu.Month(), lu.Day()-back)
		if ok && !u.Before(sp.start) && u.Before(sp.end) && (!found || sp.end.After(best.end)) {
			best, found = sp, true
		}
	}
	return best, found
}

// later moves the horizon of a chain, Lookahead past t at first, to
// Lookahead past the end of a one-off window in it, if that is later. One-off windows are
// finite, so the chain ends even when recurring windows cover every day.
func later(horizon, end time.Time) time.Time {
	if e := end.Add(Lookahead); e.After(horizon) {
		return e
	}
	return horizon
}

// Active reports whether t falls in any of ws. until is when the freeze
// lifts: for overlapping or back-to-back windows (a weekend window followed
// by a one-off range, say) the moment all of them have ended. The chain is
// followed until it ends or until Lookahead past t (or past the end of the
// last one-off window in it); a freeze still going on there (a window
// covering every whole day, say) gives the end of the last window found,
// a lower bound. by holds the windows holding t, then those that extend
// the freeze up to until, each once, in that order.
func Active(ws []Window, t time.Time) (frozen bool, until time.Time, by []Window) {
	seen := make([]bool, len(ws))
	horizon := t.Add(Lookahead)
	for i, w := range ws {
		if sp, ok := w.holding(t); ok {
			frozen = true
			seen[i] = true
			by = append(by, w)
			if sp.end.After(until) {
				until = sp.end
			}
			if !w.Recurring() {
				horizon = later(horizon, sp.end)
			}
		}
	}
	if !frozen {
		return false, time.Time{}, nil
	}
	for until.Before(horizon) {
		next := until
		for i, w := range ws {
			if sp, ok := w.holding(until); ok {
				if !seen[i] {
					seen[i] = true
					by = append(by, w)
				}
				if sp.end.After(next) {
					next = sp.end
				}
				if !w.Recurring() {
					horizon = later(horizon, sp.end)
				}
			}
		}
		if !next.After(until) {
			break
		}
		until = next
	}
	return true, until, by
}

// Next returns the start of the first window starting after t, or the
// zero time if there is none. Recurring windows are looked for up to
// Lookahead past t; a one-off window's start counts however far off it is.
// A window already holding t does not count, but its next occurrence does.
func Next(ws []Window, t time.Time) time.Time {
	var best time.Time
	consider := func(s time.Time) {
		if s.After(t) && (best.IsZero() || s.Before(best)) {
			best = s
		}
	}
	horizon := t.Add(Lookahead)
	for _, w := range ws {
		if !w.Recurring() {
			if w.End.After(w.Start) {
				consider(w.Start)
			}
			continue
		}
		lt := t.In(w.loc())
		for day := -1; day <= int(Lookahead/(24*time.Hour))+1; day++ {
			sp, ok := w.occurrence(lt.Year(), lt.Month(), lt.Day()+day)
			if ok && !sp.start.After(horizon) {
				consider(sp.start)
			}
		}
	}
	return best
}

var dayAbbr = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// Describe renders w for people: "sat,sun 18:00–08:00 Europe/Berlin",
// "daily 22:00–24:00 UTC" or
// "2026-12-20T00:00:00Z – 2027-01-06T00:00:00+01:00". The reason is left
// to the caller.
func Describe(w Window) string {
	if !w.Recurring() {
		return w.Start.Format(time.RFC3339) + " – " + w.End.Format(time.RFC3339)
	}
	days := "daily"
	if len(w.Days) > 0 && !everyDay(w.Days) {
		names := make([]string, 0, len(w.Days))
		for _, d := range w.Days {
			if d >= time.Sunday && d <= time.Saturday {
				names = append(names, dayAbbr[d])
			}
		}
		days = strings.Join(names, ",")
	}
	return fmt.Sprintf("%s %s–%s %s", days, w.From, w.To, w.loc())
}

func everyDay(ds []time.Weekday) bool {
	var set [7]bool
	for _, d := range ds {
		if d >= time.Sunday && d <= time.Saturday {
			set[d] = true
		}
	}
	for _, b := range set {
		if !b {
			return false
		}
	}
	return true
}

// dayNames maps every accepted day name, lower case, to its days.
var dayNames = map[string][]time.Weekday{
	"daily":    {time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday},
	"weekdays": {time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday},
	"weekend":  {time.Saturday, time.Sunday},
}

func init() {
	for d := time.Sunday; d <= time.Saturday; d++ {
		dayNames[dayAbbr[d]] = []time.Weekday{d}
		dayNames[strings.ToLower(d.String())] = []time.Weekday{d}
	}
}

// DayNames lists the names ParseDay accepts, for messages: the short
// names, then the groups. Full English names ("saturday") work too.
const DayNames = "mon, tue, wed, thu, fri, sat, sun, weekdays, weekend or daily"

// ParseDay reads a day name, case-insensitively: mon … sun, monday …
// sunday, or one of the groups weekdays (mon–fri), weekend (sat, sun) and
// daily (all seven).
func ParseDay(name string) ([]time.Weekday, bool) {
	ds, ok := dayNames[strings.ToLower(strings.TrimSpace(name))]
	return ds, ok
}

// SortDays returns ds without repeats, Monday first, as a week is written
// in the places ringflow is used.
func SortDays(ds []time.Weekday) []time.Weekday {
	var set [7]bool
	for _, d := range ds {
		if d >= time.Sunday && d <= time.Saturday {
			set[d] = true
		}
	}
	var out []time.Weekday
	for _, d := range []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday} {
		if set[d] {
			out = append(out, d)
		}
	}
	return out
}
