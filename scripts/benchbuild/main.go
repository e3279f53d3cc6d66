// Command benchbuild measures `ringflow build` on generated fleets against
// what an operator would run by hand — one `nix build --keep-going` of
// every toplevel, and a per-host loop — with fresh derivations for every
// side, the sides alternated round by round, medians reported. It also
// times a re-run at a built commit, checks that an update touching 10% of
// the hosts realises exactly those, and reports peak memory. `make bench`
// runs it; see docs/benchmarks.md.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ringflow/ringflow/pkg/fleetgen"
)

type options struct {
	ringflow   string
	hosts      int
	rounds     int
	loopRounds int
	pkgsFiles  int
	pkgsBytes  int
	work       int
	dir        string

	light       bool   // the light-evaluation table
	nixosSizes  string // host counts of the NixOS-sized table, e.g. "16,32,64,128"; "" skips it
	nixosMemory int    // strings each NixOS-sized host keeps (600000 ≈ 170 MB)
	nixosLimit  int64  // memory cgroup limit of the largest NixOS-sized build; 0 skips that run
}

func main() {
	var o options
	flag.StringVar(&o.ringflow, "ringflow", "bin/ringflow", "the ringflow binary")
	flag.IntVar(&o.hosts, "hosts", 100, "hosts per fleet")
	flag.IntVar(&o.rounds, "rounds", 3, "alternated rounds (median reported)")
	flag.IntVar(&o.loopRounds, "loop-rounds", 3, "rounds of the per-host loop (slow); 0 skips it")
	flag.IntVar(&o.pkgsFiles, "pkgs-files", 400, "package-set files every host imports")
	flag.IntVar(&o.pkgsBytes, "pkgs-bytes", 12500, "bytes per package-set file (400 × 12500 = 5 MB)")
	flag.IntVar(&o.work, "work", 50000, "evaluation steps per host")
	flag.BoolVar(&o.light, "light", true, "run the light-evaluation table")
	flag.StringVar(&o.nixosSizes, "nixos", "16,32,64,128", "host counts of the NixOS-sized table (\"\" skips it)")
	flag.IntVar(&o.nixosMemory, "nixos-memory", 600000, "strings of ~220 B each NixOS-sized host keeps while evaluated")
	flag.Int64Var(&o.nixosLimit, "nixos-limit", 4<<30, "memory cgroup limit (bytes) of a last build at the largest size; 0 skips it")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "benchbuild:", err)
		os.Exit(1)
	}
}

// sample is one timed run.
type sample struct {
	secs   float64
	maxRSS int64 // KiB, the process and every child it waited for
	ownRSS int64 // KiB, ringflow's own process alone
}

var ownRSSRE = regexp.MustCompile(`peak memory of this process: ([0-9.]+) MB`)

