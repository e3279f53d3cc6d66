//go:build linux

// Package sshd runs a real OpenSSH server for ringflow's tests: Debian's
// /usr/sbin/sshd on a free loopback port, as the current user (no root
// needed: its own host key, its own authorized_keys, StrictModes no,
// UsePAM no), with a client key it accepts and the files a client needs
// to trust it. It is used by tests only.
//
// Several host names can reach the one server: each is a Host block of
// the client config written here (HostName 127.0.0.1, the port, the key),
// which sends HostVar set to its own name (SetEnv, which the server takes
// with AcceptEnv), so a remote command can tell which host it was reached
// as. Each is checked against known_hosts under its own name
// (HostKeyAlias), so a host can also be one whose key known_hosts lacks.
package sshd

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ringflow/ringflow/test/testenv"
)

// Path is Debian's openssh-server daemon; it is not on a normal user's
// PATH.
const Path = "/usr/sbin/sshd"

// HostVar is the variable each Host alias sends, set to its name.
const HostVar = "RINGFLOW_SIM_HOST"

// Missing names the first tool a server needs that is not installed, or
// "".
func Missing() string {
	if _, err := os.Stat(Path); err != nil {
		return Path + " (Debian's openssh-server)"
	}
	for _, tool := range []string{"ssh", "ssh-keygen"} {
		if _, err := exec.LookPath(tool); err != nil {
			return tool
		}
	}
	return ""
}

// Require skips the test when a tool is missing, or fails it when CI is
// set: a skip must not hide a suite there.
func Require(t testing.TB) {
	t.Helper()
	if tool := Missing(); tool != "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed but CI is set (scripts/install-deps.sh installs it)", tool)
		}
		t.Skipf("needs a real sshd: %s is not installed", tool)
	}
}

// Options say which host names reach the server.
type Options struct {
	// Hosts are Host aliases whose key known_hosts has.
	Hosts []string
	// UnknownHosts reach the server too, but known_hosts has no key under
	// their name: ssh refuses them, as it refuses a host never connected to.
	UnknownHosts []string
}

// Server is a running sshd on 127.0.0.1 that lets the current user in with
// ClientKey.
type Server struct {
	Port      int
	User      string
	ClientKey string // private key (no passphrase) whose public half is authorized
	// KnownHosts trusts the server's host key as [127.0.0.1]:Port and
	// under each of Options.Hosts.
	KnownHosts string
	// Config is a client config (ssh -F) with a Host block per host name,
	// using ClientKey and KnownHosts only.
	Config string
	// WrapperDir holds an `ssh` that runs the real ssh with -F Config: put
	// it first on PATH for a program that runs plain `ssh`.
	WrapperDir string

	log *testenv.Buffer
}

// Start starts sshd with its own host key and config on a free port; it is
// stopped when the test ends. It skips the test as Require does.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	Require(t)
	dir := t.TempDir()
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	hostKey := filepath.Join(dir, "host_key")
	s := &Server{User: u.Username, ClientKey: filepath.Join(dir, "client_key"),
		KnownHosts: filepath.Join(dir, "known_hosts"), Config: filepath.Join(dir, "ssh_config"),
		WrapperDir: filepath.Join(dir, "bin"), log: &testenv.Buffer{}}
	Keygen(t, hostKey)
	Keygen(t, s.ClientKey)
	pub, err := os.ReadFile(s.ClientKey + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	authorized := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(authorized, pub, 0o600); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// sshd started as root insists on its privilege separation
		// directory, which systemd would create (RuntimeDirectory=sshd).
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatalf("sshd needs /run/sshd: %v", err)
		}
	}
	cfg := filepath.Join(dir, "sshd_config")
	// A few tries: the free port may be taken before sshd binds it.
	for try := 0; ; try++ {
		s.Port = testenv.FreePort(t)
		writeServerConfig(t, cfg, dir, s.Port, hostKey, authorized)
		log := &testenv.Buffer{}
		cmd := exec.Command(Path, "-D", "-e", "-f", cfg)
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		if err := waitListening(s.Port, exited); err != nil {
			cmd.Process.Kill()
			if try < 3 {
				continue
			}
			t.Fatalf("sshd did not start: %v\n%s", err, log.String())
		}
		s.log = log
		t.Cleanup(func() {
			cmd.Process.Kill()
			<-exited
			if t.Failed() {
				t.Logf("sshd log:\n%s", log.String())
			}
		})
		break
	}
	hostPub, err := os.ReadFile(hostKey + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(hostPub))
	known := fmt.Sprintf("[127.0.0.1]:%d %s %s\n", s.Port, fields[0], fields[1])
	for _, h := range o.Hosts {
		known += fmt.Sprintf("%s %s %s\n", h, fields[0], fields[1])
	}
	if err := os.WriteFile(s.KnownHosts, []byte(known), 0o600); err != nil {
		t.Fatal(err)
	}
	s.writeClientConfig(t, append(append([]string(nil), o.Hosts...), o.UnknownHosts...))
	s.writeWrapper(t)
	return s
}

