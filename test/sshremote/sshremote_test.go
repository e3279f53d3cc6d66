//go:build linux

// Package sshremote_test drives the ringflow binary against fleets whose
// remote is reached over ssh://: a real sshd (Debian's openssh-server) that
// each test starts (test/sshd) as the current user on 127.0.0.1, with a host
// key of its own and key authentication only. Nothing is installed here:
// scripts/install-deps.sh installs openssh-server.
package sshremote_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringflow/ringflow/test/sshd"
)

// TestUnknownHostKey: a host key nobody trusts fails the fetch at once,
// with an error naming the remote, even when ringflow runs on a terminal
// where ssh could ask; nothing moves. Only an ssh command the operator
// chose may ask, and then --remote-timeout ends the wait.
func TestUnknownHostKey(t *testing.T) {
	requireTools(t)
	t.Parallel()
	s := startSSHD(t)
	f := newFleet(t, s)
	originBefore, localBefore := f.originRefs(), f.git(f.Dir, "for-each-ref")
	const prompt = "continue connecting"

	t.Run("ringflow's ssh", func(t *testing.T) {
		// No ssh command is configured: ssh reads the user's own config
		// and known_hosts, which must not already decide for us.
		out, err := exec.Command("ssh", "-G", "-p", strconv.Itoa(s.Port), "127.0.0.1").Output()
		if err != nil {
			t.Fatalf("ssh -G: %v", err)
		}
		if m := regexp.MustCompile(`(?m)^stricthostkeychecking (\S+)$`).FindSubmatch(out); m == nil || (string(m[1]) != "ask" && string(m[1]) != "true") {
			t.Skipf("the user's ssh config accepts unknown host keys by itself (%q)", m)
		}
		for _, args := range [][]string{{"promote", "canary"}, {"status"}} {
			r := f.ringflow(nil, true, append([]string{"--remote-timeout", "20s"}, args...)...)
			if r.Code != 1 {
				t.Errorf("ringflow %s exited %d, want 1", args[0], r.Code)
			}
			if r.Took > 15*time.Second {
				t.Errorf("ringflow %s took %s: it waited for an answer", args[0], r.Took)
			}
			for _, want := range []string{"fetch from remote origin (" + f.URL + ")", "Host key verification failed"} {
				if !strings.Contains(r.Stderr, want) {
					t.Errorf("ringflow %s: stderr lacks %q", args[0], want)
				}
			}
			if strings.Contains(r.Terminal, prompt) {
				t.Errorf("ssh asked on the terminal:\n%s", r.Terminal)
			}
			if r.Stdout != "" {
				t.Errorf("ringflow %s printed results: %q", args[0], r.Stdout)
			}
		}
	})

	t.Run("operator's ssh", func(t *testing.T) {
		// The operator's own command is used as it is, asking included;
		// the terminal shows the question (so the case above would have
		// seen it too), and --remote-timeout ends the wait.
		empty := filepath.Join(t.TempDir(), "known_hosts")
		env := []string{"GIT_SSH_COMMAND=" + sshCommand(empty, "-i", s.ClientKey, "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=ask")}
		r := f.ringflow(env, true, "--remote-timeout", "1s", "promote", "canary")
		if r.Code != 1 {
			t.Errorf("exit %d, want 1", r.Code)
		}
		if !strings.Contains(r.Terminal, prompt) {
			t.Errorf("ssh did not ask on the terminal: %q", r.Terminal)
		}
		if want := "fetch from remote origin (" + f.URL + "): no answer within 1s (--remote-timeout)"; !strings.Contains(r.Stderr, want) {
			t.Errorf("stderr lacks %q", want)
		}
		if data, _ := os.ReadFile(empty); len(data) > 0 {
			t.Errorf("the host key was trusted: %s", data)
		}
	})

	if got := f.originRefs(); got != originBefore {
		t.Errorf("the remote's refs moved:\n%s\nwant\n%s", got, originBefore)
	}
	if got := f.git(f.Dir, "for-each-ref"); got != localBefore {
		t.Errorf("local refs moved:\n%s\nwant\n%s", got, localBefore)
	}
}

