# Evaluates ../../nix/module.nix against stubs.nix (no nixpkgs, no module
# system): the declared options, and the config an enabled service with
# every option set produces. configs_test.go checks the JSON.
let
  stubs = import ./stubs.nix;
  module = import ../../nix/module.nix;
  evalWith =
    cfg:
    module {
      inherit (stubs) lib utils;
      pkgs = stubs.pkgsFor "x86_64-linux";
      config = {
        services.ringflow = cfg;
        nix.package = stubs.store "nix";
      };
    };
  # The values the module system would hand over, every option set.
  cfg = {
    enable = true;
    package = {
      outPath = stubs.store "ringflow";
      meta.mainProgram = "ringflow";
    };
    settings = {
      repo = "/srv/ringflow/fleet";
      remote = "upstream";
      rings = [ { name = "canary"; hosts = [ "*" ]; } ];
    };
    configFile = null;
    repository = "git@git.example.org:ops/fleet.git";
    stateDir = "/srv/ringflow";
    user = "ringflow";
    group = "ringflow";
    sshKeyFile = "/run/keys/ringflow";
    knownHosts = [ "git.example.org ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIStub" ];
    schedule = "*-*-* 03:15:00";
    randomizedDelaySec = "30min";
    metricsFile = "/var/lib/node-exporter/ringflow.prom";
    extraArgs = [ "--strict" ];
    environment = { RINGFLOW_BUILD_JOBS = "4"; };
    watch = {
      enable = true;
      mode = "service";
      interval = "2m";
    };
  };
  m = evalWith cfg;
  opts = m.options.services.ringflow;
  # config is mkMerge [ { assertions } (mkIf enable { … }) ].
  parts = c: c.contents;
  guarded = c: builtins.head (builtins.filter (p: p._type or null == "if") (parts c));
  unguarded = c: builtins.concatMap (p: p.assertions or [ ]) (builtins.filter (p: p._type or null != "if") (parts c));
  passes = c: builtins.all (a: a.assertion) (unguarded c);
  # The other watch mode, and the watch without the cycle.
  timerMode = evalWith (cfg // { watch = cfg.watch // { mode = "timer"; }; });
  watchAlone = evalWith (cfg // { enable = false; });
in
{
  options = builtins.attrNames opts;
  descriptions = builtins.mapAttrs (_: o: o.description) opts;
  optionTypes = builtins.mapAttrs (_: o: o._type) opts;
  settingsOptions = builtins.attrNames opts.settings.type.options;
  testedOptions = builtins.attrNames cfg;
  watchOptions = builtins.attrNames opts.watch.type.options;
  watchDescriptions = builtins.mapAttrs (_: o: o.description) opts.watch.type.options;
  testedWatchOptions = builtins.attrNames cfg.watch;
  enabledIf = (guarded m.config).condition;
  config = (guarded m.config).content;
  unguardedAssertionsPass = passes m.config;
  watchAloneAssertionsPass = passes watchAlone.config;
  watchAloneMessages = map (a: a.message) (unguarded watchAlone.config);
  timerModeConfig = (guarded timerMode.config).content;
}
