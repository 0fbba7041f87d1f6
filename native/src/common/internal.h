// internal.h — what the kernel-family launchers share: status helpers, the per-context
// module cache and the launch call. Host code only (compiled by the C++ compiler, not nvcc).
#pragma once

#include <cstdint>

#include "t4j.h"
#include "cuda_driver.h"

namespace t4j {

// T4J status for a failed driver call.
inline int32_t cuda_status(CUresult r) { return r == CUDA_SUCCESS ? T4J_SUCCESS : T4J_STATUS_CUDA_BASE + r; }

// Looks up an extern "C" kernel of t4j.fatbin in the calling thread's current context, loading the
// module into that context on first use. `name` must be a string literal (its address is a cache key).
int32_t get_kernel(const char* name, CUfunction* out);

// cuLaunchKernel on a 1-D grid with the kernel's parameter pointers.
int32_t launch(CUfunction f, uint32_t grid, uint32_t block, uint32_t shared_bytes, void* stream, void** args);

// cuLaunchKernel on a 3-D grid of 1-D blocks; opts the kernel in to more than 48 KiB of dynamic
// shared memory when shared_bytes asks for it.
int32_t launch_grid(CUfunction f, uint32_t gx, uint32_t gy, uint32_t gz, uint32_t block, uint32_t shared_bytes,
                    void* stream, void** args);

// cuMemsetD32Async: `count` 32-bit words at dst set to value, in stream order.
int32_t memset_d32_async(void* dst, uint32_t value, size_t count, void* stream);

// Streaming multiprocessors of the current context's device (cached per device).
int32_t sm_count(int* out);

// Grid size for a grid-stride loop over `rows` blocks (the 1-D grid limit is 2^31 - 1).
inline uint32_t row_grid(int64_t rows) { return static_cast<uint32_t>(rows < 2147483647 ? rows : 2147483647); }

inline bool is_float_dtype(int32_t d) { return d == T4J_DTYPE_F32 || d == T4J_DTYPE_F16 || d == T4J_DTYPE_BF16; }

}  // namespace t4j
