// emulate_rows.cpp — runs the row-wise families' device code on the host through simt.h: norms
// (native/src/norm: LayerNorm / RMSNorm, residual in and out, rows wider than the shared cache),
// the embedding gather (native/src/embedding: clamped bad ids and their error rows, device
// positions, type ids) and the vocabulary kernels (native/src/vocab: softmax / log-softmax,
// cross-entropy with ignore index and bad targets, sampling: argmax, temperature, top-k, top-p,
// min_p, Philox; the final logit soft-capping; repetition / presence / frequency penalties and logit bias).
// Each result is compared with a float64 reference written here from include/t4j.h's
// contract, sharing no code with the kernels. Exit status 1 on any mismatch or checker finding.
#include "emu_common.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <numeric>

#include "../../src/embedding/embedding.cuh"
#include "../../src/norm/norm.cuh"
#include "../../src/vocab/mask.cuh"
#include "../../src/vocab/penalty.cuh"
#include "../../src/vocab/softcap.cuh"
#include "../../src/vocab/vocab.cuh"

using namespace emu;

namespace {

// Launch shapes of the launchers (norm_launch.cpp / vocab_launch.cpp): threads grow with the row.
uint32_t threads_upto(int64_t cols, int64_t per_thread, uint32_t cap) {
    uint32_t t = 32;
    while (t < cap && static_cast<int64_t>(t) * per_thread < cols) t <<= 1;
    return t;
}
const char* kname(const std::string& s) {
    static std::vector<std::unique_ptr<std::string>> keep;
    keep.push_back(std::make_unique<std::string>(s));
    return keep.back()->c_str();
}

// ---- norm ----------------------------------------------------------------------------------------

template <typename T>
void run_norm(int64_t rows, int64_t cols, int kind, bool residual, bool res_out, bool bias) {
    const std::string what = std::string("t4j_norm_") + name<T>() + (kind == T4J_NORM_LAYER ? " layer " : " rms ") +
                             std::to_string(rows) + "x" + std::to_string(cols) + (residual ? " residual" : "") +
                             (res_out ? " residual_out" : "") + (bias ? " bias" : "");
    if (!wanted(what)) return;
    const int64_t ld = cols + 5;
    std::vector<T> x(rows * ld), r(rows * ld), w(cols), b(cols), out(rows * ld, from<T>(NAN)), ro(rows * ld, from<T>(NAN));
    std::vector<double> xe, re, we, be;
    fill(x, xe, 3.0f);
    for (size_t i = 0; i < x.size(); i += 7) { x[i] = from<T>(to(x[i]) + 2.0f); xe[i] = to(x[i]); }  // a non-zero mean
    fill(r, re, 3.0f);
    fill(w, we, 1.5f);
    fill(b, be, 1.0f);
    t4j_norm_params p{};
    p.out = out.data();
    p.residual_out = res_out ? ro.data() : nullptr;
    p.x = x.data();
    p.residual = residual ? r.data() : nullptr;
    p.weight = w.data();
    p.bias = bias ? b.data() : nullptr;
    p.rows = rows;
    p.cols = cols;
    p.x_row_stride = p.residual_row_stride = p.out_row_stride = p.residual_out_row_stride = ld;
    p.eps = 1e-5f;
    p.kind = kind;
    const int32_t use_cache = t4j::norm::use_cache(cols) ? 1 : 0;  // as norm_launch.cpp
    simt::launch(SimtDim3{static_cast<unsigned>(std::min<int64_t>(rows, 3)), 1, 1}, threads_upto(cols, 4, 512),
                 [&] { t4j::norm_rows<T>(p, use_cache); }, t4j::norm::shared_bytes(cols), kname(std::string("t4j_norm_") + name<T>()));
    const double u = unit_roundoff<T>();
    double worst = 0;
    int bad = 0;
    for (int64_t i = 0; i < rows; i++) {
        std::vector<double> h(cols);
        for (int64_t c = 0; c < cols; c++) {
            h[c] = xe[i * ld + c];
            if (residual) h[c] = to(from<T>(static_cast<float>(h[c] + re[i * ld + c])));  // the sum as the dtype stores it
            if (res_out) {
                const double g = to(ro[i * ld + c]);
                if (!(g == h[c])) bad++;
            }
        }
        double mean = 0, var = 0;
        if (kind == T4J_NORM_LAYER) {
            for (double v : h) mean += v;
            mean /= cols;
            for (double v : h) var += (v - mean) * (v - mean);
        } else {
            for (double v : h) var += v * v;
        }
        const double rstd = 1.0 / std::sqrt(var / cols + 1e-5);
        for (int64_t c = 0; c < cols; c++) {
            const double y = (h[c] - mean) * rstd * we[c] + (bias ? be[c] : 0.0);
            const double bound = u * std::abs(y) + 1e-5 * (std::abs(we[c]) * (std::abs(h[c] - mean) * rstd + 1) + 1);
            const double g = to(out[i * ld + c]);
            const double err = std::isnan(g) ? INFINITY : std::abs(g - y);
            worst = std::max(worst, err);
            if (err > bound) bad++;
        }
    }
    verdict(bad == 0, what, "max error %.3g, %d element(s) out of bound", worst, bad);
}

template <typename T>
void norm_suite() {
    run_norm<T>(3, 300, T4J_NORM_LAYER, true, true, true);  // 4 warps
    run_norm<T>(1, 33, T4J_NORM_RMS, false, false, false);
    run_norm<T>(2, 12300, std::is_same_v<T, float> ? T4J_NORM_LAYER : T4J_NORM_RMS, true, false, false);  // above the cached width
    if (!g_all) return;
    run_norm<T>(5, 2048, T4J_NORM_RMS, true, true, false);
    run_norm<T>(4, 1, T4J_NORM_LAYER, false, false, true);
    run_norm<T>(2, 12300, T4J_NORM_LAYER, true, true, true);
}

// ---- embedding -----------------------------------------------------------------------------------

template <typename T>
void run_embedding(int64_t rows, int64_t cols, bool pos_table, bool device_positions, bool types, bool bad_ids) {
    const std::string what = std::string("t4j_embedding_") + name<T>() + " " + std::to_string(rows) + "x" +
                             std::to_string(cols) + (pos_table ? (device_positions ? " device positions" : " positions") : "") +
                             (types ? " types" : "") + (bad_ids ? " bad ids" : "");
    if (!wanted(what)) return;
    const int64_t vocab = 50, max_pos = 40, type_vocab = 2, seq = 7, offset = 3, ld = cols + 2;
    std::vector<T> tok(vocab * cols), pos(max_pos * cols), typ(type_vocab * cols), out(rows * ld, from<T>(NAN));
    std::vector<double> te, pe, ye;
    fill(tok, te, 1.0f);
    fill(pos, pe, 1.0f);
    fill(typ, ye, 1.0f);
    std::vector<int32_t> ids(rows), tids(rows), poss(rows);
    for (int64_t r = 0; r < rows; r++) {
        ids[r] = static_cast<int32_t>(g_rng() % vocab);
        tids[r] = static_cast<int32_t>(g_rng() % type_vocab);
        poss[r] = static_cast<int32_t>(g_rng() % max_pos);
    }
    if (bad_ids) {
        ids[rows - 1] = static_cast<int32_t>(vocab);
        if (rows > 2) ids[2] = -5;
        tids[rows - 1] = 7;
        poss[rows - 1] = -1;
    }
    int32_t flags[3] = {INT32_MAX, INT32_MAX, INT32_MAX};
    t4j_embedding_params p{};
    p.out = out.data();
    p.ids = ids.data();
    p.token_table = tok.data();
    p.position_table = pos_table ? pos.data() : nullptr;
    p.type_ids = types ? tids.data() : nullptr;
    p.type_table = types ? typ.data() : nullptr;
    p.error_row = flags;
    p.positions = pos_table && device_positions ? poss.data() : nullptr;
    p.rows = rows;
    p.cols = cols;
    p.seq_len = seq;
    p.position_offset = offset;
    p.vocab = vocab;
    p.max_positions = max_pos;
    p.type_vocab = type_vocab;
    p.out_row_stride = ld;
    simt::launch(SimtDim3{static_cast<unsigned>(std::min<int64_t>(rows, 4)), 1, 1}, threads_upto(cols, 1, 1024),
                 [&] { t4j::embedding_rows<T>(p); }, 0, kname(std::string("t4j_embedding_") + name<T>()));
    auto clamp = [](int64_t v, int64_t n) { return v < 0 ? 0 : (v >= n ? n - 1 : v); };
    int32_t want[3] = {INT32_MAX, INT32_MAX, INT32_MAX};
    double worst = 0;
    int bad = 0;
    for (int64_t r = 0; r < rows; r++) {
        if ((ids[r] < 0 || ids[r] >= vocab) && want[0] == INT32_MAX) want[0] = static_cast<int32_t>(r + 1);
        if (types && (tids[r] < 0 || tids[r] >= type_vocab) && want[1] == INT32_MAX) want[1] = static_cast<int32_t>(r + 1);
        if (pos_table && device_positions && (poss[r] < 0 || poss[r] >= max_pos) && want[2] == INT32_MAX) want[2] = static_cast<int32_t>(r + 1);
        const int64_t at = device_positions ? clamp(poss[r], max_pos) : offset + r % seq;
        for (int64_t c = 0; c < cols; c++) {
            double v = te[clamp(ids[r], vocab) * cols + c];
            if (pos_table) v += pe[at * cols + c];
            if (types) v += ye[clamp(tids[r], type_vocab) * cols + c];
            const double g = to(out[r * ld + c]);
            const double err = std::isnan(g) ? INFINITY : std::abs(g - v);
            worst = std::max(worst, err);
            if (err > unit_roundoff<T>() * std::abs(v) + 1e-6) bad++;
        }
    }
    const bool flags_ok = flags[0] == want[0] && flags[1] == want[1] && flags[2] == want[2];
    verdict(bad == 0 && flags_ok, what, "max error %.3g, %d element(s) out of bound, error rows %d %d %d (want %d %d %d)",
            worst, bad, flags[0], flags[1], flags[2], want[0], want[1], want[2]);
}

template <typename T>
void embedding_suite() {
    run_embedding<T>(9, 70, true, false, true, false);
    run_embedding<T>(6, 33, true, true, true, true);
    if (!g_all) return;
    run_embedding<T>(1, 1, false, false, false, true);
    run_embedding<T>(12, 1500, true, true, false, false);
}

// ---- softmax / log-softmax -----------------------------------------------------------------------

template <typename T>
void run_softmax(int64_t rows, int64_t cols, int kind, float scale, bool alias) {
    const std::string what = std::string("t4j_softmax_") + name<T>() + (kind == T4J_LOG_SOFTMAX ? " log " : " ") +
                             std::to_string(rows) + "x" + std::to_string(cols) + (alias ? " out=x" : "");
    if (!wanted(what)) return;
    const int64_t ld = cols + 1;
    std::vector<T> x(rows * ld), out(rows * ld, from<T>(NAN));
    std::vector<double> xe;
    fill(x, xe, 8.0f);
    t4j_softmax_params p{};
    p.out = alias ? x.data() : out.data();
    p.x = x.data();
    p.rows = rows;
    p.cols = cols;
    p.x_row_stride = p.out_row_stride = ld;
    p.scale = scale;
    p.kind = kind;
    simt::launch(SimtDim3{static_cast<unsigned>(std::min<int64_t>(rows, 3)), 1, 1}, threads_upto(cols, 8, 1024),
                 [&] { t4j::vocab::softmax_rows<T>(p); }, 0, kname(std::string("t4j_softmax_") + name<T>()));
    const std::vector<T>& got = alias ? x : out;
    double worst = 0;
    int bad = 0;
    for (int64_t r = 0; r < rows; r++) {
        double m = -INFINITY, s = 0;
        for (int64_t c = 0; c < cols; c++) m = std::max(m, scale * xe[r * ld + c]);
        for (int64_t c = 0; c < cols; c++) s += std::exp(scale * xe[r * ld + c] - m);
        for (int64_t c = 0; c < cols; c++) {
            const double z = scale * xe[r * ld + c] - m;
            const double v = kind == T4J_LOG_SOFTMAX ? z - std::log(s) : std::exp(z) / s;
            const double bound = unit_roundoff<T>() * std::abs(v) + (kind == T4J_LOG_SOFTMAX ? 1e-5 * (1 + std::abs(z)) : 1e-6);
            const double g = to(got[r * ld + c]);
            const double err = std::isnan(g) ? INFINITY : std::abs(g - v);
            worst = std::max(worst, err);
            if (err > bound) bad++;
        }
    }
    verdict(bad == 0, what, "max error %.3g, %d element(s) out of bound", worst, bad);
}

// ---- cross-entropy -------------------------------------------------------------------------------

template <typename T>
void run_cross_entropy(int64_t rows, int64_t cols) {
    const std::string what = std::string("t4j_cross_entropy_") + name<T>() + " " + std::to_string(rows) + "x" + std::to_string(cols);
    if (!wanted(what)) return;
    std::vector<T> x(rows * cols);
    std::vector<double> xe;
    fill(x, xe, 6.0f);
    std::vector<int32_t> targets(rows);
    for (int64_t r = 0; r < rows; r++) targets[r] = static_cast<int32_t>(g_rng() % cols);
    const int32_t ignore = -100;
    targets[0] = ignore;
    if (rows > 3) targets[3] = static_cast<int32_t>(cols);  // bad target
    if (rows > 4) targets[4] = -1;
    std::vector<float> losses(rows, NAN);
    int32_t error_row = INT32_MAX;
    t4j_cross_entropy_params p{};
    p.losses = losses.data();
    p.logits = x.data();
    p.targets = targets.data();
    p.error_row = &error_row;
    p.rows = rows;
    p.cols = cols;
    p.logits_row_stride = cols;
    p.ignore_index = ignore;
    simt::launch(SimtDim3{static_cast<unsigned>(std::min<int64_t>(rows, 4)), 1, 1}, threads_upto(cols, 8, 1024),
                 [&] { t4j::vocab::cross_entropy_rows<T>(p); }, 0, kname(std::string("t4j_cross_entropy_") + name<T>()));
    int bad = 0;
    int32_t want_err = INT32_MAX;
    double worst = 0;
    for (int64_t r = 0; r < rows; r++) {
        const int32_t t = targets[r];
        if (t == ignore) {
            if (losses[r] != 0.0f) bad++;
            continue;
        }
        if (t < 0 || t >= cols) {
            if (!std::isnan(losses[r])) bad++;
            if (want_err == INT32_MAX) want_err = static_cast<int32_t>(r + 1);
            continue;
        }
        double m = -INFINITY, s = 0;
        for (int64_t c = 0; c < cols; c++) m = std::max(m, xe[r * cols + c]);
        for (int64_t c = 0; c < cols; c++) s += std::exp(xe[r * cols + c] - m);
        const double v = m + std::log(s) - xe[r * cols + t];
        const double err = std::isnan(losses[r]) ? INFINITY : std::abs(losses[r] - v);
        worst = std::max(worst, err);
        if (err > 1e-5 * (1 + std::abs(m) + std::abs(v))) bad++;
    }
    verdict(bad == 0 && error_row == want_err, what, "max error %.3g, %d loss(es) wrong, error row %d (want %d)", worst,
            bad, error_row, want_err);
}

// ---- sampling ------------------------------------------------------------------------------------

// Philox4x32-10, first output word, from Salmon et al. (SC'11) / Random123's constants.
uint32_t philox_ref(uint64_t key, uint32_t ctr[4]) {
    uint32_t k[2] = {static_cast<uint32_t>(key), static_cast<uint32_t>(key >> 32)};
    uint32_t c[4] = {ctr[0], ctr[1], ctr[2], ctr[3]};
    for (int round = 0; round < 10; round++) {
        const uint64_t p0 = static_cast<uint64_t>(0xD2511F53u) * c[0];
        const uint64_t p1 = static_cast<uint64_t>(0xCD9E8D57u) * c[2];
        const uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c[1] ^ k[0];
        const uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c[3] ^ k[1];
        c[1] = static_cast<uint32_t>(p1);
        c[3] = static_cast<uint32_t>(p0);
        c[0] = n0;
        c[2] = n2;
        k[0] += 0x9E3779B9u;
        k[1] += 0xBB67AE85u;
    }
    return c[0];
}

template <typename T>
void run_sample(int64_t rows, int64_t cols, float temperature, int top_k, float top_p, bool ties, float min_p = 0.0f) {
    const std::string what = std::string("t4j_sample_") + name<T>() + " " + std::to_string(rows) + "x" + std::to_string(cols) +
                             " t " + std::to_string(temperature).substr(0, 4) + " top_k " + std::to_string(top_k) +
                             " top_p " + std::to_string(top_p).substr(0, 4) + (ties ? " ties" : "") +
                             (min_p > 0.0f ? " min_p " + std::to_string(min_p).substr(0, 4) : "");
    if (!wanted(what)) return;
    std::vector<T> x(rows * cols);
    std::vector<double> xe;
    fill(x, xe, 4.0f);
    if (ties)
        for (int64_t r = 0; r < rows; r++) {  // equal maxima: the smallest id wins
            const int64_t a = (r * 7) % cols, b = (r * 7 + cols / 2) % cols;
            x[r * cols + a] = x[r * cols + b] = from<T>(9.0f);
            xe[r * cols + a] = xe[r * cols + b] = 9.0;
        }
    std::vector<int32_t> ids(rows, -7);
    std::vector<float> lp(rows, NAN);
    t4j_sample_params p{};
    p.ids = ids.data();
    p.logprobs = lp.data();
    p.logits = x.data();
    p.rows = rows;
    p.cols = cols;
    p.logits_row_stride = cols;
    p.seed = 0x123456789abcdefULL;
    p.offset = 0x500000003ULL;
    p.temperature = temperature;
    p.top_p = top_p;
    p.top_k = top_k;
    p.min_p = min_p;
    simt::launch(SimtDim3{static_cast<unsigned>(std::min<int64_t>(rows, 3)), 1, 1}, threads_upto(cols, 8, 1024),
                 [&] { t4j::vocab::sample_rows<T>(p); }, 0, kname(std::string("t4j_sample_") + name<T>()));
    int bad = 0, ambiguous = 0;
    for (int64_t r = 0; r < rows; r++) {
        const double* xr = &xe[r * cols];
        double m = -INFINITY, s = 0;
        for (int64_t c = 0; c < cols; c++) m = std::max(m, xr[c]);
        for (int64_t c = 0; c < cols; c++) s += std::exp(xr[c] - m);
        std::vector<int64_t> want;  // acceptable ids (more than one only at a rounding boundary)
        if (temperature == 0.0f) {
            int64_t best = 0;
            for (int64_t c = 1; c < cols; c++) if (xr[c] > xr[best]) best = c;
            want.push_back(best);
        } else {
            std::vector<double> w(cols);
            for (int64_t c = 0; c < cols; c++) w[c] = std::exp((xr[c] - m) / temperature);
            std::vector<bool> kept(cols, true);
            if (top_k > 0 && top_k < cols) {
                std::vector<double> sorted(xr, xr + cols);
                std::sort(sorted.begin(), sorted.end(), std::greater<>());
                for (int64_t c = 0; c < cols; c++) kept[c] = xr[c] >= sorted[top_k - 1];
            }
            if (top_p < 1.0f) {
                double total = 0;
                std::vector<int64_t> order;
                for (int64_t c = 0; c < cols; c++) if (kept[c]) { total += w[c]; order.push_back(c); }
                std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return w[a] > w[b]; });
                double cum = 0, boundary = 0;
                for (int64_t c : order) {
                    cum += w[c];
                    boundary = w[c];
                    if (cum >= top_p * total) break;
                }
                for (int64_t c = 0; c < cols; c++) kept[c] = kept[c] && w[c] >= boundary;
            }
            int removed = 0;  // min_p after top-p (transformers' order): probability ≥ min_p · the largest, i.e. w ≥ min_p
            for (int64_t c = 0; c < cols; c++) {
                if (kept[c] && w[c] < min_p) { kept[c] = false; removed++; }
                if (min_p > 0 && std::abs(w[c] - min_p) < 1e-5 * min_p) ambiguous++;
            }
            if (min_p > 0 && removed == 0) { bad++; std::printf("     row %lld: min_p %g removed nothing\n", (long long) r, min_p); }
            double mass = 0;
            for (int64_t c = 0; c < cols; c++) if (kept[c]) mass += w[c];
            uint32_t ctr[4] = {static_cast<uint32_t>(r), static_cast<uint32_t>(p.offset), static_cast<uint32_t>(p.offset >> 32), 0};
            const double target = static_cast<double>(philox_ref(p.seed, ctr) >> 8) / 16777216.0 * mass;
            double run = 0;
            for (int64_t c = 0; c < cols; c++) {
                if (!kept[c]) continue;
                const double before = run;
                run += w[c];
                if (run > target) {
                    want.push_back(c);
                    // fp32 sums may place the target on either side of a near boundary
                    if (std::abs(run - target) < 1e-4 * mass) {
                        for (int64_t d = c + 1; d < cols; d++) if (kept[d]) { want.push_back(d); break; }
                        ambiguous++;
                    }
                    if (std::abs(before - target) < 1e-4 * mass) {
                        for (int64_t d = c - 1; d >= 0; d--) if (kept[d]) { want.push_back(d); break; }
                        ambiguous++;
                    }
                    break;
                }
            }
        }
        const int64_t got = ids[r];
        if (std::find(want.begin(), want.end(), got) == want.end()) {
            bad++;
            std::printf("     row %lld: id %lld, want %lld\n", static_cast<long long>(r), static_cast<long long>(got),
                        static_cast<long long>(want.empty() ? -1 : want[0]));
            continue;
        }
        const double lpv = xr[got] - m - std::log(s);
        if (!(std::abs(lp[r] - lpv) <= 1e-5 * (1 + std::abs(lpv) + std::abs(m)))) bad++;
    }
    verdict(bad == 0, what, "%d row(s) wrong, %d near a rounding boundary", bad, ambiguous);
}

