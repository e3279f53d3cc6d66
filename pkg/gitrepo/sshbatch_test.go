package gitrepo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSSHBatchMode: fetches and pushes run ssh with BatchMode=yes, so an
// unknown host key or a passphrase fails at once instead of asking on the
// terminal, unless the operator chose an ssh command (or variant) of their
// own, which git then runs as it is.
func TestSSHBatchMode(t *testing.T) {
	f := newFx(t)
	_, ours := f.remoteSetup()
	head := f.run(ours, "rev-parse", "HEAD")
	f.run(ours, "remote", "set-url", "origin", "ssh://git@fleet.invalid/srv/fleet.git")

	// Stand-ins for ssh on PATH: they log how they were called and fail.
	bin := t.TempDir()
	logFile := filepath.Join(bin, "log")
	script := "#!/bin/sh\necho \"${0##*/} $*\" >> '" + logFile + "'\nexit 255\n"
	for _, name := range []string{"ssh", "myssh"} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	for _, k := range []string{"GIT_SSH", "GIT_SSH_COMMAND", "GIT_SSH_VARIANT"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}

	tests := []struct {
		name      string
		env       [2]string // an environment variable the operator set
		config    [2]string // a config key the operator set
		wantBatch bool
		wantProg  string
	}{
		{name: "default", wantBatch: true, wantProg: "ssh"},
		{name: "GIT_SSH_COMMAND", env: [2]string{"GIT_SSH_COMMAND", "myssh -p 2222"}, wantProg: "myssh"},
		{name: "GIT_SSH", env: [2]string{"GIT_SSH", filepath.Join(bin, "myssh")}, wantProg: "myssh"},
		{name: "GIT_SSH_VARIANT", env: [2]string{"GIT_SSH_VARIANT", "ssh"}, wantProg: "ssh"},
		{name: "core.sshCommand", config: [2]string{"core.sshCommand", "myssh -p 2222"}, wantProg: "myssh"},
		{name: "ssh.variant", config: [2]string{"ssh.variant", "ssh"}, wantProg: "ssh"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(logFile)
			if tt.env[0] != "" {
				t.Setenv(tt.env[0], tt.env[1])
			}
			if tt.config[0] != "" {
				f.run(ours, "config", tt.config[0], tt.config[1])
				t.Cleanup(func() { f.run(ours, "config", "--unset", tt.config[0]) })
			}
			r := mustOpen(t, ours)
			if err := r.Fetch(t.Context(), "origin", []string{"main"}); err == nil {
				t.Fatal("Fetch through a failing ssh succeeded")
			}
			if err := r.Push(t.Context(), "origin", []RefUpdate{{Ref: "refs/heads/canary", New: head}}); err == nil {
				t.Fatal("Push through a failing ssh succeeded")
			}
			data, err := os.ReadFile(logFile)
			if err != nil {
				t.Fatalf("ssh was not run: %v", err)
			}
			var fetch, push bool
			for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
				if prog, _, _ := strings.Cut(line, " "); prog != tt.wantProg {
					t.Errorf("git ran %q, want %s", line, tt.wantProg)
				}
				if got := strings.Contains(line, "-o BatchMode=yes"); got != tt.wantBatch {
					t.Errorf("git ran %q: BatchMode=yes is there: %v, want %v", line, got, tt.wantBatch)
				}
				fetch = fetch || strings.Contains(line, "git-upload-pack")
				push = push || strings.Contains(line, "git-receive-pack")
			}
			if !fetch || !push {
				t.Errorf("ssh calls %q: want one for the fetch and one for the push", data)
			}
		})
	}
}

// TestRedactUnparsable: git takes passwords that Go's URL parser refuses;
// they are dropped all the same.
func TestRedactUnparsable(t *testing.T) {
	tests := map[string]string{
		"https://bob:hunter2^x@host/r.git":        "https://bob@host/r.git",
		"https://bob:a|b{c}@host:8443/r.git":      "https://bob@host:8443/r.git",
		"https://bob:100%zz@host/r.git":           "https://bob@host/r.git",
		"https://bob:pa#ss@host/r.git":            "https://bob@host/r.git",
		"https://bob:pa?ss@host":                  "https://bob@host",
		"ssh://bob:p^w@[::1]:22/srv/r.git":        "ssh://bob@[::1]:22/srv/r.git",
		"https://b^ob@host/r.git":                 "https://b^ob@host/r.git",
		"https://host/a b":                        "https://host/a b",
		"https://bob:pa@ss@host/r.git":            "https://bob@host/r.git",
		"git+https://x:tok^en@host/r.git?ref=dev": "git+https://x@host/r.git?ref=dev",
	}
	for in, want := range tests {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRemoteURLNotAName: a URL where a remote's name belongs is refused
// without echoing its password.
func TestRemoteURLNotAName(t *testing.T) {
	f := newFx(t)
	_, ours := f.remoteSetup()
	r := mustOpen(t, ours)
	for _, in := range []string{"https://bob:s3cret@host/r.git", "https://bob:s3cret^x@host/r.git"} {
		_, err := r.RemoteURL(in)
		if err == nil || !strings.Contains(err.Error(), "not a remote name") || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("RemoteURL(%q) error = %v; want a refusal without the password", in, err)
		}
	}
}

func TestStaleLockHint(t *testing.T) {
	e := &cmdError{args: []string{"update-ref", "--stdin"},
		stderr: "fatal: Unable to create '/r/.git/refs/heads/canary.lock': File exists.\n"}
	if !strings.Contains(e.Error(), "ringflow check --repair") {
		t.Errorf("error %q does not point to check --repair", e.Error())
	}
	e.stderr = "fatal: something else"
	if strings.Contains(e.Error(), "check --repair") {
		t.Errorf("hint on an unrelated error: %q", e.Error())
	}
}
