package observe

import (
	"reflect"
	"slices"
	"testing"

	"github.com/ringflow/ringflow/pkg/config"
)

// fakeOuts is the evidence: commit -> host -> out path.
type fakeOuts map[string]map[string]string

func (f fakeOuts) Out(commit, host string) string { return f[commit][host] }

func (f fakeOuts) Commits(host, out string) []string {
	var cs []string
	for c, hosts := range f {
		if out != "" && hosts[host] == out {
			cs = append(cs, c)
		}
	}
	slices.Sort(cs)
	return cs
}

// c1 <- c2 <- c3 on dev; c2 changed only db, so web's toplevel at c1 and
// c2 is the same.
var outs = fakeOuts{
	"c1": {"web": "/nix/store/w1", "db": "/nix/store/d1"},
	"c2": {"web": "/nix/store/w1", "db": "/nix/store/d2"},
	"c3": {"web": "/nix/store/w3", "db": "/nix/store/d2"},
}

func TestPlace(t *testing.T) {
	history := []string{"c3", "c2", "c1"}
	got := Place(map[string]Run{
		"web":   {Host: "web", Toplevel: "/nix/store/w1"},
		"db":    {Host: "db", Toplevel: "/nix/store/d2"},
		"lab":   {Host: "lab", Toplevel: "/nix/store/hand-built"},
		"comin": {Host: "comin", Commit: "c9"},
		"down":  {Host: "down", Err: "unreachable"},
	}, outs, history)
	want := map[string]Placed{
		"web":   {Run: Run{Host: "web", Toplevel: "/nix/store/w1"}, Commits: []string{"c1", "c2"}, Newest: "c2"},
		"db":    {Run: Run{Host: "db", Toplevel: "/nix/store/d2"}, Commits: []string{"c2", "c3"}, Newest: "c3"},
		"lab":   {Run: Run{Host: "lab", Toplevel: "/nix/store/hand-built"}},
		"comin": {Run: Run{Host: "comin", Commit: "c9"}, Commits: []string{"c9"}, Newest: "c9"},
		"down":  {Run: Run{Host: "down", Err: "unreachable"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Place:\ngot  %+v\nwant %+v", got, want)
	}
	if !got["lab"].Unknown() || got["down"].Unknown() || got["web"].Unknown() {
		t.Error("Unknown: want lab only")
	}
	// A comin host at c1: its toplevel comes from the evidence, and c2
	// gives it the same.
	p := Place(map[string]Run{"web": {Host: "web", Commit: "c1"}}, outs, history)["web"]
	if p.Toplevel != "/nix/store/w1" || !reflect.DeepEqual(p.Commits, []string{"c1", "c2"}) || p.Newest != "c1" {
		t.Errorf("comin at c1 = %+v", p)
	}
}

func TestRuns(t *testing.T) {
	for _, tt := range []struct {
		name      string
		run       Run
		candidate string
		want      bool
	}{
		{"its toplevel", Run{Host: "web", Toplevel: "/nix/store/w1"}, "c2", true},
		{"an older commit with the same toplevel", Run{Host: "web", Toplevel: "/nix/store/w1"}, "c1", true},
		{"an older toplevel", Run{Host: "web", Toplevel: "/nix/store/w1"}, "c3", false},
		{"another host's toplevel", Run{Host: "db", Toplevel: "/nix/store/w1"}, "c2", false},
		{"the candidate by name", Run{Host: "web", Commit: "c3"}, "c3", true},
		{"a commit with the candidate's toplevel", Run{Host: "web", Commit: "c1"}, "c2", true},
		{"a commit with another toplevel", Run{Host: "web", Commit: "c1"}, "c3", false},
		{"a candidate never built", Run{Host: "web", Toplevel: "/nix/store/w1"}, "c4", false},
		{"the candidate by name, never built", Run{Host: "web", Commit: "c4"}, "c4", true},
		{"unread", Run{Host: "web", Err: "down"}, "c2", false},
		{"nothing", Run{Host: "web"}, "c2", false},
	} {
		if got := Runs(tt.run, tt.candidate, outs); got != tt.want {
			t.Errorf("%s: Runs(%+v, %s) = %v, want %v", tt.name, tt.run, tt.candidate, got, tt.want)
		}
	}
}

func TestNew(t *testing.T) {
	if _, err := New(nil, Options{}); err == nil {
		t.Error("New(nil) succeeded")
	}
	if _, err := New(&config.Observe{}, Options{}); err == nil {
		t.Error("New with no source succeeded")
	}
	for _, cfg := range []*config.Observe{
		{Prometheus: &config.PrometheusSource{URL: "http://p:9090", HostLabel: "instance", Timeout: 1}},
		{SSH: &config.SSHSource{Target: "{host}", Command: "x", Timeout: 1, Parallel: 1}},
		{Command: []string{"x"}},
	} {
		if src, err := New(cfg, Options{}); err != nil || src == nil {
			t.Errorf("New(%s) = %v, %v", cfg.Source(), src, err)
		}
	}
}
