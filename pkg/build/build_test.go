package build

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ringflow/ringflow/pkg/evidence"
	"github.com/ringflow/ringflow/pkg/nix"
)

func outcomes(rep *Report) map[string]HostOutcome {
	m := map[string]HostOutcome{}
	for _, h := range rep.Hosts {
		m[h.Host] = h
	}
	return m
}

// A host green in the note is evaluated and, its entry standing up to the
// evaluation (same drv and out, the output valid), reused as recorded:
// nothing built or recorded for it. Red ones are tried again.
func TestRunReusesGreenNote(t *testing.T) {
	f := newFakes("b", "a")
	f.evidence.notes = map[string]map[string]evidence.Host{"c1": {
		"a": {Status: evidence.Green, Phase: evidence.PhaseBuild, Drv: "/nix/store/a.drv", Out: "/nix/store/a", Builder: "ssh-ng://elsewhere"},
		"b": {Status: evidence.Red, Phase: evidence.PhaseEval, Error: "error: once"},
	}}
	f.nix.valid = map[string]bool{"/nix/store/a": true}
	rep, err := f.builder.Run(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := [][]string{{"a", "b"}}; !reflect.DeepEqual(f.nix.evaluated, want) {
		t.Errorf("evaluated %v, want %v", f.nix.evaluated, want)
	}
	want := []HostOutcome{
		{Host: "a", Status: evidence.Green, Phase: evidence.PhaseBuild, Drv: "/nix/store/a.drv", Out: "/nix/store/a", Seconds: 1, EvalSeconds: 1, Reused: true},
		{Host: "b", Status: evidence.Green, Phase: evidence.PhaseBuild, Drv: "/nix/store/b.drv", Out: "/nix/store/b", Seconds: 1 + buildSeconds, EvalSeconds: 1, BuildSeconds: buildSeconds, Builder: nix.LocalBuilder},
	}
	if !reflect.DeepEqual(rep.Hosts, want) {
		t.Errorf("hosts %+v, want %+v", rep.Hosts, want)
	}
	if want := [][]nix.DrvOut{{{Drv: "/nix/store/b.drv", Out: "/nix/store/b"}}}; !reflect.DeepEqual(f.nix.realised, want) {
		t.Errorf("realised %v, want b alone", f.nix.realised)
	}
	if _, again := f.evidence.recorded["c1"]["a"]; again || len(f.evidence.recorded["c1"]) != 1 {
		t.Errorf("recorded %v, want b alone", f.evidence.recorded["c1"])
	}
}

// Every host green in the note, every entry standing: evaluated, but
// nothing built or recorded.
func TestRunAllGreenInNote(t *testing.T) {
	f := newFakes("a")
	f.evidence.notes = map[string]map[string]evidence.Host{"c1": {"a": {Status: evidence.Green, Phase: evidence.PhaseBuild, Drv: "/nix/store/a.drv", Out: "/nix/store/a"}}}
	f.nix.valid = map[string]bool{"/nix/store/a": true}
	rep, err := f.builder.Run(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f.nix.realised != nil || f.evidence.recorded != nil || len(f.nix.evaluated) != 1 {
		t.Errorf("evaluated %v, realised %v, recorded %v; want one evaluation and nothing else", f.nix.evaluated, f.nix.realised, f.evidence.recorded)
	}
	if len(rep.Hosts) != 1 || !rep.Hosts[0].Reused || len(rep.Red()) != 0 || rep.Replaced != nil {
		t.Errorf("report %+v", rep)
	}
}

// Finding 2 of issue 14: a green entry that cannot be checked is no
// evidence. Its host is built, never reported reused — even when its
// output happens to be valid here — and its entry is replaced by a fresh
// one saying why the old one did not count.
func TestRunRebuildsEvidenceThatCannotBeChecked(t *testing.T) {
	f := newFakes("bare", "bare-valid", "nostore", "otherdrv", "cached", "ok")
	f.builder.Settings.Cache = "file:///cache"
	good := func(h string) evidence.Host {
		he := drvOf(h)
		return evidence.Host{Status: evidence.Green, Phase: evidence.PhaseBuild, Drv: he.Drv, Out: he.Out}
	}
	other := good("otherdrv")
	other.Drv = "/nix/store/another-evaluation.drv"
	f.evidence.notes = map[string]map[string]evidence.Host{"c1": {
		"bare":       {Status: evidence.Green}, // {"status":"green"}, by hand
		"bare-valid": {Status: evidence.Green},
		"nostore":    good("nostore"),
		"otherdrv":   other,
		"cached":     good("cached"),
		"ok":         good("ok"),
	}}
	f.nix.valid = map[string]bool{"/nix/store/bare-valid": true, "/nix/store/otherdrv": true, "/nix/store/ok": true}
	f.nix.cache = map[string]bool{"/nix/store/cached": true}
	rep, err := f.builder.Run(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := outcomes(rep)
	for h, why := range map[string]string{
		"bare":       "has no drv/out path",
		"bare-valid": "has no drv/out path",
		"nostore":    "has out path /nix/store/nostore, which is in no store (not here, not in build.cache file:///cache)",
		"otherdrv":   "has drv /nix/store/another-evaluation.drv, which differs from this evaluation's (/nix/store/otherdrv.drv)",
	} {
		oc := got[h]
		if oc.Reused || oc.Status != evidence.Green || oc.Unverified != why || oc.Drv != "/nix/store/"+h+".drv" || oc.Out != "/nix/store/"+h {
			t.Errorf("%s = %+v, want built green, unverified %q", h, oc, why)
		}
		rec, ok := f.evidence.recorded["c1"][h]
		if !ok || rec.Reused || rec.Drv != oc.Drv || rec.Out != oc.Out {
			t.Errorf("recorded %s = %+v (%v), want a fresh entry with its paths", h, rec, ok)
		}
	}
	for _, h := range []string{"cached", "ok"} {
		if oc := got[h]; !oc.Reused || oc.Unverified != "" {
			t.Errorf("%s = %+v, want reused", h, oc)
		}
		if _, again := f.evidence.recorded["c1"][h]; again {
			t.Errorf("%s recorded again, though its entry stands", h)
		}
	}
	var built []string
	for _, round := range f.nix.realised {
		for _, d := range round {
			built = append(built, d.Drv)
		}
	}
	slices.Sort(built)
	if want := []string{"/nix/store/bare-valid.drv", "/nix/store/bare.drv", "/nix/store/nostore.drv", "/nix/store/otherdrv.drv"}; !slices.Equal(built, want) {
		t.Errorf("realised %v, want %v", built, want)
	}
}

// Finding 5 of issue 14: a note that is not ringflow's evidence is no
// error. Every host is built, and the report names the note this build's
// replaces.
func TestRunReplacesMalformedNote(t *testing.T) {
	f := newFakes("a", "b")
	f.evidence.malformed = map[string][]evidence.Malformed{"c1": {{Commit: "c1", Reason: "cut short: unexpected end of JSON input"}}}
	rep, err := f.builder.Run(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.evidence.recorded["c1"]) != 2 || len(f.nix.realised) != 1 || len(f.nix.realised[0]) != 2 {
		t.Errorf("recorded %v, realised %v; want both hosts built and recorded", f.evidence.recorded, f.nix.realised)
	}
	want := []string{"the evidence note on c1 in refs/notes/ringflow/evidence is not ringflow's evidence (cut short: unexpected end of JSON input)"}
	if !reflect.DeepEqual(rep.Replaced, want) {
		t.Errorf("replaced %q, want %q", rep.Replaced, want)
	}
}

// A host that fails to evaluate is red in phase eval; the others build.
func TestRunEvalFailure(t *testing.T) {
	f := newFakes("a", "b")
	f.nix.evals = map[string]nix.HostEval{"b": {Err: "error: boom", Seconds: 0.5}}
	rep, err := f.builder.Run(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := outcomes(rep)
	if want := (HostOutcome{Host: "b", Status: evidence.Red, Phase: evidence.PhaseEval, Seconds: 0.5, EvalSeconds: 0.5, Error: "error: boom"}); got["b"] != want {
		t.Errorf("b = %+v, want %+v", got["b"], want)
	}
	if got["a"].Status != evidence.Green {
		t.Errorf("a = %+v, want green", got["a"])
	}
	if want := [][]nix.DrvOut{{{Drv: "/nix/store/a.drv", Out: "/nix/store/a"}}}; !reflect.DeepEqual(f.nix.realised, want) {
		t.Errorf("realised %v, want %v", f.nix.realised, want)
	}
	if red := rep.Red(); len(red) != 1 || red[0].Host != "b" {
		t.Errorf("red %+v, want b", red)
	}
	if rec := f.evidence.recorded["c1"]["b"]; rec.Status != evidence.Red || rec.Phase != evidence.PhaseEval || rec.Error != "error: boom" {
		t.Errorf("recorded b = %+v", rec)
	}
}

// An output already in the store, or a derivation green at any commit
// whose output is in build.cache, is reused and not realised. Without a
// cache, a derivation green elsewhere whose output is not here is built:
// its evidence would name an output in no store.
func TestRunReusesValidOutputOrGreenDrv(t *testing.T) {
	f := newFakes("a", "b", "c", "d")
	f.builder.Settings.Cache = "s3://cache"
	f.nix.valid = map[string]bool{"/nix/store/a": true}
	f.evidence.green = map[string]bool{"/nix/store/b.drv": true, "/nix/store/d.drv": true}
	f.nix.cache = map[string]bool{"/nix/store/b": true}
	rep, err := f.builder.Run(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := [][]nix.DrvOut{{{Drv: "/nix/store/c.drv", Out: "/nix/store/c"}, {Drv: "/nix/store/d.drv", Out: "/nix/store/d"}}}; !reflect.DeepEqual(f.nix.realised, want) {
		t.Errorf("realised %v, want c and d", f.nix.realised)
	}
	got := outcomes(rep)
	for _, h := range []string{"a", "b"} {
		want := HostOutcome{Host: h, Status: evidence.Green, Phase: evidence.PhaseBuild, Drv: "/nix/store/" + h + ".drv", Out: "/nix/store/" + h, Seconds: 1, EvalSeconds: 1, Reused: true}
		if got[h] != want {
			t.Errorf("%s = %+v, want %+v", h, got[h], want)
		}
		if !f.evidence.recorded["c1"][h].Reused {
			t.Errorf("recorded %s not reused: %+v", h, f.evidence.recorded["c1"][h])
		}
	}
	if c := f.evidence.recorded["c1"]["b"].Cache; c != "s3://cache" {
		t.Errorf("b, reused from the cache, recorded with cache %q", c)
	}
	if got["c"].Reused || got["d"].Reused {
		t.Errorf("c = %+v, d = %+v, want built", got["c"], got["d"])
	}
	// Only derivations green before are looked for in the cache.
	if want := [][]string{{"/nix/store/b", "/nix/store/d"}}; !reflect.DeepEqual(f.nix.cacheAsked, want) {
		t.Errorf("asked the cache for %v, want %v", f.nix.cacheAsked, want)
	}

	// No cache: b is built too.
	f = newFakes("b")
	f.evidence.green = map[string]bool{"/nix/store/b.drv": true}
	if rep, err = f.builder.Run(context.Background(), Options{}); err != nil || rep.Hosts[0].Reused || len(f.nix.realised) != 1 {
		t.Errorf("without a cache: %+v, %v, realised %v", rep, err, f.nix.realised)
	}
}

// Hosts sharing a derivation build it once and share its outcome: in one
// realise round when both were evaluated by then, else the later host finds
// the output valid (reused). Which happens depends on when the first round
// starts, so either is right; building it twice is not.
func TestRunSharedDerivationRealisedOnce(t *testing.T) {
	f := newFakes("a", "b")
	same := nix.HostEval{Drv: "/nix/store/same.drv", Out: "/nix/store/same", Seconds: 1}
	f.nix.evals = map[string]nix.HostEval{"a": same, "b": same}
	rep, err := f.builder.Run(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var realised []nix.DrvOut
	for _, round := range f.nix.realised {
		realised = append(realised, round...)
	}
	if want := []nix.DrvOut{{Drv: same.Drv, Out: same.Out}}; !reflect.DeepEqual(realised, want) {
		t.Errorf("realised %v, want one derivation once", f.nix.realised)
	}
	for _, h := range rep.Hosts {
		built := !h.Reused && h.Seconds == 1+buildSeconds
		reused := h.Reused && h.Host == "b" && h.Seconds == 1
		if h.Status != evidence.Green || h.Drv != same.Drv || (!built && !reused) {
			t.Errorf("%s = %+v", h.Host, h)
		}
	}
}

// A failed realisation makes its hosts red in phase build, with nix's error.
func TestRunBuildFailure(t *testing.T) {
	f := newFakes("a", "b", "c")
	same := nix.HostEval{Drv: "/nix/store/bad.drv", Out: "/nix/store/bad", Seconds: 1}
	f.nix.evals = map[string]nix.HostEval{"a": same, "b": same}
	f.nix.fail = map[string]string{same.Drv: "builder for bad.drv failed\nlast log line"}
	rep, err := f.builder.Run(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := outcomes(rep)
	for _, h := range []string{"a", "b"} {
		want := HostOutcome{Host: h, Status: evidence.Red, Phase: evidence.PhaseBuild, Drv: same.Drv, Out: same.Out,
			Seconds: 1 + buildSeconds, EvalSeconds: 1, BuildSeconds: buildSeconds, Builder: nix.LocalBuilder, Error: "builder for bad.drv failed\nlast log line"}
		if got[h] != want {
			t.Errorf("%s = %+v, want %+v", h, got[h], want)
		}
		if rec := f.evidence.recorded["c1"][h]; rec.Status != evidence.Red || rec.Error != want.Error {
			t.Errorf("recorded %s = %+v", h, rec)
		}
	}
	if got["c"].Status != evidence.Green {
		t.Errorf("c = %+v, want green", got["c"])
	}
}

// --host patterns select by name or glob; one that matches nothing, or is
// no glob at all, is an UnknownHostPatternError and nothing is evaluated.
func TestRunHostPatterns(t *testing.T) {
	tests := []struct {
		patterns []string
		want     []string
		badGlob  string // the pattern an UnknownHostPatternError names
		malform  bool   // ... because it is not a glob
	}{
		{patterns: nil, want: []string{"db-1", "lab[1]", "web-1", "web-2"}},
		{patterns: []string{"web-*"}, want: []string{"web-1", "web-2"}},
		{patterns: []string{"web-2", "db-?"}, want: []string{"db-1", "web-2"}},
		{patterns: []string{"lab[1]"}, want: []string{"lab[1]"}}, // a name, though it looks like a class
		{patterns: []string{"web-*", "mail-*"}, badGlob: "mail-*"},
		{patterns: []string{"web-["}, badGlob: "web-[", malform: true},
	}
	for _, tt := range tests {
		f := newFakes("web-2", "web-1", "db-1", "lab[1]")
		rep, err := f.builder.Run(context.Background(), Options{Patterns: tt.patterns})
		if tt.badGlob == "" {
			if err != nil {
				t.Fatalf("%q: %v", tt.patterns, err)
			}
			var names []string
			for _, h := range rep.Hosts {
				names = append(names, h.Host)
			}
			if !slices.Equal(names, tt.want) {
				t.Errorf("%q: hosts %v, want %v", tt.patterns, names, tt.want)
			}
			continue
		}
		var unknown *UnknownHostPatternError
		if !errors.As(err, &unknown) || unknown.Pattern != tt.badGlob || unknown.Commit != "c1" || (unknown.Err != nil) != tt.malform {
			t.Errorf("%q: err = %#v, want an UnknownHostPatternError for %q (malformed %v)", tt.patterns, err, tt.badGlob, tt.malform)
		}
		if f.nix.evaluated != nil {
			t.Errorf("%q: evaluated %v after a bad pattern", tt.patterns, f.nix.evaluated)
		}
	}
}

// Fresh outcomes are recorded at the commit with the clock's time in UTC
// and the Nix that judged them.
func TestRunRecordsFreshEvidence(t *testing.T) {
	f := newFakes("a")
	rep, err := f.builder.Run(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := evidence.Host{Status: evidence.Green, Phase: evidence.PhaseBuild, Drv: "/nix/store/a.drv", Out: "/nix/store/a",
		Seconds: 1 + buildSeconds, EvalSeconds: 1, BuildSeconds: buildSeconds, Builder: nix.LocalBuilder, Nix: "nix 2.8.0", Time: clockTime.UTC()}
	got := f.evidence.recorded["c1"]["a"]
	if !reflect.DeepEqual(got, want) || got.Time.Location() != time.UTC {
		t.Errorf("recorded %+v, want %+v", got, want)
	}
	if rep.Commit != "c1" || rep.Nix != "nix 2.8.0" {
		t.Errorf("report commit %q nix %q", rep.Commit, rep.Nix)
	}
}

// Where nix built each toplevel is in the report and the evidence: a remote
// builder's store URI, "local", and nothing for a host not built.
func TestRunRecordsWhereBuilt(t *testing.T) {
	f := newFakes("a", "b", "c")
	f.nix.builtOn = map[string]string{"/nix/store/a.drv": "ssh-ng://builder"}
	f.nix.valid = map[string]bool{"/nix/store/c": true}
	rep, err := f.builder.Run(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "ssh-ng://builder", "b": nix.LocalBuilder, "c": ""}
	for _, h := range rep.Hosts {
		if h.Builder != want[h.Host] {
			t.Errorf("report: %s built on %q, want %q", h.Host, h.Builder, want[h.Host])
		}
		if h.BuiltRemotely() != (h.Host == "a") {
			t.Errorf("report: %s BuiltRemotely = %v", h.Host, h.BuiltRemotely())
		}
		if got := f.evidence.recorded["c1"][h.Host].Builder; got != want[h.Host] {
			t.Errorf("evidence: %s built on %q, want %q", h.Host, got, want[h.Host])
		}
	}
}

// REV picks the commit: dev's head by default, else what Resolve says,
// after the sync.
func TestRunRev(t *testing.T) {
	f := newFakes("a")
	f.target.revs = map[string]string{"canary": "c0"}
	rep, err := f.builder.Run(context.Background(), Options{Rev: "canary"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.evidence.recorded["c0"]; rep.Commit != "c0" || !ok {
		t.Errorf("commit %q, recorded %v; want c0", rep.Commit, f.evidence.recorded)
	}
}

// With a cache, green outputs in the store are copied and their evidence
// names the cache; outputs not in the store, and red hosts, are not.
func TestRunCopiesToCache(t *testing.T) {
	f := newFakes("built", "valid", "greendrv", "evalred")
	f.builder.Settings.Cache = "s3://cache"
	f.nix.valid = map[string]bool{"/nix/store/valid": true}
	f.evidence.green = map[string]bool{"/nix/store/greendrv.drv": true}
	f.nix.cache = map[string]bool{"/nix/store/greendrv": true} // green before, already copied
	f.nix.evals = map[string]nix.HostEval{"evalred": {Err: "error: x"}}
	if _, err := f.builder.Run(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(f.nix.copied)
	if want := []string{"/nix/store/built", "/nix/store/valid"}; f.nix.copiedTo != "s3://cache" || !slices.Equal(f.nix.copied, want) {
		t.Errorf("copied %v to %q, want %v to s3://cache", f.nix.copied, f.nix.copiedTo, want)
	}
	wantCache := map[string]string{"built": "s3://cache", "valid": "s3://cache", "greendrv": "s3://cache", "evalred": ""}
	for h, want := range wantCache {
		if got := f.evidence.recorded["c1"][h].Cache; got != want {
			t.Errorf("recorded %s cache %q, want %q", h, got, want)
		}
	}
}

// When the copy fails the build's evidence is still recorded, and the
// error is returned.
func TestRunCacheCopyFails(t *testing.T) {
	f := newFakes("a")
	f.builder.Settings.Cache = "s3://cache"
	f.nix.copyErr = errors.New("unreachable")
	rep, err := f.builder.Run(context.Background(), Options{})
	if !errors.Is(err, f.nix.copyErr) || !strings.Contains(err.Error(), "copy green outputs to build.cache s3://cache") || rep != nil {
		t.Fatalf("rep %v, err = %v, want the copy error", rep, err)
	}
	if got := f.evidence.recorded["c1"]["a"]; got.Status != evidence.Green || got.Cache != "" {
		t.Errorf("recorded %+v, want green without a cache", got)
	}
}

// Progress hears every host's steps, in order.
func TestRunProgress(t *testing.T) {
	f := newFakes("note", "handwritten", "evalred", "built", "buildred", "valid")
	f.evidence.notes = map[string]map[string]evidence.Host{"c1": {
		"note":        {Status: evidence.Green, Drv: "/nix/store/note.drv", Out: "/nix/store/note"},
		"handwritten": {Status: evidence.Green},
	}}
	f.nix.evals = map[string]nix.HostEval{"evalred": {Err: "error: x"}}
	f.nix.fail = map[string]string{"/nix/store/buildred.drv": "failed"}
	f.nix.valid = map[string]bool{"/nix/store/valid": true, "/nix/store/note": true}
	got := map[string][]string{}
	_, err := f.builder.Run(context.Background(), Options{Progress: func(ev Event) { got[ev.Host] = append(got[ev.Host], ev.Phase) }})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"note":        {"evaluated", "reused"},
		"handwritten": {"evaluated", "building", "finished", "built"},
		"evalred":     {"eval-failed"},
		"built":       {"evaluated", "building", "finished", "built"},
		"buildred":    {"evaluated", "building", "finished", "build-failed"},
		"valid":       {"evaluated", "reused"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("progress %v, want %v", got, want)
	}
}

// Progress hears each line of each build's log, under the host whose
// toplevel it is, or the name of the dependency whose build printed it.
func TestRunProgressLogs(t *testing.T) {
	f := newFakes("a", "b")
	f.nix.logs = map[string][][2]string{
		"/nix/store/a.drv": {{"/nix/store/00000000000000000000000000000000-linux-6.6.1.drv", "CC kernel/fork.o"}, {"/nix/store/a.drv", "building a"}},
		"/nix/store/b.drv": {{"/nix/store/b.drv", ""}, {"/nix/store/b.drv", "b done"}},
	}
	var got []string
	_, err := f.builder.Run(context.Background(), Options{Progress: func(ev Event) {
		if ev.Phase == PhaseLog {
			got = append(got, ev.Host+"> "+ev.Line)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"linux-6.6.1> CC kernel/fork.o", "a> building a", "b> ", "b> b done"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("log lines %q, want %q", got, want)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&RedError{Commit: "0123456789abcdef", Red: []HostOutcome{{Host: "a", Phase: "eval"}, {Host: "b", Phase: "build"}}},
			"2 host(s) red at 0123456789ab: a (eval), b (build)"},
		{&UnknownHostPatternError{Pattern: "x-*", Commit: "0123456789abcdef"}, `--host "x-*" matches no host of the flake at 0123456789ab`},
		{&UnknownHostPatternError{Pattern: "[", Err: errors.New("syntax error in pattern")}, `--host "[": syntax error in pattern`},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

// Building starts while evaluation goes on: the first host is realised
// before the second is evaluated, each in a round of its own, and the
// per-host figures are each host's own.
func TestRunBuildsWhileEvaluating(t *testing.T) {
	f := newFakes("a", "b")
	f.nix.evals = map[string]nix.HostEval{"b": {Drv: "/nix/store/b.drv", Out: "/nix/store/b", Seconds: 4}}
	f.nix.realisedCh = make(chan string, 2)
	f.nix.afterResult = func(host string) {
		if host != "a" {
			return
		}
		select {
		case drv := <-f.nix.realisedCh:
			if drv != "/nix/store/a.drv" {
				t.Errorf("realised %s first, want a", drv)
			}
		case <-time.After(5 * time.Second):
			t.Error("a was not built while b was still to be evaluated")
		}
	}
	rep, err := f.builder.Run(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.nix.realised) != 2 || f.nix.realised[0][0].Drv != "/nix/store/a.drv" || f.nix.realised[1][0].Drv != "/nix/store/b.drv" {
		t.Errorf("realise rounds = %v, want [a] then [b]", f.nix.realised)
	}
	for _, h := range rep.Hosts {
		wantEval := map[string]float64{"a": 1, "b": 4}[h.Host]
		if h.EvalSeconds != wantEval || h.BuildSeconds != buildSeconds || h.Seconds != wantEval+buildSeconds {
			t.Errorf("%s: eval %v build %v total %v, want %v, %v, %v", h.Host, h.EvalSeconds, h.BuildSeconds, h.Seconds, wantEval, buildSeconds, wantEval+buildSeconds)
		}
	}
}

// No builder took the build with build.jobs 0: an error naming the builders
// and the next command, not red hosts; no evidence is recorded.
func TestRunNoBuilder(t *testing.T) {
	f := newFakes("a")
	f.nix.realiseErr = fmt.Errorf("nix: realise: %w", &nix.NoBuilderError{Builders: "ssh-ng://b x86_64-linux", Nix: "ssh: Could not resolve hostname b\nerror: unable to start any build"})
	_, err := f.builder.Run(context.Background(), Options{})
	var nb *NoBuilderError
	if !errors.As(err, &nb) {
		t.Fatalf("err = %v, want a NoBuilderError", err)
	}
	for _, want := range []string{"(ssh-ng://b)", "build.jobs is 0", "ssh: Could not resolve hostname b", "nix store ping --store ssh-ng://b", "build.jobs: auto"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if len(f.evidence.recorded) != 0 {
		t.Errorf("recorded %v after nothing was built", f.evidence.recorded)
	}
}

// A host no builder took, while the others were built (build.jobs 0): the
// others' evidence is recorded, that host is left unrecorded (neither red
// nor green) and reported not-built, and the error names it, the builder
// and the command that builds it again.
func TestRunNotTakenHostUnrecorded(t *testing.T) {
	f := newFakes("a", "b", "c")
	f.builder.Settings.Jobs, f.builder.Settings.Builders = "0", "ssh-ng://big x86_64-linux - 2 1"
	f.nix.builtOn = map[string]string{"/nix/store/a.drv": "ssh-ng://big", "/nix/store/c.drv": "ssh-ng://big"}
	f.nix.notTaken = map[string]string{"/nix/store/b.drv": "error: unable to start any build; remote machines may not have all required system features."}
	rep, err := f.builder.Run(context.Background(), Options{})
	var nb *NoBuilderError
	if !errors.As(err, &nb) || rep == nil {
		t.Fatalf("err = %v (report %v), want a NoBuilderError with the report", err, rep)
	}
	for _, want := range []string{"1 host(s): b", "(ssh-ng://big)", "required system features", "ringflow build --host b"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	status := map[string]string{}
	for _, h := range rep.Hosts {
		status[h.Host] = h.Status
	}
	if want := map[string]string{"a": evidence.Green, "b": NotBuilt, "c": evidence.Green}; !maps.Equal(status, want) {
		t.Errorf("statuses %v, want %v", status, want)
	}
	if len(rep.Red()) != 0 {
		t.Errorf("red hosts %v: a host no builder took is not red", rep.Red())
	}
	rec := f.evidence.recorded[f.target.dev]
	if _, ok := rec["b"]; ok || len(rec) != 2 {
		t.Errorf("recorded %v, want a and c only", rec)
	}
}
