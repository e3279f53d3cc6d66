# NixOS module: services.ringflow runs `ringflow cycle` (update flake.lock on
# dev, build every host, promote the auto rings) from a systemd timer, as a
# dedicated user, in a clone kept in the state directory.
#
# The flake exports it as nixosModules.default (and .ringflow), which also sets
# services.ringflow.package to the flake's build. Imported on its own, the
# package defaults to pkgs.ringflow (the flake's overlays.default provides it).
#
# services.ringflow.watch adds `ringflow watch`: between the nightly cycles it
# holds (or rolls back) a ring whose hosts turned unhealthy, as a long-running
# service or from a timer, in the cycle's clone and as its user.
#
# It also brings services.ringflow.exportRunning (./export-running.nix), for
# the fleet's hosts rather than the machine running the cycle: what system a
# host runs, for node_exporter's textfile collector.
#
#   services.ringflow = {
#     enable = true;
#     repository = "git@git.example.org:ops/fleet.git";
#     sshKeyFile = "/run/agenix/ringflow-deploy-key";   # a string: kept out of the store
#     knownHosts = [ "git.example.org ssh-ed25519 AAAAC3Nza…" ];
#     schedule = "*-*-* 03:15:00";
#     metricsFile = "/var/lib/prometheus-node-exporter-text-files/ringflow.prom";
#     settings = {
#       branch-prefix = "deploy/";
#       rings = [
#         { name = "canary"; hosts = [ "lab-*" ]; soak = "0s"; auto = true; }
#         { name = "early"; share = "20%"; soak = "24h"; auto = true; }
#         { name = "stable"; hosts = [ "*" ]; soak = "3d"; }
#       ];
#     };
#   };
{
  config,
  lib,
  pkgs,
  utils,
  ...
}:

