#!/usr/bin/env bash
# Keeps flake.nix's vendorHash in step with go.mod and go.sum, without nixpkgs
# (and without network when the module cache holds every module).
#
#   scripts/update-vendor-hash.sh           rewrite the vendorHash line of flake.nix
#   scripts/update-vendor-hash.sh --check   only compare; exit 1 naming the right hash when stale
#
# Exit codes: 0 current (or updated), 1 stale (--check), 2 bad usage, 3 the
# hash could not be computed (go or nix missing, a module not in the cache).
#
# How: buildGoModule's vendorHash is the hash of a fixed-output derivation
# (goModules) whose output is exactly the directory `go mod vendor` writes
# (modules.txt included), hashed recursively: the sha256 of its NAR
# serialisation, in SRI form. So `go mod vendor -o DIR` here and
# `nix hash path DIR` give the same value, as long as:
#   - the go here and nixpkgs' go write the same vendor layout (true across
#     Go releases so far; a new one that changed modules.txt would differ:
#     the build then fails with "hash mismatch" and prints the right hash);
#   - `go mod vendor` sees the same packages: the flake's src keeps go.mod,
#     go.sum and every .go file, the go tool reads nothing else, and this
#     script vendors a copy of exactly those files;
#   - no vendored file is executable (the NAR keeps only that mode bit; module
#     zips carry no modes, so `go mod vendor` writes every file 0644).
set -euo pipefail

usage() { sed -n '2,6s/^# \{0,1\}//p' "$0"; }

check=false
case $# in
0) ;;
1)
	case $1 in
	--check) check=true ;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		usage >&2
		exit 2
		;;
	esac
	;;
*)
	usage >&2
	exit 2
	;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
flake=$root/flake.nix

fail() {
	echo "update-vendor-hash: $*" >&2
	exit 3
}
command -v go >/dev/null || fail "go is not on PATH"
command -v nix >/dev/null || fail "nix is not on PATH"

# The one line to maintain: vendorHash = "…";
pattern='^([[:space:]]*vendorHash[[:space:]]*=[[:space:]]*")([^"]*)(";.*)$'
n=$(grep -cE "$pattern" "$flake" || true)
[[ $n == 1 ]] || fail "$flake: want exactly one 'vendorHash = \"…\";' line, found $n"
current=$(sed -nE "s/$pattern/\\2/p" "$flake")

tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT

# The flake's src in miniature: go.mod, go.sum and every .go file, copied,
# so that `go mod vendor` sees what the build sees and cannot touch the
# project's own go.mod or go.sum. (The flake, as a git flake, sees tracked
# files only; this sees the work tree: commit new .go files before building.)
mkdir "$tmp/src"
(
	cd "$root"
	{
		printf '%s\0' go.mod go.sum
		find . \( -name .git -o -path ./vendor \) -prune -o -type f -name '*.go' -print0
	} | tar --null -T - -cf -
) | tar -xf - -C "$tmp/src" || fail "copying the Go sources failed"

# As buildGoModule's goModules does: no workspace, no toolchain switch, no
# GOFLAGS from the caller; GOPROXY as the caller has it (the cache comes first).
(
	cd "$tmp/src"
	GOWORK=off GOTOOLCHAIN=local GOFLAGS= GO111MODULE=on go mod vendor -o "$tmp/vendor"
) || fail "go mod vendor failed (offline, every module must be in $(go env GOMODCACHE))"
# buildGoModule refuses an empty vendor directory (vendorHash = null then).
[[ -n $(ls -A "$tmp/vendor") ]] || fail "no dependencies to vendor: use vendorHash = null"

want=$(nix --extra-experimental-features nix-command hash path --sri "$tmp/vendor") ||
	fail "nix hash path failed"

if [[ $current == "$want" ]]; then
	echo "vendorHash is current: $want ($(go env GOVERSION))"
	exit 0
fi
if $check; then
	echo "flake.nix: vendorHash is stale: it says ${current:-(empty)}, go.mod/go.sum need $want" >&2
	echo "run scripts/update-vendor-hash.sh" >&2
	exit 1
fi

# Rewrite in place (same inode, so mode and ownership stay).
sed -E "s|$pattern|\\1$want\\3|" "$flake" >"$tmp/flake.nix"
cat "$tmp/flake.nix" >"$flake"
echo "vendorHash: ${current:-(empty)} -> $want"
