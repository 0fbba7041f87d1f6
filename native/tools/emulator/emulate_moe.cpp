// emulate_moe.cpp — runs the mixture-of-experts family's device code (native/src/moe: the router, the
// row gather, the combine) on the host through simt.h and checks each against a float64 reference
// written here from t4j.h's contract, sharing no code with the kernels or with the CPU twin:
//   route    softmax + top-k in float64 (ties: the lower id), renormalization; DeepSeek's routers (ABI 18):
//            sigmoid scores, the correction bias (with sigmoid, and with softmax as ERNIE 4.5: the choice
//            biased, the weights the unbiased softmax over max(sum, 1e-12)), groups (V2: a group's max, V3: its top-2 sum; the
//            other groups' choices 0.0, as transformers' masked_fill), the scale; the kernel's picks may
//            differ from the reference's only between probabilities within fp32 noise that are not
//            exactly equal (exactly equal logits must go to the lower id); weights against the float64
//            probabilities; the slot layout (offsets, sorted tokens, slots) exactly, from the
//            kernel's own picks in (t, j) order; every output poisoned first;
//   gather   bit-exact rows, indices outside x clamped, the 16-byte and the element paths, out's padding
//            untouched;
//   combine  float64 weighted sum + sigmoid-gated shared + residual (aliasing out), one rounding.
// Exit status 1 on any mismatch or checker finding. A check without a GPU, not a substitute for one.
#include "emu_common.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <numeric>
#include <string>

#include "../../src/moe/moe.cuh"