let
  inherit (lib)
    literalExpression
    mkEnableOption
    mkIf
    mkMerge
    mkOption
    optional
    optionals
    types
    ;

  cfg = config.services.ringflow;

  settingsFormat = pkgs.formats.yaml { };

  # The clone ringflow works in; `repo` in the settings points here.
  fleetDir = "${cfg.stateDir}/fleet";

  # The file ringflow reads: the rendered settings, or the operator's own.
  configPath = if cfg.configFile != null then toString cfg.configFile else "/etc/ringflow/ringflow.yaml";

  knownHostsFile = pkgs.writeText "ringflow-known_hosts" (lib.concatLines cfg.knownHosts);

  # The remote ringflow fetches from and pushes to; the clone names it so.
  remoteName = if cfg.settings.remote == "" then "origin" else cfg.settings.remote;

  # First start: clone the repository into the state directory. Into a
  # temporary name first, so an interrupted clone is retried next time rather
  # than mistaken for a repository.
  cloneScript = pkgs.writeShellScript "ringflow-clone" ''
    set -euo pipefail
    if [ -e ${lib.escapeShellArg fleetDir} ]; then
      exit 0
    fi
    ${
      if cfg.repository == null then
        ''
          echo "ringflow: ${fleetDir} is missing: set services.ringflow.repository or clone it there as ${cfg.user}" >&2
          exit 1
        ''
      else
        ''
          tmp=${lib.escapeShellArg "${fleetDir}.tmp"}
          rm -rf "$tmp"
          git clone --origin ${lib.escapeShellArg remoteName} -- ${lib.escapeShellArg cfg.repository} "$tmp"
          mv "$tmp" ${lib.escapeShellArg fleetDir}
        ''
    }
  '';

  args = [
    "cycle"
    "--config"
    configPath
  ]
  ++ optionals (cfg.metricsFile != null) [
    "--metrics-file"
    (toString cfg.metricsFile)
  ]
  ++ cfg.extraArgs;

  metricsDir = if cfg.metricsFile != null then dirOf (toString cfg.metricsFile) else null;

  # The watch works in the cycle's clone and never clones itself (two clones
  # racing for one directory); until the cycle has cloned, it says so.
  needClone = pkgs.writeShellScript "ringflow-need-clone" ''
    if [ ! -e ${lib.escapeShellArg "${fleetDir}/.git"} ]; then
      echo "ringflow watch: ${fleetDir} is not a clone yet; start ringflow-cycle.service once (it clones services.ringflow.repository)" >&2
      exit 1
    fi
  '';

  # What ringflow-cycle and ringflow-watch share: ordering, nix and the
  # remote's ssh, the user, the clone and the hardening.
  commonService = {
    documentation = [ "https://github.com/ringflow/ringflow#readme" ];
    wants = [ "network-online.target" ];
    after = [
      "network-online.target"
      "nix-daemon.socket"
    ];

    # The system's nix, which matches the daemon; git and ssh for the remote.
    path = [
      config.nix.package
      pkgs.git
      pkgs.openssh
      pkgs.coreutils
    ];

    environment = {
      # ringflow passes --extra-experimental-features itself; this covers
      # the nix calls of verify hooks. `extra-` keeps the system's list.
      NIX_CONFIG = "extra-experimental-features = nix-command flakes";
    }
    // lib.optionalAttrs (cfg.sshKeyFile != null) {
      # Only the deploy key, never an agent or ~/.ssh, and a strictly
      # checked host key: a changed key fails the run instead of pushing
      # ring branches elsewhere. %d is systemd's credentials directory.
      GIT_SSH_COMMAND = lib.concatStringsSep " " (
        [
          "ssh -i %d/ssh-key -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes"
        ]
        ++ optional (cfg.knownHosts != [ ]) "-o UserKnownHostsFile=${knownHostsFile}"
      );
    }
    // cfg.environment;
  };

  commonServiceConfig = {
    User = cfg.user;
    Group = cfg.group;
    # "-": on the first start the cycle's ExecStartPre creates it.
    WorkingDirectory = "-${fleetDir}";
    # The key, copied by systemd into a directory only this service can
    # read, so the file itself may stay root-owned (agenix, sops-nix).
    LoadCredential = mkIf (cfg.sshKeyFile != null) "ssh-key:${toString cfg.sshKeyFile}";

    # Hardening. Not DynamicUser: the clone persists and the daemon must
    # see a stable uid. /nix stays visible, read-only under
    # ProtectSystem=strict; connect() to /nix/var/nix/daemon-socket/socket
    # works on a read-only mount, and a nix client needs no more: the
    # daemon writes the store. Adding InaccessiblePaths=/nix,
    # PrivateUsers or PrivateNetwork would break nix. No trusted-users
    # entry is needed (unless ringflow's build.builders is used: untrusted
    # clients may not set builders; use nix.buildMachines instead).
    ProtectSystem = "strict";
    ReadWritePaths = [ cfg.stateDir ];
    NoNewPrivileges = true;
    PrivateTmp = true;
    PrivateDevices = true;
    PrivateMounts = true;
    ProtectHome = true;
    ProtectKernelTunables = true;
    ProtectKernelModules = true;
    ProtectKernelLogs = true;
    ProtectControlGroups = true;
    ProtectClock = true;
    ProtectHostname = true;
    ProtectProc = "invisible";
    RestrictSUIDSGID = true;
    RestrictRealtime = true;
    RemoveIPC = true;
    LockPersonality = true;
    SystemCallArchitectures = "native";
    CapabilityBoundingSet = "";
    AmbientCapabilities = "";
    # AF_UNIX for the nix daemon, AF_INET(6) for the remote.
    RestrictAddressFamilies = [
      "AF_UNIX"
      "AF_INET"
      "AF_INET6"
    ];
    UMask = "0027";
  };

  watchTimer = cfg.watch.mode == "timer";
  watchArgs = [
    "watch"
  ]
  ++ optional watchTimer "--once"
  ++ [
    "--config"
    configPath
  ]
  ++ optionals (!watchTimer) [
    "--interval"
    cfg.watch.interval
  ];
