package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// writeConfig writes body as dir/ringflow.yaml in a fresh directory and
// returns the directory.
func writeConfig(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, FileName), body)
	return dir
}

func writeFile(t *testing.T, name, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// loadYAML loads body as the only file on the search path, with env.
func loadYAML(t *testing.T, body string, env ...string) (*Config, error) {
	t.Helper()
	dir := writeConfig(t, body)
	return Load(LoadOptions{Dir: dir, Env: env, SearchPaths: []string{"."}})
}

func mustLoad(t *testing.T, body string, env ...string) *Config {
	t.Helper()
	c, err := loadYAML(t, body, env...)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

func problemsOf(t *testing.T, err error) []Problem {
	t.Helper()
	if err == nil {
		t.Fatal("Load succeeded, want a config error")
	}
	var cerr *Error
	if !errors.As(err, &cerr) {
		t.Fatalf("error %v (%T) is not a *config.Error", err, err)
	}
	return cerr.Problems
}

const specYAML = `
repo: .
remote: origin
flake-dir: .
dev: dev
branch-prefix: ""

rings:
  - name: canary
    hosts: [lab-1, "lab-*"]
    soak: 0s
    auto: true
  - name: early
    share: 20%
    soak: 24h
  - name: stable
    soak: 72h
    groups:
      - name: stable
        hosts: ["*"]
      - name: field-sbc
        hosts: ["sbc-*"]
        pin: true

update:
  inputs: []
  author: "ringflow <ringflow@localhost>"
build:
  attribute: config.system.build.toplevel
  jobs: auto
  builders: ""
  cache: ""
  nix-args: []
gates:
  signed-by: ""
`

func TestLoadSpecExample(t *testing.T) {
	dir := writeConfig(t, specYAML)
	got, err := Load(LoadOptions{Dir: dir, SearchPaths: []string{"."}})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, FileName)
	at := func(line int) Pos { return Pos{File: file, Line: line} }
	want := &Config{
		File:     file,
		Repo:     ".",
		Remote:   "origin",
		FlakeDir: ".",
		Dev:      "dev",
		Rings: []Ring{
			{Name: "canary", Soak: 0, Auto: true, Key: "rings[0]", Groups: []Group{
				{Name: "canary", Ring: "canary", Branch: "canary", Hosts: []string{"lab-1", "lab-*"}, HostPos: []Pos{at(10), at(10)}, Key: "rings[0]"},
			}},
			{Name: "early", Soak: 24 * time.Hour, Key: "rings[1]", Groups: []Group{
				{Name: "early", Ring: "early", Branch: "early", Share: 20, Key: "rings[1]"},
			}},
			{Name: "stable", Soak: 72 * time.Hour, Key: "rings[2]", Groups: []Group{
				{Name: "stable", Ring: "stable", Branch: "stable", Hosts: []string{"*"}, HostPos: []Pos{at(20)}, Key: "rings[2].groups[0]"},
				{Name: "field-sbc", Ring: "stable", Branch: "field-sbc", Hosts: []string{"sbc-*"}, HostPos: []Pos{at(22)}, Pin: Pin{Pinned: true}, PinPos: at(23), Key: "rings[2].groups[1]"},
			}},
		},
		Update: Update{Author: "ringflow <ringflow@localhost>"},
		Build:  Build{Attribute: "config.system.build.toplevel", Jobs: "auto", EvalMemory: DefaultEvalMemory, Timeout: DefaultBuildTimeout},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load:\ngot  %+v\nwant %+v", got, want)
	}
	if names := got.RingNames(); !reflect.DeepEqual(names, []string{"canary", "early", "stable"}) {
		t.Errorf("RingNames = %v", names)
	}
	if r, ok := got.Ring("stable"); !ok || len(r.Groups) != 2 {
		t.Errorf("Ring(stable) = %v, %v", r, ok)
	}
}

func TestLoadMinimalGetsDefaults(t *testing.T) {
	c := mustLoad(t, "rings: [{name: all, hosts: ['*']}]\n")
	want := Default()
	want.File, want.Rings = c.File, c.Rings
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got %+v\nwant %+v", c, want)
	}
}

