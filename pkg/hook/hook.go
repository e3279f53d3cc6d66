// Package hook runs an operator's verify hook: a command with arguments,
// never through a shell, with a time limit, keeping the tail of what it
// printed so a refusal can show why.
package hook

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

// tailLines is how much of a hook's output a refusal shows.
const tailLines = 15

// Result is how a hook ended.
type Result struct {
	ExitCode int
	TimedOut bool
	Output   string // the last lines of stdout and stderr, interleaved
	Duration time.Duration
}

// Run runs argv with env added to the environment base and stops it after
// timeout, killing its whole process group so no child lingers. A command
// that cannot start is an error; one that fails or times out is a Result.
func Run(ctx context.Context, argv, base, env []string, timeout time.Duration) (Result, error) {
	if len(argv) == 0 || argv[0] == "" {
		return Result{}, errors.New("hook: empty command")
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(append([]string(nil), base...), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	start := time.Now()
	err := cmd.Run()
	res := Result{Duration: time.Since(start), Output: lastLines(out.String(), tailLines)}
	var exit *exec.ExitError
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		res.TimedOut, res.ExitCode = true, -1
	case errors.As(err, &exit):
		res.ExitCode = exit.ExitCode()
	case err != nil:
		return res, fmt.Errorf("hook: run %s: %w", argv[0], err)
	}
	return res, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}
