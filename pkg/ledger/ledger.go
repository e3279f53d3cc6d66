// Package ledger keeps ringflow's append-only record of every ring
// movement, update, rollback and forced gate: a ref (refs/ringflow/ledger)
// whose commits are its entries, each carrying its entry as JSON in the
// commit message over the empty tree. An entry is appended in the same
// atomic ref change (locally) or push (remotely) as the movement it
// records, so neither can exist without the other.
package ledger

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/ring"
)

// Ref is where the ledger lives; `git log refs/ringflow/ledger` reads it.
const Ref = "refs/ringflow/ledger"

// Events.
const (
	EventInit     = "init"     // init created ring branches
	EventPromote  = "promote"  // a ring took a candidate
	EventRollback = "rollback" // a ring went back to a commit it held before
	EventUpdate   = "update"   // dev took a lock refresh
	EventAdopt    = "adopt"    // a ring's branches, moved outside ringflow, recorded where they stood
	EventRestore  = "restore"  // a ring's branches, moved outside ringflow, put back where the ledger had them
)

// Entry is one record.
type Entry struct {
	Event     string      `json:"event"`
	Ring      string      `json:"ring,omitempty"` // "" for dev
	Groups    []GroupMove `json:"groups,omitempty"`
	From      string      `json:"from,omitempty"` // the ring's position (a dev commit) before
	To        string      `json:"to,omitempty"`   // and after
	Candidate string      `json:"candidate,omitempty"`
	Actor     string      `json:"actor"`
	Time      time.Time   `json:"time"`
	Reason    string      `json:"reason,omitempty"`
	Gates     []string    `json:"gates,omitempty"`     // gates passed
	Skipped   []string    `json:"skipped,omitempty"`   // gates skipped on purpose (--force-soak), with Reason
	NoImpact  bool        `json:"no_impact,omitempty"` // no host of the ring changed derivation
	Reset     bool        `json:"reset,omitempty"`     // a rollback that rewound the branches

	Commit string `json:"-"` // the ledger commit holding the entry, when read
}

// GroupMove is one branch's movement within an entry.
type GroupMove struct {
	Group   string `json:"group"`
	Branch  string `json:"branch"`
	From    string `json:"from"` // branch head before ("" = created)
	To      string `json:"to"`   // branch head after
	Carries string `json:"carries,omitempty"`
}

// Message renders an entry as a ledger commit message: a subject a person
// can scan in `git log`, then the JSON.
func Message(e Entry) string {
	data, _ := json.MarshalIndent(e, "", "  ") // plain types: cannot fail
	return subject(e) + "\n\n" + string(data) + "\n"
}

func subject(e Entry) string {
	s := e.Event
	if e.Ring != "" {
		s += " " + e.Ring
	}
	if e.To != "" {
		s += " to " + ring.Short(e.To)
	}
	if e.Reason != "" {
		s += ": " + strings.SplitN(e.Reason, "\n", 2)[0]
	}
	// One line: the JSON body starts after the first blank line.
	return strings.Join(strings.Fields(s), " ")
}

// Decode reads the entry in a ledger commit's message. A message that is
// not an entry is an error naming the commit.
func Decode(commit, message string) (Entry, error) {
	var e Entry
	_, body, ok := strings.Cut(message, "\n\n")
	if !ok {
		return e, fmt.Errorf("ledger: entry %s has no JSON body", ring.Short(commit))
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		return e, fmt.Errorf("ledger: entry %s is not JSON: %w", ring.Short(commit), err)
	}
	if e.Event == "" || e.Time.IsZero() {
		return e, fmt.Errorf("ledger: entry %s lacks its event or time", ring.Short(commit))
	}
	e.Commit = commit
	return e, nil
}

// Reader reads the ledger, newest first (*Store); operations that only
// read it take this.
type Reader interface {
	Entries(max int) ([]Entry, error)
}

// Store reads and appends the ledger of one repository.
type Store struct {
	Repo     *gitrepo.Repo
	Remote   string // "" = local only
	Identity string // "Name <email>" of ledger commits
}

// TrackingRef holds the remote's ledger as last fetched.
func (s *Store) TrackingRef() string { return "refs/ringflow/remotes/" + s.Remote + "/ledger" }

// FetchSpec is the refspec that brings the remote's ledger home.
func (s *Store) FetchSpec() gitrepo.RefSpec { return gitrepo.RefSpec{Src: Ref, Dst: s.TrackingRef()} }

// Tip is the ledger's newest entry commit: the remote's when there is a
// remote, else the local ref; "" when the ledger is empty.
func (s *Store) Tip() (string, error) {
	ref := Ref
	if s.Remote != "" {
		ref = s.TrackingRef()
	}
	tip, _, err := s.Repo.Ref(ref)
	return tip, err
}

// Prepare writes the commit holding e on top of tip and returns it; no
// ref moves until the caller lands it together with the movement.
func (s *Store) Prepare(e Entry, tip string) (string, error) {
	return s.Repo.CommitTreeOf(tip, "", Message(e), s.Identity, e.Time)
}

// Entries reads the ledger newest first; max <= 0 reads all of it.
func (s *Store) Entries(max int) ([]Entry, error) {
	tip, err := s.Tip()
	if err != nil || tip == "" {
		return nil, err
	}
	log, err := s.Repo.Log("", tip, max)
	if err != nil {
		return nil, err
	}
	entries := make([]Entry, 0, len(log))
	for _, c := range log {
		msg := c.Subject
		if c.Body != "" {
			msg += "\n\n" + c.Body
		}
		e, err := Decode(c.Hash, msg)
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// OfRing keeps, in order, the entries of ring ringName; when ringName is
// dev, the dev branch's name, dev's own entries (those of no ring) too.
func OfRing(entries []Entry, ringName, dev string) []Entry {
	var out []Entry
	for _, e := range entries {
		if e.Ring == ringName || (ringName == dev && e.Ring == "") {
			out = append(out, e)
		}
	}
	return out
}
