package config

import (
	"path/filepath"
	"testing"
)

// The shipped example must stay loadable as the spec's layout.
func TestShippedExampleLoads(t *testing.T) {
	cfg, err := Load(LoadOptions{File: filepath.Join("..", "..", "configs", "ringflow.yaml"), SearchPaths: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(cfg.Groups()); got != 4 {
		t.Errorf("example has %d groups, want 4", got)
	}
	if g := cfg.Groups()[3]; g.Name != "field-sbc" || !g.Pin.Pinned || g.Branch != "deploy/field-sbc" {
		t.Errorf("field-sbc group = %+v", g)
	}
	if r := cfg.Rings[0]; len(r.Verify) != 3 || r.VerifyTimeout.Minutes() != 2 {
		t.Errorf("canary verify = %q, %s", r.Verify, r.VerifyTimeout)
	}
	if n := len(cfg.Rings[2].Freeze); n != 3 {
		t.Errorf("stable has %d freeze windows, want 3", n)
	}
}
