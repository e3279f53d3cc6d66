// Package ring decides promotions: where a ring stands, what a promotion
// would move, and which gates refuse it. Every gate is decided here, from
// facts an operation gathered (evidence, ledger times, freeze windows, a
// signature check, a hook's exit): values in, decisions out. It imports
// none of config, viper, cobra, go-git or os/exec; commit ancestry comes in
// through the Ancestry interface.
package ring

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"github.com/ringflow/ringflow/pkg/freeze"
)

// Ancestry answers whether a is an ancestor of, or equal to, b.
type Ancestry interface {
	IsAncestor(a, b string) (bool, error)
}

// Group is a group of hosts as the gates see it: its name, its ring, the
// branch its hosts pull and whether it is pinned.
type Group struct {
	Name   string
	Ring   string
	Branch string
	Pinned bool
	// Pin says what pins it (set when Pinned): the config, a pin recorded
	// in the ledger, or both.
	Pin *Pin
}

// Pin is what holds a group's branch still while its ring moves.
type Pin struct {
	// Config is the config key that pins the group ("rings[2].groups[1].pin"),
	// and Commit the commit written there (pin: <commit>); "" = none.
	Config, Commit string
	// Actor, Time and Reason are the ledger's pin (ringflow pin); zero
	// Time = none.
	Actor  string
	Time   time.Time
	Reason string
}

// Describe says what pins the group, for messages and tables.
func (p *Pin) Describe() string {
	if p == nil {
		return ""
	}
	var parts []string
	if p.Config != "" {
		s := "by the config (" + p.Config + ")"
		if p.Commit != "" {
			s = "at " + p.Commit + " " + s
		}
		parts = append(parts, s)
	}
	if !p.Time.IsZero() {
		s := fmt.Sprintf("by %s at %s", p.Actor, p.Time.UTC().Format(time.RFC3339))
		if p.Reason != "" {
			s += ": " + p.Reason
		}
		parts = append(parts, s)
	}
	return "pinned " + strings.Join(parts, ", and ")
}

// Hold is a ring held by `ringflow hold`: who, when, why.
type Hold struct {
	Actor  string
	Time   time.Time
	Reason string
}

// Describe says who holds the ring, since when and why, for messages and
// tables.
func (h *Hold) Describe() string {
	if h == nil {
		return ""
	}
	s := fmt.Sprintf("held by %s since %s", h.Actor, h.Time.UTC().Format(time.RFC3339))
	if h.Reason != "" {
		s += ": " + h.Reason
	}
	return s
}

// GroupState is a group and where its branch points.
type GroupState struct {
	Group Group
	// Commit is the dev commit the branch carries ("" = no branch): its
	// head, unless the head is a commit ringflow made on top of the branch
	// (a rollback, or a promotion landed after one) whose tree is that dev
	// commit's tree. Ancestry, order and evidence reason about it.
	Commit string
	// Head is the branch's raw head; "" means the same as Commit.
	Head string
	// Recorded is the head the ledger last recorded for the branch ("" =
	// never recorded); a head elsewhere moved outside ringflow (DriftOf).
	Recorded string
}

// head is the raw branch head.
func (gs GroupState) head() string {
	if gs.Head != "" {
		return gs.Head
	}
	return gs.Commit
}

// Request is everything a promotion into one ring is decided on. Gates
// that need more facts (evidence, soak, signatures) read more fields.
type Request struct {
	Ring       string // the ring promoted into
	Source     string // "dev" or the name of the ring before
	SourceHead string // the source's position
	Candidate  string // the commit offered
	Groups     []GroupState
	// SourceGroups are the source ring's groups (none when it is dev), and
	// DevHead dev's head: a ring only ever holds commits that lie on dev.
	SourceGroups []GroupState
	Dev, DevHead string

	// Group is the one group moved, pinned or not (promote --group): its
	// branch may go back (as a tree copy on top), and the candidate may lie
	// on the ring itself (RingHead, the ring's position) as well as on its
	// source. Groups then holds that group alone. "" = the whole ring.
	Group    string
	RingHead string

	// Hosts are the hosts of the ring's unpinned groups at the candidate,
	// and Evidence what building them there gave (absent = never built).
	Hosts    []string
	Evidence map[string]HostEvidence
	// EvidenceMalformed names each note on the candidate that is not
	// ringflow's evidence, and so counts as none.
	EvidenceMalformed []string

	// Soak: the source ring's soak and when it first held the candidate
	// (or a descendant); zero Since = no record. SkipSoak is --force-soak.
	// SoakWaived says the source ring took it without any host changing.
	SoakNeeded time.Duration
	SoakSince  time.Time
	SoakWaived bool
	SkipSoak   bool
	Now        time.Time

	// Freeze holds the ring's freeze windows, read at Now.
	Freeze []freeze.Window
	// Hold is the ring's hold (ringflow hold); nil = not held.
	Hold *Hold
	// Signature is what checking the candidate's signature found; nil when
	// no keyring is configured.
	Signature *SignatureCheck
	// Verify is how the source ring's verify hook ended; nil when it has
	// none.
	Verify *HookRun
	// Converge is what the source ring's hosts run (observe:); nil when
	// the fleet is not observed or the source is dev.
	Converge *ConvergeCheck
	// Health is how the source ring's hosts are (observe:); nil when the
	// fleet is not observed or the source is dev.
	Health *HealthCheck
}

