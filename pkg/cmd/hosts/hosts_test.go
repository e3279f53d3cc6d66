package hosts

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ringflow/ringflow/pkg/iostreams"
	"github.com/ringflow/ringflow/pkg/membership"
	"github.com/ringflow/ringflow/pkg/ring"
)

// Every host shows what pins its group, last in the table so the older
// columns keep their places, and as a pin object (null: not pinned) in
// JSON.
func TestRenderPins(t *testing.T) {
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	ps := []membership.Placement{
		{Host: "lab-1", Group: "canary", Ring: "canary", Branch: "canary", Rule: membership.RuleLiteral},
		{Host: "sbc-1", Group: "field-sbc", Ring: "stable", Branch: "field-sbc", Rule: membership.RuleGlob},
		{Host: "web-1", Group: "stable", Ring: "stable", Branch: "stable", Rule: membership.RuleCatchAll},
	}
	pins := map[string]*ring.Pin{
		"field-sbc": {Config: "rings[1].groups[1].pin", Commit: "734a2e021aca" + strings.Repeat("0", 28)},
		"stable":    {Actor: "ops@host", Time: at, Reason: "trade show"},
	}
	uri := func(branch, host string) string { return "git+file:///fleet?ref=" + branch + "#" + host }
	rows := rowsOf(ps, pins, uri)

	for _, tt := range []struct {
		tty  bool
		want []string
	}{
		{false, []string{
			"lab-1\tcanary\tcanary\tcanary\tliteral\tgit+file:///fleet?ref=canary#lab-1\t-",
			"sbc-1\tfield-sbc\tstable\tfield-sbc\tglob\tgit+file:///fleet?ref=field-sbc#sbc-1\tpinned at 734a2e021aca" + strings.Repeat("0", 28) +
				" by the config (rings[1].groups[1].pin)",
			"web-1\tstable\tstable\tstable\tcatch-all\tgit+file:///fleet?ref=stable#web-1\tpinned by ops@host at 2026-12-07T10:00:00Z: trade show",
		}},
		{true, []string{
			"HOST   GROUP      RING    BRANCH     RULE       URI                                    PINNED",
			"lab-1  canary     canary  canary     literal    git+file:///fleet?ref=canary#lab-1     -",
			"sbc-1  field-sbc  stable  field-sbc  glob       git+file:///fleet?ref=field-sbc#sbc-1  config@734a2e0",
			"web-1  stable     stable  stable     catch-all  git+file:///fleet?ref=stable#web-1     ops@host: trade show",
		}},
	} {
		ios, _, out, _ := iostreams.Test()
		ios.SetStdoutTTY(tt.tty)
		ios.SetTerminalWidth(200)
		if err := render(&HostsOptions{IO: ios}, rows); err != nil {
			t.Fatal(err)
		}
		if got, want := out.String(), strings.Join(tt.want, "\n")+"\n"; got != want {
			t.Errorf("tty=%v:\n%s\nwant\n%s", tt.tty, got, want)
		}
	}

	// At 80 columns the URI keeps its end (what differs between hosts)
	// and every line fits.
	ios, _, out, _ := iostreams.Test()
	ios.SetStdoutTTY(true)
	ios.SetTerminalWidth(80)
	if err := render(&HostsOptions{IO: ios}, rows); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		if utf8.RuneCountInString(line) > 80 {
			t.Errorf("at 80 columns a line is wider: %q", line)
		}
	}
	if !strings.Contains(out.String(), "field-sbc#sbc-1") {
		t.Errorf("at 80 columns the URI lost its end:\n%s", out)
	}

	ios, _, out, _ = iostreams.Test()
	if err := render(&HostsOptions{IO: ios, JSON: true}, rows); err != nil {
		t.Fatal(err)
	}
	var got []map[string]json.RawMessage
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for i, want := range []string{
		`null`,
		`{"config":"rings[1].groups[1].pin","commit":"734a2e021aca` + strings.Repeat("0", 28) + `","actor":"","time":"","reason":""}`,
		`{"config":"","commit":"","actor":"ops@host","time":"2026-12-07T10:00:00Z","reason":"trade show"}`,
	} {
		var pin bytes.Buffer
		if err := json.Compact(&pin, got[i]["pin"]); err != nil || pin.String() != want {
			t.Errorf("host %s: pin %s (%v), want %s", got[i]["host"], got[i]["pin"], err, want)
		}
	}
}
