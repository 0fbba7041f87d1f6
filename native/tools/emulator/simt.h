// simt.h — runs CUDA device code on the host, for checking kernels where no GPU is available.
//
// Execution model. Blocks run one at a time in a random order drawn from a seeded generator
// (T4J_EMU_SEED, else random; printed by init()), so code that assumes block order (split-K,
// inter-block counters) shows it. The CUDA threads of a block are, on x86-64, fibers on the
// launching OS thread: each has its own stack, runs until it reaches a barrier, and a barrier
// switches to the next ready fiber in user space (a six-register context switch, no system call;
// a barrier no fiber can complete is a synccheck finding, not a hang). The AddressSanitizer build
// tells ASan of every stack switch. The ThreadSanitizer build, other architectures and
// -DT4J_EMU_OS_THREADS make every CUDA thread of a block a host thread instead, taken from a pool
// that lives as long as the program (threads reused across blocks and launches), barriers real
// barriers: ThreadSanitizer sees races between those threads. Either way __syncthreads is a
// barrier of the block's threads; warp shuffles, __syncwarp, __match_any_sync and the tensor-core
// instructions (mma.sync m16n8k16 fp32-accumulate, ldmatrix .x4 with and without .trans) are
// collectives of the warp's 32 threads computed from the fragment layouts the PTX ISA documents.
// cp.async copies are deferred: the destination is poisoned at issue and filled when the issuing
// thread's cp.async.wait_group retires its group. __shared__ variables become static (one copy,
// shared by the block's threads); dynamic shared memory is a heap buffer of exactly the size the
// launcher requested, poisoned (0xFF bytes: NaN in every float dtype) before each block.
//
// Checks made here (each report names the kernel, block and threads; the run then fails):
//   synccheck  a block's threads reached __syncthreads a different number of times; a shuffle /
//              __syncwarp mask that leaves out the calling lane or a lane still running; an
//              ldmatrix reading bytes whose cp.async has not completed (a missing wait_group);
//   memcheck   cp.async / ldmatrix outside the dynamic shared memory the launcher requested;
//   initcheck  (by poison) never-written shared or output memory reads as NaN and the float64
//              comparison reports it.
// Plain loads and stores are not instrumented here: emulate.sh --sanitize=address builds the same
// code with AddressSanitizer (global tensors are exact-size heap buffers, dynamic shared memory
// too, static __shared__ arrays are globals with redzones) and --sanitize=thread with
// ThreadSanitizer (emulated threads are host threads, barriers are real barriers, so two threads
// touching a shared byte between barriers, one writing, is a reported race).
//
// Limits: no timing, no memory model beyond barriers and the atomics' own ordering (blocks never
// run concurrently, so inter-block races are out of reach except through the order shuffle), no
// tensor-core rounding subtleties (mma accumulates in fp32 in k order), approximate intrinsics
// (__expf, __fdividef, rsqrtf) are computed exactly.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <barrier>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <pthread.h>
#include <random>
#include <semaphore>
#include <string>
#include <thread>
#include <vector>

#if defined(__x86_64__) && !defined(__SANITIZE_THREAD__) && !defined(T4J_EMU_OS_THREADS)
#define T4J_EMU_FIBERS 1
#include <sys/mman.h>
#if defined(__SANITIZE_ADDRESS__)  // AddressSanitizer is told of every stack switch
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#endif

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
inline uint32_t __float_as_uint(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}
inline float __int_as_float(int32_t i) {
    float f;
    std::memcpy(&f, &i, 4);
    return f;
}
inline float __fdividef(float a, float b) { return a / b; }  // the device's is approximate (≤ 2 ulp)
inline float __fadd_rn(float a, float b) { return a + b; }    // IEEE, rounded to nearest, never contracted
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __expf(float x) { return std::exp(x); }         // the device's is approximate
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline uint32_t __umulhi(uint32_t a, uint32_t b) { return static_cast<uint32_t>((uint64_t{a} * b) >> 32); }
inline int __popc(uint32_t v) { return __builtin_popcount(v); }
inline int __ffs(uint32_t v) { return __builtin_ffs(static_cast<int>(v)); }
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
template <typename T>
inline T __ldcg(const T* p) { return *p; }

inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }

template <typename T>
inline T atomicAdd(T* p, T v) { return std::atomic_ref<T>(*p).fetch_add(v); }
template <typename T>
inline T atomicMin(T* p, T v) {
    std::atomic_ref<T> a(*p);
    T cur = a.load();
    while (v < cur && !a.compare_exchange_weak(cur, v)) {
    }
    return cur;
}

namespace simt {

inline std::atomic<int> g_findings{0};
inline std::vector<std::string> g_launched;  // kernel names, for the coverage check
inline const char* g_kernel = "";
inline std::mutex g_print;

// One checker finding: printed (kernel, block, thread) and counted; the run fails when any.
inline void report(const char* check, const char* fmt, ...) {
    std::lock_guard<std::mutex> lock(g_print);
    if (g_findings.fetch_add(1) >= 20) return;  // enough to act on
    std::fprintf(stdout, "%s: %s block (%u,%u,%u) thread %u: ", check, g_kernel, blockIdx.x, blockIdx.y, blockIdx.z,
                 threadIdx.x);
    va_list ap;
    va_start(ap, fmt);
    std::vfprintf(stdout, fmt, ap);
    va_end(ap);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

// What each emulated thread carries: its cp.async copies not yet completed, its committed groups,
// the __syncthreads it reached.
struct Copy {
    unsigned char* dst;
    const unsigned char* src;
    int bytes;
    int group;  // -1 until committed
};
struct ThreadState {
    std::vector<Copy> copies;
    int groups = 0;
    unsigned syncs = 0;
};

#ifdef T4J_EMU_FIBERS
// User-level context switch (x86-64 System V): saves the callee-saved registers on the current
// stack, stores its pointer in *save, continues on the stack `to` (saved the same way, or made by
// Fibers::start). The caller-saved registers are the compiler's to save around this call.
extern "C" void t4j_simt_switch(void** save, void* to);
asm(R"(
    .text
    .weak t4j_simt_switch
    .type t4j_simt_switch, @function
t4j_simt_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size t4j_simt_switch, .-t4j_simt_switch
)");

// The fibers of the running block: one per CUDA thread, run on the launching OS thread in turn.
// A fiber runs until it waits at a barrier (or ends); the next one of the ready queue (FIFO) goes
// on. The last to arrive at a barrier moves its waiters to the queue and goes on itself.
class Fibers {
public:
    static constexpr size_t kStack = 256 << 10;  // per fiber; the kernels' frames take a few KiB (more at -O0)
    struct Fiber {
        void* sp = nullptr;
        unsigned char* stack = nullptr;  // mapping: a guard page, then kStack bytes
        unsigned tid = 0;
        bool done = true;
        ThreadState st;
#if defined(__SANITIZE_ADDRESS__)
        void* fake_stack = nullptr;  // AddressSanitizer's, while switched away
#endif
    };

    ~Fibers() {
        for (Fiber& f : fibers_) munmap(f.stack, kStack + 4096);
    }
    Fiber& current() { return *cur_; }
    bool active() const { return cur_ != nullptr; }

    // Runs job(t) for t in [0, n) as fibers; returns when all ended, or when none can go on (a
    // barrier some fiber never reaches: reported by the caller's checks, the rest abandoned).
    bool run(unsigned n, const std::function<void(unsigned)>& job) {
        while (fibers_.size() < n) {
            Fiber f;
            void* m = mmap(nullptr, kStack + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
            if (m == MAP_FAILED) {
                std::perror("simt: fiber stack");
                std::abort();
            }
            mprotect(m, 4096, PROT_NONE);  // overflow faults instead of writing into the next stack
            f.stack = static_cast<unsigned char*>(m);
            fibers_.push_back(std::move(f));
        }
        job_ = &job;
        n_ = n;
        queue_.assign(n, 0);
        head_ = 0;
        tail_ = 0;
        left_ = n;
#if defined(__SANITIZE_ADDRESS__)
        if (main_size_ == 0) {
            pthread_attr_t at;
            pthread_getattr_np(pthread_self(), &at);
            pthread_attr_getstack(&at, &main_bottom_, &main_size_);
            pthread_attr_destroy(&at);
        }
#endif
        for (unsigned t = 0; t < n; t++) {
            Fiber& f = fibers_[t];
#if defined(__SANITIZE_ADDRESS__)
            // a fiber abandoned at a deadlock left its frames' redzones poisoned
            if (!f.done) __asan_unpoison_memory_region(f.stack + 4096, kStack);
#endif
            f.tid = t;
            f.done = false;
            f.st = ThreadState{};
            // The first switch to it pops six registers and returns into entry() with the stack as
            // after a call (rsp = 8 mod 16).
            auto* top = reinterpret_cast<void**>(f.stack + 4096 + kStack);
            void** sp = top - 8;
            for (int r = 0; r < 6; r++) sp[r] = nullptr;
            sp[6] = reinterpret_cast<void*>(&Fibers::entry);
            sp[7] = nullptr;
            f.sp = sp;
            push(t);
        }
        Fiber& first = fibers_[pop()];
        enter(first, &main_sp_, nullptr, true);
        cur_ = nullptr;
        return left_ == 0;
    }

    void push(unsigned t) { queue_[tail_++ % n_] = t; }

    // The current fiber waits (it was put on a barrier's list); the next ready one runs.
    void wait() {
        Fiber& me = *cur_;
        if (head_ == tail_) {  // nothing can run: back to launch(), which reports it
            to_main(&me.sp, true);  // abandoned: restarted from entry() at the next block
            return;
        }
        Fiber& next = fibers_[pop()];
        if (&next != &me) enter(next, &me.sp, &me, true);
    }

private:
    unsigned pop() { return queue_[head_++ % n_]; }
    // Switches from `from` (nullptr: the launching thread's own stack) to fiber f; returns when
    // something switches back. `alive`: `from` will be resumed (else its stack is dropped).
    void enter(Fiber& f, void** save, [[maybe_unused]] Fiber* from, [[maybe_unused]] bool alive) {
        cur_ = &f;
        threadIdx = SimtDim3{f.tid, 0, 0};
#if defined(__SANITIZE_ADDRESS__)
        void** fake = alive ? (from ? &from->fake_stack : &main_fake_) : nullptr;
        __sanitizer_start_switch_fiber(fake, f.stack + 4096, kStack);
        t4j_simt_switch(save, f.sp);
        __sanitizer_finish_switch_fiber(from ? from->fake_stack : main_fake_, nullptr, nullptr);
#else
        t4j_simt_switch(save, f.sp);
#endif
    }
    void to_main(void** save, [[maybe_unused]] bool ended) {
        Fiber* from = cur_;
        cur_ = nullptr;
#if defined(__SANITIZE_ADDRESS__)
        __sanitizer_start_switch_fiber(ended ? nullptr : &from->fake_stack, main_bottom_, main_size_);
        t4j_simt_switch(save, main_sp_);
        __sanitizer_finish_switch_fiber(from->fake_stack, nullptr, nullptr);
#else
        (void)from;
        t4j_simt_switch(save, main_sp_);
#endif
    }
    static void entry();

    std::vector<Fiber> fibers_;
    std::vector<unsigned> queue_;  // ready fibers, a ring of n_ (each fiber is in it at most once)
    size_t head_ = 0, tail_ = 0;
    unsigned n_ = 0, left_ = 0;  // fibers, fibers not ended
    Fiber* cur_ = nullptr;
    void* main_sp_ = nullptr;
#if defined(__SANITIZE_ADDRESS__)
    void* main_fake_ = nullptr;
    void* main_bottom_ = nullptr;
    size_t main_size_ = 0;
#endif
    const std::function<void(unsigned)>* job_ = nullptr;

    friend Fibers& fibers();
    friend void fiber_end();
};

inline Fibers& fibers() {
    static Fibers f;
    return f;
}

// The current fiber ended: the next ready one runs, or launch() goes on when none is left.
inline void fiber_end() {
    Fibers& fs = fibers();
    Fibers::Fiber& me = *fs.cur_;
    me.done = true;
    fs.left_--;
    if (fs.head_ == fs.tail_) fs.to_main(&me.sp, true);
    Fibers::Fiber& next = fs.fibers_[fs.pop()];
    fs.enter(next, &me.sp, &me, false);
}

inline void Fibers::entry() {
    Fibers& fs = fibers();
#if defined(__SANITIZE_ADDRESS__)
    __sanitizer_finish_switch_fiber(nullptr, nullptr, nullptr);
#endif
    (*fs.job_)(fs.cur_->tid);
    fiber_end();
    std::abort();  // an ended fiber is never resumed
}

inline ThreadState& self() { return fibers().current().st; }

// A barrier of fibers: arrive_and_wait / arrive_and_drop as std::barrier's.
class Barrier {
public:
    explicit Barrier(unsigned expected) : expected_(expected) { waiters_.reserve(expected); }
    void arrive_and_wait() {
        if (arrived_ + 1 == expected_) {
            release();
            return;
        }
        arrived_++;
        waiters_.push_back(fibers().current().tid);
        fibers().wait();
    }
    unsigned waiting() const { return arrived_; }
    void arrive_and_drop() {
        expected_--;
        if (arrived_ > 0 && arrived_ == expected_) release();
    }

private:
    void release() {
        arrived_ = 0;
        for (unsigned t : waiters_) fibers().push(t);
        waiters_.clear();
    }
    unsigned expected_, arrived_ = 0;
    std::vector<unsigned> waiters_;
};
#else
inline thread_local ThreadState t_state;
inline ThreadState& self() { return t_state; }
using Barrier = std::barrier<>;
#endif

struct Lane {
    uint32_t a[4];
    uint32_t b[2];
    const void* addr;
    float f;
    uint64_t u;
};

struct Warp {
    explicit Warp(unsigned lanes) : bar(lanes), running(lanes >= 32 ? 0xffffffffu : (1u << lanes) - 1) {}
    Barrier bar;
    Lane lane[32];
    std::atomic<uint32_t> running;  // lanes that have not exited
};

struct Block {
    Block(unsigned threads, size_t dyn_bytes)
        : bar(threads), syncs(threads, 0), dyn_bytes(dyn_bytes), dyn(dyn_bytes ? static_cast<unsigned char*>(std::malloc(dyn_bytes)) : nullptr),
          pending((dyn_bytes + 15) / 16) {
        for (unsigned w = 0; w < (threads + 31) / 32; w++) warps.push_back(std::make_unique<Warp>(std::min(32u, threads - 32 * w)));
        if (dyn) std::memset(dyn, 0xff, dyn_bytes);
        for (auto& pnd : pending) pnd.store(0, std::memory_order_relaxed);
    }
    ~Block() { std::free(dyn); }
    Barrier bar;
    std::vector<std::unique_ptr<Warp>> warps;
    std::vector<unsigned> syncs;  // __syncthreads reached, per thread
    size_t dyn_bytes;
    unsigned char* dyn;
    std::vector<std::atomic<uint32_t>> pending;  // per 16 bytes of dynamic smem: issuing thread + 1 of an incomplete cp.async
};

inline Block* g_block = nullptr;

inline Warp& warp() { return *g_block->warps[threadIdx.x / 32]; }
inline int lane() { return static_cast<int>(threadIdx.x % 32); }

// Pool of host threads (the ThreadSanitizer build's; fibers otherwise), reused for every block of every launch.
class Pool {
public:
    ~Pool() {
        stop_ = true;
        for (size_t i = 0; i < threads_.size(); i++) go_[i]->release();
        for (std::thread& t : threads_) t.join();
    }
    void run(unsigned n, const std::function<void(unsigned)>& job) {
        while (threads_.size() < n) {
            const size_t i = threads_.size();
            go_[i] = std::make_unique<std::binary_semaphore>(0);
            threads_.emplace_back([this, i] {
                for (;;) {
                    go_[i]->acquire();
                    if (stop_) return;
                    (*job_)(static_cast<unsigned>(i));
                    done_.release();
                }
            });
        }
        job_ = &job;
        for (unsigned i = 0; i < n; i++) go_[i]->release();
        for (unsigned i = 0; i < n; i++) done_.acquire();
    }

private:
    std::array<std::unique_ptr<std::binary_semaphore>, 1024> go_;
    std::vector<std::thread> threads_;
    std::counting_semaphore<1024> done_{0};
    const std::function<void(unsigned)>* job_ = nullptr;
    std::atomic<bool> stop_{false};
};

inline Pool& pool() {
    static Pool p;
    return p;
}

inline std::mt19937_64& order_rng() {
    static std::mt19937_64 rng;
    return rng;
}

// Seeds the block order from T4J_EMU_SEED (or at random) and prints the seed, to rerun a failure.
inline uint64_t init() {
    uint64_t seed;
    if (const char* s = std::getenv("T4J_EMU_SEED")) seed = std::strtoull(s, nullptr, 0);
    else seed = (static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}();
    order_rng().seed(seed);
#if defined(__SANITIZE_ADDRESS__) && defined(T4J_EMU_FIBERS)
    // The emulated threads are fibers of one OS thread: name the CUDA thread of a report.
    __asan_set_death_callback([] {
        std::fprintf(stderr, "(the AddressSanitizer report above: kernel %s, block (%u,%u,%u), thread %u)\n", g_kernel,
                     blockIdx.x, blockIdx.y, blockIdx.z, threadIdx.x);
    });
#endif
    std::printf("block order seed: T4J_EMU_SEED=%llu\n", static_cast<unsigned long long>(seed));
    std::fflush(stdout);
    return seed;
}

inline void finish_copies(bool all, int keep);

// Runs body() as every thread of every block of `grid` (block size `threads`), blocks in a random
// order, with `dyn_smem` bytes of dynamic shared memory per block. `kernel` names reports.
inline void launch(SimtDim3 grid, unsigned threads, const std::function<void()>& body, size_t dyn_smem = 0,
                   const char* kernel = "") {
    gridDim = grid;
    blockDim = SimtDim3{threads, 1, 1};
    g_kernel = kernel;
    if (*kernel && std::find(g_launched.begin(), g_launched.end(), kernel) == g_launched.end()) g_launched.push_back(kernel);
    std::vector<SimtDim3> order;
    for (unsigned z = 0; z < grid.z; z++)
        for (unsigned y = 0; y < grid.y; y++)
            for (unsigned x = 0; x < grid.x; x++) order.push_back(SimtDim3{x, y, z});
    std::shuffle(order.begin(), order.end(), order_rng());
    for (const SimtDim3& b : order) {
        Block block(threads, dyn_smem);
        g_block = &block;
        std::function<void(unsigned)> job = [&](unsigned t) {
            threadIdx = SimtDim3{t, 0, 0};
            blockIdx = b;
#if defined(__SANITIZE_THREAD__)
            {  // ThreadSanitizer names the two threads of a race by these: CUDA block and thread
                char n[16];
                std::snprintf(n, sizeof n, "b%u.%u.%u t%u", b.x, b.y, b.z, t);
                pthread_setname_np(pthread_self(), n);
            }
#endif
            ThreadState& st = self();
            st = ThreadState{};
            body();
            st.copies.clear();  // copies never waited for: the kernel ended (the hardware drains them)
            block.syncs[t] = st.syncs;
            warp().running.fetch_and(~(1u << lane()));
            warp().bar.arrive_and_drop();  // a finished thread no longer holds others up
            block.bar.arrive_and_drop();
        };
#ifdef T4J_EMU_FIBERS
        blockIdx = b;
        if (!fibers().run(threads, job)) {
            unsigned at_warp = 0;
            for (const auto& w : block.warps) at_warp += w->bar.waiting();
            threadIdx = SimtDim3{};
            report("synccheck", "deadlock: %u thread(s) wait at __syncthreads and %u at warp collectives (shuffle, "
                   "__syncwarp, match, ldmatrix, mma) that the block's other threads never reach", block.bar.waiting(), at_warp);
            continue;
        }
#else
        pool().run(threads, job);
#endif
        for (unsigned t = 1; t < threads; t++) {
            if (block.syncs[t] != block.syncs[0]) {
                SimtDim3 keep = blockIdx;
                blockIdx = b;
                report("synccheck", "__syncthreads reached %u times by thread 0 but %u times by thread %u (a barrier "
                       "not reached by every thread of the block)", block.syncs[0], block.syncs[t], t);
                blockIdx = keep;
                break;
            }
        }
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

// synccheck for warp collectives: the mask must hold the caller and every lane still running.
inline void check_mask(unsigned mask, const char* what) {
    const uint32_t running = warp().running.load();
    if (!((mask >> lane()) & 1u) || (running & ~mask) != 0) {
        report("synccheck", "%s with mask 0x%08x, but lanes 0x%08x of the warp are running", what, mask, running);
    }
}

// memcheck + synccheck of a 16-byte shared-memory row read by ldmatrix.
inline void check_smem_read(const void* p, const char* what) {
    Block& b = *g_block;
    const auto* c = static_cast<const unsigned char*>(p);
    if (b.dyn != nullptr && c >= b.dyn - 4096 && c < b.dyn + b.dyn_bytes + 4096) {  // meant for dynamic smem
        if (c < b.dyn || c + 16 > b.dyn + b.dyn_bytes) {
            report("memcheck", "%s reads 16 bytes at offset %td of dynamic shared memory, outside the %zu bytes the "
                   "launcher requested", what, c - b.dyn, b.dyn_bytes);
            return;
        }
        const size_t at = static_cast<size_t>(c - b.dyn) / 16;
        for (size_t i = at; i <= (static_cast<size_t>(c - b.dyn) + 15) / 16 && i < b.pending.size(); i++) {
            const uint32_t owner = b.pending[i].load(std::memory_order_acquire);
            if (owner != 0) {
                report("synccheck", "%s reads shared bytes at offset %zu written by a cp.async of thread %u that has "
                       "not completed (missing cp.async.wait_group before the barrier)", what, i * 16, owner - 1);
                return;
            }
        }
    }
}

inline void complete(const Copy& c) {
    std::memcpy(c.dst, c.src, static_cast<size_t>(c.bytes));
    std::memset(c.dst + c.bytes, 0, static_cast<size_t>(16 - c.bytes));
    Block& b = *g_block;
    b.pending[static_cast<size_t>(c.dst - b.dyn) / 16].store(0, std::memory_order_release);
}

// Completes this thread's committed groups except the `keep` most recent.
inline void finish_copies(bool, int keep) {
    ThreadState& st = self();
    std::vector<Copy> left;
    for (const Copy& c : st.copies) {
        if (c.group >= 0 && c.group < st.groups - keep) complete(c);
        else left.push_back(c);
    }
    st.copies.swap(left);
}

}  // namespace simt

inline void __syncthreads() {
    simt::self().syncs++;
    simt::g_block->bar.arrive_and_wait();
}
inline void __syncwarp(unsigned mask = 0xffffffffu) {
    simt::check_mask(mask, "__syncwarp");
    simt::warp().bar.arrive_and_wait();
}

template <typename V>
inline V simt_shfl(unsigned mask, V v, int src_lane, const char* what) {
    simt::check_mask(mask, what);
    simt::Warp& w = simt::warp();
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof(V));
    w.lane[simt::lane()].u = bits;
    w.bar.arrive_and_wait();
    const uint64_t r = w.lane[src_lane & 31].u;
    w.bar.arrive_and_wait();
    V out;
    std::memcpy(&out, &r, sizeof(V));
    return out;
}
template <typename V>
inline V __shfl_xor_sync(unsigned mask, V v, int x) { return simt_shfl(mask, v, simt::lane() ^ x, "__shfl_xor_sync"); }
template <typename V>
inline V __shfl_sync(unsigned mask, V v, int src) { return simt_shfl(mask, v, src, "__shfl_sync"); }
template <typename V>
inline V __shfl_up_sync(unsigned mask, V v, unsigned d) {
    const int l = simt::lane();
    const V r = simt_shfl(mask, v, l >= static_cast<int>(d) ? l - static_cast<int>(d) : l, "__shfl_up_sync");
    return r;
}
inline unsigned __match_any_sync(unsigned mask, unsigned v) {
    simt::check_mask(mask, "__match_any_sync");
    simt::Warp& w = simt::warp();
    w.lane[simt::lane()].u = v;
    w.bar.arrive_and_wait();
    const uint32_t running = w.running.load();
    unsigned peers = 0;
    for (int l = 0; l < 32; l++)
        if (((running >> l) & 1u) && w.lane[l].u == v) peers |= 1u << l;
    w.bar.arrive_and_wait();
    return peers;
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

// ldmatrix.sync.aligned.m8n8.x4[.trans].b16: lane 8m + r gives the address of row r of matrix m
// (eight 16-bit elements). Without .trans lane l receives in r[m] the elements (row l/4, cols
// 2(l%4), 2(l%4)+1) of matrix m; with .trans, (row 2(l%4), col l/4) and (row 2(l%4)+1, col l/4).
// Low half first.
inline void ldmatrix_x4_any(uint32_t* r, const void* row, bool trans) {
    simt::Warp& w = simt::warp();
    const int l = simt::lane();
    simt::check_smem_read(row, trans ? "ldmatrix.trans" : "ldmatrix");
    w.lane[l].addr = row;
    w.bar.arrive_and_wait();
    for (int m = 0; m < 4; m++) {
        if (trans) {
            const uint16_t* r0 = static_cast<const uint16_t*>(w.lane[m * 8 + 2 * (l % 4)].addr);
            const uint16_t* r1 = static_cast<const uint16_t*>(w.lane[m * 8 + 2 * (l % 4) + 1].addr);
            r[m] = static_cast<uint32_t>(r0[l / 4]) | (static_cast<uint32_t>(r1[l / 4]) << 16);
        } else {
            const uint16_t* r0 = static_cast<const uint16_t*>(w.lane[m * 8 + l / 4].addr);
            r[m] = static_cast<uint32_t>(r0[2 * (l % 4)]) | (static_cast<uint32_t>(r0[2 * (l % 4) + 1]) << 16);
        }
    }
    w.bar.arrive_and_wait();
}
inline void ldmatrix_x4_trans(uint32_t* r, const void* row) { ldmatrix_x4_any(r, row, true); }
inline void ldmatrix_x4(uint32_t* r, const void* row) { ldmatrix_x4_any(r, row, false); }

// cp.async.cg.shared.global 16 bytes, src_bytes of them read (the rest zero-filled).
inline void cp_async16(void* dst, const void* src, int src_bytes) {
    simt::Block& b = *simt::g_block;
    auto* d = static_cast<unsigned char*>(dst);
    if (b.dyn == nullptr || d < b.dyn || d + 16 > b.dyn + b.dyn_bytes || (d - b.dyn) % 16 != 0) {
        simt::report("memcheck", "cp.async writes 16 bytes at offset %td of dynamic shared memory, outside the %zu "
                     "bytes the launcher requested (or not 16-byte aligned)", d - b.dyn, b.dyn_bytes);
        return;
    }
    std::memset(d, 0xff, 16);  // poison until the wait retires it
    b.pending[static_cast<size_t>(d - b.dyn) / 16].store(threadIdx.x + 1, std::memory_order_release);
    simt::self().copies.push_back(simt::Copy{d, static_cast<const unsigned char*>(src), src_bytes, -1});
}
inline void cp_async_commit() {
    simt::ThreadState& st = simt::self();
    for (simt::Copy& c : st.copies)
        if (c.group < 0) c.group = st.groups;
    st.groups++;
}
inline void cp_async_wait(int n) { simt::finish_copies(false, n); }

// Dynamic shared memory of the running block (extern __shared__ in the kernel).
inline unsigned char* dynamic_smem() { return simt::g_block->dyn; }

}  // namespace t4j_emu
