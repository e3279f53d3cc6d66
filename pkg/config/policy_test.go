package config

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ringflow/ringflow/pkg/freeze"
)

const policyYAML = `
rings:
  - name: canary
    hosts: ["lab-*"]
    verify: ["/usr/local/bin/check-health", "--ring", "canary", ""]
  - name: early
    share: 20%
    verify: [check, --slow]
    verify-timeout: 1.5h
    freeze:
      - days: [Sat, sunday, sat]
        from: "18:00"
        to: 08:00
        timezone: Europe/Berlin
        reason: weekend
      - start: 2026-12-20T00:00:00Z
        end: "2027-01-06T00:00:00+01:00"
        reason: "holidays"
  - name: stable
    soak: 3d
    verify: [/bin/true]
    verify-timeout: 1w
    freeze:
      - from: "22:00"
        to: "24:00"
      - days: weekdays
        from: 9:00
        to: "17:00"
        timezone: America/New_York
      - Days: [weekend, fri]
        From: "00:00"
        To: "24:00"
        TimeZone: UTC
      - start: 2026-12-24
        end: 2026-12-27T00:00:00Z
    groups:
      - name: stable
        hosts: ["*"]
`

// window is a freeze.Window with its zone by name, for comparing.
type window struct {
	Days       []time.Weekday
	From, To   freeze.Clock
	Zone       string
	Start, End string
	Reason     string
	Key        string
}

func windows(ws []freeze.Window) []window {
	var out []window
	for _, w := range ws {
		x := window{Days: w.Days, From: w.From, To: w.To, Reason: w.Reason, Key: w.Key}
		if w.Location != nil {
			x.Zone = w.Location.String()
		}
		if !w.Start.IsZero() {
			x.Start = w.Start.Format(time.RFC3339)
		}
		if !w.End.IsZero() {
			x.End = w.End.Format(time.RFC3339)
		}
		out = append(out, x)
	}
	return out
}

func TestLoadPolicy(t *testing.T) {
	c := mustLoad(t, policyYAML)
	r := c.Rings
	if len(r) != 3 {
		t.Fatalf("rings = %v", c.RingNames())
	}
	// An empty argument is an argument: only the command must not be empty.
	if want := []string{"/usr/local/bin/check-health", "--ring", "canary", ""}; !reflect.DeepEqual(r[0].Verify, want) || r[0].VerifyTimeout != DefaultVerifyTimeout || r[0].Freeze != nil {
		t.Errorf("canary verify, timeout, freeze = %q, %v, %v", r[0].Verify, r[0].VerifyTimeout, r[0].Freeze)
	}
	if !reflect.DeepEqual(r[1].Verify, []string{"check", "--slow"}) || r[1].VerifyTimeout != 90*time.Minute {
		t.Errorf("early verify, timeout = %q, %v", r[1].Verify, r[1].VerifyTimeout)
	}
	if !reflect.DeepEqual(r[2].Verify, []string{"/bin/true"}) || r[2].VerifyTimeout != 7*24*time.Hour || r[2].Soak != 72*time.Hour {
		t.Errorf("stable verify, timeout, soak = %q, %v, %v", r[2].Verify, r[2].VerifyTimeout, r[2].Soak)
	}
	sat, sun := time.Saturday, time.Sunday
	wantEarly := []window{
		{Days: []time.Weekday{sat, sun}, From: 18 * 60, To: 8 * 60, Zone: "Europe/Berlin", Reason: "weekend", Key: "rings[1].freeze[0]"},
		{Start: "2026-12-20T00:00:00Z", End: "2027-01-06T00:00:00+01:00", Reason: "holidays", Key: "rings[1].freeze[1]"},
	}
	if got := windows(r[1].Freeze); !reflect.DeepEqual(got, wantEarly) {
		t.Errorf("early freeze:\ngot  %+v\nwant %+v", got, wantEarly)
	}
	wantStable := []window{
		{From: 22 * 60, To: freeze.EndOfDay, Zone: "UTC", Key: "rings[2].freeze[0]"},
		{Days: []time.Weekday{1, 2, 3, 4, 5}, From: 9 * 60, To: 17 * 60, Zone: "America/New_York", Key: "rings[2].freeze[1]"},
		{Days: []time.Weekday{time.Friday, sat, sun}, From: 0, To: freeze.EndOfDay, Zone: "UTC", Key: "rings[2].freeze[2]"},
		{Start: "2026-12-24T00:00:00Z", End: "2026-12-27T00:00:00Z", Key: "rings[2].freeze[3]"},
	}
	if got := windows(r[2].Freeze); !reflect.DeepEqual(got, wantStable) {
		t.Errorf("stable freeze:\ngot  %+v\nwant %+v", got, wantStable)
	}
	if got := freeze.Describe(r[1].Freeze[0]); got != "sat,sun 18:00–08:00 Europe/Berlin" {
		t.Errorf("Describe = %q", got)
	}

	// The loaded windows work: Saturday 2026-12-19 18:00 CET is 17:00Z,
	// and the weekend night runs into the holidays that follow on Sunday.
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if frozen, _, _ := freeze.Active(r[1].Freeze, at("2026-12-19T16:59:00Z")); frozen {
		t.Error("early frozen before Saturday 18:00 Berlin")
	}
	frozen, until, by := freeze.Active(r[1].Freeze, at("2026-12-19T17:00:00Z"))
	if !frozen || !until.Equal(at("2027-01-06T00:00:00+01:00")) || len(by) != 2 || by[1].Reason != "holidays" {
		t.Errorf("Active = %v, %v, %v", frozen, until, by)
	}
}