in
{
  imports = [ ./export-running.nix ];

  options.services.ringflow = {
    enable = mkEnableOption "the nightly `ringflow cycle`: update flake.lock on dev, build every host, promote the auto rings";

    package = mkOption {
      type = types.package;
      default =
        pkgs.ringflow
          or (throw "services.ringflow.package: pkgs.ringflow does not exist; import the ringflow flake's nixosModules.default, add its overlays.default, or set this option");
      defaultText = literalExpression "pkgs.ringflow (the ringflow flake's build with nixosModules.default)";
      description = "The ringflow package to run.";
    };

    settings = mkOption {
      type = types.submodule {
        freeformType = settingsFormat.type;
        options = {
          repo = mkOption {
            type = types.str;
            default = fleetDir;
            defaultText = literalExpression ''"''${config.services.ringflow.stateDir}/fleet"'';
            description = "Git repository holding the flake: the clone in the state directory.";
          };
          remote = mkOption {
            type = types.str;
            default = "origin";
            description = ''Remote to fetch from and push to; "" works on local branches only.'';
          };
        };
      };
      default = { };
      example = literalExpression ''
        {
          dev = "dev";
          branch-prefix = "deploy/";
          rings = [
            { name = "canary"; hosts = [ "lab-*" ]; soak = "0s"; auto = true; }
            { name = "stable"; hosts = [ "*" ]; soak = "3d"; }
          ];
          build.cache = "s3://fleet-cache?region=eu-central-1";
        }
      '';
      description = ''
        ringflow.yaml as Nix: every key of the README's "ringflow.yaml" section
        (repo, remote, flake-dir, dev, branch-prefix, rings, update, build,
        gates), rendered to YAML in /etc/ringflow/ringflow.yaml. ringflow
        checks it strictly at run time (`ringflow check` shows every problem).
      '';
    };

    configFile = mkOption {
      type = types.nullOr types.path;
      default = null;
      example = "/var/lib/ringflow/fleet/ringflow.yaml";
      description = ''
        Use this ringflow.yaml instead of rendering `settings`, e.g. the one
        committed in the fleet repository. Give a string to keep it out of the store.
      '';
    };

    repository = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "git@git.example.org:ops/fleet.git";
      description = ''
        URL of the fleet repository, cloned into `stateDir`/fleet on the first
        start. null: clone it there yourself, as `user`.
      '';
    };

    stateDir = mkOption {
      type = types.str;
      default = "/var/lib/ringflow";
      description = "Home of `user`; the clone lives in its fleet subdirectory.";
    };

    user = mkOption {
      type = types.str;
      default = "ringflow";
      description = "User to run as; created as a system user when left at ringflow.";
    };

    group = mkOption {
      type = types.str;
      default = "ringflow";
      description = "Group to run as; created when left at ringflow.";
    };

    sshKeyFile = mkOption {
      type = types.nullOr types.path;
      default = null;
      example = "/run/agenix/ringflow-deploy-key";
      description = ''
        Private key (a deploy key with write access) for fetching and pushing
        over SSH. Give a string: a Nix path literal would copy the key into
        the world-readable store. It may be owned by root with mode 0400:
        systemd hands the service a private copy (LoadCredential).
      '';
    };

    knownHosts = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "git.example.org ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA…" ];
      description = ''
        known_hosts lines for the remote. The SSH host key is checked
        strictly; with none given here, it must be in
        /etc/ssh/ssh_known_hosts (programs.ssh.knownHosts).
      '';
    };

    schedule = mkOption {
      type = types.str;
      default = "daily";
      example = "*-*-* 03:15:00";
      description = "When to run, as systemd OnCalendar (systemd.time(7)).";
    };

    randomizedDelaySec = mkOption {
      type = types.str;
      default = "30min";
      description = "Random delay added to each start (systemd RandomizedDelaySec).";
    };

    metricsFile = mkOption {
      type = types.nullOr types.path;
      default = null;
      example = "/var/lib/prometheus-node-exporter-text-files/ringflow.prom";
      description = ''
        Prometheus text file written after each cycle (--metrics-file), for
        node_exporter's textfile collector: point
        services.prometheus.exporters.node's --collector.textfile.directory at
        its directory. The directory is created, owned by `user`.
      '';
    };

    extraArgs = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [
        "--strict"
        "--verbose"
      ];
      description = "Extra arguments after `ringflow cycle --config … [--metrics-file …]`.";
    };

    watch = mkOption {
      type = types.submodule {
        options = {
          enable = mkEnableOption "`ringflow watch`: between nightly cycles, hold (or roll back) a ring whose hosts turned unhealthy; needs observe: in the settings and services.ringflow.enable";
          mode = mkOption {
            type = types.enum [
              "service"
              "timer"
            ];
            default = "service";
            description = ''
              "service": one long-running `ringflow watch --interval`, the
              lighter choice for short intervals. "timer": a oneshot
              `ringflow watch --once` every interval, nothing resident between
              looks and each failed look a failed unit run.
            '';
          };
          interval = mkOption {
            type = types.str;
            default = "5m";
            example = "1m";
            description = ''
              Time between looks: --interval in "service" mode, the timer's
              OnUnitInactiveSec in "timer" mode, so use a span both Go and
              systemd read (90s, 5m, 1h).
            '';
          };
        };
      };
      default = { };
      example = literalExpression ''{ enable = true; mode = "timer"; interval = "2m"; }'';
      description = ''
        `ringflow watch` as ringflow-watch.service (and, in "timer" mode,
        ringflow-watch.timer), with the cycle's user, clone, environment and
        hardening. It uses the clone the cycle makes: until the first cycle
        ran, it fails saying so.
      '';
    };

    environment = mkOption {
      type = types.attrsOf types.str;
      default = { };
      example = {
        RINGFLOW_BUILD_JOBS = "4";
      };
      description = "Extra environment of the services, e.g. RINGFLOW_<KEY> config overrides.";
    };
  };

  config = mkMerge [
    {
      # Outside the mkIf below, so it is checked when only the watch is on.
      assertions = [
        {
          assertion = cfg.watch.enable -> cfg.enable;
          message = "services.ringflow.watch.enable needs services.ringflow.enable: the watch works in the cycle's clone, as its user, with its config.";
        }
      ];
    }
    (mkIf cfg.enable {
      assertions = [
        {
          assertion = cfg.configFile != null || cfg.settings ? rings;
          message = "services.ringflow: set settings.rings (the promotion order) or configFile.";
        }
      ];

      environment.etc."ringflow/ringflow.yaml" = mkIf (cfg.configFile == null) {
        source = settingsFormat.generate "ringflow.yaml" cfg.settings;
      };

      # For `ringflow status` and friends by hand (sudo -u ringflow ringflow status).
      environment.systemPackages = [ cfg.package ];

      users.users = mkIf (cfg.user == "ringflow") {
        ringflow = {
          isSystemUser = true;
          group = cfg.group;
          home = cfg.stateDir;
          description = "ringflow nightly cycle";
        };
      };
      users.groups = mkIf (cfg.group == "ringflow") { ringflow = { }; };

      systemd.tmpfiles.rules = [
        "d ${cfg.stateDir} 0750 ${cfg.user} ${cfg.group} - -"
      ]
      ++ optional (metricsDir != null) "d ${metricsDir} 0755 ${cfg.user} ${cfg.group} - -";

      systemd.services.ringflow-cycle = commonService // {
        description = "ringflow nightly cycle: update flake.lock on dev, build every host, promote the auto rings";
        # A oneshot started by the timer only: a rebuild must neither start a
        # cycle nor kill one that is running.
        restartIfChanged = false;

        serviceConfig = commonServiceConfig // {
          Type = "oneshot";
          ExecStartPre = "${cloneScript}";
          ExecStart = utils.escapeSystemdExecArgs ([ (lib.getExe cfg.package) ] ++ args);
          # A hung fetch or build must not block every later night.
          TimeoutStartSec = lib.mkDefault "12h";
          ReadWritePaths = [ cfg.stateDir ] ++ optional (metricsDir != null) metricsDir;
        };
      };

      systemd.timers.ringflow-cycle = {
        description = "Run the ringflow nightly cycle";
        wantedBy = [ "timers.target" ];
        timerConfig = {
          OnCalendar = cfg.schedule;
          RandomizedDelaySec = cfg.randomizedDelaySec;
          # A run missed while the machine was off happens at the next boot.
          Persistent = true;
          AccuracySec = "1min";
        };
      };

      systemd.services.ringflow-watch = mkIf cfg.watch.enable (
        commonService
        // {
          description = "ringflow watch: hold rings whose hosts turn unhealthy, between nightly cycles";
          serviceConfig = commonServiceConfig // {
            ExecStartPre = "${needClone}";
            ExecStart = utils.escapeSystemdExecArgs ([ (lib.getExe cfg.package) ] ++ watchArgs);
          }
          // (
            if watchTimer then
              {
                Type = "oneshot";
                # A hung look must not hold off the next ones for long (the
                # timer does not start a unit that is still running).
                TimeoutStartSec = lib.mkDefault "10min";
              }
            else
              {
                Type = "simple";
                # A failed look does not end the watch; this covers the
                # process dying. Exit 2 is a bad config (no observe:), which
                # retrying cannot fix.
                Restart = "on-failure";
                RestartSec = "30s";
                RestartPreventExitStatus = "2";
              }
          );
        }
        // (
          if watchTimer then
            {
              # Started by its timer only, like the cycle.
              restartIfChanged = false;
            }
          else
            {
              wantedBy = [ "multi-user.target" ];
              # SIGTERM ends it at once, so a rebuild restarting it costs nothing.
              restartIfChanged = true;
              # Keep retrying while the cycle has not cloned yet.
              startLimitIntervalSec = 0;
            }
        )
      );

      # Counted from the end of the last look, not the wall clock: a slow
      # look never runs into the next, and machines do not all ask
      # Prometheus on the same minute. OnActiveSec starts the chain.
      systemd.timers.ringflow-watch = mkIf (cfg.watch.enable && watchTimer) {
        description = "Run ringflow watch --once every ${cfg.watch.interval}";
        wantedBy = [ "timers.target" ];
        timerConfig = {
          OnActiveSec = "1min";
          OnUnitInactiveSec = cfg.watch.interval;
          AccuracySec = "15s";
        };
      };
    })
  ];
}
