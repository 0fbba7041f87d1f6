// emulate_linear.cpp — runs the linear family's device code (native/src/linear: the tensor-core GEMM of
// every instance, with split-K, and the stand-alone bias_act epilogue) on the host through simt.h
// and compares each result with a float64 reference written here from the C API's contract
// (include/t4j.h), sharing no code with the kernels. Shapes hit every tile edge: M, N, K not
// multiples of the tile, K % 8 != 0 (the element-wise load path), one row, several row tiles,
// split-K 1..16, residual aliasing C. The grouped GEMM (group_offsets: a mixture of experts' expert
// GEMMs) of F16/BF16 (tensor cores) and F32 (SIMT): empty groups, a group over several row tiles, a
// group starting mid-tile, rows past offsets[G] untouched; with a residual (ABI 15: LoRA's expand adds
// into C in place). T4J_ACT_CLAMP (ABI 16: clip_qkv) on plain instances of every kind, with inputs that cross both
// bounds. T4J_ACT_RELU2 (ABI 19: Nemotron's relu²) on plain, gated, split-K, grouped and bias_act problems of every
// dtype, with products of both signs. Exit status 1 on any mismatch or checker finding.
#include "emu_common.h"

#include "../../src/linear/bias_act.cuh"
#include "../../src/linear/int4_gemv.cuh"
#include "../../src/linear/linear.cuh"
#include "../../src/linear/linear_f32.cuh"

using namespace emu;

namespace {

// limit: T4J_ACT_CLAMP's act_limit (0 for the others).
double act_ref(double x, int act, double limit = 0.0) {
    switch (act) {
        case T4J_ACT_GELU: return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
        case T4J_ACT_GELU_TANH: return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
        case T4J_ACT_RELU: return x > 0 ? x : 0.0;
        case T4J_ACT_SILU: return x / (1.0 + std::exp(-x));
        case T4J_ACT_SWIGLU_OAI: {  // transformers' GptOssExperts: gate.clamp(max=7), gate · sigmoid(1.702 · gate)
            const double a = std::min(x, 7.0);
            return a / (1.0 + std::exp(-static_cast<double>(1.702f) * a));
        }
        case T4J_ACT_CLAMP: return std::clamp(x, -limit, limit);  // OLMo's query_states.clamp_(min=-clip_qkv, max=clip_qkv)
        case T4J_ACT_RELU2: return x > 0 ? x * x : 0.0;  // transformers' ReLUSquaredActivation: square(relu(x))
        default: return x;
    }
}
// What the gated form multiplies act(y) by: the gate's product, or SWIGLU_OAI's (up.clamp(−7, 7) + 1).
double gate_ref(double g, int act) { return act == T4J_ACT_SWIGLU_OAI ? std::clamp(g, -7.0, 7.0) + 1.0 : g; }
const char* act_name(int act) {
    static const char* const n[] = {"none", "gelu", "gelu_tanh", "relu", "silu", "swiglu_oai", "clamp", "relu2"};
    return n[act];
}
// How much an error e in the product y can move act(y): relu²'s slope is 2|y|; the others' at most about 1.13
// (the bound's factor 2 covers them).
double act_slope(double y, int act) { return act == T4J_ACT_RELU2 ? std::max(1.0, 2 * std::abs(y)) : 1.0; }
// A problem's activation as named in reports: CLAMP with its limit.
std::string act_text(int act, float limit) {
    if (act != T4J_ACT_CLAMP) return act_name(act);
    char b[32];
    std::snprintf(b, sizeof b, "clamp %g", limit);
    return b;
}

// SWIGLU_OAI problems must reach its clamps: counts of products past 7 (the activated branch) and outside ±7 (the gate),
// reported and required to be several (inputs are drawn wide enough: GemmProblem::range). CLAMP problems (ABI 16) count
// the products above +limit (a) and below −limit (g) and need several of each.
struct ClampCount {
    int a = 0, g = 0;
    void add(int act, double y, double yg, double limit = 0.0) {
        if (act == T4J_ACT_CLAMP) {
            a += y > limit;
            g += y < -limit;
        }
        if (act != T4J_ACT_SWIGLU_OAI) return;
        a += y > 7.0;
        g += std::abs(yg) > 7.0;
    }
    bool ok(int act) const { return (act != T4J_ACT_SWIGLU_OAI && act != T4J_ACT_CLAMP) || (a >= 4 && g >= 4); }
    std::string text(int act) const {
        if (act == T4J_ACT_CLAMP) return ", clamps met " + std::to_string(a) + " (y > limit) / " + std::to_string(g) + " (y < -limit)";
        return act != T4J_ACT_SWIGLU_OAI ? "" : ", clamps met " + std::to_string(a) + " (a > 7) / " + std::to_string(g) + " (|g| > 7)";
    }
};

struct GemmProblem {
    bool large, gated, trans_b;
    int64_t m, n, k, batch;
    int act;
    bool bias, residual, residual_is_c;
    int split;  // 1 .. 16 (small tiles only)
    float range = 1.0f;  // A's elements U(−range, range): wider for SWIGLU_OAI, whose clamps (±7) the products must cross
    float limit = 0.0f;  // T4J_ACT_CLAMP's act_limit (ABI 16), else 0
};

template <typename T, typename CFG, bool GATED, bool TRANS_B>
void run_gemm(const GemmProblem& g, const char* kernel) {
    const std::string what = std::string(kernel) + " M" + std::to_string(g.m) + " N" + std::to_string(g.n) + " K" +
                             std::to_string(g.k) + " batch " + std::to_string(g.batch) + " " + act_text(g.act, g.limit) +
                             (g.bias ? " bias" : "") + (g.residual ? (g.residual_is_c ? " residual=C" : " residual") : "") +
                             " split " + std::to_string(g.split);
    if (!wanted(what)) return;
    const int64_t M = g.m, N = g.n, K = g.k, NB = g.batch;
    const int64_t lda = K, ldb = TRANS_B ? K : N, ldc = N;
    std::vector<T> a(NB * M * lda), b(NB * (TRANS_B ? N : K) * ldb), bg(GATED ? b.size() : 0), bias(N), bias_g(N),
        c(NB * M * ldc, from<T>(NAN)), res(NB * M * N);
    std::vector<double> ae, be, bge, biase, biasge, rese;
    fill(a, ae, g.range);
    fill(b, be, 1.0f);
    fill(bg, bge, 1.0f);
    fill(bias, biase, 1.0f);
    fill(bias_g, biasge, 1.0f);
    fill(res, rese, 1.0f);
    if (g.residual_is_c) c = res;
    const float alpha = 0.75f;

    t4j_linear_params p{};
    p.c = c.data();
    p.a = a.data();
    p.b = b.data();
    p.b_gate = GATED ? bg.data() : nullptr;
    p.bias = g.bias ? bias.data() : nullptr;
    p.bias_gate = GATED && g.bias ? bias_g.data() : nullptr;
    p.residual = g.residual ? (g.residual_is_c ? c.data() : res.data()) : nullptr;
    p.m = M;
    p.n = N;
    p.k = K;
    p.batch = NB;
    p.lda = lda;
    p.ldb = ldb;
    p.ldc = ldc;
    p.ld_residual = N;
    p.stride_a = M * lda;
    p.stride_b = (TRANS_B ? N : K) * ldb;
    p.stride_c = M * ldc;
    p.stride_residual = M * N;
    p.alpha = alpha;
    p.activation = g.act;
    p.act_limit = g.limit;
    p.gated = GATED;
    p.trans_b = TRANS_B;
    p.dtype = std::is_same_v<T, __half> ? T4J_DTYPE_F16 : T4J_DTYPE_BF16;

    // Launch as linear_launch.cpp does: the same shape constants, vector flags and workspace layout.
    const t4j::linear::TileShape ts = t4j::linear::tile_shape(g.large, GATED);
    const int64_t m_tiles = (M + ts.bm - 1) / ts.bm, n_tiles = (N + ts.bn - 1) / ts.bn;
    const int split = g.split;
    std::vector<unsigned char> ws;
    if (split > 1) {
        const int64_t counters = t4j::linear::splitk_counter_bytes(m_tiles * n_tiles * NB);
        ws.assign(static_cast<size_t>(counters + (GATED ? 2 : 1) * NB * split * M * N * 4), 0xff);  // poison
        std::memset(ws.data(), 0, static_cast<size_t>(counters));  // the launcher's in-stream reset
        p.workspace = ws.data();
        p.workspace_bytes = ws.size();
    }
    auto aligned = [](const void* q) { return (reinterpret_cast<uintptr_t>(q) & 15u) == 0; };
    const int32_t vec_a = aligned(p.a) && lda % 8 == 0 && p.stride_a % 8 == 0 && K % 8 == 0;
    const int32_t vec_b = aligned(p.b) && (!GATED || aligned(p.b_gate)) && ldb % 8 == 0 && p.stride_b % 8 == 0 &&
                          (TRANS_B ? K : N) % 8 == 0;
    simt::launch(SimtDim3{static_cast<unsigned>(n_tiles), static_cast<unsigned>(m_tiles), static_cast<unsigned>(NB * split)},
                 ts.threads, [&] { t4j::linear::linear_block<T, CFG, GATED, TRANS_B>(p, vec_a, vec_b, split); },
                 t4j::linear::shared_bytes(static_cast<int>(ts.bm), static_cast<int>(ts.bn), GATED, TRANS_B), kernel);
    if (split > 1) {  // every counter back at zero for the next launch
        for (int64_t t = 0; t < m_tiles * n_tiles * NB; t++)
            if (reinterpret_cast<int32_t*>(ws.data())[t] != 0) {
                verdict(false, what, "split-K counter %lld left at %d", static_cast<long long>(t),
                        reinterpret_cast<int32_t*>(ws.data())[t]);
                return;
            }
    }

    // float64 reference.
    const double u = unit_roundoff<T>();
    double worst = 0, worst_bound = 0;
    int bad = 0;
    ClampCount clamps;
    for (int64_t bi = 0; bi < NB; bi++)
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                double y = 0, yg = 0, mag = 0, magg = 0;
                for (int64_t kk = 0; kk < K; kk++) {
                    const double av = ae[(bi * M + i) * lda + kk];
                    const size_t bat = TRANS_B ? (bi * N + j) * ldb + kk : (bi * K + kk) * ldb + j;
                    y += av * be[bat];
                    mag += std::abs(av * be[bat]);
                    if (GATED) {
                        yg += av * bge[bat];
                        magg += std::abs(av * bge[bat]);
                    }
                }
                y = alpha * y + (g.bias ? biase[j] : 0.0);
                yg = alpha * yg + (GATED && g.bias ? biasge[j] : 0.0);
                clamps.add(g.act, y, yg, g.limit);
                double v = act_ref(y, g.act, g.limit);
                if (GATED) v *= gate_ref(yg, g.act);
                const double r = g.residual ? rese[(bi * M + i) * N + j] : 0.0;
                v += r;
                // fp32 accumulation over K (≤ K·2^-24 of the magnitudes), activation and products in
                // fp32, then one rounding to T.
                const double acc_err = 4 * K * 0x1p-24 * alpha * (mag + 1);
                const double bound = u * std::abs(v) + 2 * (acc_err * act_slope(y, g.act) * (GATED ? std::abs(yg) + 1 : 1) +
                                                            (GATED ? std::abs(act_ref(y, g.act)) + 1 : 0) * 4 * K * 0x1p-24 * alpha * (magg + 1)) +
                                     1e-6 * (std::abs(v) + std::abs(r) + 1);
                const double got = to(c[(bi * M + i) * ldc + j]);
                const double err = std::isnan(got) ? INFINITY : std::abs(got - v);
                if (err > bound) bad++;
                if (err > worst) {
                    worst = err;
                    worst_bound = bound;
                }
            }
    verdict(bad == 0 && clamps.ok(g.act), what, "max error %.3g (bound there %.3g), %d element(s) out of bound%s", worst, worst_bound,
            bad, clamps.text(g.act).c_str());
}

