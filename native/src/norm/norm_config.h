// norm_config.h — the norm kernels' shared-memory contract, defined once for the kernel (norm.cuh)
// and the launcher (norm_launch.cpp): rows up to kMaxCachedCols keep h in a dynamic fp32 cache of
// norm_shared_bytes(cols) bytes; wider rows re-read h from global memory. Plain C++17.
#pragma once

#include <cstdint>

namespace t4j {
namespace norm {

// The fp32 row cache fits the default 48 KiB of dynamic shared memory up to 12288 columns;
// wider rows re-read h from global memory (L2-resident at these sizes).
constexpr int64_t kMaxCachedCols = 48 * 1024 / 4;

inline bool use_cache(int64_t cols) { return cols <= kMaxCachedCols; }

// Dynamic shared memory of a launch: one float per column when cached, else none.
inline uint32_t shared_bytes(int64_t cols) { return use_cache(cols) ? static_cast<uint32_t>(cols * 4) : 0u; }

}  // namespace norm
}  // namespace t4j
