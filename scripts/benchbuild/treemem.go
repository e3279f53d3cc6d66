package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// treeRun is one command measured as a whole process tree: wall time, the
// peak of the summed resident memory of it and every descendant (sampled
// from /proc every 50 ms), and when a line matching first appeared on its
// stderr.
type treeRun struct {
	secs      float64
	peakKiB   int64
	firstSecs float64 // -1 when no line matched
	out       []byte
}

// runTree runs name with args in dir, optionally inside the memory cgroup
// cg (v1, joined before exec so every child is in it), sampling the tree.
func runTree(dir, cg string, first func(line string) bool, name string, args ...string) (treeRun, error) {
	argv := append([]string{name}, args...)
	if cg != "" {
		argv = append([]string{"/bin/sh", "-c", `echo $$ > "$0/cgroup.procs" && exec "$@"`, cg}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	var out bytes.Buffer
	r := treeRun{firstSecs: -1}
	pr, pw, err := os.Pipe()
	if err != nil {
		return r, err
	}
	cmd.Stdout, cmd.Stderr = &out, pw
	start := time.Now()
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		return r, err
	}
	pw.Close()
	var wg sync.WaitGroup
	var mu sync.Mutex
	wg.Add(1)
	go func() { // stderr, line by line, timed
		defer wg.Done()
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			mu.Lock()
			out.Write(sc.Bytes())
			out.WriteByte('\n')
			if r.firstSecs < 0 && first != nil && first(sc.Text()) {
				r.firstSecs = time.Since(start).Seconds()
			}
			mu.Unlock()
		}
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err = <-done:
			wg.Wait()
			pr.Close()
			r.secs = time.Since(start).Seconds()
			r.out = out.Bytes()
			return r, err
		case <-tick.C:
			r.peakKiB = max(r.peakKiB, treeRSS(cmd.Process.Pid))
		}
	}
}

// treeRSS sums VmRSS (KiB) over pid and all its descendants.
func treeRSS(pid int) int64 {
	children := map[int][]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// The command may hold spaces and parentheses: fields follow the last ')'.
		i := bytes.LastIndexByte(stat, ')')
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 2 {
			continue
		}
		if pp, err := strconv.Atoi(f[1]); err == nil {
			children[pp] = append(children[pp], p)
		}
	}
	var total int64
	stack := []int{pid}
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		total += vmRSS(p)
		stack = append(stack, children[p]...)
	}
	return total
}

func vmRSS(pid int) int64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb
		}
	}
	return 0
}

// memoryCgroup makes a v1 memory cgroup limited to limit bytes (0 = no
// limit) and returns its directory and how to read its peak and OOM
// count, and remove it.
func memoryCgroup(name string, limit int64) (dir string, peak func() (int64, int64), remove func(), err error) {
	dir = filepath.Join("/sys/fs/cgroup/memory", name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", nil, nil, fmt.Errorf("memory cgroup: %w", err)
	}
	if limit > 0 {
		if err := os.WriteFile(filepath.Join(dir, "memory.limit_in_bytes"), []byte(strconv.FormatInt(limit, 10)), 0o644); err != nil {
			os.Remove(dir)
			return "", nil, nil, fmt.Errorf("memory cgroup limit: %w", err)
		}
	}
	read := func(file string) int64 {
		b, _ := os.ReadFile(filepath.Join(dir, file))
		n, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		return n
	}
	peak = func() (int64, int64) { return read("memory.max_usage_in_bytes"), read("memory.failcnt") }
	remove = func() { os.Remove(dir) }
	return dir, peak, remove, nil
}