namespace {

using namespace emu;

const char* kname(const std::string& s) {
    static std::vector<std::unique_ptr<std::string>> keep;
    keep.push_back(std::make_unique<std::string>(s));
    return keep.back()->c_str();
}

// ---- route ---------------------------------------------------------------------------------------

// DeepSeek's router settings (t4j.h, ABI 18); all default: the softmax router of ABI 9.
struct Ds {
    bool sigmoid = false;
    int bias = 0;        // 0 none; 1 drawn in ±0.5; 2 mostly below −1 (every kept choice < 0: masked 0.0 wins), a few +0.5;
                         // 3 drawn in ±0.02 (ERNIE 4.5's scale against softmax scores of ~1/E: it moves some picks, not all)
    int n_group = 0;
    int topk_group = 0;
    float scale = 0.0f;  // 0: the ABI 9 default (1)
};

std::string ds_name(const Ds& d) {
    std::string n;
    if (d.sigmoid) n += " sigmoid";
    if (d.bias == 1) n += " bias";
    if (d.bias == 2) n += " negbias";
    if (d.bias == 3) n += " smallbias";
    if (d.n_group > 1) n += " groups " + std::to_string(d.n_group) + "/" + std::to_string(d.topk_group);
    if (d.scale != 0.0f) {
        char buf[32];
        std::snprintf(buf, sizeof buf, " scale %g", d.scale);
        n += buf;
    }
    return n;
}

// T tokens × E experts, top k. ties: logits drawn from a few values (many exact duplicates);
// else continuous, with some neighbours one dtype ulp apart (near-equal).
template <typename T>
void run_route(int64_t T_, int E, int K, bool renorm, bool ties, Ds ds = {}) {
    const std::string what = std::string("moe_route ") + name<T>() + " T" + std::to_string(T_) + " E" + std::to_string(E) +
                             " k" + std::to_string(K) + (renorm ? " renorm" : "") + (ties ? " ties" : "") + ds_name(ds);
    if (!wanted(what)) return;
    const int64_t ld = E + 3;  // strided rows
    std::vector<T> logits(std::max<int64_t>(T_, 1) * ld, from<T>(NAN));
    std::vector<double> xl(logits.size(), 0.0);
    for (int64_t t = 0; t < T_; t++)
        for (int e = 0; e < E; e++) {
            float v;
            if (ties) v = 0.5f * static_cast<float>(std::uniform_int_distribution<int>(-3, 3)(g_rng));
            else v = uniform(3.0f);
            logits[t * ld + e] = from<T>(v);
            if (!ties && e > 0 && (t + e) % 7 == 0) {  // near-equal: the neighbour's value plus one ulp of T
                T prev = logits[t * ld + e - 1];
                uint16_t bits = 0;
                if constexpr (sizeof(T) == 2) {
                    std::memcpy(&bits, &prev, 2);
                    bits++;
                    std::memcpy(&logits[t * ld + e], &bits, 2);
                } else {
                    logits[t * ld + e] = std::nextafter(to(prev), INFINITY);
                }
            }
            xl[t * ld + e] = to(logits[t * ld + e]);
        }
    std::vector<float> bias(E, 0.0f);
    for (int e = 0; e < E; e++) {
        if (ds.bias == 1) bias[e] = uniform(0.5f);
        if (ds.bias == 2) bias[e] = e % 37 == 5 ? 0.5f : -1.0f - std::abs(uniform(0.5f));
        if (ds.bias == 3) bias[e] = uniform(0.02f);
    }
    const int64_t C = T_ * K;
    std::vector<int32_t> ids(std::max<int64_t>(C, 1), -7), offsets(E + 1, -7), sorted(std::max<int64_t>(C, 1), -7),
        slots(std::max<int64_t>(C, 1), -7);
    std::vector<float> w(std::max<int64_t>(C, 1), NAN);
    t4j_moe_route_params p{};
    p.logits = logits.data();
    p.topk_ids = ids.data();
    p.topk_weights = w.data();
    p.expert_offsets = offsets.data();
    p.sorted_tokens = sorted.data();
    p.slots = slots.data();
    p.tokens = T_;
    p.logits_row_stride = ld;
    p.experts = E;
    p.top_k = K;
    p.renormalize = renorm;
    p.scoring = ds.sigmoid ? T4J_MOE_SIGMOID : T4J_MOE_SOFTMAX;
    p.correction_bias = ds.bias != 0 ? bias.data() : nullptr;
    p.n_group = ds.n_group;
    p.topk_group = ds.topk_group;
    p.scale = ds.scale;
    simt::launch(SimtDim3{1, 1, 1}, t4j::moe::kRouteThreads, [&] { t4j::moe::route_tokens<T>(p); }, 0,
                 kname(std::string("t4j_moe_route_") + name<T>()));

    const double scale = ds.scale == 0.0f ? 1.0 : ds.scale;
    const bool grouped = ds.n_group > 1 && ds.topk_group < ds.n_group;
    int bad_ids = 0, bad_w = 0, bad_layout = 0, masked = 0, moved = 0;
    const bool unbiased_w = ds.sigmoid || ds.bias != 0;  // weights: the unbiased s (V3, ERNIE), else the choice c (V2)
    double worst_w = 0;
    for (int64_t t = 0; t < T_; t++) {
        // float64 reference, as transformers' routers: scores s (softmax or sigmoid), choices c = s + bias;
        // groups scored (max, or the top-2 sum), the best topk_group kept (ties: the lower group), the
        // others' c = 0.0; then the k largest c, ties to the lower id.
        std::vector<double> s(E), c(E);
        if (ds.sigmoid) {
            for (int e = 0; e < E; e++) s[e] = 1.0 / (1.0 + std::exp(-xl[t * ld + e]));
        } else {
            double mx = -INFINITY, sum = 0;
            for (int e = 0; e < E; e++) mx = std::max(mx, xl[t * ld + e]);
            for (int e = 0; e < E; e++) sum += s[e] = std::exp(xl[t * ld + e] - mx);
            for (int e = 0; e < E; e++) s[e] /= sum;
        }
        for (int e = 0; e < E; e++) c[e] = s[e] + (ds.bias != 0 ? bias[e] : 0.0);
        if (grouped) {
            const int G = E / ds.n_group;
            std::vector<double> gs(ds.n_group);
            for (int q = 0; q < ds.n_group; q++) {
                std::vector<double> v(c.begin() + q * G, c.begin() + (q + 1) * G);
                std::sort(v.begin(), v.end(), std::greater<double>());
                gs[q] = ds.sigmoid ? v[0] + v[1] : v[0];
            }
            std::vector<int> go(ds.n_group);
            std::iota(go.begin(), go.end(), 0);
            std::stable_sort(go.begin(), go.end(), [&](int a, int b) { return gs[a] > gs[b]; });
            std::vector<bool> keep(ds.n_group, false);
            for (int j = 0; j < ds.topk_group; j++) keep[go[j]] = true;
            for (int e = 0; e < E; e++)
                if (!keep[e / G]) c[e] = 0.0;
            for (int j = 0; j < K; j++) {
                const int got = ids[t * K + j];
                masked += got >= 0 && got < E && !keep[got / G];  // a masked expert's 0.0 won (negbias)
            }
        }
        std::vector<int> order(E);
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return c[a] > c[b]; });
        if (ds.bias != 0) {  // does the bias change this token's experts? (the unbiased top-k by s)
            std::vector<int> plain(E);
            std::iota(plain.begin(), plain.end(), 0);
            std::stable_sort(plain.begin(), plain.end(), [&](int a, int b) { return s[a] > s[b]; });
            moved += !std::is_permutation(order.begin(), order.begin() + K, plain.begin());
        }
        double ktotal = 0;
        std::vector<bool> seen(E, false);
        for (int j = 0; j < K; j++) {
            const int got = ids[t * K + j], want = order[j];
            if (got < 0 || got >= E || seen[got]) { bad_ids++; continue; }
            seen[got] = true;
            const double wref = unbiased_w ? s[got] : c[got];
            ktotal += wref;
            // fp32 noise of a choice: a few ulps of s (the softmax's sum over E terms too) and of the bias's add
            const double noise = (8 + 2.0 * E) * 0x1p-24 * (s[want] + std::abs(c[want] - s[want]) + std::abs(c[want]));
            if (got != want && (c[got] == c[want] || std::abs(c[got] - c[want]) > noise)) bad_ids++;
        }
        for (int j = 0; j < K; j++) {
            const int got = ids[t * K + j];
            if (got < 0 || got >= E) continue;
            const double wref = unbiased_w ? s[got] : c[got];
            // V3 adds 1e-20; ERNIE divides by clamp(sum, min = moe_norm_min 1e-12) (the kernel by the plain sum: equal here)
            const double den = ds.sigmoid ? ktotal + 1e-20 : ds.bias != 0 ? std::max(ktotal, 1e-12) : ktotal;
            const double ref = (renorm ? wref / den : wref) * scale;
            const double err = std::isnan(w[t * K + j]) ? INFINITY : std::abs(w[t * K + j] - ref);
            worst_w = std::max(worst_w, err);
            if (err > (8 + 4.0 * E + 4.0 * K) * 0x1p-24 * ref + 1e-30) bad_w++;
        }
    }
    // The layout from the kernel's own picks: counts, exclusive prefix, slots in (t, j) order.
    std::vector<int64_t> off(E + 1, 0);
    bool ids_valid = true;
    for (int64_t i = 0; i < C; i++) {
        if (ids[i] < 0 || ids[i] >= E) { ids_valid = false; break; }
        off[ids[i] + 1]++;
    }
    if (ids_valid) {
        for (int e = 0; e < E; e++) off[e + 1] += off[e];
        for (int e = 0; e <= E; e++) bad_layout += offsets[e] != off[e];
        std::vector<int64_t> next(off.begin(), off.end() - 1);
        for (int64_t i = 0; i < C; i++) {
            const int64_t slot = next[ids[i]]++;
            bad_layout += slots[i] != slot;
            bad_layout += sorted[slot] != i / K;
        }
    } else {
        bad_layout++;
    }
    const bool bias_moves = ds.bias != 3 || T_ == 0 || moved > 0;  // ERNIE's small bias must change some token's experts
    verdict(bad_ids == 0 && bad_w == 0 && bad_layout == 0 && bias_moves, what,
            "%d pick(s) wrong, %d weight(s) out of bound (max error %.3g), %d layout entr(ies) wrong%s%s", bad_ids, bad_w, worst_w,
            bad_layout, grouped ? (", " + std::to_string(masked) + " pick(s) from masked groups").c_str() : "",
            ds.bias != 0 ? (", the bias moved " + std::to_string(moved) + " token(s)").c_str() : "");
}

