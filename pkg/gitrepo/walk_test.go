package gitrepo

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// branchedHistory builds, in a fresh work tree, a history with feature
// branches, criss-cross merges, an unrelated root merged in, and an octopus
// merge. when, if not nil, chooses each commit's date from its sequence
// number; nil uses the fixture's increasing clock. It returns the repo dir.
func branchedHistory(f *fx, when func(i int) int64) string {
	f.tb.Helper()
	dir := filepath.Join(f.tb.TempDir(), "hist")
	f.run(filepath.Dir(dir), "init", "-q", dir)
	i := 0
	c := func(file, msg string) {
		i++
		if when == nil {
			f.commit(dir, file, msg)
		} else {
			f.commitAt(dir, file, msg, when(i))
		}
	}
	m := func(msg string, branches ...string) {
		i++
		if when == nil {
			f.merge(dir, msg, branches...)
		} else {
			f.mergeAt(dir, msg, when(i), branches...)
		}
	}
	co := func(args ...string) { f.run(dir, append([]string{"checkout", "-q"}, args...)...) }

	c("main.txt", "m0")
	c("main.txt", "m1")
	co("-b", "f1")
	c("f1.txt", "a1")
	c("f1.txt", "a2")
	co("main")
	c("main.txt", "m2")
	co("-b", "f2")
	c("f2.txt", "b1")
	co("f1")
	c("f1.txt", "a3")
	co("main")
	m("merge f1", "f1")
	co("f2")
	c("f2.txt", "b2")
	m("merge main into f2", "main")
	co("f1")
	m("criss-cross: merge f2 into f1", "f2")
	co("--orphan", "other")
	f.run(dir, "rm", "-rq", "--cached", ".")
	for _, n := range []string{"main.txt", "f1.txt", "f2.txt"} {
		os.Remove(filepath.Join(dir, n))
	}
	c("other.txt", "o1")
	c("other.txt", "o2")
	co("main")
	m("merge unrelated", "other")
	co("-b", "f3", "HEAD~2")
	c("f3.txt", "c1")
	co("main")
	m("octopus", "f2", "f3")
	c("main.txt", "m5")
	co("f1")
	c("f1.txt", "a4")
	co("main")
	return dir
}

// allCommits lists every commit of dir, as git sees it.
func allCommits(f *fx, dir string) []string {
	return strings.Fields(f.run(dir, "rev-list", "--all"))
}

// reach is the exact oracle: the ancestor set of each commit, from
// `git rev-list <c>` (a walk without negative refs involves no heuristics).
func reach(f *fx, dir string, commits []string) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, c := range commits {
		set := map[string]bool{}
		for _, h := range strings.Fields(f.run(dir, "rev-list", c)) {
			set[h] = true
		}
		out[c] = set
	}
	return out
}

func countMinus(anc map[string]map[string]bool, base, tip string) int {
	n := 0
	for h := range anc[tip] {
		if base == "" || !anc[base][h] {
			n++
		}
	}
	return n
}

// graphModes prepares dir's commit-graph in different ways: the walks must
// give the same answers with object reads only, a full graph, a graph
// covering only older history, and a split graph chain.
func graphModes(f *fx, dir string) []struct {
	name  string
	setup func()
} {
	infoDir := filepath.Join(dir, ".git", "objects", "info")
	clear := func() {
		os.Remove(filepath.Join(infoDir, "commit-graph"))
		os.RemoveAll(filepath.Join(infoDir, "commit-graphs"))
	}
	old := f.run(dir, "rev-parse", "main~2")
	return []struct {
		name  string
		setup func()
	}{
		{"objects only", clear},
		{"full graph", func() { clear(); f.run(dir, "commit-graph", "write", "--reachable") }},
		{"partial graph", func() {
			clear()
			cmdStdin(f, dir, old+"\n", "commit-graph", "write", "--stdin-commits")
		}},
		{"split graph chain", func() {
			clear()
			cmdStdin(f, dir, old+"\n", "commit-graph", "write", "--split", "--stdin-commits")
			f.run(dir, "commit-graph", "write", "--split=no-merge", "--reachable")
		}},
	}
}

