package config

import (
	"fmt"
	"math"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ringflow/ringflow/pkg/suggest"
)

// The keys each mapping may hold, in the order they are checked, which is
// the order the spec writes them in.
var (
	topKeys    = []string{"repo", "remote", "flake-dir", "dev", "branch-prefix", "rings", "update", "build", "gates", "observe"}
	updateKeys = []string{"inputs", "author"}
	buildKeys  = []string{"attribute", "jobs", "builders", "cache", "nix-args", "eval-workers", "eval-memory", "timeout", "max-silent"}
	gatesKeys  = []string{"signed-by"}
	ringKeys   = []string{"name", "hosts", "share", "soak", "auto", "verify", "verify-timeout", "freeze", "converge", "max-unhealthy", "on-unhealthy", "pin", "groups"}
	groupKeys  = []string{"name", "hosts", "share", "pin"}
)

var (
	commitRE = regexp.MustCompile(`^[0-9a-fA-F]{4,40}$`)
	// No control characters: a newline would forge commit headers.
	authorRE = regexp.MustCompile(`^[^<>\x00-\x1f\x7f]*[^<>\s][^<>\x00-\x1f\x7f]* <[^<>\s]+>$`)
)

// decoder walks the settings map viper read, rather than letting
// mapstructure decode it, so each problem names its key in the file's
// own terms and all of them are reported at once.
type decoder struct {
	probs    []Problem
	src      map[string]string // key -> env variable or flag that set it
	literal  map[string]string // host name -> key of the hosts entry naming it first
	catchAll string            // key of the first bare "*" entry
	// converges holds the key of each ring that writes converge.
	converges map[string]bool
	// unhealthy holds each written max-unhealthy and on-unhealthy key.
	unhealthy map[string]bool
	file      string    // the file read; "" when none was found
	lines     lineIndex // where each key of file is written
}

func (d *decoder) addf(key, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	root, _, _ := strings.Cut(key, "[")
	if s, ok := d.src[root]; ok {
		// Not from the file: no position.
		d.probs = append(d.probs, Problem{Key: key, Message: msg + " (from " + s + ")"})
		return
	}
	d.probs = append(d.probs, Problem{Key: key, Message: msg, Pos: d.pos(key)})
}

