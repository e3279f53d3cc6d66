// Package config owns ringflow.yaml: where it is found, how it is decoded
// (strictly, naming the key at fault) and the typed Config the rest of
// ringflow reads. It is the only importer of viper.
package config

import (
	"time"

	"github.com/ringflow/ringflow/pkg/freeze"
)

// DefaultVerifyTimeout limits one run of a ring's verify command when
// verify-timeout is not set.
const DefaultVerifyTimeout = 5 * time.Minute

// Config is a loaded, validated ringflow.yaml with environment and flag
// overrides applied.
type Config struct {
	File         string // the file read; "" when none was found
	Repo         string // repository holding the flake (work tree or bare)
	Remote       string // remote to fetch from and push to; "" = local branches only
	FlakeDir     string // flake directory inside the repository; "." = top
	Dev          string // the dev branch
	BranchPrefix string // prefix of every group branch
	Rings        []Ring // promotion order, first ring first
	Update       Update
	Build        Build
	Gates        Gates
	// Observe says where ringflow learns what each host runs; nil = it
	// does not look, and no ring has a converge gate.
	Observe *Observe
}

// Ring is one stage of the promotion order.
type Ring struct {
	Name string
	Soak time.Duration // how long a commit must sit here before the next ring may take it
	Auto bool          // `ringflow cycle` may promote this ring unattended
	// Verify is the command and its arguments, run without a shell, that
	// must succeed before a commit leaves this ring; nil = none.
	Verify []string
	// VerifyTimeout limits one run of Verify: DefaultVerifyTimeout unless
	// set; 0 when Verify is nil.
	VerifyTimeout time.Duration
	// Freeze holds the windows in which this ring does not move, in file
	// order; each has its Key, e.g. "rings[1].freeze[0]".
	Freeze []freeze.Window
	// Converge is how many of this ring's hosts must run a commit before
	// the next ring takes it: 100% when observe is set and converge is
	// not; the zero Converge (no gate) without observe.
	Converge Converge
	// MaxUnhealthy is how many of this ring's hosts may be unhealthy (as
	// observed) while the next ring takes from it: 0 unless set; only
	// with observe.
	MaxUnhealthy Tolerance
	// OnUnhealthy is what the cycle and watch do when more of this ring's
	// hosts than MaxUnhealthy turn unhealthy after it moved: OnUnhealthyHold
	// (the default with observe) or OnUnhealthyRollback; "" without observe.
	OnUnhealthy string
	Groups      []Group // at least one
	Key         string  // where it was declared, e.g. "rings[1]"
}

// Group is a set of hosts deploying from one branch.
type Group struct {
	Name   string
	Ring   string   // name of the ring holding it
	Branch string   // BranchPrefix + Name
	Hosts  []string // literal host names and glob patterns, in file order
	// HostPos is where each of Hosts is written; shorter (or nil) when
	// not known.
	HostPos []Pos
	Share   float64 // percent (0-100] of otherwise unnamed hosts; 0 = not a share group
	Pin     Pin
	PinPos  Pos    // where pin is written, when it is
	Key     string // where it was declared, e.g. "rings[2].groups[1]" or "rings[0]" for shorthand
}

// Pin holds a group branch still while its ring moves.
type Pin struct {
	Pinned bool
	Commit string // optional: the commit the branch is held at, as written
}

// Update configures `ringflow update`.
type Update struct {
	Inputs []string // inputs to refresh; empty = all
	Author string   // "Name <email>"
}

// Build configures `ringflow build`.
type Build struct {
	Attribute string   // attribute under nixosConfigurations.<host>
	Jobs      string   // "auto" or a number (0: only remote builders), handed to nix --max-jobs
	Builders  string   // handed to nix --builders
	Cache     string   // store to `nix copy --to` after a green build
	NixArgs   []string // extra arguments for every nix call
	// EvalWorkers is how many evaluator processes run at once; 0 = one
	// per core.
	EvalWorkers int
	// EvalMemory is the resident memory (bytes) past which an evaluator
	// process is replaced after its current host.
	EvalMemory int64
	// Timeout bounds each derivation's build (nix --timeout): a host whose
	// toplevel, or a dependency of it, builds longer is red with phase
	// timeout. 0 = ringflow sets no bound. DefaultBuildTimeout unless set.
	Timeout time.Duration
	// MaxSilent bounds how long a build may print nothing (nix
	// --max-silent-time); 0 = ringflow sets no bound (the default).
	MaxSilent time.Duration
}

// DefaultBuildTimeout is build.timeout when the config does not set it:
// long enough for a NixOS toplevel built from scratch on a small machine,
// short enough that a hanging build does not hold a night's cycle.
const DefaultBuildTimeout = 2 * time.Hour

// DefaultEvalMemory is build.eval-memory when the config does not set it:
// nix-eval-jobs' default too.
const DefaultEvalMemory = 4 << 30

// Gates configures promotion gates.
type Gates struct {
	SignedBy string // armored OpenPGP keyring; "" = no signature gate
}

// Ring returns the ring named name.
func (c *Config) Ring(name string) (*Ring, bool) {
	for i := range c.Rings {
		if c.Rings[i].Name == name {
			return &c.Rings[i], true
		}
	}
	return nil, false
}

// Groups returns every group in file order.
func (c *Config) Groups() []Group {
	var gs []Group
	for _, r := range c.Rings {
		gs = append(gs, r.Groups...)
	}
	return gs
}

// RingNames returns the ring names in promotion order.
func (c *Config) RingNames() []string {
	names := make([]string, len(c.Rings))
	for i, r := range c.Rings {
		names[i] = r.Name
	}
	return names
}

// BranchFor returns the branch of the group named group.
func (c *Config) BranchFor(group string) string { return c.BranchPrefix + group }