// Freeze is an active freeze of a ring.
type Freeze struct {
	Until  time.Time
	Reason string
}

// FrozenAt says whether windows hold a ring at now, until when and why
// (each window's reason, or its schedule when it gives none).
func FrozenAt(windows []freeze.Window, now time.Time) *Freeze {
	frozen, until, by := freeze.Active(windows, now)
	if !frozen {
		return nil
	}
	var parts []string
	for _, w := range by {
		if w.Reason != "" {
			parts = append(parts, w.Reason)
		} else {
			parts = append(parts, freeze.Describe(w))
		}
	}
	return &Freeze{Until: until, Reason: strings.Join(parts, "; ")}
}

// SignatureCheck is what verifying the candidate against the configured
// keyring found. At most one of the failure fields is set; none = valid.
type SignatureCheck struct {
	Keyring    string // the keyring file
	Unsigned   string // the candidate carries no usable signature: why
	UnknownKey string // the ID of the key it is signed by, not in the keyring
	Bad        string // the signature does not verify: why
}

// HookRun is how one run of a verify hook ended.
type HookRun struct {
	Ring     string // whose hook
	RunError string // it could not start: why
	ExitCode int
	TimedOut bool
	Duration time.Duration
	Output   string // its output, trimmed
}

// HostEvidence is one host's build result at the candidate.
type HostEvidence struct {
	Status string // "green" or "red"
	Phase  string // "eval" or "build" for a red host
	// Unverified says why a green entry does not count as built ("has no
	// drv/out path", "out path … is in no store …"); "" = it counts.
	Unverified string
}

// Move is one branch moving forward.
type Move struct {
	Group  string `json:"group"`
	Branch string `json:"branch"`
	From   string `json:"from"` // the raw head; "" = the branch is created
	To     string `json:"to"`   // the new head
	// Carries is the dev commit the new head carries. When it differs from
	// To the head is a commit ringflow makes on top of From with Carries'
	// tree, because From is such a commit itself.
	Carries string `json:"carries,omitempty"`
}

// NeedsCarry says the move lands as a tree copy on top of the branch.
func (m Move) NeedsCarry() bool { return m.From != "" && m.Carries != "" && m.To == "" }

// Held is a group that stays where it is.
type Held struct {
	Group  string `json:"group"`
	Branch string `json:"branch"`
	Commit string `json:"commit"`
	Reason string `json:"reason"`
}

// Refusal is one failed gate.
type Refusal struct {
	Gate   string `json:"gate"`
	Reason string `json:"reason"`
	// Skip is what opens this gate on purpose ("--force-soak --reason
	// TEXT"); "" when nothing does but changing what it checks.
	Skip string `json:"-"`
}

// Skippable is a gate a flag may open on purpose, for some refusals.
type Skippable interface {
	// SkipWith names the flags that would open the gate for req; "" = none.
	SkipWith(req *Request) string
}

// Plan is the outcome of deciding a promotion.
type Plan struct {
	Ring      string
	Source    string
	Candidate string
	Moves     []Move
	Held      []Held
	Refusals  []Refusal
}

// NothingToDo says that every movable group already holds the candidate.
func (p *Plan) NothingToDo() bool { return len(p.Moves) == 0 && len(p.Refusals) == 0 }

// Refused says whether any gate refused.
func (p *Plan) Refused() bool { return len(p.Refusals) > 0 }

