{
  description = "ringflow: move a NixOS fleet's flake through deployment rings kept as git branches";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs =
    { self, nixpkgs }:
    let
      inherit (nixpkgs) lib;

      systems = [
        "x86_64-linux"
        "aarch64-linux"
        "x86_64-darwin"
        "aarch64-darwin"
      ];
      forAllSystems = f: lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});

      # The build, as a callPackage-able function: used by packages, the
      # overlay (with the consumer's nixpkgs) and the NixOS module.
      ringflowPackage =
        {
          lib,
          stdenv,
          buildGoModule,
          # go.mod asks for go 1.26.8 or newer and the build sandbox cannot
          # download a toolchain (GOTOOLCHAIN=local), so take nixpkgs' newest
          # Go when it has one; buildGoLatestModule is buildGoModule with go_latest.
          buildGoLatestModule ? null,
          installShellFiles,
          makeWrapper,
          git,
          nix,
          openssh,
        }:
        let
          build = if buildGoLatestModule != null then buildGoLatestModule else buildGoModule;
          canRun = stdenv.buildPlatform.canExecute stdenv.hostPlatform;
        in
        build (finalAttrs: {
          pname = "ringflow";
          # Like `make build`'s git describe: the commit, or "dirty" for an
          # uncommitted tree (Nix before 2.16 has no dirtyShortRev).
          version = self.shortRev or self.dirtyShortRev or "dirty";

          # go.mod, go.sum and the Go files only: README or test-data edits
          # do not rebuild, and nothing else is needed (there is no go:embed;
          # configs_test.go keeps it so). scripts/update-vendor-hash.sh
          # vendors a copy of exactly these files.
          src = lib.fileset.toSource {
            root = ./.;
            fileset = lib.fileset.unions [
              ./go.mod
              ./go.sum
              (lib.fileset.fileFilter (file: file.hasExt "go") ./.)
            ];
          };

          # The NAR hash of `go mod vendor`'s output; kept current by
          # scripts/update-vendor-hash.sh (`--check` in go test ./configs).
          vendorHash = "sha256-68vPZXzSNBDbvw4CjpsF5wCkgS5ixPzjEdHZ95QnNeU=";

          subPackages = [ "cmd/ringflow" ];

          ldflags = [
            "-s"
            "-w"
            "-X github.com/ringflow/ringflow/pkg/cli.version=${finalAttrs.version}"
          ];

          nativeBuildInputs = [
            installShellFiles
            makeWrapper
          ];

          # The tests drive real git and real nix on generated fleets (a nix
          # daemon, a writable store): not available in the build sandbox.
          # `make test` runs them.
          doCheck = false;

          # Completions and man pages come from the binary's own command
          # tree, so they need a build that runs here (not when cross-compiling).
          postInstall =
            lib.optionalString canRun ''
              installShellCompletion --cmd ringflow \
                --bash <($out/bin/ringflow completion bash) \
                --zsh <($out/bin/ringflow completion zsh) \
                --fish <($out/bin/ringflow completion fish)

              # scripts/mkman (`make man`) is in the source and its imports
              # are in the vendor directory; go run builds it offline.
              go run ./scripts/mkman man
              installManPage man/*.1
            ''
            # git first on PATH: ringflow relies on its push --atomic and
            # worktree behaviour. nix and ssh last: the system's nix matches
            # its daemon and should win; ours is the fallback.
            + ''
              wrapProgram $out/bin/ringflow \
                --prefix PATH : ${lib.makeBinPath [ git ]} \
                --suffix PATH : ${
                  lib.makeBinPath [
                    nix
                    openssh
                  ]
                }
            '';

          meta = {
            description = "Move a NixOS fleet's flake through deployment rings kept as git branches";
            homepage = "https://github.com/ringflow/ringflow";
            license = lib.licenses.asl20;
            mainProgram = "ringflow";
            platforms = lib.platforms.unix;
          };
        });
    in
    {
      packages = forAllSystems (pkgs: rec {
        ringflow = pkgs.callPackage ringflowPackage { };
        default = ringflow;
      });

      apps = forAllSystems (pkgs: {
        default = {
          type = "app";
          program = lib.getExe self.packages.${pkgs.stdenv.hostPlatform.system}.default;
          meta.description = "Run ringflow (ringflow cycle for the nightly job)";
        };
      });

      # pkgs.ringflow, built with the consumer's nixpkgs.
      overlays.default = final: prev: { ringflow = final.callPackage ringflowPackage { }; };

      # services.ringflow, with the package defaulting to this flake's build
      # for the host's nixpkgs. ./nix/module.nix on its own expects
      # pkgs.ringflow (overlays.default) or services.ringflow.package.
      nixosModules = {
        default = self.nixosModules.ringflow;
        ringflow =
          { lib, pkgs, ... }:
          {
            imports = [ ./nix/module.nix ];
            services.ringflow.package = lib.mkDefault (pkgs.callPackage ringflowPackage { });
          };
      };

      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          packages = [
            (pkgs.go_latest or pkgs.go)
            pkgs.gopls
            pkgs.git
            pkgs.nix
          ];
        };
      });

      # `nix flake check` builds the package on each system.
      checks = forAllSystems (pkgs: {
        ringflow = self.packages.${pkgs.stdenv.hostPlatform.system}.default;
      });
    };
}
