package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/ringflow/ringflow/pkg/freeze"
)

// windowKeys are the keys of one freeze window: recurring ones first, then
// one-off ones, then the reason both may have.
var windowKeys = []string{"days", "from", "to", "timezone", "start", "end", "reason"}

// verify decodes a ring's verify and verify-timeout.
func (d *decoder) verify(r *Ring, key string, m map[string]any) {
	vkey, tkey := key+".verify", key+".verify-timeout"
	v, hasVerify := m["verify"]
	if hasVerify {
		r.Verify = d.command(vkey, v, `["/usr/local/bin/check-health", "--ring", "canary"]`, "leave verify out")
		if r.Verify != nil {
			r.VerifyTimeout = DefaultVerifyTimeout
		}
	}
	tv, ok := m["verify-timeout"]
	if !ok {
		return
	}
	dur, ok := d.duration(tkey, tv)
	switch {
	case !ok:
	case dur <= 0:
		d.addf(tkey, "must be more than 0, got %s", show(tv))
	case !hasVerify:
		d.addf(tkey, "set without verify")
	case r.Verify != nil:
		r.VerifyTimeout = dur
	}
}

// command decodes a command and its arguments, run without a shell;
// example shows one, orElse what to do instead of giving one.
func (d *decoder) command(key string, v any, example, orElse string) []string {
	l, ok := v.([]any)
	if !ok {
		d.addf(key, `want a list: the command and its arguments, run without a shell, e.g. %s, got %s`, example, show(v))
		return nil
	}
	if len(l) == 0 {
		d.addf(key, "empty: give the command and its arguments, or %s", orElse)
		return nil
	}
	out, good := d.strList(key, v, "")
	if !good {
		return nil
	}
	if strings.TrimSpace(out[0]) == "" {
		d.addf(key+"[0]", "empty command")
		return nil
	}
	return out
}

// freeze decodes a ring's freeze windows.
func (d *decoder) freeze(key string, v any) []freeze.Window {
	l, ok := v.([]any)
	if !ok {
		d.addf(key, `want a list of windows, e.g. [{days: [sat, sun], from: "00:00", to: "24:00"}], got %s`, show(v))
		return nil
	}
	var ws []freeze.Window
	for i, e := range l {
		wkey := fmt.Sprintf("%s[%d]", key, i)
		m, ok := e.(map[string]any)
		if !ok {
			d.addf(wkey, `want a mapping such as {days: [sat, sun], from: "18:00", to: "08:00"} or {start: 2026-12-20T00:00:00Z, end: 2027-01-06T00:00:00Z}, got %s`, show(e))
			continue
		}
		if w, ok := d.window(wkey, m); ok {
			ws = append(ws, w)
		}
	}
	return ws
}

// window decodes one freeze window; ok is false when it has a problem.
func (d *decoder) window(key string, m map[string]any) (freeze.Window, bool) {
	w := freeze.Window{Key: key}
	n := len(d.probs)
	d.unknown(key+".", m, windowKeys)

	has := func(k string) bool { _, ok := m[k]; return ok }
	fromTo := has("from") || has("to")
	oneOff := has("start") || has("end")
	switch {
	case fromTo && oneOff:
		d.addf(key, "a window is either recurring (from, to) or one-off (start, end), not both: make it two windows")
		return w, false
	case oneOff:
		for _, k := range []string{"days", "timezone"} {
			if has(k) {
				d.addf(key+"."+k, "only a recurring window (from, to) has %s; this one is one-off (start, end)", k)
			}
		}
		w.Start = d.instant(key+".start", m)
		w.End = d.instant(key+".end", m)
		if !w.Start.IsZero() && !w.End.IsZero() && !w.End.After(w.Start) {
			d.addf(key+".end", "want a time after start (%s), got %s", w.Start.Format(time.RFC3339), w.End.Format(time.RFC3339))
		}
	case fromTo || has("days") || has("timezone"):
		if v, ok := m["days"]; ok {
			w.Days = d.days(key+".days", v)
		}
		from, fromOK := d.clock(key+".from", m, false)
		to, toOK := d.clock(key+".to", m, true)
		w.From, w.To = from, to
		if fromOK && toOK && from == to {
			d.addf(key+".to", "same as from: the window is empty (use days with from 00:00 to 24:00 for whole days)")
		}
		w.Location = time.UTC
		if v, ok := m["timezone"]; ok {
			w.Location = d.location(key+".timezone", v)
		}
	default:
		d.addf(key, "want from and to (a recurring window) or start and end (a one-off window)")
		return w, false
	}
	if v, ok := m["reason"]; ok {
		w.Reason, _ = d.str(key+".reason", v)
	}
	return w, len(d.probs) == n
}