// Gate is one check a promotion must pass.
type Gate interface {
	Name() string
	// Check returns a reason when the gate refuses, "" when it passes.
	Check(req *Request, a Ancestry) (string, error)
}

// Decide runs every gate (all of them, so a refusal lists every reason)
// and works out the moves.
func Decide(req *Request, a Ancestry, gates []Gate) (*Plan, error) {
	p := &Plan{Ring: req.Ring, Source: req.Source, Candidate: req.Candidate}
	for _, g := range gates {
		reason, err := g.Check(req, a)
		if err != nil {
			return nil, fmt.Errorf("gate %s: %w", g.Name(), err)
		}
		if reason != "" {
			r := Refusal{Gate: g.Name(), Reason: reason}
			if sk, ok := g.(Skippable); ok {
				r.Skip = sk.SkipWith(req)
			}
			p.Refusals = append(p.Refusals, r)
		}
	}
	if req.Group != "" {
		return decideGroup(req, a, p)
	}
	for _, gs := range req.Groups {
		switch {
		case gs.Group.Pinned:
			p.Held = append(p.Held, Held{Group: gs.Group.Name, Branch: gs.Group.Branch, Commit: gs.Commit, Reason: cmp.Or(gs.Group.Pin.Describe(), "pinned")})
		case gs.Commit != req.Candidate:
			m := Move{Group: gs.Group.Name, Branch: gs.Group.Branch, From: gs.head(), To: req.Candidate, Carries: req.Candidate}
			if gs.head() != gs.Commit {
				m.To = "" // to be made: a copy of the candidate's tree on top of the head
			}
			p.Moves = append(p.Moves, m)
		}
	}
	if p.Refused() {
		p.Moves = nil
	}
	return p, nil
}

// decideGroup works out the move of a one-group promotion: always forward,
// by fast-forward when the candidate descends from the branch's commit,
// else as a copy of the candidate's tree on top of the branch (a group
// moved back to a commit its ring held, as rollback does).
func decideGroup(req *Request, a Ancestry, p *Plan) (*Plan, error) {
	for _, gs := range req.Groups {
		if gs.Group.Name != req.Group || gs.Commit == req.Candidate {
			continue
		}
		m := Move{Group: gs.Group.Name, Branch: gs.Group.Branch, From: gs.head(), To: req.Candidate, Carries: req.Candidate}
		if gs.head() != "" {
			forward, err := a.IsAncestor(gs.Commit, req.Candidate)
			if err != nil {
				return nil, err
			}
			if !forward || gs.head() != gs.Commit {
				m.To = "" // a copy of the candidate's tree on top of the head
			}
		}
		p.Moves = append(p.Moves, m)
	}
	if p.Refused() {
		p.Moves = nil
	}
	return p, nil
}

// DefaultGates are the spec's gates, in the order refusals are listed.
func DefaultGates() []Gate {
	return []Gate{DriftGate{}, HoldGate{}, FastForward{}, Order{}, Evidence{}, Healthy{}, Converge{}, Soak{}, Pins{}, Signature{}, Verify{}}
}

// HoldGate refuses every promotion into a held ring, until a person
// releases it.
type HoldGate struct{}

// Name implements Gate.
func (HoldGate) Name() string { return "hold" }

// Check implements Gate.
func (HoldGate) Check(req *Request, _ Ancestry) (string, error) {
	if req.Hold == nil {
		return "", nil
	}
	return fmt.Sprintf("ring %s is %s (release it with `ringflow release %s --reason TEXT`)", req.Ring, req.Hold.Describe(), req.Ring), nil
}

// Soak is gate 4: the candidate has sat on the ring before for that
// ring's soak. The first ring takes from dev, which has no soak.
type Soak struct{}

// Name implements Gate.
func (Soak) Name() string { return "soak" }