// TestTrustedHostKey: the operator trusts the host key through their git
// config (core.sshCommand with a known_hosts file and a key); init, build
// and promote all work over ssh, and the bare remote shows every move.
func TestTrustedHostKey(t *testing.T) {
	requireTools(t)
	t.Parallel()
	s := startSSHD(t)
	f := newFleet(t, s)
	f.git(f.Dir, "config", "core.sshCommand", sshCommand(s.KnownHosts, "-i", s.ClientKey, "-o", "IdentitiesOnly=yes"))

	r := f.mustRingflow(nil, "init")
	if !strings.Contains(r.Stdout, "(on origin)") {
		t.Errorf("init did not create the branches on origin: %q", r.Stdout)
	}
	base := f.git(f.Dir, "rev-parse", "dev")
	for _, b := range []string{"dev", "canary", "stable"} {
		if got := f.git(f.Origin, "rev-parse", b); got != base {
			t.Errorf("remote %s = %s, want %s", b, got, base)
		}
	}

	head := f.newDevCommit("tune the web servers")
	f.mustRingflow(nil, "build")
	if got := f.git(f.Origin, "notes", "--ref", "refs/notes/ringflow/evidence", "list", head); got == "" {
		t.Errorf("no evidence for %s on the remote", head)
	}
	f.mustRingflow(nil, "promote", "canary")
	f.checkMoved("canary", head)
	if got := f.git(f.Origin, "rev-parse", "stable"); got != base {
		t.Errorf("remote stable = %s, want it still at %s", got, base)
	}
	f.mustRingflow(nil, "promote", "stable")
	f.checkMoved("stable", head)

	r = f.mustRingflow(nil, "hosts")
	if want := "git+" + f.URL + "?ref=canary#lab-1"; !strings.Contains(r.Stdout, want) {
		t.Errorf("hosts lacks the deploy URI %q:\n%s", want, r.Stdout)
	}
	f.mustRingflow(nil, "status")
}

// TestKeyFile: a key file given in GIT_SSH_COMMAND (-i, IdentitiesOnly)
// works; a key the server does not know fails clearly and moves nothing.
func TestKeyFile(t *testing.T) {
	requireTools(t)
	t.Parallel()
	s := startSSHD(t)
	f := newFleet(t, s)

	stranger := filepath.Join(t.TempDir(), "stranger")
	sshd.Keygen(t, stranger)
	wrong := []string{"GIT_SSH_COMMAND=" + sshCommand(s.KnownHosts, "-i", stranger, "-o", "IdentitiesOnly=yes")}
	originBefore := f.originRefs()
	r := f.ringflow(wrong, false, "init")
	if r.Code != 1 || !strings.Contains(r.Stderr, "remote origin ("+f.URL+")") || !strings.Contains(r.Stderr, "Permission denied (publickey)") {
		t.Errorf("init with an unknown key: exit %d, stderr %q; want 1 naming the remote and the refusal", r.Code, r.Stderr)
	}
	if got := f.originRefs(); got != originBefore {
		t.Errorf("the remote's refs moved:\n%s", got)
	}

	env := []string{"GIT_SSH_COMMAND=" + sshCommand(s.KnownHosts, "-i", s.ClientKey, "-o", "IdentitiesOnly=yes")}
	f.mustRingflow(env, "init")
	head := f.newDevCommit("change")
	f.mustRingflow(env, "build")
	f.mustRingflow(env, "promote", "canary")
	f.checkMoved("canary", head)
}

// TestAgent: the key held by an ssh-agent (SSH_AUTH_SOCK, no -i, the key
// file itself gone) works; without the agent the server refuses.
func TestAgent(t *testing.T) {
	requireTools(t)
	t.Parallel()
	s := startSSHD(t)
	f := newFleet(t, s)

	key := filepath.Join(t.TempDir(), "id_agent")
	for _, suffix := range []string{"", ".pub"} {
		data, err := os.ReadFile(s.ClientKey + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(key+suffix, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	sock := startAgent(t, key)
	os.Remove(key)
	os.Remove(key + ".pub")

	sshCmd := "GIT_SSH_COMMAND=" + sshCommand(s.KnownHosts)
	r := f.ringflow([]string{sshCmd}, false, "status")
	if r.Code != 1 || !strings.Contains(r.Stderr, "Permission denied (publickey)") {
		t.Errorf("status without the agent: exit %d, stderr %q; want 1 and the server's refusal", r.Code, r.Stderr)
	}

	env := []string{sshCmd, "SSH_AUTH_SOCK=" + sock}
	f.mustRingflow(env, "init")
	head := f.newDevCommit("change")
	f.mustRingflow(env, "build")
	f.mustRingflow(env, "promote", "canary")
	f.checkMoved("canary", head)
}

// newDevCommit commits on dev in the clone and pushes it to the bare
// repository by its path (git itself, not over ssh).
func (f *fleet) newDevCommit(msg string) string {
	f.t.Helper()
	f.git(f.Dir, "commit", "-q", "--allow-empty", "-m", msg)
	f.git(f.Dir, "push", "-q", f.Origin, "HEAD:dev")
	return f.git(f.Dir, "rev-parse", "HEAD")
}

// checkMoved checks with git that branch is at want on the remote and in
// the clone, and that the remote's ledger ends with its promotion.
func (f *fleet) checkMoved(branch, want string) {
	f.t.Helper()
	if got := f.git(f.Origin, "rev-parse", branch); got != want {
		f.t.Errorf("remote %s = %s, want %s", branch, got, want)
	}
	if got := f.git(f.Dir, "rev-parse", branch); got != want {
		f.t.Errorf("local %s = %s, want %s", branch, got, want)
	}
	if got, wantSubject := f.git(f.Origin, "log", "-1", "--format=%s", "refs/ringflow/ledger"), "promote "+branch+" to "+want[:12]; got != wantSubject {
		f.t.Errorf("the remote's ledger ends with %q, want %q", got, wantSubject)
	}
}