// decode fills a Config from settings over Default. needRings is false
// when no file was found: commands that need rings report that later.
func (d *decoder) decode(settings map[string]any, needRings bool) *Config {
	c := Default()
	d.unknown("", settings, topKeys)
	if v, ok := settings["repo"]; ok {
		if s, ok := d.str("repo", v); ok {
			c.Repo = filepath.Clean(s)
		}
	}
	if v, ok := settings["remote"]; ok {
		if s, ok := d.str("remote", v); ok {
			// The name of a git remote, never a URL (whose password would
			// be shown back) nor anything git could take as an option.
			if s != "" && (strings.ContainsAny(s, ":@ \t\n\\") || strings.HasPrefix(s, "-")) {
				d.addf("remote", "want the name of a git remote such as origin (add a URL with `git remote add`), got %q", hidePassword(s))
			} else {
				c.Remote = s
			}
		}
	}
	if v, ok := settings["flake-dir"]; ok {
		if s, ok := d.str("flake-dir", v); ok {
			s = path.Clean(s)
			if path.IsAbs(s) || s == ".." || strings.HasPrefix(s, "../") {
				d.addf("flake-dir", "want a directory inside the repository, got %q", s)
			}
			c.FlakeDir = s
		}
	}
	devOK := true
	if v, ok := settings["dev"]; ok {
		if s, ok := d.str("dev", v); ok {
			c.Dev = s
		} else {
			devOK = false
		}
	}
	if devOK {
		if why := checkBranch(c.Dev); why != "" {
			d.addf("dev", "invalid branch name %q: %s", c.Dev, why)
			devOK = false
		}
	}
	prefixOK := true
	if v, ok := settings["branch-prefix"]; ok {
		if s, ok := d.str("branch-prefix", v); ok {
			c.BranchPrefix = s
			// A prefix can end in "/" and so is not a branch name itself;
			// check it as the start of one.
			if why := checkBranch(s + "x"); s != "" && why != "" {
				d.addf("branch-prefix", "%q cannot start a branch name: %s", s, why)
				prefixOK = false
			}
		} else {
			prefixOK = false
		}
	}

	if v, ok := settings["rings"]; ok {
		c.Rings = d.rings(v, c.BranchPrefix)
	} else if needRings {
		d.addf("rings", "at least one ring is required")
	}

	if m, ok := d.section(settings, "update", updateKeys); ok {
		if v, ok := m["inputs"]; ok {
			if l, ok := d.strList("update.inputs", v, "[nixpkgs]"); ok {
				for i, s := range l {
					if s == "" || strings.ContainsAny(s, " \t\n") {
						d.addf(fmt.Sprintf("update.inputs[%d]", i), "want an input name, got %q", s)
					}
				}
				c.Update.Inputs = l
			}
		}
		if v, ok := m["author"]; ok {
			if s, ok := d.str("update.author", v); ok {
				if !authorRE.MatchString(s) {
					d.addf("update.author", "want \"Name <email>\", got %q", s)
				}
				c.Update.Author = s
			}
		}
	}
	if m, ok := d.section(settings, "build", buildKeys); ok {
		if v, ok := m["attribute"]; ok {
			if s, ok := d.str("build.attribute", v); ok {
				if strings.TrimSpace(s) == "" {
					d.addf("build.attribute", "must not be empty")
				}
				c.Build.Attribute = s
			}
		}
		if v, ok := m["jobs"]; ok {
			// 0 is nix's "build nothing here": every build goes to
			// a remote builder (build.builders or nix.conf's).
			if s, ok := jobs(v, 0); ok {
				c.Build.Jobs = s
			} else {
				d.addf("build.jobs", "want auto or a number of jobs (0: build only on build.builders), got %s", show(v))
			}
		}
		if v, ok := m["builders"]; ok {
			if s, ok := d.str("build.builders", v); ok {
				c.Build.Builders = s
			}
		}
		if v, ok := m["cache"]; ok {
			if s, ok := d.str("build.cache", v); ok {
				c.Build.Cache = s
			}
		}
		if v, ok := m["nix-args"]; ok {
			if l, ok := d.strList("build.nix-args", v, "[--option, cores, \"4\"]"); ok {
				c.Build.NixArgs = l
			}
		}
		if v, ok := m["eval-workers"]; ok {
			if s, ok := jobs(v, 1); !ok {
				d.addf("build.eval-workers", "want auto or a positive integer, got %s", show(v))
			} else if s == "auto" {
				c.Build.EvalWorkers = 0
			} else {
				c.Build.EvalWorkers, _ = strconv.Atoi(s)
			}
		}
		if v, ok := m["eval-memory"]; ok {
			if n, ok := size(v); ok && n >= minEvalMemory {
				c.Build.EvalMemory = n
			} else {
				d.addf("build.eval-memory", "want a size of at least 64MiB such as 4GiB or 512MiB, got %s", show(v))
			}
		}
		if v, ok := m["timeout"]; ok {
			if b, ok := d.bound("build.timeout", v); ok {
				c.Build.Timeout = b
			}
		}
		if v, ok := m["max-silent"]; ok {
			if b, ok := d.bound("build.max-silent", v); ok {
				c.Build.MaxSilent = b
			}
		}
	}
	if m, ok := d.section(settings, "gates", gatesKeys); ok {
		if v, ok := m["signed-by"]; ok {
			if s, ok := d.str("gates.signed-by", v); ok {
				c.Gates.SignedBy = s // as written: relative to where ringflow runs
			}
		}
	}

	n := len(d.probs)
	c.Observe = d.observe(settings)
	d.crossObserve(c, c.Observe == nil && len(d.probs) > n)

	d.crossCheck(c, prefixOK, devOK)
	return c
}

// section returns the mapping under key, reporting its unknown keys. A
// missing section is fine.
func (d *decoder) section(settings map[string]any, key string, known []string) (map[string]any, bool) {
	v, ok := settings[key]
	if !ok {
		return nil, false
	}
	m, ok := v.(map[string]any)
	if !ok {
		d.addf(key, "want a mapping of %s, got %s", strings.Join(known, ", "), show(v))
		return nil, false
	}
	d.unknown(key+".", m, known)
	return m, true
}

// unknown reports keys of m that are not in known, in sorted order since
// the map has lost the file's.
func (d *decoder) unknown(prefix string, m map[string]any, known []string) {
	var bad []string
	for k := range m {
		if !contains(known, k) {
			bad = append(bad, k)
		}
	}
	sort.Strings(bad)
	for _, k := range bad {
		if s := suggest.Nearest(k, known); s != "" {
			d.addf(prefix+k, "unknown key (did you mean %s?)", s)
		} else {
			d.addf(prefix+k, "unknown key")
		}
	}
}