// Non-finite rows (a NaN, a +inf, every logit -inf, every logit NaN) beside a finite one: every id
// stays in [0, V), the flags name exactly the non-finite rows, their id is the argmax over non-NaN
// logits (0 when all are NaN) and their logprob NaN; the finite row is sampled as usual.
template <typename T>
void run_sample_nonfinite(float temperature, int top_k) {
    const int64_t rows = 5, cols = 300;
    const std::string what = std::string("t4j_sample_") + name<T>() + " non-finite rows t " +
                             std::to_string(temperature).substr(0, 4) + " top_k " + std::to_string(top_k);
    if (!wanted(what)) return;
    std::vector<T> x(rows * cols);
    std::vector<double> xe;
    fill(x, xe, 4.0f);
    x[0 * cols + 5] = from<T>(NAN);
    x[1 * cols + 17] = from<T>(INFINITY);
    for (int64_t c = 0; c < cols; c++) x[2 * cols + c] = from<T>(-INFINITY);
    for (int64_t c = 0; c < cols; c++) x[3 * cols + c] = from<T>(NAN);
    std::vector<int32_t> ids(rows, -7), flags(rows, -7);
    std::vector<float> lp(rows, 0.0f);
    t4j_sample_params p{};
    p.ids = ids.data();
    p.logprobs = lp.data();
    p.nonfinite = flags.data();
    p.logits = x.data();
    p.rows = rows;
    p.cols = cols;
    p.logits_row_stride = cols;
    p.seed = 7;
    p.offset = 3;
    p.temperature = temperature;
    p.top_p = 1.0f;
    p.top_k = top_k;
    simt::launch(SimtDim3{3, 1, 1}, threads_upto(cols, 8, 1024), [&] { t4j::vocab::sample_rows<T>(p); }, 0,
                 kname(std::string("t4j_sample_") + name<T>()));
    int bad = 0;
    int64_t nan_row_argmax = 0;  // row 0 without its NaN
    for (int64_t c = 1; c < cols; c++) if (c != 5 && (nan_row_argmax == 5 || xe[c] > xe[nan_row_argmax])) nan_row_argmax = c;
    const int64_t want_id[4] = {nan_row_argmax, 17, 0, 0};
    for (int64_t r = 0; r < rows; r++) {
        const bool nonfinite = r < 4;
        if (ids[r] < 0 || ids[r] >= cols) { bad++; std::printf("     row %lld: id %d outside [0, %lld)\n", (long long) r, ids[r], (long long) cols); }
        if (flags[r] != (nonfinite ? 1 : 0)) { bad++; std::printf("     row %lld: flag %d\n", (long long) r, flags[r]); }
        if (nonfinite && (ids[r] != want_id[r] || !std::isnan(lp[r]))) {
            bad++;
            std::printf("     row %lld: id %d (want %lld), logprob %g (want NaN)\n", (long long) r, ids[r], (long long) want_id[r], lp[r]);
        }
        if (!nonfinite && !std::isfinite(lp[r])) { bad++; std::printf("     row %lld: logprob %g\n", (long long) r, lp[r]); }
    }
    verdict(bad == 0, what, "%d check(s) failed", bad);
}