func TestLoadValues(t *testing.T) {
	c := mustLoad(t, `
repo: ./fleet/../fleet/
flake-dir: ./hosts/
branch-prefix: deploy/
dev: main
rings:
  - name: canary
    hosts: [Web.Example-1, "lab-?"]
    share: 12.5
    pin: "3f2a9c1"
    soak: 1w2d12h
  - name: early
    share: "20"
    pin: false
    soak: 1.5d
  - name: late
    Share: 7       # keys are case-insensitive
    soak: 90m
update:
  inputs: [nixpkgs, home-manager]
  author: Ops Team <ops@example.org>
build:
  jobs: 8
  builders: ssh://builder x86_64-linux
  cache: s3://cache?region=eu-west-1
  nix-args: [--option, cores, "4"]
  eval-workers: 3
  eval-memory: 1536MiB
gates:
  signed-by: keys/fleet.asc
`)
	if c.Repo != "fleet" || c.FlakeDir != "hosts" || c.Dev != "main" {
		t.Errorf("repo, flake-dir, dev = %q, %q, %q", c.Repo, c.FlakeDir, c.Dev)
	}
	g := c.Rings[0].Groups[0]
	// Host names keep their case: viper lowercases map keys, not list values.
	if !reflect.DeepEqual(g.Hosts, []string{"Web.Example-1", "lab-?"}) {
		t.Errorf("hosts = %q", g.Hosts)
	}
	if g.Share != 12.5 || g.Pin != (Pin{Pinned: true, Commit: "3f2a9c1"}) || g.Branch != "deploy/canary" {
		t.Errorf("canary group = %+v", g)
	}
	if c.Rings[0].Soak != 9*24*time.Hour+12*time.Hour {
		t.Errorf("soak = %v", c.Rings[0].Soak)
	}
	if g := c.Rings[1].Groups[0]; g.Share != 20 || g.Pin.Pinned || len(g.Hosts) != 0 {
		t.Errorf("early group = %+v", g)
	}
	if c.Rings[1].Soak != 36*time.Hour || c.Rings[2].Soak != 90*time.Minute {
		t.Errorf("soaks = %v, %v", c.Rings[1].Soak, c.Rings[2].Soak)
	}
	if c.Rings[2].Groups[0].Share != 7 {
		t.Errorf("late share = %v", c.Rings[2].Groups[0].Share)
	}
	wantUpdate := Update{Inputs: []string{"nixpkgs", "home-manager"}, Author: "Ops Team <ops@example.org>"}
	if !reflect.DeepEqual(c.Update, wantUpdate) {
		t.Errorf("update = %+v", c.Update)
	}
	wantBuild := Build{
		Attribute: "config.system.build.toplevel", Jobs: "8",
		Builders: "ssh://builder x86_64-linux", Cache: "s3://cache?region=eu-west-1",
		NixArgs:     []string{"--option", "cores", "4"},
		EvalWorkers: 3, EvalMemory: 1536 << 20, Timeout: DefaultBuildTimeout,
	}
	if !reflect.DeepEqual(c.Build, wantBuild) {
		t.Errorf("build = %+v", c.Build)
	}
	if c.Gates.SignedBy != "keys/fleet.asc" {
		t.Errorf("signed-by = %q", c.Gates.SignedBy)
	}
	if c.BranchFor("early") != "deploy/early" {
		t.Errorf("BranchFor = %q", c.BranchFor("early"))
	}
}