template <typename T>
void gemm_suite() {
    const bool bf = std::is_same_v<T, __nv_bfloat16>;
    const std::string dt = bf ? "bf16" : "f16";
    auto name = [&](const char* layout, bool gated, bool large) {
        static std::vector<std::string> keep;  // names outlive the launch (reports use them)
        keep.push_back("t4j_linear_" + dt + (gated ? "_gated_" : "_") + layout + (large ? "_128" : "_64"));
        return keep.back().c_str();
    };
    using t4j::linear::Large;
    using t4j::linear::Small;
    // Every instance once in the sampled set, at tile-edge shapes; --all adds more.
    run_gemm<T, Large, false, false>({true, false, false, 130, 136, 72, 1, T4J_ACT_GELU, true, false, false, 1}, name("nn", false, true));
    run_gemm<T, Large, false, true>({true, false, true, 1, 200, 37, 1, T4J_ACT_NONE, false, true, true, 1}, name("nt", false, true));
    run_gemm<T, Large, true, false>({true, true, false, 129, 70, 64, 1, T4J_ACT_SILU, true, false, false, 1}, name("nn", true, true));
    run_gemm<T, Large, true, true>({true, true, true, 20, 66, 45, 1, T4J_ACT_GELU_TANH, true, true, false, 1}, name("nt", true, true));
    run_gemm<T, Small, false, false>({false, false, false, 65, 70, 300, 1, T4J_ACT_RELU, true, true, false, 5}, name("nn", false, false));
    run_gemm<T, Small, false, true>({false, false, true, 70, 65, 83, 2, T4J_ACT_GELU, false, true, true, 3}, name("nt", false, false));
    run_gemm<T, Small, true, false>({false, true, false, 33, 40, 520, 1, T4J_ACT_SILU, true, false, false, 16}, name("nn", true, false));
    run_gemm<T, Small, true, true>({false, true, true, 1, 33, 47, 1, T4J_ACT_GELU_TANH, false, false, false, 1}, name("nt", true, false));
    // GPT-OSS's clamped SwiGLU (ABI 11) on both gated tile sizes and B layouts, A wide enough that both clamps bite;
    // one with split-K (the epilogue after the partials' sum) and a residual
    run_gemm<T, Large, true, true>({true, true, true, 130, 72, 64, 1, T4J_ACT_SWIGLU_OAI, true, false, false, 1, 3.0f}, name("nt", true, true));
    run_gemm<T, Small, true, false>({false, true, false, 40, 66, 300, 1, T4J_ACT_SWIGLU_OAI, true, true, false, 4, 1.2f},
                                    name("nn", true, false));
    // clip_qkv (ABI 16): the plain instances' clamp, both tile sizes and B layouts, products well past ±limit; one with
    // split-K (the clamp after the partials' sum), a residual and a batch
    run_gemm<T, Large, false, true>({true, false, true, 130, 136, 72, 1, T4J_ACT_CLAMP, true, false, false, 1, 1.0f, 1.5f},
                                    name("nt", false, true));
    run_gemm<T, Small, false, false>({false, false, false, 70, 65, 300, 2, T4J_ACT_CLAMP, false, true, false, 4, 1.0f, 0.75f},
                                     name("nn", false, false));
    if (!g_all) return;
    run_gemm<T, Large, false, false>({true, false, false, 129, 70, 64, 1, T4J_ACT_CLAMP, true, true, true, 1, 1.0f, 2.0f},
                                     name("nn", false, true));
    run_gemm<T, Small, false, true>({false, false, true, 33, 40, 45, 1, T4J_ACT_CLAMP, true, false, false, 1, 1.0f, 0.5f},
                                    name("nt", false, false));
    run_gemm<T, Large, true, false>({true, true, false, 129, 70, 64, 1, T4J_ACT_SWIGLU_OAI, false, true, true, 1, 3.0f}, name("nn", true, true));
    run_gemm<T, Small, true, true>({false, true, true, 65, 33, 45, 2, T4J_ACT_SWIGLU_OAI, true, false, false, 1, 3.5f}, name("nt", true, false));
    run_gemm<T, Small, false, false>({false, false, false, 1, 8, 8, 1, T4J_ACT_NONE, false, false, false, 1}, name("nn", false, false));
    run_gemm<T, Small, false, false>({false, false, false, 130, 129, 99, 3, T4J_ACT_SILU, true, true, true, 2}, name("nn", false, false));
    run_gemm<T, Small, false, true>({false, false, true, 64, 64, 512, 1, T4J_ACT_GELU_TANH, true, false, false, 16}, name("nt", false, false));
    run_gemm<T, Small, true, true>({false, true, true, 65, 33, 264, 2, T4J_ACT_RELU, true, true, false, 4}, name("nt", true, false));
    run_gemm<T, Small, true, false>({false, true, false, 7, 31, 7, 1, T4J_ACT_GELU, true, true, true, 1}, name("nn", true, false));
    run_gemm<T, Large, false, false>({true, false, false, 257, 130, 40, 2, T4J_ACT_RELU, true, true, false, 1}, name("nn", false, true));
    run_gemm<T, Large, true, true>({true, true, true, 128, 64, 64, 1, T4J_ACT_NONE, false, false, false, 1}, name("nt", true, true));
}