// ---- gather --------------------------------------------------------------------------------------

template <typename T>
void run_gather(int64_t n, int64_t x_rows, int64_t cols, int64_t x_ld, int64_t out_ld, bool out_of_range) {
    const std::string what = std::string("gather_rows ") + name<T>() + " n" + std::to_string(n) + " X" + std::to_string(x_rows) +
                             " C" + std::to_string(cols) + " ld " + std::to_string(x_ld) + "/" + std::to_string(out_ld) +
                             (out_of_range ? " clamped" : "");
    if (!wanted(what)) return;
    std::vector<T> x(x_rows * x_ld), out(std::max<int64_t>(n, 1) * out_ld, from<T>(-5.0f));
    std::vector<double> xe;
    fill(x, xe, 2.0f);
    std::vector<int32_t> rows(std::max<int64_t>(n, 1));
    for (int64_t r = 0; r < n; r++) rows[r] = std::uniform_int_distribution<int32_t>(0, static_cast<int32_t>(x_rows - 1))(g_rng);
    if (out_of_range && n >= 2) {
        rows[0] = -3;
        rows[n - 1] = static_cast<int32_t>(x_rows + 5);
    }
    t4j_gather_rows_params p{};
    p.out = out.data();
    p.x = x.data();
    p.rows = rows.data();
    p.n = n;
    p.x_rows = x_rows;
    p.cols = cols;
    p.out_row_stride = out_ld;
    p.x_row_stride = x_ld;
    const unsigned grid = static_cast<unsigned>(std::min<int64_t>(std::max<int64_t>(n, 1), 5));  // grid-stride over rows
    if (sizeof(T) == 2) simt::launch(SimtDim3{grid, 1, 1}, t4j::moe::kGatherThreads, [&] { t4j::moe::gather_rows<2>(p); }, 0, "t4j_gather_rows_b16");
    else simt::launch(SimtDim3{grid, 1, 1}, t4j::moe::kGatherThreads, [&] { t4j::moe::gather_rows<4>(p); }, 0, "t4j_gather_rows_b32");
    int bad = 0;
    for (int64_t r = 0; r < n; r++) {
        const int64_t src = std::clamp<int64_t>(rows[r], 0, x_rows - 1);
        for (int64_t c = 0; c < out_ld; c++) {
            const T want = c < cols ? x[src * x_ld + c] : from<T>(-5.0f);
            bad += std::memcmp(&out[r * out_ld + c], &want, sizeof(T)) != 0;
        }
    }
    verdict(bad == 0, what, "%d element(s) differ (padding included)", bad);
}

