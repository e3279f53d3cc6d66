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
	health   string // the health command
	timeout  time.Duration
	parallel int
}

func newSSH(cfg *config.SSHSource, run Runner) *sshSource {
	health := cfg.HealthCommand
	if health == "" {
		health = config.DefaultSSHHealthCommand
	}
	return &sshSource{run: run, target: cfg.Target, command: cfg.Command, health: health, timeout: cfg.Timeout, parallel: max(cfg.Parallel, 1)}
}

// hostRE is what a host name may hold to go into ssh's destination: a
// name starting with "-" would be read as an option, and anything else
// odd has no business in a host name.
var hostRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*$`)

// Running asks every host at once, at most parallel at a time.
func (s *sshSource) Running(ctx context.Context, hosts []string) (map[string]Run, error) {
	return eachHost(ctx, s.parallel, hosts, s.one, func(h, why string) Run { return Run{Host: h, Err: why} })
}

// eachHost runs one for every host, at most parallel at a time. A host
// not asked because ctx ended gets skipped's value, and the whole round
// ctx's error.
func eachHost[T any](ctx context.Context, parallel int, hosts []string, one func(context.Context, string) T, skipped func(host, why string) T) (map[string]T, error) {
	out := make(map[string]T, len(hosts))
	var mu sync.Mutex
	var wg sync.WaitGroup
	slots := make(chan struct{}, parallel)
	for _, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				mu.Lock()
				out[h] = skipped(h, "not asked: "+ctx.Err().Error())
				mu.Unlock()
				return
			}
			r := one(ctx, h)
			<-slots
			mu.Lock()
			out[h] = r
			mu.Unlock()
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// one asks one host what it runs.
func (s *sshSource) one(ctx context.Context, host string) Run {
	out, dest, why := s.ssh(ctx, host, s.command)
	if why != "" {
		return Run{Host: host, Err: why}
	}
	top := strings.TrimSpace(string(out))
	if top == "" || !strings.HasPrefix(top, "/") || strings.ContainsAny(top, "\n\t ") {
		return Run{Host: host, Err: fmt.Sprintf("ssh %s %s printed %q, not a store path such as /nix/store/…-nixos-system-…", dest, s.command, top)}
	}
	return Run{Host: host, Toplevel: top}
}

// ssh runs command on host, bounded by the timeout, and returns its
// output and the destination; why says what went wrong, "" when it ran.
func (s *sshSource) ssh(ctx context.Context, host, command string) (out []byte, dest, why string) {
	if !hostRE.MatchString(host) {
		return nil, "", fmt.Sprintf("host name %q cannot go into an ssh destination", host)
	}
	dest = strings.ReplaceAll(s.target, config.HostPlaceholder, host)
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	// BatchMode: never a password or host key prompt, so an unknown host
	// key fails instead of being accepted (known hosts stay checked).
	argv := []string{"ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=" + connectTimeout(s.timeout), "--", dest, command}
	out, err := s.run.Run(ctx, argv)
	switch {
	case errors.Is(err, context.DeadlineExceeded) || err != nil && ctx.Err() == context.DeadlineExceeded:
		return nil, dest, fmt.Sprintf("ssh %s: no answer within %s (observe.ssh.timeout)", dest, s.timeout)
	case err != nil:
		return nil, dest, fmt.Sprintf("ssh %s: %v%s", dest, err, sshHint(err.Error(), dest))
	}
	return out, dest, ""
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
