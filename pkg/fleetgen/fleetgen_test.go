package fleetgen

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/ringflow/ringflow/pkg/nix"
)

// testNixConfig keeps every nix call of the tests offline and unsandboxed:
// there is no binary cache to ask, and /bin/sh must be reachable.
const testNixConfig = "experimental-features = nix-command flakes\nsubstituters =\nsandbox = false"

// needNix skips when nix is missing, except in CI, where a missing nix is a
// broken machine and must fail loudly.
func needNix(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("nix"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("nix is not on PATH (CI is set): %v", err)
		}
		t.Skip("nix is not on PATH")
	}
}

// testEnv is the extra environment for fleetgen and for the tests' own nix
// calls: the caller's NIX_CONFIG if it has one, else testNixConfig.
func testEnv() []string {
	if os.Getenv("NIX_CONFIG") != "" {
		return nil
	}
	return []string{"NIX_CONFIG=" + testNixConfig}
}

func generate(t *testing.T, o Options) *Fleet {
	t.Helper()
	needNix(t)
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	o.Env = append(o.Env, testEnv()...)
	f, err := Generate(context.Background(), o)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return f
}

// runNix runs nix the way ringflow will: from git, with the fleet's env.
func runNix(t *testing.T, f *Fleet, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	args = append([]string{"--extra-experimental-features", "nix-command flakes"}, args...)
	cmd := exec.Command(f.Nix, args...)
	cmd.Env = f.Env
	cmd.Dir = f.Dir
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

func mustNix(t *testing.T, f *Fleet, args ...string) string {
	t.Helper()
	out, stderr, err := runNix(t, f, args...)
	if err != nil {
		t.Fatalf("nix %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return out
}

func hostNames(t *testing.T, f *Fleet, rev string) []string {
	t.Helper()
	var names []string
	out := mustNix(t, f, "eval", "--json", f.FlakeURL(rev)+"#nixosConfigurations", "--apply", "builtins.attrNames")
	if err := json.Unmarshal([]byte(out), &names); err != nil {
		t.Fatalf("decoding host names %q: %v", out, err)
	}
	return names
}

// drvPathArgs evaluates a host's toplevel drvPath with the host name passed
// as a Nix string, so that any name works.
func drvPathArgs(f *Fleet, rev, host string) []string {
	return []string{"eval", "--raw", f.FlakeURL(rev) + "#nixosConfigurations",
		"--apply", "c: (builtins.getAttr " + nix.Quote(host) + " c).config.system.build.toplevel.drvPath"}
}

func toplevel(f *Fleet, rev, host string) string {
	return f.FlakeURL(rev) + `#nixosConfigurations."` + host + `".config.system.build.toplevel`
}

func gitRev(t *testing.T, dir, rev string) string {
	t.Helper()
	out, err := exec.Command("git", "-C", dir, "rev-parse", rev).Output()
	if err != nil {
		t.Fatalf("git rev-parse %s in %s: %v", rev, dir, err)
	}
	return strings.TrimSpace(string(out))
}

func assertOriginMatches(t *testing.T, f *Fleet) string {
	t.Helper()
	local, remote := gitRev(t, f.Repo, "refs/heads/dev"), gitRev(t, f.Remote, "refs/heads/dev")
	if local != remote {
		t.Fatalf("dev differs: clone %s, origin %s", local, remote)
	}
	return local
}

func sorted(s []string) []string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	return s
}

func TestGenerateBuildAndBump(t *testing.T) {
	ctx := context.Background()
	odd := `odd "name" $(echo hi) ${x}`
	hosts := []Host{
		{Name: "web.example"},
		{Name: "Lab-1", Work: 1000},
		{Name: odd},
		{Name: "broken-eval", EvalError: "broken-eval: deliberate evaluation failure"},
		{Name: "broken-build", BuildFail: true},
	}
	f := generate(t, Options{Hosts: hosts, Salt: "t1"})
	dev := assertOriginMatches(t, f)
	if head := gitRev(t, f.Remote, "HEAD"); head != dev {
		t.Errorf("origin HEAD = %s, want dev %s", head, dev)
	}

	want := sorted([]string{"web.example", "Lab-1", odd, "broken-eval", "broken-build"})
	if got := hostNames(t, f, dev); !reflect.DeepEqual(got, want) {
		t.Fatalf("hosts = %q, want %q", got, want)
	}

	t.Run("good host builds", func(t *testing.T) {
		out := mustNix(t, f, "build", "--json", "--no-link", toplevel(f, dev, "web.example"))
		var res []struct{ Outputs map[string]string }
		if err := json.Unmarshal([]byte(out), &res); err != nil || len(res) != 1 {
			t.Fatalf("decoding nix build --json %q: %v", out, err)
		}
		b, err := os.ReadFile(res[0].Outputs["out"])
		if err != nil {
			t.Fatalf("reading the toplevel: %v", err)
		}
		if !strings.Contains(string(b), "web.example") || !strings.Contains(string(b), "fleetgen.1") {
			t.Errorf("toplevel %q does not name the host and the nixpkgs version", b)
		}
	})

	t.Run("any host name evaluates", func(t *testing.T) {
		drv := mustNix(t, f, drvPathArgs(f, dev, odd)...)
		if !strings.HasSuffix(drv, ".drv") {
			t.Errorf("drvPath of %q = %q", odd, drv)
		}
	})

	t.Run("eval error", func(t *testing.T) {
		_, stderr, err := runNix(t, f, drvPathArgs(f, dev, "broken-eval")...)
		if err == nil || !strings.Contains(stderr, "broken-eval: deliberate evaluation failure") {
			t.Errorf("eval of broken-eval: err %v, stderr %q", err, stderr)
		}
	})

	t.Run("build failure", func(t *testing.T) {
		// It must evaluate fine and fail only when built.
		mustNix(t, f, drvPathArgs(f, dev, "broken-build")...)
		_, stderr, err := runNix(t, f, "build", "--no-link", toplevel(f, dev, "broken-build"))
		if err == nil || !strings.Contains(stderr, "host broken-build failed to build") {
			t.Errorf("build of broken-build: err %v, stderr %q", err, stderr)
		}
	})

	before := mustNix(t, f, drvPathArgs(f, dev, "Lab-1")...)
	nixpkgsRev, err := f.BumpNixpkgs(ctx)
	if err != nil {
		t.Fatalf("BumpNixpkgs: %v", err)
	}
	if got := gitRev(t, f.Nixpkgs, "main"); got != nixpkgsRev {
		t.Errorf("BumpNixpkgs returned %s, nixpkgs main is %s", nixpkgsRev, got)
	}
	if got := gitRev(t, f.Repo, "dev"); got != dev {
		t.Fatalf("BumpNixpkgs moved the fleet's dev")
	}
	relocked, err := f.Relock(ctx, "flake.lock: update nixpkgs")
	if err != nil {
		t.Fatalf("Relock: %v", err)
	}
	if relocked == dev {
		t.Fatalf("Relock made no commit")
	}
	if got := assertOriginMatches(t, f); got != relocked {
		t.Errorf("Relock returned %s, dev is %s", relocked, got)
	}
	lock, err := os.ReadFile(filepath.Join(f.Repo, "flake.lock"))
	if err != nil || !strings.Contains(string(lock), nixpkgsRev) {
		t.Errorf("flake.lock does not lock nixpkgs at %s: %v\n%s", nixpkgsRev, err, lock)
	}
	after := mustNix(t, f, drvPathArgs(f, relocked, "Lab-1")...)
	if before == after {
		t.Errorf("toplevel of Lab-1 unchanged by the nixpkgs bump: %s", after)
	}
	if again, err := f.Relock(ctx, "nothing to do"); err != nil || again != relocked {
		t.Errorf("second Relock = %s, %v; want no new commit (%s)", again, err, relocked)
	}

	// Someone else (ringflow) moves dev on the remote; fleetgen must build on
	// top of that, not revert it.
	other := filepath.Join(t.TempDir(), "other")
	for _, args := range [][]string{
		{"clone", "-q", f.Remote, other},
		{"-C", other, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "elsewhere"},
		{"-C", other, "push", "-q", "origin", "dev"},
	} {
		if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	elsewhere := gitRev(t, other, "HEAD")

	hosts2 := append(append([]Host(nil), hosts...), Host{Name: "new-host"})
	added, err := f.SetHosts(ctx, hosts2, "add new-host")
	if err != nil {
		t.Fatalf("SetHosts: %v", err)
	}
	if got := assertOriginMatches(t, f); got != added {
		t.Errorf("SetHosts returned %s, dev is %s", added, got)
	}
	if parent := gitRev(t, f.Repo, added+"^"); parent != elsewhere {
		t.Errorf("SetHosts commit's parent = %s, want the remote's %s", parent, elsewhere)
	}
	if got, want := hostNames(t, f, added), sorted(append(want, "new-host")); !reflect.DeepEqual(got, want) {
		t.Errorf("hosts after SetHosts = %q, want %q", got, want)
	}

	changed, err := f.CommitFile(ctx, "common.nix", "{ ... }: { services.demo.enable = true; }\n", "enable demo")
	if err != nil {
		t.Fatalf("CommitFile: %v", err)
	}
	assertOriginMatches(t, f)
	if d := mustNix(t, f, drvPathArgs(f, changed, "Lab-1")...); d == after {
		t.Errorf("a common.nix change left Lab-1's toplevel unchanged")
	}
}

func TestFlakeDirAndPackageSet(t *testing.T) {
	f := generate(t, Options{Count: 3, FlakeDir: "nix/", PkgsFiles: 4, PkgsFileBytes: 3000, Salt: "pkgs"})
	if f.FlakeDir != "nix" {
		t.Errorf("FlakeDir = %q, want nix", f.FlakeDir)
	}
	for _, p := range []string{"nix/flake.nix", "nix/flake.lock", "nix/hosts.json"} {
		if _, err := os.Stat(filepath.Join(f.Repo, p)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(f.Repo, "flake.nix")); err == nil {
		t.Errorf("flake.nix is at the top despite FlakeDir")
	}
	st, err := os.Stat(filepath.Join(f.Nixpkgs, "pkgs", pkgFileName(4)))
	if err != nil || st.Size() < 3000 || st.Size() > 3200 {
		t.Errorf("package file 4: %v, size %v", err, st)
	}

	dev := assertOriginMatches(t, f)
	if !strings.Contains(f.FlakeURL(dev), "dir=nix") {
		t.Fatalf("FlakeURL %s lacks dir=nix", f.FlakeURL(dev))
	}
	if got, want := hostNames(t, f, dev), []string{"host-001", "host-002", "host-003"}; !reflect.DeepEqual(got, want) {
		t.Errorf("hosts = %q, want %q", got, want)
	}
	mustNix(t, f, "build", "--no-link", toplevel(f, dev, "host-002"))

	changed, err := f.SetHosts(context.Background(), []Host{{Name: "only"}}, "one host")
	if err != nil {
		t.Fatalf("SetHosts: %v", err)
	}
	if got := hostNames(t, f, changed); !reflect.DeepEqual(got, []string{"only"}) {
		t.Errorf("hosts after SetHosts = %q", got)
	}
}

func TestSaltChangesDerivations(t *testing.T) {
	a := generate(t, Options{Count: 1, Salt: "a"})
	b := generate(t, Options{Count: 1, Salt: "b"})
	da := mustNix(t, a, drvPathArgs(a, gitRev(t, a.Repo, "dev"), "host-001")...)
	db := mustNix(t, b, drvPathArgs(b, gitRev(t, b.Repo, "dev"), "host-001")...)
	if da == db {
		t.Errorf("salts a and b gave the same derivation %s", da)
	}
}

// A host that keeps memory in its configuration has a toplevel of its own
// (the kept strings go into it), and builds like any other.
func TestHostMemory(t *testing.T) {
	f := generate(t, Options{Hosts: []Host{{Name: "light"}, {Name: "heavy", Memory: 2000}}, Salt: "mem"})
	dev := gitRev(t, f.Repo, "dev")
	light := mustNix(t, f, drvPathArgs(f, dev, "light")...)
	heavy := mustNix(t, f, drvPathArgs(f, dev, "heavy")...)
	if light == heavy {
		t.Fatalf("the heavy host's derivation is the light one's: %s", heavy)
	}
	out := mustNix(t, f, "eval", "--raw", "--no-update-lock-file", f.FlakeURL(dev)+"#nixosConfigurations.heavy.config.system.build.toplevel.ringflowMemory")
	if len(out) != 64 {
		t.Errorf("ringflowMemory = %q, want a sha256 of the kept strings", out)
	}
	mustNix(t, f, "build", "--no-link", toplevel(f, dev, "heavy"))
}

func TestNixStringRoundTrips(t *testing.T) {
	f := generate(t, Options{})
	for _, s := range []string{"", "plain", `q"uote`, `back\slash`, "${interp}", "$(cmd) $x", "line\nbreak\ttab", "ünï"} {
		out := mustNix(t, f, "eval", "--json", "--expr", nix.Quote(s))
		var got string
		if err := json.Unmarshal([]byte(out), &got); err != nil || got != s {
			t.Errorf("nix.Quote(%q) evaluates to %q (%v)", s, got, err)
		}
	}
}

func TestGenerateRejects(t *testing.T) {
	ctx := context.Background()
	full := t.TempDir()
	if err := os.WriteFile(filepath.Join(full, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, o := range map[string]Options{
		"no dir":          {},
		"non-empty dir":   {Dir: full},
		"duplicate host":  {Dir: t.TempDir(), Hosts: []Host{{Name: "a"}, {Name: "a"}}},
		"unnamed host":    {Dir: t.TempDir(), Hosts: []Host{{}}},
		"negative memory": {Dir: t.TempDir(), Hosts: []Host{{Name: "a", Memory: -1}}},
		"escaping flake":  {Dir: t.TempDir(), FlakeDir: "../up"},
		"absolute flake":  {Dir: t.TempDir(), FlakeDir: "/abs"},
	} {
		if _, err := Generate(ctx, o); err == nil {
			t.Errorf("%s: Generate succeeded", name)
		}
	}
}

// A host with a sub-flake is built from the sub-flake's own input: bumping
// that input and relocking the sub-flake and then the top flake changes
// only that host's toplevel.
func TestSubFlake(t *testing.T) {
	needNix(t)
	ctx := context.Background()
	f, err := Generate(ctx, Options{Dir: t.TempDir(), Hosts: []Host{{Name: "lab-1"}, {Name: "plex"}}, SubFlakes: []string{"plex"}, Env: testEnv()})
	if err != nil {
		t.Fatal(err)
	}
	drv := func(host string) string {
		t.Helper()
		rev, err := f.Rev(ctx, DevBranch)
		if err != nil {
			t.Fatal(err)
		}
		out, err := f.nixOut(ctx, f.Repo, "eval", "--raw", f.FlakeURL(rev)+"#nixosConfigurations."+host+".config.system.build.toplevel.drvPath")
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	lab, plex := drv("lab-1"), drv("plex")
	if _, err := os.Stat(filepath.Join(f.Repo, "hosts", "plex", "flake.lock")); err != nil {
		t.Fatalf("sub-flake lock not committed: %v", err)
	}
	// Bump the sub-flake's input, then relock the sub-flake and the top flake.
	if err := os.WriteFile(filepath.Join(f.SubInput("plex"), "version"), []byte("fleetgen.99\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := f.commit(ctx, f.SubInput("plex"), "bump", "-a"); err != nil {
		t.Fatal(err)
	}
	n := nix.New(nix.Options{Env: f.Env})
	if err := n.UpdateLock(ctx, filepath.Join(f.Repo, "hosts", "plex"), nil); err != nil {
		t.Fatal(err)
	}
	if err := n.UpdateLock(ctx, f.Repo, []string{"plex-flake"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.commit(ctx, f.Repo, "relock", "-a"); err != nil {
		t.Fatal(err)
	}
	if got := drv("lab-1"); got != lab {
		t.Errorf("lab-1 changed with plex's input: %s -> %s", lab, got)
	}
	if got := drv("plex"); got == plex {
		t.Errorf("plex did not change with its own input: still %s", got)
	}
}
