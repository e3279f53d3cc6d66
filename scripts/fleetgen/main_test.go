package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-hosts", "2"},
		{"-dir", t.TempDir()},
		{"-dir", t.TempDir(), "-eval-error", "nomsg"},
		{"-dir", t.TempDir(), "-work", "a=x"},
		{"-dir", t.TempDir(), "-build-hang", "a=-1"},
		{"-dir", t.TempDir(), "extra"},
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), args, &out, &errOut)
		if !errors.As(err, new(usageError)) {
			t.Errorf("run %q = %v, want a usage error", args, err)
		}
	}
}

func TestRunGenerates(t *testing.T) {
	if _, err := exec.LookPath("nix"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("nix is not on PATH (CI is set): %v", err)
		}
		t.Skip("nix is not on PATH")
	}
	if os.Getenv("NIX_CONFIG") == "" {
		t.Setenv("NIX_CONFIG", "experimental-features = nix-command flakes\nsubstituters =\nsandbox = false")
	}
	dir := filepath.Join(t.TempDir(), "fleet")
	var out, errOut bytes.Buffer
	args := []string{"-dir", dir, "-hosts", "2", "-eval-error", "broken=boom", "-build-fail", "host-002", "-build-hang", "host-001=7200", "-flake-dir", "nix"}
	if err := run(context.Background(), args, &out, &errOut); err != nil {
		t.Fatalf("run: %v\n%s", err, errOut.String())
	}
	for _, want := range []string{"repo     " + filepath.Join(dir, "fleet"), "remote   " + filepath.Join(dir, "origin.git"), "dir=nix", "hosts    3"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	hosts, err := os.ReadFile(filepath.Join(dir, "fleet", "nix", "hosts.json"))
	if err != nil || !strings.Contains(string(hosts), `"evalError": "boom"`) || !strings.Contains(string(hosts), `"buildFail": true`) ||
		!strings.Contains(string(hosts), `"buildHang": 7200`) {
		t.Errorf("hosts.json: %v\n%s", err, hosts)
	}
}