func TestLoadPolicyErrors(t *testing.T) {
	const ring = "rings: [{name: a, hosts: [x], "
	fz := func(w string) string { return ring + "freeze: [" + w + "]}]\n" }
	tests := []struct {
		name, yaml string
		key, msg   string // the first problem
		more       bool   // other problems may follow
	}{
		{"verify scalar", ring + "verify: /usr/local/bin/check}]\n", "rings[0].verify", `want a list: the command and its arguments, run without a shell, e.g. ["/usr/local/bin/check-health", "--ring", "canary"], got "/usr/local/bin/check"`, false},
		{"verify mapping", ring + "verify: {cmd: x}}]\n", "rings[0].verify", "want a list: the command and its arguments", false},
		{"verify empty list", ring + "verify: []}]\n", "rings[0].verify", "empty: give the command and its arguments, or leave verify out", false},
		{"verify number", ring + "verify: [check, --retries, 3]}]\n", "rings[0].verify[2]", "want a string, got 3 (quote it)", false},
		{"verify empty command", ring + "verify: ['', --ring, a]}]\n", "rings[0].verify[0]", "empty command", false},
		{"verify blank command", ring + "verify: ['  ']}]\n", "rings[0].verify[0]", "empty command", false},
		{"verify-timeout without verify", ring + "verify-timeout: 5m}]\n", "rings[0].verify-timeout", "set without verify", false},
		{"verify-timeout zero", ring + "verify: [x], verify-timeout: 0s}]\n", "rings[0].verify-timeout", `must be more than 0, got "0s"`, false},
		{"verify-timeout negative", ring + "verify: [x], verify-timeout: -1m}]\n", "rings[0].verify-timeout", `must be more than 0, got "-1m"`, false},
		{"verify-timeout bare number", ring + "verify: [x], verify-timeout: 300}]\n", "rings[0].verify-timeout", "write a duration with a unit, e.g. 24h", false},
		{"verify-timeout nonsense", ring + "verify: [x], verify-timeout: soon}]\n", "rings[0].verify-timeout", `want a duration such as 90m, 24h or 3d, got "soon"`, false},
		{"verify typo", ring + "verfy: [x]}]\n", "rings[0].verfy", "unknown key (did you mean verify?)", false},

		{"freeze not a list", ring + "freeze: {from: '18:00', to: '08:00'}}]\n", "rings[0].freeze", "want a list of windows, e.g. [{days: [sat, sun]", false},
		{"window not a mapping", fz("weekend"), "rings[0].freeze[0]", `want a mapping such as {days: [sat, sun], from: "18:00", to: "08:00"} or {start: `, false},
		{"window both kinds", fz("{from: '18:00', to: '08:00', start: 2026-12-20T00:00:00Z, end: 2027-01-06T00:00:00Z}"), "rings[0].freeze[0]", "a window is either recurring (from, to) or one-off (start, end), not both", false},
		{"window neither kind", fz("{reason: why}"), "rings[0].freeze[0]", "want from and to (a recurring window) or start and end (a one-off window)", false},
		{"window empty", fz("{}"), "rings[0].freeze[0]", "want from and to", false},
		{"days without times", fz("{days: [sat]}"), "rings[0].freeze[0].from", "required", true},
		{"from without to", fz("{from: '18:00'}"), "rings[0].freeze[0].to", "required", false},
		{"to without from", fz("{to: '18:00'}"), "rings[0].freeze[0].from", "required", false},
		{"start without end", fz("{start: 2026-12-20T00:00:00Z}"), "rings[0].freeze[0].end", "required", false},
		{"end without start", fz("{end: 2026-12-20T00:00:00Z}"), "rings[0].freeze[0].start", "required", false},
		{"days in one-off", fz("{days: [sat], start: 2026-12-20T00:00:00Z, end: 2026-12-21T00:00:00Z}"), "rings[0].freeze[0].days", "only a recurring window (from, to) has days; this one is one-off (start, end)", false},
		{"timezone in one-off", fz("{timezone: UTC, start: 2026-12-20T00:00:00Z, end: 2026-12-21T00:00:00Z}"), "rings[0].freeze[0].timezone", "only a recurring window (from, to) has timezone", false},
		{"unknown window key", fz("{form: '18:00', to: '08:00'}"), "rings[0].freeze[0].form", "unknown key (did you mean from?)", true},
		{"unknown window key far", fz("{from: '18:00', to: '08:00', why: x}"), "rings[0].freeze[0].why", "unknown key", false},
		{"time-zone typo", fz("{from: '18:00', to: '08:00', time-zone: UTC}"), "rings[0].freeze[0].time-zone", "unknown key (did you mean timezone?)", false},
		{"from hour 25", fz("{from: '25:00', to: '08:00'}"), "rings[0].freeze[0].from", `want a time of day "HH:MM" from 00:00 to 23:59, got "25:00"`, false},
		{"from 24:00", fz("{from: '24:00', to: '08:00'}"), "rings[0].freeze[0].from", `got "24:00" (24:00 ends a day: only to may be 24:00)`, false},
		{"to 24:01", fz("{from: '18:00', to: '24:01'}"), "rings[0].freeze[0].to", `want a time of day "HH:MM" from 00:00 to 24:00, got "24:01"`, false},
		{"to minutes 60", fz("{from: '18:00', to: '08:60'}"), "rings[0].freeze[0].to", `got "08:60"`, false},
		{"from without colon", fz("{from: 1800, to: '08:00'}"), "rings[0].freeze[0].from", "got 1800", false},
		{"from with seconds", fz("{from: '18:00:00', to: '08:00'}"), "rings[0].freeze[0].from", `got "18:00:00"`, false},
		{"from words", fz("{from: evening, to: '08:00'}"), "rings[0].freeze[0].from", `got "evening"`, false},
		{"from equals to", fz("{from: '08:00', to: '8:00'}"), "rings[0].freeze[0].to", "same as from: the window is empty (use days with from 00:00 to 24:00 for whole days)", false},
		{"midnight to midnight", fz("{from: '00:00', to: '00:00'}"), "rings[0].freeze[0].to", "use days with from 00:00 to 24:00 for whole days", false},
		{"unknown day", fz("{days: [sat, sa], from: '18:00', to: '08:00'}"), "rings[0].freeze[0].days[1]", `unknown day "sa": want mon, tue, wed, thu, fri, sat, sun, weekdays, weekend or daily`, false},
		{"unknown day in a string", fz("{days: 'sat,sonntag', from: '18:00', to: '08:00'}"), "rings[0].freeze[0].days", `unknown day "sonntag"`, false},
		{"day number", fz("{days: [6], from: '18:00', to: '08:00'}"), "rings[0].freeze[0].days[0]", "want a day name, got 6", false},
		{"days empty list", fz("{days: [], from: '18:00', to: '08:00'}"), "rings[0].freeze[0].days", "empty: leave days out for every day", false},
		{"days empty string", fz("{days: '', from: '18:00', to: '08:00'}"), "rings[0].freeze[0].days", "empty: leave days out for every day", false},
		{"days mapping", fz("{days: {sat: true}, from: '18:00', to: '08:00'}"), "rings[0].freeze[0].days", "want a list of days, e.g. [sat, sun], got a mapping", false},
		{"unknown zone", fz("{from: '18:00', to: '08:00', timezone: Europe/Berln}"), "rings[0].freeze[0].timezone", `unknown time zone "Europe/Berln": want an IANA name such as Europe/Berlin or UTC`, false},
		{"zone wrong case", fz("{from: '18:00', to: '08:00', timezone: europe/berlin}"), "rings[0].freeze[0].timezone", "unknown time zone", false},
		{"zone Local", fz("{from: '18:00', to: '08:00', timezone: Local}"), "rings[0].freeze[0].timezone", `"Local" depends on the machine`, false},
		{"zone empty", fz("{from: '18:00', to: '08:00', timezone: ''}"), "rings[0].freeze[0].timezone", "want an IANA time zone such as Europe/Berlin", false},
		{"zone number", fz("{from: '18:00', to: '08:00', timezone: 1}"), "rings[0].freeze[0].timezone", "want a string, got 1", false},
		{"end before start", fz("{start: 2027-01-06T00:00:00Z, end: 2026-12-20T00:00:00Z}"), "rings[0].freeze[0].end", "want a time after start (2027-01-06T00:00:00Z), got 2026-12-20T00:00:00Z", false},
		{"end equals start", fz("{start: 2026-12-20T01:00:00+01:00, end: 2026-12-20T00:00:00Z}"), "rings[0].freeze[0].end", "want a time after start", false},
		{"start not a time", fz("{start: christmas, end: 2026-12-20T00:00:00Z}"), "rings[0].freeze[0].start", `want an RFC 3339 time such as 2026-12-20T00:00:00Z or 2026-12-20T00:00:00+01:00, got "christmas"`, false},
		{"quoted start without offset", fz("{start: '2026-12-20T10:00:00', end: 2026-12-21T00:00:00Z}"), "rings[0].freeze[0].start", "want an RFC 3339 time", false},
		{"end a number", fz("{start: 2026-12-20T00:00:00Z, end: 2027}"), "rings[0].freeze[0].end", "got 2027", false},
		{"reason not a string", fz("{from: '18:00', to: '08:00', reason: [a]}"), "rings[0].freeze[0].reason", "want a string, got a list", false},
		{"second window", fz("{from: '18:00', to: '08:00'}, {from: '18:00', to: '18:00'}"), "rings[0].freeze[1].to", "same as from", false},
		{"freeze on a ring with groups", "rings: [{name: a, groups: [{name: g, hosts: [x]}], freeze: [{from: '1:00', to: '1:00'}]}]\n", "rings[0].freeze[0].to", "same as from", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadYAML(t, tt.yaml)
			ps := problemsOf(t, err)
			if ps[0].Key != tt.key || !strings.Contains(ps[0].Message, tt.msg) {
				t.Errorf("first problem = %q: %q, want %q: …%q…", ps[0].Key, ps[0].Message, tt.key, tt.msg)
			}
			if len(ps) > 1 && !tt.more {
				t.Errorf("want one problem, got %d: %v", len(ps), ps)
			}
		})
	}
}

