# Stand-ins for the few parts of nixpkgs' lib, pkgs and NixOS' utils that
# flake.nix and nix/module.nix use, so configs_test.go can evaluate both
# without nixpkgs (there is no network to fetch it). Each mimics only the
# shape the real one returns; nothing is built. A store path here is a
# string "/nix/store/stub-<name>"; a shell script is "#!stub <name>\n<text>"
# so the test can hand its text to `bash -n`.
rec {
  lib = rec {
    genAttrs = names: f: builtins.listToAttrs (map (name: { inherit name; value = f name; }) names);
    getExe = p: "${p}/bin/${p.meta.mainProgram}";
    makeBinPath = ps: builtins.concatStringsSep ":" (map (p: "${p}/bin") ps);
    optional = c: x: if c then [ x ] else [ ];
    optionals = c: xs: if c then xs else [ ];
    optionalString = c: s: if c then s else "";
    optionalAttrs = c: as: if c then as else { };
    concatStringsSep = builtins.concatStringsSep;
    concatLines = xs: builtins.concatStringsSep "" (map (x: x + "\n") xs);
    escapeShellArg = s: "'" + builtins.replaceStrings [ "'" ] [ "'\\''" ] (toString s) + "'";
    # The module system's markers, kept as data the test can look at.
    mkOption = o: o // { _type = "option"; };
    mkEnableOption = name: { _type = "option"; default = false; description = "Whether to enable ${name}."; };
    literalExpression = text: { _type = "literalExpression"; inherit text; };
    mkIf = condition: content: { _type = "if"; inherit condition content; };
    mkMerge = contents: { _type = "merge"; inherit contents; };
    mkDefault = content: { _type = "override"; priority = 1000; inherit content; };
    # Only submodule is ever looked into; the others are names.
    types = {
      submodule = m: { name = "submodule"; inherit (m) options; };
      str = "str";
      enum = vs: "enum ${builtins.concatStringsSep "," vs}";
      path = "path";
      package = "package";
      nullOr = t: "nullOr ${t}";
      listOf = t: "listOf ${t}";
      attrsOf = t: "attrsOf ${t}";
    };
    licenses.asl20 = "asl20";
    platforms.unix = [ "unix" ];
    fileset = {
      toSource = { root, fileset }: { outPath = "/nix/store/stub-source"; inherit fileset; };
      unions = files: files;
      fileFilter = pred: root: { filter = pred; };
    };
  };

  store = name: "/nix/store/stub-${name}";

  # A buildGoModule that returns its (fixed-point) arguments plus a store
  # path, tagged with the Go it would use.
  goBuilder = go: f:
    let
      attrs = f attrs;
    in
    attrs // { outPath = store "${attrs.pname}-${attrs.version}"; inherit go; };

  pkgsFor = system: rec {
    inherit lib;
    stdenv = {
      hostPlatform = { inherit system; };
      buildPlatform.canExecute = _: true;
    };
    buildGoModule = goBuilder "go";
    buildGoLatestModule = goBuilder "go_latest";
    callPackage = fn: overrides: fn (builtins.intersectAttrs (builtins.functionArgs fn) pkgs // overrides);
    pkgs = pkgsFor system;
    installShellFiles = store "installShellFiles";
    makeWrapper = store "makeWrapper";
    git = store "git";
    nix = store "nix";
    openssh = store "openssh";
    coreutils = store "coreutils";
    go = store "go";
    go_latest = store "go_latest";
    gopls = store "gopls";
    mkShell = args: args;
    writeShellScript = name: text: "#!stub ${name}\n${text}";
    writeText = name: text: store name;
    formats.yaml = { }: {
      type = "yaml";
      generate = name: value: store name;
    };
  };

  utils.escapeSystemdExecArgs = builtins.concatStringsSep " ";
}