// Log is what sshd said so far.
func (s *Server) Log() string { return s.log.String() }

// Env is env with WrapperDir first on its PATH (added when env has none).
func (s *Server) Env(env []string) []string {
	out := make([]string, 0, len(env)+1)
	path := "PATH=" + s.WrapperDir
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			if v != "" {
				path += string(os.PathListSeparator) + v
			}
			continue
		}
		out = append(out, kv)
	}
	return append(out, path)
}

// writeClientConfig writes Config: a Host block per name, all reaching the
// server, each sending HostVar=name and checked under its own name.
func (s *Server) writeClientConfig(t testing.TB, hosts []string) {
	t.Helper()
	var b strings.Builder
	for _, h := range hosts {
		fmt.Fprintf(&b, "Host %s\n  HostKeyAlias %s\n  SetEnv %s=%s\n", h, h, HostVar, h)
	}
	// Every connection: this server's port, this key only, these known
	// hosts only, nothing of the user's or the system's.
	fmt.Fprintf(&b, `Host *
  HostName 127.0.0.1
  Port %d
  User %s
  IdentityFile %s
  IdentitiesOnly yes
  IdentityAgent none
  UserKnownHostsFile %s
  GlobalKnownHostsFile /dev/null
  UpdateHostKeys no
  CheckHostIP no
`, s.Port, s.User, s.ClientKey, s.KnownHosts)
	if err := os.WriteFile(s.Config, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// writeWrapper writes WrapperDir/ssh. Test plumbing, not a product
// feature: OpenSSH finds ~/.ssh through the passwd entry, not $HOME, so a
// test cannot hand a program a config of its own through the environment;
// the wrapper adds -F Config to whatever the program runs ssh with.
func (s *Server) writeWrapper(t testing.TB) {
	t.Helper()
	real, err := exec.LookPath("ssh")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(s.WrapperDir, 0o755); err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf("#!/bin/sh\n# test/sshd: the real ssh, with the test's client config.\nexec %s -F %s \"$@\"\n", shellQuote(real), shellQuote(s.Config))
	if err := os.WriteFile(filepath.Join(s.WrapperDir, "ssh"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func writeServerConfig(t testing.TB, cfg, dir string, port int, hostKey, authorized string) {
	t.Helper()
	conf := fmt.Sprintf(`ListenAddress 127.0.0.1:%d
HostKey %s
AuthorizedKeysFile %s
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
AcceptEnv %s
PidFile %s
`, port, hostKey, authorized, HostVar, filepath.Join(dir, "sshd.pid"))
	// OpenSSH 9.8 and later penalise addresses whose connections end
	// before authentication, as the unknown-host-key case does; the option
	// is unknown to older versions, so it goes in only if sshd takes it.
	penalties := conf + "PerSourcePenalties no\n"
	if err := os.WriteFile(cfg, []byte(penalties), 0o600); err != nil {
		t.Fatal(err)
	}
	if exec.Command(Path, "-t", "-f", cfg).Run() == nil {
		return
	}
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
}

// waitListening waits until something accepts on the port, or sshd exits.
func waitListening(port int, exited <-chan error) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("sshd exited: %v", err)
		default:
		}
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("nothing listens after 10s")
}

// Keygen writes a new ed25519 key pair without a passphrase: path and
// path.pub.
func Keygen(t testing.TB, path string) {
	t.Helper()
	out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ringflow-test", "-f", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
}