// The grouped GEMM's residual (ABI 15): none, a separate (R, N) tensor (rows N + 5 apart, so a stride mixed up with
// C's is seen), or C itself (ld_residual = ldc: LoRA's expand, out += t·B[g]ᵀ).
enum GroupedResidual { kNoResidual, kResidual, kResidualIsC };

// Grouped: G groups with `sizes` rows each, in a capacity of R rows (R ≥ Σ sizes); weights (G, K, N)
// or (G, N, K) with a group stride padded by 8 elements; x and out rows strided. group_bias (ABI 11: GPT-OSS's per-expert
// biases): bias and bias_gate rows per group, stride_bias N + 3 apart; otherwise one shared (N) row. range: x's elements
// U(−range, range) (SWIGLU_OAI's problems: wide enough for its clamps). residual (ABI 15): added at the groups' rows;
// with it C's rows past offsets[G] hold random old values (without, 5.5), and C's padding columns and rows past
// offsets[G] (and a separate residual, everywhere) must keep their bits.
template <typename T, bool GATED, bool TRANS_B>
void run_grouped(const std::vector<int>& sizes, int64_t R, int64_t N, int64_t K, int act, bool bias, const char* kernel,
                 bool group_bias = false, float range = 1.0f, GroupedResidual residual = kNoResidual, float limit = 0.0f) {
    std::string sz;
    for (int v : sizes) sz += (sz.empty() ? "" : ",") + std::to_string(v);
    const std::string what = std::string(kernel) + " groups " + sz + " R" + std::to_string(R) + " N" + std::to_string(N) +
                             " K" + std::to_string(K) + " " + act_text(act, limit) + (bias ? (group_bias ? " group biases" : " bias") : "") +
                             (residual == kResidual ? " residual" : residual == kResidualIsC ? " residual=C" : "");
    if (!wanted(what)) return;
    const int64_t G = static_cast<int64_t>(sizes.size());
    std::vector<int32_t> off(G + 1, 0);
    for (int64_t g = 0; g < G; g++) off[g + 1] = off[g] + sizes[g];
    const int64_t lda = K + 8, ldc = N + 8, ldb = TRANS_B ? K : N;
    const int64_t sb = (TRANS_B ? N : K) * ldb + 8;
    const int64_t sbias = group_bias ? N + 3 : 0;  // elements between groups' bias rows
    const int64_t nbias = group_bias ? G * sbias : N;
    std::vector<T> a(R * lda), b(G * sb), bg(GATED ? b.size() : 0), bs(nbias), bsg(nbias), c(R * ldc, from<T>(NAN));
    std::vector<double> ae, be, bge, bse, bsge;
    fill(a, ae, range);
    fill(b, be, 1.0f);
    fill(bg, bge, 1.0f);
    fill(bs, bse, 1.0f);
    fill(bsg, bsge, 1.0f);
    const T sentinel = from<T>(5.5f);
    for (int64_t r = off[G]; r < R; r++)
        for (int64_t j = 0; j < ldc; j++) c[r * ldc + j] = sentinel;  // rows past offsets[G] stay untouched
    // residual: its own rows (ldr apart), or C's columns < N filled with the values to add (rows past offsets[G] too:
    // old values the kernel must leave alone)
    const int64_t ldr = residual == kResidualIsC ? ldc : N + 5;
    std::vector<T> rs(residual == kResidual ? R * ldr : 0);
    std::vector<double> rse;
    if (residual == kResidual) fill(rs, rse, 1.0f);
    if (residual == kResidualIsC) {
        std::vector<T> v(R * ldc);
        fill(v, rse, 1.0f);
        for (int64_t r = 0; r < R; r++)
            for (int64_t j = 0; j < N; j++) c[r * ldc + j] = v[r * ldc + j];
    }
    const std::vector<T> c_before = c, rs_before = rs;
    const float alpha = 0.5f;
    t4j_linear_params p{};
    p.c = c.data();
    p.a = a.data();
    p.b = b.data();
    p.b_gate = GATED ? bg.data() : nullptr;
    p.bias = bias ? bs.data() : nullptr;
    p.bias_gate = GATED && bias ? bsg.data() : nullptr;
    p.residual = residual == kResidual ? rs.data() : residual == kResidualIsC ? c.data() : nullptr;
    p.ld_residual = residual == kNoResidual ? 0 : ldr;
    p.stride_residual = residual == kNoResidual ? 0 : 7;  // ignored with group_offsets: rows are indexed from residual
    p.m = R;
    p.n = N;
    p.k = K;
    p.batch = G;
    p.lda = lda;
    p.ldb = ldb;
    p.ldc = ldc;
    p.stride_b = sb;
    p.stride_bias = sbias;
    p.alpha = alpha;
    p.activation = act;
    p.act_limit = limit;
    p.gated = GATED;
    p.trans_b = TRANS_B;
    p.dtype = std::is_same_v<T, float> ? T4J_DTYPE_F32 : std::is_same_v<T, __half> ? T4J_DTYPE_F16 : T4J_DTYPE_BF16;
    p.group_offsets = off.data();
    // Launch as linear_launch.cpp's linear_grouped does.
    if constexpr (std::is_same_v<T, float>) {
        const unsigned mt = static_cast<unsigned>((R + t4j::linear::kF32TileM - 1) / t4j::linear::kF32TileM);
        const unsigned nt = static_cast<unsigned>((N + t4j::linear::kF32TileN - 1) / t4j::linear::kF32TileN);
        simt::launch(SimtDim3{nt, mt, static_cast<unsigned>(G)}, t4j::linear::kF32TileThreads,
                     [&] { t4j::linear::linear_f32_grouped_block<GATED, TRANS_B>(p); }, 0, kernel);
    } else {
        const t4j::linear::TileShape ts = t4j::linear::tile_shape(false, GATED);
        auto aligned = [](const void* q) { return (reinterpret_cast<uintptr_t>(q) & 15u) == 0; };
        const int32_t vec_a = aligned(p.a) && lda % 8 == 0 && K % 8 == 0;
        const int32_t vec_b = aligned(p.b) && (!GATED || aligned(p.b_gate)) && ldb % 8 == 0 && sb % 8 == 0 && (TRANS_B ? K : N) % 8 == 0;
        simt::launch(SimtDim3{static_cast<unsigned>((N + ts.bn - 1) / ts.bn), static_cast<unsigned>((R + ts.bm - 1) / ts.bm),
                              static_cast<unsigned>(G)},
                     ts.threads, [&] { t4j::linear::linear_block<T, t4j::linear::Small, GATED, TRANS_B, true>(p, vec_a, vec_b, 1); },
                     t4j::linear::shared_bytes(static_cast<int>(ts.bm), static_cast<int>(ts.bn), GATED, TRANS_B), kernel);
    }
    const double u = unit_roundoff<T>();
    double worst = 0;
    int bad = 0, touched = 0;
    ClampCount clamps;
    for (int64_t g = 0; g < G; g++)
        for (int64_t i = off[g]; i < off[g + 1]; i++)
            for (int64_t j = 0; j < N; j++) {
                double y = 0, yg = 0, mag = 0, magg = 0;
                for (int64_t kk = 0; kk < K; kk++) {
                    const double av = ae[i * lda + kk];
                    const size_t at = g * sb + (TRANS_B ? j * ldb + kk : kk * ldb + j);
                    y += av * be[at];
                    mag += std::abs(av * be[at]);
                    if (GATED) {
                        yg += av * bge[at];
                        magg += std::abs(av * bge[at]);
                    }
                }
                y = alpha * y + (bias ? bse[g * sbias + j] : 0.0);
                yg = alpha * yg + (GATED && bias ? bsge[g * sbias + j] : 0.0);
                clamps.add(act, y, yg, limit);
                const double r = residual == kNoResidual ? 0.0 : rse[i * ldr + j];  // row i of the capacity, as C's
                const double v = act_ref(y, act, limit) * (GATED ? gate_ref(yg, act) : 1.0) + r;
                // as run_gemm: fp32 accumulation over K, fp32 activation and product, one rounding to T
                const double e1 = 4 * K * 0x1p-24 * alpha * (mag + 1), e2 = 4 * K * 0x1p-24 * alpha * (magg + 1);
                const double bound = u * std::abs(v) + 2 * (e1 * act_slope(y, act) * (GATED ? std::abs(yg) + 1 : 1) +
                                                             (GATED ? (std::abs(act_ref(y, act)) + 1) * e2 : 0)) +
                                     1e-6 * (std::abs(v) + std::abs(r) + 1);
                const double got = to(c[i * ldc + j]);
                const double err = std::isnan(got) ? INFINITY : std::abs(got - v);
                worst = std::max(worst, err);
                bad += err > bound;
            }
    // C's padding columns and rows past offsets[G] keep their bits (NaN, 5.5 or the old values), as does a separate residual
    auto same = [](const T& x, const T& y) { return std::memcmp(&x, &y, sizeof(T)) == 0; };
    for (int64_t r = 0; r < R; r++)
        for (int64_t j = 0; j < ldc; j++) touched += (j >= N || r >= off[G]) && !same(c[r * ldc + j], c_before[r * ldc + j]);
    int res_written = 0;
    for (size_t e = 0; e < rs.size(); e++) res_written += !same(rs[e], rs_before[e]);
    verdict(bad == 0 && touched == 0 && res_written == 0 && clamps.ok(act), what,
            "max error %.3g, %d element(s) out of bound, %d element(s) past the groups written%s%s", worst, bad, touched,
            res_written ? (", residual written at " + std::to_string(res_written) + " element(s)").c_str() : "",
            clamps.text(act).c_str());
}

