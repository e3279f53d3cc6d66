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
	EventPin      = "pin"      // a group stays where it is when its ring moves (Group), until unpinned
	EventUnpin    = "unpin"    // a pinned group follows its ring again
	EventHold     = "hold"     // a ring takes no promotion, until released
	EventRelease  = "release"  // a held ring may move again
	// EventConverged: a ring's hosts were observed running To (observe:);
	// its soak counts from here.
	EventConverged = "converged"
)

// Entry is one record.
type Entry struct {
	Event string `json:"event"`
	Ring  string `json:"ring,omitempty"` // "" for dev
	// Group is the one group a pin or unpin is about, or the one group a
	// promotion moved (promote --group); "" for the whole ring.
	Group     string      `json:"group,omitempty"`
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
	// ConvergedAt, on a converged entry, is when the ring's hosts were
	// seen to have converged: the switch of the last host needed, as the
	// source reported it. Time is when ringflow recorded it, which may be
	// hours later (a nightly cycle). Zero when the source gives no times.
	ConvergedAt time.Time `json:"converged_at,omitzero"`

	Commit string `json:"-"` // the ledger commit holding the entry, when read

	// Undecodable is set, when read, on a ledger commit whose message is
	// not an entry (no JSON, bad JSON, no event or time): it stays in the
	// ledger, which is append-only, and every decision passes over it.
	// Only Commit is set besides.
	Undecodable *Undecodable `json:"-"`
}

// Undecodable is what is known of a ledger commit that holds no entry.
type Undecodable struct {
	Subject string    // the commit's first line
	Author  string    // "Name <email>" of the commit
	Time    time.Time // the commit's committer time
	Err     *DecodeError
}

// DecodeError says a ledger commit's message is not an entry.
type DecodeError struct {
	Commit string
	What   string // "has no JSON body", "is not JSON: …", "lacks its event or time"
	Err    error  // the JSON error, if any
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("ledger: entry %s %s", ring.Short(e.Commit), e.What)
}

func (e *DecodeError) Unwrap() error { return e.Err }

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
	if e.Group != "" {
		s += " group " + e.Group
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
// not an entry is a *DecodeError naming the commit.
func Decode(commit, message string) (Entry, error) {
	var e Entry
	_, body, ok := strings.Cut(message, "\n\n")
	if !ok {
		return e, &DecodeError{Commit: commit, What: "has no JSON body"}
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		return e, &DecodeError{Commit: commit, What: "is not JSON: " + err.Error(), Err: err}
	}
	if e.Event == "" || e.Time.IsZero() {
		return e, &DecodeError{Commit: commit, What: "lacks its event or time"}
	}
	e.Commit = commit
	return e, nil
}

// Reader reads the ledger's decoded entries, newest first (*Store);
// operations that only read it take this.
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

// Entries reads the ledger's decoded entries, newest first: what every
// decision (soak, rollback, where a ring last stood) reads, as an entry
// that does not decode records nothing to act on. max <= 0 reads all of
// them, else at most max.
func (s *Store) Entries(max int) ([]Entry, error) {
	all, err := s.Read(0)
	if err != nil {
		return nil, err
	}
	decoded := Decoded(all)
	if max > 0 && len(decoded) > max {
		decoded = decoded[:max]
	}
	return decoded, nil
}

// Read reads every commit of the ledger newest first, as history shows
// it: one whose message is not an entry comes back with Undecodable set,
// never as an error that stops the read. max <= 0 reads all of it.
func (s *Store) Read(max int) ([]Entry, error) {
	tip, err := s.Tip()
	if err != nil || tip == "" {
		return nil, err
	}
	return readLog(s.Repo, "", tip, max)
}

// logReader is what reading the ledger needs of a repository
// (*gitrepo.Repo).
type logReader interface {
	Log(base, tip string, max int) ([]gitrepo.CommitInfo, error)
}

// readLog reads the ledger commits in base..tip, newest first.
func readLog(r logReader, base, tip string, max int) ([]Entry, error) {
	log, err := r.Log(base, tip, max)
	if err != nil {
		return nil, err
	}
	entries := make([]Entry, 0, len(log))
	for _, c := range log {
		entries = append(entries, FromCommit(c))
	}
	return entries, nil
}

// FromCommit reads the entry a ledger commit holds, or says what it holds
// instead (Undecodable).
func FromCommit(c gitrepo.CommitInfo) Entry {
	msg := c.Subject
	if c.Body != "" {
		msg += "\n\n" + c.Body
	}
	e, err := Decode(c.Hash, msg)
	if err == nil {
		return e
	}
	de, _ := err.(*DecodeError) // Decode fails with nothing else
	author := c.Author
	if c.AuthorEmail != "" {
		author += " <" + c.AuthorEmail + ">"
	}
	return Entry{Commit: c.Hash, Undecodable: &Undecodable{Subject: c.Subject, Author: strings.TrimSpace(author), Time: c.Time, Err: de}}
}

// Decoded keeps, in order, the entries that decoded.
func Decoded(entries []Entry) []Entry {
	out := make([]Entry, 0, len(entries))
	for _, e := range entries {
		if e.Undecodable == nil {
			out = append(out, e)
		}
	}
	return out
}

// Undecodables keeps, in order, the entries that did not decode.
func Undecodables(entries []Entry) []Entry {
	var out []Entry
	for _, e := range entries {
		if e.Undecodable != nil {
			out = append(out, e)
		}
	}
	return out
}

// OfRing keeps, in order, the entries of ring ringName; when ringName is
// dev, the dev branch's name, dev's own entries (those of no ring) too.
// An entry that did not decode belongs to no ring.
func OfRing(entries []Entry, ringName, dev string) []Entry {
	var out []Entry
	for _, e := range entries {
		if e.Undecodable != nil {
			continue
		}
		if e.Ring == ringName || (ringName == dev && e.Ring == "") {
			out = append(out, e)
		}
	}
	return out
}

// Pins are the groups pinned by the ledger: for each group, its newest pin
// or unpin entry, when that is a pin. entries are newest first.
func Pins(entries []Entry) map[string]Entry {
	return latest(entries, EventPin, EventUnpin, func(e Entry) string { return e.Group })
}

// Holds are the rings held by the ledger: for each ring, its newest hold or
// release entry, when that is a hold. entries are newest first.
func Holds(entries []Entry) map[string]Entry {
	return latest(entries, EventHold, EventRelease, func(e Entry) string { return e.Ring })
}

// latest keeps, per key, the newest entry of event on or event off, when it
// is on.
func latest(entries []Entry, on, off string, key func(Entry) string) map[string]Entry {
	seen := map[string]bool{}
	active := map[string]Entry{}
	for _, e := range entries {
		if e.Undecodable != nil || (e.Event != on && e.Event != off) {
			continue
		}
		k := key(e)
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		if e.Event == on {
			active[k] = e
		}
	}
	return active
}