func run(o options) error {
	var err error
	if o.ringflow, err = filepath.Abs(o.ringflow); err != nil {
		return err
	}
	if o.dir, err = os.MkdirTemp("", "ringflow-benchbuild-"); err != nil {
		return err
	}
	defer os.RemoveAll(o.dir)
	if os.Getenv("NIX_CONFIG") == "" {
		os.Setenv("NIX_CONFIG", "experimental-features = nix-command flakes\nsubstituters =\nsandbox = false")
	}
	for k, v := range map[string]string{"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@ringflow.invalid",
		"GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@ringflow.invalid"} {
		os.Setenv(k, v)
	}
	nixVersion, _ := exec.Command("nix", "--version").Output()
	fmt.Printf("machine: %d cores, %s; %s", runtime.NumCPU(), runtime.GOOS+"/"+runtime.GOARCH, nixVersion)
	if o.nixosSizes != "" {
		if err := o.nixosTable(); err != nil {
			return err
		}
	}
	if !o.light {
		return nil
	}
	fmt.Printf("fleet: %d hosts, %d package files × %d B shared by every host, %d evaluation steps per host\n\n",
		o.hosts, o.pkgsFiles, o.pkgsBytes, o.work)

	var rf, nb, loop, rerun []sample
	var realised, reused int
	ctx := context.Background()
	for r := 1; r <= o.rounds; r++ {
		// ringflow and the hand-written nix build alternate, each on a fleet
		// of its own so that neither finds the other's outputs.
		a, err := o.fleet(ctx, fmt.Sprintf("a%d", r))
		if err != nil {
			return err
		}
		s, err := o.ringflowBuild(a)
		if err != nil {
			return err
		}
		rf = append(rf, s)
		if s, err = o.ringflowBuild(a); err != nil { // the re-run: evidence answers
			return err
		}
		rerun = append(rerun, s)
		b, err := o.fleet(ctx, fmt.Sprintf("b%d", r))
		if err != nil {
			return err
		}
		if s, err = o.nixBuild(b); err != nil {
			return err
		}
		nb = append(nb, s)
		if r == 1 {
			if realised, reused, err = o.tenPercent(ctx, a); err != nil {
				return err
			}
		}
		fmt.Fprintf(os.Stderr, "round %d: ringflow %.2fs, nix build %.2fs, re-run %.3fs\n", r, rf[r-1].secs, nb[r-1].secs, rerun[r-1].secs)
	}
	for r := 1; r <= o.loopRounds; r++ {
		c, err := o.fleet(ctx, fmt.Sprintf("c%d", r))
		if err != nil {
			return err
		}
		s, err := o.perHostLoop(c)
		if err != nil {
			return err
		}
		loop = append(loop, s)
		fmt.Fprintf(os.Stderr, "loop round %d: %.2fs\n", r, s.secs)
	}

	mrf, mnb, mre := median(rf), median(nb), median(rerun)
	fmt.Printf("%-46s %10s %10s %8s %10s %s\n", "measure", "ringflow", "by hand", "ratio", "target", "met")
	row := func(name string, a, b float64, ratio float64, target string, met bool) {
		fmt.Printf("%-46s %10s %10s %8s %10s %s\n", name, secs(a), secs(b), fmt.Sprintf("%.2f", ratio), target, yes(met))
	}
	row(fmt.Sprintf("build %d hosts vs one nix build --keep-going", o.hosts), mrf.secs, mnb.secs, mrf.secs/mnb.secs, "≤ 0.5", mrf.secs/mnb.secs <= 0.5)
	if len(loop) > 0 {
		ml := median(loop)
		row(fmt.Sprintf("build %d hosts vs a per-host nix build loop", o.hosts), mrf.secs, ml.secs, ml.secs/mrf.secs, "≥ 8×", ml.secs/mrf.secs >= 8)
	}
	fmt.Printf("%-46s %10s %10s %8s %10s %s\n", "re-run at a built commit", secs(mre.secs), "-", "-", "≤ 0.3 s", yes(mre.secs <= 0.3))
	want := o.hosts / 10
	fmt.Printf("%-46s %10s %10s %8s %10s %s\n", "update changing 10% of hosts: realised/reused",
		fmt.Sprintf("%d/%d", realised, reused), "-", "-", fmt.Sprintf("%d/%d", want, o.hosts-want), yes(realised == want && reused == o.hosts-want))
	var own int64
	for _, s := range rf {
		own = max(own, s.ownRSS)
	}
	fmt.Printf("%-46s %10s %10s\n", "peak memory: ringflow's own process", kib(own), "-")
	fmt.Printf("%-46s %10s %10s\n", "peak memory: largest nix process", kib(maxRSS(rf)), kib(maxRSS(nb)))
	return nil
}

func (o options) fleet(ctx context.Context, name string) (*fleetgen.Fleet, error) {
	hosts := make([]fleetgen.Host, o.hosts)
	for i := range hosts {
		hosts[i] = fleetgen.Host{Name: fmt.Sprintf("host-%03d", i+1), Work: o.work}
	}
	return o.generate(ctx, name, hosts, o.pkgsFiles, o.pkgsBytes)
}

// generate makes a fleet with fresh derivations and a one-ring config.
func (o options) generate(ctx context.Context, name string, hosts []fleetgen.Host, pkgsFiles, pkgsBytes int) (*fleetgen.Fleet, error) {
	dir := filepath.Join(o.dir, name)
	f, err := fleetgen.Generate(ctx, fleetgen.Options{Dir: dir, Hosts: hosts, PkgsFiles: pkgsFiles, PkgsFileBytes: pkgsBytes,
		Salt: fmt.Sprintf("%s-%d", dir, time.Now().UnixNano())})
	if err != nil {
		return nil, err
	}
	cfg := "remote: \"\"\nrings:\n  - name: all\n    hosts: [\"*\"]\n"
	return f, os.WriteFile(filepath.Join(f.Dir, "ringflow.yaml"), []byte(cfg), 0o644)
}

func (o options) ringflowBuild(f *fleetgen.Fleet, extra ...string) (sample, error) {
	args := append([]string{"--config", filepath.Join(f.Dir, "ringflow.yaml"), "-v", "build", "-o", "json"}, extra...)
	s, out, err := timed(f.Repo, o.ringflow, args...)
	if err != nil {
		return s, fmt.Errorf("ringflow build: %w\n%s", err, out)
	}
	// The kernel's figure for a child includes the nix processes it ran;
	// ringflow tells its own under -v.
	s.ownRSS = -1
	if m := ownRSSRE.FindSubmatch(out); m != nil {
		mb, _ := strconv.ParseFloat(string(m[1]), 64)
		s.ownRSS = int64(mb * 1024)
	}
	return s, nil
}

