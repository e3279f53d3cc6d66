#!/usr/bin/env bash
# Times `ringflow build` against one hand-written `nix build --keep-going` of
# every toplevel, on generated fleets with fresh derivations for each side,
# the two sides alternated ROUNDS times. Usage:
#   scripts/bench-build.sh [HOSTS] [ROUNDS] [PKGS_FILES] [PKGS_BYTES] [WORK]
set -euo pipefail
cd "$(dirname "$0")/.."
hosts=${1:-60} rounds=${2:-3} pkgs_files=${3:-200} pkgs_bytes=${4:-20000} work=${5:-20000}
: "${NIX_CONFIG:=$'experimental-features = nix-command flakes\nsubstituters =\nsandbox = false'}"
export NIX_CONFIG
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@ringflow.invalid GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@ringflow.invalid
make -s build
ringflow=$PWD/bin/ringflow
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ringflow-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

gen() { # DIR SALT: a fleet whose every host costs $work evaluation steps
	local args=(-dir "$1" -hosts "$hosts" -salt "$2" -pkgs-files "$pkgs_files" -pkgs-bytes "$pkgs_bytes")
	for i in $(seq -f '%03g' 1 "$hosts"); do args+=(-work "host-$i=$work"); done
	go run ./scripts/fleetgen "${args[@]}" >/dev/null
}
now() { date +%s.%N; }

printf 'hosts=%s pkgs=%sx%sB work=%s nix=%s cores=%s\n' "$hosts" "$pkgs_files" "$pkgs_bytes" "$work" "$(nix --version)" "$(nproc)"
printf '%-6s %12s %12s %8s\n' round ringflow_s nix_build_s ratio
for r in $(seq 1 "$rounds"); do
	salt="$(basename "$tmp")-$r"
	gen "$tmp/a$r" "a-$salt"
	gen "$tmp/b$r" "b-$salt"
	# ringflow: every host at dev's head, straight from git.
	printf 'remote: ""\nrings:\n  - name: all\n    hosts: ["*"]\n' > "$tmp/a$r/ringflow.yaml"
	t0=$(now)
	(cd "$tmp/a$r/fleet" && "$ringflow" --config "$tmp/a$r/ringflow.yaml" build >/dev/null 2>&1)
	t1=$(now)
	# by hand: one nix build of every toplevel.
	rev=$(git -C "$tmp/b$r/fleet" rev-parse dev)
	installables=()
	for i in $(seq -f '%03g' 1 "$hosts"); do
		installables+=("git+file://$tmp/b$r/fleet?rev=$rev#nixosConfigurations.host-$i.config.system.build.toplevel")
	done
	t2=$(now)
	nix build --no-link --keep-going "${installables[@]}" 2>/dev/null
	t3=$(now)
	awk -v r="$r" -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" \
		'BEGIN { printf "%-6s %12.2f %12.2f %8.2f\n", r, b-a, d-c, (b-a)/(d-c) }'
done
