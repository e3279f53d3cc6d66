package nix

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRealiseArgsBounds(t *testing.T) {
	n := New(Options{})
	v, _ := ParseVersion("nix (Nix) 2.8.0")
	drvs := []DrvOut{{Drv: "/nix/store/a-x.drv", Out: "/nix/store/a-x"}}
	tests := []struct {
		o    RealiseOptions
		want []string // the bound flags, in order
	}{
		{RealiseOptions{}, nil},
		{RealiseOptions{Timeout: 2 * time.Hour}, []string{"--timeout", "7200"}},
		{RealiseOptions{MaxSilent: 90 * time.Second}, []string{"--max-silent-time", "90"}},
		// Whole seconds, rounded up: a bound is never shorter than asked.
		{RealiseOptions{Timeout: 1500 * time.Millisecond, MaxSilent: time.Millisecond}, []string{"--timeout", "2", "--max-silent-time", "1"}},
	}
	for _, tt := range tests {
		var got []string
		args := realiseArgs(n, v, drvs, tt.o)
		for i, a := range args {
			if a == "--timeout" || a == "--max-silent-time" {
				got = append(got, a, args[i+1])
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%+v: bound flags %q, want %q (args %q)", tt.o, got, tt.want, args)
		}
	}
	if _, err := n.Realise(context.Background(), drvs, RealiseOptions{Timeout: -time.Second}); err == nil || !strings.Contains(err.Error(), "negative") {
		t.Errorf("Realise with a negative timeout: err = %v", err)
	}
}

// replayTimed feeds a log captured by testdata/capture-timeout.sh, whose
// lines start with the seconds since nix started, to m with a clock that
// shows those times. drop removes the lines containing it.
func replayTimed(t *testing.T, m *buildMonitor, file string, drop string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Unix(1_700_000_000, 0)
	now := base
	m.clock = func() time.Time { return now }
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		at, line, ok := strings.Cut(sc.Text(), " ")
		secs, err := strconv.ParseFloat(at, 64)
		if !ok || err != nil {
			t.Fatalf("%s: line without its time: %q", file, sc.Text())
		}
		if drop != "" && strings.Contains(line, drop) {
			continue
		}
		now = base.Add(time.Duration(secs * float64(time.Second)))
		m.line(line)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

// drvsIn finds the derivations named name in a capture.
func drvsIn(t *testing.T, file string, names ...string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]string{}
	re := regexp.MustCompile(`/nix/store/[a-z0-9]{32}-(` + strings.Join(names, "|") + `)\.drv`)
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		found[m[1]] = m[0]
	}
	for _, n := range names {
		if found[n] == "" {
			t.Fatalf("%s names no %s derivation", file, n)
		}
	}
	return found
}

// TestTimeStopsReplay replays Nix 2.8's logs of builds stopped for time
// (testdata/capture-timeout.sh). In the --timeout run, hang (a top-level
// derivation) and hangdep (top's dependency) sleep past 2 s, fa fails at
// once and ok builds; Nix 2.8 tells only fa's error of the three top-level
// ones, so hang's stop must be read from the times. With hangdep's message
// dropped too, the times alone must still tell hang's. In the --max-silent-time
// run, quiet falls silent and is stopped while chatty, printing every half
// second for longer than the bound, builds.
func TestTimeStopsReplay(t *testing.T) {
	file := "testdata/timeout-nix-2.8.0.log"
	d := drvsIn(t, file, "hang", "fa", "ok", "hangdep")
	// Nix 2.8 never names top: it did not start, its dependency failed.
	d["top"] = "/nix/store/00000000000000000000000000000000-top.drv"
	tops := []DrvOut{{Drv: d["hang"], Out: "/x-hang"}, {Drv: d["fa"], Out: "/x-fa"}, {Drv: d["ok"], Out: "/x-ok"}, {Drv: d["top"], Out: "/x-top"}}
	valid := map[string]bool{"/x-ok": true}
	for _, drop := range []string{"", "timed out"} {
		t.Run("drop="+drop, func(t *testing.T) {
			m := newBuildMonitor(tops, nil)
			replayTimed(t, m, file, drop)
			stops := m.timeStops(tops, valid, RealiseOptions{Timeout: 2 * time.Second})
			stopped := []string{"hang", "hangdep"}
			if drop != "" {
				// An error no longer names hangdep; a dependency nix
				// names in no error is not known to have failed.
				stopped = stopped[:1]
			}
			for _, name := range stopped {
				s, ok := stops[d[name]]
				if !ok || s.limit != LimitTimeout {
					t.Errorf("%s: stop %+v (found %v), want one at the timeout", name, s, ok)
					continue
				}
				if secs := m.ranUntil(d[name], s.at); secs < 1.9 || secs > 4 {
					t.Errorf("%s ran %.2fs until its stop, want about 2s", name, secs)
				}
			}
			for _, name := range []string{"fa", "ok", "top"} {
				if s, ok := stops[d[name]]; ok {
					t.Errorf("%s: stopped for time %+v, want not", name, s)
				}
			}
			// Without a bound told, only nix's own words count.
			stops = m.timeStops(tops, valid, RealiseOptions{})
			if drop == "" && (len(stops) != 1 || stops[d["hangdep"]].limit != LimitTimeout) {
				t.Errorf("no bound given: stops %+v, want hangdep's, by nix's message", stops)
			}
			if drop != "" && len(stops) != 0 {
				t.Errorf("no bound given, no message: stops %+v, want none", stops)
			}
		})
	}

	file = "testdata/silent-nix-2.8.0.log"
	d = drvsIn(t, file, "quiet", "chatty")
	tops = []DrvOut{{Drv: d["quiet"], Out: "/x-quiet"}, {Drv: d["chatty"], Out: "/x-chatty"}}
	valid = map[string]bool{"/x-chatty": true}
	for _, drop := range []string{"", "timed out"} {
		m := newBuildMonitor(tops, nil)
		replayTimed(t, m, file, drop)
		stops := m.timeStops(tops, valid, RealiseOptions{Timeout: 30 * time.Second, MaxSilent: 2 * time.Second})
		if s := stops[d["quiet"]]; len(stops) != 1 || s.limit != LimitMaxSilent {
			t.Errorf("drop=%q: stops %+v, want quiet's at max-silent", drop, stops)
		}
	}
}