// Check implements Gate.
func (Soak) Check(req *Request, _ Ancestry) (string, error) {
	if req.SoakNeeded <= 0 || req.SkipSoak || req.SoakWaived {
		return "", nil
	}
	if req.SoakSince.IsZero() && req.Converge != nil {
		// Observed: the soak has not begun, and the converge gate says why.
		return fmt.Sprintf("%s's soak of %s counts from when its hosts run %s, which they do not yet (see gate converge)",
			req.Source, FormatDuration(req.SoakNeeded), Short(req.Candidate)), nil
	}
	if req.SoakSince.IsZero() {
		return fmt.Sprintf("no record of when %s took %s, so its soak of %s cannot be told",
			req.Source, Short(req.Candidate), FormatDuration(req.SoakNeeded)), nil
	}
	if left := SoakLeft(req.SoakNeeded, req.SoakSince, req.Now); left > 0 {
		return fmt.Sprintf("%s has been on %s for %s of its %s soak: %s left (until %s)", Short(req.Candidate), req.Source,
			FormatDuration(req.Now.Sub(req.SoakSince)), FormatDuration(req.SoakNeeded), FormatDuration(left),
			req.SoakSince.Add(req.SoakNeeded).UTC().Format(time.RFC3339)), nil
	}
	return "", nil
}

// SkipWith implements Skippable: --force-soak opens a soak that cannot be
// told for want of a record. (A soak with time left is waited for.)
func (Soak) SkipWith(req *Request) string {
	if req.SoakSince.IsZero() && req.Converge == nil {
		return "--force-soak --reason TEXT"
	}
	return ""
}

// SoakLeft is how much of a soak remains at now.
func SoakLeft(soak time.Duration, since, now time.Time) time.Duration {
	if left := since.Add(soak).Sub(now); left > 0 {
		return left
	}
	return 0
}

// Signature is gate 6: with a keyring configured, the candidate carries a
// valid signature by one of its keys.
type Signature struct{}

// Name implements Gate.
func (Signature) Name() string { return "signature" }

// Check implements Gate.
func (Signature) Check(req *Request, _ Ancestry) (string, error) {
	s, c := req.Signature, Short(req.Candidate)
	switch {
	case s == nil:
		return "", nil
	case s.Unsigned != "":
		return fmt.Sprintf("%s is not signed (%s)", c, s.Unsigned), nil
	case s.UnknownKey != "":
		return fmt.Sprintf("%s is signed by key %s, which is not in %s", c, s.UnknownKey, s.Keyring), nil
	case s.Bad != "":
		return fmt.Sprintf("%s has a bad signature: %s", c, s.Bad), nil
	}
	return "", nil
}

// Verify runs the source ring's verify hook: the health of the ring a
// commit leaves decides whether the next ring may take it.
type Verify struct{}

// Name implements Gate.
func (Verify) Name() string { return "verify" }

// Check implements Gate.
func (Verify) Check(req *Request, _ Ancestry) (string, error) {
	h := req.Verify
	if h == nil {
		return "", nil
	}
	name := "verify hook of " + h.Ring
	tail := ""
	if h.Output != "" {
		tail = ":\n" + h.Output
	}
	switch {
	case h.RunError != "":
		return fmt.Sprintf("%s could not run: %s", name, h.RunError), nil
	case h.TimedOut:
		return fmt.Sprintf("%s timed out after %s%s", name, h.Duration.Round(time.Second), tail), nil
	case h.ExitCode != 0:
		return fmt.Sprintf("%s exited %d%s", name, h.ExitCode, tail), nil
	}
	return "", nil
}

// FormatDuration prints durations the way soaks are written: 2d3h, 45m, 30s.
func FormatDuration(d time.Duration) string {
	d = d.Round(time.Second)
	if d <= 0 {
		return "0s"
	}
	var b strings.Builder
	if days := d / (24 * time.Hour); days > 0 {
		fmt.Fprintf(&b, "%dd", days)
		d -= days * 24 * time.Hour
	}
	if h := d / time.Hour; h > 0 {
		fmt.Fprintf(&b, "%dh", h)
		d -= h * time.Hour
	}
	if m := d / time.Minute; m > 0 {
		fmt.Fprintf(&b, "%dm", m)
		d -= m * time.Minute
	}
	if d > 0 && b.Len() < 6 {
		fmt.Fprintf(&b, "%ds", d/time.Second)
	}
	return b.String()
}

// FastForward is gate 1: the candidate descends from every unpinned group
// branch of the ring, so pull agents that refuse rewinds keep working.
type FastForward struct{}

// Name implements Gate.
func (FastForward) Name() string { return "fast-forward" }

