package config

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ringflow/ringflow/pkg/suggest"
)

func TestParseDuration(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Duration
	}{
		{"0", 0},
		{"0s", 0},
		{"90m", 90 * time.Minute},
		{"24h", 24 * time.Hour},
		{"1h30m", 90 * time.Minute},
		{"3d", 72 * time.Hour},
		{"1w", 168 * time.Hour},
		{"1.5d", 36 * time.Hour},
		{"1w2d12h", 9*24*time.Hour + 12*time.Hour},
		{" 2d ", 48 * time.Hour},
		{"-1h", -time.Hour},
		{"-2d", -48 * time.Hour},
		{"500ms", 500 * time.Millisecond},
	} {
		got, err := parseDuration(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "d", "90", "3 days", "3days", "1x", "h1", "1..5d", "100000000w", "2562047h48m"} {
		if got, err := parseDuration(in); err == nil {
			t.Errorf("parseDuration(%q) = %v, want an error", in, got)
		}
	}
}

func TestCheckBranch(t *testing.T) {
	for _, ok := range []string{"dev", "main", "deploy/canary", "field-sbc", "a.b", "v1.2", "a@b", "ümlaut", "x/y/z"} {
		if why := checkBranch(ok); why != "" {
			t.Errorf("checkBranch(%q) = %q, want valid", ok, why)
		}
	}
	for bad, want := range map[string]string{
		"":           "empty",
		"@":          `"@"`,
		"HEAD":       `"HEAD"`,
		"-x":         `starts with "-"`,
		"x/":         `ends with "/"`,
		"/x":         `starts with "/"`,
		"x.":         `ends with "."`,
		"a..b":       `".."`,
		"a//b":       `"//"`,
		"a@{b":       `"@{"`,
		"a b":        "space",
		"a\tb":       "control character",
		"a\x7fb":     "control character",
		"a~b":        `'~'`,
		"a^b":        `'^'`,
		"a:b":        `':'`,
		"a?b":        `'?'`,
		"a*b":        `'*'`,
		"a[b":        `'['`,
		`a\b`:        `'\\'`,
		".x":         `component ".x" starts with "."`,
		"a/.x":       `component ".x"`,
		"x.lock":     `ends with ".lock"`,
		"x.lock/y":   `component "x.lock"`,
		"deploy/.lk": `starts with "."`,
	} {
		if why := checkBranch(bad); !strings.Contains(why, want) {
			t.Errorf("checkBranch(%q) = %q, want …%s…", bad, why, want)
		}
	}
}

func TestSuggestKeys(t *testing.T) {
	for in, want := range map[string]string{
		"bulid":   "build",
		"sook":    "soak",
		"nixargs": "nix-args",
		"hots":    "hosts",
		"ring":    "rings",
		"colour":  "",
		"x":       "",
		"zebra":   "",
	} {
		if got := suggest.Nearest(in, append(append(append([]string{}, topKeys...), ringKeys...), buildKeys...)); got != want {
			t.Errorf("Suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStarterYAML(t *testing.T) {
	for _, hosts := range [][]string{
		nil,
		{"lab-1"},
		{"Web.Example-1", "b"},
		{"a", "b", "c", "d", "e", "f"},
		{`odd "name"`, "x"},
	} {
		y := StarterYAML(hosts)
		dir := writeConfig(t, y)
		c, err := Load(LoadOptions{Dir: dir, SearchPaths: []string{"."}})
		if err != nil {
			t.Errorf("StarterYAML(%q) does not load: %v\n%s", hosts, err, y)
			continue
		}
		if c.File != filepath.Join(dir, FileName) {
			t.Errorf("file = %q", c.File)
		}
		// The starter spells out the defaults; nothing else changes.
		got := *c
		got.File, got.Rings = "", nil
		if !reflect.DeepEqual(&got, Default()) {
			t.Errorf("StarterYAML(%q) settings = %+v, want the defaults", hosts, got)
		}
		var wantRings []string
		if len(hosts) > 0 {
			wantRings = append(wantRings, "canary")
		}
		if len(hosts) >= starterShareMin {
			wantRings = append(wantRings, "early")
		}
		wantRings = append(wantRings, "stable")
		if !reflect.DeepEqual(c.RingNames(), wantRings) {
			t.Errorf("StarterYAML(%q) rings = %v, want %v", hosts, c.RingNames(), wantRings)
		}
		if len(hosts) > 0 && !reflect.DeepEqual(c.Rings[0].Groups[0].Hosts, hosts[:1]) {
			t.Errorf("StarterYAML(%q) canary hosts = %q", hosts, c.Rings[0].Groups[0].Hosts)
		}
		last := c.Rings[len(c.Rings)-1].Groups[0]
		if !reflect.DeepEqual(last.Hosts, []string{"*"}) {
			t.Errorf("StarterYAML(%q) last ring hosts = %q, want [*]", hosts, last.Hosts)
		}
	}
}
