package initbranches

import (
	"errors"
	"strings"
	"testing"

	"github.com/ringflow/ringflow/pkg/config"
)

func TestPickRemote(t *testing.T) {
	for _, tc := range []struct {
		remotes []string
		remote  string
		given   bool
		want    string
		err     string // part of the error; "" = none
	}{
		{nil, "origin", false, "", ""},
		{[]string{"upstream"}, "origin", false, "upstream", ""},
		{[]string{"backup", "origin"}, "origin", false, "origin", ""},
		{[]string{"a", "b"}, "origin", false, "", "several remotes (a, b) and none is called origin: pass the one the hosts pull from, e.g. `ringflow init --remote a`"},
		{[]string{"a", "b"}, "b", true, "b", ""},
		{[]string{"a"}, "", true, "", ""},
		{nil, "", true, "", ""},
		{[]string{"a"}, "origin", true, "", `remote "origin" is not configured in this repository (its remotes: a): pass one of them, e.g. --remote a`},
		{nil, "origin", true, "", "(it has no remote): add it with `git remote add NAME URL`"},
	} {
		got, err := PickRemote(tc.remotes, tc.remote, tc.given)
		var re *RemoteError
		switch {
		case tc.err == "" && err != nil, tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !errors.As(err, &re)):
			t.Errorf("PickRemote(%q, %q, %v) error %v, want %q", tc.remotes, tc.remote, tc.given, err, tc.err)
		case got.Remote != tc.want || (err == nil && got.Why == ""):
			t.Errorf("PickRemote(%q, %q, %v) = %+v, want %q", tc.remotes, tc.remote, tc.given, got, tc.want)
		}
	}
}

func TestCheckRemote(t *testing.T) {
	if err := CheckRemote(nil, "", "r.yaml"); err != nil {
		t.Errorf("remote \"\": %v", err)
	}
	if err := CheckRemote([]string{"origin"}, "origin", "r.yaml"); err != nil {
		t.Errorf("remote origin: %v", err)
	}
	err := CheckRemote(nil, "origin", "r.yaml")
	var ce *config.Error
	if !errors.As(err, &ce) || err.Error() != "config r.yaml: remote: \"origin\" is not configured in this repository (it has no remote): add it with `git remote add origin URL`, or set \"\" for local branches only" {
		t.Errorf("no remote: %v", err)
	}
	err = CheckRemote([]string{"up"}, "origin", "r.yaml")
	if err == nil || !strings.Contains(err.Error(), "(its remotes: up): set one of them, or") {
		t.Errorf("other remote: %v", err)
	}
}
