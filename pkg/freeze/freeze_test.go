package freeze

import (
	"reflect"
	"testing"
	"time"
)

func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func clock(t *testing.T, s string) Clock {
	t.Helper()
	c, ok := ParseClock(s)
	if !ok {
		t.Fatalf("ParseClock(%q) failed", s)
	}
	return c
}

// recurring builds a recurring window; loc "" is UTC.
func recurring(t *testing.T, key string, days []time.Weekday, from, to, loc string) Window {
	t.Helper()
	w := Window{Days: days, From: clock(t, from), To: clock(t, to), Key: key}
	if loc != "" {
		w.Location = zone(t, loc)
	}
	return w
}

func oneOff(t *testing.T, key, start, end string) Window {
	t.Helper()
	return Window{Start: at(t, start), End: at(t, end), Reason: key, Key: key}
}

var (
	fri     = []time.Weekday{time.Friday}
	sat     = []time.Weekday{time.Saturday}
	sun     = []time.Weekday{time.Sunday}
	weekend = []time.Weekday{time.Saturday, time.Sunday}
	workday = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
)

func TestActive(t *testing.T) {
	friNight := recurring(t, "fri-night", fri, "18:00", "08:00", "")
	office := recurring(t, "office", workday, "09:00", "17:00", "")
	wholeWeekend := recurring(t, "weekend", weekend, "00:00", "24:00", "")
	lateEvening := recurring(t, "late", nil, "22:00", "24:00", "")
	berlin := recurring(t, "berlin", weekend, "18:00", "08:00", "Europe/Berlin")
	gapStart := recurring(t, "gap-start", sun, "02:30", "04:00", "Europe/Berlin")
	gapEnd := recurring(t, "gap-end", sat, "22:00", "02:30", "Europe/Berlin")
	repeated := recurring(t, "repeated", sun, "02:30", "02:45", "Europe/Berlin")
	repeatedEnd := recurring(t, "repeated-end", sun, "02:30", "03:00", "Europe/Berlin")
	night := recurring(t, "night", sat, "22:00", "06:00", "Europe/Berlin")
	// Asia/Beirut falls back at midnight: at 2026-10-24T21:00Z the clock
	// goes from 23:59:59 EEST back to 23:00 EET, so saturday's last hour
	// shows twice and sunday's 00:00 first shows at 22:00Z.
	beirutSun := recurring(t, "beirut-sun", sun, "00:00", "01:00", "Asia/Beirut")
	beirutSat := recurring(t, "beirut-sat", sat, "23:00", "24:00", "Asia/Beirut")
	friEvening := recurring(t, "fri-evening", fri, "18:00", "24:00", "")
	satMorning := recurring(t, "sat-morning", sat, "00:00", "08:00", "")
	holidays := oneOff(t, "holidays", "2026-12-20T00:00:00Z", "2027-01-06T00:00:00+01:00")
	afterWeekend := oneOff(t, "after-weekend", "2026-12-21T00:00:00Z", "2027-01-02T00:00:00Z")
	empty := Window{From: 600, To: 600}
	daily := recurring(t, "daily", nil, "00:00", "24:00", "")

	tests := []struct {
		name   string
		ws     []Window
		t      string
		frozen bool
		until  string
		by     []string // keys
	}{
		{"no windows", nil, "2026-03-27T18:00:00Z", false, "", nil},
		{"overnight: before start", []Window{friNight}, "2026-03-27T17:59:59Z", false, "", nil},
		{"overnight: start inclusive", []Window{friNight}, "2026-03-27T18:00:00Z", true, "2026-03-28T08:00:00Z", []string{"fri-night"}},
		{"overnight: past midnight", []Window{friNight}, "2026-03-28T07:59:59Z", true, "2026-03-28T08:00:00Z", []string{"fri-night"}},
		{"overnight: end exclusive", []Window{friNight}, "2026-03-28T08:00:00Z", false, "", nil},
		{"overnight: saturday evening not listed", []Window{friNight}, "2026-03-28T19:00:00Z", false, "", nil},
		{"overnight: thursday night not listed", []Window{friNight}, "2026-03-27T02:00:00Z", false, "", nil},
		{"same day: inside", []Window{office}, "2026-03-23T09:00:00Z", true, "2026-03-23T17:00:00Z", []string{"office"}},
		{"same day: before", []Window{office}, "2026-03-23T08:59:00Z", false, "", nil},
		{"same day: after", []Window{office}, "2026-03-23T17:00:00Z", false, "", nil},
		{"same day: weekend", []Window{office}, "2026-03-28T12:00:00Z", false, "", nil},
		{"weekend: saturday runs into sunday", []Window{wholeWeekend}, "2026-03-28T12:00:00Z", true, "2026-03-30T00:00:00Z", []string{"weekend"}},
		{"weekend: sunday", []Window{wholeWeekend}, "2026-03-29T23:59:59Z", true, "2026-03-30T00:00:00Z", []string{"weekend"}},
		{"weekend: monday", []Window{wholeWeekend}, "2026-03-30T00:00:00Z", false, "", nil},
		{"24:00 ends the day", []Window{lateEvening}, "2026-03-23T23:59:00Z", true, "2026-03-24T00:00:00Z", []string{"late"}},
		{"24:00 is exclusive", []Window{lateEvening}, "2026-03-24T00:00:00Z", false, "", nil},
		{"24:00 then 00:00 merge", []Window{friEvening, satMorning}, "2026-03-27T20:00:00Z", true, "2026-03-28T08:00:00Z", []string{"fri-evening", "sat-morning"}},

		// Europe/Berlin, evaluated at UTC instants. 2026-03-29 02:00 CET
		// (01:00Z) jumps to 03:00 CEST; 2026-10-25 03:00 CEST (01:00Z)
		// falls back to 02:00 CET.
		{"berlin: before saturday 18:00 CET", []Window{berlin}, "2026-03-28T16:59:59Z", false, "", nil},
		{"berlin: saturday 18:00 CET", []Window{berlin}, "2026-03-28T17:00:00Z", true, "2026-03-29T06:00:00Z", []string{"berlin"}},
		{"berlin: sunday 08:00 is CEST after the change", []Window{berlin}, "2026-03-29T05:59:59Z", true, "2026-03-29T06:00:00Z", []string{"berlin"}},
		{"berlin: free at 08:00 CEST", []Window{berlin}, "2026-03-29T06:30:00Z", false, "", nil},
		{"berlin: sunday 18:00 CEST", []Window{berlin}, "2026-03-29T16:00:00Z", true, "2026-03-30T06:00:00Z", []string{"berlin"}},
		{"berlin autumn: saturday 18:00 CEST", []Window{berlin}, "2026-10-24T16:00:00Z", true, "2026-10-25T07:00:00Z", []string{"berlin"}},
		{"berlin autumn: sunday 07:30 CET still frozen", []Window{berlin}, "2026-10-25T06:30:00Z", true, "2026-10-25T07:00:00Z", []string{"berlin"}},
		{"berlin autumn: free at 08:00 CET", []Window{berlin}, "2026-10-25T07:00:00Z", false, "", nil},
		{"berlin autumn: sunday 17:30 CET free", []Window{berlin}, "2026-10-25T16:30:00Z", false, "", nil},
		{"berlin autumn: sunday 18:00 CET", []Window{berlin}, "2026-10-25T17:00:00Z", true, "2026-10-26T07:00:00Z", []string{"berlin"}},
		{"skipped from: not before the jump", []Window{gapStart}, "2026-03-29T00:59:59Z", false, "", nil},
		{"skipped from: starts at the jump", []Window{gapStart}, "2026-03-29T01:00:00Z", true, "2026-03-29T02:00:00Z", []string{"gap-start"}},
		{"skipped from: an ordinary sunday", []Window{gapStart}, "2026-04-05T00:30:00Z", true, "2026-04-05T02:00:00Z", []string{"gap-start"}},
		{"skipped to: ends at the jump", []Window{gapEnd}, "2026-03-28T21:00:00Z", true, "2026-03-29T01:00:00Z", []string{"gap-end"}},
		{"repeated time: first showing", []Window{repeated}, "2026-10-25T00:30:00Z", true, "2026-10-25T00:45:00Z", []string{"repeated"}},
		{"repeated time: second showing free", []Window{repeated}, "2026-10-25T01:30:00Z", false, "", nil},
		{"repeated hour inside a window", []Window{repeatedEnd}, "2026-10-25T01:30:00Z", true, "2026-10-25T02:00:00Z", []string{"repeated-end"}},
		{"autumn night is an hour longer", []Window{night}, "2026-10-24T20:00:00Z", true, "2026-10-25T05:00:00Z", []string{"night"}},
		{"spring night is an hour shorter", []Window{night}, "2026-03-28T21:00:00Z", true, "2026-03-29T04:00:00Z", []string{"night"}},
		{"fall back at midnight: saturday again", []Window{beirutSun}, "2026-10-24T21:30:00Z", false, "", nil},
		{"fall back at midnight: sunday starts late", []Window{beirutSun}, "2026-10-24T22:00:00Z", true, "2026-10-24T23:00:00Z", []string{"beirut-sun"}},
		{"fall back at midnight: last hour twice", []Window{beirutSat}, "2026-10-24T20:00:00Z", true, "2026-10-24T22:00:00Z", []string{"beirut-sat"}},
		{"fall back at midnight: last hour, second showing", []Window{beirutSat}, "2026-10-24T21:59:59Z", true, "2026-10-24T22:00:00Z", []string{"beirut-sat"}},

		{"one-off: before", []Window{holidays}, "2026-12-19T23:59:59Z", false, "", nil},
		{"one-off: start inclusive", []Window{holidays}, "2026-12-20T00:00:00Z", true, "2027-01-05T23:00:00Z", []string{"holidays"}},
		{"one-off: last moment", []Window{holidays}, "2027-01-05T22:59:59Z", true, "2027-01-05T23:00:00Z", []string{"holidays"}},
		{"one-off: end exclusive", []Window{holidays}, "2027-01-05T23:00:00Z", false, "", nil},
		{"back to back: weekend then one-off then weekend", []Window{wholeWeekend, afterWeekend}, "2026-12-19T10:00:00Z", true, "2027-01-04T00:00:00Z", []string{"weekend", "after-weekend"}},
		{"back to back: from inside the one-off", []Window{wholeWeekend, afterWeekend}, "2026-12-30T10:00:00Z", true, "2027-01-04T00:00:00Z", []string{"after-weekend", "weekend"}},
		{"overlapping: both hold", []Window{wholeWeekend, holidays}, "2026-12-20T12:00:00Z", true, "2027-01-05T23:00:00Z", []string{"weekend", "holidays"}},
		{"overlapping: recurring outlasts", []Window{oneOff(t, "short", "2026-03-28T10:00:00Z", "2026-03-28T11:00:00Z"), wholeWeekend}, "2026-03-28T10:30:00Z", true, "2026-03-30T00:00:00Z", []string{"short", "weekend"}},
		{"empty window never holds", []Window{empty}, "2026-03-23T10:00:00Z", false, "", nil},
		{"one-off ending before it starts never holds", []Window{oneOff(t, "bad", "2026-03-24T00:00:00Z", "2026-03-23T00:00:00Z")}, "2026-03-23T12:00:00Z", false, "", nil},
		{"every day: bounded by lookahead", []Window{daily}, "2026-03-27T12:00:00Z", true, "2026-04-11T00:00:00Z", []string{"daily"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frozen, until, by := Active(tt.ws, at(t, tt.t))
			if frozen != tt.frozen {
				t.Fatalf("frozen = %v, want %v (until %v)", frozen, tt.frozen, until)
			}
			if !tt.frozen {
				if !until.IsZero() || by != nil {
					t.Errorf("not frozen but until = %v, by = %v", until, by)
				}
				return
			}
			if want := at(t, tt.until); !until.Equal(want) {
				t.Errorf("until = %v, want %v", until.UTC(), want.UTC())
			}
			var keys []string
			for _, w := range by {
				keys = append(keys, w.Key)
			}
			if !reflect.DeepEqual(keys, tt.by) {
				t.Errorf("by = %q, want %q", keys, tt.by)
			}
		})
	}
}

