package flakelock

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Ref is a flake reference as recorded in a lock file's "locked" or
// "original" attributes.
type Ref struct {
	Type    string // github, gitlab, sourcehut, git, path, tarball, file, indirect, mercurial, or whatever the file says
	Owner   string // github, gitlab, sourcehut
	Repo    string // github, gitlab, sourcehut
	Host    string // github, gitlab, sourcehut: a self-hosted instance; "" = the public one
	URL     string // git, tarball, file, mercurial
	Ref     string // branch or tag (originals, git and mercurial locks)
	Rev     string // commit; "" for tarball, file and (most) path inputs
	NarHash string // SRI hash of the fetched tree, e.g. sha256-…=
	Path    string // path
	ID      string // indirect: the registry name, e.g. nixpkgs
	Dir     string // the flake's subdirectory ("dir")
	// LastModified is the commit or file time Nix recorded; zero when the
	// lock does not have one (path inputs, most originals).
	LastModified time.Time
	// Attrs is every attribute as it is in the file, including those above.
	Attrs map[string]any
}

// required string attributes per known type; Nix refuses a lock whose
// entries lack them, and without them the reference cannot be printed.
var requiredAttrs = map[string][]string{
	"github":    {"owner", "repo"},
	"gitlab":    {"owner", "repo"},
	"sourcehut": {"owner", "repo"},
	"git":       {"url"},
	"mercurial": {"url"},
	"tarball":   {"url"},
	"file":      {"url"},
	"path":      {"path"},
	"indirect":  {"id"},
}

// stringAttrs must be strings wherever they appear.
var stringAttrs = []string{"type", "owner", "repo", "host", "url", "ref", "rev", "narHash", "path", "id", "dir"}

func refFromAttrs(attrs map[string]any) (Ref, error) {
	if attrs == nil {
		return Ref{}, nil
	}
	str := func(k string) string { s, _ := attrs[k].(string); return s }
	for _, k := range stringAttrs {
		if v, ok := attrs[k]; ok {
			if _, isStr := v.(string); !isStr {
				return Ref{}, fmt.Errorf("%q is not a string", k)
			}
		}
	}
	if _, ok := attrs["type"]; !ok {
		return Ref{}, fmt.Errorf("\"type\" is missing")
	}
	r := Ref{
		Type: str("type"), Owner: str("owner"), Repo: str("repo"), Host: str("host"),
		URL: str("url"), Ref: str("ref"), Rev: str("rev"), NarHash: str("narHash"),
		Path: str("path"), ID: str("id"), Dir: str("dir"),
		Attrs: maps.Clone(attrs),
	}
	for _, k := range requiredAttrs[r.Type] {
		if _, ok := attrs[k]; !ok {
			return Ref{}, fmt.Errorf("%s input lacks %q", r.Type, k)
		}
	}
	if v, ok := attrs["lastModified"]; ok {
		n, isNum := v.(json.Number)
		if !isNum {
			return Ref{}, fmt.Errorf("\"lastModified\" is not a number")
		}
		secs, err := strconv.ParseInt(n.String(), 10, 64)
		if err != nil || secs < 0 {
			return Ref{}, fmt.Errorf("\"lastModified\" %s is not a non-negative number of seconds", n)
		}
		r.LastModified = time.Unix(secs, 0).UTC()
	}
	return r, nil
}

// IsZero reports whether r is the zero Ref (no reference: an added or
// removed input's missing side, or a follows).
func (r Ref) IsZero() bool { return r.Type == "" && r.Attrs == nil }

// Version identifies the version: the commit when there is one, else the
// NAR hash (tarballs and most paths have only that).
func (r Ref) Version() string {
	if r.Rev != "" {
		return r.Rev
	}
	return r.NarHash
}

// ShortRev abbreviates the version for people: the first 7 characters of
// the commit, as git does; without a commit, the first 7 characters of the
// NAR hash's digest (the part after "sha256-").
func (r Ref) ShortRev() string {
	if r.Rev != "" {
		return short(r.Rev)
	}
	h := r.NarHash
	if i := strings.IndexByte(h, '-'); i >= 0 {
		h = h[i+1:]
	}
	return short(h)
}

