package hostsim

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const top = "/nix/store/9w1rj3vzcwm0m7fdlr0bkg8xg2ib8v1a-nixos-system-lab-1"

func TestExposition(t *testing.T) {
	got := string(Exposition(top, time.Unix(1765135200, 900_000_000)))
	want := `# HELP ringflow_host_toplevel_info The NixOS system this host runs (readlink -f /run/current-system).
# TYPE ringflow_host_toplevel_info gauge
ringflow_host_toplevel_info{toplevel="/nix/store/9w1rj3vzcwm0m7fdlr0bkg8xg2ib8v1a-nixos-system-lab-1"} 1
# HELP ringflow_host_switched_timestamp_seconds When this host switched to the system it runs, in seconds since the epoch.
# TYPE ringflow_host_switched_timestamp_seconds gauge
ringflow_host_switched_timestamp_seconds 1765135200
`
	if got != want {
		t.Errorf("Exposition:\n%s\nwant:\n%s", got, want)
	}
	none := string(Exposition("", time.Time{}))
	if strings.Contains(none, "} 1") || strings.Count(none, "\n") != 4 {
		t.Errorf("Exposition before any switch has samples:\n%s", none)
	}
}

func TestCominExposition(t *testing.T) {
	commit := "8deac5cd1acd0123456789abcdef0123456789ab"
	got := string(CominExposition(commit, CominDone))
	want := "# HELP comin_deployment_info Info of the last deployment.\n" +
		"# TYPE comin_deployment_info gauge\n" +
		`comin_deployment_info{commit_id="` + commit + `",status="done"} 1` + "\n"
	if got != want {
		t.Errorf("CominExposition:\n%s\nwant:\n%s", got, want)
	}
	if got := string(CominExposition("", "")); strings.Contains(got, "commit_id") {
		t.Errorf("no deployment yet, but a series:\n%s", got)
	}
}

func TestEscapeLabel(t *testing.T) {
	if got, want := escapeLabel("a\\b\"c\nd"), `a\\b\"c\nd`; got != want {
		t.Errorf("escapeLabel = %q, want %q", got, want)
	}
}

func TestWriteTextfile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, TextfileName)
	for _, content := range []string{"one\n", "two\n"} {
		if err := WriteTextfile(p, []byte(content)); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil || string(b) != content {
			t.Fatalf("textfile %q, %v; want %q", b, err, content)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644: node_exporter runs as its own user", fi.Mode())
	}
}

func TestNewChecks(t *testing.T) {
	base := Options{Host: "lab-1", Remote: "/r.git", Branch: "canary", State: t.TempDir()}
	for name, mod := range map[string]func(*Options){
		"no host":         func(o *Options) { o.Host = "" },
		"no remote":       func(o *Options) { o.Remote = "" },
		"no branch":       func(o *Options) { o.Branch = "" },
		"no state":        func(o *Options) { o.State = "" },
		"short commit":    func(o *Options) { o.FailSwitch = []string{"abc"} },
		"not hex":         func(o *Options) { o.FailSwitch = []string{"xyz123"} },
		"relative a path": func(o *Options) { o.FailSwitch = []string{"nix/store/x"} },
	} {
		o := base
		mod(&o)
		if _, err := New(o); err == nil {
			t.Errorf("%s: New accepted %+v", name, o)
		}
	}
	o := base
	o.FailSwitch = []string{"8deac5cd", top}
	if _, err := New(o); err != nil {
		t.Errorf("New: %v", err)
	}
}

