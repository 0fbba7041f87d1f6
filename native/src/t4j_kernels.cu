// t4j_kernels.cu — the one translation unit nvcc compiles, per target arch, into t4j.fatbin.
// Each kernel family contributes its instance file here; a single TU gives one module whose
// extern "C" names the launchers look up. Archs compile in parallel (native/build.sh).
#include "norm/norm_kernels.cu"
#include "linear/linear_kernels.cu"
#include "embedding/embedding_kernels.cu"
#include "vocab/vocab_kernels.cu"
#include "attention/attention_kernels.cu"
#include "rope/rope_kernels.cu"
#include "moe/moe_kernels.cu"
