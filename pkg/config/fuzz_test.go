package config

import (
	"os"
	"path"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// fuzzSeeds are real configs: the commented example, the spec's layout
// and shapes the table tests use, plus a few broken ones.
var fuzzSeeds = []string{
	"rings:\n  - name: canary\n    hosts: [lab-1]\n",
	`repo: .
remote: origin
flake-dir: .
dev: dev
branch-prefix: "deploy/"
rings:
  - name: canary
    hosts: [lab-1, "lab-*"]
    soak: 0s
    auto: true
    verify: ["/usr/local/bin/check-health", "--ring", "canary"]
    verify-timeout: 2m
  - name: early
    share: 20%
    soak: 24h
  - name: stable
    soak: 1w2d12h
    freeze:
      - days: [fri]
        from: "16:00"
        to: "24:00"
        timezone: Europe/Berlin
      - start: 2026-12-20T00:00:00Z
        end: 2027-01-06T00:00:00Z
        reason: year-end freeze
    groups:
      - name: stable
        hosts: ["*"]
      - name: field-sbc
        hosts: ["sbc-*"]
        pin: "3f2a9c1"
update:
  inputs: [nixpkgs, home-manager]
  author: "ringflow <ringflow@localhost>"
build:
  attribute: config.system.build.toplevel
  jobs: 4
  builders: ""
  cache: "file:///var/cache/nix"
  nix-args: [--option, cores, "4"]
gates:
  signed-by: release.asc
`,
	"rings:\n  - name: a\n    share: 33.3%\n  - name: b\n    share: 33.3\n  - name: c\n    share: 33.4%\n",
	"rings:\n  - name: canary\n    groups:\n      - name: a/b\n        hosts: ['x?', '[a-c]*']\n      - name: a/c\n        share: 100%\n        pin: true\n",
	"branch-prefix: deploy/\ndev: main\nrings: [{name: x, hosts: [\"*\"]}]\n",
	"rings:\n  - name: bad..name\n    hosts: lab-1\n    soak: soon\n",
	"rings: {canary: {hosts: [a]}}\n",
	"- a\n- b\n",
	"a: &a [x, x]\nb: [*a, *a]\nrings: [{name: x, hosts: ['*']}]\n",
	"update:\n  author: \"A B <a@b>\"\nrings: [{name: x, hosts: ['*']}]\n",
	"observe: {prometheus: {url: 'http://p:9090', host-label: host}}\nrings: [{name: x, hosts: [a], converge: 2}, {name: y, hosts: ['*'], converge: 80%}]\n",
	"observe: {ssh: {target: 'root@{host}', parallel: 3, timeout: 5s}}\nrings: [{name: x, hosts: ['*']}]\n",
	"",
}

// FuzzLoad feeds arbitrary bytes to the loader as ringflow.yaml, with
// RINGFLOW_DEV and RINGFLOW_BRANCH_PREFIX set when the other inputs are not
// empty. Load must never panic, and a config it accepts must hold every
// invariant the rest of ringflow relies on.
func FuzzLoad(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), "", "")
	}
	f.Add([]byte(fuzzSeeds[0]), "main", "deploy/")
	f.Add([]byte(fuzzSeeds[0]), "dev", "canary/")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, dev, prefix string) {
		tmp, err := os.CreateTemp(dir, "ringflow-*.yaml")
		if err != nil {
			t.Fatal(err)
		}
		file := tmp.Name()
		defer os.Remove(file)
		_, err = tmp.Write(data)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
		var env []string
		if dev != "" {
			env = append(env, EnvName("dev")+"="+dev)
		}
		if prefix != "" {
			env = append(env, EnvName("branch-prefix")+"="+prefix)
		}
		c, err := Load(LoadOptions{File: file, Env: env, SearchPaths: []string{}})
		if err != nil {
			if c != nil {
				t.Fatalf("Load returned a config and an error: %v", err)
			}
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatalf("Load failed with an empty message")
			}
			return
		}
		checkConfig(t, c)
	})
}

var (
	fuzzAuthorRE = regexp.MustCompile(`^[^<>\x00-\x1f\x7f]*[^<>\s][^<>\x00-\x1f\x7f]* <[^<>\s]+>$`)
	fuzzCommitRE = regexp.MustCompile(`^[0-9a-fA-F]{4,40}$`)
)