func (d *decoder) str(key string, v any) (string, bool) {
	s, ok := v.(string)
	if !ok {
		d.addf(key, "want a string, got %s", show(v))
	}
	return s, ok
}

// strList decodes a list of strings; example shows the list syntax in the
// message when v is not a list.
func (d *decoder) strList(key string, v any, example string) ([]string, bool) {
	l, ok := v.([]any)
	if !ok {
		if s, isStr := v.(string); isStr && s != "" && !strings.ContainsAny(s, " ,[]{}\"'") {
			example = "[" + s + "]"
		}
		d.addf(key, "want a list, e.g. %s", example)
		return nil, false
	}
	out := make([]string, 0, len(l))
	good := true
	for i, e := range l {
		s, ok := e.(string)
		if !ok {
			d.addf(fmt.Sprintf("%s[%d]", key, i), "want a string, got %s (quote it)", show(e))
			good = false
			continue
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		out = nil
	}
	return out, good
}

func (d *decoder) rings(v any, prefix string) []Ring {
	l, ok := v.([]any)
	if !ok {
		d.addf("rings", "want a list of rings, e.g. [{name: canary, hosts: [lab-1]}], got %s", show(v))
		return nil
	}
	if len(l) == 0 {
		d.addf("rings", "at least one ring is required")
		return nil
	}
	var rings []Ring
	for i, e := range l {
		key := fmt.Sprintf("rings[%d]", i)
		m, ok := e.(map[string]any)
		if !ok {
			d.addf(key, "want a mapping with a name, e.g. {name: canary, hosts: [lab-1]}, got %s", show(e))
			continue
		}
		rings = append(rings, d.ring(key, m, prefix))
	}
	return rings
}

func (d *decoder) ring(key string, m map[string]any, prefix string) Ring {
	r := Ring{Key: key}
	d.unknown(key+".", m, ringKeys)
	r.Name = d.name(key, m)
	if v, ok := m["soak"]; ok {
		r.Soak = d.soak(key+".soak", v)
	}
	if v, ok := m["auto"]; ok {
		if b, ok := v.(bool); ok {
			r.Auto = b
		} else {
			d.addf(key+".auto", "want true or false, got %s", show(v))
		}
	}
	d.verify(&r, key, m)
	if v, ok := m["converge"]; ok {
		d.converges[key] = true
		r.Converge = d.converge(key+".converge", v)
	}
	if v, ok := m["max-unhealthy"]; ok {
		d.unhealthy[key+".max-unhealthy"] = true
		r.MaxUnhealthy = d.tolerance(key+".max-unhealthy", v)
	}
	if v, ok := m["on-unhealthy"]; ok {
		d.unhealthy[key+".on-unhealthy"] = true
		r.OnUnhealthy = d.onUnhealthy(key+".on-unhealthy", v)
	}
	if v, ok := m["freeze"]; ok {
		r.Freeze = d.freeze(key+".freeze", v)
	}
	label := "ring"
	if r.Name != "" {
		label = fmt.Sprintf("ring %q", r.Name)
	}

	if gv, ok := m["groups"]; ok {
		for _, k := range []string{"hosts", "share", "pin"} {
			if _, ok := m[k]; ok {
				d.addf(key+"."+k, "not allowed next to groups: move it into one of the groups")
			}
		}
		gl, ok := gv.([]any)
		if !ok {
			d.addf(key+".groups", "want a list of groups, e.g. [{name: stable, hosts: [\"*\"]}], got %s", show(gv))
			return r
		}
		if len(gl) == 0 {
			d.addf(key, "%s has no groups", label)
		}
		for j, e := range gl {
			gkey := fmt.Sprintf("%s.groups[%d]", key, j)
			gm, ok := e.(map[string]any)
			if !ok {
				d.addf(gkey, "want a mapping with a name, e.g. {name: stable, hosts: [\"*\"]}, got %s", show(e))
				continue
			}
			d.unknown(gkey+".", gm, groupKeys)
			g := Group{Name: d.name(gkey, gm), Ring: r.Name, Key: gkey}
			g.Branch = prefix + g.Name
			glabel := "group"
			if g.Name != "" {
				glabel = fmt.Sprintf("group %q", g.Name)
			}
			d.members(&g, gkey, gm, glabel)
			r.Groups = append(r.Groups, g)
		}
		return r
	}

	_, hasHosts := m["hosts"]
	_, hasShare := m["share"]
	if !hasHosts && !hasShare {
		d.addf(key, "%s has no groups (give it hosts, share or groups)", label)
		return r
	}
	// The shorthand: the ring is one group of the same name.
	g := Group{Name: r.Name, Ring: r.Name, Branch: prefix + r.Name, Key: key}
	d.members(&g, key, m, label)
	r.Groups = []Group{g}
	return r
}

// name decodes the required name of a ring or group.
func (d *decoder) name(key string, m map[string]any) string {
	v, ok := m["name"]
	if !ok {
		d.addf(key+".name", "required")
		return ""
	}
	s, ok := d.str(key+".name", v)
	if ok && strings.TrimSpace(s) == "" {
		d.addf(key+".name", "required")
		return ""
	}
	return s
}

// members decodes hosts, share and pin of a group or shorthand ring.
func (d *decoder) members(g *Group, key string, m map[string]any, label string) {
	if v, ok := m["hosts"]; ok {
		d.hosts(g, key+".hosts", v)
	}
	if v, ok := m["share"]; ok {
		g.Share = d.share(key+".share", v)
	}
	if v, ok := m["pin"]; ok {
		g.Pin = d.pin(key+".pin", v)
		g.PinPos = d.pos(key + ".pin")
	}
	if len(g.Hosts) == 0 && g.Share == 0 && !d.has(key+".hosts") && !d.has(key+".share") {
		d.addf(key, "%s has no hosts and no share", label)
	}
}

// has says whether a problem was already reported at key or below it, so
// one mistake is not reported twice.
func (d *decoder) has(key string) bool {
	for _, p := range d.probs {
		if p.Key == key || strings.HasPrefix(p.Key, key+"[") || strings.HasPrefix(p.Key, key+".") {
			return true
		}
	}
	return false
}

func (d *decoder) hosts(g *Group, key string, v any) {
	l, ok := v.([]any)
	if !ok {
		ex := "[lab-1]"
		if s, isStr := v.(string); isStr && s != "" && !strings.ContainsAny(s, " ,[]{}\"'") {
			ex = "[" + s + "]"
			if isGlob(s) {
				ex = "[" + strconv.Quote(s) + "]"
			}
		}
		d.addf(key, "want a list, e.g. %s", ex)
		return
	}
	for i, e := range l {
		ekey := fmt.Sprintf("%s[%d]", key, i)
		s, ok := e.(string)
		if !ok {
			d.addf(ekey, "want a host name or glob, got %s (quote it)", show(e))
			continue
		}
		if strings.TrimSpace(s) == "" {
			d.addf(ekey, "empty host name")
			continue
		}
		switch {
		case s == "*":
			if d.catchAll != "" {
				d.addf(ekey, "a second catch-all \"*\": %s already takes every host nothing else takes", d.catchAll)
			} else {
				d.catchAll = ekey
			}
		case isGlob(s):
			if _, err := path.Match(s, ""); err != nil {
				d.addf(ekey, "bad glob %q: %v", s, err)
				continue
			}
		default:
			// Rule 1 of the spec: a host named in two groups has no group.
			if first, dup := d.literal[s]; dup {
				d.addf(ekey, "host %q is also named at %s", s, first)
			} else {
				d.literal[s] = ekey
			}
		}
		g.Hosts = append(g.Hosts, s)
		g.HostPos = append(g.HostPos, d.pos(ekey))
	}
}

// pos is where key is written in the file; no file when none was read.
func (d *decoder) pos(key string) Pos {
	if d.file == "" {
		return Pos{}
	}
	return Pos{File: d.file, Line: d.lines.line(key)}
}

// isGlob matches membership.IsGlob, which decides how a hosts entry is used.
func isGlob(s string) bool { return strings.ContainsAny(s, "*?[") }

func (d *decoder) share(key string, v any) float64 {
	var f float64
	switch x := v.(type) {
	case int, int64, uint64, float64:
		f, _ = number(x)
	case string:
		s := strings.TrimSpace(x)
		s = strings.TrimSpace(strings.TrimSuffix(s, "%"))
		var err error
		f, err = strconv.ParseFloat(s, 64)
		if err != nil {
			d.addf(key, "want a percentage, e.g. 20%%, got %s", show(v))
			return 0
		}
	default:
		d.addf(key, "want a percentage, e.g. 20%%, got %s", show(v))
		return 0
	}
	if math.IsNaN(f) || f <= 0 || f > 100 {
		d.addf(key, "want a percentage above 0 and at most 100, got %s", show(v))
		return 0
	}
	return f
}

func (d *decoder) pin(key string, v any) Pin {
	switch x := v.(type) {
	case bool:
		return Pin{Pinned: x}
	case string:
		if commitRE.MatchString(x) {
			return Pin{Pinned: true, Commit: x}
		}
		d.addf(key, "want true, false or a commit (4 to 40 hex digits), got %q", x)
	case int, int64, uint64, float64:
		// YAML reads an all-digit commit as a number and would lose
		// leading zeros; only quoting keeps it as written.
		d.addf(key, "quote the commit, e.g. pin: \"%v\"", x)
	default:
		d.addf(key, "want true, false or a commit (4 to 40 hex digits), got %s", show(v))
	}
	return Pin{}
}

func (d *decoder) soak(key string, v any) time.Duration {
	dur, ok := d.duration(key, v)
	if ok && dur < 0 {
		d.addf(key, "must not be negative, got %q", v)
		return 0
	}
	return dur
}

// duration decodes a duration written with units, d and w included.
func (d *decoder) duration(key string, v any) (time.Duration, bool) {
	switch x := v.(type) {
	case int, int64, uint64, float64:
		d.addf(key, "write a duration with a unit, e.g. 24h")
	case string:
		dur, err := parseDuration(x)
		_, isNum := strconv.ParseFloat(strings.TrimSpace(x), 64)
		switch {
		case err != nil && isNum == nil:
			d.addf(key, "write a duration with a unit, e.g. 24h")
		case err != nil:
			d.addf(key, "want a duration such as 90m, 24h or 3d, got %q", x)
		default:
			return dur, true
		}
	default:
		d.addf(key, "want a duration such as 90m, 24h or 3d, got %s", show(v))
	}
	return 0, false
}

// minEvalMemory is the least build.eval-memory: below it an evaluator
// would be replaced after every host, which only costs time.
const minEvalMemory = 64 << 20

// size reads a size in bytes: a plain number, or a number with one of the
// units K, M, G, T (and KiB…TiB), which count in 1024s, or KB, MB, GB, TB,
// which count in 1000s.
func size(v any) (int64, bool) {
	var s string
	switch x := v.(type) {
	case string:
		s = strings.TrimSpace(x)
	case int, int64, uint64:
		f, _ := number(x)
		return int64(f), f > 0
	default:
		return 0, false
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	mult := map[string]int64{"": 1, "B": 1,
		"K": 1 << 10, "KIB": 1 << 10, "M": 1 << 20, "MIB": 1 << 20, "G": 1 << 30, "GIB": 1 << 30, "T": 1 << 40, "TIB": 1 << 40,
		"KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}[strings.ToUpper(strings.TrimSpace(s[i:]))]
	if mult == 0 || n > (1<<62)/mult {
		return 0, false
	}
	return n * mult, true
}

// jobs accepts "auto" or an integer of at least `least`, as a YAML int or a
// string (env values are always strings).
func jobs(v any, least int) (string, bool) {
	switch x := v.(type) {
	case string:
		if x == "auto" {
			return x, true
		}
		n, err := strconv.Atoi(x)
		if err == nil && n >= least {
			return strconv.Itoa(n), true
		}
	case int, int64, uint64:
		if f, _ := number(x); f >= float64(least) {
			return fmt.Sprint(x), true
		}
	}
	return "", false
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// show renders a decoded YAML value for a message: strings quoted, so
// "yes" is visibly not the boolean yes.
func show(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	case nil:
		return "nothing"
	}
	return fmt.Sprint(v)
}

func contains(l []string, s string) bool {
	for _, e := range l {
		if e == s {
			return true
		}
	}
	return false
}

// hidePassword drops the password of a URL's user info, for messages.
func hidePassword(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s
	}
	authority, path, _ := strings.Cut(rest, "/")
	at := strings.LastIndex(authority, "@")
	if at < 0 {
		return s
	}
	user, _, _ := strings.Cut(authority[:at], ":")
	out := scheme + "://" + user + "@" + authority[at+1:]
	if path != "" || strings.Contains(rest, "/") {
		out += "/" + path
	}
	return out
}
