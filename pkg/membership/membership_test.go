package membership

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/ringflow/ringflow/pkg/config"
)

func group(ring, name string, share float64, hosts ...string) config.Group {
	return config.Group{Name: name, Ring: ring, Branch: "deploy/" + name, Hosts: hosts, Share: share, Key: "rings[" + ring + "]"}
}

// The spec's example layout.
func specGroups() []config.Group {
	return []config.Group{
		group("canary", "canary", 0, "lab-1", "lab-*"),
		group("early", "early", 20),
		group("stable", "stable", 0, "*"),
		group("stable", "field-sbc", 0, "sbc-*"),
	}
}

func TestAssignRules(t *testing.T) {
	hosts := []string{"lab-1", "lab-2", "sbc-1", "sbc-2", "web.example", "Lab-3"}
	for i := 0; i < 40; i++ {
		hosts = append(hosts, fmt.Sprintf("srv-%02d", i))
	}
	ps, err := Assign(specGroups(), hosts)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Placement{}
	for _, p := range ps {
		got[p.Host] = p
	}
	check := func(host, group string, rule Rule, pattern string) {
		t.Helper()
		p := got[host]
		if p.Group != group || p.Rule != rule || p.Pattern != pattern {
			t.Errorf("%s: got group %s rule %s pattern %q, want %s %s %q", host, p.Group, p.Rule, p.Pattern, group, rule, pattern)
		}
	}
	check("lab-1", "canary", RuleLiteral, "lab-1")
	check("lab-2", "canary", RuleGlob, "lab-*")
	// A glob in a later group beats the catch-all of an earlier one.
	check("sbc-1", "field-sbc", RuleGlob, "sbc-*")
	// Globs are case-sensitive, like host names.
	if got["Lab-3"].Group == "canary" {
		t.Errorf("Lab-3 matched lab-*: globs must be case-sensitive")
	}
	if got["lab-2"].Ring != "canary" || got["lab-2"].Branch != "deploy/canary" {
		t.Errorf("lab-2 placement lacks ring/branch: %+v", got["lab-2"])
	}
	var early, stable int
	for _, p := range ps {
		switch p.Group {
		case "early":
			early++
			if p.Rule != RuleShare || HashPoint(p.Host) >= 0.2 {
				t.Errorf("%s in early by %s with point %.3f", p.Host, p.Rule, HashPoint(p.Host))
			}
		case "stable":
			stable++
			if p.Rule != RuleCatchAll || HashPoint(p.Host) < 0.2 {
				t.Errorf("%s in stable by %s with point %.3f", p.Host, p.Rule, HashPoint(p.Host))
			}
		}
	}
	if early == 0 || stable == 0 || early+stable != 42 {
		t.Errorf("early=%d stable=%d, want both non-zero and 42 in all", early, stable)
	}
	if !slices.IsSortedFunc(ps, func(a, b Placement) int { return strings.Compare(a.Host, b.Host) }) {
		t.Error("placements not sorted by host")
	}
}

// Adding a host must move no other host: the share rule depends on the
// name alone.
func TestAssignStableUnderAddition(t *testing.T) {
	var hosts []string
	for i := 0; i < 200; i++ {
		hosts = append(hosts, fmt.Sprintf("node-%03d", i))
	}
	gs := specGroups()[1:] // no literal names: these hosts are made up
	before, err := Assign(gs, hosts)
	if err != nil {
		t.Fatal(err)
	}
	after, err := Assign(gs, append(slices.Clone(hosts), "node-new"))
	if err != nil {
		t.Fatal(err)
	}
	was := map[string]string{}
	for _, p := range before {
		was[p.Host] = p.Group
	}
	for _, p := range after {
		if g, ok := was[p.Host]; ok && g != p.Group {
			t.Errorf("adding node-new moved %s from %s to %s", p.Host, g, p.Group)
		}
	}
}

// Over many hosts a 20% share takes close to 20% of them.
func TestShareProportion(t *testing.T) {
	var hosts []string
	for i := 0; i < 5000; i++ {
		hosts = append(hosts, fmt.Sprintf("h%d", i))
	}
	gs := []config.Group{group("a", "a", 20), group("b", "b", 30), group("z", "z", 0, "*")}
	ps, err := Assign(gs, hosts)
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, p := range ps {
		n[p.Group]++
	}
	for g, want := range map[string]float64{"a": 0.2, "b": 0.3, "z": 0.5} {
		if got := float64(n[g]) / 5000; math.Abs(got-want) > 0.03 {
			t.Errorf("group %s took %.3f of hosts, want about %.2f", g, got, want)
		}
	}
}

func TestAssignErrors(t *testing.T) {
	gs := []config.Group{group("canary", "canary", 0, "lab-1", "lab-9"), group("stable", "stable", 0, "web-*")}
	_, err := Assign(gs, []string{"lab-1", "web-1", "db-1", "db-2"})
	var merr *Error
	if !errors.As(err, &merr) {
		t.Fatalf("err = %v, want *membership.Error", err)
	}
	if len(merr.Unknown) != 1 || merr.Unknown[0].Host != "lab-9" || merr.Unknown[0].Key != "rings[canary].hosts[1]" {
		t.Errorf("Unknown = %+v, want lab-9 at rings[canary].hosts[1]", merr.Unknown)
	}
	if !slices.Equal(merr.Unassigned, []string{"db-1", "db-2"}) {
		t.Errorf("Unassigned = %q, want db-1 db-2", merr.Unassigned)
	}
	msg := err.Error()
	for _, want := range []string{`"lab-9" is not a host`, "db-1, db-2"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
}

func TestHashPointKnownValues(t *testing.T) {
	// Values from `printf %s lab-1 | sha256sum`. Pinned so a change of hash function, which would reshuffle every
	// share group in every fleet, cannot slip in unnoticed.
	for host, want := range map[string]float64{"lab-1": 0.2882, "web.example": 0.0146} {
		if got := HashPoint(host); math.Abs(got-want) > 0.0001 {
			t.Errorf("HashPoint(%q) = %.4f, want %.4f", host, got, want)
		}
	}
}
