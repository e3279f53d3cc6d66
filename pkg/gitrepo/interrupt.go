package gitrepo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// What an interrupted push (SIGINT, SIGTERM: the run's context cancelled
// while `git push` runs) leaves to say: whether it landed. git push is
// ended with every process under it — for a remote on this machine its
// receive-pack and the remote's hooks, which would otherwise go on
// without it and could still move the refs after ringflow said they did
// not — and then the remote is asked, with a fresh short deadline, where
// the pushed refs stand.

// interruptCheckTimeout bounds the look at the remote after an interrupted
// push: the operator asked to stop, not to wait.
const interruptCheckTimeout = 10 * time.Second

// InterruptedPushError says a push was interrupted, and what the remote
// held afterwards. It wraps the cancellation (exit 130).
type InterruptedPushError struct {
	Remote  string      // remote name
	URL     string      // the remote's URL with any password removed
	Updates []RefUpdate // what the push was to do
	// Now is where each pushed ref stands on the remote afterwards ("" =
	// absent); nil when that could not be learned (CheckErr).
	Now      map[string]string
	CheckErr error
	Err      error // the cancellation
}

// Landed says every ref of the push is where the push was to put it.
func (e *InterruptedPushError) Landed() bool {
	return e.Now != nil && e.all(func(u RefUpdate) string { return u.New })
}

// NotLanded says every ref of the push is still where it was before.
func (e *InterruptedPushError) NotLanded() bool {
	return e.Now != nil && e.all(func(u RefUpdate) string { return u.Old })
}

func (e *InterruptedPushError) all(want func(RefUpdate) string) bool {
	for _, u := range e.Updates {
		if e.Now[u.Ref] != want(u) {
			return false
		}
	}
	return true
}

func (e *InterruptedPushError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "interrupted during the push to remote %s", e.Remote)
	if e.URL != "" {
		fmt.Fprintf(&b, " (%s)", e.URL)
	}
	switch {
	case e.Now == nil:
		fmt.Fprintf(&b, ": whether it landed is unknown (%v): `git ls-remote %s` or the next ringflow run tells", e.CheckErr, e.Remote)
	case e.Landed():
		var at []string
		for i, u := range e.Updates {
			verb := " at "
			if i == 0 {
				verb = " is at "
			}
			at = append(at, refLabel(u.Ref)+verb+shortOr(u.New))
		}
		fmt.Fprintf(&b, ": the push landed: %s on %s", strings.Join(at, ", "), e.Remote)
	case e.NotLanded():
		fmt.Fprintf(&b, ": the push did not land: nothing moved on %s", e.Remote)
	default:
		var at []string
		for _, u := range e.Updates {
			whose := "someone else's"
			switch e.Now[u.Ref] {
			case u.New:
				whose = "this push's"
			case u.Old:
				whose = "as before"
			}
			at = append(at, fmt.Sprintf("%s at %s (%s)", refLabel(u.Ref), shortOr(e.Now[u.Ref]), whose))
		}
		fmt.Fprintf(&b, ": the push did not land whole: on %s, %s: run `ringflow check`", e.Remote, strings.Join(at, ", "))
	}
	return b.String()
}

func (e *InterruptedPushError) Unwrap() error { return e.Err }

// refLabel names a ref in messages: a branch by its name, any other ref in full.
func refLabel(ref string) string {
	if b, ok := strings.CutPrefix(ref, "refs/heads/"); ok {
		return b
	}
	return ref
}

func shortOr(c string) string {
	switch {
	case c == "":
		return "nothing"
	case len(c) > 12:
		return c[:12]
	}
	return c
}

// interruptedPush asks the remote, with a fresh context, where the refs of
// an interrupted push stand.
func (r *Repo) interruptedPush(ctx context.Context, remote, redacted string, updates []RefUpdate, cause error) error {
	e := &InterruptedPushError{Remote: remote, URL: redacted, Updates: updates, Err: cause}
	limit := interruptCheckTimeout
	if r.remoteTimeout > 0 && r.remoteTimeout < limit {
		limit = r.remoteTimeout
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), limit)
	defer cancel()
	args := []string{"ls-remote", remote}
	for _, u := range updates {
		args = append(args, u.Ref)
	}
	out, err := r.run(cctx, gitCmd{args: args})
	if err != nil {
		if cctx.Err() != nil {
			err = fmt.Errorf("no answer within %s", limit)
		}
		e.CheckErr = fmt.Errorf("git ls-remote: %w", err)
		return e
	}
	e.Now = map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		// Patterns match trailing path components too: keep exact names.
		if c, ref, ok := strings.Cut(sc.Text(), "\t"); ok {
			for _, u := range updates {
				if u.Ref == ref {
					e.Now[ref] = c
				}
			}
		}
	}
	return e
}

// killTree ends pid and every process under it: SIGTERM at once (git
// removes its lock files and temporary objects on it), SIGKILL a moment
// later to any that is still there. Where /proc cannot be read, only pid
// is signalled.
func killTree(pid int) error {
	procs := append(descendants(pid), procID{pid: pid, start: startTime(pid)})
	for _, p := range procs {
		_ = syscall.Kill(p.pid, syscall.SIGTERM)
	}
	go func() {
		time.Sleep(2 * time.Second)
		for _, p := range procs {
			if p.start != "" && startTime(p.pid) == p.start {
				_ = syscall.Kill(p.pid, syscall.SIGKILL)
			}
		}
	}()
	return nil
}

// procID is a process, told from a later one with its pid by its start time.
type procID struct {
	pid   int
	start string
}

// descendants lists every process under pid, by the parent pids /proc
// shows.
func descendants(pid int) []procID {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if f := statFields(p); len(f) > 1 {
			if ppid, err := strconv.Atoi(f[1]); err == nil {
				children[ppid] = append(children[ppid], p)
			}
		}
	}
	var out []procID
	queue := []int{pid}
	seen := map[int]bool{pid: true}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			if !seen[c] {
				seen[c] = true
				out = append(out, procID{pid: c, start: startTime(c)})
				queue = append(queue, c)
			}
		}
	}
	return out
}

// statFields are the fields of /proc/<pid>/stat after "pid (comm)":
// state, ppid, …; nil when unreadable.
func statFields(pid int) []string {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(s[i+1:])
}

// startTime is field 22 of /proc/<pid>/stat (19 after comm): when the
// process started; "" when it is gone.
func startTime(pid int) string {
	if f := statFields(pid); len(f) > 19 {
		return f[19]
	}
	return ""
}

// interrupted says the push's context was cancelled by the run (not its
// --remote-timeout).
func interrupted(ctx context.Context) bool {
	return ctx != nil && errors.Is(ctx.Err(), context.Canceled)
}