func short(s string) string {
	if len(s) > 7 {
		return s[:7]
	}
	return s
}

// String renders the reference the way Nix (2.21 and later) prints it in
// its lock file diff and `nix flake metadata`: github:owner/repo/<rev>?narHash=…,
// git+https://host/repo?ref=…&rev=…&shallow=1, https://…/x.tar.gz?narHash=…,
// path:./dir?lastModified=…&narHash=…, flake:id/ref/rev, hg+https://…?ref=…&rev=….
// Query parameters are sorted by name and percent-encoded like Nix does:
// everything but letters, digits, "-._~" and ":@/?" (so '+' becomes %2B
// and '=' %3D in a narHash, while '/' stays).
func (r Ref) String() string { return r.render(renderOpts{forgeNarHash: true, narHash: true}) }

// LegacyString renders the reference as Nix before 2.21 (and Lix) print
// it: github, gitlab and sourcehut references carry no narHash. The lock
// file does not record which Nix wrote it, so messages written by older
// Nix versions can only be matched with this form.
func (r Ref) LegacyString() string { return r.render(renderOpts{narHash: true}) }

// Short is the reference for a commit message: String without the
// narHash and with the commit cut to 7 characters. References without a
// commit keep their narHash, the only thing that tells versions apart.
func (r Ref) Short() string {
	return r.render(renderOpts{forgeNarHash: r.Rev == "", narHash: r.Rev == "", shortRev: true})
}

type renderOpts struct {
	forgeNarHash bool // narHash in github, gitlab and sourcehut references
	narHash      bool // narHash in the other references that print it
	shortRev     bool // commits cut to 7 characters
}

func (r Ref) render(o renderOpts) string {
	if r.IsZero() {
		return ""
	}
	narHash, shortRev := o.narHash, o.shortRev
	rev := r.Rev
	if shortRev {
		rev = short(rev)
	}
	var u nixURL
	switch r.Type {
	case "github", "gitlab", "sourcehut":
		u = nixURL{scheme: r.Type, path: []string{r.Owner, r.Repo}}
		// Lock entries have either a ref (originals) or a rev (locked);
		// Nix asserts that not both are set, and appends whichever it has.
		if r.Ref != "" {
			u.path = append(u.path, r.Ref)
		}
		if rev != "" {
			u.path = append(u.path, rev)
		}
		if o.forgeNarHash && r.NarHash != "" {
			u.set("narHash", r.NarHash)
		}
		if r.Host != "" {
			u.set("host", r.Host)
		}
	case "git", "mercurial":
		u = parseNixURL(r.URL)
		prefix := "git+"
		if r.Type == "mercurial" {
			prefix = "hg+"
		}
		if !(r.Type == "git" && u.scheme == "git") {
			u.scheme = prefix + u.scheme
		}
		if rev != "" {
			u.set("rev", rev)
		}
		if r.Ref != "" {
			u.set("ref", r.Ref)
		}
		if r.Type == "git" {
			// Git's toURL prints only these flags, and only when true;
			// revCount, lastModified and narHash never appear.
			for _, flag := range []string{"shallow", "lfs", "submodules", "exportIgnore", "verifyCommit"} {
				if b, _ := r.Attrs[flag].(bool); b {
					u.set(flag, "1")
				}
			}
			if k, ok := r.Attrs["publicKey"].(string); ok {
				kt, _ := r.Attrs["keytype"].(string)
				if kt == "" {
					kt = "ssh-ed25519"
				}
				u.set("keytype", kt)
				u.set("publicKey", k)
			} else if ks, ok := r.Attrs["publicKeys"].(string); ok {
				u.set("publicKeys", ks)
			}
		}
		// Nix's git and mercurial toURL print no narHash; we still keep
		// the identity visible when there is no commit at all.
		if shortRev && r.Rev == "" && r.NarHash != "" {
			u.set("narHash", r.NarHash)
		}
	case "tarball", "file":
		// Printed as the bare URL plus narHash (rev, revCount and
		// lastModified of FlakeHub tarballs are not shown).
		u = parseNixURL(r.URL)
		if narHash && r.NarHash != "" {
			u.set("narHash", r.NarHash)
		}
	case "path":
		// Path references print every other attribute as a query.
		u = nixURL{scheme: "path", path: strings.Split(r.Path, "/")}
		for k, v := range r.Attrs {
			switch k {
			case "path", "type", "__final":
				continue
			case "narHash":
				if !narHash {
					continue
				}
			case "rev":
				u.set(k, rev)
				continue
			}
			u.set(k, attrString(v))
		}
	case "indirect":
		path := r.ID
		if r.Ref != "" {
			path += "/" + r.Ref
		}
		if rev != "" {
			path += "/" + rev
		}
		u = nixURL{scheme: "flake", path: strings.Split(path, "/")}
	default:
		// Nix would refuse an unknown type. Print something stable that
		// keeps every attribute, so that different versions differ:
		// <type>:<url or path>?<the other attributes>.
		loc := r.URL
		if loc == "" {
			loc = r.Path
		}
		u = nixURL{scheme: r.Type, opaque: loc, opaqueSet: true}
		for k, v := range r.Attrs {
			switch k {
			case "type", "__final":
				continue
			case "url":
				if r.URL != "" {
					continue
				}
			case "path":
				if r.URL == "" {
					continue
				}
			case "narHash":
				if !narHash {
					continue
				}
			case "rev":
				u.set(k, rev)
				continue
			}
			u.set(k, attrString(v))
		}
	}
	if r.Dir != "" {
		u.set("dir", r.Dir)
	}
	return u.String()
}

