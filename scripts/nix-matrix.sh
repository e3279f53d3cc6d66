#!/usr/bin/env bash
# The Nix matrix: ringflow's Nix-facing tests against other Nix versions.
#
#   scripts/nix-matrix.sh [RELEASE...]
#   scripts/nix-matrix.sh --setup [RELEASE...]   only make the roots
#
# After `go test ./...` has passed on this machine's Nix (Debian 12's 2.8),
# `make test` runs this: every test that runs nix — the end-to-end scripts
# (./cmd/ringflow), the nix package, the races, the ssh remote suite, the
# observed fleet (./test/observe: simulated hosts, a real Prometheus) and the
# fleet generator — once more in a Debian root of each RELEASE (default:
# trixie for Nix 2.26, sid for the newest Nix), made by scripts/nix-chroot.sh
# on first use and reused after. Left to the machine's Nix: ./test/crash
# (kill -9 of git and of whole process groups; nix is incidental there, and
# it takes minutes) and ./configs (systemd-analyze, which the roots lack).
# It prints each release's Nix version, go test's output and one line per
# release, and exits 1 if any failed. ./test/remotebuilder runs in each
# root with the other root (trixie for sid, sid for trixie) as the remote
# builder, so each Nix is the client once; `make test` runs it on the
# machine's Nix against the trixie root, which --setup makes first.
#
# RINGFLOW_NIX_MATRIX="trixie" (or "sid", or "none") narrows it; the roots
# need root to make and enter: without root it fails when CI is set and is
# skipped, saying so, otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

setup_only=
if [[ ${1:-} == --setup ]]; then
	setup_only=1
	shift
fi
releases=("$@")
if [[ ${#releases[@]} -eq 0 ]]; then
	read -r -a releases <<<"${RINGFLOW_NIX_MATRIX:-trixie sid}"
fi
[[ ${releases[*]} == none ]] && {
	echo "nix-matrix: skipped (RINGFLOW_NIX_MATRIX=none)"
	exit 0
}
packages=(./cmd/ringflow ./pkg/nix ./test/race ./test/sshremote ./test/remotebuilder ./test/observe ./pkg/fleetgen ./scripts/fleetgen)

# builder_of RELEASE: the release whose root is RELEASE's remote builder.
builder_of() { if [[ $1 == sid ]]; then echo trixie; else echo sid; fi; }

if [[ $(id -u) -ne 0 ]]; then
	if [[ -n ${CI:-} ]]; then
		echo "nix-matrix: needs root to make and enter the Debian roots of ${releases[*]}, and CI is set" >&2
		exit 1
	fi
	echo "nix-matrix: skipped: needs root (debootstrap, chroot); as root: scripts/nix-matrix.sh" >&2
	exit 0
fi

# As the Makefile sets it, when run by hand.
: "${NIX_CONFIG:=$'experimental-features = nix-command flakes\nsubstituters =\nsandbox = false'}"
export NIX_CONFIG

if [[ -n $setup_only ]]; then
	for rel in "${releases[@]}"; do
		scripts/nix-chroot.sh setup "$rel"
	done
	exit 0
fi

# Every module the tests need must be in the cache: inside, GOPROXY=off.
go mod download

failed=()
summary=()
for rel in "${releases[@]}"; do
	scripts/nix-chroot.sh setup "$rel"
	builder=$(builder_of "$rel")
	scripts/nix-chroot.sh setup "$builder"
	version=$(scripts/nix-chroot.sh version "$rel")
	echo "=== nix-matrix: $rel, $version (remote builder: the $builder root): go test ${packages[*]}"
	start=$SECONDS
	# CI=true inside: the roots have every tool the tests use, so a test that
	# skips for a missing one would hide a gap in nix-chroot.sh.
	if CI=true RINGFLOW_BUILDER_ROOT=$(scripts/nix-chroot.sh path "$builder") \
		scripts/nix-chroot.sh run "$rel" go test -count=1 "${packages[@]}"; then
		summary+=("nix-matrix: $rel ($version): ok in $((SECONDS - start)) s")
	else
		summary+=("nix-matrix: $rel ($version): FAILED after $((SECONDS - start)) s")
		failed+=("$rel")
	fi
done
printf '%s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
	echo "nix-matrix: failed on ${failed[*]}; rerun one with: scripts/nix-matrix.sh ${failed[0]}" >&2
	exit 1
fi
