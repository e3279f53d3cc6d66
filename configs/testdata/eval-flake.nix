# Evaluates ../../flake.nix against stubs.nix (no nixpkgs) and returns what
# configs_test.go checks, as JSON-able data.
let
  stubs = import ./stubs.nix;
  flake = import ../../flake.nix;
  nixpkgs = {
    inherit (stubs) lib;
    legacyPackages = stubs.lib.genAttrs systems stubs.pkgsFor;
  };
  systems = builtins.attrNames outputs.packages;
  # A clean checkout: shortRev is what the version comes from.
  self = outputs // { shortRev = "0123abc"; };
  outputs = flake.outputs { inherit self nixpkgs; };
  sys = "x86_64-linux";
  pkg = outputs.packages.${sys}.default;
  namesPer = attrs: builtins.mapAttrs (_: builtins.attrNames) attrs;
  nixosModule = outputs.nixosModules.default {
    inherit (stubs) lib;
    pkgs = stubs.pkgsFor sys;
  };
in
{
  inherit (flake) description;
  nixpkgsUrl = flake.inputs.nixpkgs.url;
  outputs = builtins.attrNames outputs;
  packages = namesPer outputs.packages;
  apps = namesPer outputs.apps;
  devShells = namesPer outputs.devShells;
  checks = namesPer outputs.checks;
  nixosModules = builtins.attrNames outputs.nixosModules;
  overlays = builtins.attrNames outputs.overlays;
  package = {
    inherit (pkg)
      pname
      version
      vendorHash
      subPackages
      ldflags
      doCheck
      postInstall
      meta
      go
      nativeBuildInputs
      ;
    src = pkg.src.outPath;
    # The fileset: files by name, filters as "<filter>".
    srcFiles = map (x: if builtins.isAttrs x then "<filter>" else baseNameOf (toString x)) pkg.src.fileset;
    # Which names the filter keeps, tried on a few.
    srcFilterKeeps =
      let
        filter = (builtins.head (builtins.filter builtins.isAttrs pkg.src.fileset)).filter;
        hasExt = name: ext: builtins.match ".*[.]${ext}" name != null;
      in
      builtins.filter (name: filter { inherit name; hasExt = hasExt name; }) [
        "main.go"
        "main_test.go"
        "README.md"
        "go.mod"
        "flake.nix"
      ];
  };
  app = outputs.apps.${sys}.default;
  devShellPackages = outputs.devShells.${sys}.default.packages;
  overlayPname = (outputs.overlays.default (stubs.pkgsFor sys) (stubs.pkgsFor sys)).ringflow.pname;
  nixosModule = {
    imports = map toString nixosModule.imports;
    packagePname = nixosModule.services.ringflow.package.content.pname;
  };
}
