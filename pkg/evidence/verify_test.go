package evidence

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fakeStores knows which paths are valid here and in the cache.
type fakeStores struct {
	here, cache map[string]bool
	cacheErr    error
	askedCache  [][]string
}

func (f *fakeStores) ValidPaths(_ context.Context, paths []string) (map[string]bool, error) {
	v := map[string]bool{}
	for _, p := range paths {
		v[p] = f.here[p]
	}
	return v, nil
}

func (f *fakeStores) ValidPathsIn(_ context.Context, url string, paths []string) (map[string]bool, error) {
	f.askedCache = append(f.askedCache, paths)
	if f.cacheErr != nil {
		return nil, f.cacheErr
	}
	v := map[string]bool{}
	for _, p := range paths {
		v[p] = f.cache[p]
	}
	return v, nil
}

func green(host string) Host {
	return Host{Status: Green, Phase: PhaseBuild, Drv: "/nix/store/" + host + ".drv", Out: "/nix/store/" + host}
}

// Each way a green entry fails to count, and the entries that count:
// valid here, or in build.cache.
func TestVerifierUnverified(t *testing.T) {
	n := &Note{Commit: "c1", Hosts: map[string]Host{
		"here":     green("here"),
		"cached":   green("cached"),
		"nowhere":  green("nowhere"),
		"bare":     {Status: Green},                          // hand-written: {"status":"green"}
		"nodrv":    {Status: Green, Out: "/nix/store/nodrv"}, // half of it
		"otherdrv": green("otherdrv"),                        // the evaluation gives another drv
		"otherout": green("otherout"),                        // … or another output
		"red":      {Status: Red, Phase: PhaseBuild, Drv: "/nix/store/red.drv", Out: "/nix/store/red"},
	}}
	hosts := []string{"here", "cached", "nowhere", "bare", "nodrv", "otherdrv", "otherout", "red", "absent"}
	stores := &fakeStores{
		here:  map[string]bool{"/nix/store/here": true, "/nix/store/otherdrv": true, "/nix/store/otherout": true},
		cache: map[string]bool{"/nix/store/cached": true},
	}
	evaluated := map[string]Evaluated{
		"here":     {Drv: "/nix/store/here.drv", Out: "/nix/store/here"},
		"otherdrv": {Drv: "/nix/store/new.drv", Out: "/nix/store/otherdrv"},
		"otherout": {Drv: "/nix/store/otherout.drv", Out: "/nix/store/new"},
	}
	v := &Verifier{Stores: stores, Cache: "file:///cache"}
	why, err := v.Unverified(context.Background(), n, hosts, evaluated)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"nowhere":  "has out path /nix/store/nowhere, which is in no store (not here, not in build.cache file:///cache)",
		"bare":     "has no drv/out path",
		"nodrv":    "has no drv/out path",
		"otherdrv": "has drv /nix/store/otherdrv.drv, which differs from this evaluation's (/nix/store/new.drv)",
		"otherout": "has out path /nix/store/otherout, which differs from this evaluation's (/nix/store/new)",
	}
	if !reflect.DeepEqual(why, want) {
		t.Errorf("Unverified =\n %v\nwant\n %v", why, want)
	}
	// Only what is not here is asked of the cache.
	if want := [][]string{{"/nix/store/cached", "/nix/store/nowhere"}}; !reflect.DeepEqual(stores.askedCache, want) {
		t.Errorf("asked the cache for %v, want %v", stores.askedCache, want)
	}

	// No cache: an output that is not here is in no store.
	v.Cache = ""
	why, err = v.Unverified(context.Background(), n, []string{"here", "cached"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"cached": "has out path /nix/store/cached, which is in no store (not here, and build.cache is not set)"}; !reflect.DeepEqual(why, want) {
		t.Errorf("without a cache: %v, want %v", why, want)
	}

	// A cache that cannot be asked: unverified, saying so; not an error.
	v.Cache, stores.cacheErr = "ssh-ng://cache", errors.New("nix: checking store paths: nix-store: cannot open connection\nerror: unexpected end-of-file")
	why, err = v.Unverified(context.Background(), n, []string{"here", "cached"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := why["cached"]; !strings.Contains(got, "build.cache ssh-ng://cache could not be asked: error: unexpected end-of-file") || why["here"] != "" {
		t.Errorf("with a cache out of reach: %v", why)
	}
	if got := v.InCache(context.Background(), []string{"/nix/store/cached"}); got != nil {
		t.Errorf("InCache with a cache out of reach = %v, want none", got)
	}
}

// A note that is not ringflow's evidence counts as none: Get lists it and
// does not fail, and Record replaces it with a new notes commit on top, so
// the old note stays in the notes ref's history.
func TestMalformedNoteReadAndReplaced(t *testing.T) {
	for _, remote := range []string{"", "origin"} {
		t.Run("remote="+remote, func(t *testing.T) {
			clone, remoteDir, commit := repoPair(t)
			truncated := `{"commit":"` + commit + `","hosts":{"lab-1":{"status":"gr`
			gitOut(t, "-C", clone, "notes", "--ref", "ringflow/evidence", "add", "-m", truncated, commit)
			if remote != "" {
				gitOut(t, "-C", clone, "push", "-q", "origin", Ref)
			}
			s := store(t, clone, remote)
			ctx := context.Background()
			if err := s.Fetch(ctx); err != nil {
				t.Fatal(err)
			}
			n, err := s.Get(commit)
			if err != nil {
				t.Fatalf("Get of a malformed note: %v", err)
			}
			if len(n.Hosts) != 0 || len(n.Malformed) != 1 {
				t.Fatalf("Get = hosts %v, malformed %v; want none and one", n.Hosts, n.Malformed)
			}
			m := n.Malformed[0].String()
			if !strings.Contains(m, "the evidence note on "+commit[:12]+" in refs/notes/ringflow/evidence is not ringflow's evidence (not valid JSON: invalid character '\\n' in string literal at byte ") {
				t.Errorf("Malformed = %q", m)
			}
			if _, err := s.GreenDrvs(); err != nil {
				t.Errorf("GreenDrvs over a malformed note: %v", err)
			}

			if err := s.Record(ctx, commit, map[string]Host{"lab-1": green("lab-1")}); err != nil {
				t.Fatalf("Record over a malformed note: %v", err)
			}
			dirs := []string{clone}
			if remote != "" {
				dirs = append(dirs, remoteDir)
			}
			for _, dir := range dirs {
				now := gitOut(t, "-C", dir, "notes", "--ref", "ringflow/evidence", "show", commit)
				if _, err := Decode(commit, []byte(now)); err != nil || !strings.Contains(now, `"/nix/store/lab-1"`) {
					t.Errorf("%s: note after Record = %q (%v)", dir, now, err)
				}
				old := gitOut(t, "-C", dir, "notes", "--ref", Ref+"^", "show", commit)
				if strings.TrimSpace(old) != truncated {
					t.Errorf("%s: the malformed note is gone from the notes history: %q", dir, old)
				}
			}
			n, err = s.Get(commit)
			if err != nil || len(n.Malformed) != 0 || n.Hosts["lab-1"].Out != "/nix/store/lab-1" {
				t.Errorf("Get after Record = %+v, %v", n, err)
			}
		})
	}
}

// Green entries without their paths are no green derivations to reuse.
func TestGreenDrvsNeedPaths(t *testing.T) {
	clone, _, commit := repoPair(t)
	s := store(t, clone, "")
	now := time.Now()
	err := s.Record(context.Background(), commit, map[string]Host{
		"a": {Status: Green, Drv: "/nix/store/a.drv", Out: "/nix/store/a", Time: now},
		"b": {Status: Green, Drv: "/nix/store/b.drv", Time: now},
	})
	if err != nil {
		t.Fatal(err)
	}
	green, err := s.GreenDrvs()
	if err != nil || !reflect.DeepEqual(green, map[string]bool{"/nix/store/a.drv": true}) {
		t.Errorf("GreenDrvs = %v, %v", green, err)
	}
}

func TestMalformedReasons(t *testing.T) {
	for data, want := range map[string]string{
		`{"commit":"c1","hosts":{"a":{"sta`:                "cut short: unexpected end of JSON input",
		"{\"hosts\":\n":                                    "cut short: unexpected end of JSON input",
		`garbage`:                                          "not valid JSON: invalid character 'g' looking for beginning of value at byte 1",
		`{"hosts":[]}`:                                     "hosts is a JSON array, not ringflow's map[string]evidence.Host",
		`{"hosts":{"a":{"status":"yellow"}}}`:              `host "a" has status "yellow", want green or red`,
		`{"commit":"c2","hosts":{}}`:                       "it is the evidence of c2, not of this commit",
		`{"hosts":{"a":{"status":"green","seconds":"x"}}}`: "hosts.seconds is a JSON string, not ringflow's float64",
	} {
		_, err := Decode("c1", []byte(data))
		var m *MalformedError
		if !errors.As(err, &m) || m.Reason != want {
			t.Errorf("Decode(%q) = %v, want reason %q", data, err, want)
		}
	}
}
