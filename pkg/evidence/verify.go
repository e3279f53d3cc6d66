package evidence

import (
	"context"
	"fmt"
	"strings"
)

// What counts as built. A green entry is a claim that a host's toplevel
// was built; ringflow trusts it only as far as it can check it: the entry
// must name the derivation and its output, the derivation must be the one
// this evaluation gives where one is at hand, and the output must be valid
// in this machine's store or in build.cache. Anything else — a note written
// by hand, an output garbage-collected everywhere, a derivation of another
// evaluation — counts as unbuilt, and the gate says why.

// MalformedError is a note that is not ringflow's evidence: not JSON, cut
// short, a host with an unknown status, or another commit's note.
type MalformedError struct {
	Commit string
	Reason string
}

func (e *MalformedError) Error() string {
	return fmt.Sprintf("evidence: note on %s is not ringflow evidence: %s", e.Commit, e.Reason)
}

// Malformed is a note that is not ringflow's evidence, and where it is.
type Malformed struct {
	Commit string
	// Remote is the remote whose copy of the notes ref holds it; "" for
	// the local refs/notes/ringflow/evidence (which the remote's may hold
	// too).
	Remote string
	Reason string
}

// String names the note: "the evidence note on 3f2a9c1e0d4b in
// refs/notes/ringflow/evidence is not ringflow's evidence (unexpected end
// of JSON input)".
func (m Malformed) String() string {
	where := Ref
	if m.Remote != "" {
		where = "remote " + m.Remote + "'s " + Ref
	}
	return fmt.Sprintf("the evidence note on %s in %s is not ringflow's evidence (%s)", short(m.Commit), where, m.Reason)
}

// HasPaths says whether the entry names its derivation and output: without
// them nothing shows that it was built.
func (h Host) HasPaths() bool { return h.Drv != "" && h.Out != "" }

// Why a green entry does not count as built (Verifier.Unverified).
const (
	NoPaths = "has no drv/out path"
)

// Evaluated is what evaluating a host gave: its derivation and output.
type Evaluated struct{ Drv, Out string }

// Stores says which output paths are valid in this machine's store and in
// another store (*nix.Nix).
type Stores interface {
	ValidPaths(ctx context.Context, paths []string) (map[string]bool, error)
	ValidPathsIn(ctx context.Context, storeURL string, paths []string) (map[string]bool, error)
}

// Verifier tells which green entries count as built.
type Verifier struct {
	Stores Stores
	Cache  string // build.cache; "" = none
}

// Unverified returns, for each of hosts that is green in n but whose entry
// does not count as built, why not (the words follow "evidence of HOST at
// COMMIT": "has no drv/out path", "has out path …, which is in no store
// (…)"). evaluated, when given, maps hosts to what this run's evaluation
// gives them: an entry naming another derivation or output does not count. Only
// outputs not valid here are asked of build.cache; a cache that cannot be
// asked leaves those entries unverified, saying so, rather than failing:
// the local store is the only one that has to answer.
func (v *Verifier) Unverified(ctx context.Context, n *Note, hosts []string, evaluated map[string]Evaluated) (map[string]string, error) {
	why := map[string]string{}
	var check []string // hosts whose output is to be looked for
	var outs []string
	for _, h := range hosts {
		e, ok := n.Hosts[h]
		switch {
		case !ok || e.Status != Green:
		case !e.HasPaths():
			why[h] = NoPaths
		case evaluated[h].Drv != "" && evaluated[h].Drv != e.Drv:
			why[h] = fmt.Sprintf("has drv %s, which differs from this evaluation's (%s)", e.Drv, evaluated[h].Drv)
		case evaluated[h].Out != "" && evaluated[h].Out != e.Out:
			why[h] = fmt.Sprintf("has out path %s, which differs from this evaluation's (%s)", e.Out, evaluated[h].Out)
		default:
			check = append(check, h)
			outs = append(outs, e.Out)
		}
	}
	if len(check) == 0 {
		return why, nil
	}
	here, err := v.Stores.ValidPaths(ctx, outs)
	if err != nil {
		return nil, err
	}
	var away []string
	for _, o := range outs {
		if !here[o] {
			away = append(away, o)
		}
	}
	var cached map[string]bool
	var cacheErr error
	if len(away) > 0 && v.Cache != "" {
		cached, cacheErr = v.Stores.ValidPathsIn(ctx, v.Cache, away)
	}
	for _, h := range check {
		out := n.Hosts[h].Out
		switch {
		case here[out], cached[out]:
		case v.Cache == "":
			why[h] = fmt.Sprintf("has out path %s, which is in no store (not here, and build.cache is not set)", out)
		case cacheErr != nil:
			why[h] = fmt.Sprintf("has out path %s, which is not here, and build.cache %s could not be asked: %s", out, v.Cache, lastLine(cacheErr.Error()))
		default:
			why[h] = fmt.Sprintf("has out path %s, which is in no store (not here, not in build.cache %s)", out, v.Cache)
		}
	}
	return why, nil
}

// InCache says which of outs, not valid here, are valid in build.cache;
// none when no cache is set or it cannot be asked.
func (v *Verifier) InCache(ctx context.Context, outs []string) map[string]bool {
	if v.Cache == "" || len(outs) == 0 {
		return nil
	}
	cached, err := v.Stores.ValidPathsIn(ctx, v.Cache, outs)
	if err != nil {
		return nil
	}
	return cached
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return strings.TrimSpace(s[i+1:])
	}
	return s
}

func short(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}