template <typename T>
void grouped_suite() {
    const std::string dt = name<T>();
    const bool f32 = std::is_same_v<T, float>;
    auto kn = [&](const char* layout, bool gated) {
        static std::vector<std::string> keep;
        keep.push_back("t4j_linear_" + dt + (gated ? "_grouped_gated_" : "_grouped_") + layout + (f32 ? "" : "_64"));
        return keep.back().c_str();
    };
    // Empty groups, a group over two row tiles starting mid-tile, capacity past offsets[G].
    run_grouped<T, false, false>({3, 0, 70, 1}, 90, 72, 40, T4J_ACT_NONE, false, kn("nn", false));
    run_grouped<T, false, true>({0, 5, 0, 66}, 80, 65, 24, T4J_ACT_GELU, true, kn("nt", false));
    run_grouped<T, true, false>({2, 67, 0}, 75, 40, 37, T4J_ACT_SILU, false, kn("nn", true));
    run_grouped<T, true, true>({1, 0, 9, 30}, 41, 33, 64, T4J_ACT_SILU, true, kn("nt", true));
    // GPT-OSS's experts (ABI 11): per-group biases and the clamped SwiGLU (x wide enough for both clamps), both layouts;
    // per-group biases alone on an ungated instance
    run_grouped<T, true, true>({20, 0, 70, 9}, 100, 40, 64, T4J_ACT_SWIGLU_OAI, true, kn("nt", true), true, 3.0f);
    run_grouped<T, true, false>({5, 66, 1}, 80, 72, 48, T4J_ACT_SWIGLU_OAI, true, kn("nn", true), true, 3.0f);
    run_grouped<T, false, false>({3, 0, 70, 1}, 90, 72, 40, T4J_ACT_GELU, true, kn("nn", false), true);
    // clip_qkv's clamp (ABI 16) through the grouped epilogue (F32: the SIMT kernel)
    run_grouped<T, false, true>({0, 5, 0, 66}, 80, 65, 40, T4J_ACT_CLAMP, true, kn("nt", false), false, 1.0f, kNoResidual, 1.25f);
}

// The grouped GEMM's residual (ABI 15), what per-request LoRA adapters run: the expand t·B[g]ᵀ added into the base
// projection's output in place (residual = C), at ranks K 8 / 16 / 64, and the shrink x·A[g]ᵀ (N = the rank, K 256+); a
// separate residual; gated instances with a residual (SILU, and SWIGLU_OAI past its clamps). Empty groups, a group over
// two row tiles starting mid-tile, rows past offsets[G] holding old values that must stay.
template <typename T>
void grouped_residual_suite() {
    const std::string dt = name<T>();
    const bool f32 = std::is_same_v<T, float>;
    auto kn = [&](const char* layout, bool gated) {
        static std::vector<std::string> keep;
        keep.push_back("t4j_linear_" + dt + (gated ? "_grouped_gated_" : "_grouped_") + layout + (f32 ? "" : "_64"));
        return keep.back().c_str();
    };
    // LoRA's expand: B[g] (N, r) as stored (nt), out += t·B[g]ᵀ in place
    run_grouped<T, false, true>({5, 0, 70, 3}, 90, 72, 8, T4J_ACT_NONE, false, kn("nt", false), false, 1.0f, kResidualIsC);
    run_grouped<T, false, true>({0, 33, 0, 40}, 80, 65, 16, T4J_ACT_NONE, false, kn("nt", false), false, 1.0f, kResidualIsC);
    run_grouped<T, false, false>({2, 67, 0, 1}, 75, 40, 64, T4J_ACT_NONE, false, kn("nn", false), false, 1.0f, kResidualIsC);
    // ranks 2 and 4 (LoRA adapters published at r 1–4): K below one mma step, the element path throughout
    run_grouped<T, false, true>({7, 0, 40, 2}, 60, 72, 4, T4J_ACT_NONE, false, kn("nt", false), false, 1.0f, kResidualIsC);
    run_grouped<T, false, true>({0, 21, 30}, 60, 64, 2, T4J_ACT_NONE, false, kn("nt", false), false, 1.0f, kResidualIsC);
    // a separate residual (its own row stride), K 16 on the element path for B (N 65 in (K, N))
    run_grouped<T, false, false>({3, 0, 70, 1}, 90, 65, 16, T4J_ACT_GELU, true, kn("nn", false), true, 1.0f, kResidual);
    // LoRA's shrink: N = the rank, K 256+ (no residual, and one adding in place)
    run_grouped<T, false, true>({3, 0, 70, 1}, 90, 8, 256, T4J_ACT_NONE, false, kn("nt", false));
    run_grouped<T, false, true>({3, 0, 40, 9}, 60, 4, 72, T4J_ACT_NONE, false, kn("nt", false));
    run_grouped<T, false, true>({30, 0, 21}, 60, 2, 64, T4J_ACT_NONE, false, kn("nt", false));
    run_grouped<T, false, true>({0, 66, 9}, 80, 16, 320, T4J_ACT_NONE, false, kn("nt", false), false, 1.0f, kResidualIsC);
    // gated with a residual: separate and in place
    run_grouped<T, true, true>({1, 0, 9, 30}, 41, 33, 64, T4J_ACT_SILU, true, kn("nt", true), false, 1.0f, kResidual);
    run_grouped<T, true, false>({5, 66, 1}, 80, 72, 48, T4J_ACT_SWIGLU_OAI, true, kn("nn", true), true, 3.0f, kResidualIsC);
}

// MXFP4 weights (ABI 13, b_format): the reference decodes the format from its definition (the OCP MX spec as
// transformers' convert_moe_packed_tensors reads it), in double, sharing nothing with mxfp4.cuh: element 2b of a
// block is byte b's low nibble, 2b + 1 its high nibble, FP4 (e2m1) magnitudes {0, 0.5, 1, 1.5, 2, 3, 4, 6} with the
// sign in bit 3, times 2^(scale − 127).
double mx_ref(const std::vector<uint8_t>& codes, const std::vector<uint8_t>& scales, int64_t v) {
    static const double kMag[8] = {0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0};
    const int byte = codes[v / 2];
    const int code = v % 2 == 0 ? byte & 15 : byte >> 4;
    const double mag = kMag[code & 7];
    return std::ldexp(code & 8 ? -mag : mag, static_cast<int>(scales[v / 32]) - 127);
}

// Every code under every scale byte through the kernel's decode (mxfp4_decode16: the words it stores into the B tile),
// against the reference bit for bit as BF16, the extremes included: scale 0 (0.5 · 2^−127 = 2^−128, a BF16 subnormal),
// scale 255 (2^128: 0.5 gives 2^127, every larger magnitude ±inf), −0 for code 8.
void mxfp4_decode_table() {
    const std::string what = "mxfp4 decode: 16 codes x 256 scales, bit for bit in bf16";
    if (!wanted(what)) return;
    int bad = 0, inf = 0, subnormal = 0;
    for (int s = 0; s < 256; s++) {
        std::vector<uint8_t> codes(16), scales(1, static_cast<uint8_t>(s));
        for (int b = 0; b < 16; b++) codes[b] = static_cast<uint8_t>((b & 15) | ((15 - b) << 4));  // every code, low and high
        for (int h = 0; h < 2; h++) {
            uint64_t word = 0;
            for (int b = 0; b < 8; b++) word |= static_cast<uint64_t>(codes[h * 8 + b]) << (8 * b);
            uint32_t out[8];
            t4j::linear::mxfp4_decode16(word, scales[0], out);
            for (int e = 0; e < 16; e++) {
                const uint16_t bits = static_cast<uint16_t>(e % 2 == 0 ? out[e / 2] & 0xFFFFu : out[e / 2] >> 16);
                __nv_bfloat16_raw raw;
                raw.x = bits;
                const double got = to(__nv_bfloat16(raw));
                double want = mx_ref(codes, scales, h * 16 + e);
                if (std::abs(want) > 0x1.fep127) want = want > 0 ? INFINITY : -INFINITY;  // past BF16's largest finite
                inf += std::isinf(want);
                subnormal += want != 0 && std::abs(want) < 0x1p-126;
                const bool same = got == want && std::signbit(got) == std::signbit(want);
                bad += !same;
                if (!same && bad <= 3) std::printf("  scale %d value %d: got %a, want %a\n", s, h * 16 + e, got, want);
            }
        }
    }
    verdict(bad == 0 && inf > 0 && subnormal > 0, what, "%d mismatch(es); %d infinite and %d subnormal values met", bad, inf,
            subnormal);
}

