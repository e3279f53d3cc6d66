#!/bin/bash
# capture-realise.sh OUT.jsonl: the log of `nix build --keep-going
# --log-format internal-json` for fa (its builder fails after three lines)
# and top (needs dep, whose builder fails), as Realise runs it. Run once per
# Nix version (scripts/nix-chroot.sh run trixie|sid …); TestBuildMonitor
# replays the files.
set -e
out=$1
sys=$(nix eval --impure --raw --expr builtins.currentSystem)
d=$(mktemp -d)
cat >$d/x.nix <<N
let
  mk = name: script: derivation { inherit name; system = "$sys"; builder = "/bin/sh"; args = [ "-c" script ]; salt = "$RANDOM$RANDOM"; };
  dep = mk "dep" "echo depfail-line; exit 2";
in {
  fa = mk "fa" "echo line1; echo line2; echo oops; exit 1";
  top = mk "top" "echo \${dep} > \$out";
}
N
fa=$(nix-instantiate $d/x.nix -A fa)
top=$(nix-instantiate $d/x.nix -A top)
inst() { case $(nix --version) in *' 2.'[0-9].* | *' 2.1'[0-2].*) echo "$1" ;; *) echo "$1^*" ;; esac; }
nix build --keep-going --no-link --log-format internal-json -v "$(inst "$fa")" "$(inst "$top")" 2>"$out" || true
