package nix_test

// These tests drive the real nix over fleets made by fleetgen, which itself
// imports pkg/nix: hence the external test package.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ringflow/ringflow/pkg/fleetgen"
	"github.com/ringflow/ringflow/pkg/nix"
)

// testNixConfig keeps every nix call offline and unsandboxed: there is no
// binary cache to ask, and the builders run /bin/sh.
const testNixConfig = "experimental-features = nix-command flakes\nsubstituters =\nsandbox = false"

// needNix skips without nix, but fails under CI so a missing install cannot
// pass as a skip.
func needNix(tb testing.TB) []string {
	tb.Helper()
	if _, err := exec.LookPath("nix"); err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatal("nix is not installed but CI is set")
		}
		tb.Skip("nix not installed")
	}
	if os.Getenv("NIX_CONFIG") == "" {
		return []string{"NIX_CONFIG=" + testNixConfig}
	}
	return nil
}

func generate(tb testing.TB, o fleetgen.Options) (*fleetgen.Fleet, nix.FlakeRef) {
	tb.Helper()
	o.Env = append(o.Env, needNix(tb)...)
	if o.Dir == "" {
		o.Dir = tb.TempDir()
	}
	ctx := context.Background()
	f, err := fleetgen.Generate(ctx, o)
	if err != nil {
		tb.Fatalf("fleetgen: %v", err)
	}
	rev, err := f.Rev(ctx, fleetgen.DevBranch)
	if err != nil {
		tb.Fatal(err)
	}
	return f, nix.FlakeRef{Repo: f.Repo, Rev: rev, Dir: f.FlakeDir}
}

