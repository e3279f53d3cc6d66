package observe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// ExecRunner runs programs with os/exec.
type ExecRunner struct{}

// Run runs argv with stdin from /dev/null (ssh must not read ringflow's
// stdin) and returns its stdout. Cancelling ctx interrupts the program
// and, should it linger, kills it a second later.
func (ExecRunner) Run(ctx context.Context, argv []string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if err == nil {
		return stdout.Bytes(), nil
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if tail := lastLines(stderr.String(), 3); tail != "" {
			return nil, fmt.Errorf("exited %d: %s", ee.ExitCode(), tail)
		}
		return nil, fmt.Errorf("exited %d", ee.ExitCode())
	}
	return nil, err
}

// lastLines returns the last n non-empty lines of s, joined by "; ".
func lastLines(s string, n int) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "; ")
}
