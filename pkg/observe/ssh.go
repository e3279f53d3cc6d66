package observe

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ringflow/ringflow/pkg/config"
)

type sshSource struct {
	run      Runner
	target   string // with config.HostPlaceholder
	command  string
	timeout  time.Duration
	parallel int
}

func newSSH(cfg *config.SSHSource, run Runner) *sshSource {
	return &sshSource{run: run, target: cfg.Target, command: cfg.Command, timeout: cfg.Timeout, parallel: max(cfg.Parallel, 1)}
}

// hostRE is what a host name may hold to go into ssh's destination: a
// name starting with "-" would be read as an option, and anything else
// odd has no business in a host name.
var hostRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*$`)

// Running asks every host at once, at most parallel at a time.
func (s *sshSource) Running(ctx context.Context, hosts []string) (map[string]Run, error) {
	runs := make(map[string]Run, len(hosts))
	var mu sync.Mutex
	var wg sync.WaitGroup
	slots := make(chan struct{}, s.parallel)
	for _, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				mu.Lock()
				runs[h] = Run{Host: h, Err: "not asked: " + ctx.Err().Error()}
				mu.Unlock()
				return
			}
			r := s.one(ctx, h)
			<-slots
			mu.Lock()
			runs[h] = r
			mu.Unlock()
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return runs, nil
}

// one asks one host, bounded by the timeout.
func (s *sshSource) one(ctx context.Context, host string) Run {
	if !hostRE.MatchString(host) {
		return Run{Host: host, Err: fmt.Sprintf("host name %q cannot go into an ssh destination", host)}
	}
	dest := strings.ReplaceAll(s.target, config.HostPlaceholder, host)
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	// BatchMode: never a password or host key prompt, so an unknown host
	// key fails instead of being accepted (known hosts stay checked).
	argv := []string{"ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=" + connectTimeout(s.timeout), "--", dest, s.command}
	out, err := s.run.Run(ctx, argv)
	switch {
	case errors.Is(err, context.DeadlineExceeded) || err != nil && ctx.Err() == context.DeadlineExceeded:
		return Run{Host: host, Err: fmt.Sprintf("ssh %s: no answer within %s (observe.ssh.timeout)", dest, s.timeout)}
	case err != nil:
		return Run{Host: host, Err: fmt.Sprintf("ssh %s: %v%s", dest, err, sshHint(err.Error(), dest))}
	}
	top := strings.TrimSpace(string(out))
	if top == "" || !strings.HasPrefix(top, "/") || strings.ContainsAny(top, "\n\t ") {
		return Run{Host: host, Err: fmt.Sprintf("ssh %s %s printed %q, not a store path such as /nix/store/…-nixos-system-…", dest, s.command, top)}
	}
	return Run{Host: host, Toplevel: top}
}

// connectTimeout is ssh's ConnectTimeout for a bound: whole seconds, at
// least one.
func connectTimeout(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}

// sshHint names the next step for the failures ssh words plainly.
func sshHint(msg, dest string) string {
	switch {
	case strings.Contains(msg, "Host key verification failed"):
		return fmt.Sprintf(" (ringflow checks host keys: add the host's key to known_hosts, e.g. by `ssh %s true` once)", dest)
	case strings.Contains(msg, "Permission denied"):
		return " (ringflow's user needs a key the host accepts, without a passphrase prompt: an agent or an unencrypted key)"
	}
	return ""
}
