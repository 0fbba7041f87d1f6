// linear.cuh — tensor-core GEMM with the MLP epilogue fused: C = act(alpha·A·op(B) + bias)
// [⊙ (alpha·A·op(B_gate) + bias_gate)] [+ residual], for F16/BF16 with fp32 accumulation.
//
// Structure (the classic Ampere recipe, as in CUTLASS's sm80 multistage GEMM, written small):
//   - a thread block computes a BM × BN tile of C (of both products when gated, so each A tile
//     loaded from global memory feeds W0 and W1: "one pass over x");
//   - K advances in BK-wide slices through a STAGES-deep ring of shared-memory buffers filled with
//     cp.async (16-byte, zero-filled outside the matrix), so loads of slice k+2 overlap math on k;
//   - warps in a 2 (M) × 4 (N) or 2 × 2 grid; each warp loads fragments with ldmatrix (.trans for a (K, N) B)
//     and issues mma.sync.m16n8k16 with fp32 accumulators;
//   - the epilogue works on the accumulators in registers and writes C once;
//   - where the tiles alone would not fill the GPU, K is split over `split` blocks per tile that
//     meet in an fp32 workspace (see the split-K step after the main loop).
// GROUPED (a mixture of experts' expert GEMMs, t4j_linear_params.group_offsets): batch item g is
// expert g; its rows of A and C are offsets[g] .. offsets[g+1]-1 (read from device memory when the
// block starts), its weights B + g·stride_b, its biases bias + g·stride_bias. The grid's y covers the capacity p.m; a block whose first
// row is past its group's rows exits at once. No split-K then (the launcher never splits); a residual (ABI 15) is read at
// the group's rows, residual + offsets[g]·ld_residual, and may be C itself (LoRA's expand: out += x·B[g]ᵀ).
// MXFP4 (ABI 13, t4j_linear_params.b_format; grouped BF16 with trans_b only): B and b_gate hold packed FP4 codes
// and E8M0 scales (mxfp4.cuh). A kBK slice of a B row is exactly one MXFP4 block (16 bytes + one scale), so each
// thread loads half a block (8 bytes) and its scale with plain loads, decodes them to 16 BF16 and stores them into
// the stage's B tile, the layout the dense path's cp.async gives it; A keeps its cp.async pipeline. The decode stores
// go to the stage the next kStages − 1 slices will use, after the barrier that retired its last reader, and the
// barrier at the top of the iteration that reads it publishes them, as for cp.async's bytes. The loads are
// synchronous, so a B slice's latency is not hidden behind math as A's is (a faster version: cp.async the packed
// bytes and scales into their own ring, a quarter of the dense tile's bytes, and decode a stage ahead; or feed the
// decoded registers straight to the mma fragments).
// INT4 (ABI 21, b_format; not grouped, F16/BF16, trans_b): B and b_gate hold GPTQ's packed 4-bit codes, (K/8, ldb)
// 32-bit words of 8 consecutive k each, with F16 scales and U8 zero points per (group, n) (int4.cuh). A kBK slice of a
// B row is 4 words (one per 8 k, ldb words apart); a thread decodes one word of one row into 8 values of T and stores
// them into the stage's B tile with one 16-byte store, as the MXFP4 path does (synchronous loads, the same barriers).
// Consecutive threads take consecutive rows n, so the words, scales and zero points they read are consecutive.
// Rows of shared memory are padded by 8 elements (16 bytes) so that the 8 row addresses of an
// ldmatrix fall in distinct bank groups.
// Where a matrix's rows or base are not 8-element aligned (K % 8 != 0 for A, ...), that matrix is
// loaded element by element with bounds checks instead; everything else is the same.
#pragma once

#include <cstdint>
#include <type_traits>

#include "t4j.h"
#include "../common/dtype.cuh"
#include "epilogue.cuh"
#include "linear_config.h"
#include "int4.cuh"
#include "mxfp4.cuh"