// attrString is Nix's attrsToQuery: integers in decimal, Booleans as 1/0.
func attrString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case bool:
		if v {
			return "1"
		}
		return "0"
	case json.Number:
		return v.String()
	default:
		return fmt.Sprint(v)
	}
}

// CompareURL is a web page showing the commits between r and to: GitHub's
// https://github.com/owner/repo/compare/<old>...<new> for github inputs
// and git inputs hosted on github.com; GitLab's
// https://gitlab.com/owner/repo/-/compare/<old>...<new> for gitlab inputs
// (on their host= instance) and git inputs on gitlab.com. It is "" when
// either side has no commit, the commits are equal, or the two refer to
// different repositories or a forge without such a page.
func (r Ref) CompareURL(to Ref) string {
	a, b := r.forge(), to.forge()
	if a.kind == "" || r.Rev == "" || to.Rev == "" || r.Rev == to.Rev {
		return ""
	}
	if a.kind != b.kind || !strings.EqualFold(a.base, b.base) ||
		!strings.EqualFold(a.owner, b.owner) || !strings.EqualFold(a.repo, b.repo) {
		return ""
	}
	sep := "/compare/"
	if a.kind == "gitlab" {
		sep = "/-/compare/"
	}
	return a.base + "/" + a.owner + "/" + a.repo + sep + r.Rev + "..." + to.Rev
}

type forgeRepo struct{ kind, base, owner, repo string }

func (r Ref) forge() forgeRepo {
	switch r.Type {
	case "github", "gitlab":
		host := r.Host
		if host == "" {
			host = r.Type + ".com"
		}
		// GitLab subgroups are written group%2Fsub in the owner.
		owner, err := url.PathUnescape(r.Owner)
		if err != nil {
			owner = r.Owner
		}
		return forgeRepo{kind: r.Type, base: "https://" + host, owner: owner, repo: r.Repo}
	case "git":
		u, err := url.Parse(r.URL)
		if err != nil {
			return forgeRepo{}
		}
		var kind string
		switch strings.ToLower(u.Hostname()) {
		case "github.com":
			kind = "github"
		case "gitlab.com":
			kind = "gitlab"
		default:
			return forgeRepo{}
		}
		p := strings.Trim(u.Path, "/")
		p = strings.TrimSuffix(p, ".git")
		i := strings.LastIndexByte(p, '/')
		if i <= 0 || (kind == "github" && strings.Count(p, "/") != 1) {
			return forgeRepo{}
		}
		return forgeRepo{kind: kind, base: "https://" + strings.ToLower(u.Hostname()), owner: p[:i], repo: p[i+1:]}
	}
	return forgeRepo{}
}

