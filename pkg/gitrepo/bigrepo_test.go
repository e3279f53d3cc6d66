//go:build unix

package gitrepo

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The Big benchmarks ask what `ringflow status` and `promote` ask, on a
// generated repository of 100 000 commits (bigSpec): in-process ("gogit")
// and as the git subprocesses they replace ("cli"), one call per op, the
// cli side first, so that each gogit line also reports its ratio to it
// (x-cli). BenchmarkBigStatusRSS measures the peak memory of `ringflow
// status` there. scripts/bench-git.sh runs them all and prints a table.
// The repository is made on first use and kept in os.TempDir(); plain
// `go test` never makes it.

// bigRepoSpec describes a generated repository: commits on dev in all,
// a side commit merged into dev every mergeEvery commits, and ring branches
// the given number of first-parent steps behind dev (dev~N).
type bigRepoSpec struct {
	commits    int
	mergeEvery int
	rings      []bigRing
}

type bigRing struct {
	name   string
	behind int // first-parent steps behind dev
	label  string
}

// bigSpec is the repository of the Big benchmarks: 100 000 commits on dev,
// canary, early and stable 1 000, 10 000 and 50 000 commits behind it.
var bigSpec = bigRepoSpec{
	commits:    100_000,
	mergeEvery: 50,
	rings: []bigRing{
		{"canary", 1_000, "1k"},
		{"early", 10_000, "10k"},
		{"stable", 50_000, "50k"},
	},
}

// bigRepo is a generated repository and what the benchmarks need of it.
type bigRepo struct {
	dir   string            // bare repository
	dev   string            // dev's commit
	rings map[string]string // ring name -> commit
}

var bigRepos sync.Map // bigRepoSpec key -> *bigRepoOnce

type bigRepoOnce struct {
	once sync.Once
	repo *bigRepo
	err  error
}

func (s bigRepoSpec) key() string {
	var r []string
	for _, g := range s.rings {
		r = append(r, fmt.Sprintf("%s%d", g.name, g.behind))
	}
	// Bump v when the generator changes what it writes.
	return fmt.Sprintf("ringflow-bigrepo-v2-c%d-m%d-%s", s.commits, s.mergeEvery, strings.Join(r, "-"))
}

// getBigRepo returns the repository of spec, generating it the first time:
// it is kept in os.TempDir() across runs, keyed by spec, and built once per
// process. Only benchmarks and scripts call it; plain `go test` never does.
func getBigRepo(tb testing.TB, spec bigRepoSpec) *bigRepo {
	tb.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		tb.Skip("needs git")
	}
	v, _ := bigRepos.LoadOrStore(spec.key(), &bigRepoOnce{})
	o := v.(*bigRepoOnce)
	o.once.Do(func() { o.repo, o.err = loadOrMakeBigRepo(spec) })
	if o.err != nil {
		tb.Fatal(o.err)
	}
	return o.repo
}

func loadOrMakeBigRepo(spec bigRepoSpec) (*bigRepo, error) {
	dir := filepath.Join(os.TempDir(), spec.key())
	if _, err := os.Stat(filepath.Join(dir, "ringflow-bench-ok")); err != nil {
		tmp, err := os.MkdirTemp(os.TempDir(), spec.key()+".tmp-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		if err := makeBigRepo(tmp, spec); err != nil {
			return nil, fmt.Errorf("generating %s: %w", dir, err)
		}
		if err := os.WriteFile(filepath.Join(tmp, "ringflow-bench-ok"), nil, 0o644); err != nil {
			return nil, err
		}
		// Another process may have won the race: then keep its copy.
		if err := os.Rename(tmp, dir); err != nil {
			if _, serr := os.Stat(filepath.Join(dir, "ringflow-bench-ok")); serr != nil {
				return nil, err
			}
		}
	}
	r := &bigRepo{dir: dir, rings: map[string]string{}}
	out, err := gitOut(dir, "rev-parse", "refs/heads/dev")
	if err != nil {
		return nil, err
	}
	r.dev = out
	for _, g := range spec.rings {
		if r.rings[g.name], err = gitOut(dir, "rev-parse", "refs/heads/"+g.name); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func gitOut(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			err = fmt.Errorf("%w: %s", err, ee.Stderr)
		}
		return "", fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out)), nil
}