// Per-row parameters (ABI 13): one launch over rows with mixed row_params (greedy, plain, top-k, top-p,
// min_p, all three, different seeds and offsets, a non-finite row, a row with out-of-range parameters)
// must give every row exactly the id, logprob bits and flag of a scalar launch over that row alone
// (rows 1, the row's values as scalars): the Philox counter's row word is 0 in per-row mode. The
// scalars of the per-row launch hold other values, which it must not read. A grid of 3 blocks for 9
// rows, so the row loop turns.
template <typename T>
void run_sample_rows(int64_t cols) {
    const int64_t rows = 9;
    const std::string what = std::string("t4j_sample_") + name<T>() + " per-row params 9x" + std::to_string(cols);
    if (!wanted(what)) return;
    std::vector<T> x(rows * cols);
    std::vector<double> xe;
    fill(x, xe, 4.0f);
    x[6 * cols + 11] = from<T>(NAN);  // row 6: non-finite
    //                         seed                   offset         t     top_p  top_k min_p
    const t4j_sample_row rp[rows] = {{0x123456789abcdefULL, 0x500000003ULL, 0.0f, 1.0f, 0, 0.0f},    // greedy
                                     {7, 0, 1.0f, 1.0f, 0, 0.0f},                                   // plain
                                     {7, 1, 0.8f, 1.0f, 40, 0.0f},                                  // top-k
                                     {99, 0x100000000ULL, 1.2f, 0.7f, 0, 0.0f},                     // top-p
                                     {0xfeedULL, 5, 0.7f, 1.0f, 0, 0.3f},                           // min_p
                                     {0xfeedULL, 6, 0.9f, 0.9f, 100, 0.05f},                        // all three
                                     {3, 4, 0.8f, 1.0f, 0, 0.0f},                                   // the NaN row
                                     {11, 12, NAN, 1.0f, 0, 0.0f},                                  // out of range: argmax
                                     {0x123456789abcdefULL, 0x500000003ULL, 0.5f, 0.95f, 7, 0.1f}}; // the scalars' seed
    std::vector<int32_t> ids(rows, -7), flags(rows, -7);
    std::vector<float> lp(rows, 0.0f);
    t4j_sample_params p{};
    p.ids = ids.data();
    p.logprobs = lp.data();
    p.nonfinite = flags.data();
    p.logits = x.data();
    p.rows = rows;
    p.cols = cols;
    p.logits_row_stride = cols;
    p.seed = 0xdeadULL;  // not read in per-row mode
    p.offset = 77;
    p.temperature = 1.0f;
    p.top_p = 1.0f;
    p.row_params = rp;
    simt::launch(SimtDim3{3, 1, 1}, threads_upto(cols, 8, 1024), [&] { t4j::vocab::sample_rows<T>(p); }, 0,
                 kname(std::string("t4j_sample_") + name<T>()));
    int bad = 0, sampled_apart = 0;
    for (int64_t r = 0; r < rows; r++) {
        int32_t id1 = -7, flag1 = -7;
        float lp1 = 0.0f;
        t4j_sample_params q{};
        q.ids = &id1;
        q.logprobs = &lp1;
        q.nonfinite = &flag1;
        q.logits = x.data() + r * cols;
        q.rows = 1;
        q.cols = cols;
        q.logits_row_stride = cols;
        q.seed = rp[r].seed;
        q.offset = rp[r].offset;
        q.temperature = std::isfinite(rp[r].temperature) ? rp[r].temperature : 0.0f;  // row 7: its argmax
        q.top_p = rp[r].top_p;
        q.top_k = rp[r].top_k;
        q.min_p = rp[r].min_p;
        simt::launch(SimtDim3{1, 1, 1}, threads_upto(cols, 8, 1024), [&] { t4j::vocab::sample_rows<T>(q); }, 0,
                     kname(std::string("t4j_sample_") + name<T>()));
        const bool same = ids[r] == id1 && flags[r] == flag1 && std::memcmp(&lp[r], &lp1, sizeof(float)) == 0;
        if (!same && bad++ < 5) {
            std::printf("     row %lld: per-row id %d flag %d logprob %.9g, alone id %d flag %d logprob %.9g\n", (long long) r,
                        ids[r], flags[r], lp[r], id1, flag1, lp1);
        }
        // the row's id differs from its argmax: the draw (not only argmax rows) was compared
        if (rp[r].temperature > 0.0f && flag1 == 0) {
            int64_t best = 0;
            for (int64_t c = 1; c < cols; c++) if (xe[r * cols + c] > xe[r * cols + best]) best = c;
            if (id1 != best) sampled_apart++;
        }
    }
    if (flags[6] != 1) bad++;
    verdict(bad == 0 && sampled_apart >= 3, what, "%d row(s) differ from their solo launch, %d sampled row(s) away from the argmax",
            bad, sampled_apart);
}