namespace t4j {
namespace linear {

#ifdef T4J_HOST_EMULATION
// native/tools/emulator/simt.h provides host versions of the instructions below (checking without a GPU).
__device__ __forceinline__ void cp_async16(void* dst, const void* src, int src_bytes) { t4j_emu::cp_async16(dst, src, src_bytes); }
__device__ __forceinline__ void cp_async_commit() { t4j_emu::cp_async_commit(); }
template <int N>
__device__ __forceinline__ void cp_async_wait() { t4j_emu::cp_async_wait(N); }
__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], const void* p) { t4j_emu::ldmatrix_x4(r, p); }
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], const void* p) { t4j_emu::ldmatrix_x4_trans(r, p); }
template <typename T>
__device__ __forceinline__ void mma16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    t4j_emu::mma_m16n8k16<T>(d, a, b0, b1);
}
#else
__device__ __forceinline__ uint32_t smem_addr(const void* p) {
    return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// 16-byte async copy; src_bytes 0 writes zeros (the source is not read).
__device__ __forceinline__ void cp_async16(void* dst, const void* src, int src_bytes) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_addr(dst)), "l"(src), "r"(src_bytes));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N)); }

__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], const void* p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(smem_addr(p)));
}
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], const void* p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(smem_addr(p)));
}