// TestTimeStops covers what the captures do not: a build that failed on
// its own after a long time is not stopped for time; nix.conf's bounds are
// known only from nix's words; a bound far off is not met.
func TestTimeStops(t *testing.T) {
	const a, b = "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a.drv", "/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-b.drv"
	tops := []DrvOut{{Drv: a, Out: "/x-a"}, {Drv: b, Out: "/x-b"}}
	ev := func(format string, args ...any) string { return "@nix " + fmt.Sprintf(format, args...) }
	start := func(id int, drv string) string {
		return ev(`{"action":"start","id":%d,"type":105,"level":3,"fields":[%q,"",1,1]}`, id, drv)
	}
	logLine := func(id int, s string) string {
		return ev(`{"action":"result","id":%d,"type":101,"fields":[%q]}`, id, s)
	}
	failed := func(n int) string { return ev(`{"action":"result","id":9,"type":105,"fields":[0,2,0,%d]}`, n) }
	errMsg := func(s string) string { return ev(`{"action":"msg","level":0,"msg":%q}`, s) }
	type step struct {
		at   float64
		line string
	}
	tests := []struct {
		name  string
		steps []step
		o     RealiseOptions
		want  map[string]TimeLimit
	}{
		{"failed on its own before the bound", []step{
			{0, start(1, a)}, {0, logLine(1, "working")}, {50, logLine(1, "error: tests failed")}, {50.1, failed(1)},
		}, RealiseOptions{Timeout: 60 * time.Second}, map[string]TimeLimit{}},
		{"silent past the bound, named by nix", []step{
			{0, start(1, a)}, {0, start(2, b)}, {1, logLine(2, "last words")}, {1.2, failed(1)},
			{11.5, failed(2)}, {12, errMsg("error: building of '" + b + "' timed out after 10 seconds of silence")},
		}, RealiseOptions{Timeout: time.Hour, MaxSilent: 10 * time.Second}, map[string]TimeLimit{b: LimitMaxSilent}},
		{"nix.conf's bound, told only by nix", []step{
			{0, start(1, a)}, {30, failed(1)}, {30, errMsg("error: Cannot build '" + a + "'.\nReason: timed out after 30 seconds.")},
		}, RealiseOptions{}, map[string]TimeLimit{a: LimitTimeout}},
		{"the bound is far off", []step{
			{0, start(1, a)}, {0, start(2, b)}, {3, failed(1)}, {4, failed(2)},
		}, RealiseOptions{Timeout: time.Hour}, map[string]TimeLimit{}},
		{"two unnamed stops, one bound", []step{
			{0, start(1, a)}, {0.2, start(2, b)}, {7.1, failed(1)}, {7.3, failed(2)},
		}, RealiseOptions{Timeout: 7 * time.Second}, map[string]TimeLimit{a: LimitTimeout, b: LimitTimeout}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newBuildMonitor(tops, nil)
			base := time.Unix(1_700_000_000, 0)
			m.clock = func() time.Time { return base }
			m.line(ev(`{"action":"start","id":9,"type":104,"level":0}`)) // the builds' progress
			for _, s := range tt.steps {
				m.clock = func() time.Time { return base.Add(time.Duration(s.at * float64(time.Second))) }
				m.line(s.line)
			}
			got := map[string]TimeLimit{}
			for d, s := range m.timeStops(tops, map[string]bool{}, tt.o) {
				got[d] = s.limit
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("stops %v, want %v", got, tt.want)
			}
		})
	}
}

