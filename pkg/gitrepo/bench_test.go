package gitrepo

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// benchCommits is the length of the generated linear history. The Big
// benchmarks (bigrepo_test.go) scale this up to 100k commits with merges.
const benchCommits = 5000

// linearHistory writes a repository whose main is a linear history of n
// commits, each changing one small file, with git fast-import (one pack,
// as after a clone). It returns the repository and its commits, oldest first.
func linearHistory(b *testing.B, n int) (string, []string) {
	b.Helper()
	f := newFx(b)
	dir := filepath.Join(b.TempDir(), "linear")
	f.run(filepath.Dir(dir), "init", "-q", dir)
	var in bytes.Buffer
	for i := 1; i <= n; i++ {
		msg := fmt.Sprintf("commit %d\n", i)
		content := fmt.Sprintf("hosts revision %d\n", i)
		fmt.Fprintf(&in, "commit refs/heads/main\nmark :%d\ncommitter Bench <bench@example.com> %d +0000\ndata %d\n%s",
			i, 1_600_000_000+int64(i)*600, len(msg), msg)
		if i > 1 {
			fmt.Fprintf(&in, "from :%d\n", i-1)
		}
		fmt.Fprintf(&in, "M 644 inline flake.lock\ndata %d\n%s\n", len(content), content)
	}
	cmd := exec.Command("git", "fast-import", "--quiet")
	cmd.Dir = dir
	cmd.Stdin = &in
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("fast-import: %v: %s", err, out)
	}
	commits := strings.Fields(f.run(dir, "rev-list", "--reverse", "main"))
	if len(commits) != n {
		b.Fatalf("fast-import made %d commits, want %d", len(commits), n)
	}
	return dir, commits
}

func BenchmarkIsAncestor(b *testing.B) {
	dir, commits := linearHistory(b, benchCommits)
	first, near, last := commits[0], commits[len(commits)-10], commits[len(commits)-1]
	cases := []struct {
		name     string
		a, d     string
		expected bool
	}{
		{"root-of-tip", first, last, true},  // walks the whole history
		{"tip-of-root", last, first, false}, // the "not a fast-forward" answer
		{"near-tip", near, last, true},      // a typical ring promotion
	}
	run := func(b *testing.B, r *Repo) {
		for _, c := range cases {
			b.Run(c.name, func(b *testing.B) {
				for b.Loop() {
					ok, err := r.IsAncestor(c.a, c.d)
					if err != nil || ok != c.expected {
						b.Fatalf("IsAncestor = %v, %v", ok, err)
					}
				}
			})
		}
	}
	b.Run("objects", func(b *testing.B) { run(b, mustOpen(b, dir)) })
	newFx(b).run(dir, "commit-graph", "write", "--reachable")
	b.Run("commit-graph", func(b *testing.B) {
		r := mustOpen(b, dir)
		if r.store.graph == nil {
			b.Fatal("commit-graph not loaded")
		}
		run(b, r)
	})
}

func BenchmarkCountBetween(b *testing.B) {
	dir, commits := linearHistory(b, benchCommits)
	first, near, last := commits[0], commits[len(commits)-10], commits[len(commits)-1]
	cases := []struct {
		name      string
		base, tip string
		want      int
	}{
		{"all", "", last, len(commits)},
		{"root-to-tip", first, last, len(commits) - 1},
		{"near-tip", near, last, 9},
		{"behind", last, first, 0},
	}
	run := func(b *testing.B, r *Repo) {
		for _, c := range cases {
			b.Run(c.name, func(b *testing.B) {
				for b.Loop() {
					n, err := r.CountBetween(c.base, c.tip)
					if err != nil || n != c.want {
						b.Fatalf("CountBetween = %d, %v; want %d", n, err, c.want)
					}
				}
			})
		}
	}
	b.Run("objects", func(b *testing.B) { run(b, mustOpen(b, dir)) })
	newFx(b).run(dir, "commit-graph", "write", "--reachable")
	b.Run("commit-graph", func(b *testing.B) {
		r := mustOpen(b, dir)
		if r.store.graph == nil {
			b.Fatal("commit-graph not loaded")
		}
		run(b, r)
	})
}