// The grouped GEMM with MXFP4 weights: G groups of `sizes` rows in a capacity R; each group's W (N, K) in MXFP4 with
// rows ldb = K + 32 values apart (one block of padding) and groups N·ldb + 64 apart; gated: W and W_gate interleaved
// row by row in one (G, 2N, K) stack (gpt-oss's gate_up_proj: ldb = 2K, b_gate one row further). Scale bytes uniform
// in [scale_lo, scale_hi]. one_hot: K = 32 and x row r is the unit vector e_(r mod 32), so C = alpha·W (a single
// product per element): every weight reaches C exactly (the exponent-extreme scales' subnormal and near-overflow
// values; codes whose value would overflow are redrawn, since an infinite weight times x's zeros is NaN).
template <bool GATED>
void run_grouped_mxfp4(const std::vector<int>& sizes, int64_t R, int64_t N, int64_t K, int act, bool bias, bool group_bias,
                       float range, int scale_lo, int scale_hi, bool one_hot = false) {
    using T = __nv_bfloat16;
    const char* kernel = GATED ? "t4j_linear_bf16_grouped_mxfp4_gated_nt_64" : "t4j_linear_bf16_grouped_mxfp4_nt_64";
    std::string sz;
    for (int v : sizes) sz += (sz.empty() ? "" : ",") + std::to_string(v);
    const std::string what = std::string(kernel) + " groups " + sz + " R" + std::to_string(R) + " N" + std::to_string(N) + " K" +
                             std::to_string(K) + " " + act_name(act) + (bias ? (group_bias ? " group biases" : " bias") : "") +
                             " scales " + std::to_string(scale_lo) + ".." + std::to_string(scale_hi) + (one_hot ? " one-hot" : "");
    if (!wanted(what)) return;
    const int64_t G = static_cast<int64_t>(sizes.size());
    std::vector<int32_t> off(G + 1, 0);
    for (int64_t g = 0; g < G; g++) off[g + 1] = off[g] + sizes[g];
    const int64_t lda = K + 8, ldc = N + 8;
    const int64_t ldb = GATED ? 2 * K : K + 32;                 // values between rows of W (and of W_gate)
    const int64_t sb = GATED ? 2 * N * K : N * ldb + 64;        // values between groups
    const int64_t values = G * sb + (GATED ? 0 : 64);
    std::vector<uint8_t> codes(values / 2), scales(values / 32);
    for (auto& s : scales) s = static_cast<uint8_t>(std::uniform_int_distribution<int>(scale_lo, scale_hi)(g_rng));
    for (int64_t i = 0; i < static_cast<int64_t>(codes.size()); i++) {
        for (;;) {
            codes[i] = static_cast<uint8_t>(std::uniform_int_distribution<int>(0, 255)(g_rng));
            if (!one_hot || (std::isfinite(mx_ref(codes, scales, 2 * i)) && std::isfinite(mx_ref(codes, scales, 2 * i + 1)) &&
                             std::abs(mx_ref(codes, scales, 2 * i)) <= 0x1.fep127 && std::abs(mx_ref(codes, scales, 2 * i + 1)) <= 0x1.fep127)) {
                break;
            }
        }
    }
    const int64_t sbias = group_bias ? N + 3 : 0;
    const int64_t nbias = group_bias ? G * sbias : N;
    std::vector<T> a(R * lda), bs(nbias), bsg(nbias), c(R * ldc, from<T>(NAN));
    std::vector<double> ae, bse, bsge;
    fill(a, ae, range);
    if (one_hot) {
        for (int64_t r = 0; r < R; r++)
            for (int64_t k = 0; k < K; k++) a[r * lda + k] = from<T>(k == r % 32 ? 1.0f : 0.0f), ae[r * lda + k] = k == r % 32;
    }
    fill(bs, bse, 1.0f);
    fill(bsg, bsge, 1.0f);
    const T sentinel = from<T>(5.5f);
    for (int64_t r = off[G]; r < R; r++)
        for (int64_t j = 0; j < ldc; j++) c[r * ldc + j] = sentinel;
    const float alpha = one_hot ? 1.0f : 0.5f;
    t4j_linear_params p{};
    p.c = c.data();
    p.a = a.data();
    p.b = codes.data();
    p.b_gate = GATED ? codes.data() + K / 2 : nullptr;        // row 1 of the interleaved stack
    p.b_scale = scales.data();
    p.b_gate_scale = GATED ? scales.data() + K / 32 : nullptr;
    p.b_format = T4J_WEIGHTS_MXFP4;
    p.bias = bias ? bs.data() : nullptr;
    p.bias_gate = GATED && bias ? bsg.data() : nullptr;
    p.m = R;
    p.n = N;
    p.k = K;
    p.batch = G;
    p.lda = lda;
    p.ldb = ldb;
    p.ldc = ldc;
    p.stride_b = sb;
    p.stride_bias = sbias;
    p.alpha = alpha;
    p.activation = act;
    p.gated = GATED;
    p.trans_b = 1;
    p.dtype = T4J_DTYPE_BF16;
    p.group_offsets = off.data();
    // Launch as linear_launch.cpp's linear_grouped does for b_format MXFP4.
    const t4j::linear::TileShape ts = t4j::linear::tile_shape(false, GATED);
    const int32_t vec_a = (reinterpret_cast<uintptr_t>(p.a) & 15u) == 0 && lda % 8 == 0 && K % 8 == 0;
    simt::launch(SimtDim3{static_cast<unsigned>((N + ts.bn - 1) / ts.bn), static_cast<unsigned>((R + ts.bm - 1) / ts.bm),
                          static_cast<unsigned>(G)},
                 ts.threads, [&] { t4j::linear::linear_block<T, t4j::linear::Small, GATED, true, true, true>(p, vec_a, 0, 1); },
                 t4j::linear::shared_bytes(static_cast<int>(ts.bm), static_cast<int>(ts.bn), GATED, true), kernel);
    const double u = unit_roundoff<T>();
    double worst = 0;
    int bad = 0, touched = 0;
    ClampCount clamps;
    for (int64_t g = 0; g < G; g++)
        for (int64_t i = off[g]; i < off[g + 1]; i++)
            for (int64_t j = 0; j < N; j++) {
                double y = 0, yg = 0, mag = 0, magg = 0;
                for (int64_t kk = 0; kk < K; kk++) {
                    const double av = ae[i * lda + kk];
                    const int64_t v = g * sb + j * ldb + kk;
                    const double w = mx_ref(codes, scales, v);
                    y += av * w;
                    mag += std::abs(av * w);
                    if (GATED) {
                        const double wg = mx_ref(codes, scales, v + K);  // the next row of the stack
                        yg += av * wg;
                        magg += std::abs(av * wg);
                    }
                }
                y = alpha * y + (bias ? bse[g * sbias + j] : 0.0);
                yg = alpha * yg + (GATED && bias ? bsge[g * sbias + j] : 0.0);
                clamps.add(act, y, yg);
                const double v = act_ref(y, act) * (GATED ? gate_ref(yg, act) : 1.0);
                // as run_grouped (the weights are exact in BF16): fp32 accumulation, fp32 epilogue, one rounding to BF16;
                // one_hot: the single product is exact, so C must be the weight rounded once to BF16, i.e. the weight itself
                const double e1 = 4 * K * 0x1p-24 * alpha * (mag + 1), e2 = 4 * K * 0x1p-24 * alpha * (magg + 1);
                const double bound = one_hot && act == T4J_ACT_NONE && !bias
                                         ? 0.0
                                         : u * std::abs(v) + 2 * (e1 * (GATED ? std::abs(yg) + 1 : 1) +
                                                                  (GATED ? (std::abs(act_ref(y, act)) + 1) * e2 : 0)) +
                                               1e-6 * (std::abs(v) + 1);
                const double got = to(c[i * ldc + j]);
                const double err = std::isnan(got) ? INFINITY : std::abs(got - v);
                worst = std::max(worst, err);
                bad += err > bound;
            }
    for (int64_t r = 0; r < R; r++)
        for (int64_t j = N; j < ldc; j++) touched += r < off[G] ? !std::isnan(to(c[r * ldc + j])) : to(c[r * ldc + j]) != 5.5;
    for (int64_t r = off[G]; r < R; r++)
        for (int64_t j = 0; j < N; j++) touched += to(c[r * ldc + j]) != 5.5;
    verdict(bad == 0 && touched == 0 && clamps.ok(act), what,
            "max error %.3g, %d element(s) out of bound, %d element(s) past the groups written%s", worst, bad, touched,
            clamps.text(act).c_str());
}