// Check implements Gate.
func (FastForward) Check(req *Request, a Ancestry) (string, error) {
	if req.Group != "" {
		return "", nil // one group moves forward by a tree copy when it goes back
	}
	var bad []string
	for _, gs := range req.Groups {
		if gs.Group.Pinned || gs.Commit == "" {
			continue
		}
		ok, err := a.IsAncestor(gs.Commit, req.Candidate)
		if err != nil {
			return "", err
		}
		if !ok {
			bad = append(bad, fmt.Sprintf("branch %s is at %s, which %s does not descend from", gs.Group.Branch, Short(gs.Commit), Short(req.Candidate)))
		}
	}
	if len(bad) == 0 {
		return "", nil
	}
	return strings.Join(bad, "; ") + " (a ring branch only moves forward)", nil
}

// Order is gate 2: the candidate lies on the source — dev for the first
// ring, the ring before for every later one.
type Order struct{}

// Name implements Gate.
func (Order) Name() string { return "order" }

// Check implements Gate.
func (Order) Check(req *Request, a Ancestry) (string, error) {
	if req.SourceHead == "" {
		return fmt.Sprintf("%s has no commit to take candidates from", req.Source), nil
	}
	ok, err := a.IsAncestor(req.Candidate, req.SourceHead)
	if err != nil {
		return "", err
	}
	if !ok && req.Group != "" && req.RingHead != "" {
		if ok, err = a.IsAncestor(req.Candidate, req.RingHead); err != nil {
			return "", err
		}
		if !ok {
			return fmt.Sprintf("%s is on neither %s (at %s) nor ring %s (at %s): a group only takes commits its ring or the ring's source holds",
				Short(req.Candidate), req.Source, Short(req.SourceHead), req.Ring, Short(req.RingHead)), nil
		}
	}
	if !ok {
		return fmt.Sprintf("%s is not on %s (at %s): a ring only takes commits its source holds", Short(req.Candidate), req.Source, Short(req.SourceHead)), nil
	}
	if req.DevHead != "" && req.DevHead != req.SourceHead {
		if ok, err = a.IsAncestor(req.Candidate, req.DevHead); err != nil {
			return "", err
		} else if !ok {
			dev := cmp.Or(req.Dev, "dev")
			return fmt.Sprintf("%s is not on %s (at %s): a ring only holds commits that lie on %s", Short(req.Candidate), dev, Short(req.DevHead), dev), nil
		}
	}
	return "", nil
}

// Evidence is gate 3: every host the promotion would move built green at
// the candidate.
type Evidence struct{}

// Name implements Gate.
func (Evidence) Name() string { return "evidence" }

// Check implements Gate.
func (Evidence) Check(req *Request, _ Ancestry) (string, error) {
	var red, missing []string
	var unverified []hostFault
	for _, h := range req.Hosts {
		switch e := req.Evidence[h]; {
		case e.Status == "green" && e.Unverified != "":
			unverified = append(unverified, hostFault{Host: h, Why: e.Unverified})
		case e.Status == "green":
		case e.Status == "red":
			red = append(red, fmt.Sprintf("%s (%s)", h, e.Phase))
		default:
			missing = append(missing, h)
		}
	}
	c := Short(req.Candidate)
	var parts []string
	if len(red) > 0 {
		parts = append(parts, fmt.Sprintf("red at %s: %s", c, strings.Join(red, ", ")))
	}
	if len(missing) > 0 {
		why := ""
		if len(req.EvidenceMalformed) > 0 {
			why = ", as " + strings.Join(req.EvidenceMalformed, "; ") + " and counts as none"
		}
		parts = append(parts, fmt.Sprintf("not built at %s: %s%s (run `ringflow build %s`)", c, strings.Join(missing, ", "), why, c))
	}
	parts = append(parts, unverifiedParts(c, unverified)...)
	return strings.Join(parts, "; "), nil
}

// shellWord quotes s for a shell when it needs it, so that a hint naming a
// host can be pasted as it is.
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.,:@%+=/") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// hostFault is a host whose green entry does not count, and why.
type hostFault struct{ Host, Why string }

// unverifiedParts words the green entries that do not count: one part per
// reason, naming its hosts and the build that replaces their entries.
func unverifiedParts(c string, faults []hostFault) []string {
	var order []string
	hosts := map[string][]string{}
	for _, f := range faults {
		if _, seen := hosts[f.Why]; !seen {
			order = append(order, f.Why)
		}
		hosts[f.Why] = append(hosts[f.Why], f.Host)
	}
	var parts []string
	for _, why := range order {
		flags := ""
		for _, h := range hosts[why] {
			flags += " --host " + shellWord(h)
		}
		parts = append(parts, fmt.Sprintf("evidence of %s at %s %s, so it counts as unbuilt (run `ringflow build %s%s`)",
			strings.Join(hosts[why], ", "), c, why, c, flags))
	}
	return parts
}

