// Package membership decides which group, and so which ring and branch,
// each host of the flake belongs to, by the five rules of the spec. It is
// pure: it takes the configured groups and the host names found at a
// commit, and returns placements. It runs neither git nor nix.
package membership

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/ringflow/ringflow/pkg/config"
)

// Rule says which rule placed a host.
type Rule string

// The rules, in the order they are tried.
const (
	RuleLiteral  Rule = "literal"   // named in the group's hosts
	RuleGlob     Rule = "glob"      // first group, in file order, with a matching glob
	RuleShare    Rule = "share"     // a share group's slice of the hash space
	RuleCatchAll Rule = "catch-all" // the group whose hosts are ["*"]
)

// Placement is one host's group.
type Placement struct {
	Host    string
	Group   string
	Ring    string
	Branch  string
	Rule    Rule
	Pattern string // the literal name or glob that matched; the share for RuleShare
}

// Error lists hosts the rules cannot place and names in the config that
// are not hosts of the flake. It is a configuration error.
type Error struct {
	Unknown    []UnknownHost // literal names that are not hosts (typo guard)
	Unassigned []string      // hosts no rule took
}

// UnknownHost is a literal host name in the config that the flake lacks.
type UnknownHost struct{ Key, Host string }

func (e *Error) Error() string {
	var lines []string
	for _, u := range e.Unknown {
		lines = append(lines, fmt.Sprintf("%s: %q is not a host of the flake's nixosConfigurations", u.Key, u.Host))
	}
	if len(e.Unassigned) > 0 {
		lines = append(lines, fmt.Sprintf("no group takes %d host(s): %s (add a group whose hosts are [\"*\"], or name them)",
			len(e.Unassigned), strings.Join(e.Unassigned, ", ")))
	}
	return strings.Join(lines, "\n")
}

// Problems returns one line per fault, for `ringflow check`.
func (e *Error) Problems() []string { return strings.Split(e.Error(), "\n") }

// IsGlob says whether a hosts entry is a pattern rather than a name.
func IsGlob(entry string) bool { return strings.ContainsAny(entry, "*?[") }

// HashPoint maps a host name to a stable point in [0, 1): the first eight
// bytes of SHA-256 of the name, big-endian, over 2^64. It depends on the
// name alone, so adding or removing a host moves no other host.
func HashPoint(host string) float64 {
	sum := sha256.Sum256([]byte(host))
	return float64(binary.BigEndian.Uint64(sum[:8])) / (1 << 64)
}

// Assign places every host. Hosts are returned sorted by name. Groups are
// taken in file order, which decides globs and the share slices.
func Assign(groups []config.Group, hosts []string) ([]Placement, error) {
	isHost := make(map[string]bool, len(hosts))
	for _, h := range hosts {
		isHost[h] = true
	}
	placed := make(map[string]Placement, len(hosts))
	place := func(h string, g config.Group, r Rule, pattern string) {
		placed[h] = Placement{Host: h, Group: g.Name, Ring: g.Ring, Branch: g.Branch, Rule: r, Pattern: pattern}
	}

	// 1. Literal names. The config loader already refused a name in two groups.
	var merr Error
	for _, g := range groups {
		for i, e := range g.Hosts {
			if IsGlob(e) {
				continue
			}
			if !isHost[e] {
				merr.Unknown = append(merr.Unknown, UnknownHost{Key: fmt.Sprintf("%s.hosts[%d]", g.Key, i), Host: e})
				continue
			}
			place(e, g, RuleLiteral, e)
		}
	}

	sorted := slices.Clone(hosts)
	sort.Strings(sorted)

	// 2. Globs, first group in file order. The bare "*" is rule 4.
	for _, h := range sorted {
		if _, ok := placed[h]; ok {
			continue
		}
	groups:
		for _, g := range groups {
			for _, e := range g.Hosts {
				if e == "*" || !IsGlob(e) {
					continue
				}
				if ok, _ := path.Match(e, h); ok {
					place(h, g, RuleGlob, e)
					break groups
				}
			}
		}
	}

	// 3. Shares: each share group owns a slice of [0, 1), in file order.
	var lo float64
	type slice struct {
		g      config.Group
		lo, hi float64
	}
	var shares []slice
	for _, g := range groups {
		if g.Share > 0 {
			shares = append(shares, slice{g, lo, lo + g.Share/100})
			lo += g.Share / 100
		}
	}
	for _, h := range sorted {
		if _, ok := placed[h]; ok {
			continue
		}
		p := HashPoint(h)
		for _, s := range shares {
			if p >= s.lo && p < s.hi {
				place(h, s.g, RuleShare, fmt.Sprintf("%g%%", s.g.Share))
				break
			}
		}
	}

	// 4. The catch-all group.
	for _, g := range groups {
		if !slices.Contains(g.Hosts, "*") {
			continue
		}
		for _, h := range sorted {
			if _, ok := placed[h]; !ok {
				place(h, g, RuleCatchAll, "*")
			}
		}
		break
	}

	// 5. Anything left is an error.
	for _, h := range sorted {
		if _, ok := placed[h]; !ok {
			merr.Unassigned = append(merr.Unassigned, h)
		}
	}
	if len(merr.Unknown) > 0 || len(merr.Unassigned) > 0 {
		return nil, &merr
	}
	out := make([]Placement, 0, len(sorted))
	for _, h := range sorted {
		out = append(out, placed[h])
	}
	return out, nil
}

// ByGroup indexes placements by group name.
func ByGroup(ps []Placement) map[string][]string {
	m := make(map[string][]string)
	for _, p := range ps {
		m[p.Group] = append(m[p.Group], p.Host)
	}
	return m
}
