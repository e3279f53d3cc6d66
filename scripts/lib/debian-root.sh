# Debian roots for scripts/nix-chroot.sh and scripts/fresh-machine.sh.
# Sourced, not run. Needs root.

# debian_root_make DIR SUITE LOG PACKAGE...: a minbase root of SUITE in DIR
# (emptied first) with PACKAGEs installed, no daemon started. Output goes to
# LOG; on failure its tail is printed and 1 returned.
debian_root_make() {
	local dir=$1 suite=$2 log=$3
	shift 3
	local mirror=${RINGFLOW_DEBIAN_MIRROR:-http://deb.debian.org/debian}
	if ! command -v debootstrap >/dev/null; then
		echo "debian-root: installing debootstrap" >&2
		{ DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; } ||
			{
				echo "debian-root: debootstrap is missing and could not be installed (apt-get install debootstrap)" >&2
				return 1
			}
	fi
	# A half-made root from a killed run is not trusted: start over. Nothing
	# is mounted there (mounts live only in debian_root_run's namespace).
	rm -rf --one-file-system "$dir"
	mkdir -p "$dir"
	if ! debootstrap --variant=minbase "$suite" "$dir" "$mirror" >"$log" 2>&1; then
		tail -n 20 "$log" >&2
		echo "debian-root: debootstrap $suite failed (log: $log)" >&2
		return 1
	fi
	# sid's Release file may be past its Valid-Until date on a frozen mirror.
	echo 'Acquire::Check-Valid-Until "false";' >"$dir/etc/apt/apt.conf.d/99ringflow-no-valid-until"
	# No daemon may start inside the root while packages install.
	printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
	chmod +x "$dir/usr/sbin/policy-rc.d"
	[[ $# -eq 0 ]] && return 0
	if ! debian_root_run "$dir" "" -- /bin/sh -c '
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@" && apt-get clean' sh "$@" >>"$log" 2>&1; then
		tail -n 20 "$log" >&2
		echo "debian-root: installing $* in the $suite root failed (log: $log)" >&2
		return 1
	fi
}

# debian_root_run DIR BINDS -- CMD...: CMD as root inside DIR, in a private
# mount namespace whose root DIR becomes (pivot_root, not chroot: Nix 2.8
# runs git after setns() into its own mount namespace, which leaves a chroot
# for the namespace's real root), with /proc, /dev and a fresh /tmp mounted,
# and each "SRC:DST" of the space-separated BINDS bound at DST. The mounts
# vanish with the namespace, even on a kill. CMD's environment is what the
# caller passes through env(1) in CMD; no variable is inherited.
debian_root_run() {
	local dir=$1 binds=$2
	shift 2
	[[ $1 == -- ]] && shift
	unshare --mount --propagation private -- bash -c "$_debian_root_enter" debian-root "$dir" "$binds" "$@"
}

# The inner shell of debian_root_run, in its own mount namespace.
# shellcheck disable=SC2016
_debian_root_enter='
set -euo pipefail
dir=$1 binds=$2
shift 2
mount --bind "$dir" "$dir" # pivot_root wants a mount point
mount -t proc proc "$dir/proc"
mount --rbind /dev "$dir/dev"
mount -t tmpfs -o mode=1777 tmpfs "$dir/tmp"
cp /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null || true
for b in $binds; do
	mkdir -p "$dir${b#*:}"
	mount --bind "${b%%:*}" "$dir${b#*:}"
done
mkdir -p "$dir/.old-root"
cd "$dir"
pivot_root . .old-root
cd /
exec /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	/bin/sh -c "umount -l /.old-root && exec /usr/bin/env \"\$@\"" sh "$@"
'
