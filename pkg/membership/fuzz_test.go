package membership

import (
	"errors"
	"path"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/ringflow/ringflow/pkg/config"
)

// fuzzGroups builds up to three groups from newline-separated hosts
// entries the way the config loader would accept them: the second group
// takes share percent (0 = not a share group), the third is the catch-all
// when catchAll is set. It reports false for entries the loader refuses
// (an empty entry, a bad glob, a literal named twice, a second "*").
func fuzzGroups(g1, g2, g3 string, share uint8, catchAll bool) ([]config.Group, bool) {
	literal := map[string]bool{}
	star := false
	entries := func(s string) ([]string, bool) {
		if s == "" {
			return nil, true
		}
		var out []string
		for _, e := range strings.Split(s, "\n") {
			switch {
			case strings.TrimSpace(e) == "":
				return nil, false
			case e == "*":
				if star {
					return nil, false
				}
				star = true
			case IsGlob(e):
				if _, err := path.Match(e, ""); err != nil {
					return nil, false
				}
			default:
				if literal[e] {
					return nil, false
				}
				literal[e] = true
			}
			out = append(out, e)
		}
		return out, true
	}
	var gs []config.Group
	for i, spec := range []string{g1, g2, g3} {
		hosts, ok := entries(spec)
		if !ok {
			return nil, false
		}
		name := []string{"canary", "early", "stable"}[i]
		g := config.Group{Name: name, Ring: name, Branch: "deploy/" + name, Hosts: hosts, Key: "rings[" + name + "]"}
		if i == 1 {
			g.Share = float64(share % 101)
		}
		if i == 2 && catchAll && !star {
			g.Hosts = append(g.Hosts, "*")
			star = true
		}
		gs = append(gs, g)
	}
	return gs, true
}

func fuzzHosts(s string) []string {
	seen := map[string]bool{}
	var hosts []string
	for _, h := range strings.Split(s, "\n") {
		if !seen[h] {
			seen[h] = true
			hosts = append(hosts, h)
		}
	}
	return hosts
}

// FuzzAssign places fuzzed host names with fuzzed patterns. Assign must
// not panic; it places every host once, sorted, by a rule that really
// applies; the order hosts come in changes nothing; and adding a host
// moves at most one other (the stability promise for one share group).
func FuzzAssign(f *testing.F) {
	f.Add("lab-1\nlab-2\nsbc-1\nweb.example\nLab-3\ndb-1\ndb-2", "lab-1\nlab-*", "", "sbc-*", uint8(20), true, "db-3")
	f.Add("a\nb\nc", "a", "b", "c", uint8(0), false, "d")
	f.Add("a\nb\nc", "", "", "", uint8(100), false, "zz")
	f.Add("we\"ird\n$(touch pwned)\na/b\nx.y\nnew\x00line", "we\"ird\n*.*", "a/*", "[a-z]*", uint8(50), true, "..")
	f.Add("host-001\nhost-002\nhost-003", "host-00?", "", "", uint8(33), false, "host-004")
	f.Add("", "x", "", "", uint8(0), true, "")
	f.Fuzz(func(t *testing.T, hostList, g1, g2, g3 string, share uint8, catchAll bool, newHost string) {
		groups, ok := fuzzGroups(g1, g2, g3, share, catchAll)
		if !ok {
			return
		}
		hosts := fuzzHosts(hostList)
		ps, err := Assign(groups, hosts)
		checkAssign(t, groups, hosts, ps, err)

		// The order of the hosts does not matter.
		rev := slices.Clone(hosts)
		slices.Reverse(rev)
		ps2, err2 := Assign(groups, rev)
		if (err == nil) != (err2 == nil) || !slices.Equal(ps, ps2) {
			t.Fatalf("reversed hosts give %v, %v; want %v, %v", ps2, err2, ps, err)
		}
		if err != nil || slices.Contains(hosts, newHost) {
			return
		}

		// Stability: one more host moves at most one other (there is one
		// share group at most).
		more := append(slices.Clone(hosts), newHost)
		psMore, err := Assign(groups, more)
		if err != nil {
			var merr *Error
			if !errors.As(err, &merr) || len(merr.Unknown) > 0 || len(merr.Unassigned) != 1 {
				t.Fatalf("adding %q: %v (one host at most may be left out)", newHost, err)
			}
			return
		}
		checkAssign(t, groups, more, psMore, nil)
		was := map[string]Placement{}
		for _, p := range ps {
			was[p.Host] = p
		}
		var moved []string
		for _, p := range psMore {
			if old, ok := was[p.Host]; ok && old.Group != p.Group {
				moved = append(moved, p.Host)
			}
		}
		if len(moved) > 1 {
			t.Fatalf("adding %q moved %q", newHost, moved)
		}
	})
}

