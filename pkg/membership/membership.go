// Package membership decides which group, and so which ring and branch,
// each host of the flake belongs to, by the five rules of the spec. It is
// pure: it takes the configured groups and the host names found at a
// commit, and returns placements. It runs neither git nor nix.
package membership

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/ringflow/ringflow/pkg/suggest"

	"github.com/ringflow/ringflow/pkg/config"
)

// Rule says which rule placed a host.
type Rule string

// The rules, in the order they are tried.
const (
	RuleLiteral  Rule = "literal"   // named in the group's hosts
	RuleGlob     Rule = "glob"      // first group, in file order, with a matching glob
	RuleShare    Rule = "share"     // a share group's count of the hosts no name or glob took, by hash order
	RuleCatchAll Rule = "catch-all" // the group whose hosts are ["*"]
)

// Placement is one host's group.
type Placement struct {
	Host    string
	Group   string
	Ring    string
	Branch  string
	Rule    Rule
	Pattern string // the literal name or glob that matched; the share for RuleShare, e.g. "10%"
	// For RuleShare: the group's share in percent, and that it took
	// ShareCount of the ShareOf hosts no name or glob took.
	Share               float64
	ShareCount, ShareOf int
}

// Error lists hosts the rules cannot place and names in the config that
// are not hosts of the flake. It is a configuration error.
type Error struct {
	Unknown    []UnknownHost // literal names that are not hosts (typo guard)
	Unassigned []string      // hosts no rule took
}

// UnknownHost is a literal host name in the config that the flake lacks.
// Host names are checked here, where the flake's hosts are known, not
// when the config is loaded.
type UnknownHost struct {
	Key, Host string
	Pos       config.Pos // where the config names it, when known
	Suggest   string     // the flake's host it is likely a typo of; "" = none is near
}

func (e *Error) Error() string {
	var lines []string
	for _, u := range e.Unknown {
		l := fmt.Sprintf("%s: %q is not a host of the flake's nixosConfigurations", u.Key, u.Host)
		if u.Suggest != "" {
			l += fmt.Sprintf(" (did you mean %s?)", u.Suggest)
		}
		if w := u.Pos.String(); w != "" {
			l = w + ": " + l
		}
		lines = append(lines, l)
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
// name alone, so the hash order of two hosts never changes.
func HashPoint(host string) float64 {
	sum := sha256.Sum256([]byte(host))
	return float64(binary.BigEndian.Uint64(sum[:8])) / (1 << 64)
}

// ShareBounds says how n hosts, in hash order, are dealt out to share
// groups of the given percents (in file order): group j takes positions
// bounds[j-1] (0 for the first) up to bounds[j]; the hosts after the
// last bound are the catch-all's. Each bound is rounded from the
// cumulative share (half up), not each share on its own, so the counts
// add up as exactly as whole hosts allow; and each group gets at least
// one host while any are left, so a share above 0 is never empty.
//
// Every bound grows by 0 or 1 when n does, so adding or removing one
// host moves at most one other host per bound that lies strictly inside
// the hosts (a last bound at 100% moves none). With one share group
// beside the catch-all, that is at most one host. With more, it can be
// more, and no dealing with these counts avoids it: see README
// "Decisions where the spec is silent".
func ShareBounds(percents []float64, n int) []int {
	bounds := make([]int, len(percents))
	var cum float64
	prev := 0
	for j, p := range percents {
		cum += p
		b := int(math.Floor(float64(n)*cum/100 + 0.5))
		b = min(max(b, prev+1), n)
		bounds[j] = b
		prev = b
	}
	return bounds
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
				u := UnknownHost{Key: fmt.Sprintf("%s.hosts[%d]", g.Key, i), Host: e, Suggest: suggest.Nearest(e, hosts)}
				if i < len(g.HostPos) {
					u.Pos = g.HostPos[i]
				}
				merr.Unknown = append(merr.Unknown, u)
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

	// 3. Shares: the hosts no name or glob took, in hash order, are dealt
	// out in file order, each share group its rounded count.
	var rest []string
	for _, h := range sorted {
		if _, ok := placed[h]; !ok {
			rest = append(rest, h)
		}
	}
	var shares []config.Group
	var percents []float64
	for _, g := range groups {
		if g.Share > 0 {
			shares = append(shares, g)
			percents = append(percents, g.Share)
		}
	}
	if len(shares) > 0 {
		slices.SortStableFunc(rest, func(a, b string) int { return cmp.Compare(HashPoint(a), HashPoint(b)) })
		lo := 0
		for j, hi := range ShareBounds(percents, len(rest)) {
			for _, h := range rest[lo:hi] {
				place(h, shares[j], RuleShare, fmt.Sprintf("%g%%", shares[j].Share))
				p := placed[h]
				p.Share, p.ShareCount, p.ShareOf = shares[j].Share, hi-lo, len(rest)
				placed[h] = p
			}
			lo = hi
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
