package flakelock

import (
	"reflect"
	"slices"
	"strings"
	"time"
)

// Kinds of Change.
const (
	Updated = "updated"
	Added   = "added"
	Removed = "removed"
)

// Change is one input that differs between two locks.
type Change struct {
	Path string // "nixpkgs", "srvos/nixpkgs"
	Kind string // Updated, Added or Removed
	// From and To are the locked references on either side; zero for the
	// missing side of an addition or removal and for a side that follows.
	From, To Ref
	// FromFollows and ToFollows are set (non-nil) when that side follows
	// another input; an empty, non-nil path follows the root flake.
	FromFollows, ToFollows []string
}

// Diff lists the inputs that differ between old and new, in Nix's order
// (by input path, element by element) and with Nix's judgement: an input
// is updated when any of its locked attributes changed (commit, narHash,
// lastModified, …), when it follows a different input, or when it turned
// from a locked node into a follows or back. Unchanged inputs are left out.
func Diff(old, new *Lock) ([]Change, error) {
	a, err := old.InputList()
	if err != nil {
		return nil, err
	}
	b, err := new.InputList()
	if err != nil {
		return nil, err
	}
	var out []Change
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j < len(b) && (i == len(a) || comparePaths(a[i].Path, b[j].Path) > 0):
			c := Change{Path: b[j].Path, Kind: Added}
			c.setTo(b[j])
			out = append(out, c)
			j++
		case i < len(a) && (j == len(b) || comparePaths(a[i].Path, b[j].Path) < 0):
			c := Change{Path: a[i].Path, Kind: Removed}
			c.setFrom(a[i])
			out = append(out, c)
			i++
		default:
			if !sameEdge(a[i], b[j]) {
				c := Change{Path: a[i].Path, Kind: Updated}
				c.setFrom(a[i])
				c.setTo(b[j])
				out = append(out, c)
			}
			i++
			j++
		}
	}
	return out, nil
}

func (c *Change) setFrom(in Input) {
	if in.IsFollows() {
		c.FromFollows = in.Follows
	} else {
		c.From = in.Locked
	}
}

func (c *Change) setTo(in Input) {
	if in.IsFollows() {
		c.ToFollows = in.Follows
	} else {
		c.To = in.Locked
	}
}

// sameEdge is Nix's equality of lock file edges: two locked nodes are equal
// when all their locked attributes are (the node keys do not matter), two
// follows when they follow the same path; a node never equals a follows.
func sameEdge(a, b Input) bool {
	if a.IsFollows() != b.IsFollows() {
		return false
	}
	if a.IsFollows() {
		return slices.Equal(a.Follows, b.Follows)
	}
	return reflect.DeepEqual(a.Locked.Attrs, b.Locked.Attrs)
}

// InputJSON is the "INPUT" object of ringflow's JSON output (`update`, `diff`).
type InputJSON struct {
	Name     string `json:"name"`      // "nixpkgs", "srvos/nixpkgs"
	Change   string `json:"change"`    // updated, added, removed
	From     string `json:"from"`      // the old revision (commit, else narHash), or the path it followed; "" when added
	To       string `json:"to"`        // likewise for the new side; "" when removed
	FromDate string `json:"from_date"` // RFC 3339 (UTC) of the old lastModified; "" when unknown
	ToDate   string `json:"to_date"`
}

// JSON is the change in the shape of the SPEC's INPUT object.
func (c Change) JSON() InputJSON {
	j := InputJSON{Name: c.Path, Change: c.Kind}
	j.From, j.FromDate = sideJSON(c.From, c.FromFollows)
	j.To, j.ToDate = sideJSON(c.To, c.ToFollows)
	return j
}

func sideJSON(r Ref, follows []string) (rev, date string) {
	if follows != nil {
		return strings.Join(follows, "/"), ""
	}
	return r.Version(), rfc3339(r.LastModified)
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
