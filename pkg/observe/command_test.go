package observe

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ringflow/ringflow/pkg/config"
)

// script writes an executable sh script printing out and returns its path.
func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fleet-running")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func commandSourceFor(t *testing.T, argv ...string) Source {
	t.Helper()
	src, err := New(&config.Observe{Command: argv}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func TestCommandSource(t *testing.T) {
	// The argument reaches the program as one word: no shell between.
	p := script(t, `[ "$1" = "--json please" ] || { echo "bad args: $*" >&2; exit 3; }
cat <<'EOF'
{"hosts": {
  "web-1": {"toplevel": "`+topA+`", "since": "2026-12-07T04:40:00+01:00"},
  "web-2": {"commit": "`+commit+`"},
  "lab-1": {"error": "unreachable since Tuesday"},
  "lab-2": {"toplevel": "`+topA+`", "commit": "`+commit+`"},
  "lab-3": {},
  "lab-4": {"toplevel": "nixos-system"},
  "lab-5": {"commit": "3f2a9c1"},
  "lab-6": {"toplevel": "`+topB+`", "since": "yesterday"},
  "lab-7": {"toplevel": "`+topB+`", "sinse": "2026-12-07T04:40:00Z"},
  "lab-8": {"toplevel": 42},
  "lab-9": "/nix/store/x",
  "other": {"toplevel": "`+topB+`"}
}}
EOF
`)
	src := commandSourceFor(t, p, "--json please")
	hosts := []string{"web-1", "web-2", "lab-1", "lab-2", "lab-3", "lab-4", "lab-5", "lab-6", "lab-7", "lab-8", "lab-9", "missing"}
	got, err := src.Running(context.Background(), hosts)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Run{
		"web-1": {Host: "web-1", Toplevel: topA, Since: time.Date(2026, 12, 7, 3, 40, 0, 0, time.UTC)},
		"web-2": {Host: "web-2", Commit: commit},
		"lab-1": {Host: "lab-1", Err: "unreachable since Tuesday"},
	}
	for h, w := range want {
		if !reflect.DeepEqual(got[h], w) {
			t.Errorf("%s = %+v, want %+v", h, got[h], w)
		}
	}
	for h, msg := range map[string]string{
		"lab-2":   "hosts.lab-2: toplevel and commit both given: give one",
		"lab-3":   "hosts.lab-3: want toplevel (a /nix/store path) or commit, or error",
		"lab-4":   `hosts.lab-4: toplevel: want a store path such as /nix/store/…-nixos-system-…, got "nixos-system"`,
		"lab-5":   `hosts.lab-5: commit: want a full commit id (40 or 64 lowercase hex digits), got "3f2a9c1"`,
		"lab-6":   `hosts.lab-6: since: want an RFC 3339 time such as 2026-12-07T04:40:00Z, got "yesterday"`,
		"lab-7":   `hosts.lab-7: json: unknown field "sinse"`,
		"lab-8":   "hosts.lab-8: toplevel: want a JSON string, got a number",
		"lab-9":   "hosts.lab-9: want a JSON object, got a string",
		"missing": "did not name this host",
	} {
		if r := got[h]; r.Err != "" && !strings.Contains(r.Err, msg) || r.Err == "" || r.Toplevel != "" || r.Commit != "" {
			t.Errorf("%s = %+v, want Err …%s…", h, r, msg)
		}
	}
	if _, ok := got["other"]; ok || len(got) != len(hosts) {
		t.Errorf("got runs for %d hosts, want exactly the %d asked", len(got), len(hosts))
	}
}

func TestCommandSourceFailures(t *testing.T) {
	for _, tt := range []struct {
		name, body, msg string
	}{
		{"exit", "echo partial; echo 'no inventory' >&2; exit 2\n", "exited 2: no inventory (check observe.command)"},
		{"not json", "echo 'web-1 /nix/store/x'\n", "printed no hosts document: invalid character 'w'"},
		{"empty", "true\n", "printed no hosts document: empty output"},
		{"list", "echo '[]'\n", "want a JSON object, got a array"},
		{"unknown top key", `echo '{"hosts": {}, "version": 2}'` + "\n", `json: unknown field "version"`},
		{"no hosts", "echo '{}'\n", `printed no "hosts" object`},
		{"hosts a list", `echo '{"hosts": []}'` + "\n", "hosts: want a JSON map[string]json.RawMessage, got a array"},
		{"two documents", `echo '{"hosts": {}} {"hosts": {}}'` + "\n", "more after the JSON document"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := commandSourceFor(t, script(t, tt.body)).Running(context.Background(), []string{"web-1"})
			if err == nil || !strings.Contains(err.Error(), tt.msg) || !strings.HasPrefix(err.Error(), "observe: command ") {
				t.Errorf("err = %v, want …%s…", err, tt.msg)
			}
		})
	}
}

func TestCommandSourceTimeout(t *testing.T) {
	p := script(t, "exec sleep 30\n")
	src := newCommand([]string{p}, 200*time.Millisecond, ExecRunner{})
	start := time.Now()
	_, err := src.Running(context.Background(), []string{"web-1"})
	if err == nil || !strings.Contains(err.Error(), "did not finish within 200ms") {
		t.Errorf("err = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s: the program was not stopped", d)
	}
}

func TestCommandSourceNotFound(t *testing.T) {
	_, err := commandSourceFor(t, filepath.Join(t.TempDir(), "nope")).Running(context.Background(), []string{"web-1"})
	if err == nil || !strings.Contains(err.Error(), "no such file or directory (check observe.command)") {
		t.Errorf("err = %v", err)
	}
}