// TestRefuses: -fail-switch by commit prefix or toplevel; -never-switch
// after the first system only.
func TestRefuses(t *testing.T) {
	s, err := New(Options{Host: "lab-1", Remote: "/r.git", Branch: "canary", State: t.TempDir(),
		FailSwitch: []string{"8deac5cd", top}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ commit, out, want string }{
		{"8deac5cd1acd", "/nix/store/other", "-fail-switch 8deac5cd"},
		{"1234567890ab", top, "-fail-switch " + top},
		{"1234567890ab", "/nix/store/other", ""},
	} {
		if got := s.refuses(c.commit, c.out); got != c.want {
			t.Errorf("refuses(%s, %s) = %q, want %q", c.commit, c.out, got, c.want)
		}
	}
	s.o.NeverSwitch = true
	if got := s.refuses("1234567890ab", "/nix/store/other"); got != "" {
		t.Errorf("-never-switch refused the first system: %q", got)
	}
	s.st.toplevel = top
	if got := s.refuses("1234567890ab", "/nix/store/other"); got != "-never-switch" {
		t.Errorf("-never-switch let the host switch: %q", got)
	}
}

// TestSwitchAndServe: a switch moves the link, writes the textfile and
// changes /metrics; the same system again keeps the switch time; comin's
// format reports the last deployment, failed ones too.
func TestSwitchAndServe(t *testing.T) {
	now := time.Unix(1765135200, 0)
	dir := t.TempDir()
	s, err := New(Options{Host: "lab-1", Remote: "/r.git", Branch: "canary", State: dir, Now: func() time.Time { return now }, Log: &strings.Builder{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.switchTo("aaaa", top); err != nil {
		t.Fatal(err)
	}
	if target, err := os.Readlink(filepath.Join(dir, "current-system")); err != nil || target != top {
		t.Errorf("current-system -> %q, %v; want %s", target, err, top)
	}
	want := string(Exposition(top, now))
	if b, _ := os.ReadFile(filepath.Join(dir, TextfileName)); string(b) != want {
		t.Errorf("textfile:\n%s\nwant:\n%s", b, want)
	}
	if got := scrape(t, s); got != want {
		t.Errorf("/metrics:\n%s\nwant:\n%s", got, want)
	}
	first := now
	now = now.Add(time.Hour)
	if err := s.switchTo("bbbb", top); err != nil {
		t.Fatal(err)
	}
	if got := scrape(t, s); got != string(Exposition(top, first)) {
		t.Errorf("the same system again changed the switch time:\n%s", got)
	}

	// Restarted: it knows what it runs and since when (the link's time).
	r, err := New(Options{Host: "lab-1", Remote: "/r.git", Branch: "canary", State: dir})
	if err != nil {
		t.Fatal(err)
	}
	if r.running() != top || r.st.switched.IsZero() {
		t.Errorf("restarted host runs %q since %v", r.running(), r.st.switched)
	}

	s.o.Comin = true
	if got := scrape(t, s); got != string(CominExposition("bbbb", CominDone)) {
		t.Errorf("comin /metrics:\n%s", got)
	}
	s.failSwitch("cccc", "/nix/store/new", "-fail-switch cccc")
	if got := scrape(t, s); got != string(CominExposition("cccc", CominFailed)) {
		t.Errorf("comin /metrics after a failed switch:\n%s", got)
	}
	s.o.Comin = false
	if got := scrape(t, s); got != string(Exposition(top, first)) {
		t.Errorf("/metrics after a failed switch:\n%s", got)
	}
}

func scrape(t *testing.T, s *Sim) string {
	t.Helper()
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q", ct)
	}
	return rec.Body.String()
}

func TestUnitExposition(t *testing.T) {
	if b := UnitExposition(nil); b != nil {
		t.Errorf("no failed units: %q, want nothing", b)
	}
	got := string(UnitExposition([]string{"nginx.service", "backup.timer"}))
	want := "# HELP node_systemd_unit_state Systemd unit\n# TYPE node_systemd_unit_state gauge\n" +
		"node_systemd_unit_state{name=\"nginx.service\",state=\"failed\",type=\"service\"} 1\n" +
		"node_systemd_unit_state{name=\"backup.timer\",state=\"failed\",type=\"timer\"} 1\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestFailedUnits(t *testing.T) {
	dir := t.TempDir()
	top := filepath.Join(dir, "nixos-system-lab-1")
	if err := os.WriteFile(top, []byte("nixos-system lab-1\nconfig abc\nfailed-units nginx.service backup.timer\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := FailedUnits(top); len(got) != 2 || got[0] != "nginx.service" || got[1] != "backup.timer" {
		t.Errorf("FailedUnits = %q", got)
	}
	if got := FailedUnits(filepath.Join(dir, "missing")); got != nil {
		t.Errorf("unreadable toplevel: %q, want none", got)
	}
}
