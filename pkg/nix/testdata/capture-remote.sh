#!/bin/bash
# capture-remote.sh OUT.jsonl BUILDER: the log of `nix build --keep-going
# --log-format internal-json --max-jobs 0 --builders 'BUILDER …'` for ok
# (logs two lines, builds) and fa (logs three lines, fails), both sent to the
# remote builder BUILDER (ssh-ng://alias; ssh options from NIX_SSHOPTS), as
# Realise runs it. Run once per Nix version, against a builder of
# scripts/nix-builder.sh; TestBuildMonitorRemote replays the files.
set -e
out=$1 builder=$2
sys=$(nix eval --impure --raw --expr builtins.currentSystem)
d=$(mktemp -d)
cat >$d/x.nix <<N
let
  mk = name: script: derivation { inherit name; system = "$sys"; builder = "/bin/sh"; args = [ "-c" script ]; salt = "$RANDOM$RANDOM"; };
in {
  ok = mk "ok" "echo line1; echo line2; echo done > \$out";
  fa = mk "fa" "echo line1; echo line2; echo oops; exit 1";
}
N
ok=$(nix-instantiate $d/x.nix -A ok)
fa=$(nix-instantiate $d/x.nix -A fa)
inst() { case $(nix --version) in *' 2.'[0-9].* | *' 2.1'[0-2].*) echo "$1" ;; *) echo "$1^*" ;; esac; }
nix build --keep-going --no-link --log-format internal-json -v --max-jobs 0 --builders "$builder $sys - 2 1" \
	"$(inst "$ok")" "$(inst "$fa")" 2>"$out" || true
