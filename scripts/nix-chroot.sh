#!/usr/bin/env bash
# Debian roots with another Nix, for running ringflow's tests against it.
#
#   scripts/nix-chroot.sh setup RELEASE        make the root (once; reused after)
#   scripts/nix-chroot.sh run RELEASE CMD...   run CMD in it, in this repository
#   scripts/nix-chroot.sh path RELEASE         print where the root lives
#   scripts/nix-chroot.sh version RELEASE      print its nix --version
#
# RELEASE is a Debian suite whose nix-bin is the Nix wanted: trixie (Nix 2.26)
# or sid (the newest, 2.34 at the time of writing).
#
# The roots live in $RINGFLOW_CHROOT_DIR (default ~/.cache/ringflow/chroots),
# outside the clone, so that a fresh clone on the same machine reuses them.
# A root is made with debootstrap (minbase) and Debian's nix-bin, git, gnupg,
# prometheus (promtool), util-linux (flock), util-linux-extra (pivot_root, which
# sid moved there; test/remotebuilder enters a root from inside another) and
# openssh-server, the same tools scripts/install-deps.sh puts on the machine
# itself; nix-setup-systemd makes
# the nixbld group Nix builds as. A root that is complete carries a stamp file;
# one that is not (a killed setup) is made again from scratch.
#
# Every root shares this machine's kernel, so user ids are shared too: Debian
# gives a root's nixbld users and its sshd the same low system ids it gave
# other users here (sid's sshd got 995, this machine's nixbld2 and trixie's
# nixbld1). Before and after each build Nix kills every process of the build
# user, and so killed a builder root's sshd sessions: nix then said "cannot
# build on ssh-ng://…: unexpected end-of-file" and gave up with "unable to
# start any build". So setup moves each root's nixbld users and group and its
# sshd user to ids of their own, a random range above 200000 that no Debian
# allocates (recorded in .ringflow-ids).
#
# `run` binds this machine's Go toolchain, module cache and this repository at
# the same paths inside, mounts /proc, /dev and a fresh /tmp, all in a private
# mount namespace (nothing leaks into the machine's mounts, even on a kill),
# and runs CMD as root with HOME=/root, the caller's NIX_CONFIG and CI,
# GOPROXY=off (every module is already in the cache) and CGO off (the root
# has no C compiler). With RINGFLOW_BUILDER_ROOT set to another root, that
# root is bound in too and the variable names it inside, for
# test/remotebuilder's builder.
#
# Needs root (debootstrap, chroot, mount) and debootstrap (installed here if
# missing). Exit codes: CMD's own with run; 2 bad usage; 3 the root could not
# be made.
set -euo pipefail

root_dir=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib/debian-root.sh
. "$root_dir/scripts/lib/debian-root.sh"
chroots=${RINGFLOW_CHROOT_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ringflow/chroots}
packages=(nix-bin nix-setup-systemd git gnupg prometheus util-linux util-linux-extra openssh-server openssh-client ca-certificates)
stamp_version=3 # bump when the package list changes

usage() {
	sed -n '2,10s/^# \{0,1\}//p' "$0"
}

fail() {
	echo "nix-chroot: $*" >&2
	exit 3
}

need_root() {
	[[ $(id -u) -eq 0 ]] || fail "$1 needs root (debootstrap, chroot and mount): run it as root"
}

check_release() {
	case $1 in
	trixie | sid) ;;
	*)
		echo "nix-chroot: unknown release \"$1\" (known: trixie, sid)" >&2
		exit 2
		;;
	esac
}

stamp_of() { echo "$chroots/$1/.ringflow-ready"; }

ids_of() { echo "$chroots/$1/.ringflow-ids"; }

# own_ids RELEASE: the root's build users, their group and its sshd user
# move to ids no other root and nothing on this machine has (see above);
# once per root.
own_ids() {
	local rel=$1
	[[ -f $(ids_of "$rel") ]] && return 0
	# 100-id steps from 200000 to below 2^31 (some tools take ids as signed).
	local base=$((200000 + 100 * ((RANDOM << 15 | RANDOM) % 20000000)))
	in_root "$rel" /bin/sh -ec '
		base=$1
		groupmod -g "$base" nixbld
		i=0
		for u in $(getent group nixbld | cut -d: -f4 | tr , " "); do
			i=$((i + 1))
			usermod -u $((base + i)) -g "$base" "$u"
		done
		usermod -u $((base + 99)) sshd
	' own-ids "$base" >>"$chroots/$rel.setup.log" 2>&1 ||
		fail "could not give the $rel root ids of its own (log: $chroots/$rel.setup.log)"
	echo "$base" >"$(ids_of "$rel")"
	echo "nix-chroot: the $rel root builds as uids $((base + 1))… (group $base); its sshd is $((base + 99))" >&2
}

