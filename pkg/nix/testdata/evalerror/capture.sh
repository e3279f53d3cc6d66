#!/bin/bash
# capture.sh OUTDIR: what nix prints on stderr for each failing host of a small
# flake in /tmp/fleet, run as ringflow evaluates one host alone (--show-trace).
# Run once per Nix version (scripts/nix-chroot.sh run trixie|sid …) to renew
# testdata/evalerror/nix-*; TestEvalErrorMessageAcrossVersions reads them.
set -e
out=$1; mkdir -p $out
d=/tmp/fleet; rm -rf $d; mkdir -p $d; cd $d
cat > flake.nix <<'N'
{
  outputs = { self }: {
    nixosConfigurations = {
      asserter = { config.system.build.toplevel = assert (1 == 2); "x"; };
      thrower = { config.system.build.toplevel = throw "The option `services.foo' does not exist. Definition values:\n- In `/etc/hosts.nix': true"; };
      missing = { config.system.build = {}; };
      aborter = { config.system.build.toplevel = abort "disk layout broken"; };
      recursive = { config.system.build.toplevel = let x = x + 1; in x; };
      undefinedvar = { config.system.build.toplevel = import ./bad.nix; };
    };
  };
}
N
printf '{ a = foo; }.a\n' > bad.nix
git init -q; git add .; git -c user.name=a -c user.email=a@b commit -qm x; rev=$(git rev-parse HEAD)
for h in asserter thrower missing aborter recursive undefinedvar; do
  nix eval --json --show-trace "git+file://$d?rev=$rev#nixosConfigurations" --apply "cs: let sel = (c: builtins.foldl' (a: k: a.\${k}) c [ \"config\" \"system\" \"build\" \"toplevel\" ]); t = sel cs.\${\"$h\"}; in { drv = t.drvPath; out = (t.out or t).outPath; }" 2>$out/$h.txt >/dev/null || true
done