func TestNext(t *testing.T) {
	friNight := recurring(t, "fri-night", fri, "18:00", "08:00", "")
	berlin := recurring(t, "berlin", weekend, "18:00", "08:00", "Europe/Berlin")
	gapStart := recurring(t, "gap-start", sun, "02:30", "04:00", "Europe/Berlin")
	holidays := oneOff(t, "holidays", "2026-12-20T00:00:00Z", "2027-01-06T00:00:00+01:00")
	tests := []struct {
		name string
		ws   []Window
		t    string
		want string // "" = zero
	}{
		{"no windows", nil, "2026-03-25T12:00:00Z", ""},
		{"later this week", []Window{friNight}, "2026-03-25T12:00:00Z", "2026-03-27T18:00:00Z"},
		{"start is not after itself", []Window{friNight}, "2026-03-27T18:00:00Z", "2026-04-03T18:00:00Z"},
		{"inside: the next occurrence", []Window{friNight}, "2026-03-28T02:00:00Z", "2026-04-03T18:00:00Z"},
		{"berlin saturday", []Window{berlin}, "2026-03-28T12:00:00Z", "2026-03-28T17:00:00Z"},
		{"berlin sunday after the change", []Window{berlin}, "2026-03-28T17:00:00Z", "2026-03-29T16:00:00Z"},
		{"skipped start is the jump", []Window{gapStart}, "2026-03-28T12:00:00Z", "2026-03-29T01:00:00Z"},
		{"earliest of several", []Window{friNight, berlin, holidays}, "2026-03-28T09:00:00Z", "2026-03-28T17:00:00Z"},
		{"one-off however far", []Window{holidays}, "2026-03-25T12:00:00Z", "2026-12-20T00:00:00Z"},
		{"one-off begun", []Window{holidays}, "2026-12-21T00:00:00Z", ""},
		{"empty window", []Window{{From: 60, To: 60}}, "2026-03-25T12:00:00Z", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Next(tt.ws, at(t, tt.t))
			if tt.want == "" {
				if !got.IsZero() {
					t.Errorf("Next = %v, want zero", got)
				}
				return
			}
			if want := at(t, tt.want); !got.Equal(want) {
				t.Errorf("Next = %v, want %v", got.UTC(), want.UTC())
			}
		})
	}
}