ready() { [[ -f $(stamp_of "$1") ]] && [[ $(cat "$(stamp_of "$1")") == "$stamp_version" ]]; }

setup() {
	local rel=$1
	if ! ready "$rel"; then
		need_root "setup $rel"
		make_root "$rel"
	fi
	if [[ ! -f $(ids_of "$rel") ]]; then
		need_root "setup $rel"
		own_ids "$rel"
	fi
}

make_root() {
	local rel=$1 dir=$chroots/$1
	local start=$SECONDS
	if [[ -f $(stamp_of "$rel") ]]; then
		# A complete root of an older package list: add what is new.
		echo "nix-chroot: updating the packages of the $rel root" >&2
		in_root "$rel" /bin/sh -c 'DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" && apt-get clean' \
			sh "${packages[@]}" >>"$chroots/$rel.setup.log" 2>&1 ||
			fail "installing ${packages[*]} in the $rel root failed (log: $chroots/$rel.setup.log)"
		echo "$stamp_version" >"$(stamp_of "$rel")"
		return 0
	fi
	echo "nix-chroot: making a Debian $rel root with Nix in $dir (once; a few minutes)" >&2
	mkdir -p "$chroots"
	debian_root_make "$dir" "$rel" "$chroots/$rel.setup.log" "${packages[@]}" ||
		fail "could not make the $rel root; try again, or see the log above"
	in_root "$rel" getent group nixbld >/dev/null ||
		fail "the $rel root has no nixbld group after installing nix-setup-systemd"
	echo "$stamp_version" >"$(stamp_of "$rel")"
	echo "nix-chroot: $rel root ready in $((SECONDS - start)) s: $(in_root "$rel" nix --version)" >&2
}

# in_root RELEASE CMD...: CMD inside the root, in this repository, with this
# machine's Go toolchain and module cache bound in and a build cache of the
# root's own.
in_root() {
	local rel=$1 dir=$chroots/$1
	shift
	local goroot gomodcache gocache
	goroot=$(go env GOROOT)
	gomodcache=$(go env GOMODCACHE)
	gocache=$chroots/$rel.gocache
	mkdir -p "$gocache" "$gomodcache"
	local binds="$goroot:/usr/local/go $gomodcache:$gomodcache $gocache:/root/.cache/go-build $root_dir:$root_dir"
	# Another root, for the remote builder tests (test/remotebuilder).
	local builder_root=${RINGFLOW_BUILDER_ROOT:-} builder_inside=/var/lib/ringflow/builder-root
	[[ -n $builder_root ]] && binds+=" $builder_root:$builder_inside"
	debian_root_run "$dir" "$binds" -- \
		PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root USER=root LOGNAME=root TERM=dumb LANG=C.UTF-8 TMPDIR=/tmp \
		CI="${CI:-}" NIX_CONFIG="${NIX_CONFIG:-}" \
		GOMODCACHE="$gomodcache" GOCACHE=/root/.cache/go-build \
		GOTOOLCHAIN=local GOFLAGS= GOPROXY=off GOSUMDB=off CGO_ENABLED=0 \
		RINGFLOW_CRASH_SEED="${RINGFLOW_CRASH_SEED:-}" \
		RINGFLOW_BUILDER_ROOT="${builder_root:+$builder_inside}" \
		bash -c 'cd "$0" && exec "$@"' "$root_dir" "$@"
}

[[ $# -ge 2 ]] || {
	usage >&2
	exit 2
}
cmd=$1 rel=$2
shift 2
check_release "$rel"
case $cmd in
setup)
	[[ $# -eq 0 ]] || {
		usage >&2
		exit 2
	}
	setup "$rel"
	;;
run)
	[[ $# -ge 1 ]] || {
		usage >&2
		exit 2
	}
	setup "$rel"
	need_root "run"
	in_root "$rel" "$@"
	;;
path)
	echo "$chroots/$rel"
	;;
version)
	ready "$rel" || fail "no $rel root yet: scripts/nix-chroot.sh setup $rel"
	need_root "version"
	in_root "$rel" nix --version
	;;
*)
	usage >&2
	exit 2
	;;
esac