func TestLoadShareAndPinForms(t *testing.T) {
	for _, tt := range []struct {
		share string
		want  float64
	}{{"20%", 20}, {"20", 20}, {`"20"`, 20}, {"12.5", 12.5}, {`"12.5 %"`, 12.5}, {"100%", 100}, {"0.1", 0.1}} {
		c := mustLoad(t, "rings: [{name: r, share: "+tt.share+"}]\n")
		if got := c.Rings[0].Groups[0].Share; got != tt.want {
			t.Errorf("share: %s = %v, want %v", tt.share, got, tt.want)
		}
	}
	for _, tt := range []struct {
		pin  string
		want Pin
	}{
		{"true", Pin{Pinned: true}},
		{"false", Pin{}},
		{`"1234567"`, Pin{Pinned: true, Commit: "1234567"}},
		{"abcd", Pin{Pinned: true, Commit: "abcd"}},
		{"DEADBEEF", Pin{Pinned: true, Commit: "DEADBEEF"}},
		{strings.Repeat("a1", 20), Pin{Pinned: true, Commit: strings.Repeat("a1", 20)}},
	} {
		c := mustLoad(t, "rings: [{name: r, hosts: [h], pin: "+tt.pin+"}]\n")
		if got := c.Rings[0].Groups[0].Pin; got != tt.want {
			t.Errorf("pin: %s = %+v, want %+v", tt.pin, got, tt.want)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	const ok = "rings: [{name: all, hosts: ['*']}]\n"
	tests := []struct {
		name, yaml string
		key, msg   string // the first problem
		more       bool   // other problems may follow
	}{
		{"unknown top key", ok + "bulid: {jobs: 2}\n", "bulid", `unknown key (did you mean build?)`, false},
		{"unknown top key far from any", ok + "colour: red\n", "colour", "unknown key", false},
		{"unknown ring key", "rings: [{name: a, hosts: [x], sook: 1h}]\n", "rings[0].sook", "unknown key (did you mean soak?)", false},
		{"unknown group key", "rings: [{name: a, groups: [{name: g, hots: [x], hosts: [y]}]}]\n", "rings[0].groups[0].hots", "unknown key (did you mean hosts?)", false},
		{"unknown update key", ok + "update: {input: [x]}\n", "update.input", "unknown key (did you mean inputs?)", false},
		{"unknown build key", ok + "build: {nixargs: []}\n", "build.nixargs", "unknown key (did you mean nix-args?)", false},
		{"unknown gates key", ok + "gates: {signed: x}\n", "gates.signed", "unknown key", false},
		{"section not a mapping", ok + "build: 3\n", "build", "want a mapping of attribute, jobs, builders, cache, nix-args, eval-workers, eval-memory, timeout, max-silent, got 3", false},
		{"string key not a string", ok + "repo: 3\n", "repo", "want a string, got 3", false},
		{"remote not a string", ok + "remote: [a]\n", "remote", "want a string, got a list", false},
		{"auto not a bool", "rings: [{name: a, hosts: [x], auto: yes}]\n", "rings[0].auto", `want true or false, got "yes"`, false},
		{"soak bare number", "rings: [{name: a, hosts: [x], soak: 24}]\n", "rings[0].soak", "write a duration with a unit, e.g. 24h", false},
		{"soak quoted number", "rings: [{name: a, hosts: [x], soak: '90'}]\n", "rings[0].soak", "write a duration with a unit", false},
		{"soak negative", "rings: [{name: a, hosts: [x], soak: -1h}]\n", "rings[0].soak", `must not be negative, got "-1h"`, false},
		{"soak nonsense", "rings: [{name: a, hosts: [x], soak: soon}]\n", "rings[0].soak", `want a duration such as 90m, 24h or 3d, got "soon"`, false},
		{"soak wrong type", "rings: [{name: a, hosts: [x], soak: true}]\n", "rings[0].soak", "want a duration", false},
		{"share zero", "rings: [{name: a, share: 0}]\n", "rings[0].share", "above 0 and at most 100, got 0", true},
		{"share over 100", "rings: [{name: a, share: 150%}]\n", "rings[0].share", `at most 100, got "150%"`, true},
		{"share negative", "rings: [{name: a, share: -5, hosts: [x]}]\n", "rings[0].share", "above 0", false},
		{"share words", "rings: [{name: a, share: lots, hosts: [x]}]\n", "rings[0].share", `want a percentage, e.g. 20%, got "lots"`, false},
		{"share sum", "rings: [{name: a, share: 60%}, {name: b, groups: [{name: b1, share: 30}, {name: b2, share: 30}]}]\n", "rings[1].groups[1].share", "shares add up to 120%, more than 100%", false},
		{"pin integer", "rings: [{name: a, hosts: [x], pin: 1234567}]\n", "rings[0].pin", `quote the commit, e.g. pin: "1234567"`, false},
		{"pin branch name", "rings: [{name: a, hosts: [x], pin: main}]\n", "rings[0].pin", `want true, false or a commit (4 to 40 hex digits), got "main"`, false},
		{"pin too short", "rings: [{name: a, groups: [{name: g, hosts: [x], pin: abc}]}]\n", "rings[0].groups[0].pin", `got "abc"`, false},
		{"pin too long", "rings: [{name: a, hosts: [x], pin: " + strings.Repeat("a", 41) + "}]\n", "rings[0].pin", "4 to 40 hex digits", false},
		{"pin quoted bool", "rings: [{name: a, hosts: [x], pin: 'true'}]\n", "rings[0].pin", `got "true"`, false},
		{"hosts scalar", "rings: [{name: a, hosts: lab-1}]\n", "rings[0].hosts", "want a list, e.g. [lab-1]", false},
		{"hosts scalar glob", "rings: [{name: a, hosts: 'lab-*'}]\n", "rings[0].hosts", `want a list, e.g. ["lab-*"]`, false},
		{"hosts empty entry", "rings: [{name: a, hosts: [x, '']}]\n", "rings[0].hosts[1]", "empty host name", false},
		{"hosts number entry", "rings: [{name: a, hosts: [x, 42]}]\n", "rings[0].hosts[1]", "want a host name or glob, got 42 (quote it)", false},
		{"hosts bad glob", "rings: [{name: a, hosts: ['lab-[']}]\n", "rings[0].hosts[0]", `bad glob "lab-[": syntax error in pattern`, true},
		{"hosts bad glob late in pattern", "rings: [{name: a, hosts: [x, 'a*b[']}]\n", "rings[0].hosts[1]", "bad glob", false},
		{"host in two groups", "rings: [{name: a, hosts: [web-1]}, {name: b, groups: [{name: g, hosts: ['*', web-1]}]}]\n", "rings[1].groups[0].hosts[1]", `host "web-1" is also named at rings[0].hosts[0]`, false},
		{"host twice in one group", "rings: [{name: a, hosts: [web-1, web-1]}]\n", "rings[0].hosts[1]", "also named at rings[0].hosts[0]", false},
		{"two catch-alls", "rings: [{name: a, hosts: ['*']}, {name: b, groups: [{name: g, hosts: [x]}, {name: h, hosts: ['*']}]}]\n", "rings[1].groups[1].hosts[0]", `a second catch-all "*": rings[0].hosts[0] already`, false},
		{"groups with hosts", "rings: [{name: a, hosts: [x], groups: [{name: g, hosts: [y]}]}]\n", "rings[0].hosts", "not allowed next to groups", false},
		{"groups with share", "rings: [{name: a, share: 5, groups: [{name: g, hosts: [y]}]}]\n", "rings[0].share", "not allowed next to groups", false},
		{"groups with pin", "rings: [{name: a, pin: true, groups: [{name: g, hosts: [y]}]}]\n", "rings[0].pin", "not allowed next to groups", false},
		{"ring without groups", "rings: [{name: a, soak: 1h}]\n", "rings[0]", `ring "a" has no groups`, false},
		{"ring with only pin", "rings: [{name: a, pin: true}]\n", "rings[0]", `ring "a" has no groups`, false},
		{"ring with empty groups", "rings: [{name: a, groups: []}]\n", "rings[0]", `ring "a" has no groups`, false},
		{"groups not a list", "rings: [{name: a, groups: {name: g}}]\n", "rings[0].groups", "want a list of groups", false},
		{"group without hosts or share", "rings: [{name: a, groups: [{name: g, pin: true}]}]\n", "rings[0].groups[0]", `group "g" has no hosts and no share`, false},
		{"shorthand with empty hosts", "rings: [{name: a, hosts: []}]\n", "rings[0]", `ring "a" has no hosts and no share`, false},
		{"ring without name", "rings: [{hosts: [x]}]\n", "rings[0].name", "required", true},
		{"ring with blank name", "rings: [{name: '', groups: [{name: g, hosts: [x]}]}]\n", "rings[0].name", "required", false},
		{"ring name not a string", "rings: [{name: [a], groups: [{name: g, hosts: [x]}]}]\n", "rings[0].name", "want a string, got a list", false},
		{"group without name", "rings: [{name: a, groups: [{hosts: [x]}]}]\n", "rings[0].groups[0].name", "required", false},
		{"duplicate ring", "rings: [{name: a, groups: [{name: g, hosts: [x]}]}, {name: a, groups: [{name: h, hosts: [y]}]}]\n", "rings[1].name", `ring "a" is also defined at rings[0]`, false},
		{"duplicate shorthand ring", "rings: [{name: a, hosts: [x]}, {name: a, hosts: [y]}]\n", "rings[1].name", `ring "a" is also defined at rings[0]`, false},
		{"group named like another ring", "rings: [{name: a, hosts: [x]}, {name: b, groups: [{name: a, hosts: [y]}]}]\n", "rings[1].groups[0].name", `group "a" is also defined at rings[0].name`, false},
		{"duplicate group in ring", "rings: [{name: b, groups: [{name: g, hosts: [x]}, {name: g, hosts: [y]}]}]\n", "rings[0].groups[1].name", `group "g" is also defined at rings[0].groups[0].name`, false},
		{"ring not a mapping", "rings: [canary]\n", "rings[0]", `want a mapping with a name, e.g. {name: canary, hosts: [lab-1]}, got "canary"`, false},
		{"group not a mapping", "rings: [{name: a, groups: [g]}]\n", "rings[0].groups[0]", "want a mapping with a name", false},
		{"rings not a list", "rings: {name: a}\n", "rings", "want a list of rings", false},
		{"rings missing", "dev: dev\n", "rings", "at least one ring is required", false},
		{"rings empty", "rings: []\n", "rings", "at least one ring is required", false},
		{"empty file", "", "rings", "at least one ring is required", false},
		{"group branch with ..", "rings: [{name: a, groups: [{name: a..b, hosts: [x]}]}]\n", "rings[0].groups[0].name", `invalid branch name "a..b": contains ".."`, false},
		{"group branch with space", "rings: [{name: a, groups: [{name: 'a b', hosts: [x]}]}]\n", "rings[0].groups[0].name", "contains a space", false},
		{"group branch with colon", "rings: [{name: a, groups: [{name: 'a:b', hosts: [x]}]}]\n", "rings[0].groups[0].name", `contains ':'`, false},
		{"group branch ending .lock", "rings: [{name: a, groups: [{name: x.lock, hosts: [x]}]}]\n", "rings[0].groups[0].name", `ends with ".lock"`, false},
		{"shorthand branch with @{", "rings: [{name: 'a@{1}', hosts: [x]}]\n", "rings[0].name", `contains "@{"`, false},
		{"group branch HEAD", "rings: [{name: a, groups: [{name: HEAD, hosts: [x]}]}]\n", "rings[0].groups[0].name", `"HEAD" is not allowed`, false},
		{"branch prefix starting with -", "branch-prefix: -x/\n" + ok, "branch-prefix", `"-x/" cannot start a branch name: starts with "-"`, false},
		{"branch prefix with .lock component", "branch-prefix: deploy.lock/\n" + ok, "branch-prefix", `ends with ".lock"`, false},
		{"prefix makes branch invalid", "branch-prefix: deploy/\nrings: [{name: a, groups: [{name: .hidden, hosts: [x]}]}]\n", "rings[0].groups[0].name", `invalid branch name "deploy/.hidden": component ".hidden" starts with "."`, false},
		{"dev invalid", "dev: 'dev~1'\n" + ok, "dev", `invalid branch name "dev~1": contains '~'`, false},
		{"dev not a string", "dev: true\n" + ok, "dev", "want a string, got true", false},
		{"dev is a group branch", "dev: all\n" + ok, "dev", `dev branch "all" is also the branch of group "all" (rings[0])`, false},
		{"branch inside branch", "rings: [{name: a, groups: [{name: x, hosts: [x]}]}, {name: b, groups: [{name: x/y, hosts: [y]}]}]\n", "rings[1].groups[0].name", `branch "x/y" cannot exist next to branch "x" of rings[0].groups[0].name`, false},
		{"branch inside dev", "dev: deploy\nbranch-prefix: deploy/\n" + ok, "rings[0].name", `branch "deploy/all" cannot exist next to branch "deploy" of dev`, false},
		{"jobs negative", ok + "build: {jobs: -1}\n", "build.jobs", "want auto or a number of jobs (0: build only on build.builders), got -1", false},
		{"jobs words", ok + "build: {jobs: many}\n", "build.jobs", `got "many"`, false},
		{"jobs float", ok + "build: {jobs: 2.5}\n", "build.jobs", "got 2.5", false},
		{"eval-workers zero", ok + "build: {eval-workers: 0}\n", "build.eval-workers", "want auto or a positive integer, got 0", false},
		{"eval-memory too small", ok + "build: {eval-memory: 10MiB}\n", "build.eval-memory", "want a size of at least 64MiB such as 4GiB or 512MiB, got \"10MiB\"", false},
		{"eval-memory unit", ok + "build: {eval-memory: 4 parsecs}\n", "build.eval-memory", `got "4 parsecs"`, false},
		{"nix-args string", ok + "build: {nix-args: --impure}\n", "build.nix-args", "want a list, e.g. [--impure]", false},
		{"nix-args number", ok + "build: {nix-args: [--cores, 4]}\n", "build.nix-args[1]", "want a string, got 4 (quote it)", false},
		{"inputs scalar", ok + "update: {inputs: nixpkgs}\n", "update.inputs", "want a list, e.g. [nixpkgs]", false},
		{"inputs blank", ok + "update: {inputs: ['']}\n", "update.inputs[0]", `want an input name, got ""`, false},
		{"author without email", ok + "update: {author: bob}\n", "update.author", `want "Name <email>", got "bob"`, false},
		{"attribute empty", ok + "build: {attribute: ''}\n", "build.attribute", "must not be empty", false},
		{"flake-dir outside", ok + "flake-dir: ../other\n", "flake-dir", `want a directory inside the repository, got "../other"`, false},
		{"flake-dir absolute", ok + "flake-dir: /srv/fleet\n", "flake-dir", "want a directory inside the repository", false},
		{"yaml syntax", "rings: [\n", "", "yaml:", false},
		{"yaml duplicate key", ok + "dev: a\ndev: b\n", "", `mapping key "dev" already defined at line 2`, false},
		{"yaml duplicate keys", ok + "dev: a\ndev: b\nrepo: a\nrepo: b\n", "", `mapping key "dev" already defined at line 2`, true},
		{"yaml top level list", "- a\n", "", "want a mapping of keys such as rings", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadYAML(t, tt.yaml)
			ps := problemsOf(t, err)
			key := tt.key
			if ps[0].Key != key || !strings.Contains(ps[0].Message, tt.msg) {
				t.Errorf("first problem = %q: %q, want %q: …%q…", ps[0].Key, ps[0].Message, key, tt.msg)
			}
			if len(ps) > 1 && !tt.more {
				t.Errorf("want one problem, got %d: %v", len(ps), ps)
			}
		})
	}
}

func TestLoadCollectsAllProblems(t *testing.T) {
	_, err := loadYAML(t, `
dev: 'a b'
rings:
  - name: canary
    sook: 1h
    hosts: lab-1
  - name: early
    share: 120
    auto: "no"
bulid: {jobs: 2}
`)
	ps := problemsOf(t, err)
	// In the order of their lines.
	want := []string{
		`2: dev: invalid branch name "a b": contains a space`,
		"5: rings[0].sook: unknown key (did you mean soak?)",
		"6: rings[0].hosts: want a list, e.g. [lab-1]",
		"8: rings[1].share: want a percentage above 0 and at most 100, got 120",
		`9: rings[1].auto: want true or false, got "no"`,
		"10: bulid: unknown key (did you mean build?)",
	}
	var got []string
	for _, p := range ps {
		got = append(got, fmt.Sprintf("%d: %s", p.Pos.Line, p.Key+": "+p.Message))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\ngot  %q\nwant %q", got, want)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "config ") || !strings.Contains(msg, ": 6 problems:\n  "+ps[0].Pos.File+":2: dev: invalid") ||
		strings.Count(msg, "\n") != 6 {
		t.Errorf("Error() = %q", msg)
	}
}

func TestErrorString(t *testing.T) {
	one := &Error{File: "ringflow.yaml", Problems: []Problem{{Key: "rings[0].soak", Message: "write a duration with a unit, e.g. 24h"}}}
	if got, want := one.Error(), "config ringflow.yaml: rings[0].soak: write a duration with a unit, e.g. 24h"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	two := &Error{Problems: []Problem{{Key: "dev", Message: "x"}, {Message: "y"}}}
	if got, want := two.Error(), "config: 2 problems:\n  dev: x\n  y"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestLoadNullKeepsDefault(t *testing.T) {
	c := mustLoad(t, "remote:\nbuild:\nrings: [{name: a, hosts: [x]}]\n")
	if c.Remote != "origin" || c.Build.Jobs != "auto" {
		t.Errorf("remote, jobs = %q, %q", c.Remote, c.Build.Jobs)
	}
	c = mustLoad(t, "remote: ''\nrings: [{name: a, hosts: [x]}]\n")
	if c.Remote != "" {
		t.Errorf("remote = %q, want empty", c.Remote)
	}
}

func TestLoadSearchOrder(t *testing.T) {
	root := t.TempDir()
	cwd, xdg, home, etc := filepath.Join(root, "cwd"), filepath.Join(root, "xdg"), filepath.Join(root, "home"), filepath.Join(root, "etc")
	body := func(name string) string { return "rings: [{name: " + name + ", hosts: [x]}]\n" }
	writeFile(t, filepath.Join(cwd, FileName), body("cwd"))
	writeFile(t, filepath.Join(xdg, "ringflow", FileName), body("xdg"))
	writeFile(t, filepath.Join(home, ".config", "ringflow", FileName), body("home"))
	writeFile(t, filepath.Join(etc, FileName), body("etc"))
	if err := os.MkdirAll(filepath.Join(root, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	xdgDir := filepath.Join(xdg, "ringflow")

	for _, tt := range []struct {
		name   string
		dir    string
		env    []string
		search []string
		want   string // ring name, "" = no file
	}{
		{"cwd first", cwd, nil, []string{".", xdgDir, etc}, "cwd"},
		{"xdg beats etc", filepath.Join(root, "empty"), nil, []string{".", xdgDir, etc}, "xdg"},
		{"etc last", filepath.Join(root, "empty"), nil, []string{".", filepath.Join(root, "none"), etc}, "etc"},
		{"nothing", filepath.Join(root, "empty"), nil, []string{"."}, ""},
		{"default paths: cwd", cwd, []string{"XDG_CONFIG_HOME=" + xdg}, nil, "cwd"},
		{"default paths: xdg", filepath.Join(root, "empty"), []string{"XDG_CONFIG_HOME=" + xdg, "HOME=" + home}, nil, "xdg"},
		{"default paths: home", filepath.Join(root, "empty"), []string{"HOME=" + home}, nil, "home"},
		{"default paths: relative xdg ignored", filepath.Join(root, "empty"), []string{"XDG_CONFIG_HOME=xdg", "HOME=" + home}, nil, "home"},
		{"default paths: directory named ringflow.yaml skipped", root, nil, []string{"empty", xdgDir}, "xdg"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "default paths: directory named ringflow.yaml skipped" {
				if err := os.MkdirAll(filepath.Join(root, "empty", FileName), 0o755); err != nil {
					t.Fatal(err)
				}
				defer os.Remove(filepath.Join(root, "empty", FileName))
			}
			c, err := Load(LoadOptions{Dir: tt.dir, Env: tt.env, SearchPaths: tt.search})
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == "" {
				if c.File != "" || len(c.Rings) != 0 {
					t.Errorf("got file %q with %d rings, want none", c.File, len(c.Rings))
				}
				return
			}
			if len(c.Rings) != 1 || c.Rings[0].Name != tt.want {
				t.Errorf("loaded %q with rings %v, want ring %q", c.File, c.RingNames(), tt.want)
			}
		})
	}
}

func TestDefaultSearchPaths(t *testing.T) {
	got := defaultSearchPaths(envMap([]string{"HOME=/home/op"}))
	want := []string{".", "/home/op/.config/ringflow", "/etc/ringflow"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	got = defaultSearchPaths(envMap([]string{"HOME=/home/op", "XDG_CONFIG_HOME=/cfg"}))
	want = []string{".", "/cfg/ringflow", "/etc/ringflow"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	got = defaultSearchPaths(nil)
	want = []string{".", "/etc/ringflow"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestLoadNoFileIsNotAnError(t *testing.T) {
	c, err := Load(LoadOptions{Dir: t.TempDir(), SearchPaths: []string{"."}, Env: []string{"RINGFLOW_DEV=main"}})
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Dev = "main"
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got %+v, want %+v", c, want)
	}
	// Env is still checked without a file.
	_, err = Load(LoadOptions{Dir: t.TempDir(), SearchPaths: []string{"."}, Env: []string{"RINGFLOW_BUILD_JOBS=lots"}})
	ps := problemsOf(t, err)
	if ps[0].Key != "build.jobs" || !strings.Contains(ps[0].Message, "(from RINGFLOW_BUILD_JOBS)") {
		t.Errorf("problem = %v", ps[0])
	}
	if !strings.HasPrefix(err.Error(), "config: build.jobs: ") {
		t.Errorf("Error() = %q", err)
	}
}

func TestLoadExplicitFile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "fleet.conf"), "rings: [{name: a, hosts: [x]}]\n")
	writeFile(t, filepath.Join(dir, FileName), "rings: [{name: searched, hosts: [x]}]\n")

	// Relative to Dir, and read as YAML whatever its extension.
	c, err := Load(LoadOptions{File: "fleet.conf", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if c.File != filepath.Join(dir, "fleet.conf") || c.Rings[0].Name != "a" {
		t.Errorf("loaded %q rings %v", c.File, c.RingNames())
	}

	missing := filepath.Join(dir, "nope.yaml")
	_, err = Load(LoadOptions{File: missing, Dir: dir})
	var cerr *Error
	if !errors.As(err, &cerr) || cerr.File != missing {
		t.Fatalf("err = %v (%T), want *Error for %s", err, err, missing)
	}
	var nf *NotFoundError
	if !errors.As(err, &nf) || nf.File != missing {
		t.Errorf("errors.As(err, *NotFoundError) = %v for %v", nf, err)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("errors.Is(err, fs.ErrNotExist) = false for %v", err)
	}
	if want := "config " + missing + ": file not found"; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err, want)
	}

	// --config naming a directory is bad usage, like a missing file.
	_, err = Load(LoadOptions{File: dir})
	if !errors.As(err, &cerr) || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("loading a directory: err = %v (%T), want a *config.Error saying it is a directory", err, err)
	}
}

func TestLoadEnvOverrides(t *testing.T) {
	c := mustLoad(t, specYAML,
		"RINGFLOW_DEV=main",
		"RINGFLOW_REMOTE=",
		"RINGFLOW_BUILD_NIX_ARGS=--option x y",
		"RINGFLOW_UPDATE_INPUTS=nixpkgs,home-manager disko",
		"RINGFLOW_BRANCH_PREFIX=deploy/",
		"RINGFLOW_FLAKE_DIR=./sub",
		"RINGFLOW_BUILD_JOBS=4",
		"RINGFLOW_BUILD_JOBS=8", // the later one wins, as in os/exec
		"RINGFLOW_GATES_SIGNED_BY=keys.asc",
		"RINGFLOW_RINGS=ignored",
		"RINGFLOW_DEBUG=1",
		"REMOTE=not-ours",
	)
	if c.Dev != "main" || c.Remote != "" || c.FlakeDir != "sub" || c.Build.Jobs != "8" || c.Gates.SignedBy != "keys.asc" {
		t.Errorf("dev, remote, flake-dir, jobs, signed-by = %q, %q, %q, %q, %q", c.Dev, c.Remote, c.FlakeDir, c.Build.Jobs, c.Gates.SignedBy)
	}
	if !reflect.DeepEqual(c.Build.NixArgs, []string{"--option", "x", "y"}) {
		t.Errorf("nix-args = %q", c.Build.NixArgs)
	}
	if !reflect.DeepEqual(c.Update.Inputs, []string{"nixpkgs", "home-manager", "disko"}) {
		t.Errorf("inputs = %q", c.Update.Inputs)
	}
	if len(c.Rings) != 3 || c.Rings[2].Groups[1].Branch != "deploy/field-sbc" {
		t.Errorf("rings = %+v", c.Rings)
	}
}

func TestLoadEnvProblemNamesVariable(t *testing.T) {
	_, err := loadYAML(t, specYAML, "RINGFLOW_DEV=stable")
	ps := problemsOf(t, err)
	if ps[0].Key != "dev" || !strings.HasSuffix(ps[0].Message, "(from RINGFLOW_DEV)") {
		t.Errorf("problem = %v", ps[0])
	}
}

func TestLoadIgnoresProcessEnv(t *testing.T) {
	t.Setenv("RINGFLOW_DEV", "from-process")
	c := mustLoad(t, specYAML)
	if c.Dev != "dev" {
		t.Errorf("dev = %q: Load read the process environment", c.Dev)
	}
}

func TestLoadFlagsOverrideEnv(t *testing.T) {
	fs := pflag.NewFlagSet("ringflow", pflag.ContinueOnError)
	fs.String("config", "", "")
	fs.String("repo", ".", "")
	fs.String("remote", "origin", "")
	fs.String("dev", "dev", "") // not changed: must not override
	fs.String("build-jobs", "auto", "")
	fs.StringSlice("nix-args", nil, "")
	if err := fs.Parse([]string{"--repo", "/srv/fleet/", "--remote=upstream", "--build-jobs=2", "--nix-args=--impure,-L"}); err != nil {
		t.Fatal(err)
	}
	dir := writeConfig(t, "repo: ./a\nremote: file\ndev: trunk\n"+specYAML[strings.Index(specYAML, "rings:"):])
	c, err := Load(LoadOptions{
		Dir: dir, SearchPaths: []string{"."}, Flags: fs,
		Env: []string{"RINGFLOW_REMOTE=env", "RINGFLOW_REPO=env"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Repo != "/srv/fleet" || c.Remote != "upstream" || c.Dev != "trunk" || c.Build.Jobs != "2" {
		t.Errorf("repo, remote, dev, jobs = %q, %q, %q, %q", c.Repo, c.Remote, c.Dev, c.Build.Jobs)
	}
	// "nix-args" is not the flag name for build.nix-args; only "build.nix-args"
	// and "build-nix-args" are.
	if len(c.Build.NixArgs) != 0 {
		t.Errorf("nix-args = %q", c.Build.NixArgs)
	}

	fs = pflag.NewFlagSet("ringflow", pflag.ContinueOnError)
	fs.StringSlice("build-nix-args", nil, "")
	fs.String("update-inputs", "", "")
	fs.String("remote", "", "")
	if err := fs.Parse([]string{"--build-nix-args=--impure", "--build-nix-args=-L", "--update-inputs=a b", "--remote="}); err != nil {
		t.Fatal(err)
	}
	c, err = Load(LoadOptions{Dir: dir, SearchPaths: []string{"."}, Flags: fs})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Build.NixArgs, []string{"--impure", "-L"}) || !reflect.DeepEqual(c.Update.Inputs, []string{"a", "b"}) || c.Remote != "" {
		t.Errorf("nix-args, inputs, remote = %q, %q, %q", c.Build.NixArgs, c.Update.Inputs, c.Remote)
	}

	fs = pflag.NewFlagSet("ringflow", pflag.ContinueOnError)
	fs.String("dev", "", "")
	if err := fs.Parse([]string{"--dev=a..b"}); err != nil {
		t.Fatal(err)
	}
	_, err = Load(LoadOptions{Dir: dir, SearchPaths: []string{"."}, Flags: fs})
	if ps := problemsOf(t, err); ps[0].Key != "dev" || !strings.HasSuffix(ps[0].Message, "(from --dev)") {
		t.Errorf("problem = %v", ps[0])
	}
}

func TestEnvName(t *testing.T) {
	for key, want := range map[string]string{
		"flake-dir":       "RINGFLOW_FLAKE_DIR",
		"build.nix-args":  "RINGFLOW_BUILD_NIX_ARGS",
		"branch-prefix":   "RINGFLOW_BRANCH_PREFIX",
		"gates.signed-by": "RINGFLOW_GATES_SIGNED_BY",
	} {
		if got := EnvName(key); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestSize(t *testing.T) {
	for _, tt := range []struct {
		in   any
		want int64
		ok   bool
	}{
		{"4GiB", 4 << 30, true}, {"4G", 4 << 30, true}, {"4GB", 4e9, true}, {"512 MiB", 512 << 20, true},
		{"1073741824", 1 << 30, true}, {2048, 2048, true}, {"2k", 2048, true},
		{"", 0, false}, {"-1G", 0, false}, {"1.5G", 0, false}, {"9999999999T", 0, false}, {true, 0, false},
	} {
		got, ok := size(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("size(%v) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// build.jobs 0 is nix's "build nothing here": every build goes to a remote
// builder. From the file and from the environment alike.
func TestLoadJobsZero(t *testing.T) {
	c := mustLoad(t, "build: {jobs: 0, builders: 'ssh-ng://b x86_64-linux'}\nrings: [{name: a, hosts: [x]}]\n")
	if c.Build.Jobs != "0" || c.Build.Builders != "ssh-ng://b x86_64-linux" {
		t.Errorf("jobs, builders = %q, %q", c.Build.Jobs, c.Build.Builders)
	}
	c = mustLoad(t, "rings: [{name: a, hosts: [x]}]\n", "RINGFLOW_BUILD_JOBS=0")
	if c.Build.Jobs != "0" {
		t.Errorf("jobs from env = %q, want 0", c.Build.Jobs)
	}
}
