package flakelock

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// SummaryMax is the longest subject line Summary writes: git's and most
// forges' conventional limit for a commit subject.
const SummaryMax = 72

const summaryPrefix = "flake.lock: update "

// Summary is the subject line of a lock update commit:
// "flake.lock: update nixpkgs, home-manager", top-level inputs first and
// nested ones by path after them. When the list does not fit in
// SummaryMax characters it ends in "and N more inputs" instead:
// "flake.lock: update nixpkgs, srvos and 7 more inputs".
func Summary(changes []Change) string {
	if len(changes) == 0 {
		return strings.TrimSpace(summaryPrefix)
	}
	names := make([]string, 0, len(changes))
	for _, c := range changes {
		if !strings.Contains(c.Path, "/") {
			names = append(names, c.Path)
		}
	}
	for _, c := range changes {
		if strings.Contains(c.Path, "/") {
			names = append(names, c.Path)
		}
	}
	if s := summaryPrefix + strings.Join(names, ", "); utf8.RuneCountInString(s) <= SummaryMax {
		return s
	}
	for k := len(names) - 1; k >= 1; k-- {
		rest := len(names) - k
		s := summaryPrefix + strings.Join(names[:k], ", ") + fmt.Sprintf(" and %d more %s", rest, plural(rest, "input", "inputs"))
		if utf8.RuneCountInString(s) <= SummaryMax {
			return s
		}
	}
	// Even one name is too long (a deeply nested path): just count.
	return summaryPrefix + fmt.Sprintf("%d %s", len(names), plural(len(names), "input", "inputs"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Body is the body of a lock update commit: one block per change, in the
// given order, modelled on Nix's own list but with short revisions, so that
// a person can read it:
//
//	$ git log -1 --format=%b
//	• Updated input 'nixpkgs':
//	    github:NixOS/nixpkgs/abc1234 (2026-08-06)
//	  → github:NixOS/nixpkgs/def5678 (2026-08-10)
//	    https://github.com/NixOS/nixpkgs/compare/<old>...<new>
//	• Added input 'srvos/nixpkgs': follows 'nixpkgs'
//	• Added input 'treefmt-nix':
//	    github:numtide/treefmt-nix/0123abc (2026-08-09)
//	• Removed input 'buildbot-nix/flake-parts'
//
// References are Ref.Short (no narHash, 7-character commits; references
// without a commit keep their narHash), dates are lastModified in UTC and
// left out when unknown, and the compare link (Ref.CompareURL, with full
// commits) appears when the forge has one.
func Body(changes []Change) string {
	var b strings.Builder
	for _, c := range changes {
		switch c.Kind {
		case Added:
			if c.ToFollows != nil {
				fmt.Fprintf(&b, "• Added input '%s': %s\n", c.Path, describeFollows(c.ToFollows))
				continue
			}
			fmt.Fprintf(&b, "• Added input '%s':\n    %s\n", c.Path, describeRef(c.To, c.To.Short()))
		case Removed:
			fmt.Fprintf(&b, "• Removed input '%s'\n", c.Path)
		default:
			from, to := c.From.Short(), c.To.Short()
			// When the short forms agree (same commit, other narHash or
			// flags), the full references show what changed.
			if from == to {
				from, to = c.From.String(), c.To.String()
			}
			fromS := describeRef(c.From, from)
			if c.FromFollows != nil {
				fromS = describeFollows(c.FromFollows)
			}
			toS := describeRef(c.To, to)
			if c.ToFollows != nil {
				toS = describeFollows(c.ToFollows)
			}
			fmt.Fprintf(&b, "• Updated input '%s':\n    %s\n  → %s\n", c.Path, fromS, toS)
			if u := c.From.CompareURL(c.To); u != "" {
				fmt.Fprintf(&b, "    %s\n", u)
			}
		}
	}
	return b.String()
}

func describeRef(r Ref, s string) string {
	if !r.LastModified.IsZero() {
		s += " (" + r.LastModified.UTC().Format("2006-01-02") + ")"
	}
	return s
}

func describeFollows(path []string) string {
	return "follows '" + strings.Join(path, "/") + "'"
}