// checkAssign checks one result of Assign against the rules.
func checkAssign(t *testing.T, groups []config.Group, hosts []string, ps []Placement, err error) {
	t.Helper()
	isHost := map[string]bool{}
	for _, h := range hosts {
		isHost[h] = true
	}
	if err != nil {
		var merr *Error
		if !errors.As(err, &merr) {
			t.Fatalf("Assign error %T: %v", err, err)
		}
		if ps != nil || len(merr.Unknown)+len(merr.Unassigned) == 0 {
			t.Fatalf("Assign: placements %v with error %v", ps, err)
		}
		for _, u := range merr.Unknown {
			if isHost[u.Host] || IsGlob(u.Host) {
				t.Fatalf("%q reported unknown but it is a host or a glob", u.Host)
			}
		}
		if !sort.StringsAreSorted(merr.Unassigned) {
			t.Fatalf("unassigned hosts not sorted: %q", merr.Unassigned)
		}
		for _, h := range merr.Unassigned {
			if !isHost[h] {
				t.Fatalf("unassigned %q is not a host", h)
			}
		}
		if len(merr.Problems()) == 0 {
			t.Fatalf("error without problems")
		}
		return
	}
	if len(ps) != len(hosts) {
		t.Fatalf("%d placements for %d hosts", len(ps), len(hosts))
	}
	byName := map[string]config.Group{}
	for _, g := range groups {
		byName[g.Name] = g
	}
	for i, p := range ps {
		if i > 0 && ps[i-1].Host >= p.Host {
			t.Fatalf("placements not sorted or a host placed twice: %q then %q", ps[i-1].Host, p.Host)
		}
		if !isHost[p.Host] {
			t.Fatalf("placed %q, which is not a host", p.Host)
		}
		g, ok := byName[p.Group]
		if !ok || g.Ring != p.Ring || g.Branch != p.Branch {
			t.Fatalf("placement %+v does not match a group", p)
		}
		globbed := func() bool {
			for _, eg := range groups {
				for _, e := range eg.Hosts {
					if ok, _ := path.Match(e, p.Host); ok && e != "*" && IsGlob(e) {
						return true
					}
				}
			}
			return false
		}
		named := func(gs []config.Group) bool {
			for _, g := range gs {
				if slices.Contains(g.Hosts, p.Host) && !IsGlob(p.Host) {
					return true
				}
			}
			return false
		}
		switch p.Rule {
		case RuleLiteral:
			if p.Pattern != p.Host || !slices.Contains(g.Hosts, p.Host) {
				t.Fatalf("literal placement %+v: the group does not name it", p)
			}
		case RuleGlob:
			if named(groups) {
				t.Fatalf("glob placement %+v of a host named literally", p)
			}
			if ok, _ := path.Match(p.Pattern, p.Host); !ok || p.Pattern == "*" || !slices.Contains(g.Hosts, p.Pattern) {
				t.Fatalf("glob placement %+v: the pattern does not take it", p)
			}
			// No earlier group has a matching glob.
			for _, eg := range groups {
				if eg.Name == g.Name {
					break
				}
				for _, e := range eg.Hosts {
					if ok, _ := path.Match(e, p.Host); ok && e != "*" && IsGlob(e) {
						t.Fatalf("glob placement %+v, but earlier group %q has %q", p, eg.Name, e)
					}
				}
			}
		case RuleShare:
			if g.Share <= 0 || named(groups) || globbed() {
				t.Fatalf("share placement %+v into a group without a share or of a named host", p)
			}
		case RuleCatchAll:
			if !slices.Contains(g.Hosts, "*") || named(groups) || globbed() {
				t.Fatalf("catch-all placement %+v into a group without \"*\"", p)
			}
		default:
			t.Fatalf("placement %+v: rule %q", p, p.Rule)
		}
	}
}