// hangingFlake commits a flake whose derivations hang, fail, build or stay
// silent, salted so each run builds them anew, and returns a ref to it.
// The builders sleep with /bin/sleep (sandbox = false, as the tests run
// nix), or spin where there is none.
func hangingFlake(t *testing.T) FlakeRef {
	t.Helper()
	dir := t.TempDir()
	git(t, dir, "init", "-q")
	sleep := `for b in /bin/sleep /usr/bin/sleep; do [ -x $b ] && exec $b 60; done; while :; do :; done`
	flake := `{
  outputs = { self }: let
    mk = n: script: derivation { name = n; system = "` + nixSystem() + `"; builder = "/bin/sh"; args = [ "-c" script ]; salt = "` + strconv.FormatInt(time.Now().UnixNano(), 10) + `"; };
    hangdep = mk "hangdep" "` + sleep + `";
    host = top: { config.system.build.toplevel = top; };
  in {
    nixosConfigurations = {
      hang = host (mk "hang" "echo start-hang; ` + sleep + `");
      needshang = host (mk "needshang" "echo ${hangdep} > $out");
      fails = host (mk "fails" "echo error: fails failed to build >&2; exit 1");
      good = host (mk "good" "echo good > $out");
    };
  };
}
`
	if err := os.WriteFile(filepath.Join(dir, "flake.nix"), []byte(flake), 0o644); err != nil {
		t.Fatal(err)
	}
	git(t, dir, "add", ".")
	git(t, dir, "commit", "-qm", "hanging fleet")
	return FlakeRef{Repo: dir, Rev: git(t, dir, "rev-parse", "HEAD")}
}

// TestRealiseTimeoutRealNix builds, with the real nix, a host that hangs, a
// host whose dependency hangs, a host that fails and one that builds, with
// a 2 s timeout, then the hanging host with a 2 s max-silent time: the
// hanging ones are failed results stopped for time within seconds, the
// others are what they are.
func TestRealiseTimeoutRealNix(t *testing.T) {
	env := requireNix(t)
	ref := hangingFlake(t)
	n := New(Options{Env: env})
	ctx := context.Background()
	evals, err := n.EvalHosts(ctx, ref, []string{"hang", "needshang", "fails", "good"}, EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	byHost := map[string]DrvOut{}
	var drvs []DrvOut
	for _, he := range evals {
		if he.Err != "" {
			t.Fatalf("%s: %s", he.Host, he.Err)
		}
		byHost[he.Host] = DrvOut{Drv: he.Drv, Out: he.Out}
		drvs = append(drvs, DrvOut{Drv: he.Drv, Out: he.Out})
	}
	start := time.Now()
	var logged []string // OnLog's calls for hang, as nix relayed them
	onLog := func(drv, line string) {
		if drv == byHost["hang"].Drv {
			logged = append(logged, line)
		}
	}
	res, err := n.Realise(ctx, drvs, RealiseOptions{Jobs: "4", Timeout: 2 * time.Second, OnLog: onLog})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(logged, func(l string) bool { return strings.Contains(l, "start-hang") }) {
		t.Errorf("hang's log lines passed on while it ran: %q, want its start-hang line", logged)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("Realise took %s with a 2s timeout", took)
	}
	got := map[string]BuildResult{}
	for i, he := range evals {
		got[he.Host] = res[i]
	}
	if r := got["hang"]; r.OK || r.TimedOut != LimitTimeout || r.TimedOutDrv != byHost["hang"].Drv || r.Seconds < 1.5 || !strings.Contains(r.Err, "start-hang") {
		t.Errorf("hang: OK %v TimedOut %q of %s after %.1fs, Err:\n%s", r.OK, r.TimedOut, r.TimedOutDrv, r.Seconds, r.Err)
	}
	if r := got["needshang"]; r.OK || r.TimedOut != LimitTimeout || !strings.HasSuffix(r.TimedOutDrv, "-hangdep.drv") {
		t.Errorf("needshang: OK %v TimedOut %q of %s, want its dependency hangdep's timeout; Err:\n%s", r.OK, r.TimedOut, r.TimedOutDrv, r.Err)
	}
	if r := got["fails"]; r.OK || r.TimedOut != "" {
		t.Errorf("fails: OK %v TimedOut %q, want failed, not for time", r.OK, r.TimedOut)
	}
	if r := got["good"]; !r.OK || r.TimedOut != "" {
		t.Errorf("good: OK %v TimedOut %q", r.OK, r.TimedOut)
	}

	res, err = n.Realise(ctx, []DrvOut{byHost["hang"]}, RealiseOptions{Timeout: time.Minute, MaxSilent: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if r := res[0]; r.OK || r.TimedOut != LimitMaxSilent {
		t.Errorf("hang with max-silent 2s: OK %v TimedOut %q, Err:\n%s", r.OK, r.TimedOut, r.Err)
	}
}