// checkConfig re-validates a loaded config from scratch.
func checkConfig(t *testing.T, c *Config) {
	t.Helper()
	if len(c.Rings) == 0 {
		t.Fatalf("a config file without rings loaded")
	}
	if why := checkBranch(c.Dev); why != "" {
		t.Fatalf("dev %q loaded but is not a branch name: %s", c.Dev, why)
	}
	if c.BranchPrefix != "" {
		if why := checkBranch(c.BranchPrefix + "x"); why != "" {
			t.Fatalf("branch-prefix %q loaded but cannot start a branch: %s", c.BranchPrefix, why)
		}
	}
	if p := path.Clean(c.FlakeDir); path.IsAbs(p) || p == ".." || strings.HasPrefix(p, "../") {
		t.Fatalf("flake-dir %q leaves the repository", c.FlakeDir)
	}
	if !fuzzAuthorRE.MatchString(c.Update.Author) {
		t.Fatalf("update.author %q loaded but is not a usable \"Name <email>\" identity", c.Update.Author)
	}
	for _, in := range c.Update.Inputs {
		if in == "" || strings.ContainsAny(in, " \t\n") {
			t.Fatalf("update.inputs holds %q", in)
		}
	}
	if c.Build.Jobs != "auto" {
		if n, err := strconv.Atoi(c.Build.Jobs); err != nil || n < 1 {
			t.Fatalf("build.jobs %q loaded", c.Build.Jobs)
		}
	}
	if strings.TrimSpace(c.Build.Attribute) == "" {
		t.Fatalf("empty build.attribute loaded")
	}
	if o := c.Observe; o != nil {
		n := 0
		if o.Prometheus != nil {
			n++
			if o.Prometheus.URL == "" || o.Prometheus.HostLabel == "" || o.Prometheus.Timeout <= 0 {
				t.Fatalf("observe.prometheus %+v loaded", o.Prometheus)
			}
			for _, q := range []string{o.Prometheus.Health.Down, o.Prometheus.Health.FailedUnits, o.Prometheus.Health.DeploymentFailed} {
				if q != strings.TrimSpace(q) {
					t.Fatalf("observe.prometheus.health %+v loaded", o.Prometheus.Health)
				}
			}
		}
		if o.SSH != nil {
			n++
			if !strings.Contains(o.SSH.Target, HostPlaceholder) || strings.HasPrefix(o.SSH.Target, "-") || o.SSH.Timeout <= 0 || o.SSH.Parallel < 1 || strings.TrimSpace(o.SSH.Command) == "" || strings.TrimSpace(o.SSH.HealthCommand) == "" {
				t.Fatalf("observe.ssh %+v loaded", o.SSH)
			}
		}
		if o.Command != nil {
			n++
			if strings.TrimSpace(o.Command[0]) == "" {
				t.Fatalf("observe.command %q loaded", o.Command)
			}
		}
		if n != 1 {
			t.Fatalf("observe has %d sources: %+v", n, o)
		}
	}

	rings := map[string]bool{}
	groups := map[string]bool{}
	literal := map[string]string{}
	branches := []string{c.Dev}
	catchAlls, total := 0, 0.0
	for _, r := range c.Rings {
		if strings.TrimSpace(r.Name) == "" || rings[r.Name] {
			t.Fatalf("ring name %q empty or repeated", r.Name)
		}
		rings[r.Name] = true
		if got, ok := c.Ring(r.Name); !ok || got.Name != r.Name {
			t.Fatalf("Ring(%q) does not find it", r.Name)
		}
		if r.Soak < 0 {
			t.Fatalf("ring %q: negative soak %v", r.Name, r.Soak)
		}
		if (r.Verify == nil) != (r.VerifyTimeout == 0) || r.VerifyTimeout < 0 {
			t.Fatalf("ring %q: verify %q with timeout %v", r.Name, r.Verify, r.VerifyTimeout)
		}
		if len(r.Groups) == 0 {
			t.Fatalf("ring %q has no groups", r.Name)
		}
		cv := r.Converge
		if (c.Observe != nil) != cv.IsSet() || cv.Count < 0 || cv.Share < 0 || cv.Share > 100 || (cv.Count > 0 && cv.Share > 0) {
			t.Fatalf("ring %q: converge %+v with observe %+v", r.Name, cv, c.Observe)
		}
		for _, g := range r.Groups {
			if g.Ring != r.Name {
				t.Fatalf("group %q of ring %q says ring %q", g.Name, r.Name, g.Ring)
			}
			if g.Branch != c.BranchPrefix+g.Name || c.BranchFor(g.Name) != g.Branch {
				t.Fatalf("group %q: branch %q, want %q", g.Name, g.Branch, c.BranchPrefix+g.Name)
			}
			if strings.TrimSpace(g.Name) == "" || groups[g.Name] {
				t.Fatalf("group name %q empty or repeated", g.Name)
			}
			groups[g.Name] = true
			if why := checkBranch(g.Branch); why != "" {
				t.Fatalf("group %q: branch %q is not a branch name: %s", g.Name, g.Branch, why)
			}
			for _, b := range branches {
				if b == g.Branch || strings.HasPrefix(b, g.Branch+"/") || strings.HasPrefix(g.Branch, b+"/") {
					t.Fatalf("branches %q and %q cannot both exist", b, g.Branch)
				}
			}
			branches = append(branches, g.Branch)
			if g.Share < 0 || g.Share > 100 {
				t.Fatalf("group %q: share %v", g.Name, g.Share)
			}
			total += g.Share
			if len(g.Hosts) == 0 && g.Share == 0 {
				t.Fatalf("group %q has no hosts and no share", g.Name)
			}
			for _, h := range g.Hosts {
				switch {
				case strings.TrimSpace(h) == "":
					t.Fatalf("group %q: empty hosts entry", g.Name)
				case h == "*":
					catchAlls++
				case isGlob(h):
					if _, err := path.Match(h, ""); err != nil {
						t.Fatalf("group %q: bad glob %q loaded", g.Name, h)
					}
				default:
					if first, dup := literal[h]; dup {
						t.Fatalf("host %q named by group %q and group %q", h, first, g.Name)
					}
					literal[h] = g.Name
				}
			}
			if g.Pin.Commit != "" && (!g.Pin.Pinned || !fuzzCommitRE.MatchString(g.Pin.Commit)) {
				t.Fatalf("group %q: pin %+v", g.Name, g.Pin)
			}
		}
	}
	if total > 100+1e-9 {
		t.Fatalf("shares add up to %v", total)
	}
	if catchAlls > 1 {
		t.Fatalf("%d catch-all groups", catchAlls)
	}
	if len(c.Groups()) != len(groups) || len(c.RingNames()) != len(rings) {
		t.Fatalf("Groups/RingNames disagree with the rings")
	}
}
