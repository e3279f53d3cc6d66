// Package evidence keeps the results of test-building hosts at a commit
// as a git note on that commit (refs/notes/ringflow/evidence), one JSON
// document per commit, so plain git can read it and it travels with the
// branches. Writes are compare-and-swap: a racing writer's hosts are merged
// in, never overwritten.
package evidence

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"
)

// Ref is the notes ref evidence lives under; `git notes --ref
// ringflow/evidence show <commit>` prints a commit's evidence.
const Ref = "refs/notes/ringflow/evidence"

// Status of one host at one commit.
const (
	Green = "green"
	Red   = "red"
)

// Phase a red host failed in.
const (
	PhaseEval  = "eval"
	PhaseBuild = "build"
	// PhaseTimeout: nix stopped its build, or a dependency's, at
	// build.timeout or build.max-silent.
	PhaseTimeout = "timeout"
)

// Note is the evidence of one commit.
type Note struct {
	Commit string          `json:"commit"`
	Hosts  map[string]Host `json:"hosts"`
	// Malformed are the notes on the commit that are not ringflow's
	// evidence (Store.Get): they count as no evidence.
	Malformed []Malformed `json:"-"`
}

// Host is the result of test-building one host at the note's commit.
type Host struct {
	Status  string  `json:"status"`        // green or red
	Phase   string  `json:"phase"`         // eval, build or timeout: how far it got
	Drv     string  `json:"drv,omitempty"` // the derivation, when evaluation succeeded
	Out     string  `json:"out,omitempty"` // its output path
	Seconds float64 `json:"seconds"`       // evaluation plus build time spent here
	// EvalSeconds and BuildSeconds split Seconds: the host's own
	// evaluation, and its toplevel's build here.
	EvalSeconds  float64 `json:"eval_seconds,omitempty"`
	BuildSeconds float64 `json:"build_seconds,omitempty"`
	// Builder is where the toplevel was built: "local", or the remote
	// builder's store URI (ssh-ng://…); absent when it was not built.
	Builder string    `json:"builder,omitempty"`
	Reused  bool      `json:"reused"`          // not built: the output was valid, or the drv green before
	Error   string    `json:"error,omitempty"` // the evaluation error, or the build log's last lines
	Nix     string    `json:"nix"`             // the Nix that judged it, e.g. "nix 2.8.0"
	Time    time.Time `json:"time"`
	Cache   string    `json:"cache,omitempty"` // the store the output was copied to after a green build
}

// Decode reads a note; an empty or missing note is an empty Note. A note
// that is not ringflow's JSON is a *MalformedError naming the commit.
func Decode(commit string, data []byte) (*Note, error) {
	n := &Note{Commit: commit, Hosts: map[string]Host{}}
	if len(data) == 0 {
		return n, nil
	}
	if err := json.Unmarshal(data, n); err != nil {
		return nil, &MalformedError{Commit: commit, Reason: jsonFault(err)}
	}
	// A note copied from another commit says nothing about this one.
	if n.Commit != "" && n.Commit != commit {
		return nil, &MalformedError{Commit: commit, Reason: "it is the evidence of " + n.Commit + ", not of this commit"}
	}
	if n.Hosts == nil {
		n.Hosts = map[string]Host{}
	}
	for _, name := range n.Names() {
		if h := n.Hosts[name]; h.Status != Green && h.Status != Red {
			return nil, &MalformedError{Commit: commit, Reason: fmt.Sprintf("host %q has status %q, want green or red", name, h.Status)}
		}
	}
	n.Commit = commit
	return n, nil
}

// jsonFault says what is wrong with a note's JSON, where the decoder can
// tell.
func jsonFault(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn) && syn.Error() == "unexpected end of JSON input":
		return "cut short: unexpected end of JSON input"
	case errors.As(err, &syn):
		return fmt.Sprintf("not valid JSON: %v at byte %d", syn, syn.Offset)
	case errors.As(err, &typ) && typ.Field != "":
		return fmt.Sprintf("%s is a JSON %s, not ringflow's %s", typ.Field, typ.Value, typ.Type)
	}
	return "not ringflow's JSON: " + err.Error()
}

// Encode renders a note as indented JSON, hosts in name order.
func (n *Note) Encode() []byte {
	b, _ := json.MarshalIndent(n, "", "  ") // cannot fail: plain types only
	return append(b, '\n')
}

// Merge adds other's hosts to n: for a host in both, the later result
// wins, so a rebuild replaces an old failure and racing writers of
// different hosts both survive.
func (n *Note) Merge(other *Note) {
	if other == nil {
		return
	}
	for name, h := range other.Hosts {
		if cur, ok := n.Hosts[name]; !ok || h.Time.After(cur.Time) {
			n.Hosts[name] = h
		}
	}
}

// Names returns the host names in order.
func (n *Note) Names() []string {
	names := make([]string, 0, len(n.Hosts))
	for h := range n.Hosts {
		names = append(names, h)
	}
	sort.Strings(names)
	return names
}

// Tally counts green, red and missing among hosts.
type Tally struct {
	Green   int `json:"green"`
	Red     int `json:"red"`
	Missing int `json:"missing"`
}

// Tally counts hosts by their status in n (missing when n has none). A
// green entry without its drv and out path counts as missing: nothing
// shows it was built (see Host.HasPaths).
func (n *Note) Tally(hosts []string) Tally {
	var t Tally
	for _, h := range hosts {
		switch e := n.Hosts[h]; {
		case e.Status == Green && e.HasPaths():
			t.Green++
		case e.Status == Red:
			t.Red++
		default:
			t.Missing++
		}
	}
	return t
}

// StatusOf maps each host to its status ("" = never built here).
func (n *Note) StatusOf(hosts []string) map[string]string {
	m := make(map[string]string, len(hosts))
	for _, h := range hosts {
		m[h] = n.Hosts[h].Status
	}
	return m
}
