package fleet

import "github.com/ringflow/ringflow/pkg/evidence"

// EvidenceVerifier tells which green entries of the evidence count as
// built: those naming their drv and out path, with the output valid in this
// machine's store or in build.cache.
func (f *Fleet) EvidenceVerifier() *evidence.Verifier {
	return &evidence.Verifier{Stores: f.Nix, Cache: f.Config.Build.Cache}
}
