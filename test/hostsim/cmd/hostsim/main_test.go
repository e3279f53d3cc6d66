package main

import (
	"errors"
	"io"
	"slices"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	base := []string{"-host", "lab-1", "-remote", "/f/origin.git", "-branch", "canary", "-state", "/s"}
	o, err := parse(append(base, "-interval", "250ms", "-comin", "-fail-switch", "8deac5cd", "-fail-switch", "/nix/store/x", "-textfile", "-"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.Host != "lab-1" || o.Remote != "/f/origin.git" || o.Branch != "canary" || o.State != "/s" || o.Interval != 250*time.Millisecond ||
		!o.Comin || o.Textfile != "-" || !slices.Equal(o.FailSwitch, []string{"8deac5cd", "/nix/store/x"}) || o.Nix != "nix" {
		t.Errorf("parse = %+v", o)
	}
	for _, args := range [][]string{
		{"-remote", "/r", "-branch", "b", "-state", "/s"}, // no host
		{"-host", "h", "-branch", "b", "-state", "/s"},    // no remote
		{"-host", "h", "-remote", "/r", "-state", "/s"},   // no branch
		{"-host", "h", "-remote", "/r", "-branch", "b"},   // no state
		append(base, "extra"),
		append(base, "-interval", "-1s"),
		append(base, "-no-such-flag"),
	} {
		if _, err := parse(args, io.Discard); !errors.As(err, new(usageError)) {
			t.Errorf("parse(%q) = %v, want a usage error", args, err)
		}
	}
}