func TestParseClock(t *testing.T) {
	for s, want := range map[string]Clock{"00:00": 0, "08:00": 480, "8:00": 480, "18:30": 1110, "23:59": 1439, "24:00": EndOfDay} {
		if got, ok := ParseClock(s); !ok || got != want {
			t.Errorf("ParseClock(%q) = %v, %v; want %v", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "18", "1800", "18:0", "18:000", "18:60", "24:01", "25:00", "123:00", "-1:00", "+1:00", " 8:00", "8:00 ", "aa:bb", "18.00", "18:00:00"} {
		if got, ok := ParseClock(s); ok {
			t.Errorf("ParseClock(%q) = %v, want failure", s, got)
		}
	}
	if s := Clock(480).String(); s != "08:00" {
		t.Errorf("String = %q", s)
	}
	if s := EndOfDay.String(); s != "24:00" {
		t.Errorf("String = %q", s)
	}
}

func TestParseDay(t *testing.T) {
	for name, want := range map[string][]time.Weekday{
		"mon":      {time.Monday},
		"Sun":      {time.Sunday},
		"SATURDAY": {time.Saturday},
		"thursday": {time.Thursday},
		"weekdays": workday,
		"Weekend":  weekend,
		"daily":    {time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday},
	} {
		if got, ok := ParseDay(name); !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("ParseDay(%q) = %v, %v; want %v", name, got, ok, want)
		}
	}
	for _, name := range []string{"", "sa", "thur", "weekday", "everyday", "1"} {
		if got, ok := ParseDay(name); ok {
			t.Errorf("ParseDay(%q) = %v, want failure", name, got)
		}
	}
	got := SortDays([]time.Weekday{time.Sunday, time.Saturday, time.Monday, time.Sunday, 9})
	if want := []time.Weekday{time.Monday, time.Saturday, time.Sunday}; !reflect.DeepEqual(got, want) {
		t.Errorf("SortDays = %v, want %v", got, want)
	}
}

func TestDescribe(t *testing.T) {
	for _, tt := range []struct {
		w    Window
		want string
	}{
		{recurring(t, "", weekend, "18:00", "08:00", "Europe/Berlin"), "sat,sun 18:00–08:00 Europe/Berlin"},
		{recurring(t, "", nil, "22:00", "24:00", ""), "daily 22:00–24:00 UTC"},
		{recurring(t, "", []time.Weekday{1, 2, 3, 4, 5, 6, 0}, "00:00", "06:00", ""), "daily 00:00–06:00 UTC"},
		{recurring(t, "", workday, "9:00", "17:00", "America/New_York"), "mon,tue,wed,thu,fri 09:00–17:00 America/New_York"},
		{oneOff(t, "", "2026-12-20T00:00:00Z", "2027-01-06T00:00:00+01:00"), "2026-12-20T00:00:00Z – 2027-01-06T00:00:00+01:00"},
	} {
		if got := Describe(tt.w); got != tt.want {
			t.Errorf("Describe = %q, want %q", got, tt.want)
		}
	}
	if !(Window{}).Recurring() || oneOff(t, "", "2026-12-20T00:00:00Z", "2027-01-06T00:00:00Z").Recurring() {
		t.Error("Recurring is wrong")
	}
}

// wallTime is the first instant at which the zone's wall clock shows the
// asked time of that date or later, and time.Date wherever that time is
// shown exactly once.
func TestWallTime(t *testing.T) {
	naive := func(x time.Time, loc *time.Location) time.Time {
		l := x.In(loc)
		return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC)
	}
	odd := 0
	for _, name := range []string{"UTC", "Europe/Berlin", "America/New_York", "America/Santiago", "Australia/Lord_Howe", "Asia/Kolkata", "Asia/Beirut", "Pacific/Apia"} {
		loc := zone(t, name)
		for day := range 366 {
			for _, c := range []Clock{0, 30, 90, 120, 150, 180, 600, 1439, EndOfDay} {
				got := wallTime(2026, time.January, 1+day, c, loc)
				target := time.Date(2026, time.January, 1+day, 0, int(c), 0, 0, time.UTC)
				if naive(got, loc).Before(target) || !naive(got.Add(-time.Second), loc).Before(target) {
					t.Errorf("%s day %d %v: got %v, not the first instant showing it or later", name, day, c, got)
				}
				if want := time.Date(2026, time.January, 1+day, 0, int(c), 0, 0, loc); !got.Equal(want) {
					odd++
					skipped := !naive(got, loc).Equal(target)
					repeated := naive(want, loc).Equal(target) && want.After(got)
					if !skipped && !repeated {
						t.Errorf("%s day %d %v: got %v, time.Date %v", name, day, c, got, want)
					}
				}
			}
		}
	}
	if odd == 0 {
		t.Error("no skipped or repeated times met: the test zones lost their DST")
	}
}
