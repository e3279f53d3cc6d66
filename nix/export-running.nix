# NixOS module, for every host of the fleet: services.ringflow.exportRunning
# tells Prometheus which system the host runs, and since when, through
# node_exporter's textfile collector. ringflow's `observe:` reads it back
# and maps the toplevel to the commit it was built from.
#
# After every activation (a switch, `nixos-rebuild test`, a boot) it writes
# <directory>/ringflow-host.prom:
#
#   ringflow_host_toplevel_info{toplevel="/nix/store/…-nixos-system-lab-1-…"} 1
#   ringflow_host_switched_timestamp_seconds 1765135200
#
# Activating the system the file names already (a reboot, a commit that
# changes nothing of this host) keeps its time. A switch whose activation
# fails before this snippet runs leaves the file as it was: the host still
# runs the old system. comin users need none of this: comin exports
# comin_deployment_info itself.
#
#   services.ringflow.exportRunning.enable = true;
#   services.prometheus.exporters.node = {
#     enable = true;
#     enabledCollectors = [ "textfile" ];
#     extraFlags = [ "--collector.textfile.directory=/var/lib/prometheus-node-exporter-text-files" ];
#   };
#
# The file's format is test/hostsim's (configs_test.go runs this script
# and compares the bytes).
{
  config,
  lib,
  pkgs,
  ...
}:

let
  inherit (lib) mkEnableOption mkIf mkOption types;

  cfg = config.services.ringflow.exportRunning;

  # export-running SYSTEM DIRECTORY: SYSTEM is the system being activated
  # ($systemConfig; /run/current-system points there only once activation
  # ends). Bash and coreutils only: activation scripts have no sed or awk.
  exportScript = pkgs.writeShellScript "ringflow-export-running" ''
    set -eu
    PATH=${lib.makeBinPath [ pkgs.coreutils ]}:$PATH
    toplevel=$(readlink -f "$1")
    dir=$2
    file=$dir/ringflow-host.prom
    since=$(date +%s)
    # The same system again keeps the time it was switched to.
    if [ -f "$file" ]; then
      same=
      old=
      while IFS= read -r line; do
        case $line in
          "ringflow_host_toplevel_info{toplevel=\"$toplevel\"} 1") same=1 ;;
          "ringflow_host_switched_timestamp_seconds "*) old=''${line#* } ;;
        esac
      done < "$file"
      case $old in
        "" | *[!0-9]*) ;;
        *) if [ -n "$same" ]; then since=$old; fi ;;
      esac
    fi
    mkdir -p "$dir"
    tmp=$(mktemp "$dir/.ringflow-host.prom.XXXXXX")
    {
      printf '# HELP ringflow_host_toplevel_info The NixOS system this host runs (readlink -f /run/current-system).\n'
      printf '# TYPE ringflow_host_toplevel_info gauge\n'
      printf 'ringflow_host_toplevel_info{toplevel="%s"} 1\n' "$toplevel"
      printf '# HELP ringflow_host_switched_timestamp_seconds When this host switched to the system it runs, in seconds since the epoch.\n'
      printf '# TYPE ringflow_host_switched_timestamp_seconds gauge\n'
      printf 'ringflow_host_switched_timestamp_seconds %s\n' "$since"
    } > "$tmp"
    chmod 0644 "$tmp"
    sync "$tmp" 2>/dev/null || true
    mv -f "$tmp" "$file"
  '';
in
{
  options.services.ringflow.exportRunning = {
    enable = mkEnableOption "exporting the system this host runs (its toplevel, and when it switched to it) for node_exporter's textfile collector, after every activation";

    directory = mkOption {
      type = types.str;
      default = "/var/lib/prometheus-node-exporter-text-files";
      description = ''
        node_exporter's --collector.textfile.directory; ringflow-host.prom
        is written there (created if missing, readable by everyone).
      '';
    };
  };

  config = mkIf cfg.enable {
    # Every activation: switch, test, boot. Not dry-activate.
    system.activationScripts.ringflowExportRunning = {
      text = ''
        ${exportScript} "$systemConfig" ${lib.escapeShellArg cfg.directory} \
          || echo ${lib.escapeShellArg "ringflow: could not write ${cfg.directory}/ringflow-host.prom"} >&2
      '';
      deps = [ ];
    };
  };
}
