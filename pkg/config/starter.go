package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// starterShareMin is the fleet size from which the starter adds an early
// ring taking 20%: below it, 20% is at most one host.
const starterShareMin = 5

// CanaryWords are the name parts that make init propose a host for the
// canary ring: machines kept for trying things out.
var CanaryWords = []string{"lab", "test", "testing", "canary", "staging", "dev", "ci", "vm", "sandbox"}

// FieldWords are the name parts that mark a host as a field board: init
// never proposes it for canary, and gives it a group of its own in the
// last ring, so that it can be pinned.
var FieldWords = []string{"field", "sbc", "rpi", "pi", "board"}

// Starter is the ringflow.yaml `ringflow init` proposes for a fleet.
type Starter struct {
	Hosts  []string // every host, as the flake names them
	Remote string   // "" = local branches only
	// Canary are the canary ring's hosts: those whose names look like lab
	// or test machines (ByName), else the first host that is no field board.
	Canary []string
	ByName bool
	Why    string // why these: a phrase for init to print
	// Field are the hosts whose names look like field boards (and are not
	// canary): the last ring's group "field".
	Field []string
}

// NewStarter proposes rings for hosts, by their names (CanaryWords,
// FieldWords). A word is a run of letters in the name, any case:
// "lab-1", "Lab2" and "ci-runner" match, "labrador" does not.
func NewStarter(hosts []string, remote string) Starter {
	s := Starter{Hosts: hosts, Remote: remote}
	var field []string
	for _, h := range hosts {
		switch {
		case nameHasWord(h, FieldWords):
			field = append(field, h)
		case nameHasWord(h, CanaryWords):
			s.Canary = append(s.Canary, h)
		}
	}
	s.ByName, s.Why = len(s.Canary) > 0, "names look like lab or test machines"
	switch {
	case len(hosts) == 0:
		s.Why = ""
	case len(s.Canary) > 0 && len(s.Canary)+len(field) == len(hosts):
		// Nothing would be left for the rings after canary: a name says
		// nothing here.
		s.Canary, s.ByName = nil, false
		s.Why = "the first host: by name every host would be canary or field"
	case len(s.Canary) == 0:
		s.Why = "the first host: no name looks like a lab or test machine"
	}
	if len(s.Canary) == 0 && len(hosts) > 0 {
		first := hosts[0]
		if i := slices.IndexFunc(hosts, func(h string) bool { return !slices.Contains(field, h) }); i >= 0 {
			first = hosts[i]
		}
		s.Canary = []string{first}
	}
	for _, h := range field {
		if !slices.Contains(s.Canary, h) {
			s.Field = append(s.Field, h)
		}
	}
	return s
}

// nameHasWord says whether one of the runs of letters in name is one of words.
func nameHasWord(name string, words []string) bool {
	parts := strings.FieldsFunc(strings.ToLower(name), func(r rune) bool { return !unicode.IsLetter(r) })
	return slices.ContainsFunc(parts, func(p string) bool { return slices.Contains(words, p) })
}

// HasEarly says whether the starter has an early ring, taking a share.
func (s Starter) HasEarly() bool { return len(s.Hosts) >= starterShareMin }

// StarterYAML is the starter for hosts with remote origin.
func StarterYAML(hosts []string) string { return NewStarter(hosts, "origin").YAML() }