// makeBigRepo writes spec's history into a new bare repository in dir with
// git fast-import, then does what `git gc` does: one pack, packed refs, a
// commit-graph. Every commit changes flake.lock the way a nightly lock
// refresh does (there is no flake.nix: nothing for nix to evaluate); every mergeEvery commits a side commit, branched a few
// commits back and touching a host file, is merged into dev.
func makeBigRepo(dir string, spec bigRepoSpec) error {
	if _, err := gitOut(dir, "init", "-q", "--bare", "--initial-branch=dev", "."); err != nil {
		return err
	}
	cmd := exec.Command("git", "fast-import", "--quiet", "--done")
	cmd.Dir = dir
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	werr := writeBigHistory(stdin, spec)
	if cerr := stdin.Close(); werr == nil {
		werr = cerr
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("fast-import: %w: %s", err, stderr.String())
	}
	if werr != nil {
		return werr
	}
	for _, args := range [][]string{
		{"pack-refs", "--all"},
		{"repack", "-a", "-d", "-q"},
		{"commit-graph", "write", "--reachable"},
	} {
		if _, err := gitOut(dir, args...); err != nil {
			return err
		}
	}
	n, err := gitOut(dir, "rev-list", "--count", "dev")
	if err != nil {
		return err
	}
	if n != strconv.Itoa(spec.commits) {
		return fmt.Errorf("generated %s commits on dev, want %d", n, spec.commits)
	}
	return nil
}

const bigEpoch = 1_500_000_000

func writeBigHistory(w io.Writer, spec bigRepoSpec) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	mark := 0
	var main []int // marks of dev's first-parent chain, oldest first
	when := func(i int) int64 { return bigEpoch + int64(i)*600 }
	data := func(s string) { fmt.Fprintf(bw, "data %d\n%s\n", len(s), s) }
	commit := func(ref string, t int64, msg string, parents ...int) {
		mark++
		fmt.Fprintf(bw, "commit %s\nmark :%d\n", ref, mark)
		fmt.Fprintf(bw, "author ringflow <ringflow@localhost> %d +0000\ncommitter ringflow <ringflow@localhost> %d +0000\n", t, t)
		data(msg)
		for i, p := range parents {
			if i == 0 {
				fmt.Fprintf(bw, "from :%d\n", p)
			} else {
				fmt.Fprintf(bw, "merge :%d\n", p)
			}
		}
	}
	file := func(path, content string) {
		fmt.Fprintf(bw, "M 644 inline %s\n", path)
		data(content)
	}

	for made := 0; made < spec.commits; {
		n := len(main)
		var parents []int
		if n > 0 {
			parents = []int{main[n-1]}
		}
		if spec.mergeEvery > 0 && n >= 4 && n%spec.mergeEvery == 0 && made+2 <= spec.commits {
			// A host change made on a branch three commits back, merged.
			host := fmt.Sprintf("hosts/host-%03d.nix", n/spec.mergeEvery%100)
			cfg := fmt.Sprintf("{ ... }: { networking.hostName = %q; system.stateVersion = \"24.05\"; # rev %d\n}", host, n)
			commit("refs/heads/side", when(n-3)+300, fmt.Sprintf("%s: tweak %d\n", host, n), main[n-4])
			file(host, cfg)
			side := mark
			commit("refs/heads/dev", when(n), "Merge branch 'side' into dev\n", main[n-1], side)
			file(host, cfg)
			file("flake.lock", flakeLock(n))
			made += 2
		} else {
			commit("refs/heads/dev", when(n), fmt.Sprintf("flake.lock: update nixpkgs (%d)\n", n), parents...)
			if n == 0 {
				file("README.md", "generated by ringflow's benchmarks\n")
			}
			file("flake.lock", flakeLock(n))
			made++
		}
		main = append(main, mark)
	}
	for _, g := range spec.rings {
		if g.behind >= len(main) {
			return fmt.Errorf("ring %s: dev has only %d first-parent commits", g.name, len(main))
		}
		fmt.Fprintf(bw, "reset refs/heads/%s\nfrom :%d\n\n", g.name, main[len(main)-1-g.behind])
	}
	fmt.Fprintf(bw, "reset refs/heads/side\n\ndone\n") // delete the side branch
	return bw.Flush()
}

