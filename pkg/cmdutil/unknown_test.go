package cmdutil

import (
	"errors"
	"fmt"
	"testing"

	"github.com/ringflow/ringflow/pkg/gitrepo"
)

func TestUnknownNameError(t *testing.T) {
	e := &UnknownNameError{What: "ring, branch or commit", Name: "stabel",
		Known: []Names{{Kind: "rings", Names: []string{"canary", "stable"}}, {Kind: "other branches", Names: []string{"dev"}}}}
	want := `unknown ring, branch or commit "stabel": did you mean stable? (rings: canary, stable; other branches: dev)`
	if e.Error() != want {
		t.Errorf("got %q\nwant %q", e.Error(), want)
	}
	e.Name = "prod"
	want = `unknown ring, branch or commit "prod" (rings: canary, stable; other branches: dev)`
	if e.Error() != want {
		t.Errorf("got %q\nwant %q", e.Error(), want)
	}
}

func TestWithNextStep(t *testing.T) {
	plain := errors.New("disk full")
	if got := WithNextStep(plain); got != plain {
		t.Errorf("WithNextStep changed an unrelated error: %v", got)
	}
	err := WithNextStep(&gitrepo.NotRepositoryError{Path: "/srv/fleet/hosts", Within: "/srv/fleet"})
	want := "/srv/fleet/hosts is not the top of a git work tree: it lies inside /srv/fleet: cd /srv/fleet, or pass --repo /srv/fleet"
	if err.Error() != want {
		t.Errorf("got %q\nwant %q", err, want)
	}
	// Added once, however often it is asked for.
	if again := WithNextStep(fmt.Errorf("x: %w", err)); again.Error() != "x: "+want {
		t.Errorf("second WithNextStep: %q", again)
	}
}