// days decodes the days a recurring window starts on: a list of day names,
// or one string of them ("sat,sun", "weekend").
func (d *decoder) days(key string, v any) []time.Weekday {
	var names []string
	var keys []string
	switch x := v.(type) {
	case string:
		names = strings.FieldsFunc(x, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
		for range names {
			keys = append(keys, key)
		}
	case []any:
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				d.addf(fmt.Sprintf("%s[%d]", key, i), "want a day name, got %s", show(e))
				continue
			}
			names = append(names, s)
			keys = append(keys, fmt.Sprintf("%s[%d]", key, i))
		}
		if len(x) == 0 {
			d.addf(key, "empty: leave days out for every day")
			return nil
		}
	default:
		d.addf(key, "want a list of days, e.g. [sat, sun], got %s", show(v))
		return nil
	}
	if len(names) == 0 && !d.has(key) {
		d.addf(key, "empty: leave days out for every day")
	}
	var days []time.Weekday
	for i, s := range names {
		ds, ok := freeze.ParseDay(s)
		if !ok {
			d.addf(keys[i], "unknown day %q: want %s", s, freeze.DayNames)
			continue
		}
		days = append(days, ds...)
	}
	return freeze.SortDays(days)
}

// clock decodes from or to of a recurring window; only to may be 24:00.
func (d *decoder) clock(key string, m map[string]any, isTo bool) (freeze.Clock, bool) {
	k := key[strings.LastIndex(key, ".")+1:]
	v, ok := m[k]
	if !ok {
		d.addf(key, "required")
		return 0, false
	}
	last := "23:59"
	if isTo {
		last = "24:00"
	}
	s, isStr := v.(string)
	c, ok := freeze.ParseClock(strings.TrimSpace(s))
	switch {
	case !isStr || !ok:
		d.addf(key, `want a time of day "HH:MM" from 00:00 to %s, got %s`, last, show(v))
	case c == freeze.EndOfDay && !isTo:
		d.addf(key, `want a time of day "HH:MM" from 00:00 to 23:59, got %s (24:00 ends a day: only to may be 24:00)`, show(v))
	default:
		return c, true
	}
	return 0, false
}

// location decodes an IANA time zone name.
func (d *decoder) location(key string, v any) *time.Location {
	s, ok := d.str(key, v)
	if !ok {
		return time.UTC
	}
	switch s = strings.TrimSpace(s); s {
	case "":
		d.addf(key, `want an IANA time zone such as Europe/Berlin or UTC, got ""`)
		return time.UTC
	case "Local":
		// time.LoadLocation would take the zone of whichever machine runs
		// ringflow, so the same file would freeze different hours.
		d.addf(key, `want an IANA time zone such as Europe/Berlin: "Local" depends on the machine ringflow runs on`)
		return time.UTC
	}
	loc, err := time.LoadLocation(s)
	if err != nil {
		d.addf(key, "unknown time zone %q: want an IANA name such as Europe/Berlin or UTC", s)
		return time.UTC
	}
	return loc
}

// instant decodes start or end of a one-off window. YAML reads an unquoted
// timestamp itself: a date alone, or a time without an offset, is UTC
// there, and so it is here.
func (d *decoder) instant(key string, m map[string]any) time.Time {
	k := key[strings.LastIndex(key, ".")+1:]
	v, ok := m[k]
	if !ok {
		d.addf(key, "required")
		return time.Time{}
	}
	switch x := v.(type) {
	case time.Time:
		return x
	case string:
		s := strings.TrimSpace(x)
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t
		}
		if t, err := time.Parse(time.DateOnly, s); err == nil {
			return t
		}
	}
	d.addf(key, "want an RFC 3339 time such as 2026-12-20T00:00:00Z or 2026-12-20T00:00:00+01:00, got %s", show(v))
	return time.Time{}
}
