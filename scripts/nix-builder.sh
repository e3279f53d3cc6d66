#!/usr/bin/env bash
# A remote Nix builder on loopback: sshd in a Debian root with Nix, reached
# as ssh-ng://, building into the root's own store. The stand-in for the
# build machine of `build.builders` in ringflow's tests.
#
#   scripts/nix-builder.sh ROOT DIR PORT [FEATURE...]
#
# ROOT is a Debian root with nix-bin and openssh-server (one made by
# scripts/nix-chroot.sh setup trixie). DIR holds host_key (its sshd host
# key) and authorized_keys (who may log in as root); this writes
# sshd_config and nix/nix.conf there, binds DIR into the root at
# /run/ringflow-builder and runs sshd in the foreground on 127.0.0.1:PORT
# until killed. Each ssh session gets NIX_CONF_DIR pointing at DIR's
# nix.conf: no substituters (no network), no sandbox (builders use /bin/sh),
# so the root's own /etc/nix is left alone. Each FEATURE is added to the
# builder's system-features, as on a machine set up for such builds.
#
# Runs from the machine or from inside another root (it nests: a private
# mount namespace, pivot_root); needs root. Exit codes: sshd's own; 2 bad
# usage; 3 ROOT is not a root with Nix and sshd.
set -euo pipefail

[[ $# -ge 3 ]] || {
	sed -n '6,17s/^# \{0,1\}//p' "$0" >&2
	exit 2
}
root=$1 dir=$2 port=$3
shift 3
features="$*"
for f in usr/sbin/sshd usr/bin/nix-daemon; do
	[[ -x $root/$f ]] || {
		echo "nix-builder: $root has no /$f: make it with scripts/nix-chroot.sh setup trixie" >&2
		exit 3
	}
done
for f in host_key authorized_keys; do
	[[ -f $dir/$f ]] || {
		echo "nix-builder: $dir/$f is missing" >&2
		exit 2
	}
done
[[ $port =~ ^[0-9]+$ ]] || {
	echo "nix-builder: port \"$port\" is not a number" >&2
	exit 2
}

inside=/run/ringflow-builder
mkdir -p "$dir/nix"
cat >"$dir/nix/nix.conf" <<EOF
substituters =
sandbox = false
trusted-users = root
${features:+extra-system-features = $features}
EOF
cat >"$dir/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $port
HostKey $inside/host_key
AuthorizedKeysFile $inside/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UsePAM no
PidFile none
SetEnv NIX_CONF_DIR=$inside/nix
MaxStartups 100
LoginGraceTime 0
EOF
# OpenSSH 9.8+ penalises a source whose connections end before they log
# in; here every client is 127.0.0.1, and nix opens one per build.
if grep -qa PerSourcePenalties "$root/usr/sbin/sshd" "$root/usr/lib/openssh/sshd-session" 2>/dev/null; then
	echo "PerSourcePenalties no" >>"$dir/sshd_config"
fi
chmod 600 "$dir/host_key"

# shellcheck source=scripts/lib/debian-root.sh
. "$(dirname "$0")/lib/debian-root.sh"
# As debian_root_run, but exec'd all the way down: this process becomes sshd,
# so that killing it leaves nothing behind. sshd started as root wants its
# privilege separation directory.
exec unshare --mount --propagation private -- bash -c "$_debian_root_enter" nix-builder "$root" "$dir:$inside" \
	/bin/sh -c 'mkdir -p /run/sshd && exec /usr/sbin/sshd -D -e -f "$0"' "$inside/sshd_config"