// Pins is gate 5, pins and freezes: pinned groups stay put, a ring whose
// groups are all pinned cannot move, nor can a ring in a freeze window.
type Pins struct{}

// Name implements Gate.
func (Pins) Name() string { return "pin" }

// Check implements Gate.
func (Pins) Check(req *Request, _ Ancestry) (string, error) {
	if f := FrozenAt(req.Freeze, req.Now); f != nil {
		msg := fmt.Sprintf("ring %s is frozen until %s", req.Ring, f.Until.UTC().Format(time.RFC3339))
		if f.Reason != "" {
			msg += " (" + f.Reason + ")"
		}
		return msg, nil
	}
	if req.Group != "" {
		return "", nil // moved on purpose, pinned or not
	}
	for _, gs := range req.Groups {
		if !gs.Group.Pinned {
			return "", nil
		}
	}
	return fmt.Sprintf("every group of ring %s is pinned", req.Ring), nil
}

// Short abbreviates a commit for messages.
func Short(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	if c == "" {
		return "(none)"
	}
	return c
}

// GateRefusedError reports that gates blocked a promotion. It exits 3.
type GateRefusedError struct {
	Ring     string
	Refusals []Refusal
}

func (e *GateRefusedError) Error() string {
	if len(e.Refusals) == 1 {
		r := e.Refusals[0]
		msg := fmt.Sprintf("gate %s refused promotion to %s: %s", r.Gate, e.Ring, r.Reason)
		if r.Skip != "" {
			// Named only when it opens every gate that refused: a flag
			// that leaves the promotion refused is no next step.
			msg += fmt.Sprintf(" (skip it with %s)", r.Skip)
		}
		return msg
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d gates refused promotion to %s:", len(e.Refusals), e.Ring)
	for _, r := range e.Refusals {
		fmt.Fprintf(&b, "\n  gate %s: %s", r.Gate, r.Reason)
	}
	return b.String()
}

// Position is where a ring stands: the commit of its unpinned group
// branches (of all its groups when every one is pinned). When they differ,
// the one that descends from all the others; "" when no branch exists.
func Position(groups []GroupState, a Ancestry) (string, error) {
	var commits []string
	for _, unpinnedOnly := range []bool{true, false} {
		for _, gs := range groups {
			if gs.Commit != "" && (!unpinnedOnly || !gs.Group.Pinned) {
				commits = append(commits, gs.Commit)
			}
		}
		if len(commits) > 0 {
			break
		}
	}
	if len(commits) == 0 {
		return "", nil
	}
	top := commits[0]
	for _, c := range commits[1:] {
		if c == top {
			continue
		}
		ok, err := a.IsAncestor(top, c)
		if err != nil {
			return "", err
		}
		if ok {
			top = c
			continue
		}
		if ok, err = a.IsAncestor(c, top); err != nil {
			return "", err
		} else if !ok {
			return "", &DivergedError{Groups: groups}
		}
	}
	return top, nil
}

// DivergedError says a ring's group branches hold commits on different
// lines of history, so the ring has no single position.
type DivergedError struct{ Groups []GroupState }

func (e *DivergedError) Error() string {
	var parts []string
	ring := ""
	for _, gs := range e.Groups {
		ring = gs.Group.Ring
		parts = append(parts, fmt.Sprintf("%s at %s", gs.Group.Branch, Short(gs.Commit)))
	}
	return fmt.Sprintf("ring %s has diverged: %s", ring, strings.Join(parts, ", "))
}

// OrderProblems checks the order invariant: each ring's position is an
// ancestor of, or equal to, the ring before it, the first ring's of dev.
// positions are in promotion order; "" positions are skipped.
func OrderProblems(devBranch, devHead string, names, positions []string, a Ancestry) ([]string, error) {
	var problems []string
	prevName, prev := devBranch, devHead
	for i, pos := range positions {
		if pos != "" && prev != "" {
			ok, err := a.IsAncestor(pos, prev)
			if err != nil {
				return nil, err
			}
			if !ok {
				problems = append(problems, fmt.Sprintf("ring %s is at %s, which is not on %s (at %s)", names[i], Short(pos), prevName, Short(prev)))
			}
		}
		if pos != "" {
			prevName, prev = names[i], pos
		}
	}
	return problems, nil
}