// Per-row penalties (ABI 13): one launch with repetition_rows, presence_rows and frequency_rows (scalars
// set to other values, not read) must leave every row with the bits of a scalar launch over that row alone
// with its values; rows carry -0.0f as bias where they have none (x + -0 keeps every x, -0 included).
template <typename T>
void run_penalty_rows() {
    const int64_t rows = 4, cols = 300, width = 40;
    const std::string what = std::string("t4j_penalty_") + name<T>() + " per-row params 4x300 width 40";
    if (!wanted(what)) return;
    std::vector<T> x(rows * cols);
    std::vector<double> xe;
    fill(x, xe, 6.0f);
    std::vector<int32_t> ids(rows * width), counts(rows * width);
    std::vector<float> b(rows * width);
    for (int64_t r = 0; r < rows; r++) {
        std::vector<int32_t> perm(cols);
        std::iota(perm.begin(), perm.end(), 0);
        std::shuffle(perm.begin(), perm.end(), g_rng);
        for (int64_t j = 0; j < width; j++) {
            const int64_t e = r * width + j;
            ids[e] = j % 11 == 5 ? -1 : perm[j];
            counts[e] = static_cast<int32_t>(j % 8) - 1;
            b[e] = r == 2 ? -0.0f : uniform(3.0f);  // row 2: no bias of its own
            if (ids[e] >= 0 && j % 9 == 4) x[r * cols + ids[e]] = from<T>(j % 2 ? -0.0f : 0.0f);
        }
    }
    const float rep[rows] = {1.3f, 0.8f, 1.0f, 2.0f}, pres[rows] = {0.4f, -1.5f, 0.0f, 0.25f}, freq[rows] = {0.25f, -0.5f, 0.0f, 1.0f};
    const std::vector<T> before = x;
    t4j_penalty_params p{};
    p.logits = x.data();
    p.ids = ids.data();
    p.counts = counts.data();
    p.bias = b.data();
    p.rows = rows;
    p.cols = cols;
    p.logits_row_stride = cols;
    p.width = width;
    p.repetition = 3.0f;  // not read
    p.presence = 9.0f;
    p.frequency = 9.0f;
    p.repetition_rows = rep;
    p.presence_rows = pres;
    p.frequency_rows = freq;
    simt::launch(SimtDim3{1, 1, 1}, t4j::kPenaltyThreads, [&] { t4j::penalty_elements<T>(p); }, 0,
                 kname(std::string("t4j_penalty_") + name<T>()));
    int bad = 0, changed = 0;
    for (int64_t r = 0; r < rows; r++) {
        std::vector<T> solo(before.begin() + r * cols, before.begin() + (r + 1) * cols);
        t4j_penalty_params q{};
        q.logits = solo.data();
        q.ids = ids.data() + r * width;
        q.counts = counts.data() + r * width;
        q.bias = r == 2 ? nullptr : b.data() + r * width;
        q.rows = 1;
        q.cols = cols;
        q.logits_row_stride = cols;
        q.width = width;
        q.repetition = rep[r];
        q.presence = pres[r];
        q.frequency = freq[r];
        simt::launch(SimtDim3{1, 1, 1}, t4j::kPenaltyThreads, [&] { t4j::penalty_elements<T>(q); }, 0,
                     kname(std::string("t4j_penalty_") + name<T>()));
        for (int64_t c = 0; c < cols; c++) {
            if (std::memcmp(&x[r * cols + c], &solo[c], sizeof(T)) != 0 && bad++ < 5) {
                std::printf("     [%lld, %lld]: per-row %.9g, alone %.9g\n", (long long) r, (long long) c, to(x[r * cols + c]), to(solo[c]));
            }
            if (std::memcmp(&solo[c], &before[r * cols + c], sizeof(T)) != 0) changed++;
        }
    }
    verdict(bad == 0 && changed > 0, what, "%d element(s) differ from their row's solo launch, %d changed", bad, changed);
}