func cmdStdin(f *fx, dir, stdin string, args ...string) {
	f.tb.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		f.tb.Fatalf("git %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// TestAncestryMatchesGit compares IsAncestor, CountBetween and Log with git
// over every pair of commits of a branched history with merges, in every
// commit-graph mode.
func TestAncestryMatchesGit(t *testing.T) {
	f := newFx(t)
	dir := branchedHistory(f, nil)
	commits := allCommits(f, dir)
	anc := reach(f, dir, commits)

	// git's own answers for every ordered pair, asked the way a user would.
	type pair struct{ a, b string }
	isAnc := map[pair]bool{}
	count := map[pair]int{}
	for _, a := range commits {
		for _, b := range commits {
			_, err := f.try(dir, nil, "merge-base", "--is-ancestor", a, b)
			isAnc[pair{a, b}] = err == nil
			n, _ := strconv.Atoi(f.run(dir, "rev-list", "--count", a+".."+b))
			count[pair{a, b}] = n
			if isAnc[pair{a, b}] != anc[b][a] || n != countMinus(anc, a, b) {
				t.Fatalf("oracles disagree on %s, %s", a, b)
			}
		}
	}
	t.Logf("%d commits, %d pairs", len(commits), len(commits)*len(commits))

	for _, mode := range graphModes(f, dir) {
		t.Run(mode.name, func(t *testing.T) {
			mode.setup()
			r := mustOpen(t, dir)
			hasGraph := r.store.graph != nil
			if hasGraph == (mode.name == "objects only") {
				t.Fatalf("commit-graph loaded = %v in mode %s", hasGraph, mode.name)
			}
			if hasGraph {
				covered := int(r.store.graph.MaximumNumberOfHashes())
				if partial := mode.name == "partial graph"; partial != (covered < len(commits)) {
					t.Fatalf("graph covers %d of %d commits in mode %s", covered, len(commits), mode.name)
				}
			}
			if mode.name == "split graph chain" {
				chain, _ := os.ReadFile(filepath.Join(dir, ".git", "objects", "info", "commit-graphs", "commit-graph-chain"))
				if n := len(strings.Fields(string(chain))); n != 2 {
					t.Fatalf("split chain has %d graphs, want 2", n)
				}
			}
			for _, a := range commits {
				for _, b := range commits {
					p := pair{a, b}
					got, err := r.IsAncestor(a, b)
					if err != nil || got != isAnc[p] {
						t.Errorf("IsAncestor(%.7s, %.7s) = %v, %v; git says %v", a, b, got, err, isAnc[p])
					}
					n, err := r.CountBetween(a, b)
					if err != nil || n != count[p] {
						t.Errorf("CountBetween(%.7s, %.7s) = %d, %v; git says %d", a, b, n, err, count[p])
					}
				}
				n, err := r.CountBetween("", a)
				if want := len(anc[a]); err != nil || n != want {
					t.Errorf("CountBetween(\"\", %.7s) = %d, %v; want %d", a, n, err, want)
				}
			}
			// Log: the same commits as git rev-list, newest first.
			for _, rng := range [][2]string{{"", "main"}, {"f1", "main"}, {"main", "f1"}, {"main~3", "main"}, {"main", "main"}} {
				spec := rng[1]
				if rng[0] != "" {
					spec = rng[0] + ".." + rng[1]
				}
				want := strings.Fields(f.run(dir, "rev-list", spec))
				got, err := r.Log(rng[0], rng[1], 0)
				if err != nil {
					t.Fatal(err)
				}
				var gotIDs []string
				for i, c := range got {
					gotIDs = append(gotIDs, c.Hash)
					if i > 0 && c.Time.After(got[i-1].Time) {
						t.Errorf("Log(%s) not newest first at %d", spec, i)
					}
				}
				sort.Strings(want)
				sort.Strings(gotIDs)
				if strings.Join(gotIDs, " ") != strings.Join(want, " ") {
					t.Errorf("Log(%s) = %v, want %v", spec, gotIDs, want)
				}
				if len(want) > 2 {
					if got, _ := r.Log(rng[0], rng[1], 2); len(got) != 2 {
						t.Errorf("Log(%s, max 2) returned %d", spec, len(got))
					}
				}
			}
		})
	}
}

// TestAncestryOddDates checks the walks where commit dates don't follow
// history: all equal (scripted imports), and parents dated after their
// children (clock skew). IsAncestor must be exact everywhere; CountBetween
// wherever the commit-graph's generation numbers order the walk, and with
// equal dates also without one.
func TestAncestryOddDates(t *testing.T) {
	cases := []struct {
		name string
		when func(i int) int64
		// countExactWithoutGraph: without generation numbers the count
		// assumes no parent is dated after its child, as git does.
		countExactWithoutGraph bool
	}{
		{"equal dates", func(int) int64 { return 1_600_000_000 }, true},
		{"skewed dates", func(i int) int64 {
			// Every third commit is dated a year before its predecessors,
			// every fifth a year after.
			switch {
			case i%3 == 0:
				return 1_500_000_000 + int64(i)
			case i%5 == 0:
				return 1_700_000_000 + int64(i)
			}
			return 1_600_000_000 + int64(i)*60
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFx(t)
			dir := branchedHistory(f, tc.when)
			commits := allCommits(f, dir)
			anc := reach(f, dir, commits)
			for _, mode := range graphModes(f, dir) {
				mode.setup()
				r := mustOpen(t, dir)
				exactCount := tc.countExactWithoutGraph || mode.name == "full graph"
				for _, a := range commits {
					for _, b := range commits {
						got, err := r.IsAncestor(a, b)
						if err != nil || got != anc[b][a] {
							t.Errorf("%s: IsAncestor(%.7s, %.7s) = %v, %v; want %v", mode.name, a, b, got, err, anc[b][a])
						}
						if !exactCount {
							continue
						}
						n, err := r.CountBetween(a, b)
						if want := countMinus(anc, a, b); err != nil || n != want {
							t.Errorf("%s: CountBetween(%.7s, %.7s) = %d, %v; want %d", mode.name, a, b, n, err, want)
						}
					}
				}
			}
		})
	}
}

func TestAncestryErrors(t *testing.T) {
	f := newFx(t)
	dir := f.repo()
	r := mustOpen(t, dir)
	if _, err := r.IsAncestor("nope", "main"); err == nil || !strings.Contains(err.Error(), `unknown revision "nope"`) {
		t.Errorf("IsAncestor(nope) error = %v", err)
	}
	if _, err := r.CountBetween("main", "nope"); err == nil || !strings.Contains(err.Error(), `unknown revision "nope"`) {
		t.Errorf("CountBetween(.., nope) error = %v", err)
	}
	if _, err := r.Log("nope", "main", 0); err == nil || !strings.Contains(err.Error(), `unknown revision "nope"`) {
		t.Errorf("Log(nope) error = %v", err)
	}
}

// TestShallow: git treats the shallow boundary as root commits, and so do we.
func TestShallow(t *testing.T) {
	f := newFx(t)
	src := f.repo()
	for i := range 5 {
		f.commit(src, "a", "c"+strconv.Itoa(i))
	}
	dir := filepath.Join(t.TempDir(), "shallow")
	f.run(src, "clone", "-q", "--depth=3", "file://"+src, dir)
	r := mustOpen(t, dir)
	n, err := r.CountBetween("", "HEAD")
	if want, _ := strconv.Atoi(f.run(dir, "rev-list", "--count", "HEAD")); err != nil || n != want {
		t.Errorf("CountBetween in shallow clone = %d, %v; git says %d", n, err, want)
	}
	if ok, err := r.IsAncestor(f.run(src, "rev-parse", "HEAD~4"), "HEAD"); err == nil && ok {
		t.Error("IsAncestor saw past the shallow boundary")
	}
}
