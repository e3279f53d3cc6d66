# Evaluates ../../nix/export-running.nix against stubs.nix (no nixpkgs, no
# module system): the declared options, and the config it produces when
# enabled. configs_test.go checks the JSON and runs the script.
let
  stubs = import ./stubs.nix;
  module = import ../../nix/export-running.nix;
  cfg = {
    enable = true;
    directory = "/var/lib/node-exporter";
  };
  m = module {
    inherit (stubs) lib;
    pkgs = stubs.pkgsFor "x86_64-linux";
    config.services.ringflow.exportRunning = cfg;
  };
  opts = m.options.services.ringflow.exportRunning;
in
{
  options = builtins.attrNames opts;
  descriptions = builtins.mapAttrs (_: o: o.description) opts;
  optionTypes = builtins.mapAttrs (_: o: o._type) opts;
  testedOptions = builtins.attrNames cfg;
  enabledIf = m.config.condition;
  config = m.config.content;
}