// ---- sampling penalties --------------------------------------------------------------------------

// t4j_penalty on rows x cols logits (row stride cols + 3, the gap's elements guards) with width entries
// per row: distinct ids in random order, -1 padding and ids past V (both skipped), counts -1 (bias only),
// 0 (prompt only) and 1..6; logits of both signs, zeros, -inf and NaN at penalized ids. The reference
// applies t4j.h's rule in float64 to the same inputs; each element may differ by the fp32 steps (at most
// 4 roundings of 2^-24 relative to the magnitudes involved) plus one rounding to the dtype. Every element
// that is not a listed id of its row, and every guard, must keep its bits.
template <typename T>
void run_penalty(int64_t rows, int64_t cols, int64_t width, float repetition, float presence, float frequency, bool bias) {
    char params[96];
    std::snprintf(params, sizeof params, " rep %g pres %g freq %g", repetition, presence, frequency);
    const std::string what = std::string("t4j_penalty_") + name<T>() + " " + std::to_string(rows) + "x" + std::to_string(cols) +
                             " width " + std::to_string(width) + params + (bias ? " bias" : "");
    if (!wanted(what)) return;
    const int64_t stride = cols + 3;
    std::vector<T> x(rows * stride);
    std::vector<double> xe;
    fill(x, xe, 6.0f);
    std::vector<int32_t> ids(rows * width), counts(rows * width);
    std::vector<float> b(rows * width);
    for (int64_t r = 0; r < rows; r++) {
        std::vector<int32_t> perm(cols);
        std::iota(perm.begin(), perm.end(), 0);
        std::shuffle(perm.begin(), perm.end(), g_rng);
        for (int64_t j = 0; j < width; j++) {
            const int64_t e = r * width + j;
            ids[e] = j % 11 == 5 ? -1 : j % 13 == 7 ? static_cast<int32_t>(cols + j) : perm[j];
            counts[e] = static_cast<int32_t>(j % 8) - 1;
            b[e] = uniform(3.0f);
            if (ids[e] >= 0 && ids[e] < cols) {
                const float special[] = {0.0f, -INFINITY, NAN, -0.0f};
                if (j % 17 < 4) x[r * stride + ids[e]] = from<T>(special[j % 17]);
                xe[r * stride + ids[e]] = to(x[r * stride + ids[e]]);
            }
        }
    }
    const std::vector<T> before = x;
    t4j_penalty_params p{};
    p.logits = x.data();
    p.ids = ids.data();
    p.counts = counts.data();
    p.bias = bias ? b.data() : nullptr;
    p.rows = rows;
    p.cols = cols;
    p.logits_row_stride = stride;
    p.width = width;
    p.repetition = repetition;
    p.presence = presence;
    p.frequency = frequency;
    const int64_t blocks = std::min<int64_t>((rows * width + t4j::kPenaltyThreads - 1) / t4j::kPenaltyThreads, 2);  // + the grid-stride loop
    simt::launch(SimtDim3{static_cast<unsigned>(blocks), 1, 1}, t4j::kPenaltyThreads, [&] { t4j::penalty_elements<T>(p); }, 0,
                 kname(std::string("t4j_penalty_") + name<T>()));
    std::vector<double> want = xe;
    std::vector<double> scale(x.size(), 0.0);
    std::vector<bool> listed(x.size(), false);
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < width; j++) {
            const int64_t e = r * width + j;
            if (ids[e] < 0 || ids[e] >= cols) continue;
            const int64_t i = r * stride + ids[e];
            listed[i] = true;
            double v = xe[i];
            if (bias) v += static_cast<double>(b[e]);
            if (counts[e] >= 0) v = v < 0 ? v * repetition : v / repetition;
            if (counts[e] > 0) v = v - static_cast<double>(frequency) * counts[e] - presence;
            want[i] = v;
            scale[i] = std::abs(xe[i]) + (bias ? std::abs(b[e]) : 0.0) + std::abs(frequency) * std::max(counts[e], 0) +
                       std::abs(presence);
        }
    const double u = std::is_same_v<T, float> ? 0.0 : unit_roundoff<T>();
    int bad = 0, touched = 0, nonfinite = 0;
    double worst = 0;
    for (int64_t i = 0; i < static_cast<int64_t>(x.size()); i++) {
        const double g = to(x[i]);
        if (!listed[i]) {
            if (std::memcmp(&x[i], &before[i], sizeof(T)) != 0 && bad++ < 5) std::printf("     element %lld changed\n", (long long) i);
            continue;
        }
        touched++;
        const double r = want[i];
        bool ok;
        if (std::isnan(r) || std::isinf(r)) {
            ok = std::isnan(r) ? std::isnan(g) : g == r;
            nonfinite++;
        } else {
            const double err = std::abs(g - r);
            ok = err <= 4 * 0x1p-24 * scale[i] * (1 + repetition) + u * std::abs(r) + (std::is_same_v<T, __half> ? 0x1p-25 : 0.0);
            worst = std::max(worst, err / std::max(scale[i], 1e-30));
        }
        if (!ok && bad++ < 5) std::printf("     element %lld: got %.9g, reference %.9g\n", (long long) i, g, r);
    }
    verdict(bad == 0 && touched > 0 && nonfinite > 0, what, "%d listed element(s) (%d non-finite), max error %.3g of the magnitudes, %d wrong",
            touched, nonfinite, worst, bad);
}