// widen (ABI 20): F16 / BF16 rows to F32, exactly (xe holds each stored value in double); rows NULL reads row r.
template <typename T>
void run_gather_widened(int64_t n, int64_t x_rows, int64_t cols, int64_t x_ld, int64_t out_ld, bool identity) {
    const std::string what = std::string("gather_rows widen ") + name<T>() + " n" + std::to_string(n) + " X" + std::to_string(x_rows) +
                             " C" + std::to_string(cols) + (identity ? " identity" : "");
    if (!wanted(what)) return;
    std::vector<T> x(x_rows * x_ld);
    std::vector<float> out(std::max<int64_t>(n, 1) * out_ld, -5.0f);
    std::vector<double> xe;
    fill(x, xe, 40.0f);
    x[0] = from<T>(NAN);                                                    // NaN stays NaN
    std::vector<int32_t> rows(std::max<int64_t>(n, 1));
    for (int64_t r = 0; r < n; r++) rows[r] = std::uniform_int_distribution<int32_t>(0, static_cast<int32_t>(x_rows - 1))(g_rng);
    t4j_gather_rows_params p{};
    p.out = out.data();
    p.x = x.data();
    p.rows = identity ? nullptr : rows.data();
    p.n = n;
    p.x_rows = x_rows;
    p.cols = cols;
    p.out_row_stride = out_ld;
    p.x_row_stride = x_ld;
    p.widen = 1;
    const unsigned grid = static_cast<unsigned>(std::min<int64_t>(std::max<int64_t>(n, 1), 5));
    simt::launch(SimtDim3{grid, 1, 1}, t4j::moe::kGatherThreads, [&] { t4j::moe::gather_rows_widened<T>(p); }, 0,
                 std::is_same_v<T, __half> ? "t4j_gather_rows_f16_f32" : "t4j_gather_rows_bf16_f32");
    int bad = 0;
    for (int64_t r = 0; r < n; r++) {
        const int64_t src = identity ? r : rows[r];
        for (int64_t c = 0; c < out_ld; c++) {
            const double want = c < cols ? (src == 0 && c == 0 ? NAN : xe[src * x_ld + c]) : -5.0;
            const float got = out[r * out_ld + c];
            bad += std::isnan(want) ? !std::isnan(got) : static_cast<double>(got) != want;
        }
    }
    verdict(bad == 0, what, "%d element(s) differ from the exact value (padding included)", bad);
}

