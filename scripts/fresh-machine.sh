#!/usr/bin/env bash
# A newcomer's machine on demand: the README's two commands on a fresh
# Debian 12 root that has only Go.
#
#   scripts/fresh-machine.sh [--keep]
#
# Makes (once, then reuses) a minimal Debian 12 root with debootstrap
# (minbase, plus make and ca-certificates, as a cloud image has them; a
# policy-rc.d keeps the packages it installs from starting daemons), copies
# it, copies this machine's Go toolchain into /usr/local/go (and the
# network's extra CA certificates from /usr/local/share/ca-certificates, as
# every machine on that network has them), clones the
# committed HEAD of this repository into /root/ringflow with a fresh HOME,
# GOPATH and module cache, and runs there, one after the other, exactly the
# two commands the README's first lines give (read from the README). Prints
# each command's result and time, and the tail of its output when it fails.
# Uncommitted changes are not part of the test: commit first.
#
# Takes many minutes (make test makes its own Nix roots inside, as a
# newcomer's would); not part of make test. --keep leaves the copied root
# and the logs for a look (the path is printed). Needs root.
# Exit codes: 0 both passed, 1 one failed, 2 bad usage, 3 the root could not
# be made.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib/debian-root.sh
. "$repo/scripts/lib/debian-root.sh"
cache=${RINGFLOW_CHROOT_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ringflow/chroots}
base=$cache/bookworm-fresh
stamp_version=1

keep=false
case $# in
0) ;;
1) [[ $1 == --keep ]] && keep=true || {
	sed -n '5p' "$0" >&2
	exit 2
} ;;
*)
	sed -n '5p' "$0" >&2
	exit 2
	;;
esac
[[ $(id -u) -eq 0 ]] || {
	echo "fresh-machine: needs root (debootstrap, chroot, mount)" >&2
	exit 3
}

# The README's two commands: the indented lines under "On a fresh Debian
# machine", as a person would copy them.
mapfile -t commands < <(sed -n '1,20{/^    make /s/^    //p}' "$repo/README.md")
if [[ ${#commands[@]} -ne 2 ]]; then
	echo "fresh-machine: README.md's first lines should give exactly two indented commands; found ${#commands[@]}" >&2
	exit 3
fi

if [[ ! -f $base/.ringflow-ready ]] || [[ $(cat "$base/.ringflow-ready") != "$stamp_version" ]]; then
	echo "fresh-machine: making a Debian 12 root in $base (once)" >&2
	mkdir -p "$cache"
	debian_root_make "$base" bookworm "$cache/bookworm-fresh.setup.log" make ca-certificates || exit 3
	echo "$stamp_version" >"$base/.ringflow-ready"
fi

if [[ -n $(git -C "$repo" status --porcelain --untracked-files=no) ]]; then
	echo "fresh-machine: warning: uncommitted changes are not tested; HEAD is $(git -C "$repo" rev-parse --short HEAD)" >&2
fi
head=$(git -C "$repo" rev-parse HEAD)

work=$(mktemp -d /var/tmp/ringflow-fresh.XXXXXX)
root=$work/root
cleanup() {
	if $keep; then
		echo "fresh-machine: kept $work (root: $root; logs: $work/*.log)"
	else
		rm -rf --one-file-system "$work"
	fi
}
trap cleanup EXIT
cp -a "$base" "$root"
rm -f "$root/.ringflow-ready"
cp -a "$(go env GOROOT)" "$root/usr/local/go"
# The network's own certificate authorities (a TLS-inspecting proxy's, say),
# which every machine on it has installed: without them the new machine
# could not reach the Go module proxy at all.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
	cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
	debian_root_run "$root" "" -- update-ca-certificates >/dev/null 2>&1 ||
		{
			echo "fresh-machine: update-ca-certificates failed in the new root" >&2
			exit 3
		}
fi
git clone -q --no-local "$repo" "$root/root/ringflow"
git -C "$root/root/ringflow" checkout -q --detach "$head"
git -C "$root/root/ringflow" remote remove origin

echo "fresh-machine: Debian $(cat "$root/etc/debian_version"), $("$root/usr/local/go/bin/go" version | cut -d' ' -f3), ringflow at ${head:0:12}"
failed=0
for cmd in "${commands[@]}"; do
	log=$work/$(tr -c 'a-z0-9\n' '-' <<<"$cmd").log
	start=$SECONDS
	if debian_root_run "$root" "" -- \
		PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root USER=root LOGNAME=root TERM=dumb LANG=C.UTF-8 \
		bash -c 'cd /root/ringflow && exec $0' "$cmd" >"$log" 2>&1 </dev/null; then
		echo "fresh-machine: $cmd: ok in $((SECONDS - start)) s"
	else
		rc=$?
		echo "fresh-machine: $cmd: FAILED (exit $rc) after $((SECONDS - start)) s; its last lines:"
		tail -n 30 "$log" | sed 's/^/    /'
		failed=1
		keep=true
	fi
done
exit $failed