// D += A (16×16, row) · B (16×8, col), fp32 accumulators.
template <typename T>
__device__ __forceinline__ void mma16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1);
template <>
__device__ __forceinline__ void mma16816<__half>(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
template <>
__device__ __forceinline__ void mma16816<__nv_bfloat16>(float (&d)[4], const uint32_t (&a)[4], uint32_t b0,
                                                        uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

#endif

// Two adjacent elements as one 32-bit store (dst 4-byte aligned), each rounded to nearest.
__device__ __forceinline__ void store2(__half* dst, float a, float b) {
    *reinterpret_cast<__half2*>(dst) = __floats2half2_rn(a, b);
}
__device__ __forceinline__ void store2(__nv_bfloat16* dst, float a, float b) {
    *reinterpret_cast<__nv_bfloat162*>(dst) = __floats2bfloat162_rn(a, b);
}

// Copies a ROWS × COLS tile of a row-major matrix (rows_total × cols_total, leading dimension ld)
// starting at (row0, col0) into shared memory with row pitch COLS + kPad; zeros outside.
// vec: rows, ld and the base are 8-element aligned, so 16-byte chunks are wholly in or out.
template <int ROWS, int COLS, int THREADS, typename T>
__device__ __forceinline__ void load_tile(T* dst, const T* src, int64_t ld, int64_t rows_total, int64_t cols_total,
                                          int64_t row0, int64_t col0, bool vec) {
    constexpr int kChunksPerRow = COLS / 8;
    constexpr int kChunks = ROWS * kChunksPerRow;
    static_assert(kChunks % THREADS == 0, "tile must split evenly over the block");
#pragma unroll
    for (int i = 0; i < kChunks / THREADS; i++) {
        const int chunk = threadIdx.x + i * THREADS;
        const int r = chunk / kChunksPerRow;
        const int c = (chunk % kChunksPerRow) * 8;
        const int64_t gr = row0 + r;
        const int64_t gc = col0 + c;
        T* d = dst + r * (COLS + kPad) + c;
        if (vec) {
            const bool in = gr < rows_total && gc < cols_total;
            cp_async16(d, in ? src + gr * ld + gc : src, in ? 16 : 0);
        } else {
#pragma unroll
            for (int e = 0; e < 8; e++) {
                d[e] = (gr < rows_total && gc + e < cols_total) ? src[gr * ld + gc + e] : from_f32<T>(0.0f);
            }
        }
    }
}

// Calls f(q, acc[q][i][j][k], row * n + col) for each accumulator element of the calling thread that
// lies inside C (m × n), with (row0, col0) the warp's corner: the thread holds rows g and g+8,
// columns 2t and 2t+1 of each m16n8 tile (g = lane / 4, t = lane % 4). The split-K partials are
// stored and summed through it, so the two visit the same elements in the same layout.
template <typename TL, typename F>
__device__ __forceinline__ void for_each_acc_in_c(float (&acc)[TL::PRODUCTS][TL::MT][TL::NT][4], int64_t row0,
                                                  int64_t col0, int lane, int64_t m, int64_t n, F&& f) {
    const int g = lane >> 2;
    const int t = lane & 3;
#pragma unroll
    for (int q = 0; q < TL::PRODUCTS; q++)
#pragma unroll
        for (int i = 0; i < TL::MT; i++)
#pragma unroll
            for (int j = 0; j < TL::NT; j++)
#pragma unroll
                for (int h = 0; h < 2; h++)
#pragma unroll
                    for (int e = 0; e < 2; e++) {
                        const int64_t row = row0 + i * 16 + g + h * 8;
                        const int64_t col = col0 + j * 8 + 2 * t + e;
                        if (row < m && col < n) f(q, acc[q][i][j][h * 2 + e], row * n + col);
                    }
}

// Decodes the MXFP4 slice kt (values kt·kBK .. +kBK of each row) of the BN rows from n0 of W[batch] (and of the gate's
// when GATED) into sb0 (product 0) and sb0 + b_elems (product 1), rows of kBK + kPad BF16; rows past n are zeros.
template <int BN, int PRODUCTS, int THREADS>
__device__ __forceinline__ void load_tile_mxfp4(__nv_bfloat16* sb0, int b_elems, const t4j_linear_params& p, int64_t batch,
                                                int64_t n0, int64_t kt) {
    constexpr int kChunks = PRODUCTS * BN * 2;  // half a block (8 bytes, 16 values) each
    static_assert(kChunks % THREADS == 0, "the B tile's halves must split evenly over the block");
#pragma unroll
    for (int i = 0; i < kChunks / THREADS; i++) {
        const int chunk = threadIdx.x + i * THREADS;
        const int q = chunk / (BN * 2);
        const int r = (chunk % (BN * 2)) >> 1;
        const int half = chunk & 1;
        const int64_t n = n0 + r;
        uint32_t w[8] = {};
        if (n < p.n) {
            const int64_t v = batch * p.stride_b + n * p.ldb + kt * kBK + half * 16;  // value index, a multiple of 16
            const uint8_t* codes = static_cast<const uint8_t*>(q == 0 ? p.b : p.b_gate);
            const uint8_t* scales = static_cast<const uint8_t*>(q == 0 ? p.b_scale : p.b_gate_scale);
            mxfp4_decode16(*reinterpret_cast<const uint64_t*>(codes + v / 2), scales[v / 32], w);
        }
        uint4* d = reinterpret_cast<uint4*>(sb0 + q * b_elems + r * (kBK + kPad) + half * 16);  // 16-byte aligned
        d[0] = make_uint4(w[0], w[1], w[2], w[3]);
        d[1] = make_uint4(w[4], w[5], w[6], w[7]);
    }
}

// Decodes the INT4 slice kt (k = kt·kBK .. +kBK) of the BN rows from n0 of W (and of the gate's when GATED) into sb0
// (product 0) and sb0 + b_elems (product 1), rows of kBK + kPad elements; rows past n and k past K are zeros.
template <typename T, int BN, int PRODUCTS, int THREADS>
__device__ __forceinline__ void load_tile_int4(T* sb0, int b_elems, const t4j_linear_params& p, int64_t n0, int64_t kt) {
    constexpr int kWords = kBK / 8;  // words of one row's slice
    constexpr int kChunks = PRODUCTS * BN * kWords;
    static_assert(kChunks % THREADS == 0, "the B tile's words must split evenly over the block");
#pragma unroll
    for (int i = 0; i < kChunks / THREADS; i++) {
        const int chunk = threadIdx.x + i * THREADS;
        const int q = chunk / (BN * kWords);
        const int j = (chunk % (BN * kWords)) / BN;
        const int r = chunk % BN;  // consecutive threads: consecutive rows n
        const int64_t n = n0 + r;
        const int64_t k = kt * kBK + j * 8;
        uint32_t w[4] = {};
        if (n < p.n && k < p.k) {
            const Int4Matrix mat{static_cast<const uint32_t*>(q == 0 ? p.b : p.b_gate),
                                 static_cast<const __half*>(q == 0 ? p.b_scale : p.b_gate_scale),
                                 static_cast<const uint8_t*>(q == 0 ? p.b_zero : p.b_gate_zero), q == 0 ? p.b_gidx : p.b_gate_gidx, p.ldb,
                                 p.b_group_size, p.b_groups};
            int4_decode8<T>(mat, n, k, w);
        }
        uint4* d = reinterpret_cast<uint4*>(sb0 + q * b_elems + r * (kBK + kPad) + j * 8);  // 16-byte aligned
        d[0] = make_uint4(w[0], w[1], w[2], w[3]);
    }
}

template <typename T, typename CFG, bool GATED, bool TRANS_B, bool GROUPED = false, bool MXFP4 = false, bool INT4 = false>
__device__ __forceinline__ void linear_block(const t4j_linear_params& p, int32_t vec_a, int32_t vec_b, int32_t split) {
    using TL = Tile<CFG, GATED>;
    static_assert(!MXFP4 || (GROUPED && TRANS_B && std::is_same_v<T, __nv_bfloat16>), "MXFP4: grouped BF16 (N, K) weights");
    static_assert(!INT4 || (!GROUPED && !MXFP4 && TRANS_B), "INT4: plain (N, K) weights");
    constexpr int BM = TL::BM;
    constexpr int BN = TL::BN;
    constexpr int THREADS = CFG::THREADS;
#ifdef T4J_HOST_EMULATION
    unsigned char* smem_raw = t4j_emu::dynamic_smem();
#else
    extern __shared__ __align__(16) unsigned char smem_raw[];
#endif
    T* smem = reinterpret_cast<T*>(smem_raw);

    if (!CFG::SPLIT_K || GROUPED) split = 1;   // the launcher never splits these
    const int64_t batch = blockIdx.z / split;   // grid z = batch × split
    const int split_idx = static_cast<int>(blockIdx.z % split);
    const int64_t m0 = static_cast<int64_t>(blockIdx.y) * BM;
    const int64_t n0 = static_cast<int64_t>(blockIdx.x) * BN;
    // GROUPED: this expert's rows [row_lo, row_lo + M) of a and c, clamped into the capacity p.m.
    int64_t M = p.m;
    int64_t row_lo = 0;
    if (GROUPED) {
        int64_t lo = p.group_offsets[batch];
        int64_t hi = p.group_offsets[batch + 1];
        lo = lo < 0 ? 0 : (lo > p.m ? p.m : lo);
        hi = hi < lo ? lo : (hi > p.m ? p.m : hi);
        if (m0 >= hi - lo) return;  // uniform across the block, before any barrier
        row_lo = lo;
        M = hi - lo;
    }
    const T* A = static_cast<const T*>(p.a) + (GROUPED ? row_lo * p.lda : batch * p.stride_a);      // (M, K)
    // (K, N) | (N, K); MXFP4 reads p.b and p.b_gate as bytes instead (load_tile_mxfp4)
    // INT4 reads them as packed words (load_tile_int4), shared by every batch item
    const T* B0 = MXFP4 || INT4 ? nullptr : static_cast<const T*>(p.b) + batch * p.stride_b;
    const T* B1 = GATED && !MXFP4 && !INT4 ? static_cast<const T*>(p.b_gate) + batch * p.stride_b : nullptr;  // like B0

    const int warp = threadIdx.x >> 5;
    const int lane = threadIdx.x & 31;
    const int wm = warp / CFG::WARPS_N;
    const int wn = warp % CFG::WARPS_N;

    float acc[TL::PRODUCTS][TL::MT][TL::NT][4] = {};   // the fp32 accumulators, zeroed

    constexpr int kAElems = BM * (kBK + kPad);
    constexpr int kBElems = TRANS_B ? BN * (kBK + kPad) : kBK * (BN + kPad);
    constexpr int kStage = stage_elems<CFG, GATED, TRANS_B>();
    // This block's share of K, in kBK slices: [kt0, kt0 + k_tiles).
    const int64_t k_tiles_all = (p.k + kBK - 1) / kBK;
    const int64_t k_per_split = (k_tiles_all + split - 1) / split;
    const int64_t kt0 = split_idx * k_per_split;
    const int64_t k_tiles = kt0 >= k_tiles_all ? 0 : (k_tiles_all - kt0 < k_per_split ? k_tiles_all - kt0 : k_per_split);

    auto load_stage = [&](int stage, int64_t kt) {
        T* sa = smem + stage * kStage;
        load_tile<BM, kBK, THREADS>(sa, A, p.lda, M, p.k, m0, kt * kBK, vec_a != 0);
        if constexpr (MXFP4) {
            load_tile_mxfp4<BN, TL::PRODUCTS, THREADS>(sa + kAElems, kBElems, p, batch, n0, kt);
            return;
        }
        if constexpr (INT4) {
            load_tile_int4<T, BN, TL::PRODUCTS, THREADS>(sa + kAElems, kBElems, p, n0, kt);
            return;
        }
#pragma unroll
        for (int q = 0; q < TL::PRODUCTS; q++) {
            T* sb = sa + kAElems + q * kBElems;
            const T* B = q == 0 ? B0 : B1;
            if (TRANS_B) {
                load_tile<BN, kBK, THREADS>(sb, B, p.ldb, p.n, p.k, n0, kt * kBK, vec_b != 0);  // rows n, cols k
            } else {
                load_tile<kBK, BN, THREADS>(sb, B, p.ldb, p.k, p.n, kt * kBK, n0, vec_b != 0);  // rows k, cols n
            }
        }
    };

#pragma unroll
    for (int s = 0; s < kStages - 1; s++) {
        if (s < k_tiles) load_stage(s, kt0 + s);
        cp_async_commit();
    }

    for (int64_t kt = 0; kt < k_tiles; kt++) {
        cp_async_wait<kStages - 2>();
        __syncthreads();  // slice kt is visible, and every warp is done with slice kt-1's buffer
        {
            const int64_t next = kt + kStages - 1;
            if (next < k_tiles) load_stage(static_cast<int>(next % kStages), kt0 + next);
            cp_async_commit();
        }
        const T* sa = smem + static_cast<int>(kt % kStages) * kStage;
#pragma unroll
        for (int ks = 0; ks < kBK; ks += 16) {
            uint32_t af[TL::MT][4];
#pragma unroll
            for (int i = 0; i < TL::MT; i++) {
                const int row = wm * TL::WM + i * 16 + (lane & 15);
                const int col = ks + (lane >> 4) * 8;
                ldmatrix_x4(af[i], sa + row * (kBK + kPad) + col);
            }
#pragma unroll
            for (int q = 0; q < TL::PRODUCTS; q++) {
                const T* sb = sa + kAElems + q * kBElems;
#pragma unroll
                for (int j = 0; j < TL::NT; j += 2) {
                    uint32_t bf[4];  // {b0, b1} of n-tile j, then of n-tile j+1
                    const int nbase = wn * TL::WN + j * 8;
                    if (TRANS_B) {
                        const int n = nbase + (lane & 7) + (lane >> 4) * 8;
                        const int k = ks + ((lane >> 3) & 1) * 8;
                        ldmatrix_x4(bf, sb + n * (kBK + kPad) + k);
                    } else {
                        const int k = ks + (lane & 7) + ((lane >> 3) & 1) * 8;
                        const int n = nbase + (lane >> 4) * 8;
                        ldmatrix_x4_trans(bf, sb + k * (BN + kPad) + n);
                    }
#pragma unroll
                    for (int i = 0; i < TL::MT; i++) {
                        mma16816<T>(acc[q][i][j], af[i], bf[0], bf[1]);
                        mma16816<T>(acc[q][i][j + 1], af[i], bf[2], bf[3]);
                    }
                }
            }
        }
    }
    cp_async_wait<0>();

    const int g = lane >> 2;
    const int t = lane & 3;
    if (CFG::SPLIT_K && split > 1) {
        // Leave this split's partial products in the workspace; the last block of the tile to get
        // here sums all splits in order 0..split-1 (deterministic) into acc and runs the epilogue.
        const int64_t nbatch = gridDim.z / split;
        const int64_t tile = (batch * gridDim.y + blockIdx.y) * gridDim.x + blockIdx.x;
        int32_t* counters = static_cast<int32_t*>(p.workspace);
        float* partial = reinterpret_cast<float*>(static_cast<unsigned char*>(p.workspace) +
                                                  splitk_counter_bytes(nbatch * gridDim.y * gridDim.x));
        const int64_t plane = p.m * p.n;
        float* mine = partial + (batch * split + split_idx) * plane;  // plane of product q: + q * nbatch * split * plane
        for_each_acc_in_c<TL>(acc, m0 + wm * TL::WM, n0 + wn * TL::WN, lane, p.m, p.n,
                              [&](int q, float& v, int64_t at) { mine[q * nbatch * split * plane + at] = v; });
        __threadfence();  // partials visible device-wide before the count says so
        __syncthreads();
        __shared__ int32_t is_last;
        if (threadIdx.x == 0) {
            is_last = atomicAdd(&counters[tile], 1) == split - 1;
            if (is_last) counters[tile] = 0;  // ready for the next launch on this stream
        }
        __syncthreads();
        if (!is_last) return;  // uniform across the block
        __threadfence();
        const float* first = partial + batch * split * plane;  // split 0 of product 0
        for_each_acc_in_c<TL>(acc, m0 + wm * TL::WM, n0 + wn * TL::WN, lane, p.m, p.n, [&](int q, float& v, int64_t at) {
            float sum = 0.0f;
            for (int s = 0; s < split; s++) sum += __ldcg(&first[(q * nbatch * split + s) * plane + at]);
            v = sum;
        });
    }

    // Epilogue, straight from the accumulators: thread holds rows g and g+8, columns 2t, 2t+1 of
    // each m16n8 tile (g = lane / 4, t = lane % 4). The two adjacent columns go out as one 32-bit
    // store where C's rows allow it.
    // GROUPED: group `batch`'s bias rows (stride_bias, ABI 11: GPT-OSS's per-expert biases; 0 shares one row).
    const int64_t bias_off = GROUPED ? batch * p.stride_bias : 0;
    const T* bias = p.bias ? static_cast<const T*>(p.bias) + bias_off : nullptr;
    const T* bias_g = GATED && p.bias_gate ? static_cast<const T*>(p.bias_gate) + bias_off : nullptr;
    // GROUPED (ABI 15): the group's residual rows start at row_lo like C's (stride_residual unused); it may be C itself,
    // each element read by the thread that then writes it. Not with MXFP4 weights (the launcher refuses).
    const T* res = !MXFP4 && p.residual
                       ? static_cast<const T*>(p.residual) + (GROUPED ? row_lo * p.ld_residual : batch * p.stride_residual)
                       : nullptr;                                                                                    // (M, N)
    T* C = static_cast<T*>(p.c) + (GROUPED ? row_lo * p.ldc : batch * p.stride_c);                                   // (M, N)
    const bool pair_ok = p.ldc % 2 == 0 && (reinterpret_cast<uintptr_t>(C) & 3u) == 0;
#pragma unroll
    for (int j = 0; j < TL::NT; j++) {
        const int64_t col = n0 + wn * TL::WN + j * 8 + 2 * t;  // even
        if (col >= p.n) continue;
        const bool two = col + 1 < p.n;
        float bv[2];
        float bg[2];
#pragma unroll
        for (int e = 0; e < 2; e++) {
            const bool in = e == 0 || two;
            bv[e] = bias && in ? to_f32(bias[col + e]) : 0.0f;
            bg[e] = bias_g && in ? to_f32(bias_g[col + e]) : 0.0f;
        }
#pragma unroll
        for (int i = 0; i < TL::MT; i++) {
#pragma unroll
            for (int h = 0; h < 2; h++) {
                const int64_t row = m0 + wm * TL::WM + i * 16 + g + h * 8;
                if (row >= M) continue;
                float v[2];
#pragma unroll
                for (int e = 0; e < 2; e++) {
                    const bool in = e == 0 || two;
                    const float y = p.alpha * acc[0][i][j][h * 2 + e] + bv[e];
                    const float gv = GATED ? p.alpha * acc[TL::PRODUCTS - 1][i][j][h * 2 + e] + bg[e] : 0.0f;
                    const float r = res && in ? to_f32(res[row * p.ld_residual + col + e]) : 0.0f;
                    v[e] = epilogue_value(y, GATED, gv, res != nullptr, r, p.activation, p.act_limit);
                }
                T* dst = C + row * p.ldc + col;
                if (two && pair_ok) {
                    store2(dst, v[0], v[1]);
                } else {
                    dst[0] = from_f32<T>(v[0]);
                    if (two) dst[1] = from_f32<T>(v[1]);
                }
            }
        }
    }
}

}  // namespace linear
}  // namespace t4j