// flakeLock is a flake.lock whose nixpkgs input moved n times, and
// home-manager every seventh time.
func flakeLock(n int) string {
	rev := func(name string, k int) string {
		x := uint64(k+1)*0x9e3779b97f4a7c15 ^ uint64(len(name))*0xbf58476d1ce4e5b9
		return fmt.Sprintf("%016x%016x%08x", x, x*0x94d049bb133111eb, uint32(x>>17))
	}
	node := func(name, owner, repo string, k int) string {
		h := uint64(k+7) * 0x94d049bb133111eb
		return fmt.Sprintf(`    %q: {
      "locked": {
        "lastModified": %d,
        "narHash": "sha256-%016x%016x%011x=",
        "owner": %q,
        "repo": %q,
        "rev": %q,
        "type": "github"
      },
      "original": {
        "owner": %q,
        "repo": %q,
        "type": "github"
      }
    },
`, name, bigEpoch+int64(k)*600, h, h*0x9e3779b97f4a7c15, h>>20, owner, repo, rev(name, k), owner, repo)
	}
	return "{\n  \"nodes\": {\n" +
		node("home-manager", "nix-community", "home-manager", n/7) +
		node("nixpkgs", "NixOS", "nixpkgs", n) +
		"    \"root\": {\n      \"inputs\": {\n        \"home-manager\": \"home-manager\",\n        \"nixpkgs\": \"nixpkgs\"\n      }\n    }\n  },\n  \"root\": \"root\",\n  \"version\": 7\n}\n"
}

// bigQ is one question of a Big benchmark: IsAncestor(a, b) or
// CountBetween(a, b).
type bigQ struct {
	label string
	a, b  string
}

// bigRingQs asks about every ring against dev: ring, dev or, reversed,
// dev, ring.
func bigRingQs(big *bigRepo, reversed bool) []bigQ {
	var qs []bigQ
	for _, g := range bigSpec.rings {
		q := bigQ{"ring=" + g.label, big.rings[g.name], big.dev}
		if reversed {
			q.a, q.b = q.b, q.a
		}
		qs = append(qs, q)
	}
	return qs
}

// bigCase runs one question both ways: cli first, then gogit.
func bigCase(b *testing.B, name string, gogit, cli func(b *testing.B)) {
	b.Run(name, func(b *testing.B) {
		var cliNs float64
		b.Run("cli", func(b *testing.B) {
			cli(b)
			cliNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		})
		b.Run("gogit", func(b *testing.B) {
			gogit(b)
			if cliNs > 0 {
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/cliNs, "x-cli")
			}
		})
	})
}

func gitIsAncestor(b *testing.B, dir, a, d string) bool {
	cmd := exec.Command("git", "merge-base", "--is-ancestor", a, d)
	cmd.Dir = dir
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 {
		return false
	}
	if err != nil {
		b.Fatalf("git merge-base --is-ancestor: %v", err)
	}
	return true
}

