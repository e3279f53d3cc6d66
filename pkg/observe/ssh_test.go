package observe

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringflow/ringflow/pkg/config"
)

// fakeRunner answers each argv by its destination (argv[len-2]) and
// records how many runs overlapped.
type fakeRunner struct {
	answer func(ctx context.Context, dest string) ([]byte, error)

	mu       sync.Mutex
	argvs    [][]string
	running  atomic.Int32
	maxAtOne atomic.Int32
}

func (f *fakeRunner) Run(ctx context.Context, argv []string) ([]byte, error) {
	f.mu.Lock()
	f.argvs = append(f.argvs, argv)
	f.mu.Unlock()
	n := f.running.Add(1)
	defer f.running.Add(-1)
	for {
		m := f.maxAtOne.Load()
		if n <= m || f.maxAtOne.CompareAndSwap(m, n) {
			break
		}
	}
	return f.answer(ctx, argv[len(argv)-2])
}

func sshSourceWith(t *testing.T, f *fakeRunner, cfg config.SSHSource) Source {
	t.Helper()
	src, err := New(&config.Observe{SSH: &cfg}, Options{Runner: f})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func TestSSHSource(t *testing.T) {
	f := &fakeRunner{answer: func(ctx context.Context, dest string) ([]byte, error) {
		time.Sleep(20 * time.Millisecond) // long enough for runs to overlap
		switch dest {
		case "root@down.example.org":
			return nil, errors.New("exited 255: ssh: connect to host down.example.org port 22: Connection refused")
		case "root@newkey.example.org":
			return nil, errors.New("exited 255: Host key verification failed.")
		case "root@odd.example.org":
			return []byte("hello\n"), nil
		case "root@slow.example.org":
			<-ctx.Done()
			return nil, ctx.Err()
		}
		host := strings.TrimSuffix(strings.TrimPrefix(dest, "root@"), ".example.org")
		return []byte("/nix/store/" + host + "-system\n"), nil
	}}
	cfg := config.SSHSource{Target: "root@{host}.example.org", Command: config.DefaultSSHCommand, Timeout: 300 * time.Millisecond, Parallel: 3}
	src := sshSourceWith(t, f, cfg)
	var hosts []string
	for i := range 10 {
		hosts = append(hosts, fmt.Sprintf("web-%d", i))
	}
	hosts = append(hosts, "down", "newkey", "odd", "slow", "-oProxyCommand=x")
	start := time.Now()
	got, err := src.Running(context.Background(), hosts)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(hosts) {
		t.Errorf("got %d runs for %d hosts", len(got), len(hosts))
	}
	for i := range 10 {
		h := fmt.Sprintf("web-%d", i)
		if want := (Run{Host: h, Toplevel: "/nix/store/" + h + "-system"}); got[h] != want {
			t.Errorf("%s = %+v, want %+v", h, got[h], want)
		}
	}
	for h, msg := range map[string]string{
		"down":             "ssh root@down.example.org: exited 255: ssh: connect to host down.example.org port 22: Connection refused",
		"newkey":           "add the host's key to known_hosts, e.g. by `ssh root@newkey.example.org true` once",
		"odd":              `printed "hello", not a store path`,
		"slow":             "ssh root@slow.example.org: no answer within 300ms (observe.ssh.timeout)",
		"-oProxyCommand=x": `host name "-oProxyCommand=x" cannot go into an ssh destination`,
	} {
		if r := got[h]; !strings.Contains(r.Err, msg) || r.Toplevel != "" {
			t.Errorf("%s = %+v, want Err …%s…", h, r, msg)
		}
	}
	if m := f.maxAtOne.Load(); m != 3 {
		t.Errorf("at most %d ran at once, want parallel 3", m)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %s", d)
	}
	// Known hosts stay checked: no option weakens them; "--" ends options.
	want := []string{"ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=1", "--", "root@web-0.example.org", "readlink -f /run/current-system"}
	found := false
	for _, a := range f.argvs {
		if reflect.DeepEqual(a, want) {
			found = true
		}
		if strings.Contains(strings.Join(a, " "), "StrictHostKeyChecking") || strings.Contains(strings.Join(a, " "), "UserKnownHostsFile") {
			t.Errorf("argv weakens host key checking: %q", a)
		}
	}
	if !found {
		t.Errorf("no argv %q among %q", want, f.argvs)
	}
	if len(f.argvs) != len(hosts)-1 {
		t.Errorf("ran ssh %d times, want %d (not for the odd host name)", len(f.argvs), len(hosts)-1)
	}
}

func TestSSHConnectTimeout(t *testing.T) {
	for d, want := range map[time.Duration]string{
		100 * time.Millisecond:  "1",
		10 * time.Second:        "10",
		2500 * time.Millisecond: "3",
	} {
		if got := connectTimeout(d); got != want {
			t.Errorf("connectTimeout(%s) = %s, want %s", d, got, want)
		}
	}
}

// Cancelling the run (Ctrl-C) is an error of the whole run, not a host's.
func TestSSHCancelled(t *testing.T) {
	f := &fakeRunner{answer: func(ctx context.Context, dest string) ([]byte, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}}
	src := sshSourceWith(t, f, config.SSHSource{Target: "{host}", Command: "x", Timeout: time.Minute, Parallel: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := src.Running(ctx, []string{"a", "b", "c"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the context's", err)
	}
}
