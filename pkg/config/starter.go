package config

import (
	"fmt"
	"strconv"
	"strings"
)

// starterShareMin is the fleet size from which the starter adds an early
// ring taking 20%: below it, 20% is at most one host.
const starterShareMin = 5

// StarterYAML renders a commented ringflow.yaml for a fleet with the given
// hosts, as `ringflow init` writes it: the first host is the canary, and
// every host is otherwise stable. It loads without problems.
func StarterYAML(hosts []string) string {
	def := Default()
	var b strings.Builder
	b.WriteString(`# ringflow.yaml: how commits of this fleet flake move from the dev branch
# through rings of hosts. Each group of hosts deploys from its own branch,
# <branch-prefix><group>; ringflow only ever fast-forwards those branches.

repo: .                 # git repository holding the flake (work tree or bare)
remote: origin          # fetch from and push to it; "" = local branches only
flake-dir: .            # the flake's directory inside the repository
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
		fmt.Fprintf(&b, `  - name: canary
    hosts: [%s]%s# named hosts, or globs such as "lab-*"
    soak: 1h                   # how long a commit sits here before the next ring may take it
    auto: true                 # "ringflow cycle" may promote this ring unattended
    # verify: [/usr/local/bin/check-health, --ring, canary]   # must pass before a commit moves on; no shell
    # verify-timeout: 5m
    # converge: 100%%           # with observe: hosts that must run a commit before the next ring takes it
`, strconv.Quote(hosts[0]), pad(len(strconv.Quote(hosts[0]))))
	}
	if len(hosts) >= starterShareMin {
		b.WriteString(`  - name: early
    share: 20%                 # 20% of the hosts no other rule names, by a stable hash
    soak: 24h
`)
	}
	b.WriteString(`  - name: stable
    hosts: ["*"]               # every host nothing else takes
    # groups:                  # or split a ring into groups, each on its own branch:
    #   - name: field
    #     hosts: ["sbc-*"]
    #     pin: true            # hold this branch while the ring moves
    # freeze:                  # windows in which this ring does not move
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