// ---- combine -------------------------------------------------------------------------------------

template <typename T>
void run_combine(int64_t T_, int64_t cols, int K, int64_t slot_rows, bool residual, bool alias, bool shared, bool gate) {
    const std::string what = std::string("moe_combine ") + name<T>() + " T" + std::to_string(T_) + " C" + std::to_string(cols) +
                             " k" + std::to_string(K) + (residual ? (alias ? " residual=out" : " residual") : "") +
                             (shared ? (gate ? " shared+gate" : " shared") : "");
    if (!wanted(what)) return;
    const int64_t ld = cols + 5;
    std::vector<T> y(slot_rows * ld), res(std::max<int64_t>(T_, 1) * ld), sh(res.size()), g(std::max<int64_t>(T_, 1) * 3),
        out(res.size(), from<T>(NAN));
    std::vector<double> ye, re, she, ge;
    fill(y, ye, 2.0f);
    fill(res, re, 2.0f);
    fill(sh, she, 2.0f);
    fill(g, ge, 3.0f);
    if (alias) out = res;
    std::vector<int32_t> slots(T_ * K + 1);
    std::vector<float> w(T_ * K + 1);
    for (int64_t i = 0; i < T_ * K; i++) {
        slots[i] = std::uniform_int_distribution<int32_t>(0, static_cast<int32_t>(slot_rows - 1))(g_rng);
        w[i] = std::uniform_real_distribution<float>(0.0f, 1.0f)(g_rng);
    }
    if (T_ * K >= 2) slots[1] = static_cast<int32_t>(slot_rows + 2);  // clamped to the last row
    t4j_moe_combine_params p{};
    p.out = out.data();
    p.y = y.data();
    p.slots = slots.data();
    p.weights = w.data();
    p.residual = residual ? (alias ? out.data() : res.data()) : nullptr;
    p.shared = shared ? sh.data() : nullptr;
    p.shared_gate = shared && gate ? g.data() : nullptr;
    p.tokens = T_;
    p.cols = cols;
    p.slot_rows = slot_rows;
    p.out_row_stride = p.y_row_stride = p.residual_row_stride = p.shared_row_stride = ld;
    p.shared_gate_stride = 3;  // a (T, 3) tensor's column
    p.top_k = K;
    uint32_t threads = 32;  // as moe_launch.cpp's threads_for
    while (threads < 512 && static_cast<int64_t>(threads) * 4 < cols) threads <<= 1;
    const unsigned grid = static_cast<unsigned>(std::min<int64_t>(std::max<int64_t>(T_, 1), 4));
    simt::launch(SimtDim3{grid, 1, 1}, threads, [&] { t4j::moe::combine_rows<T>(p); }, 0,
                 kname(std::string("t4j_moe_combine_") + name<T>()));
    int bad = 0;
    double worst = 0;
    for (int64_t t = 0; t < T_; t++) {
        const double sg = gate ? 1.0 / (1.0 + std::exp(-ge[t * 3])) : 1.0;
        for (int64_t c = 0; c < ld; c++) {
            const double got = to(out[t * ld + c]);
            if (c >= cols) {  // padding: untouched
                const double before = alias ? re[t * ld + c] : NAN;
                bad += !(alias ? got == before : std::isnan(got));
                continue;
            }
            double v = 0, mag = 0;
            for (int j = 0; j < K; j++) {
                const int64_t s = std::clamp<int64_t>(slots[t * K + j], 0, slot_rows - 1);
                v += w[t * K + j] * ye[s * ld + c];
                mag += std::abs(w[t * K + j] * ye[s * ld + c]);
            }
            if (shared) {
                v += sg * she[t * ld + c];
                mag += std::abs(she[t * ld + c]);
            }
            if (residual) {
                v += re[t * ld + c];
                mag += std::abs(re[t * ld + c]);
            }
            // one rounding to T, fp32 terms and sums (≤ (K + 3)·2^-24 of the magnitudes), the sigmoid's expf
            const double bound = unit_roundoff<T>() * std::abs(v) + (K + 8) * 0x1p-24 * mag;
            const double err = std::isnan(got) ? INFINITY : std::abs(got - v);
            worst = std::max(worst, err);
            bad += err > bound;
        }
    }
    verdict(bad == 0, what, "max error %.3g, %d element(s) out of bound", worst, bad);
}