// nixURL mirrors Nix's ParsedURL closely enough to print references the
// way Nix does: scheme, optional authority, path segments, sorted query.
type nixURL struct {
	scheme       string
	authority    string
	hasAuthority bool
	path         []string // decoded segments, joined with "/"
	opaque       string   // printed as is (unknown types only)
	opaqueSet    bool
	query        map[string]string
	fragment     string
}

func (u *nixURL) set(k, v string) {
	if u.query == nil {
		u.query = map[string]string{}
	}
	u.query[k] = v
}

// parseNixURL splits a URL like Nix's parseURL: the path and query are
// percent-decoded (a '+' stays a '+'), a query parameter without '=' is
// dropped, and the first of repeated parameters wins.
func parseNixURL(s string) nixURL {
	var u nixURL
	if i := strings.IndexByte(s, ':'); i > 0 && validScheme(s[:i]) {
		u.scheme, s = s[:i], s[i+1:]
	}
	if i := strings.IndexByte(s, '#'); i >= 0 {
		u.fragment = pctDecode(s[i+1:])
		s = s[:i]
	}
	rawQuery := ""
	if i := strings.IndexByte(s, '?'); i >= 0 {
		rawQuery, s = s[i+1:], s[:i]
	}
	if strings.HasPrefix(s, "//") {
		s = s[2:]
		i := strings.IndexByte(s, '/')
		if i < 0 {
			i = len(s)
		}
		u.authority, u.hasAuthority, s = s[:i], true, s[i:]
	}
	if s != "" {
		for seg := range strings.SplitSeq(s, "/") {
			u.path = append(u.path, pctDecode(seg))
		}
	}
	for kv := range strings.SplitSeq(rawQuery, "&") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		k = pctDecode(k)
		if _, dup := u.query[k]; dup {
			continue
		}
		u.set(k, pctDecode(v))
	}
	return u
}

func validScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return s != ""
}

func (u nixURL) String() string {
	var b strings.Builder
	b.WriteString(u.scheme)
	b.WriteByte(':')
	if u.hasAuthority {
		b.WriteString("//")
		b.WriteString(u.authority)
	}
	if u.opaqueSet {
		b.WriteString(pctEncode(u.opaque, ":@/?"))
	}
	for i, seg := range u.path {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(pctEncode(seg, ":@"))
	}
	if len(u.query) > 0 {
		b.WriteByte('?')
		for i, k := range sortedKeys(u.query) {
			if i > 0 {
				b.WriteByte('&')
			}
			b.WriteString(pctEncode(k, ":@/?"))
			b.WriteByte('=')
			b.WriteString(pctEncode(u.query[k], ":@/?"))
		}
	}
	if u.fragment != "" {
		b.WriteByte('#')
		b.WriteString(pctEncode(u.fragment, ""))
	}
	return b.String()
}

// pctEncode is Nix's percentEncode: RFC 3986 unreserved characters and
// those in keep stay, every other byte becomes %XX (upper case).
func pctEncode(s, keep string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("-._~", c) >= 0 || strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// pctDecode decodes %XX escapes; a malformed escape is kept literally
// rather than failing, since we only re-print what Nix already accepted.
func pctDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			v, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
			b.WriteByte(byte(v))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// Date is when the locked revision was made, as Nix recorded it
// (lastModified), for people; zero when the lock has no real time. Nix
// records a path input copied from the store with the store's mtime, 1
// second after the epoch: that is no date of the input's.
func (r Ref) Date() time.Time {
	if r.LastModified.Unix() <= 1 {
		return time.Time{}
	}
	return r.LastModified
}

// Where says what an input without a commit is, for people, since a
// fragment of its NAR hash alone says nothing: "path ./hosts/plex" (a
// sub-flake of the same repository is part of each commit), "tarball
// https://…/nixexprs.tar.xz". "" for an input locked at a commit.
func (r Ref) Where() string {
	if r.Rev != "" {
		return ""
	}
	switch {
	case r.Path != "":
		return r.Type + " " + r.Path
	case r.URL != "":
		return r.Type + " " + r.URL
	case r.Owner != "" && r.Repo != "":
		return r.Type + " " + r.Owner + "/" + r.Repo
	case r.ID != "":
		return r.Type + " " + r.ID
	}
	return r.Type
}