// One file shows every problem of its windows at once.
func TestLoadPolicyCollectsAllProblems(t *testing.T) {
	_, err := loadYAML(t, `
rings:
  - name: a
    hosts: [x]
    verify-timeout: 5m
    freeze:
      - days: [sat, funday]
        from: "24:00"
        to: "25:00"
        timezone: Mars/Olympus
      - start: 2027-01-06T00:00:00Z
        end: 2026-12-20T00:00:00Z
        reasn: typo
`)
	ps := problemsOf(t, err)
	var got []string
	for _, p := range ps {
		got = append(got, p.Key+": "+p.Message)
	}
	want := []string{
		"rings[0].verify-timeout: set without verify",
		`rings[0].freeze[0].days[1]: unknown day "funday": want ` + freeze.DayNames,
		`rings[0].freeze[0].from: want a time of day "HH:MM" from 00:00 to 23:59, got "24:00" (24:00 ends a day: only to may be 24:00)`,
		`rings[0].freeze[0].to: want a time of day "HH:MM" from 00:00 to 24:00, got "25:00"`,
		`rings[0].freeze[0].timezone: unknown time zone "Mars/Olympus": want an IANA name such as Europe/Berlin or UTC`,
		"rings[0].freeze[1].end: want a time after start (2027-01-06T00:00:00Z), got 2026-12-20T00:00:00Z",
		"rings[0].freeze[1].reasn: unknown key (did you mean reason?)",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\ngot  %q\nwant %q", got, want)
	}
}

// The starter's commented verify and freeze examples load once uncommented.
func TestStarterPolicyExamples(t *testing.T) {
	y := StarterYAML([]string{"lab-1", "b"})
	var b strings.Builder
	inFreeze := false
	for _, line := range strings.SplitAfter(y, "\n") {
		body, commented := strings.CutPrefix(line, "    # ")
		switch {
		case commented && (strings.HasPrefix(body, "verify") || strings.HasPrefix(body, "freeze:")):
			inFreeze = strings.HasPrefix(body, "freeze:")
			line = "    " + body
		case commented && inFreeze && strings.HasPrefix(body, "  "):
			line = "    " + body
		default:
			inFreeze = false
		}
		b.WriteString(line)
	}
	c := mustLoad(t, b.String())
	canary, stable := c.Rings[0], c.Rings[1]
	if len(canary.Verify) == 0 || canary.VerifyTimeout != DefaultVerifyTimeout || len(stable.Freeze) != 2 {
		t.Errorf("uncommented starter: canary verify %q %v, stable freeze %v\n%s", canary.Verify, canary.VerifyTimeout, stable.Freeze, b.String())
	}
}
