//go:build linux

package sshd_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/ringflow/ringflow/test/sshd"
)

// TestAliases: two host names reach the one server and the remote command
// tells them apart; a third, whose key known_hosts lacks, is refused by
// ssh in batch mode; plain `ssh` finds the config through the wrapper.
func TestAliases(t *testing.T) {
	s := sshd.Start(t, sshd.Options{Hosts: []string{"lab-1", "lab-2"}, UnknownHosts: []string{"lab-3"}})
	env := s.Env(os.Environ())
	ssh := func(host string) (string, string, error) {
		t.Helper()
		// Through sh, which finds ssh on env's PATH as a program run with
		// env would (exec.Command looks in the test's own PATH).
		cmd := exec.Command("sh", "-c", `exec ssh -o BatchMode=yes -- "$0" "$1"`, host, `echo "$`+sshd.HostVar+`"`)
		cmd.Env = env
		var so, se strings.Builder
		cmd.Stdout, cmd.Stderr = &so, &se
		err := cmd.Run()
		return strings.TrimSpace(so.String()), se.String(), err
	}
	for _, h := range []string{"lab-1", "lab-2"} {
		out, stderr, err := ssh(h)
		if err != nil || out != h {
			t.Errorf("ssh %s: %q, %v\n%s", h, out, err, stderr)
		}
	}
	if out, stderr, err := ssh("lab-3"); err == nil || !strings.Contains(stderr, "Host key verification failed") {
		t.Errorf("ssh lab-3 (key not in known_hosts): %q, %v\n%s", out, err, stderr)
	}
	// Without the wrapper, -F by hand works the same.
	out, err := exec.Command("ssh", "-F", s.Config, "-o", "BatchMode=yes", "lab-2", "echo $"+sshd.HostVar).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "lab-2" {
		t.Errorf("ssh -F %s lab-2: %q, %v", s.Config, out, err)
	}
}