// ---- final logit soft-capping --------------------------------------------------------------------

// t4j_softcap on n elements that start `offset` elements past a 16-byte boundary (the elements before
// the first vector and after the last go through the scalar path), inputs over ±3·cap so that the cap
// bends them, and ±inf, NaN, ±0 and the dtype's largest finite values first. The launcher's grid, at
// most 2 blocks (the grid-stride loop); guards on both sides must stay untouched. Bound: the fp32
// math (a division, tanhf within 2 ulp, a product: ≤ 8·2⁻²⁴ relative) plus one rounding to the dtype
// (u relative, and half f16's subnormal spacing).
template <typename T>
void run_softcap(int64_t n, int offset, float cap) {
    char cap_s[32];
    std::snprintf(cap_s, sizeof cap_s, "%g", cap);
    const std::string what = std::string("t4j_softcap_") + name<T>() + " n " + std::to_string(n) + " offset " +
                             std::to_string(offset) + " cap " + cap_s;
    if (!wanted(what)) return;
    constexpr int64_t kGuard = 16;
    std::vector<T> buf(static_cast<size_t>(n + offset + 3 * kGuard), from<T>(-7.0f));
    int64_t start = kGuard;  // a 16-byte boundary at least kGuard elements in
    while (reinterpret_cast<uintptr_t>(buf.data() + start) % 16 != 0) start++;
    T* x = buf.data() + start + offset;
    std::vector<double> in(n);
    const float big = std::is_same_v<T, float> ? 3.0e38f : std::is_same_v<T, __half> ? 65504.0f : 3.0e38f;
    const float special[] = {INFINITY, -INFINITY, NAN, 0.0f, -0.0f, big, -big};
    for (int64_t i = 0; i < n; i++) {
        x[i] = from<T>(i < 7 ? special[i] : uniform(3.0f * cap));
        in[i] = to(x[i]);
    }
    const std::vector<T> before = buf;
    t4j_softcap_params p{};
    p.x = x;
    p.n = n;
    p.cap = cap;
    const int64_t vectors = n / (16 / static_cast<int64_t>(sizeof(T))) + 1;  // vocab_launch.cpp's grid
    const int64_t blocks = std::min<int64_t>((vectors + t4j::kSoftcapThreads - 1) / t4j::kSoftcapThreads, 2);
    simt::launch(SimtDim3{static_cast<unsigned>(blocks), 1, 1}, t4j::kSoftcapThreads, [&] { t4j::softcap_elements<T>(p); }, 0,
                 kname(std::string("t4j_softcap_") + name<T>()));
    const double bound_rel = (std::is_same_v<T, float> ? 0.0 : unit_roundoff<T>()) + 8 * 0x1p-24;
    const double bound_abs = std::is_same_v<T, __half> ? 0x1p-25 : 0.0;
    double worst = 0;
    int bad = 0;
    for (int64_t i = 0; i < n; i++) {
        const double r = cap * std::tanh(in[i] / cap);
        const double g = to(x[i]);
        const bool ok = std::isnan(r) ? std::isnan(g) : std::abs(g - r) <= bound_rel * std::abs(r) + bound_abs;
        if (!std::isnan(r)) worst = std::max(worst, std::isnan(g) ? INFINITY : std::abs(g - r) / std::max(std::abs(r), 1e-30));
        if (!ok && bad++ < 5) std::printf("     x[%lld] = %g: got %g, reference %g\n", static_cast<long long>(i), in[i], g, r);
    }
    int guards = 0;
    for (int64_t i = 0; i < static_cast<int64_t>(buf.size()); i++) {
        const bool inside = i >= start + offset && i < start + offset + n;
        if (!inside && to(buf[i]) != to(before[i])) guards++;
    }
    verdict(bad == 0 && guards == 0, what, "max relative error %.3g (bound %.3g), %d element(s) out of bound, %d guard(s) written",
            worst, bound_rel, bad, guards);
}