template <typename T>
void suite() {
    const bool f32 = std::is_same_v<T, float>;
    run_route<T>(37, 8, 2, true, true);     // Mixtral: 8 experts, top 2, renormalized; duplicate logits
    run_route<T>(300, 64, 8, false, false); // OLMoE / Qwen: 64 experts, top 8, near-equal neighbours
    if (f32) {
        run_route<T>(0, 128, 8, true, false);   // no tokens: offsets of zeros
        run_route<T>(1, 4, 1, false, true);     // one token (decode), top 1
        run_route<T>(37, 128, 8, true, true);   // Qwen3-MoE: 128 experts
        run_route<T>(5, 1024, 32, false, false);  // the limits: E 1024, k 32
    } else {
        run_route<T>(1, 128, 8, false, false);
        run_route<T>(300, 4, 1, true, true);
    }
    // DeepSeek (ABI 18). V3's router: E 256, k 8, sigmoid + bias, 8 groups keeping 4 (top-2 sums), renormalized, × 2.5
    run_route<T>(64, 256, 8, true, false, Ds{true, 1, 8, 4, 2.5f});
    // V2's group_limited_greedy: softmax, a group's max, the masked scores as weights, × 16 (DeepSeek-V2: E 160, k 6, 8/3)
    run_route<T>(37, 160, 6, false, false, Ds{false, 0, 8, 3, 16.0f});
    // masked 0.0 beating negative biased choices: the picks are then masked experts, weighed by their sigmoid
    run_route<T>(9, 256, 8, true, false, Ds{true, 2, 8, 4, 2.5f});
    // ERNIE 4.5 (ABI 18's relaxed rule): softmax + bias for the choice, the unbiased softmax as weights, renormalized
    // (ERNIE-4.5-21B-A3B: E 64, k 6; -300B-A47B: E 64, k 8)
    if (!std::is_same_v<T, __half>) {
        run_route<T>(64, 64, 6, true, false, Ds{false, 3, 0, 0, 0.0f});
        run_route<T>(9, 64, 8, true, false, Ds{false, 3, 0, 0, 0.0f});
        run_route<T>(5, 64, 6, false, false, Ds{false, 1, 0, 0, 0.0f});  // a large bias, no renormalization
    }
    if (f32) {
        run_route<T>(37, 64, 6, true, true, Ds{true, 0, 4, 2, 0.0f});     // ties: equal group scores and choices
        run_route<T>(37, 64, 6, false, true, Ds{false, 0, 8, 3, 1.0f});  // V2 ties
        run_route<T>(5, 64, 8, true, false, Ds{true, 1, 1, 1, 1.5f});    // sigmoid + bias, no groups
        run_route<T>(3, 1024, 32, true, false, Ds{true, 1, 32, 17, 0.0f});  // the limits: 32 groups of 32
        run_route<T>(7, 16, 4, false, false, Ds{true, 0, 8, 2, 1.0f});   // groups of 2: k = every kept expert
    }
    run_gather<T>(37, 20, 64, 64, 72, false);  // 16-byte vectors
    run_gather<T>(9, 6, 33, 35, 34, true);     // elements; indices clamped
    if constexpr (!std::is_same_v<T, float>) {
        run_gather_widened<T>(12, 12, 300, 301, 305, true);   // a router's hidden states, read as they are
        run_gather_widened<T>(9, 6, 33, 35, 34, false);
    }
    run_combine<T>(7, 70, 2, 19, true, true, true, true);
    run_combine<T>(5, 33, 8, 40, true, false, true, false);
    run_combine<T>(3, 9, 1, 2, false, false, false, false);
}

}  // namespace

int main(int argc, char** argv) {
    parse_args(argc, argv);
    suite<float>();
    suite<__half>();
    suite<__nv_bfloat16>();
    if (g_all) run_route<float>(2000, 64, 6, true, true);
    return summary();
}