void mxfp4_suite() {
    mxfp4_decode_table();
    // Empty groups, odd sizes, a group over two row tiles starting mid-tile, capacity past offsets[G]; N not a multiple
    // of the 64- (32-) column tile; K 32 (one slice, fewer than the pipeline's stages), 96 (= the stages), 160.
    run_grouped_mxfp4<false>({3, 0, 70, 1}, 90, 72, 160, T4J_ACT_NONE, false, false, 1.0f, 118, 130);
    run_grouped_mxfp4<false>({0, 5, 0, 66}, 80, 65, 32, T4J_ACT_GELU, true, true, 1.0f, 110, 135);
    // gpt-oss's up: gated, the clamped SwiGLU (x wide enough for both clamps), per-group biases, rows interleaved
    run_grouped_mxfp4<true>({20, 0, 70, 9}, 100, 40, 96, T4J_ACT_SWIGLU_OAI, true, true, 1.5f, 122, 130);
    run_grouped_mxfp4<true>({1, 0, 9, 30}, 41, 33, 64, T4J_ACT_SILU, true, false, 1.0f, 120, 128);
    // the exponent's extremes through the kernel: every weight reaches C once
    run_grouped_mxfp4<false>({64, 7}, 71, 72, 32, T4J_ACT_NONE, false, false, 1.0f, 0, 6, true);
    run_grouped_mxfp4<false>({33, 40}, 80, 40, 32, T4J_ACT_NONE, false, false, 1.0f, 249, 255, true);
}

// INT4 weights (ABI 21, b_format): the reference reads GPTQ's packing from its definition (t4j.h: code i of a word is
// bits 4i .. 4i + 3, k = 8·row + i) and rounds (q − z)·s to F16 and then to T in double arithmetic of its own
// (round_sig below, not the CUDA conversions the kernel uses): the value AutoAWQ's / AutoGPTQ's half-precision
// dequantization gives, then the compute dtype's copy.
// x rounded to nearest-even with `bits` significant bits, subnormals below 2^emin (ulp 2^(emin − bits + 1)), ±inf from
// the format's overflow threshold `max_finite` + half an ulp on.
double round_sig(double x, int bits, int emin, double max_finite) {
    if (x == 0 || !std::isfinite(x)) return x;
    int e = std::ilogb(x);
    if (e < emin) e = emin;
    const double ulp = std::ldexp(1.0, e - bits + 1);
    const double r = std::nearbyint(x / ulp) * ulp;  // the default rounding mode: to nearest, ties to even
    return std::abs(r) > max_finite ? std::copysign(INFINITY, x) : r;
}
double f16_round(double x) { return round_sig(x, 11, -14, 65504.0); }
template <typename T>
double int4_ref(int q, int z, double s) {
    const double h = f16_round((q - z) * s);
    return std::is_same_v<T, __half> ? h : round_sig(h, 8, -126, 0x1.fep127);
}

// Every code under zero points 0..16 and scales from F16's subnormals to its largest through the kernel's decode
// (int4_decode8: the words it stores into the B tile), bit for bit against int4_ref, infinities included.
template <typename T>
void int4_decode_table() {
    const std::string what = std::string("int4 decode: 16 codes x 17 zeros x scales, bit for bit in ") + name<T>();
    if (!wanted(what)) return;
    const float scales[] = {0x1p-24f, 0x1.8p-20f, 0x1.ffcp-15f, 0.001234f, 0.0173f, 0.5f, 1.0f / 3, 7.7f, 1000.5f, 4100.0f, 65504.0f, -0.031f};
    int bad = 0, inf = 0, subnormal = 0, checked = 0;
    for (float sf : scales) {
        const __half sh = __float2half_rn(sf);
        const double s = __half2float(sh);
        for (uint32_t z = 0; z <= 16; z++) {
            for (uint32_t lo = 0; lo < 16; lo += 8) {  // codes lo .. lo + 7 in one word
                uint32_t word = 0;
                for (uint32_t i = 0; i < 8; i++) word |= (lo + i) << (4 * i);
                const uint8_t zb = static_cast<uint8_t>(z);
                const t4j::linear::Int4Matrix m{&word, &sh, &zb, nullptr, 1, 8, 1};
                uint32_t out[4];
                t4j::linear::int4_decode8<T>(m, 0, 0, out);
                for (int i = 0; i < 8; i++) {
                    const uint16_t bits = static_cast<uint16_t>(out[i / 2] >> (16 * (i % 2)));
                    T v;
                    std::memcpy(&v, &bits, 2);
                    const double got = to(v), want = int4_ref<T>(static_cast<int>(lo + i), static_cast<int>(z), s);
                    inf += std::isinf(want);
                    subnormal += want != 0 && std::abs(want) < (std::is_same_v<T, __half> ? 0x1p-14 : 0x1p-126);
                    const bool same = got == want && std::signbit(got) == std::signbit(want);
                    checked++;
                    bad += !same;
                    if (!same && bad <= 3) std::printf("  scale %a zero %u code %u: got %a, want %a\n", s, z, lo + i, got, want);
                }
            }
        }
    }
    verdict(bad == 0 && inf > 0 && (subnormal > 0 || !std::is_same_v<T, __half>), what,
            "%d of %d mismatch(es); %d infinite and %d subnormal values met", bad, checked, inf, subnormal);
}

struct Int4Problem {
    int64_t m, n, k, batch;
    int group_size;  // 0: act-order (gidx)
    int act;
    bool bias, residual_is_c;
    int split;
    bool bad_gidx = false;  // a few g_idx entries out of range (clamped into the groups)
    bool gemv = false;      // the GEMV (M ≤ kGemvMaxRows: a decode step), split must be 1
};