// ---- structured outputs' token mask ----------------------------------------------------------------

// t4j_mask on rows × cols logits in rows of `stride` elements, bitsets in rows of `wstride` words: random
// words with some all clear and some all set, set bits past cols, NaN and ±inf among the logits. Kept
// logits must be bit-identical (NaN included), cleared ones -inf, and the padding between rows (logits
// and bitsets) untouched. The launcher's grid, capped at 3 blocks so that the grid-stride loop turns.
template <typename T>
void run_mask(int64_t rows, int64_t cols, int64_t stride, int64_t wstride) {
    const std::string what = std::string("t4j_mask_") + name<T>() + " rows " + std::to_string(rows) + " cols " +
                             std::to_string(cols) + " stride " + std::to_string(stride);
    if (!wanted(what)) return;
    const int64_t words = (cols + 31) / 32;
    std::vector<T> x(static_cast<size_t>(rows * stride));
    for (int64_t i = 0; i < rows * stride; i++) x[i] = from<T>(uniform(8.0f));
    x[0] = from<T>(NAN);
    x[1] = from<T>(INFINITY);
    x[2] = from<T>(-INFINITY);
    std::vector<int32_t> bits(static_cast<size_t>(rows * wstride), 0x5A5A5A5A);   // padding words: a pattern to keep
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t w = 0; w < words; w++) {
            const int kind = static_cast<int>(g_rng() % 4);
            bits[r * wstride + w] = kind == 0 ? 0 : kind == 1 ? -1 : static_cast<int32_t>(g_rng());
        }
    }
    bits[0] = (static_cast<int32_t>(g_rng()) & ~0x10) | 0x7;   // the NaN and the infinities kept, logit 4 cleared
    const std::vector<T> before = x;
    const std::vector<int32_t> bits_before = bits;
    t4j_mask_params p{};
    p.logits = x.data();
    p.allowed = bits.data();
    p.rows = rows;
    p.cols = cols;
    p.logits_row_stride = stride;
    p.allowed_row_stride = wstride;
    const int64_t blocks = std::min<int64_t>((rows * cols + t4j::kMaskThreads - 1) / t4j::kMaskThreads, 3);
    simt::launch(SimtDim3{static_cast<unsigned>(blocks), 1, 1}, t4j::kMaskThreads, [&] { t4j::mask_logits<T>(p); }, 0,
                 kname(std::string("t4j_mask_") + name<T>()));
    int bad = 0, cleared = 0, kept = 0, pads = 0;
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t v = 0; v < stride; v++) {
            const int64_t i = r * stride + v;
            const bool inside = v < cols;
            const bool keep = !inside || ((static_cast<uint32_t>(bits_before[r * wstride + v / 32]) >> (v % 32)) & 1u);
            const bool same = std::memcmp(&x[i], &before[i], sizeof(T)) == 0;
            const bool ok = keep ? same : std::isinf(to(x[i])) && to(x[i]) < 0;
            if (!inside) pads += same ? 0 : 1;
            else if (keep) kept++;
            else cleared++;
            if (!ok && bad++ < 5) std::printf("     [%lld, %lld]: got %g, before %g, kept %d\n", static_cast<long long>(r),
                                              static_cast<long long>(v), to(x[i]), to(before[i]), keep ? 1 : 0);
        }
    }
    if (bits != bits_before) pads++;
    verdict(bad == 0 && pads == 0 && cleared > 0 && kept > 0, what, "%d kept, %d cleared, %d wrong, %d padding element(s) written",
            kept, cleared, bad, pads);
}

