// emulate_rope.cpp — runs the rope kernel's device code (native/src/rope) on the host through simt.h
// and compares it with a float64 reference of transformers' rotate_half RoPE: table frequencies with
// partial rotary dims, dynamic NTK frequencies from each sequence's length, LongRoPE's short or long
// table by each sequence's length, cos/sin times an attention scaling (yarn, LongRoPE), F32/F16/BF16
// (cos/sin rounded to the dtype as transformers casts them), strided heads, untouched dims past
// rotary_dim.
// Exit status 1 on any mismatch or checker finding. A check without a GPU, not a substitute for one.
#include "emu_common.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "../../src/rope/rope.cuh"

namespace {

using namespace emu;

// B sequences of T tokens, H heads of HS with a head stride of HS + 8 (strided heads); R rotary dims.
// mode: 0 table, 1 dynamic NTK, 2 LongRoPE (short table while a sequence's length ≤ 32, long past it).
template <typename T>
void run(int B, int T_, int H, int HS, int R, int mode, float scaling, const std::string& label) {
    const std::string what = std::string("rope ") + name<T>() + " " + label;
    if (!wanted(what)) return;
    const int hstride = HS + 8;
    std::uniform_real_distribution<float> dist(-1.5f, 1.5f);
    std::vector<T> x(static_cast<size_t>(B) * T_ * H * hstride);
    std::vector<double> xf(x.size());
    for (size_t i = 0; i < x.size(); i++) { x[i] = from<T>(dist(g_rng)); xf[i] = to(x[i]); }
    std::vector<int32_t> pos(B * T_), lens(B);
    for (int b = 0; b < B; b++) {
        const int start = b == 0 ? 0 : 50 * b + 3;
        for (int t = 0; t < T_; t++) pos[b * T_ + t] = start + t;
        lens[b] = start + T_;
    }
    const float base = 10000.0f, factor = 4.0f;
    const int mpe = 32;
    const bool dynamic = mode == 1;
    std::vector<float> inv(R);                              // LongRoPE: short factors, then long ones
    for (int i = 0; i < R / 2; i++) {
        inv[i] = static_cast<float>(std::pow(500000.0, -2.0 * i / R) / (1.0 + 0.25 * i));
        inv[R / 2 + i] = static_cast<float>(std::pow(500000.0, -2.0 * i / R) / (3.0 + 2.5 * i));
    }
    t4j_rope_params p{};
    p.x = x.data();
    p.positions = pos.data();
    p.inv_freq = dynamic ? nullptr : inv.data();
    p.seq_lens = mode != 0 ? lens.data() : nullptr;
    p.x_head_stride = hstride;
    p.x_row_stride = static_cast<int64_t>(H) * hstride;
    p.x_batch_stride = static_cast<int64_t>(T_) * H * hstride;
    p.B = B;
    p.T = T_;
    p.H = H;
    p.HS = HS;
    p.rotary_dim = R;
    p.dynamic = mode;
    p.attention_scaling = scaling;
    p.base = base;
    p.factor = factor;
    p.max_positions = mpe;
    simt::launch(SimtDim3{static_cast<unsigned>(std::min(B * T_, 7)), 1, 1}, t4j::kRopeThreads, [&] { t4j::rope_tokens<T>(p); }, 0,
                 std::is_same_v<T, float> ? "t4j_rope_f32" : std::is_same_v<T, __half> ? "t4j_rope_f16" : "t4j_rope_bf16");

    double worst = 0, max_ref = 0;
    bool untouched = true;
    for (int b = 0; b < B; b++) {
        std::vector<double> f(R / 2);
        for (int i = 0; i < R / 2; i++) {
            if (dynamic) {
                const double L = std::max(lens[b], mpe);
                const double bp = base * std::pow(factor * L / mpe - (factor - 1), static_cast<double>(R) / (R - 2));
                f[i] = 1.0 / std::pow(bp, 2.0 * i / R);
            } else {
                f[i] = inv[(mode == 2 && lens[b] > mpe ? R / 2 : 0) + i];
            }
        }
        for (int t = 0; t < T_; t++)
            for (int h = 0; h < H; h++) {
                const size_t o = ((static_cast<size_t>(b) * T_ + t) * H + h) * hstride;
                for (int i = 0; i < R / 2; i++) {
                    const double a = pos[b * T_ + t] * f[i], c = std::cos(a) * scaling, s = std::sin(a) * scaling;
                    const double r0 = xf[o + i] * c - xf[o + i + R / 2] * s, r1 = xf[o + i + R / 2] * c + xf[o + i] * s;
                    worst = std::max({worst, std::abs(to(x[o + i]) - r0), std::abs(to(x[o + i + R / 2]) - r1)});
                    max_ref = std::max({max_ref, std::abs(r0), std::abs(r1)});
                }
                for (int d = R; d < hstride; d++) untouched &= to(x[o + d]) == xf[o + d];
            }
    }
    // cos/sin rounded to the dtype (≤ u each), the result rounded once (≤ u·max), fp32 angle error
    // (position ≤ 200 times an ulp of the frequency) and fp32 pow in the dynamic frequencies.
    const double u = unit_roundoff<T>();
    const double bound = 4 * u * max_ref + 2e-5 * max_ref;
    verdict(worst <= bound && untouched, what, "max error %.3g (bound %.3g)%s", worst, bound,
            untouched ? "" : ", dims past rotary_dim changed");
}

}  // namespace

int main(int argc, char** argv) {
    parse_args(argc, argv);
    run<float>(3, 5, 3, 64, 64, 0, 1.0f, "table, full rotary");
    run<float>(2, 4, 2, 96, 48, 0, 1.0f, "table, partial rotary 48 of 96");
    run<float>(3, 6, 2, 64, 64, 1, 1.0f, "dynamic NTK, below and past max positions");
    run<__half>(2, 5, 4, 128, 128, 0, 1.0f, "table");
    run<__nv_bfloat16>(2, 5, 4, 128, 64, 0, 1.0f, "table, partial");
    run<__nv_bfloat16>(3, 3, 2, 64, 64, 1, 1.0f, "dynamic NTK");
    // yarn: a table with its attention factor 0.1·ln(4) + 1; LongRoPE: sequence 0 (length 5) short,
    // 1 and 2 (58, 108) long, attention factor sqrt(1 + ln 4 / ln 32)
    run<float>(2, 5, 2, 64, 64, 0, 1.1386294f, "yarn: table, attention scaling");
    run<__nv_bfloat16>(2, 4, 3, 128, 96, 0, 1.1386294f, "yarn: table, partial, attention scaling");
    run<float>(3, 5, 2, 64, 48, 2, 1.1832160f, "LongRoPE: short and long tables by length, partial");
    run<__half>(3, 4, 2, 96, 96, 2, 1.1832160f, "LongRoPE");
    return summary();
}
