package config

import (
	"reflect"
	"strings"
	"testing"
)

// The starter proposes canary from names that look like lab or test
// machines, keeps field boards out of it in a group of their own, and
// falls back to the first host.
func TestNewStarter(t *testing.T) {
	for _, tc := range []struct {
		hosts       []string
		canary, fld []string
		byName      bool
	}{
		// the fleet
		{[]string{"desk-1", "desk-2", "field-1", "field-2", "field-3", "lab-1", "lab-2", "plex"},
			[]string{"lab-1", "lab-2"}, []string{"field-1", "field-2", "field-3"}, true},
		{[]string{"a", "b", "c"}, []string{"a"}, nil, false},
		{[]string{"Build-VM", "ci-runner", "testbox", "web"}, []string{"Build-VM", "ci-runner"}, nil, true},
		{[]string{"labrador", "web"}, []string{"labrador"}, nil, false}, // a word, not a prefix
		// the first host that is no field board
		{[]string{"rpi4-a", "sbc-2", "web"}, []string{"web"}, []string{"rpi4-a", "sbc-2"}, false},
		// a field board is never canary by name
		{[]string{"field-lab", "web"}, []string{"web"}, []string{"field-lab"}, false},
		// names alone would leave no host after canary: the first host
		{[]string{"lab-1", "lab-2"}, []string{"lab-1"}, nil, false},
		{[]string{"lab-1", "pi-1"}, []string{"lab-1"}, []string{"pi-1"}, false},
		{[]string{"field-1", "field-2", "lab-1", "lab-2"}, []string{"lab-1"}, []string{"field-1", "field-2"}, false},
		{[]string{"pi-1", "pi-2"}, []string{"pi-1"}, []string{"pi-2"}, false},
		{nil, nil, nil, false},
	} {
		s := NewStarter(tc.hosts, "origin")
		if (s.Why == "") != (len(tc.hosts) == 0) {
			t.Errorf("NewStarter(%q) says why %q", tc.hosts, s.Why)
		}
		if !reflect.DeepEqual(s.Canary, tc.canary) || !reflect.DeepEqual(s.Field, tc.fld) || s.ByName != tc.byName {
			t.Errorf("NewStarter(%q): canary %q field %q by name %v; want %q %q %v", tc.hosts, s.Canary, s.Field, s.ByName, tc.canary, tc.fld, tc.byName)
		}
		c := mustLoad(t, s.YAML())
		var canary, field []string
		for _, g := range c.Groups() {
			switch g.Name {
			case "canary":
				canary = g.Hosts
			case "field":
				field = g.Hosts
			}
		}
		if len(tc.hosts) > 0 && (!reflect.DeepEqual(canary, tc.canary) || !reflect.DeepEqual(field, tc.fld)) {
			t.Errorf("NewStarter(%q).YAML() loads canary %q field %q\n%s", tc.hosts, canary, field, s.YAML())
		}
	}
}

func TestStarterRemote(t *testing.T) {
	for _, remote := range []string{"", "origin", "upstream"} {
		y := NewStarter([]string{"a"}, remote).YAML()
		if c := mustLoad(t, y); c.Remote != remote {
			t.Errorf("starter with remote %q loads remote %q\n%s", remote, c.Remote, y)
		}
		// its comment lines up with the others'
		_, line, _ := strings.Cut(y, "\nremote: ")
		line, _, _ = strings.Cut(line, "\n")
		if i := strings.Index(line, "#"); i != 24-len("remote: ") {
			t.Errorf("starter with remote %q: remote line %q", remote, line)
		}
	}
}

func TestStarterWhy(t *testing.T) {
	for hosts, want := range map[string]string{
		"lab-1 web":     "names look like lab or test machines",
		"db web":        "the first host: no name looks like a lab or test machine",
		"lab-1 field-1": "the first host: by name every host would be canary or field",
	} {
		if got := NewStarter(strings.Fields(hosts), "").Why; got != want {
			t.Errorf("NewStarter(%s).Why = %q, want %q", hosts, got, want)
		}
	}
}