func TestFleetEvalRealiseCopy(t *testing.T) {
	hosts := []fleetgen.Host{
		{Name: "web.example"},
		{Name: `odd "q" $(x)`},
		{Name: "broken", EvalError: "broken is broken on purpose"},
		{Name: "failing", BuildFail: true},
	}
	for i := 1; len(hosts) < 12; i++ {
		hosts = append(hosts, fleetgen.Host{Name: fmt.Sprintf("host-%02d", i), Work: 100})
	}
	// A fresh salt makes fresh derivations, so Realise really builds.
	f, ref := generate(t, fleetgen.Options{Hosts: hosts, Salt: fmt.Sprint(time.Now().UnixNano())})
	n := nix.New(nix.Options{Env: f.Env})
	ctx := context.Background()

	names := make([]string, len(hosts))
	for i, h := range hosts {
		names[i] = h.Name
	}
	evals, err := n.EvalHosts(ctx, ref, names, nix.EvalOptions{Attr: "config.system.build.toplevel", Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(evals) != len(hosts) {
		t.Fatalf("EvalHosts returned %d results, want %d", len(evals), len(hosts))
	}
	var good []nix.DrvOut
	var goodHosts []string
	for i, he := range evals {
		if he.Host != names[i] {
			t.Errorf("result %d is %q, want %q", i, he.Host, names[i])
		}
		if he.Host == "broken" {
			if he.Drv != "" || !strings.Contains(he.Err, "broken is broken on purpose") {
				t.Errorf("broken: Drv %q, Err %q", he.Drv, he.Err)
			}
			continue
		}
		if he.Err != "" || !strings.HasSuffix(he.Drv, ".drv") || he.Out == "" {
			t.Errorf("%s: %+v, want a drv and an out", he.Host, he)
			continue
		}
		good = append(good, nix.DrvOut{Drv: he.Drv, Out: he.Out})
		goodHosts = append(goodHosts, he.Host)
	}
	if t.Failed() {
		t.FailNow()
	}

	before, err := n.ValidPaths(ctx, outs(good))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range good {
		if before[d.Out] {
			t.Errorf("%s is valid before any build", d.Out)
		}
	}

	res, err := n.Realise(ctx, good, nix.RealiseOptions{Jobs: "auto"})
	if err != nil {
		t.Fatal(err)
	}
	var green []nix.DrvOut
	for i, r := range res {
		host := goodHosts[i]
		if r.Drv != good[i].Drv || r.Out != good[i].Out {
			t.Errorf("%s: result %+v is for another derivation", host, r)
		}
		if host == "failing" {
			if r.OK || !strings.Contains(r.Err, "failed to build") {
				t.Errorf("failing: OK %v, Err %q", r.OK, r.Err)
			}
			continue
		}
		if !r.OK || r.Err != "" {
			t.Errorf("%s: OK %v, Err %q", host, r.OK, r.Err)
			continue
		}
		b, err := os.ReadFile(r.Out)
		if err != nil || !strings.Contains(string(b), "nixos-system "+host+"\n") {
			t.Errorf("%s: output %s: %q, %v", host, r.Out, b, err)
		}
		green = append(green, good[i])
	}

	valid, err := n.ValidPaths(ctx, outs(good))
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range good {
		if want := goodHosts[i] != "failing"; valid[d.Out] != want {
			t.Errorf("%s: ValidPaths says %v, want %v", goodHosts[i], valid[d.Out], want)
		}
	}

	// Again: nothing to build, all OK.
	again, err := n.Realise(ctx, green, nix.RealiseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range again {
		if !r.OK {
			t.Errorf("rebuilding %s: %+v", r.Drv, r)
		}
	}
	if len(again) != len(green) {
		t.Errorf("%d results, want %d", len(again), len(green))
	}

	cache := t.TempDir()
	if err := n.CopyTo(ctx, "file://"+cache, outs(green)); err != nil {
		t.Fatal(err)
	}
	for _, d := range green {
		hash := filepath.Base(d.Out)[:32]
		if _, err := os.Stat(filepath.Join(cache, hash+".narinfo")); err != nil {
			t.Errorf("no narinfo for %s in the cache: %v", d.Out, err)
		}
	}
	if err := n.CopyTo(ctx, "file://"+cache, []string{"/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-gone"}); err == nil {
		t.Error("CopyTo of a path that is not there: want an error")
	}
}

func outs(drvs []nix.DrvOut) []string {
	var o []string
	for _, d := range drvs {
		o = append(o, d.Out)
	}
	return o
}

// BenchmarkEvalHosts evaluates a 30-host fleet whose hosts share a package
// set of 100 files of 20 kB, in one evaluator and in two: once with no work
// per host, where parsing the package set, which every process pays for,
// is all there is, and once with some evaluation work per host.
func BenchmarkEvalHosts(b *testing.B) {
	for _, work := range []int{0, 20000} {
		hosts := make([]fleetgen.Host, 30)
		for i := range hosts {
			hosts[i] = fleetgen.Host{Name: fmt.Sprintf("host-%03d", i+1), Work: work}
		}
		f, ref := generate(b, fleetgen.Options{Hosts: hosts, PkgsFiles: 100, PkgsFileBytes: 20000})
		names := make([]string, len(f.Hosts))
		for i, h := range f.Hosts {
			names[i] = h.Name
		}
		// No answers from nix's evaluation cache: every run evaluates.
		n := nix.New(nix.Options{Env: f.Env, ExtraArgs: []string{"--option", "eval-cache", "false"}})
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("work=%d/workers=%d", work, workers), func(b *testing.B) {
				for b.Loop() {
					res, err := n.EvalHosts(context.Background(), ref, names, nix.EvalOptions{Workers: workers})
					if err != nil {
						b.Fatal(err)
					}
					for _, he := range res {
						if he.Err != "" {
							b.Fatalf("%s: %s", he.Host, he.Err)
						}
					}
				}
			})
		}
	}
}

// With nothing allowed to build here (--max-jobs 0), a host that no builder
// takes is NotTaken, not a failed build, while the hosts whose outputs are
// valid still count: with no builders at all, and with a builder nix cannot
// reach (its reason, from ssh, is what Err says).
func TestRealiseNotTaken(t *testing.T) {
	f, ref := generate(t, fleetgen.Options{Hosts: []fleetgen.Host{{Name: "built"}, {Name: "waiting"}}, Salt: fmt.Sprint(time.Now().UnixNano())})
	n := nix.New(nix.Options{Env: append(f.Env, "NIX_SSHOPTS=-oBatchMode=yes")})
	ctx := context.Background()
	evals, err := n.EvalHosts(ctx, ref, []string{"built", "waiting"}, nix.EvalOptions{Attr: "config.system.build.toplevel"})
	if err != nil {
		t.Fatal(err)
	}
	drvs := make([]nix.DrvOut, len(evals))
	for i, he := range evals {
		if he.Err != "" {
			t.Fatalf("%s: %s", he.Host, he.Err)
		}
		drvs[i] = nix.DrvOut{Drv: he.Drv, Out: he.Out}
	}
	if res, err := n.Realise(ctx, drvs[:1], nix.RealiseOptions{Jobs: "auto"}); err != nil || !res[0].OK {
		t.Fatalf("building %s here: %v %+v", drvs[0].Drv, err, res)
	}
	for _, tc := range []struct{ builders, reason string }{
		// Nix 2.34 says "local builds are disabled" instead.
		{"", "unable to start any build|local builds are disabled"},
		{"ssh-ng://no-such-builder.invalid " + f.System, "no-such-builder.invalid"},
	} {
		res, err := n.Realise(ctx, drvs, nix.RealiseOptions{Jobs: "0", Builders: tc.builders})
		if err != nil {
			t.Fatalf("builders %q: %v", tc.builders, err)
		}
		if !res[0].OK || res[0].NotTaken {
			t.Errorf("builders %q: built: %+v, want OK (its output is valid)", tc.builders, res[0])
		}
		if w := res[1]; w.OK || !w.NotTaken || w.Builder != "" || !regexp.MustCompile(tc.reason).MatchString(strings.ToLower(w.Err)) {
			t.Errorf("builders %q: waiting: %+v, want NotTaken saying %q", tc.builders, w, tc.reason)
		}
	}
}