func (o options) nixBuild(f *fleetgen.Fleet) (sample, error) {
	args, err := nixBuildArgs(f)
	if err != nil {
		return sample{}, err
	}
	s, out, err := timed(f.Repo, "nix", args...)
	if err != nil {
		return s, fmt.Errorf("nix build: %w\n%s", err, out)
	}
	return s, nil
}

// perHostLoop is `for h in …; do nix build …#$h; done`.
func (o options) perHostLoop(f *fleetgen.Fleet) (sample, error) {
	rev, err := exec.Command("git", "-C", f.Repo, "rev-parse", "dev").Output()
	if err != nil {
		return sample{}, err
	}
	var total sample
	for _, h := range f.Hosts {
		s, out, err := timed(f.Repo, "nix", "build", "--no-link",
			fmt.Sprintf("git+file://%s?rev=%s#nixosConfigurations.%s.config.system.build.toplevel", f.Repo, strings.TrimSpace(string(rev)), h.Name))
		if err != nil {
			return total, fmt.Errorf("nix build %s: %w\n%s", h.Name, err, out)
		}
		total.secs += s.secs
		total.maxRSS = max(total.maxRSS, s.maxRSS)
	}
	return total, nil
}

// tenPercent changes every tenth host, builds, and counts what was
// realised and what was reused, from ringflow's own report.
func (o options) tenPercent(ctx context.Context, f *fleetgen.Fleet) (realised, reused int, err error) {
	hosts := append([]fleetgen.Host(nil), f.Hosts...)
	for i := 0; i < len(hosts); i += 10 {
		hosts[i].Work++
	}
	if _, err := f.SetHosts(ctx, hosts, "change every tenth host"); err != nil {
		return 0, 0, err
	}
	cmd := exec.Command(o.ringflow, "--config", filepath.Join(f.Dir, "ringflow.yaml"), "build", "-o", "json")
	cmd.Dir = f.Repo
	out, err := cmd.Output()
	if err != nil {
		return 0, 0, fmt.Errorf("ringflow build after the change: %w", err)
	}
	var rep struct {
		Hosts []struct {
			Reused bool   `json:"reused"`
			Status string `json:"status"`
		} `json:"hosts"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		return 0, 0, err
	}
	for _, h := range rep.Hosts {
		if h.Reused {
			reused++
		} else if h.Status == "green" {
			realised++
		}
	}
	return realised, reused, nil
}

func timed(dir, name string, args ...string) (sample, []byte, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	s := sample{secs: time.Since(start).Seconds()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		s.maxRSS = ru.Maxrss // KiB on Linux
	}
	return s, out.Bytes(), err
}

func median(ss []sample) sample {
	c := append([]sample(nil), ss...)
	sort.Slice(c, func(i, j int) bool { return c[i].secs < c[j].secs })
	return c[len(c)/2]
}

func maxRSS(ss []sample) int64 {
	var m int64
	for _, s := range ss {
		m = max(m, s.maxRSS)
	}
	return m
}

func secs(s float64) string { return fmt.Sprintf("%.3fs", s) }
func kib(k int64) string    { return fmt.Sprintf("%.0f MB", float64(k)/1024) }
func yes(b bool) string {
	if b {
		return "yes"
	}
	return "NO"
}

// nixBuildArgs is one `nix build --keep-going` of every host's toplevel at
// dev: what an operator would run by hand.
func nixBuildArgs(f *fleetgen.Fleet) ([]string, error) {
	rev, err := exec.Command("git", "-C", f.Repo, "rev-parse", "dev").Output()
	if err != nil {
		return nil, err
	}
	args := []string{"build", "--no-link", "--keep-going"}
	for _, h := range f.Hosts {
		args = append(args, fmt.Sprintf("git+file://%s?rev=%s#nixosConfigurations.%s.config.system.build.toplevel", f.Repo, strings.TrimSpace(string(rev)), h.Name))
	}
	return args, nil
}

// nixosTable builds fleets of NixOS-sized hosts — each keeps
// o.nixosMemory host-unique strings in its configuration while evaluated,
// as a NixOS host keeps hundreds of MB — with ringflow and with one nix
// build --keep-going, fresh derivations each, and reports wall time,
// whole-process-tree peak memory and when ringflow's first host was green.
func (o options) nixosTable() error {
	var sizes []int
	for _, f := range strings.Split(o.nixosSizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return fmt.Errorf("-nixos %q: want host counts such as 16,32,64", o.nixosSizes)
		}
		sizes = append(sizes, n)
	}
	fmt.Printf("NixOS-sized fleet: every host keeps %d strings of ~220 B (~%d MB) while evaluated; fresh derivations; peak = whole process tree, /proc sampled every 50 ms\n",
		o.nixosMemory, o.nixosMemory*285/1000000)
	fmt.Printf("%6s %12s %10s %12s %12s %10s %8s\n", "hosts", "ringflow", "peak", "first green", "nix build", "peak", "ratio")
	type result struct{ rf, nb treeRun }
	res := map[int]result{}
	ctx := context.Background()
	built := func(l string) bool { return strings.HasSuffix(l, ": built") }
	for _, n := range sizes {
		hosts := o.nixosHosts(n)
		a, err := o.generate(ctx, fmt.Sprintf("nixos-a%d", n), hosts, 0, 0)
		if err != nil {
			return err
		}
		rf, err := runTree(a.Repo, "", built, o.ringflow, "--config", filepath.Join(a.Dir, "ringflow.yaml"), "build")
		if err != nil {
			return fmt.Errorf("ringflow build of %d NixOS-sized hosts: %w\n%s", n, err, rf.out)
		}
		b, err := o.generate(ctx, fmt.Sprintf("nixos-b%d", n), hosts, 0, 0)
		if err != nil {
			return err
		}
		args, err := nixBuildArgs(b)
		if err != nil {
			return err
		}
		nb, err := runTree(b.Repo, "", nil, "nix", args...)
		if err != nil {
			return fmt.Errorf("nix build of %d NixOS-sized hosts: %w\n%s", n, err, nb.out)
		}
		res[n] = result{rf, nb}
		fmt.Printf("%6d %12s %10s %12s %12s %10s %8.2f\n", n, secs(rf.secs), kib(rf.peakKiB),
			fmt.Sprintf("%s (%.0f%%)", secs(rf.firstSecs), 100*rf.firstSecs/rf.secs), secs(nb.secs), kib(nb.peakKiB), rf.secs/nb.secs)
		os.RemoveAll(a.Dir)
		os.RemoveAll(b.Dir)
	}
	lo, hi := sizes[0], sizes[len(sizes)-1]
	if lo != hi {
		growth := float64(res[hi].rf.peakKiB) / float64(res[lo].rf.peakKiB)
		fmt.Printf("target: ringflow's peak at %d hosts ≤ 1.25× at %d and ≤ 2 GiB: %.2f×, %s: %s\n", hi, lo, growth, kib(res[hi].rf.peakKiB),
			yes(growth <= 1.25 && res[hi].rf.peakKiB <= 2<<20))
	}
	if r, ok := res[64]; ok {
		fmt.Printf("target: wall ≤ 0.6× nix build at 64 hosts: %.2f: %s\n", r.rf.secs/r.nb.secs, yes(r.rf.secs/r.nb.secs <= 0.6))
		fmt.Printf("target: first green within 25%% of the wall time at 64 hosts: %.0f%%: %s\n", 100*r.rf.firstSecs/r.rf.secs, yes(r.rf.firstSecs >= 0 && r.rf.firstSecs <= 0.25*r.rf.secs))
	}
	if o.nixosLimit <= 0 {
		fmt.Println()
		return nil
	}
	c, err := o.generate(ctx, fmt.Sprintf("nixos-c%d", hi), o.nixosHosts(hi), 0, 0)
	if err != nil {
		return err
	}
	defer os.RemoveAll(c.Dir)
	cg, peak, remove, err := memoryCgroup(fmt.Sprintf("ringflow-bench-%d", os.Getpid()), o.nixosLimit)
	if err != nil {
		return err
	}
	defer remove()
	r, err := runTree(c.Repo, cg, built, o.ringflow, "--config", filepath.Join(c.Dir, "ringflow.yaml"), "build")
	usage, failcnt := peak()
	fmt.Printf("%d hosts under a %s memory cgroup: %s in %s (cgroup peak %s, limit hit %d times)\n\n", hi, kib(o.nixosLimit>>10),
		map[bool]string{true: "all green", false: "FAILED"}[err == nil], secs(r.secs), kib(usage>>10), failcnt)
	if err != nil {
		return fmt.Errorf("ringflow build under the cgroup: %w\n%s", err, lastLines(r.out, 20))
	}
	return nil
}

// nixosHosts are n NixOS-sized hosts.
func (o options) nixosHosts(n int) []fleetgen.Host {
	hosts := make([]fleetgen.Host, n)
	for i := range hosts {
		hosts[i] = fleetgen.Host{Name: fmt.Sprintf("host-%03d", i+1), Memory: o.nixosMemory}
	}
	return hosts
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