template <typename T>
void vocab_suite() {
    run_softmax<T>(3, 300, T4J_SOFTMAX, 1.0f, false);
    run_softmax<T>(2, 33, T4J_LOG_SOFTMAX, 0.5f, true);
    run_cross_entropy<T>(6, 257);
    run_sample<T>(3, 200, 0.0f, 0, 1.0f, true);
    run_sample<T>(4, 1000, 0.8f, 40, 0.9f, false);
    run_sample_nonfinite<T>(0.0f, 0);
    run_sample_nonfinite<T>(0.8f, 40);
    run_sample<T>(16, 1000, 0.7f, 0, 1.0f, false, 0.3f);     // min_p alone (ABI 12): a third of the mass cut
    run_sample<T>(3, 1000, 0.7f, 100, 0.95f, false, 0.6f);   // min_p after top-k and top-p
    run_penalty<T>(5, 1000, 300, 1.3f, 0.4f, 0.25f, true);    // two blocks and the grid-stride loop
    run_penalty<T>(2, 64, 40, 0.8f, -1.5f, -0.5f, false);     // repetition below 1, negative penalties, no bias
    run_sample_rows<T>(1001);                                 // per-row parameters (ABI 13), V odd
    run_penalty_rows<T>();                                    // per-row penalties (ABI 13)
    run_softcap<T>(1000, 0, 30.0f);   // Gemma 2's final_logit_softcapping
    run_softcap<T>(4099, 3, 7.3f);    // a head before the first vector, a tail, the grid-stride loop
    run_softcap<T>(13, 1, 30.0f);     // short: in 16 bits a head and a tail, no whole vector
    run_mask<T>(3, 1037, 1040, 34);   // V not a multiple of 32, padded rows of logits and of bitsets
    run_mask<T>(1, 31, 31, 1);        // shorter than one word
    if (!g_all) return;
    run_softmax<T>(2, 9000, T4J_LOG_SOFTMAX, 1.0f, false);
    run_softmax<T>(1, 1, T4J_SOFTMAX, 1.0f, false);
    run_cross_entropy<T>(5, 9000);
    run_sample<T>(3, 300, 1.0f, 0, 1.0f, false);
    run_sample<T>(2, 5000, 1.2f, 0, 0.5f, false);
    run_sample<T>(2, 777, 0.7f, 5, 1.0f, true);
}

}  // namespace

int main(int argc, char** argv) {
    parse_args(argc, argv);
    norm_suite<float>();
    norm_suite<__half>();
    norm_suite<__nv_bfloat16>();
    embedding_suite<float>();
    embedding_suite<__half>();
    embedding_suite<__nv_bfloat16>();
    vocab_suite<float>();
    vocab_suite<__half>();
    vocab_suite<__nv_bfloat16>();
    return summary();
}