// C = act(alpha·A·Wᵀ + bias) [⊙ gate] [+ C] with W (N, K) in INT4: codes (K/8, ldb = N + 3) words (gated: W and W_gate
// side by side in one (K/8, 2N + 3) matrix, as a fused [up | gate] keeps them), scales F16 in ±[0.004, 0.06], zero
// points 0..16; act-order problems draw g_idx as a permutation's groups (GPTQ's desc_act). Rows and the batch share W.
template <typename T, bool GATED>
void run_int4(const Int4Problem& g) {
    const std::string dt = name<T>();
    static std::vector<std::string> keep;
    keep.push_back("t4j_linear_" + dt + (g.gemv ? (GATED ? "_int4_gated_gemv" : "_int4_gemv") : (GATED ? "_int4_gated_nt_64" : "_int4_nt_64")));
    const char* kernel = keep.back().c_str();
    const std::string what = std::string(kernel) + " M" + std::to_string(g.m) + " N" + std::to_string(g.n) + " K" +
                             std::to_string(g.k) + " batch " + std::to_string(g.batch) + " " + act_name(g.act) +
                             (g.group_size ? " group " + std::to_string(g.group_size) : std::string(" act-order")) +
                             (g.bad_gidx ? " bad g_idx" : "") + (g.bias ? " bias" : "") + (g.residual_is_c ? " residual=C" : "") +
                             " split " + std::to_string(g.split);
    if (!wanted(what)) return;
    const int64_t M = g.m, N = g.n, K = g.k, NB = g.batch;
    const int64_t ldb = (GATED ? 2 * N : N) + 3;
    const int gs = g.group_size ? g.group_size : 32;
    const int32_t groups = static_cast<int32_t>((K + gs - 1) / gs);
    std::vector<uint32_t> codes(K / 8 * ldb);
    for (auto& w : codes) w = static_cast<uint32_t>(g_rng());
    std::vector<__half> scales(groups * ldb);
    std::vector<uint8_t> zeros(groups * ldb);
    for (auto& sc : scales) {
        const float mag = std::uniform_real_distribution<float>(0.004f, 0.06f)(g_rng);
        sc = __float2half_rn(g_rng() % 4 == 0 ? -mag : mag);
    }
    for (auto& z : zeros) z = static_cast<uint8_t>(std::uniform_int_distribution<int>(0, 16)(g_rng));
    // act-order: W's and the gate's own g_idx (each matrix's k permuted its own way)
    std::vector<int32_t> gidx, gidx_gate;
    if (!g.group_size) {
        for (auto* v : {&gidx, &gidx_gate}) {
            std::vector<int32_t> perm(K);
            for (int64_t k = 0; k < K; k++) perm[k] = static_cast<int32_t>(k);
            std::shuffle(perm.begin(), perm.end(), g_rng);
            v->resize(K);
            for (int64_t k = 0; k < K; k++) (*v)[k] = perm[k] / gs;
        }
        if (g.bad_gidx) gidx[3] = -5, gidx[K - 1] = groups + 7, gidx[K / 2] = 1 << 30;
    }
    auto group_of = [&](int64_t k, bool gate) -> int64_t {
        if (g.group_size) return k / g.group_size;
        return std::clamp<int64_t>((gate ? gidx_gate : gidx)[k], 0, groups - 1);
    };
    auto weight = [&](int64_t n, int64_t k) {  // W (or W_gate at column n + N) element (n, k)
        const int q = static_cast<int>((codes[(k / 8) * ldb + n] >> (4 * (k % 8))) & 15u);
        const int64_t at = group_of(k, n >= N) * ldb + n;
        return int4_ref<T>(q, zeros[at], __half2float(scales[at]));
    };
    const int64_t lda = K + 8, ldc = N + 5;
    std::vector<T> a(NB * M * lda), bias(N), bias_g(N), c(NB * M * ldc, from<T>(NAN));
    std::vector<double> ae, biase, biasge, rese;
    fill(a, ae, 1.0f);
    fill(bias, biase, 1.0f);
    fill(bias_g, biasge, 1.0f);
    if (g.residual_is_c) {
        std::vector<T> r(c.size());
        fill(r, rese, 1.0f);
        c = r;
    }
    const float alpha = 0.75f;
    t4j_linear_params p{};
    p.c = c.data();
    p.a = a.data();
    p.b = codes.data();
    p.b_gate = GATED ? codes.data() + N : nullptr;
    p.b_scale = scales.data();
    p.b_gate_scale = GATED ? scales.data() + N : nullptr;
    p.b_zero = zeros.data();
    p.b_gate_zero = GATED ? zeros.data() + N : nullptr;
    p.b_gidx = gidx.empty() ? nullptr : gidx.data();
    p.b_gate_gidx = GATED && !gidx.empty() ? gidx_gate.data() : nullptr;
    p.b_group_size = g.group_size;
    p.b_groups = groups;
    p.b_format = T4J_WEIGHTS_INT4;
    p.bias = g.bias ? bias.data() : nullptr;
    p.bias_gate = GATED && g.bias ? bias_g.data() : nullptr;
    p.residual = g.residual_is_c ? c.data() : nullptr;
    p.m = M;
    p.n = N;
    p.k = K;
    p.batch = NB;
    p.lda = lda;
    p.ldb = ldb;
    p.ldc = ldc;
    p.ld_residual = g.residual_is_c ? ldc : 0;
    p.stride_a = M * lda;
    p.stride_b = 0;
    p.stride_c = M * ldc;
    p.stride_residual = g.residual_is_c ? M * ldc : 0;
    p.alpha = alpha;
    p.activation = g.act;
    p.gated = GATED;
    p.trans_b = 1;
    p.dtype = std::is_same_v<T, __half> ? T4J_DTYPE_F16 : T4J_DTYPE_BF16;
    // Launch as linear_launch.cpp does for INT4: small tiles, vec_b 0, the split's workspace.
    const t4j::linear::TileShape ts = t4j::linear::tile_shape(false, GATED);
    const int64_t m_tiles = (M + ts.bm - 1) / ts.bm, n_tiles = (N + ts.bn - 1) / ts.bn;
    const int split = g.split;
    std::vector<unsigned char> ws;
    if (split > 1) {
        const int64_t counters = t4j::linear::splitk_counter_bytes(m_tiles * n_tiles * NB);
        ws.assign(static_cast<size_t>(counters + (GATED ? 2 : 1) * NB * split * M * N * 4), 0xff);
        std::memset(ws.data(), 0, static_cast<size_t>(counters));
        p.workspace = ws.data();
        p.workspace_bytes = ws.size();
    }
    const int32_t vec_a = (reinterpret_cast<uintptr_t>(p.a) & 15u) == 0 && lda % 8 == 0 && p.stride_a % 8 == 0 && K % 8 == 0;
    if (g.gemv) {  // as linear_launch.cpp's linear_int4_gemv: 32 columns per block, a block per batch item
        simt::launch(SimtDim3{static_cast<unsigned>((N + t4j::linear::kGemvCols - 1) / t4j::linear::kGemvCols), static_cast<unsigned>(NB), 1},
                     t4j::linear::kGemvThreads, [&] { t4j::linear::int4_gemv_block<T, GATED>(p); }, 0, kernel);
    } else {
        simt::launch(SimtDim3{static_cast<unsigned>(n_tiles), static_cast<unsigned>(m_tiles), static_cast<unsigned>(NB * split)},
                     ts.threads, [&] { t4j::linear::linear_block<T, t4j::linear::Small, GATED, true, false, false, true>(p, vec_a, 0, split); },
                     t4j::linear::shared_bytes(static_cast<int>(ts.bm), static_cast<int>(ts.bn), GATED, true), kernel);
    }
    // the dequantized weights once (the reference's own decode), then the float64 GEMM
    std::vector<double> w(N * K), wg(GATED ? N * K : 0);
    for (int64_t n = 0; n < N; n++)
        for (int64_t k = 0; k < K; k++) {
            w[n * K + k] = weight(n, k);
            if (GATED) wg[n * K + k] = weight(n + N, k);
        }
    const double u = unit_roundoff<T>();
    double worst = 0;
    int bad = 0, touched = 0;
    for (int64_t bi = 0; bi < NB; bi++)
        for (int64_t i = 0; i < M; i++) {
            for (int64_t j = 0; j < N; j++) {
                double y = 0, yg = 0, mag = 0, magg = 0;
                for (int64_t kk = 0; kk < K; kk++) {
                    const double av = ae[(bi * M + i) * lda + kk];
                    y += av * w[j * K + kk];
                    mag += std::abs(av * w[j * K + kk]);
                    if (GATED) {
                        yg += av * wg[j * K + kk];
                        magg += std::abs(av * wg[j * K + kk]);
                    }
                }
                y = alpha * y + (g.bias ? biase[j] : 0.0);
                yg = alpha * yg + (GATED && g.bias ? biasge[j] : 0.0);
                double v = act_ref(y, g.act) * (GATED ? gate_ref(yg, g.act) : 1.0);
                const double r = g.residual_is_c ? rese[(bi * M + i) * ldc + j] : 0.0;
                v += r;
                const double e1 = 4 * K * 0x1p-24 * alpha * (mag + 1), e2 = 4 * K * 0x1p-24 * alpha * (magg + 1);
                const double bound = u * std::abs(v) + 2 * (e1 * (GATED ? std::abs(yg) + 1 : 1) +
                                                         (GATED ? (std::abs(act_ref(y, g.act)) + 1) * e2 : 0)) +
                                     1e-6 * (std::abs(v) + std::abs(r) + 1);
                const double got = to(c[(bi * M + i) * ldc + j]);
                const double err = std::isnan(got) ? INFINITY : std::abs(got - v);
                worst = std::max(worst, err);
                bad += err > bound;
            }
            for (int64_t j = N; j < ldc; j++) touched += !std::isnan(to(c[(bi * M + i) * ldc + j])) && !g.residual_is_c;
        }
    if (split > 1)
        for (int64_t t = 0; t < m_tiles * n_tiles * NB; t++) touched += reinterpret_cast<int32_t*>(ws.data())[t] != 0;
    verdict(bad == 0 && touched == 0, what, "max error %.3g, %d element(s) out of bound, %d padding element(s) or counter(s) touched",
            worst, bad, touched);
}