func gitCount(b *testing.B, dir, base, tip string) int {
	cmd := exec.Command("git", "rev-list", "--count", base+".."+tip)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("git rev-list --count: %v", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// benchIsAncestor: IsAncestor(q.a, q.b) against git merge-base
// --is-ancestor, which also gives the expected answer.
func benchIsAncestor(b *testing.B, dir string, qs []bigQ) {
	r := mustOpen(b, dir)
	for _, q := range qs {
		want := gitIsAncestor(b, dir, q.a, q.b)
		bigCase(b, q.label,
			func(b *testing.B) {
				for b.Loop() {
					if ok, err := r.IsAncestor(q.a, q.b); err != nil || ok != want {
						b.Fatalf("IsAncestor = %v, %v; git says %v", ok, err, want)
					}
				}
			},
			func(b *testing.B) {
				for b.Loop() {
					gitIsAncestor(b, dir, q.a, q.b)
				}
			})
	}
}

// benchCount: CountBetween(q.a, q.b) against git rev-list --count a..b.
func benchCount(b *testing.B, dir string, qs []bigQ) {
	r := mustOpen(b, dir)
	for _, q := range qs {
		want := gitCount(b, dir, q.a, q.b)
		bigCase(b, q.label,
			func(b *testing.B) {
				for b.Loop() {
					if n, err := r.CountBetween(q.a, q.b); err != nil || n != want {
						b.Fatalf("CountBetween = %d, %v; git says %d", n, err, want)
					}
				}
			},
			func(b *testing.B) {
				for b.Loop() {
					gitCount(b, dir, q.a, q.b)
				}
			})
	}
}

// BenchmarkBigIsAncestor: is the ring an ancestor of dev (fast-forward and
// order checks of promote and status; true).
func BenchmarkBigIsAncestor(b *testing.B) {
	big := getBigRepo(b, bigSpec)
	benchIsAncestor(b, big.dir, bigRingQs(big, false))
}

// BenchmarkBigNotAncestor: is dev an ancestor of the ring (false).
func BenchmarkBigNotAncestor(b *testing.B) {
	big := getBigRepo(b, bigSpec)
	benchIsAncestor(b, big.dir, bigRingQs(big, true))
}

// BenchmarkBigCountBehind: how many commits the ring is behind dev, as
// status shows it.
func BenchmarkBigCountBehind(b *testing.B) {
	big := getBigRepo(b, bigSpec)
	benchCount(b, big.dir, bigRingQs(big, false))
}

// BenchmarkBigCountNotAhead: how many commits dev is behind the ring (0).
func BenchmarkBigCountNotAhead(b *testing.B) {
	big := getBigRepo(b, bigSpec)
	benchCount(b, big.dir, bigRingQs(big, true))
}

// BenchmarkBigUngraphed asks about the stable ring when dev has moved on
// by commits the commit-graph does not cover yet, as after a nightly
// update and before the next gc.
func BenchmarkBigUngraphed(b *testing.B) {
	big := getBigRepo(b, bigSpec)
	dir, dev := bigFreshCopy(b, big, 10)
	stable := big.rings["stable"]
	b.Run("IsAncestor", func(b *testing.B) {
		benchIsAncestor(b, dir, []bigQ{{"ring=50k", stable, dev}, {"ring=50k-reversed", dev, stable}})
	})
	b.Run("CountBehind", func(b *testing.B) {
		benchCount(b, dir, []bigQ{{"ring=50k", stable, dev}})
	})
}

// bigFreshCopy links big's repository into a temporary directory (git
// never changes a pack, the commit-graph or packed-refs in place) and
// adds n commits to dev there, outside the commit-graph.
func bigFreshCopy(b *testing.B, big *bigRepo, n int) (dir, dev string) {
	b.Helper()
	dir = filepath.Join(b.TempDir(), "fresh.git")
	err := filepath.WalkDir(big.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(big.dir, path)
		to := filepath.Join(dir, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		if os.Link(path, to) == nil {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(to, data, 0o644)
	})
	if err != nil {
		b.Fatal(err)
	}
	var in strings.Builder
	t := time.Now().Unix()
	for i := range n {
		msg := fmt.Sprintf("flake.lock: fresh update %d\n", i)
		fmt.Fprintf(&in, "commit refs/heads/dev\ncommitter ringflow <ringflow@localhost> %d +0000\ndata %d\n%s", t+int64(i), len(msg), msg)
		if i == 0 {
			fmt.Fprintf(&in, "from %s\n", big.dev)
		}
		lock := flakeLock(1_000_000 + i)
		fmt.Fprintf(&in, "M 644 inline flake.lock\ndata %d\n%s\n", len(lock), lock)
	}
	cmd := exec.Command("git", "fast-import", "--quiet")
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(in.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("fast-import: %v: %s", err, out)
	}
	if dev, err = gitOut(dir, "rev-parse", "refs/heads/dev"); err != nil {
		b.Fatal(err)
	}
	return dir, dev
}

// BenchmarkBigStatusRSS reports the peak resident memory (peak-MB, in
// 10^6 bytes) of `ringflow status` on the big repository, with a
// ringflow.yaml of no remote and three rings:
//
//   - "ringflow": the real binary ($RINGFLOW_BENCH_BIN, else built from
//     this module; skipped if it does not build), with a stub nix that fails at once. The repository
//     holds no flake, so the real nix eval can only fail too, but before
//     it does, nix clones the whole repository into its cache (in its
//     own, large process): the stub keeps that out of ringflow's figure.
//   - "ringflow+nix": the same with the real nix, children included, for
//     the record (the first nix call of a run clones the repository).
//   - "calls": a process making only the gitrepo calls of status.
func BenchmarkBigStatusRSS(b *testing.B) {
	big := getBigRepo(b, bigSpec)
	tmp := b.TempDir()
	bin, buildOut, buildErr := os.Getenv("RINGFLOW_BENCH_BIN"), []byte(nil), error(nil)
	if bin == "" {
		bin = filepath.Join(tmp, "ringflow")
		build := exec.Command("go", "build", "-o", bin, "github.com/ringflow/ringflow/cmd/ringflow")
		build.Env = userGoEnv()
		buildOut, buildErr = build.CombinedOutput()
	}
	cfg := "repo: " + strconv.Quote(big.dir) + "\nremote: \"\"\ndev: dev\nrings:\n"
	for i, g := range bigSpec.rings {
		hosts := g.name + "-*"
		if i == len(bigSpec.rings)-1 {
			hosts = "*"
		}
		cfg += "  - name: " + g.name + "\n    hosts: [" + strconv.Quote(hosts) + "]\n"
	}
	stub := filepath.Join(tmp, "stub")
	for _, f := range []struct {
		path, content string
		mode          os.FileMode
	}{
		{filepath.Join(tmp, "ringflow.yaml"), cfg, 0o644},
		{filepath.Join(stub, "nix"), "#!/bin/sh\necho 'nix: stubbed out by BenchmarkBigStatusRSS' >&2\nexit 1\n", 0o755},
	} {
		if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(f.path, []byte(f.content), f.mode); err != nil {
			b.Fatal(err)
		}
	}
	status := []string{bin, "--config", filepath.Join(tmp, "ringflow.yaml"), "status"}
	b.Run("ringflow", func(b *testing.B) {
		if buildErr != nil {
			b.Skipf("building ringflow: %v\n%s", buildErr, buildOut)
		}
		bigPeakRSS(b, tmp, []string{"PATH=" + stub + string(os.PathListSeparator) + os.Getenv("PATH")}, status...)
	})
	b.Run("ringflow+nix", func(b *testing.B) {
		if buildErr != nil {
			b.Skipf("building ringflow: %v\n%s", buildErr, buildOut)
		}
		if _, err := exec.LookPath("nix"); err != nil {
			b.Skip("no nix")
		}
		bigPeakRSS(b, tmp, nil, status...)
	})
	b.Run("calls", func(b *testing.B) {
		bigPeakRSS(b, "", []string{"RINGFLOW_BIGREPO_STATUS=" + big.dir},
			os.Args[0], "-test.run=^TestBigStatusCalls$", "-test.count=1")
	})
}

// userGoEnv is the environment for the go command as the user has it:
// TestMain points HOME and XDG_CONFIG_HOME at a scratch directory, which
// would leave go without its build and module caches and its config.
func userGoEnv() []string {
	env := os.Environ()
	u, err := user.Current()
	if err != nil || u.HomeDir == "" {
		return env
	}
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "XDG_CONFIG_HOME=") {
			out = append(out, kv)
		}
	}
	return append(out, "HOME="+u.HomeDir)
}

// bigPeakRSS runs argv in dir once per op and reports its peak RSS. Linux
// folds the memory of the process that execs into the new program's
// maxrss, and os/exec starts the child as a vfork sharing our (large)
// memory: so the command is started by TestBigRSSLauncher, a fresh small
// process of this test binary, which reports the rusage of its child.
func bigPeakRSS(b *testing.B, dir string, env []string, argv ...string) {
	var peak int64
	for b.Loop() {
		cmd := exec.Command(os.Args[0], "-test.run=^TestBigRSSLauncher$", "-test.count=1")
		cmd.Dir = dir
		launch, err := json.Marshal(argv)
		if err != nil {
			b.Fatal(err)
		}
		cmd.Env = append(append(os.Environ(), env...), "RINGFLOW_RSS_LAUNCH="+string(launch))
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
		}
		_, after, ok := strings.Cut(string(out), "ringflow-maxrss-bytes ")
		if !ok {
			b.Fatalf("launcher said: %s", out)
		}
		rss, err := strconv.ParseInt(strings.Fields(after)[0], 10, 64)
		if err != nil {
			b.Fatal(err)
		}
		peak = max(peak, rss)
	}
	b.ReportMetric(float64(peak)/1e6, "peak-MB")
}

