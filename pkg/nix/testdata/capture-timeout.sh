#!/bin/bash
# capture-timeout.sh OUT-PREFIX: the logs of `nix build --keep-going
# --log-format internal-json` stopping builds for time, each line prefixed
# with the seconds since nix started (nix's own log has no times, and the
# monitor judges a stop for time by when it came). Two runs:
#   OUT-PREFIX-timeout.log  --timeout 2: hang (one line, then sleeps), fa
#                           (fails at once), ok, and top (needs hangdep,
#                           which sleeps silently)
#   OUT-PREFIX-silent.log   --max-silent-time 2 --timeout 30: quiet (one
#                           line, then sleeps), chatty (a line every half
#                           second for 3 s, then done)
# Needs sandbox = false (the builders run /bin/sleep). Run once per Nix
# version; TestBuildMonitorTimeout replays the files.
set -e
out=$1
sys=$(nix eval --impure --raw --expr builtins.currentSystem)
d=$(mktemp -d)
cat >$d/x.nix <<N
let
  mk = name: script: derivation { inherit name; system = "$sys"; builder = "/bin/sh"; args = [ "-c" script ]; salt = "$RANDOM$RANDOM"; };
  sleep = s: "for b in /bin/sleep /usr/bin/sleep; do [ -x \$b ] && exec \$b " + s + "; done; exit 3";
  hangdep = mk "hangdep" (sleep "60");
in {
  hang = mk "hang" ("echo start-hang; " + sleep "60");
  fa = mk "fa" "echo line1; exit 1";
  ok = mk "ok" "echo ok > \$out";
  top = mk "top" "echo \${hangdep} > \$out";
  quiet = mk "quiet" ("echo start-quiet; " + sleep "60");
  chatty = mk "chatty" "i=0; while [ \$i -lt 6 ]; do echo tick \$i; /bin/sleep 0.5; i=\$((i+1)); done; echo done > \$out";
}
N
inst() { case $(nix --version) in *' 2.'[0-9].* | *' 2.1'[0-2].*) echo "$1" ;; *) echo "$1^*" ;; esac; }
drv() { inst "$(nix-instantiate $d/x.nix -A $1 2>/dev/null)"; }
stamp() { perl -MTime::HiRes=time -ne 'BEGIN { $t0 = time } printf "%.3f %s", time - $t0, $_'; }
{ nix build --keep-going --no-link --log-format internal-json -v --max-jobs 4 --timeout 2 \
    "$(drv hang)" "$(drv fa)" "$(drv ok)" "$(drv top)" 2>&1 >/dev/null || true; } | stamp >"$out-timeout.log"
{ nix build --keep-going --no-link --log-format internal-json -v --max-jobs 4 --max-silent-time 2 --timeout 30 \
    "$(drv quiet)" "$(drv chatty)" 2>&1 >/dev/null || true; } | stamp >"$out-silent.log"
rm -rf "$d"
