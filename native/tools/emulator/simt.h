// simt.h — runs CUDA device code on the host, for checking kernels where no GPU is available.
// Every CUDA thread of a block is a host thread; blocks run one after another. __syncthreads is a
// barrier of the block's threads, warp shuffles and __syncwarp are collectives of the warp's 32
// threads, and the two tensor-core instructions the attention kernels use (mma.sync m16n8k16 with
// fp32 accumulation, ldmatrix.x4.trans) are computed from the fragment layouts that the PTX ISA
// documents ("Matrix Fragments for mma.m16n8k16", "ldmatrix"). __shared__ variables become static
// (one copy, shared by the block's threads). Include this before the kernel headers and compile
// them with -DT4J_HOST_EMULATION (see emulate.sh). Slow by design: it checks index math, masks,
// softmax and memory bounds, not speed, and it cannot see races the hardware would show.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#undef __shared__
#define __shared__ static

struct SimtDim3 {
    unsigned x = 0, y = 0, z = 0;
};
inline thread_local SimtDim3 threadIdx;
inline thread_local SimtDim3 blockIdx;
inline SimtDim3 blockDim;
inline SimtDim3 gridDim;

inline float __uint_as_float(uint32_t u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }

namespace simt {

struct Lane {
    uint32_t a[4];
    uint32_t b[2];
    const void* addr;
    float f;
};

struct Warp {
    std::barrier<> bar{32};
    Lane lane[32];
};

struct Block {
    explicit Block(unsigned threads) : bar(threads) {
        for (unsigned w = 0; w < (threads + 31) / 32; w++) warps.push_back(std::make_unique<Warp>());
    }
    std::barrier<> bar;
    std::vector<std::unique_ptr<Warp>> warps;
};

inline Block* g_block = nullptr;

inline Warp& warp() { return *g_block->warps[threadIdx.x / 32]; }
inline int lane() { return static_cast<int>(threadIdx.x % 32); }

// Runs body() as every thread of every block of `grid` (block size `threads`, a multiple of 32).
inline void launch(SimtDim3 grid, unsigned threads, const std::function<void()>& body) {
    gridDim = grid;
    blockDim = SimtDim3{threads, 1, 1};
    for (unsigned z = 0; z < grid.z; z++)
        for (unsigned y = 0; y < grid.y; y++)
            for (unsigned x = 0; x < grid.x; x++) {
                Block block(threads);
                g_block = &block;
                std::vector<std::thread> pool;
                for (unsigned t = 0; t < threads; t++) {
                    pool.emplace_back([&, t] {
                        threadIdx = SimtDim3{t, 0, 0};
                        blockIdx = SimtDim3{x, y, z};
                        body();
                        warp().bar.arrive_and_drop();  // a finished thread no longer holds others up
                        g_block->bar.arrive_and_drop();
                    });
                }
                for (std::thread& th : pool) th.join();
                g_block = nullptr;
            }
}

template <typename T>
float half_to_float(uint16_t bits) {
    T v;
    std::memcpy(&v, &bits, 2);
    if constexpr (std::is_same_v<T, __half>) return __half2float(v);
    else return __bfloat162float(v);
}

}  // namespace simt

inline void __syncthreads() { simt::g_block->bar.arrive_and_wait(); }
inline void __syncwarp(unsigned = 0xffffffffu) { simt::warp().bar.arrive_and_wait(); }

inline float __shfl_xor_sync(unsigned, float v, int mask) {
    simt::Warp& w = simt::warp();
    w.lane[simt::lane()].f = v;
    w.bar.arrive_and_wait();
    const float r = w.lane[simt::lane() ^ mask].f;
    w.bar.arrive_and_wait();
    return r;
}

inline float __shfl_sync(unsigned, float v, int src) {
    simt::Warp& w = simt::warp();
    w.lane[simt::lane()].f = v;
    w.bar.arrive_and_wait();
    const float r = w.lane[src & 31].f;
    w.bar.arrive_and_wait();
    return r;
}

namespace t4j_emu {

// d (16×8, fp32) += a (16×16, row-major) · b (16×8, column-major), warp-wide. Per the PTX ISA, with
// g = lane / 4 and t = lane % 4: a[0] = A[g][2t..2t+1], a[1] = A[g+8][2t..], a[2] = A[g][2t+8..],
// a[3] = A[g+8][2t+8..]; b[0] = B[2t..2t+1][g], b[1] = B[2t+8..2t+9][g]; d[0..1] = D[g][2t..2t+1],
// d[2..3] = D[g+8][2t..2t+1]; the lower 16 bits of a register hold the lower column (row of B).
template <typename T>
void mma_m16n8k16(float* d, const uint32_t* a, uint32_t b0, uint32_t b1) {
    simt::Warp& w = simt::warp();
    const int l = simt::lane();
    std::memcpy(w.lane[l].a, a, sizeof(w.lane[l].a));
    w.lane[l].b[0] = b0;
    w.lane[l].b[1] = b1;
    w.bar.arrive_and_wait();
    auto a_at = [&](int r, int k) {
        const uint32_t reg = w.lane[(r % 8) * 4 + (k % 8) / 2].a[r / 8 + 2 * (k / 8)];
        return simt::half_to_float<T>(static_cast<uint16_t>(k % 2 ? reg >> 16 : reg & 0xffffu));
    };
    auto b_at = [&](int k, int n) {
        const uint32_t reg = w.lane[n * 4 + (k % 8) / 2].b[k / 8];
        return simt::half_to_float<T>(static_cast<uint16_t>(k % 2 ? reg >> 16 : reg & 0xffffu));
    };
    const int g = l / 4, t = l % 4;
    float out[4];
    for (int e = 0; e < 4; e++) {
        const int row = g + (e >= 2 ? 8 : 0);
        const int col = 2 * t + (e & 1);
        float acc = d[e];
        for (int k = 0; k < 16; k++) acc += a_at(row, k) * b_at(k, col);
        out[e] = acc;
    }
    w.bar.arrive_and_wait();
    for (int e = 0; e < 4; e++) d[e] = out[e];
}

// ldmatrix.sync.aligned.m8n8.x4.trans.b16: lane 8m + r gives the address of row r of matrix m (eight
// 16-bit elements); with .trans, lane l receives in r[m] the elements (row 2(l%4), col l/4) and
// (row 2(l%4) + 1, col l/4) of matrix m, low half first.
inline void ldmatrix_x4_trans(uint32_t* r, const void* row) {
    simt::Warp& w = simt::warp();
    const int l = simt::lane();
    w.lane[l].addr = row;
    w.bar.arrive_and_wait();
    for (int m = 0; m < 4; m++) {
        const uint16_t* r0 = static_cast<const uint16_t*>(w.lane[m * 8 + 2 * (l % 4)].addr);
        const uint16_t* r1 = static_cast<const uint16_t*>(w.lane[m * 8 + 2 * (l % 4) + 1].addr);
        r[m] = static_cast<uint32_t>(r0[l / 4]) | (static_cast<uint32_t>(r1[l / 4]) << 16);
    }
    w.bar.arrive_and_wait();
}

}  // namespace t4j_emu