// TestBigRSSLauncher is bigPeakRSS's intermediate process: it runs the
// command in RINGFLOW_RSS_LAUNCH (a JSON array) and prints its peak RSS;
// plain `go test` skips it.
func TestBigRSSLauncher(t *testing.T) {
	launch := os.Getenv("RINGFLOW_RSS_LAUNCH")
	if launch == "" {
		t.Skip("run by BenchmarkBigStatusRSS")
	}
	os.Unsetenv("RINGFLOW_RSS_LAUNCH")
	var argv []string
	if err := json.Unmarshal([]byte(launch), &argv); err != nil || len(argv) == 0 {
		t.Fatalf("RINGFLOW_RSS_LAUNCH=%s: %v", launch, err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", launch, err, out)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		t.Skip("no rusage on this system")
	}
	rss := int64(ru.Maxrss) * 1024 // KiB on Linux and the BSDs
	if runtime.GOOS == "darwin" {
		rss = int64(ru.Maxrss) // bytes
	}
	fmt.Printf("ringflow-maxrss-bytes %d\n", rss)
}

// TestBigStatusCalls is BenchmarkBigStatusRSS's subprocess: it makes the
// gitrepo calls of `ringflow status` on the repository it is given, and
// nothing when run by plain `go test`.
func TestBigStatusCalls(t *testing.T) {
	dir := os.Getenv("RINGFLOW_BIGREPO_STATUS")
	if dir == "" {
		t.Skip("run by BenchmarkBigStatusRSS")
	}
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	prev, err := r.ResolveCommit("dev")
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range bigSpec.rings {
		pos, err := r.ResolveCommit(g.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Commit(pos); err != nil {
			t.Fatal(err)
		}
		if _, _, err := r.FileAt(pos, "flake.lock"); err != nil {
			t.Fatal(err)
		}
		if ok, err := r.IsAncestor(pos, prev); err != nil || !ok {
			t.Fatalf("IsAncestor(%s, source) = %v, %v", g.name, ok, err)
		}
		if _, err := r.CountBetween(pos, prev); err != nil {
			t.Fatal(err)
		}
		prev = pos
	}
}