// yamlList renders names as a flow list of quoted strings.
func yamlList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// YAML renders the starter as the commented ringflow.yaml `ringflow init`
// writes. It loads without problems.
func (s Starter) YAML() string {
	hosts := s.Hosts
	def := Default()
	var b strings.Builder
	b.WriteString(`# ringflow.yaml: how commits of this fleet flake move from the dev branch
# through rings of hosts. Each group of hosts deploys from its own branch,
# <branch-prefix><group>; ringflow only ever fast-forwards those branches.

repo: .                 # git repository holding the flake (work tree or bare)
`)
	if s.Remote == "" {
		b.WriteString(`remote: ""              # local branches only: no git remote yet (after "git remote add origin URL", set origin)
`)
	} else {
		fmt.Fprintf(&b, "remote: %s%s# fetch from and push to it; \"\" = local branches only\n", s.Remote, pad(len(s.Remote)+2))
	}
	b.WriteString(`flake-dir: .            # the flake's directory inside the repository
dev: dev                # the branch new commits land on
branch-prefix: ""       # prefix of every group branch, e.g. "deploy/"

`)
	fmt.Fprintf(&b, "# Rings, in promotion order. This flake has %d host(s)", len(hosts))
	if len(hosts) == 0 {
		b.WriteString("; name them once it has some.\n")
	} else {
		b.WriteString(".\n")
	}
	b.WriteString("rings:\n")
	if len(hosts) > 0 {
		why := "named hosts, or globs such as \"lab-*\""
		if s.ByName {
			why = "names that look like lab or test machines"
		}
		list := yamlList(s.Canary)
		fmt.Fprintf(&b, `  - name: canary
    hosts: %s%s# %s
    soak: 1h                   # how long a commit sits here before the next ring may take it
    auto: true                 # "ringflow cycle" may promote this ring unattended
    # verify: [/usr/local/bin/check-health, --ring, canary]   # must pass before a commit moves on; no shell
    # verify-timeout: 5m
    # converge: 100%%           # with observe: hosts that must run a commit before the next ring takes it
`, list, pad(len(list)-2), why)
	}
	if s.HasEarly() {
		b.WriteString(`  - name: early
    share: 20%                 # 20% of the hosts no other rule names, by a stable hash
    soak: 24h
`)
	}
	b.WriteString("  - name: stable\n")
	if len(s.Field) == 0 {
		b.WriteString(`    hosts: ["*"]               # every host nothing else takes
    # groups:                  # or split a ring into groups, each on its own branch:
    #   - name: field
    #     hosts: ["sbc-*"]
    #     pin: true            # hold this branch while the ring moves
`)
	} else {
		fmt.Fprintf(&b, `    groups:                    # each group on its own branch
      - name: stable
        hosts: ["*"]           # every host nothing else takes
      - name: field
        hosts: %s  # names that look like field boards
        # pin: true            # hold this branch while the ring moves
`, yamlList(s.Field))
	}
	b.WriteString(`    # freeze:                  # windows in which this ring does not move
    #   - days: [fri]          # mon … sun, weekdays, weekend, daily; default every day
    #     from: "18:00"        # until "to" on the next day when to is before from
    #     to: "08:00"
    #     timezone: Europe/Berlin   # default UTC
    #   - start: 2026-12-20T00:00:00Z   # one-off; end exclusive
    #     end: 2027-01-06T00:00:00Z
    #     reason: holidays

`)
	fmt.Fprintf(&b, `update:
  inputs: []            # flake inputs "ringflow update" refreshes; empty = all
  author: %s
build:
  attribute: %s
  jobs: %s            # nix --max-jobs: auto or a number (0: only on builders)
  builders: ""          # nix --builders, for remote builders
  cache: ""             # "nix copy --to" this store after a green build
  nix-args: []          # extra arguments for every nix call
  eval-workers: auto    # evaluator processes at once: auto (one per core) or a number
  eval-memory: 4GiB     # an evaluator past this much memory is replaced after its current host
  timeout: 2h           # nix --timeout: a build of a host's toplevel (or of a dependency) running longer is stopped, the host red; none = no bound
  max-silent: none      # nix --max-silent-time: a build printing nothing for this long is stopped, e.g. 30m
gates:
  signed-by: ""         # armored OpenPGP keyring: candidates must be signed by one of its keys

# Where ringflow learns what each host runs: one of prometheus, ssh or command.
# With it, a ring's converge (default 100%%) must hold before the next ring moves.
# observe:
#   prometheus: {url: "http://prometheus.example.org:9090", host-label: instance, timeout: 10s}
#   # ssh: {target: "root@{host}.example.org", command: "readlink -f /run/current-system", timeout: 10s, parallel: 8}
#   # command: ["/usr/local/bin/fleet-running", "--json"]
`, strconv.Quote(def.Update.Author), def.Build.Attribute, def.Build.Jobs)
	return b.String()
}

// pad aligns a trailing comment after a hosts list of width n.
func pad(n int) string {
	return strings.Repeat(" ", max(18-n, 2))
}
