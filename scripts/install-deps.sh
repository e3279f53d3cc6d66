#!/usr/bin/env bash
# Installs what ringflow's build, tests and demo need and are missing:
# Go modules (staticcheck among them, as a go.mod tool), git, and Nix
# (Debian's nix-bin). Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

have() { command -v "$1" >/dev/null 2>&1; }

apt_install() {
	if [[ $(id -u) -ne 0 ]]; then
		echo "install-deps: $* missing; as root run: apt-get update && apt-get install -y $*" >&2
		return 1
	fi
	if [[ -z ${APT_UPDATED:-} ]]; then
		DEBIAN_FRONTEND=noninteractive apt-get update -qq
		APT_UPDATED=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! have go; then
	echo "install-deps: Go is missing: install Go $(sed -n 's/^go //p' go.mod) or newer (https://go.dev/doc/install)" >&2
	exit 1
fi
have git || apt_install git
# gpg: the signature gate's end-to-end test makes and uses real OpenPGP keys.
have gpg || apt_install gnupg
# Debian's prometheus package: promtool checks the metrics file in the
# tests, and test/observe runs the server itself (/usr/bin/prometheus, which
# is not always on PATH), scraping simulated hosts.
{ have promtool && [[ -x /usr/bin/prometheus ]]; } || apt_install prometheus
# flock(1) holds a lock from another process in the lock tests.
have flock || apt_install util-linux
# sshd serves the ssh remote in test/sshremote (the tests start their own on
# 127.0.0.1); it lives in /usr/sbin, which is not on a user's PATH.
[[ -x /usr/sbin/sshd ]] || apt_install openssh-server
if ! have nix; then
	echo "install-deps: installing Nix from Debian's nix-bin" >&2
	apt_install nix-bin || {
		echo "install-deps: Nix is missing. As root: apt-get update && apt-get install -y nix-bin" >&2
		exit 1
	}
fi

go mod download
