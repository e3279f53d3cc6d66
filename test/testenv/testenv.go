// Package testenv holds the plumbing the end-to-end test packages share:
// a buffer a process writes to while the test reads it, a free loopback
// port, and the tool check that skips a suite on a machine without the
// tool but fails it under CI, where a skip would hide the suite.
package testenv

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"sync"
	"testing"
)

// Buffer is a bytes.Buffer a process writes to while the test reads it.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String is what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// FreePort is a loopback TCP port nothing listened on a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Missing names the first of tools that is not on PATH, or "".
func Missing(tools ...string) string {
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			return tool
		}
	}
	return ""
}

// RequireTools skips the test in -short mode (what names the suite in the
// message) and when one of tools is missing — unless CI is set, where the
// missing tool fails the test: a skip must not hide the suite there.
func RequireTools(t testing.TB, what string, tools ...string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("%s skipped in -short mode", what)
	}
	if tool := Missing(tools...); tool != "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed but CI is set (scripts/install-deps.sh installs it): a skip must not hide the %s", tool, what)
		}
		t.Skipf("needs %s", tool)
	}
}
