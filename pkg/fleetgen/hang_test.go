package fleetgen

import (
	"context"
	"strings"
	"testing"
	"time"
)

// A hanging host's toplevel says so, then takes as long as it was told to
// before it builds; nix's --timeout stops it sooner. A negative hang is
// refused.
func TestBuildHang(t *testing.T) {
	f := generate(t, Options{Hosts: []Host{{Name: "quick"}, {Name: "slow", BuildHang: 2}, {Name: "stuck", BuildHang: 600}}, Salt: time.Now().String()})
	dev := gitRev(t, f.Repo, "dev")
	if quick, slow := mustNix(t, f, drvPathArgs(f, dev, "quick")...), mustNix(t, f, drvPathArgs(f, dev, "slow")...); quick == slow {
		t.Fatalf("the hanging host's derivation is the quick one's: %s", slow)
	}
	start := time.Now()
	mustNix(t, f, "build", "--no-link", toplevel(f, dev, "slow"))
	if took := time.Since(start); took < 2*time.Second {
		t.Errorf("slow built in %s, want at least its 2s hang", took)
	}
	start = time.Now()
	_, stderr, err := runNix(t, f, "build", "--no-link", "-L", "--timeout", "1", toplevel(f, dev, "stuck"))
	if err == nil || !strings.Contains(stderr, "host stuck hangs for 600 seconds") || time.Since(start) > time.Minute {
		t.Errorf("stuck with --timeout 1: err %v after %s, stderr:\n%s", err, time.Since(start), stderr)
	}
	if _, err := Generate(context.Background(), Options{Dir: t.TempDir(), Hosts: []Host{{Name: "a", BuildHang: -1}}}); err == nil {
		t.Error("Generate took a negative build hang")
	}
}