void int4_suite() {
    int4_decode_table<__nv_bfloat16>();
    int4_decode_table<__half>();
    // decode's one row, K not a multiple of the 32-wide slice (72: the last slice's words past K are zeros), the
    // pipeline shorter than its stages; split-K with a residual in place; a broadcast batch; GPTQ's act-order
    run_int4<__nv_bfloat16, false>({1, 72, 72, 1, 8, T4J_ACT_NONE, false, false, 1});
    run_int4<__nv_bfloat16, false>({70, 65, 256, 1, 128, T4J_ACT_NONE, true, true, 4});
    run_int4<__half, false>({33, 130, 64, 2, 16, T4J_ACT_GELU, true, false, 2});
    run_int4<__nv_bfloat16, true>({5, 40, 96, 1, 32, T4J_ACT_SILU, true, false, 1});
    run_int4<__half, true>({65, 33, 128, 1, 0, T4J_ACT_SILU, false, false, 3});
    run_int4<__nv_bfloat16, false>({3, 64, 64, 1, 0, T4J_ACT_NONE, false, false, 1, true});
    // the GEMV (M ≤ 8): K / 8 = 9 word rows over 16 warps (9 take one, 7 none; shares end mid-unroll), a batch
    // of 2 with the residual in place, the gated forms with and without act-order (each matrix its own g_idx), clamped g_idx
    run_int4<__nv_bfloat16, false>({1, 72, 72, 1, 8, T4J_ACT_NONE, false, false, 1, false, true});
    run_int4<__half, false>({8, 130, 256, 2, 128, T4J_ACT_GELU, true, true, 1, false, true});
    run_int4<__nv_bfloat16, true>({3, 40, 96, 1, 32, T4J_ACT_SILU, true, false, 1, false, true});
    run_int4<__half, true>({5, 33, 128, 1, 0, T4J_ACT_SILU, false, false, 1, false, true});
    run_int4<__nv_bfloat16, false>({2, 64, 64, 1, 0, T4J_ACT_NONE, false, false, 1, true, true});
    // K / 8 = 145 word rows: warps 0-13 ten each (a full unroll of 8, then 2), warp 14 five, warp 15 none; groups of 8 change every word
    run_int4<__nv_bfloat16, true>({4, 48, 1160, 1, 8, T4J_ACT_GELU_TANH, true, false, 1, false, true});
    if (!g_all) return;
    run_int4<__nv_bfloat16, false>({8, 256, 2048, 1, 128, T4J_ACT_NONE, true, true, 1, false, true});
    run_int4<__half, false>({1, 4096 / 16, 512, 1, 128, T4J_ACT_NONE, false, true, 16});
    run_int4<__nv_bfloat16, true>({2, 64, 320, 3, 64, T4J_ACT_GELU_TANH, true, false, 2});
    run_int4<__half, true>({1, 17, 40, 1, 40, T4J_ACT_SILU, true, true, 1});
}

// range: x's and the gate's elements U(−range, range) (SWIGLU_OAI's problems: past its clamps).
template <typename T>
void run_bias_act(int64_t rows, int64_t cols, int act, bool gated, bool bias, bool residual, bool alias, float range = 2.0f,
                  float limit = 0.0f) {
    const std::string what = std::string("t4j_bias_act_") + name<T>() + " " + std::to_string(rows) + "x" +
                             std::to_string(cols) + " " + act_text(act, limit) + (gated ? " gated" : "") + (bias ? " bias" : "") +
                             (residual ? " residual" : "") + (alias ? " out=x" : "");
    if (!wanted(what)) return;
    const int64_t ld = cols + 3;  // strided rows
    std::vector<T> x(rows * ld), gt(rows * ld), bs(cols), bsg(cols), res(rows * ld), out(rows * ld, from<T>(NAN));
    std::vector<double> xe, ge, be, bge, re;
    fill(x, xe, range);
    fill(gt, ge, range);
    fill(bs, be, 1.0f);
    fill(bsg, bge, 1.0f);
    fill(res, re, 1.0f);
    t4j_bias_act_params p{};
    p.out = alias ? x.data() : out.data();
    p.x = x.data();
    p.gate = gated ? gt.data() : nullptr;
    p.bias = bias ? bs.data() : nullptr;
    p.bias_gate = gated && bias ? bsg.data() : nullptr;
    p.residual = residual ? res.data() : nullptr;
    p.rows = rows;
    p.cols = cols;
    p.out_row_stride = p.x_row_stride = p.gate_row_stride = p.residual_row_stride = ld;
    p.activation = act;
    p.act_limit = limit;
    uint32_t threads = 32;  // as linear_launch.cpp's threads_for
    while (threads < 512 && static_cast<int64_t>(threads) * 4 < cols) threads <<= 1;
    const unsigned grid = static_cast<unsigned>(std::min<int64_t>(rows, 3));  // grid-stride over rows
    static std::string kernel;
    kernel = std::string("t4j_bias_act_") + name<T>();
    simt::launch(SimtDim3{grid, 1, 1}, threads, [&] { t4j::bias_act_rows<T>(p); }, 0, kernel.c_str());
    const std::vector<T>& got = alias ? x : out;
    double worst = 0;
    int bad = 0;
    ClampCount clamps;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols; c++) {
            const size_t i = r * ld + c;
            const double y = xe[i] + (bias ? be[c] : 0.0);
            const double yg = gated ? ge[i] + (bias ? bge[c] : 0.0) : 0.0;
            clamps.add(act, y, yg, limit);
            double v = act_ref(y, act, limit);
            if (gated) v *= gate_ref(yg, act);
            if (residual) v += re[i];
            const double bound = unit_roundoff<T>() * std::abs(v) + 1e-6 * (1 + std::abs(v) + std::abs(y) * 4);
            const double g = to(got[i]);
            const double err = std::isnan(g) ? INFINITY : std::abs(g - v);
            worst = std::max(worst, err);
            if (err > bound) bad++;
        }
    verdict(bad == 0 && clamps.ok(act), what, "max error %.3g, %d element(s) out of bound%s", worst, bad, clamps.text(act).c_str());
}

template <typename T>
void bias_act_suite() {
    run_bias_act<T>(5, 70, T4J_ACT_GELU, true, true, true, false);
    run_bias_act<T>(1, 3, T4J_ACT_SILU, false, false, false, true);
    // GPT-OSS's clamped SwiGLU (ABI 11) after cuBLAS: the fused [up ; gate] GEMM's halves as x and gate, past both clamps
    run_bias_act<T>(4, 90, T4J_ACT_SWIGLU_OAI, true, true, true, false, 10.0f);
    // clip_qkv's clamp (ABI 16) after cuBLAS (every F32 projection on CUDA), in place, with a bias
    run_bias_act<T>(3, 70, T4J_ACT_CLAMP, false, true, false, true, 2.0f, 1.25f);
    if (!g_all) return;
    run_bias_act<T>(4, 2100, T4J_ACT_GELU_TANH, false, true, true, true);
    run_bias_act<T>(3, 33, T4J_ACT_RELU, true, false, false, false);
    run_bias_act<T>(2, 129, T4J_ACT_NONE, false, true, true, false);
}

// Nemotron's relu² (ABI 19), after every other suite so that their problems keep their inputs: the tensor-core GEMM's
// plain nt instance (the up_proj), split-K with a residual and a batch, a gated instance; the grouped epilogue (F32: the
// SIMT kernel); bias_act after cuBLAS (every F32 projection on CUDA) with a bias and a residual. Products of both signs.
template <typename T>
void relu2_suite() {
    const std::string dt = name<T>();
    const bool f32 = std::is_same_v<T, float>;
    static std::vector<std::string> keep;  // names outlive the launch (reports use them)
    auto kn = [&](std::string s) {
        keep.push_back("t4j_linear_" + dt + s);
        return keep.back().c_str();
    };
    if constexpr (!std::is_same_v<T, float>) {
        using t4j::linear::Large;
        using t4j::linear::Small;
        run_gemm<T, Large, false, true>({true, false, true, 130, 136, 72, 1, T4J_ACT_RELU2, true, false, false, 1, 1.5f},
                                        kn("_nt_128"));
        run_gemm<T, Small, false, false>({false, false, false, 70, 65, 300, 2, T4J_ACT_RELU2, false, true, false, 4},
                                         kn("_nn_64"));
        run_gemm<T, Small, true, true>({false, true, true, 33, 40, 45, 1, T4J_ACT_RELU2, true, false, false, 1}, kn("_gated_nt_64"));
    }
    run_grouped<T, false, true>({3, 0, 70, 1}, 90, 72, 40, T4J_ACT_RELU2, true, kn(f32 ? "_grouped_nt" : "_grouped_nt_64"), false, 1.5f);
    run_bias_act<T>(3, 70, T4J_ACT_RELU2, false, true, true, false, 3.0f);
}

}  // namespace

int main(int argc, char** argv) {
    parse_args(argc, argv);
    gemm_suite<__nv_bfloat16>();
    gemm_suite<__half>();
    grouped_suite<__nv_bfloat16>();
    grouped_suite<__half>();
    grouped_suite<float>();
    mxfp4_suite();
    bias_act_suite<float>();
    bias_act_suite<__half>();
    bias_act_suite<__nv_bfloat16>();
    grouped_residual_suite<__nv_bfloat16>();  // last: the problems above keep the inputs they had before ABI 15
    grouped_residual_suite<__half>();
    grouped_residual_suite<float>();
    relu2_suite<__nv_bfloat16>();  // ABI 19, last: the problems above keep their inputs
    relu2_suite<__half>();
    relu2_suite<float>();
    int4_suite();  // ABI 21, last: the problems above keep their inputs
    return summary();
}
