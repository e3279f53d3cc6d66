package hook

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	ctx := context.Background()
	env := os.Environ()
	res, err := Run(ctx, []string{"/bin/sh", "-c", `echo "ring=$RINGFLOW_RING"; exit 0`}, env, []string{"RINGFLOW_RING=canary"}, time.Minute)
	if err != nil || res.ExitCode != 0 || res.TimedOut || res.Output != "ring=canary" {
		t.Errorf("passing hook: %+v, %v", res, err)
	}
	res, err = Run(ctx, []string{"/bin/sh", "-c", `for i in $(seq 1 40); do echo line $i; done; echo unhealthy >&2; exit 3`}, env, nil, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	f := res.Output
	if res.ExitCode != 3 || res.TimedOut || !strings.HasSuffix(f, "line 40\nunhealthy") || strings.Contains(f, "line 20\n") {
		t.Errorf("failing hook: %+v", res)
	}
	// A hook that hangs, with a child that would outlive it, is stopped whole.
	start := time.Now()
	res, err = Run(ctx, []string{"/bin/sh", "-c", `echo started; sleep 30 & sleep 30`}, env, nil, 300*time.Millisecond)
	if err != nil || !res.TimedOut || res.Duration < 300*time.Millisecond || time.Since(start) > 5*time.Second {
		t.Errorf("hanging hook: %+v, %v after %s", res, err, time.Since(start))
	}
	if _, err := Run(ctx, []string{"/nonexistent/check"}, env, nil, time.Second); err == nil || !strings.Contains(err.Error(), "/nonexistent/check") {
		t.Errorf("missing command: err = %v", err)
	}
}
