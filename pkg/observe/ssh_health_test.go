package observe

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/ringflow/ringflow/pkg/config"
)

func TestSystemHealth(t *testing.T) {
	const ran = "ssh h check"
	for _, tt := range []struct {
		name, out string
		want      Health
	}{
		{"running", "running\n", Health{Host: "h", Known: true, Healthy: true}},
		{"running, blank lines", "\n  running  \n\n", Health{Host: "h", Known: true, Healthy: true}},
		{"degraded", "degraded\nnginx.service loaded failed failed A high performance web server\nbackup.service   loaded failed failed Backup\n",
			Health{Host: "h", Known: true, Reasons: []string{"system degraded (systemctl is-system-running)", "failed units: backup.service, nginx.service"},
				FailedUnits: []string{"backup.service", "nginx.service"}}},
		{"degraded, bullets of an older systemctl", "degraded\n● nginx.service loaded failed failed nginx\n● nginx.service loaded failed failed nginx\n",
			Health{Host: "h", Known: true, Reasons: []string{"system degraded (systemctl is-system-running)", "failed units: nginx.service"}, FailedUnits: []string{"nginx.service"}}},
		{"degraded, no unit listed", "degraded\n",
			Health{Host: "h", Known: true, Reasons: []string{"system degraded (systemctl is-system-running)"}}},
		{"a unit failed in between", "running\nfoo@bar.service loaded failed failed Foo\n",
			Health{Host: "h", Known: true, Reasons: []string{"failed units: foo@bar.service"}, FailedUnits: []string{"foo@bar.service"}}},
		{"maintenance", "maintenance\n", Health{Host: "h", Known: true, Reasons: []string{"system maintenance (systemctl is-system-running)"}}},
		{"offline", "offline\n", Health{Host: "h", Known: true, Reasons: []string{"system offline (systemctl is-system-running)"}}},
		{"starting", "starting\n", Health{Host: "h", Reasons: []string{"system starting (systemctl is-system-running): not settled yet"}}},
		{"initializing", "initializing\n", Health{Host: "h", Reasons: []string{"system initializing (systemctl is-system-running): not settled yet"}}},
		{"stopping", "stopping\n", Health{Host: "h", Reasons: []string{"system stopping (systemctl is-system-running): not settled yet"}}},
		{"systemd unknown", "unknown\n", Health{Host: "h", Reasons: []string{"systemctl is-system-running says unknown: systemd could not tell"}}},
		{"nothing", " \n", Health{Host: "h", Reasons: []string{"ssh h check printed nothing, not a state of systemctl is-system-running"}}},
		{"not a state", "ok\n", Health{Host: "h", Reasons: []string{`ssh h check printed "ok", not a state of systemctl is-system-running (running, degraded, …)`}}},
		{"not a unit", "degraded\n0 loaded units listed.\n",
			Health{Host: "h", Reasons: []string{`ssh h check printed "0 loaded units listed." where a failed unit was expected (want lines as systemctl --failed --plain --no-legend prints them)`}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := systemHealth("h", tt.out, ran); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestSSHHealth(t *testing.T) {
	f := &fakeRunner{answer: func(ctx context.Context, dest string) ([]byte, error) {
		switch dest {
		case "root@web-1.example.org":
			return []byte("running\n"), nil
		case "root@web-2.example.org":
			return []byte("degraded\nnginx.service loaded failed failed nginx\n"), nil
		case "root@down.example.org":
			return nil, errors.New("exited 255: ssh: connect to host down.example.org port 22: Connection refused")
		case "root@slow.example.org":
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return nil, errors.New("unexpected " + dest)
	}}
	src, err := NewHealth(&config.Observe{SSH: &config.SSHSource{Target: "root@{host}.example.org", Command: config.DefaultSSHCommand,
		HealthCommand: config.DefaultSSHHealthCommand, Timeout: 200 * time.Millisecond, Parallel: 2}}, Options{Runner: f})
	if err != nil {
		t.Fatal(err)
	}
	hosts := []string{"web-1", "web-2", "down", "slow", "-oProxyCommand=x"}
	got, err := src.Health(context.Background(), hosts)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Health{
		"web-1": {Host: "web-1", Known: true, Healthy: true},
		"web-2": {Host: "web-2", Known: true, Reasons: []string{"system degraded (systemctl is-system-running)", "failed units: nginx.service"}, FailedUnits: []string{"nginx.service"}},
		// Unreachable over ssh is not known: ssh's fault or the host's.
		"down":             {Host: "down", Reasons: []string{"ssh root@down.example.org: exited 255: ssh: connect to host down.example.org port 22: Connection refused"}},
		"slow":             {Host: "slow", Reasons: []string{"ssh root@slow.example.org: no answer within 200ms (observe.ssh.timeout)"}},
		"-oProxyCommand=x": {Host: "-oProxyCommand=x", Reasons: []string{`host name "-oProxyCommand=x" cannot go into an ssh destination`}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("\n got %+v\nwant %+v", got, want)
	}
	// The health command goes as one argument, after "--" and the
	// destination, with the same options as Running's.
	wantArgv := []string{"ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=1", "--", "root@web-1.example.org",
		"systemctl is-system-running; systemctl --failed --plain --no-legend --no-pager; true"}
	found := false
	for _, a := range f.argvs {
		found = found || reflect.DeepEqual(a, wantArgv)
	}
	if !found {
		t.Errorf("no argv %q among %q", wantArgv, f.argvs)
	}
	if m := f.maxAtOne.Load(); m > 2 {
		t.Errorf("%d ran at once, want at most parallel 2", m)
	}
}

// A configured health command is run as it is; cancelling fails the
// round.
func TestSSHHealthCommandAndCancel(t *testing.T) {
	f := &fakeRunner{answer: func(ctx context.Context, dest string) ([]byte, error) {
		if dest == "block" {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return []byte("running"), nil
	}}
	src := sshSourceWith(t, f, config.SSHSource{Target: "{host}", Command: "x", HealthCommand: "/run/current-system/sw/bin/health", Timeout: time.Minute, Parallel: 1})
	got, err := src.(HealthSource).Health(context.Background(), []string{"a"})
	if err != nil || !got["a"].Healthy {
		t.Fatalf("got %+v, %v", got, err)
	}
	if a := f.argvs[0]; a[len(a)-1] != "/run/current-system/sw/bin/health" {
		t.Errorf("argv = %q", a)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := src.(HealthSource).Health(ctx, []string{"block", "b", "c"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the context's", err)
	}
}
