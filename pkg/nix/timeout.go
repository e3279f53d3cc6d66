package nix

import (
	"context"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// TimeLimit names a bound nix stops a build at.
type TimeLimit string

const (
	// LimitTimeout is --timeout: the build ran this long.
	LimitTimeout TimeLimit = "timeout"
	// LimitMaxSilent is --max-silent-time: the build printed nothing
	// this long.
	LimitMaxSilent TimeLimit = "max-silent"
)

// wholeSeconds is d as nix's --timeout and --max-silent-time take it:
// whole seconds, rounded up, so that a bound is never shorter than asked.
func wholeSeconds(d time.Duration) string {
	return strconv.FormatInt(int64(math.Ceil(d.Seconds())), 10)
}

// timeStop is how nix stopped one build for time.
type timeStop struct {
	limit TimeLimit
	at    time.Time // the build failure nix counted for it; zero if unknown
}

// timeStops judges, once nix is done, which failed builds nix stopped at a
// time bound: the top-level derivations that started and are not valid,
// and the dependencies an error names.
//
// Nix has said so in the same words since 2.0 (Lix too): "… timed out
// after N seconds", with " of silence" for --max-silent-time before 2.30
// or so. But Nix 2.8 reports only one failed top-level derivation when
// several fail, so a hanging host's stop can go unsaid. Such a build is
// judged from the log's times alone: nix counts each failed build as it
// ends (the "failed" field of its progress), so the count's rises are the
// failed builds' ends. Each build named in an error takes the first rise
// that fits it (a stop for time: at its bound; another failure: after its
// last log line), and each unnamed one the first rise left after its last
// line; an unnamed build that ended no sooner than its bound allows was
// stopped at it, since nix lets no build run past its bound. Which bound
// is the one whose moment came first: the start plus --timeout, or the
// last log line plus --max-silent-time (nothing printed after the stop).
func (m *buildMonitor) timeStops(drvs []DrvOut, valid map[string]bool, o RealiseOptions) map[string]timeStop {
	m.mu.Lock()
	defer m.mu.Unlock()
	type cand struct {
		drv      string
		quiet    time.Time // its last log line, or its start
		deadline time.Time // its first bound's moment; zero = no bound
		limit    TimeLimit
		named    bool // an error names it
		saysSo   bool // an error naming it says it timed out
	}
	seen := map[string]bool{}
	var cands []cand
	add := func(drv string) {
		start, ok := m.started[drv]
		if !ok || seen[drv] {
			return
		}
		seen[drv] = true
		c := cand{drv: drv, quiet: start, named: m.errNamed[drv]}
		if t, ok := m.lastLine[drv]; ok && t.After(start) {
			c.quiet = t
		}
		if o.Timeout > 0 {
			c.deadline, c.limit = start.Add(o.Timeout), LimitTimeout
		}
		if o.MaxSilent > 0 {
			if d := c.quiet.Add(o.MaxSilent); c.deadline.IsZero() || d.Before(c.deadline) {
				c.deadline, c.limit = d, LimitMaxSilent
			}
		}
		for _, msg := range m.mentions[drv] {
			if strings.Contains(strings.ToLower(msg), "timed out") {
				c.saysSo = true
				if c.limit == "" {
					// Bounds of nix.conf, not told to ringflow.
					c.limit = LimitTimeout
					if strings.Contains(msg, "silence") {
						c.limit = LimitMaxSilent
					}
				}
			}
		}
		cands = append(cands, c)
	}
	for _, d := range drvs {
		if !valid[d.Out] {
			add(d.Drv)
		}
	}
	for d := range m.errNamed {
		add(d)
	}
	if !slices.ContainsFunc(cands, func(c cand) bool { return c.saysSo || !c.deadline.IsZero() }) {
		return nil
	}
	slices.SortFunc(cands, func(a, b cand) int {
		if c := a.quiet.Compare(b.quiet); c != 0 {
			return c
		}
		return strings.Compare(a.drv, b.drv)
	})

	taken := make([]bool, len(m.failures))
	take := func(from time.Time) time.Time {
		for i, t := range m.failures {
			if !taken[i] && !t.Before(from) {
				taken[i] = true
				return t
			}
		}
		return time.Time{}
	}
	stops := map[string]timeStop{}
	// Named builds first: what the errors say is certain. Those stopped
	// for time end at their bound, the others soon after their last line.
	for _, c := range cands {
		if c.named && c.saysSo {
			from := c.quiet
			if !c.deadline.IsZero() {
				from = c.deadline.Add(-jitter(c.deadline.Sub(c.quiet)))
			}
			stops[c.drv] = timeStop{limit: c.limit, at: take(from)}
		}
	}
	for _, c := range cands {
		if c.named && !c.saysSo {
			take(c.quiet)
		}
	}
	for _, c := range cands {
		if c.named || c.deadline.IsZero() {
			continue
		}
		at := take(c.quiet)
		if !at.IsZero() && !at.Before(c.deadline.Add(-jitter(c.deadline.Sub(c.quiet)))) {
			stops[c.drv] = timeStop{limit: c.limit, at: at}
		}
	}
	return stops
}

// jitter is how much sooner than its bound a stopped build may seem to end
// in the log: nix starts the clock of a build after the log says it
// started, and both reach ringflow through a pipe. A quarter of a short
// bound, a second of a long one.
func jitter(bound time.Duration) time.Duration {
	return min(time.Second, bound/4)
}

// noteTimeStop marks a failed result stopped for time: its own build, or
// for a derivation never built, a dependency's in its closure.
func (n *Nix) noteTimeStop(ctx context.Context, m *buildMonitor, r *BuildResult, stops map[string]timeStop) {
	if len(stops) == 0 {
		return
	}
	if s, ok := stops[r.Drv]; ok {
		r.TimedOut, r.TimedOutDrv = s.limit, r.Drv
		if secs := m.ranUntil(r.Drv, s.at); secs > 0 {
			r.Seconds = secs
		}
		return
	}
	if _, _, built := m.about(r.Drv); built {
		return
	}
	deps, err := n.requisites(ctx, r.Drv)
	if err != nil {
		return
	}
	var stopped []string
	for d := range stops {
		if d != r.Drv && deps[d] {
			stopped = append(stopped, d)
		}
	}
	if len(stopped) > 0 {
		slices.Sort(stopped)
		r.TimedOut, r.TimedOutDrv = stops[stopped[0]].limit, stopped[0]
	}
}

// ranUntil is how long drv's build ran until at, in seconds; 0 when it
// never started or at is unknown.
func (m *buildMonitor) ranUntil(drv string, at time.Time) float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	start, ok := m.started[drv]
	if !ok || at.IsZero() || at.Before(start) {
		return 0
	}
	return at.Sub(start).Seconds()
}
