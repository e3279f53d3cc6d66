package evidence

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestIndexOuts(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	green := func(out string) Host { return Host{Status: Green, Drv: out + ".drv", Out: out, Time: t0} }
	o := IndexOuts(map[string]*Note{
		// c1 and c2 give web the same toplevel (c2 changed only db).
		"c1": {Hosts: map[string]Host{"web": green("/nix/store/w1"), "db": green("/nix/store/d1")}},
		"c2": {Hosts: map[string]Host{"web": green("/nix/store/w1"), "db": green("/nix/store/d2")}},
		// A red build still has the out path evaluation gave.
		"c3": {Hosts: map[string]Host{"web": {Status: Red, Phase: PhaseBuild, Drv: "/nix/store/w3.drv", Out: "/nix/store/w3", Time: t0},
			"db": {Status: Red, Phase: PhaseEval, Time: t0}}},
	})
	for _, tt := range []struct {
		host, out string
		want      []string
	}{
		{"web", "/nix/store/w1", []string{"c1", "c2"}},
		{"web", "/nix/store/w3", []string{"c3"}},
		{"db", "/nix/store/d2", []string{"c2"}},
		{"db", "/nix/store/w1", nil}, // another host's toplevel is not this one's
		{"web", "/nix/store/unknown", nil},
		{"web", "", nil},
		{"nobody", "/nix/store/w1", nil},
	} {
		if got := o.Commits(tt.host, tt.out); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Commits(%s, %s) = %q, want %q", tt.host, tt.out, got, tt.want)
		}
	}
	if got := o.Out("c2", "db"); got != "/nix/store/d2" {
		t.Errorf("Out(c2, db) = %q", got)
	}
	if got := o.Out("c3", "db"); got != "" {
		t.Errorf("Out(c3, db) = %q, want none: evaluation failed", got)
	}
	var none *Outs
	if none.Commits("web", "/nix/store/w1") != nil || none.Out("c1", "web") != "" {
		t.Error("a nil Outs knows something")
	}
}

// Outs reads the local notes and the remote's, merged, past a note that
// is not ringflow's.
func TestStoreOuts(t *testing.T) {
	clone, _, commit := repoPair(t)
	ctx := context.Background()
	now := time.Now().UTC()
	s := store(t, clone, "origin")
	if err := s.Record(ctx, commit, map[string]Host{"web": {Status: Green, Drv: "/nix/store/w.drv", Out: "/nix/store/w", Time: now}}); err != nil {
		t.Fatal(err)
	}
	// A second commit recorded locally only, and a foreign note on a third.
	gitOut(t, "-C", clone, "commit", "-q", "--allow-empty", "-m", "two")
	two := strings.TrimSpace(gitOut(t, "-C", clone, "rev-parse", "HEAD"))
	local := store(t, clone, "")
	if err := local.Record(ctx, two, map[string]Host{"web": {Status: Green, Drv: "/nix/store/w.drv", Out: "/nix/store/w", Time: now}}); err != nil {
		t.Fatal(err)
	}
	gitOut(t, "-C", clone, "commit", "-q", "--allow-empty", "-m", "three")
	three := strings.TrimSpace(gitOut(t, "-C", clone, "rev-parse", "HEAD"))
	gitOut(t, "-C", clone, "notes", "--ref", "ringflow/evidence", "add", "-m", "not json", three)

	o, err := s.Outs()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{commit, two}
	if commit > two {
		want = []string{two, commit}
	}
	if got := o.Commits("web", "/nix/store/w"); !reflect.DeepEqual(got, want) {
		t.Errorf("Commits = %q, want %q", got, want)
	}
	if got := o.Commits("web", "/nix/store/none"); got != nil {
		t.Errorf("Commits of an unknown toplevel = %q", got)
	}
}
