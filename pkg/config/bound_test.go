package config

import (
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

const oneRing = "rings: [{name: all, hosts: ['*']}]\n"

func TestBuildBounds(t *testing.T) {
	c := mustLoad(t, oneRing)
	if c.Build.Timeout != 2*time.Hour || c.Build.MaxSilent != 0 {
		t.Errorf("defaults: timeout %v, max-silent %v; want 2h and none", c.Build.Timeout, c.Build.MaxSilent)
	}
	for _, tt := range []struct {
		yaml               string
		timeout, maxSilent time.Duration
	}{
		{"build: {timeout: 90m, max-silent: 10m}\n", 90 * time.Minute, 10 * time.Minute},
		{"build: {timeout: 1d12h}\n", 36 * time.Hour, 0},
		{"build: {timeout: none, max-silent: None}\n", 0, 0},
		{"build: {timeout: 0}\n", 0, 0},
		{"build: {timeout: '0'}\n", 0, 0},
		{"build: {timeout: 0s}\n", 0, 0},
		{"build: {timeout: 1.5s}\n", 1500 * time.Millisecond, 0},
	} {
		c := mustLoad(t, oneRing+tt.yaml)
		if c.Build.Timeout != tt.timeout || c.Build.MaxSilent != tt.maxSilent {
			t.Errorf("%q: timeout %v, max-silent %v; want %v, %v", tt.yaml, c.Build.Timeout, c.Build.MaxSilent, tt.timeout, tt.maxSilent)
		}
	}
}

func TestBuildBoundErrors(t *testing.T) {
	for _, tt := range []struct{ yaml, key, msg string }{
		{"build: {timeout: 90}\n", "build.timeout", `write a duration with a unit, e.g. 2h (or none: no bound), got "90"`},
		{"build: {timeout: '7200'}\n", "build.timeout", `write a duration with a unit, e.g. 2h (or none: no bound), got "7200"`},
		{"build: {timeout: soon}\n", "build.timeout", `want a duration such as 90m or 2h, or none (no bound), got "soon"`},
		{"build: {timeout: -1h}\n", "build.timeout", `must not be negative, got "-1h"`},
		{"build: {max-silent: 500ms}\n", "build.max-silent", `want at least 1s (nix counts whole seconds), or none (no bound), got "500ms"`},
		{"build: {max-silent: true}\n", "build.max-silent", "want a duration such as 90m or 2h, or none (no bound), got true"},
		{"build: {max-silent: [1h]}\n", "build.max-silent", "got a list"},
		{"build: {timout: 1h}\n", "build.timout", "unknown key (did you mean timeout?)"},
		{"build: {max-silence: 1h}\n", "build.max-silence", "unknown key (did you mean max-silent?)"},
	} {
		_, err := loadYAML(t, oneRing+tt.yaml)
		ps := problemsOf(t, err)
		if len(ps) != 1 || ps[0].Key != tt.key || !strings.Contains(ps[0].Message, tt.msg) {
			t.Errorf("%q: problems %v, want one %s: …%s…", tt.yaml, ps, tt.key, tt.msg)
		}
	}
}

func TestBuildBoundsFromEnvAndFlags(t *testing.T) {
	c := mustLoad(t, oneRing+"build: {timeout: 3h, max-silent: 1h}\n", "RINGFLOW_BUILD_TIMEOUT=45m", "RINGFLOW_BUILD_MAX_SILENT=none")
	if c.Build.Timeout != 45*time.Minute || c.Build.MaxSilent != 0 {
		t.Errorf("from env: timeout %v, max-silent %v; want 45m and none", c.Build.Timeout, c.Build.MaxSilent)
	}
	_, err := loadYAML(t, oneRing, "RINGFLOW_BUILD_TIMEOUT=forever")
	if ps := problemsOf(t, err); ps[0].Key != "build.timeout" || !strings.HasSuffix(ps[0].Message, `got "forever" (from RINGFLOW_BUILD_TIMEOUT)`) {
		t.Errorf("bad env value: %v", ps)
	}

	fs := pflag.NewFlagSet("ringflow", pflag.ContinueOnError)
	fs.String("build-timeout", "", "")
	if err := fs.Parse([]string{"--build-timeout=20m"}); err != nil {
		t.Fatal(err)
	}
	c, err = Load(LoadOptions{Dir: writeConfig(t, oneRing), SearchPaths: []string{"."}, Flags: fs, Env: []string{"RINGFLOW_BUILD_TIMEOUT=45m"}})
	if err != nil || c.Build.Timeout != 20*time.Minute {
		t.Errorf("from a flag: %v, timeout %v; want 20m", err, c.Build.Timeout)
	}
	if EnvName("build.max-silent") != "RINGFLOW_BUILD_MAX_SILENT" {
		t.Errorf("EnvName(build.max-silent) = %s", EnvName("build.max-silent"))
	}
}

func TestParseBound(t *testing.T) {
	for in, want := range map[string]time.Duration{"2h": 2 * time.Hour, " none ": 0, "NONE": 0, "0": 0, "1w": 7 * 24 * time.Hour, "1s": time.Second} {
		if got, err := ParseBound(in); err != nil || got != want {
			t.Errorf("ParseBound(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "2", "1h-", "-5m", "999ms", "never"} {
		if got, err := ParseBound(in); err == nil {
			t.Errorf("ParseBound(%q) = %v, want an error", in, got)
		}
	}
}
