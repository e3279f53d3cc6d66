#!/usr/bin/env bash
# The ringflow demo: a throwaway fleet of a dozen hosts with a bare remote,
# a config with canary / early / stable rings and a pinned field group, and
# one change walked from dev to stable. Run through `make demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
ringflow=$(realpath "${1:-bin/ringflow}")

: "${NIX_CONFIG:=$'experimental-features = nix-command flakes\nsubstituters =\nsandbox = false'}"
export NIX_CONFIG
# The demo commits as itself, whatever git identity the machine has.
export GIT_AUTHOR_NAME="ringflow demo" GIT_AUTHOR_EMAIL="demo@ringflow.invalid"
export GIT_COMMITTER_NAME="ringflow demo" GIT_COMMITTER_EMAIL="demo@ringflow.invalid"

demo=$(mktemp -d "${TMPDIR:-/tmp}/ringflow-demo.XXXXXX")
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "a throwaway fleet: 12 hosts, a stand-in nixpkgs, a bare remote"
hosts=(lab-1 lab-2 web-1 web-2 web-3 db-1 db-2 mail-1 sbc-north sbc-south sbc-east build-1)
go run ./scripts/fleetgen -dir "$demo" -salt "$(basename "$demo")" $(printf -- '-host %s ' "${hosts[@]}") | sed 's/^/  /'
cd "$demo/fleet"

cat > ringflow.yaml <<'YAML'
rings:
  - name: canary            # the lab machines take every change first
    hosts: ["lab-*"]
    soak: 0s
    auto: true
  - name: early             # 30% of the hosts no rule names, by a stable hash of the name
    share: 30%
    soak: 24h
    auto: true
  - name: stable
    soak: 72h
    auto: true
    groups:
      - name: stable
        hosts: ["*"]        # everything nothing else took
      - name: field-sbc     # boards out in the field: held until someone unpins them
        hosts: ["sbc-*"]
        pin: true
YAML
step "the config"
cat ringflow.yaml

step "create the ring branches on the remote"
run "$ringflow" init
run "$ringflow" check

step "who is where, and where each host deploys from"
run "$ringflow" hosts

step "the nightly update: the stand-in nixpkgs has a new commit"
echo "fleetgen.2" > ../nixpkgs/version
git -C ../nixpkgs commit -qam 'nixpkgs: a new release'
run "$ringflow" update
run git log --stat --format='%h %an: %s' -1 dev

step "a change lands on dev; it breaks web-3's build"
echo '# tuned on the demo' >> common.nix
sed -i 's/"name": "web-3"/"name": "web-3", "buildFail": true/' hosts.json
git commit -qam 'common: tune every host (and break web-3)'
git push -q origin dev
run git log --oneline -1

step "test-build every host at dev's head: web-3 is red (exit 4)"
run "$ringflow" build || echo "(exit $?: a host is red)"
run git notes --ref ringflow/evidence show dev | head -12

step "canary and early hold only green hosts: they move"
run "$ringflow" promote canary
run "$ringflow" promote early

step "stable holds web-3: the evidence gate holds it back, and early's 24h soak has not passed (exit 3)"
run "$ringflow" promote stable || echo "(exit $?: refused)"

step "the fix lands on dev, is built, and walks down the rings"
sed -i 's/"name": "web-3", "buildFail": true/"name": "web-3"/' hosts.json
git commit -qam 'web-3: fix the build'
git push -q origin dev
run "$ringflow" build
run "$ringflow" promote canary
run "$ringflow" promote early --dry-run
run "$ringflow" promote early
run "$ringflow" promote stable --force-soak --reason "demo: the fix cannot wait a day"

step "status: every ring holds the fix; field-sbc stayed pinned on the old nixpkgs"
run "$ringflow" status
run "$ringflow" diff field-sbc stable
run git -C ../origin.git branch -v
run "$ringflow" history

step "a trade show this week: early takes nothing until released"
run "$ringflow" hold early --reason "demo: trade show week"

step "the nightly job: nixpkgs moves again; one cycle updates, builds and promotes the auto rings"
echo "fleetgen.3" > ../nixpkgs/version
git -C ../nixpkgs commit -qam 'nixpkgs: another release'
run "$ringflow" cycle --metrics-file "$demo/ringflow.prom"
run grep -E '^ringflow_(cycle_success|cycle_rings_moved|ring_soak_left_seconds|ring_held)' "$demo/ringflow.prom"
run "$ringflow" release early --reason "demo: trade show over"
run "$ringflow" status

step "the field boards stayed put through all of it; now moved on purpose to the commit stable holds"
run "$ringflow" promote stable --group field-sbc --reason "demo: boards back at base"
run git -C ../origin.git branch -v
run "$ringflow" history stable

printf '\nThe demo fleet is in %s (remove it when done).\n' "$demo"
