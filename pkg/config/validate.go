package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// crossCheck finds problems no single key shows: duplicate names, branch
// names git refuses or cannot hold together, and shares above 100%.
// prefixOK and devOK say the prefix and dev passed their own checks, so
// their faults are not reported again against every group.
func (d *decoder) crossCheck(c *Config, prefixOK, devOK bool) {
	rings := map[string]string{} // ring name -> key of its name
	for _, r := range c.Rings {
		if r.Name == "" {
			continue
		}
		if first, dup := rings[r.Name]; dup {
			d.addf(r.Key+".name", "ring %q is also defined at %s", r.Name, first)
			continue
		}
		rings[r.Name] = r.Key + ".name"
	}

	type branch struct{ name, key string }
	var branches []branch
	if devOK {
		branches = append(branches, branch{c.Dev, "dev"})
	}
	groups := map[string]string{} // group name -> key of its name
	var total float64
	shareReported := false
	for _, g := range c.Groups() {
		if g.Share > 0 {
			total += g.Share
			// Tolerate float rounding: 33.3 + 33.3 + 33.4 is 100.
			if total > 100+1e-9 && !shareReported {
				d.addf(g.Key+".share", "shares add up to %s%%, more than 100%%", strconv.FormatFloat(total, 'f', -1, 64))
				shareReported = true
			}
		}
		nameKey := g.Key + ".name"
		if g.Name == "" || d.has(nameKey) {
			continue
		}
		if first, dup := groups[g.Name]; dup {
			d.addf(nameKey, "group %q is also defined at %s (a ring with hosts or share is a group named like the ring)", g.Name, first)
			continue
		}
		groups[g.Name] = nameKey
		if !prefixOK {
			continue
		}
		if why := checkBranch(g.Branch); why != "" {
			d.addf(nameKey, "invalid branch name %q: %s", g.Branch, why)
			continue
		}
		if devOK && g.Branch == c.Dev {
			d.addf("dev", "dev branch %q is also the branch of group %q (%s)", c.Dev, g.Name, g.Key)
			continue
		}
		branches = append(branches, branch{g.Branch, nameKey})
	}
	// Git keeps refs/heads/a/b as a file under a directory refs/heads/a,
	// so branch a and branch a/b cannot both exist.
	for i, b := range branches {
		for _, a := range branches[:i] {
			if strings.HasPrefix(b.name, a.name+"/") || strings.HasPrefix(a.name, b.name+"/") {
				d.addf(b.key, "branch %q cannot exist next to branch %q of %s: git cannot hold a branch inside another", b.name, a.name, a.key)
				break
			}
		}
	}
}

// checkBranch applies git check-ref-format's rules to refs/heads/<b> and
// returns why b is not a valid branch name, or "".
func checkBranch(b string) string {
	switch {
	case b == "":
		return "empty"
	case b == "@":
		return `"@" alone is not allowed`
	case b == "HEAD":
		return `"HEAD" is not allowed`
	case strings.HasPrefix(b, "-"):
		return `starts with "-"`
	case strings.HasSuffix(b, "/"):
		return `ends with "/"`
	case strings.HasPrefix(b, "/"):
		return `starts with "/"`
	case strings.HasSuffix(b, "."):
		return `ends with "."`
	case strings.Contains(b, ".."):
		return `contains ".."`
	case strings.Contains(b, "//"):
		return `contains "//"`
	case strings.Contains(b, "@{"):
		return `contains "@{"`
	}
	for _, r := range b {
		switch {
		case r < 0x20 || r == 0x7f:
			return "contains a control character"
		case r == ' ':
			return "contains a space"
		case strings.ContainsRune(`~^:?*[\`, r):
			return fmt.Sprintf("contains %q", r)
		}
	}
	for _, comp := range strings.Split(b, "/") {
		if strings.HasPrefix(comp, ".") {
			return fmt.Sprintf("component %q starts with \".\"", comp)
		}
		if strings.HasSuffix(comp, ".lock") {
			return fmt.Sprintf("component %q ends with \".lock\"", comp)
		}
	}
	return ""
}

// parseDuration is time.ParseDuration plus the units d (24h) and w (7d),
// which operators write for soak times; "1w2d12h" mixes them freely.
func parseDuration(s string) (time.Duration, error) {
	orig := s
	s = strings.TrimSpace(s)
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "0" {
		return 0, nil
	}
	if s == "" {
		return 0, fmt.Errorf("invalid duration %q", orig)
	}
	var total time.Duration
	add := func(x float64) error {
		if x >= float64(math.MaxInt64-total) {
			return errors.New("duration out of range")
		}
		total += time.Duration(x)
		return nil
	}
	var rest strings.Builder
	for s != "" {
		i := 0
		for i < len(s) && (s[i] == '.' || '0' <= s[i] && s[i] <= '9') {
			i++
		}
		j := i
		for j < len(s) && s[j] != '.' && (s[j] < '0' || s[j] > '9') {
			j++
		}
		num, unit := s[:i], s[i:j]
		s = s[j:]
		if num == "" {
			return 0, fmt.Errorf("invalid duration %q", orig)
		}
		var per time.Duration
		switch unit {
		case "d":
			per = 24 * time.Hour
		case "w":
			per = 7 * 24 * time.Hour
		default:
			rest.WriteString(num + unit)
			continue
		}
		f, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q", orig)
		}
		if err := add(f * float64(per)); err != nil {
			return 0, err
		}
	}
	if rest.Len() > 0 {
		g, err := time.ParseDuration(rest.String())
		if err != nil {
			return 0, err
		}
		if total > math.MaxInt64-g {
			return 0, errors.New("duration out of range")
		}
		total += g
	}
	if neg {
		total = -total
	}
	return total, nil
}
