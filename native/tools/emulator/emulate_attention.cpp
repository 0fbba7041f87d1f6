// emulate_attention.cpp — runs the attention kernels' device code (native/src/attention) on the host
// through simt.h and compares each result with a float64 reference: tensor-core prefill (F16/BF16 ×
// every head size 8..256 step 8 through the instances 32/64/80/96/128/256; 64- and 128-row query tiles),
// fp32 row-wise prefill, paged append + split-KV decode + combine. Masks, key
// padding, packed varlen, GQA, T5 bias both ways (and its buckets over every distance), Tq > Tk, lse,
// NaN-poisoned outputs. Exit status 1 on any mismatch. A check without a GPU, not a substitute for one (see bench/GPU-STATUS.md).
#include "emu_common.h"

#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <utility>

#include "../../src/attention/attention_mma.cuh"
#include "../../src/attention/attention_paged.h"
#include "../../src/attention/attention_rowwise.cuh"
#include "../../src/attention/decode.cuh"
#include "../../src/attention/kv_cache.cuh"

namespace {

int g_failures = 0;
// emu_common.h's inputs and dtype helpers (its generator is seeded 12345, as this file's own was).
using emu::from;
using emu::g_rng;
using emu::name;
using emu::to;
using emu::uniform;
using emu::unit_roundoff;

int t5_bucket_ref(int rel, int nb, int md, bool bidir) {  // Hugging Face's formula, float32 logs
    int bucket = 0;
    if (bidir) {
        nb /= 2;
        if (rel > 0) bucket += nb;
        rel = std::abs(rel);
    } else {
        rel = rel < 0 ? -rel : 0;
    }
    const int me = nb / 2;
    if (rel < me) return bucket + rel;
    const float x = static_cast<float>(std::log(static_cast<double>(static_cast<float>(rel) / static_cast<float>(me))));
    const float d = static_cast<float>(std::log(static_cast<double>(md) / me));
    return bucket + std::min(me + static_cast<int>(x / d * static_cast<float>(nb - me)), nb - 1);
}

constexpr int kBuckets = 16, kMaxDistance = 20;  // T5 bias of the problems unless they say otherwise

struct Problem {
    int B, NH, NKV, HS;
    std::vector<int> lq, lk;   // per sequence; lk before key padding
    bool packed;
    int mask;
    std::vector<int> prefix, key_lengths;
    bool bias, bidir;
    float scale;
    std::string what;
    int window = 0;            // sliding window (causal or none: |key position - query position| < window), 0: none
    int rows = 0;              // tensor cores: query rows per block (64, 128), 0: the launcher's mma_threads(Tq)
    int buckets = kBuckets, max_distance = kMaxDistance;  // T5 bias
    float softcap = 0.0f;      // Gemma 2's logit soft-capping, 0: none
    // DeBERTa's disentangled bias (dis_span > 0): c2p (NH, rows_q, 2·span) and/or p2c (NH, rows_k, 2·span) tables,
    // log buckets of dis_buckets over dis_max (≤ 0: the distance itself, clamped)
    int dis_span = 0, dis_buckets = 0, dis_max = 0;
    bool c2p = false, p2c = false;
    bool sinks = false;        // GPT-OSS's attention sinks: g_sinks[h] joins each row's softmax denominator (ABI 11)
    bool alibi = false;        // ALiBi: −g_alibi[h] · |j − pos| added to each score (ABI 14)
};

// transformers' make_log_bucket_position (deberta_v2), then the gather's column clamp(bucket + span, 0, 2·span − 1);
// its logarithms in double here (the fixtures keep every distance away from a ceiling step).
int deberta_column_ref(int rel, int span, int buckets, int max_position) {
    long long bucket = rel;
    const int mid = buckets / 2;
    if (buckets > 0 && max_position > 0 && std::abs(rel) > mid) {
        const double v = std::log(std::abs(rel) / static_cast<double>(mid)) / std::log((max_position - 1) / static_cast<double>(mid)) * (mid - 1);
        const long long lp = static_cast<long long>(std::ceil(v)) + mid;
        bucket = rel < 0 ? -lp : lp;
    }
    return static_cast<int>(std::min<long long>(std::max<long long>(bucket + span, 0), 2LL * span - 1));
}

// A problem's attention sinks (one fp32 logit per head, sinks_for), read by the reference when Problem::sinks.
std::vector<float> g_sinks;

// Sinks for NH heads: U(−1, 6), so that a sink weighs from little to more than all of a row's keys together (scores are
// a few units, rows tens of keys), and every fourth head 12, far above every score (its rows' weights nearly vanish: the
// kernels' end must not overflow or lose them).
std::vector<float> sinks_for(int nh) {
    std::vector<float> s(nh);
    for (int h = 0; h < nh; h++) s[h] = h % 4 == 3 ? 12.0f : 2.5f + uniform(3.5f);
    return s;
}

// A problem's ALiBi slopes (alibi_for), read by the reference when Problem::alibi.
std::vector<float> g_alibi;

// ALiBi slopes for NH heads: BLOOM's geometric 2^(−8(h + 1)/n) over the next power of two n ≥ NH (0.5 … 2^−8 for 8 heads),
// and every third head 1.25, steeper than any published slope, so that distant keys fall far below near ones.
std::vector<float> alibi_for(int nh) {
    int n = 1;
    while (n < nh) n *= 2;
    std::vector<float> s(nh);
    for (int h = 0; h < nh; h++) s[h] = h % 3 == 2 ? 1.25f : static_cast<float>(std::pow(2.0, -8.0 * (h + 1) / n));
    return s;
}

// The c2p / p2c tables of a problem (float copies of the dtype's values), empty when it has none.
std::vector<float> g_c2p, g_p2c;
int g_rows_q = 0, g_rows_k = 0;

// The largest |scale · q·k| a reference met before its soft-cap (a softcap problem prints it: the cap must bend
// the scores, or the problem could not fail).
double g_max_score = 0;

// Reference: out (rows_q, NH, HS) and lse (layout as the kernel's) in double.
void reference(const Problem& pr, const std::vector<float>& q, const std::vector<float>& k, const std::vector<float>& v,
               const std::vector<float>& table, int nb, int md, std::vector<double>& out, std::vector<double>& lse,
               int Tq, int total_q) {
    int q0 = 0, k0 = 0;
    for (int b = 0; b < pr.B; b++) {
        const int lq = pr.lq[b];
        const int keys = pr.key_lengths.empty() ? pr.lk[b] : std::min(pr.lk[b], pr.key_lengths[b]);
        for (int h = 0; h < pr.NH; h++) {
            const int kvh = h / (pr.NH / pr.NKV);
            for (int i = 0; i < lq; i++) {
                const int pos = i + keys - lq;
                std::vector<double> s(keys, -INFINITY);
                double m = -INFINITY;
                for (int j = 0; j < keys; j++) {
                    bool vis = pr.mask == T4J_ATTN_MASK_NONE || j <= pos ||
                               (pr.mask == T4J_ATTN_MASK_PREFIX_LM && j < pr.prefix[b]);
                    // sliding window: |j - pos| < W (causal: transformers' pos - W < j; none: ModernBERT's local attention)
                    if (pr.window > 0 && std::abs(j - pos) >= pr.window) vis = false;
                    if (!vis) continue;
                    double dot = 0;
                    for (int d = 0; d < pr.HS; d++)
                        dot += static_cast<double>(q[((q0 + i) * pr.NH + h) * pr.HS + d]) * k[((k0 + j) * pr.NKV + kvh) * pr.HS + d];
                    double z = pr.scale * dot;
                    g_max_score = std::max(g_max_score, std::abs(z));
                    if (pr.softcap > 0) z = pr.softcap * std::tanh(z / pr.softcap);  // before the bias (t4j.h)
                    s[j] = z + (pr.bias ? table[t5_bucket_ref(j - pos, nb, md, pr.bidir) * pr.NH + h] : 0.0);
                    if (pr.alibi) s[j] -= static_cast<double>(g_alibi[h]) * std::abs(j - pos);  // FlashAttention's alibi_slopes
                    if (pr.dis_span > 0) {                       // DisentangledSelfAttention's gathers
                        const int r = deberta_column_ref(pos - j, pr.dis_span, pr.dis_buckets, pr.dis_max);
                        const size_t w = 2 * static_cast<size_t>(pr.dis_span);
                        if (pr.c2p) s[j] += g_c2p[(static_cast<size_t>(h) * g_rows_q + q0 + i) * w + r];
                        if (pr.p2c) s[j] += g_p2c[(static_cast<size_t>(h) * g_rows_k + k0 + j) * w + r];
                    }
                    m = std::max(m, s[j]);
                }
                // Attention sinks: exp(sink) joins the denominator with no value (transformers' gpt_oss: the sink column
                // appended to the scores, the softmax taken, the column dropped); a row with no key: zeros, lse = sink.
                const double sink = pr.sinks ? static_cast<double>(g_sinks[h]) : -INFINITY;
                const double mm = std::max(m, sink);  // the row's shift, sink included
                double sum = pr.sinks && mm > -INFINITY ? std::exp(sink - mm) : 0.0;
                for (int j = 0; j < keys; j++) if (s[j] > -INFINITY) sum += std::exp(s[j] - mm);
                for (int d = 0; d < pr.HS; d++) {
                    double acc = 0;
                    for (int j = 0; j < keys; j++)
                        if (s[j] > -INFINITY) acc += std::exp(s[j] - mm) / sum * v[((k0 + j) * pr.NKV + kvh) * pr.HS + d];
                    out[((q0 + i) * pr.NH + h) * pr.HS + d] = m == -INFINITY ? 0.0 : acc;
                }
                const size_t at = pr.packed ? static_cast<size_t>(h) * total_q + q0 + i
                                            : (static_cast<size_t>(b) * pr.NH + h) * Tq + i;
                lse[at] = mm == -INFINITY ? -INFINITY : mm + std::log(sum);
            }
        }
        q0 += pr.packed ? lq : Tq;
        k0 += pr.packed ? pr.lk[b] : pr.lk[0];
    }
}

template <typename T>
void compare(const std::string& what, const std::vector<T>& got, const std::vector<float>& got_lse,
             const std::vector<double>& ref, const std::vector<double>& ref_lse, double max_v, bool p_rounded) {
    double max_ref = 0;
    for (double x : ref) max_ref = std::max(max_ref, std::abs(x));
    const double u = unit_roundoff<T>();
    // fp32: accumulated rounding of fp32 sums; 16-bit: P rounded to the dtype (≤ u·max|v|) and the
    // output rounded once (≤ u·max|ref|).
    const double bound = (std::is_same_v<T, float> ? 1e-5 * (max_v + max_ref) : u * ((p_rounded ? max_v : 0) + max_ref))
                         + 1e-5 * max_ref;
    double worst = 0;
    for (size_t i = 0; i < ref.size(); i++) {
        const double g = to(got[i]);
        if (std::isnan(g)) {
            std::printf("FAIL %s: out[%zu] not written\n", what.c_str(), i);
            g_failures++;
            return;
        }
        worst = std::max(worst, std::abs(g - ref[i]));
    }
    int lse_bad = 0;
    for (size_t i = 0; i < ref_lse.size(); i++) {
        const double r = ref_lse[i];
        const double g = got_lse[i];
        if (std::isnan(g) || (r == -INFINITY) != (g == -INFINITY) ||
            (r != -INFINITY && std::abs(g - r) > 1e-4 * std::max(1.0, std::abs(r))))
            lse_bad++;
    }
    const bool ok = worst <= bound && lse_bad == 0;
    if (!ok) g_failures++;
    std::printf("%s %s: max error %.3g (bound %.3g), lse mismatches %d\n", ok ? "ok  " : "FAIL", what.c_str(), worst,
                bound, lse_bad);
}

// The tensor-core instance a head size runs on: attention_launch.cpp's kMmaInstances (the smallest ≥ hs).
constexpr int mma_instance_of(int hs) {
    return hs <= 32 ? 32 : hs <= 64 ? 64 : hs <= 80 ? 80 : hs <= 96 ? 96 : hs <= 128 ? 128 : 256;
}

template <typename T, int HS, int INST = mma_instance_of(HS)>
void run_prefill(Problem pr, bool tensor_cores) {
    if (!emu::wanted(std::string(tensor_cores ? "mma " : "rows ") + name<T>() + " HS " + std::to_string(HS) + " " + pr.what)) return;
    const int B = pr.B;
    std::vector<int> cu_q(B + 1, 0), cu_k(B + 1, 0);
    for (int b = 0; b < B; b++) {
        cu_q[b + 1] = cu_q[b] + pr.lq[b];
        cu_k[b + 1] = cu_k[b] + pr.lk[b];
    }
    const int Tq = *std::max_element(pr.lq.begin(), pr.lq.end());
    const int Tk = *std::max_element(pr.lk.begin(), pr.lk.end());
    const int rows_q = pr.packed ? cu_q[B] : B * Tq;
    const int rows_k = pr.packed ? cu_k[B] : B * Tk;
    std::vector<T> q(static_cast<size_t>(rows_q) * pr.NH * HS), k(static_cast<size_t>(rows_k) * pr.NKV * HS), v(k.size());
    std::vector<float> qf(q.size()), kf(k.size()), vf(v.size()), table(pr.buckets * pr.NH);
    for (size_t i = 0; i < q.size(); i++) { q[i] = from<T>(uniform(1.5f)); qf[i] = to(q[i]); }
    for (size_t i = 0; i < k.size(); i++) { k[i] = from<T>(uniform(1.5f)); kf[i] = to(k[i]); }
    for (size_t i = 0; i < v.size(); i++) { v[i] = from<T>(uniform(1.5f)); vf[i] = to(v[i]); }
    for (float& x : table) x = uniform(2.0f);
    const size_t w = 2 * static_cast<size_t>(std::max(pr.dis_span, 0));
    std::vector<T> c2p(pr.c2p ? pr.NH * rows_q * w : 0), p2c(pr.p2c ? pr.NH * rows_k * w : 0);
    g_c2p.assign(c2p.size(), 0.0f);
    g_p2c.assign(p2c.size(), 0.0f);
    for (size_t i = 0; i < c2p.size(); i++) { c2p[i] = from<T>(uniform(2.0f)); g_c2p[i] = to(c2p[i]); }
    for (size_t i = 0; i < p2c.size(); i++) { p2c[i] = from<T>(uniform(2.0f)); g_p2c[i] = to(p2c[i]); }
    g_rows_q = rows_q;
    g_rows_k = rows_k;
    const bool dis = pr.dis_span > 0;
    g_sinks = pr.sinks ? sinks_for(pr.NH) : std::vector<float>{};
    g_alibi = pr.alibi ? alibi_for(pr.NH) : std::vector<float>{};
    std::vector<T> out(q.size(), from<T>(NAN));
    const size_t lse_n = static_cast<size_t>(pr.NH) * rows_q;
    std::vector<float> lse(lse_n, NAN);

    t4j_attention_params p{};
    p.out = out.data();
    p.lse = lse.data();
    p.q = q.data();
    p.k = k.data();
    p.v = v.data();
    p.cu_seqlens_q = pr.packed ? cu_q.data() : nullptr;
    p.cu_seqlens_k = pr.packed ? cu_k.data() : nullptr;
    p.key_lengths = pr.key_lengths.empty() ? nullptr : pr.key_lengths.data();
    p.prefix_lengths = pr.mask == T4J_ATTN_MASK_PREFIX_LM ? pr.prefix.data() : nullptr;
    p.rel_bias = pr.bias ? table.data() : nullptr;
    p.q_row_stride = p.out_row_stride = static_cast<int64_t>(pr.NH) * HS;
    p.q_head_stride = p.out_head_stride = p.k_head_stride = p.v_head_stride = HS;
    p.k_row_stride = p.v_row_stride = static_cast<int64_t>(pr.NKV) * HS;
    p.q_batch_stride = p.out_batch_stride = pr.packed ? 0 : static_cast<int64_t>(Tq) * pr.NH * HS;
    p.k_batch_stride = p.v_batch_stride = pr.packed ? 0 : static_cast<int64_t>(Tk) * pr.NKV * HS;
    p.B = B;
    p.NH = pr.NH;
    p.NKV = pr.NKV;
    p.Tq = Tq;
    p.Tk = Tk;
    p.HS = HS;
    p.mask = pr.mask;
    p.scale = pr.scale;
    p.num_buckets = pr.buckets;
    p.max_distance = pr.max_distance;
    p.bias_bidirectional = pr.bidir ? 1 : 0;
    p.window = pr.window;
    p.softcap = pr.softcap;
    if (dis) {
        p.c2p = pr.c2p ? c2p.data() : nullptr;
        p.p2c = pr.p2c ? p2c.data() : nullptr;
        p.c2p_rows = rows_q;
        p.p2c_rows = rows_k;
        p.dis_span = pr.dis_span;
        p.dis_buckets = pr.dis_buckets;
        p.dis_max_position = pr.dis_max;
    }
    p.sinks = pr.sinks ? g_sinks.data() : nullptr;
    p.alibi_slopes = pr.alibi ? g_alibi.data() : nullptr;

    static std::vector<std::string> names;  // reports and the coverage list keep the pointer
    names.push_back(tensor_cores ? std::string(dis ? "t4j_attn_mma_dis_" : "t4j_attn_mma_") + name<T>() + "_hs" + std::to_string(INST)
                                 : dis ? "t4j_attn_rows_dis_f32" : "t4j_attn_rows_f32");
    if (tensor_cores) {
        if constexpr (!std::is_same_v<T, float> && emu::built(emu::key("mma ", name<T>(), HS).view())) {
            const unsigned column_blocks = INST / t4j::mma_columns(INST);
            const int threads = pr.rows > 0 ? pr.rows * 2 : t4j::mma_threads(Tq);  // 16 rows per warp
            const int rows = t4j::mma_rows(threads);
            simt::launch(SimtDim3{static_cast<unsigned>((Tq + rows - 1) / rows) * column_blocks,
                                  static_cast<unsigned>(pr.NH), static_cast<unsigned>(B)},
                         static_cast<unsigned>(threads),
                         [&] { if (dis) t4j::attention_mma<T, INST, true>(p); else t4j::attention_mma<T, INST>(p); },
                         static_cast<size_t>(t4j::mma_shared_bytes(INST, threads)), names.back().c_str());
        } else {
            emu::not_built(names.back());
        }
    } else if constexpr (emu::built(emu::key("rows ", name<T>(), HS).view())) {
        simt::launch(SimtDim3{static_cast<unsigned>((Tq + 3) / 4), static_cast<unsigned>(pr.NH), static_cast<unsigned>(B)},
                     t4j::kRowThreads, [&] { if (dis) t4j::attention_rowwise<T, true>(p); else t4j::attention_rowwise<T>(p); }, 0,
                     names.back().c_str());
    } else {
        emu::not_built(names.back());
    }
    std::vector<double> ref(q.size(), 0.0), ref_lse(lse_n, 0.0);
    g_max_score = 0;
    reference(pr, qf, kf, vf, table, pr.buckets, pr.max_distance, ref, ref_lse, Tq, rows_q);
    if (pr.softcap > 0) std::printf("     softcap %g: reference scores |z| up to %.2f\n", pr.softcap, g_max_score);
    double max_v = 0;
    for (float x : vf) max_v = std::max(max_v, static_cast<double>(std::abs(x)));
    compare<T>(std::string(tensor_cores ? "mma " : "rows ") + name<T>() + " HS " + std::to_string(HS) +
                   (tensor_cores && INST != HS ? " (instance " + std::to_string(INST) + ")" : "") + " " + pr.what, out,
               lse, ref, ref_lse, max_v, tensor_cores);
}

// ---- the paged cache and the decode problems' shared pieces (run_decode, run_varlen_append, run_varlen_decode) -----------

// A block table of max_blocks pages for each of B sequences: a shuffled draw of the ids 0..num_blocks − 1 (pages in no
// order, some never used).
std::vector<int> shuffled_table(int B, int max_blocks, int num_blocks) {
    std::vector<int> ids(num_blocks), table(static_cast<size_t>(B) * max_blocks);
    for (int i = 0; i < num_blocks; i++) ids[i] = i;
    std::shuffle(ids.begin(), ids.end(), g_rng);
    for (size_t i = 0; i < table.size(); i++) table[i] = ids[i];
    return table;
}

// A paged K/V cache: num_blocks pages of block_size rows (NKV, HS), every element `fill`, and its shuffled_table.
template <typename T>
struct PagedCache {
    int NKV, HS, block_size, max_blocks, num_blocks;
    std::vector<int> table;
    std::vector<T> k, v;
    PagedCache(int B, int nkv, int hs, int bs, int mb, int nb, T fill)
        : NKV(nkv), HS(hs), block_size(bs), max_blocks(mb), num_blocks(nb), table(shuffled_table(B, mb, nb)),
          k(static_cast<size_t>(nb) * bs * nkv * hs, fill), v(k.size(), fill) {}
    // The t4j_kv_append_params that append Tnew rows of new_k / new_v (row_stride elements apart, batch_stride a sequence,
    // heads HS apart) to B sequences of this cache at cache_lengths (cu_seqlens the caller's).
    t4j_kv_append_params append(const T* new_k, const T* new_v, const int* cache_lengths, int B, int Tnew, int64_t batch_stride,
                                int64_t row_stride) {
        t4j_kv_append_params a{};
        a.k_cache = k.data();
        a.v_cache = v.data();
        a.k = new_k;
        a.v = new_v;
        a.block_table = table.data();
        a.cache_lengths = cache_lengths;
        a.k_batch_stride = a.v_batch_stride = batch_stride;
        a.k_row_stride = a.v_row_stride = row_stride;
        a.k_head_stride = a.v_head_stride = HS;
        a.B = B;
        a.Tnew = Tnew;
        a.NKV = NKV;
        a.HS = HS;
        a.block_size = block_size;
        a.max_blocks_per_seq = max_blocks;
        a.num_blocks = num_blocks;
        return a;
    }
};

// One decode problem (t4j_decode): sequence b has lq[b] queries at the last key positions of its lengths[b] cached keys
// (run_decode's padded problems: Tq each); Tq is the launch's bound (≤ 16: split-KV decode and combine; > 16: paged prefill).
struct DecodeCase {
    int HS, NH, NKV;
    std::vector<int> lengths, lq;
    int Tq;
    int block_size = 16, splits = 1;
    bool causal = true, bias = false;
    std::string what;
    int window = 0, split_keys = 0;
    float softcap = 0.0f;
    bool sinks = false, alibi = false;
};

// A decode problem's keys: sequence b's lengths[b] keys and values drawn densely (B, lmax, NKV, HS; float copies for the
// reference), for the padded append into a NaN-poisoned cache with a page to spare a sequence and two unused pages.
template <typename T>
struct DecodeKeys {
    int B, lmax;
    size_t row;  // NKV · HS
    PagedCache<T> cache;
    std::vector<T> kd, vd;
    std::vector<float> kf, vf;
    explicit DecodeKeys(const DecodeCase& c)
        : B(static_cast<int>(c.lengths.size())), lmax(*std::max_element(c.lengths.begin(), c.lengths.end())),
          row(static_cast<size_t>(c.NKV) * c.HS),
          cache(B, c.NKV, c.HS, c.block_size, (lmax + c.block_size - 1) / c.block_size + 1,
                B * ((lmax + c.block_size - 1) / c.block_size + 1) + 2, from<T>(NAN)),
          kd(static_cast<size_t>(B) * lmax * row), vd(kd.size()), kf(kd.size()), vf(vd.size()) {
        for (size_t i = 0; i < kd.size(); i++) { kd[i] = from<T>(uniform(1.5f)); kf[i] = to(kd[i]); vd[i] = from<T>(uniform(1.5f)); vf[i] = to(vd[i]); }
    }
    // The padded append of the dense keys (cache lengths 0, Tnew lmax); false where T's decode is not built (nothing launched).
    bool append() {
        if constexpr (emu::built(emu::key("decode ", name<T>()).view())) {  // HS is a run-time value here
            std::vector<int> zero(B, 0);
            const t4j_kv_append_params a = cache.append(kd.data(), vd.data(), zero.data(), B, lmax, static_cast<int64_t>(lmax) * row, row);
            simt::launch(SimtDim3{static_cast<unsigned>((B * lmax * row + 255) / 256), 1, 1}, 256,
                         [&] { t4j::kv_append<std::conditional_t<sizeof(T) == 2, uint16_t, uint32_t>>(a); }, 0,
                         sizeof(T) == 2 ? "t4j_kv_append_b16" : "t4j_kv_append_b32");
            return true;
        }
        return false;
    }
};

// A decode problem's queries (rows × NH × HS; float copies for the reference), T5 bias table, NaN-poisoned out, lse (NH ×
// rows) and split workspace (ws_rows rows), and its sinks and ALiBi slopes in g_sinks / g_alibi.
template <typename T>
struct DecodeIO {
    std::vector<T> q, out;
    std::vector<float> qf, table_bias, lse, ws_o, ws_lse;
    DecodeIO(const DecodeCase& c, int rows, size_t ws_rows)
        : q(static_cast<size_t>(rows) * c.NH * c.HS), out(q.size(), from<T>(NAN)), qf(q.size()), table_bias(kBuckets * c.NH),
          lse(static_cast<size_t>(c.NH) * rows, NAN), ws_o(ws_rows * c.HS, NAN), ws_lse(ws_rows, NAN) {
        for (size_t i = 0; i < q.size(); i++) { q[i] = from<T>(uniform(1.5f)); qf[i] = to(q[i]); }
        for (float& x : table_bias) x = uniform(2.0f);
        g_sinks = c.sinks ? sinks_for(c.NH) : std::vector<float>{};
        g_alibi = c.alibi ? alibi_for(c.NH) : std::vector<float>{};
    }
};

// The t4j_decode_params of a decode problem over its keys and buffers, but for the queries' batch layout (q/out_batch_stride,
// cu_seqlens_q), where padded and varlen launches differ.
template <typename T>
t4j_decode_params decode_params(const DecodeCase& c, DecodeKeys<T>& keys, DecodeIO<T>& io) {
    t4j_decode_params p{};
    p.out = io.out.data();
    p.lse = io.lse.data();
    p.q = io.q.data();
    p.k_cache = keys.cache.k.data();
    p.v_cache = keys.cache.v.data();
    p.block_table = keys.cache.table.data();
    p.cache_lengths = c.lengths.data();
    p.workspace_o = io.ws_o.data();
    p.workspace_lse = io.ws_lse.data();
    p.rel_bias = c.bias ? io.table_bias.data() : nullptr;
    p.q_row_stride = p.out_row_stride = static_cast<int64_t>(c.NH) * c.HS;
    p.q_head_stride = p.out_head_stride = c.HS;
    p.B = keys.B;
    p.NH = c.NH;
    p.NKV = c.NKV;
    p.Tq = c.Tq;
    p.HS = c.HS;
    p.block_size = c.block_size;
    p.max_blocks_per_seq = keys.cache.max_blocks;
    p.num_blocks = keys.cache.num_blocks;
    p.num_splits = c.splits;
    p.causal = c.causal ? 1 : 0;
    // softcap: scores of several units (|z| up to ~8) for a cap of a few units to bend
    p.scale = c.bias ? 1.0f : (c.softcap > 0 ? 3.0f : 1.0f) / std::sqrt(static_cast<float>(c.HS));
    p.num_buckets = kBuckets;
    p.max_distance = kMaxDistance;
    p.bias_bidirectional = 0;
    p.window = c.window;
    p.split_keys = c.split_keys;  // > 0: the splits a length needs run, the rest exit (workspace rows stay NaN)
    p.softcap = c.softcap;
    p.sinks = c.sinks ? g_sinks.data() : nullptr;
    p.alibi_slopes = c.alibi ? g_alibi.data() : nullptr;
    return p;
}

// The split-KV decode (splits × NKV × B blocks, smem bytes of dynamic shared memory) and, after more than one split, the
// combine, as attention_launch.cpp's t4j_decode launches them.
template <typename T>
void launch_split_decode(const t4j_decode_params& d, size_t smem) {
    static const std::string split = std::string("t4j_decode_") + name<T>(), combine = std::string("t4j_decode_combine_") + name<T>();
    simt::launch(SimtDim3{static_cast<unsigned>(d.num_splits), static_cast<unsigned>(d.NKV), static_cast<unsigned>(d.B)},
                 t4j::kRowThreads, [&] { t4j::decode_split<T>(d); }, smem, split.c_str());
    if (d.num_splits > 1)
        simt::launch(SimtDim3{static_cast<unsigned>((d.B * d.NH * d.Tq + 3) / 4), 1, 1}, t4j::kRowThreads,
                     [&] { t4j::decode_combine<T>(d); }, 0, combine.c_str());
}

// The float64 reference of a decode problem: prefill of the dense keys, sequence b's lq[b] queries at its last positions
// (out and lse packed: lse (NH, total)). Returns max |v| (compare's bound).
template <typename T>
double decode_reference(const DecodeCase& c, const DecodeKeys<T>& keys, const DecodeIO<T>& io, float scale, int total,
                        std::vector<double>& ref, std::vector<double>& ref_lse) {
    Problem pr{keys.B, c.NH, c.NKV, c.HS, c.lq, c.lengths, true, c.causal ? T4J_ATTN_MASK_CAUSAL : T4J_ATTN_MASK_NONE, {}, {},
               c.bias, false, scale, c.what, c.window};
    pr.softcap = c.softcap;
    pr.sinks = c.sinks;
    pr.alibi = c.alibi;
    std::vector<float> kp, vp;  // packed keys
    for (int b = 0; b < keys.B; b++) {
        const size_t from_row = static_cast<size_t>(b) * keys.lmax, to_row = from_row + c.lengths[b];
        kp.insert(kp.end(), keys.kf.begin() + from_row * keys.row, keys.kf.begin() + to_row * keys.row);
        vp.insert(vp.end(), keys.vf.begin() + from_row * keys.row, keys.vf.begin() + to_row * keys.row);
    }
    g_max_score = 0;
    reference(pr, io.qf, kp, vp, io.table_bias, kBuckets, kMaxDistance, ref, ref_lse, c.Tq, total);
    double max_v = 0;
    for (float x : keys.vf) max_v = std::max(max_v, static_cast<double>(std::abs(x)));
    return max_v;
}

template <typename T>
void run_decode(int HS, int NH, int NKV, std::vector<int> lengths, int Tq, int block_size, int splits, bool causal, bool bias,
                const std::string& what, int window = 0, int split_keys = 0,
                const std::function<void(const t4j_decode_params&)>& paged = {},  // launches Tq > kMaxDecodeRows
                float softcap = 0.0f, bool sinks = false, bool alibi = false) {
    if (!emu::wanted(std::string("decode ") + name<T>() + " HS " + std::to_string(HS) + " " + what)) return;
    const int B = static_cast<int>(lengths.size());
    const DecodeCase c{.HS = HS, .NH = NH, .NKV = NKV, .lengths = std::move(lengths), .lq = std::vector<int>(B, Tq), .Tq = Tq,
                       .block_size = block_size, .splits = splits, .causal = causal, .bias = bias, .what = what, .window = window,
                       .split_keys = split_keys, .softcap = softcap, .sinks = sinks, .alibi = alibi};
    // Dense keys per sequence (B, lmax, NKV, HS) and the paged cache they are appended into.
    DecodeKeys<T> keys(c);
    if (!keys.append()) emu::not_built(sizeof(T) == 2 ? "t4j_kv_append_b16" : "t4j_kv_append_b32");
    DecodeIO<T> io(c, B * Tq, static_cast<size_t>(splits) * B * NH * Tq);
    t4j_decode_params p = decode_params(c, keys, io);
    p.q_batch_stride = p.out_batch_stride = static_cast<int64_t>(Tq) * NH * HS;
    const t4j::DecodeLayout layout = t4j::decode_layout(HS, static_cast<int>(sizeof(T)), NH / NKV * Tq);
    if (Tq > t4j::kMaxDecodeRows)
        paged(p);  // paged prefill on tensor cores (attention_launch.cpp)
    else if constexpr (emu::built(emu::key("decode ", name<T>()).view()))
        launch_split_decode<T>(p, layout.bytes);

    // Reference: prefill of the dense keys, queries at the last Tq positions.
    std::vector<double> ref(io.q.size()), ref_lse_packed(static_cast<size_t>(NH) * B * Tq), ref_lse(io.lse.size());
    const double max_v = decode_reference(c, keys, io, p.scale, B * Tq, ref, ref_lse_packed);
    if (softcap > 0) std::printf("     softcap %g: reference scores |z| up to %.2f\n", softcap, g_max_score);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++)
            for (int i = 0; i < Tq; i++) ref_lse[(b * NH + h) * Tq + i] = ref_lse_packed[h * B * Tq + b * Tq + i];
    compare<T>(std::string("decode ") + name<T>() + " HS " + std::to_string(HS) + " " + what, io.out, io.lse, ref, ref_lse, max_v,
               Tq > t4j::kMaxDecodeRows);  // paged prefill: P rounded to the dtype for the tensor cores
}

// The four mask problems of a suite, in order; the sampled set runs one of them per suite (`pick`),
// chosen in main() so that each kernel × dtype meets every mask once; --all runs all four and more.
enum Pick { kCausal, kPrefixLm, kCross, kWindow };

template <typename T, int HS>
void prefill_suite(bool tensor_cores, Pick pick) {
    const float sc = 1.0f / std::sqrt(static_cast<float>(HS));
    const bool all = emu::g_all;
    if (all || pick == kCausal)
        run_prefill<T, HS>({2, 4, 2, HS, {70, 70}, {70, 70}, false, T4J_ATTN_MASK_CAUSAL, {}, {}, false, false, sc, "causal 2x70 GQA"}, tensor_cores);
    if (all || pick == kPrefixLm)
        run_prefill<T, HS>({3, 4, 2, HS, {1, 64, 67}, {1, 64, 67}, true, T4J_ATTN_MASK_PREFIX_LM, {1, 10, 67}, {}, true, true, 1.0f,
                            "packed prefix-LM, T5 bidirectional"}, tensor_cores);
    if (all || pick == kCross)
        run_prefill<T, HS>({3, 2, 2, HS, {5, 5, 5}, {130, 130, 130}, false, T4J_ATTN_MASK_NONE, {}, {130, 77, 0}, false, false, sc,
                            "cross, key padding, one empty"}, tensor_cores);
    if (all || pick == kWindow)
        run_prefill<T, HS>({2, 4, 2, HS, {70, 9}, {70, 140}, true, T4J_ATTN_MASK_CAUSAL, {}, {}, false, false, sc,
                            "packed sliding window 7, chunk after prefix, GQA", 7}, tensor_cores);
    if (!all) return;
    run_prefill<T, HS>({2, 4, 2, HS, {70, 9}, {70, 140}, true, T4J_ATTN_MASK_NONE, {}, {70, 100}, false, false, sc,
                        "packed bidirectional window 7, key padding, GQA", 7}, tensor_cores);
    run_prefill<T, HS>({2, 4, 4, HS, {65, 65}, {65, 65}, false, T4J_ATTN_MASK_NONE, {}, {}, false, false, sc, "none 2x65"}, tensor_cores);
    run_prefill<T, HS>({2, 2, 1, HS, {70, 70}, {20, 20}, false, T4J_ATTN_MASK_CAUSAL, {}, {}, false, false, sc, "causal Tq>Tk MQA"}, tensor_cores);
    run_prefill<T, HS>({2, 2, 2, HS, {9, 40}, {150, 40}, true, T4J_ATTN_MASK_CAUSAL, {}, {}, true, false, 1.0f,
                        "packed chunk after prefix, T5 causal"}, tensor_cores);
}

// 128-row query tiles (8 warps; the launcher's choice from t4j::kMmaTallFrom query rows on) over every
// mask kind: several row tiles, the last partial; key tiles that every row sees whole (no mask
// arithmetic) beside straddling ones; tiles before a sliding window skipped; T5 bias with
// max_distance past the kernel's distance table (t4j::kT5TableDistance), so far buckets are computed
// directly. Each problem names "128 rows".
template <typename T, int HS>
void tall_suite() {
    const float sc = 1.0f / std::sqrt(static_cast<float>(HS));
    run_prefill<T, HS>({1, 2, 1, HS, {300}, {300}, false, T4J_ATTN_MASK_CAUSAL, {}, {}, false, false, sc,
                        "128 rows causal 1x300 MQA", 0, 128}, true);
    run_prefill<T, HS>({2, 2, 2, HS, {200, 37}, {200, 37}, true, T4J_ATTN_MASK_PREFIX_LM, {150, 5}, {}, true, true, 1.0f,
                        "128 rows packed prefix-LM, T5 bidirectional", 0, 128}, true);
    run_prefill<T, HS>({2, 2, 1, HS, {140, 140}, {300, 300}, false, T4J_ATTN_MASK_NONE, {}, {290, 64}, false, false, sc,
                        "128 rows cross, key padding", 0, 128}, true);
    run_prefill<T, HS>({1, 2, 2, HS, {290}, {290}, false, T4J_ATTN_MASK_CAUSAL, {}, {}, true, false, 1.0f,
                        "128 rows sliding window 100, T5 causal", 100, 128}, true);
    run_prefill<T, HS>({1, 1, 1, HS, {280}, {280}, false, T4J_ATTN_MASK_NONE, {}, {}, true, true, 1.0f,
                        "128 rows none, T5 bidirectional max_distance 300 (past the table)", 0, 128, 32, 300}, true);
}

// Bidirectional sliding windows (mask NONE, window W: |key position − query position| < W; ModernBERT's local
// attention is W = 65) on every prefill variant: tensor cores in both dtypes with 64- and 128-row query tiles, and
// the fp32 rows kernel. 1x300 with 64-row tiles and W 65: the block of rows 128..191 loads key tiles 1..3 only
// (tile 0 wholly before its window, tile 4 wholly after), tile 2 whole (no mask arithmetic), tiles 1 and 3
// straddling an edge; windows 1 (the diagonal only), 2, 65, larger than T (the unmasked answer), packed sequences,
// key padding (a sequence with fewer keys than queries), GQA, MQA, T5 bias. Every problem names "bidirectional window".
void bidir_window_suite() {
    const auto sc = [](int hs) { return 1.0f / std::sqrt(static_cast<float>(hs)); };
    constexpr int kNone = T4J_ATTN_MASK_NONE;
    run_prefill<__nv_bfloat16, 64>({1, 2, 1, 64, {300}, {300}, false, kNone, {}, {}, false, false, sc(64),
                                    "bidirectional window 65 1x300 MQA, 64 rows: key tiles before and after skipped", 65, 64}, true);
    run_prefill<__half, 128>({2, 4, 2, 128, {290, 37}, {290, 37}, true, kNone, {}, {290, 20}, false, false, sc(128),
                              "bidirectional window 65 packed 290+37, 128 rows, key padding, GQA", 65, 128}, true);
    run_prefill<__half, 32>({2, 4, 2, 32, {70, 70}, {70, 70}, false, kNone, {}, {}, false, false, sc(32),
                             "bidirectional window 1 (the diagonal) 2x70 GQA", 1}, true);
    run_prefill<__nv_bfloat16, 96>({2, 2, 2, 96, {1, 133}, {40, 133}, true, kNone, {}, {}, false, false, sc(96),
                                    "bidirectional window 2 packed, a query after 39 keys", 2}, true);
    run_prefill<__nv_bfloat16, 256>({1, 4, 2, 256, {130}, {130}, false, kNone, {}, {}, false, false, sc(256),
                                     "bidirectional window 500 > T 1x130 GQA", 500}, true);
    run_prefill<__half, 64>({1, 2, 2, 64, {280}, {280}, false, kNone, {}, {}, true, true, 1.0f,
                             "bidirectional window 33 1x280, 128 rows, T5 bidirectional", 33, 128}, true);
    run_prefill<float, 64>({3, 4, 2, 64, {70, 9, 100}, {70, 140, 100}, true, kNone, {}, {70, 140, 60}, false, false, sc(64),
                            "bidirectional window 9 packed, key padding, GQA", 9}, false);
    run_prefill<float, 32>({2, 2, 1, 32, {40, 40}, {40, 40}, false, kNone, {}, {}, false, false, sc(32),
                            "bidirectional window 1000 > T 2x40 MQA", 1000}, false);
    run_prefill<float, 128>({1, 2, 2, 128, {150}, {150}, false, kNone, {}, {}, false, false, sc(128),
                             "bidirectional window 1 (the diagonal) 1x150", 1}, false);
}

// MPNet's encoder attention: T5's bidirectional buckets (32 up to distance 128) added after a 1/√HS scale, where T5
// itself scales by 1 (every other bias problem here has scale 1); no mask, packed sequences as a padded batch runs; rows
// longer than 128 so that the far buckets are met; tensor cores in both dtypes with 64- and 128-row tiles, and the fp32
// rows kernel. Every problem names "MPNet".
void mpnet_suite() {
    const float sc = 1.0f / std::sqrt(64.0f);
    constexpr int kNone = T4J_ATTN_MASK_NONE;
    run_prefill<__nv_bfloat16, 64>({2, 4, 4, 64, {150, 37}, {150, 37}, true, kNone, {}, {}, true, true, sc,
                                    "MPNet packed 150+37, T5 bidirectional 32/128 after 1/sqrt(HS)", 0, 64, 32, 128}, true);
    run_prefill<__half, 64>({1, 2, 2, 64, {290}, {290}, false, kNone, {}, {}, true, true, sc,
                             "MPNet 1x290, 128 rows, T5 bidirectional 32/128 after 1/sqrt(HS)", 0, 128, 32, 128}, true);
    run_prefill<float, 64>({2, 2, 2, 64, {140, 20}, {140, 20}, true, kNone, {}, {}, true, true, sc,
                            "MPNet packed 140+20, T5 bidirectional 32/128 after 1/sqrt(HS)", 0, 0, 32, 128}, false);
}

// DeBERTa's disentangled attention (c2p and p2c gathered at each pair's log-bucket column, added after the 1/sqrt(3·HS)
// scale): its own instances (t4j_attn_mma_dis_{bf16,f16}_hs64, t4j_attn_rows_dis_f32). v3-base's buckets (256 over 512
// positions) on rows past 128 so that log buckets are met, packed sequences as the model runs them, a padded batch,
// one term alone, unbucketed clamped distances, head size 48 padded to the 64 instance, 64- and 128-row tiles. Every
// problem names "DeBERTa".
void deberta_suite() {
    const float sc = 1.0f / std::sqrt(3.0f * 64.0f);
    constexpr int kNone = T4J_ATTN_MASK_NONE;
    Problem a{2, 4, 4, 64, {300, 37}, {300, 37}, true, kNone, {}, {}, false, false, sc, "DeBERTa packed 300+37, 256/512 log buckets"};
    a.dis_span = 256; a.dis_buckets = 256; a.dis_max = 512; a.c2p = a.p2c = true;
    run_prefill<__nv_bfloat16, 64>(a, true);
    Problem b{2, 2, 2, 64, {70, 70}, {70, 70}, false, kNone, {}, {}, false, false, sc, "DeBERTa padded 2x70, 128 rows, 16/40 buckets"};
    b.rows = 128; b.dis_span = 16; b.dis_buckets = 16; b.dis_max = 40; b.c2p = b.p2c = true;
    run_prefill<__half, 64>(b, true);
    Problem c{1, 2, 2, 48, {90}, {90}, true, kNone, {}, {}, false, false, sc, "DeBERTa HS 48 (instance 64), c2p alone, span 6 unbucketed"};
    c.dis_span = 6; c.dis_buckets = -1; c.dis_max = 6; c.c2p = true;
    run_prefill<__half, 48>(c, true);
    Problem d{2, 2, 2, 64, {150, 20}, {150, 20}, true, kNone, {}, {}, false, false, sc, "DeBERTa packed 150+20, p2c alone, 256/512"};
    d.dis_span = 256; d.dis_buckets = 256; d.dis_max = 512; d.p2c = true;
    run_prefill<float, 64>(d, false);
    Problem e{2, 3, 3, 32, {41, 41}, {41, 41}, false, kNone, {}, {}, false, false, sc, "DeBERTa padded 2x41, key padding, 16/40 buckets"};
    e.key_lengths = {41, 29}; e.dis_span = 16; e.dis_buckets = 16; e.dis_max = 40; e.c2p = e.p2c = true;
    run_prefill<float, 32>(e, false);
}

// Paged prefill: t4j_decode with Tq > kMaxDecodeRows runs the tensor-core kernel on the launcher's dense
// view (attention_paged.h), reading K/V through the block table; checked by run_decode's float64
// reference like the decode. One problem per instance (the coverage check); `more` adds T5 bias, a
// window, all cached keys (not causal), and 128-row tiles.
template <typename T, int INST, int HS>
void paged_launch(const t4j_decode_params& d) {
    if constexpr (emu::built(emu::key("decode ", name<T>(), HS).view())) {
        const t4j_attention_params a = t4j::paged_prefill_view(d);
        const int threads = t4j::mma_threads(d.Tq);
        const int rows = t4j::mma_rows(threads);
        static std::vector<std::string> names;
        names.push_back(std::string("t4j_attn_paged_") + name<T>() + "_hs" + std::to_string(INST));
        simt::launch(SimtDim3{static_cast<unsigned>((d.Tq + rows - 1) / rows * (INST / t4j::mma_columns(INST))),
                              static_cast<unsigned>(d.NH), static_cast<unsigned>(d.B)},
                     static_cast<unsigned>(threads), [&] { t4j::attention_mma_paged<T, INST>(a, d); },
                     static_cast<size_t>(t4j::mma_shared_bytes(INST, threads)), names.back().c_str());
    } else {
        emu::not_built(std::string("t4j_attn_paged_") + name<T>() + "_hs" + std::to_string(INST));
    }
}

template <typename T, int INST, int HS>
void paged_prefill_suite(bool more) {
    const auto launch = paged_launch<T, INST, HS>;
    run_decode<T>(HS, 4, 2, {20, 83}, 20, 16, 1, true, false, "paged prefill Tq 20 after a prefix, GQA", 0, 0, launch);
    if (!more) return;
    run_decode<T>(HS, 2, 2, {70, 33}, 33, 8, 1, true, true, "paged prefill Tq 33, T5 causal", 0, 0, launch);
    run_decode<T>(HS, 2, 1, {150, 300}, 130, 16, 1, true, false, "paged prefill Tq 130, sliding window 40, MQA", 40, 0, launch);
    run_decode<T>(HS, 2, 2, {40, 17}, 17, 16, 1, false, false, "paged prefill Tq 17, all cached keys", 0, 0, launch);
    run_decode<T>(HS, 2, 1, {260, 300}, 260, 32, 1, true, false, "paged prefill Tq 260 (128 rows)", 0, 0, launch);
}

// Gemma 2's attention logit soft-capping (softcap in t4j_attention_params / t4j_decode_params) on every path:
// the fp32 rows kernel, tensor-core instances of both dtypes (64- and 128-row tiles, the 256 instance's two
// column blocks), a paged prefill, and the decode with 1-5 splits (the combine after it), over every mask kind,
// with T5 bias (added after the cap: a bias before it would be capped too) and sliding windows (Gemma 2's local
// layers). Scale 3/√HS (1 with T5 bias) gives scores of several units for caps of 2.5-5 to bend: each problem
// prints the reference's largest |z|. The float64 reference caps as transformers' Gemma2 attention does.
// Every problem names "softcap" right after its kernel prefix (emulate.sh --only needs the prefix).
void softcap_suite() {
    const auto capped = [](Problem pr, float cap) { pr.softcap = cap; return pr; };
    const auto sc = [](int hs) { return 3.0f / std::sqrt(static_cast<float>(hs)); };
    run_prefill<float, 96>(capped({2, 4, 2, 96, {70, 70}, {70, 70}, false, T4J_ATTN_MASK_CAUSAL, {}, {}, false, false, sc(96),
                                   "softcap 3 causal 2x70 GQA"}, 3.0f), false);
    run_prefill<float, 32>(capped({3, 4, 2, 32, {1, 64, 67}, {1, 64, 67}, true, T4J_ATTN_MASK_PREFIX_LM, {1, 10, 67}, {}, true, true,
                                   1.0f, "softcap 2.5 packed prefix-LM, T5 bidirectional"}, 2.5f), false);
    run_prefill<float, 256>(capped({2, 4, 2, 256, {70, 9}, {70, 140}, true, T4J_ATTN_MASK_CAUSAL, {}, {}, false, false, sc(256),
                                    "softcap 5 packed sliding window 7, GQA", 7}, 5.0f), false);
    run_prefill<__nv_bfloat16, 256>(capped({2, 4, 2, 256, {70, 70}, {70, 70}, false, T4J_ATTN_MASK_CAUSAL, {}, {}, false, false,
                                            sc(256), "softcap 4 causal 2x70 GQA"}, 4.0f), true);
    run_prefill<__half, 256>(capped({2, 4, 2, 256, {70, 9}, {70, 140}, true, T4J_ATTN_MASK_CAUSAL, {}, {}, false, false, sc(256),
                                     "softcap 5 packed sliding window 7, GQA", 7}, 5.0f), true);
    run_prefill<__half, 128>(capped({3, 4, 2, 128, {1, 64, 67}, {1, 64, 67}, true, T4J_ATTN_MASK_PREFIX_LM, {1, 10, 67}, {}, true,
                                     true, 1.0f, "softcap 3 packed prefix-LM, T5 bidirectional"}, 3.0f), true);
    run_prefill<__nv_bfloat16, 64>(capped({3, 2, 2, 64, {5, 5, 5}, {130, 130, 130}, false, T4J_ATTN_MASK_NONE, {}, {130, 77, 0},
                                           false, false, sc(64), "softcap 2.5 cross, key padding, one empty"}, 2.5f), true);
    run_prefill<__nv_bfloat16, 128>(capped({1, 2, 1, 128, {300}, {300}, false, T4J_ATTN_MASK_CAUSAL, {}, {}, false, false, sc(128),
                                            "softcap 4 128 rows causal 1x300 MQA", 0, 128}, 4.0f), true);
    run_prefill<__half, 32>(capped({2, 4, 2, 32, {70, 70}, {70, 70}, false, T4J_ATTN_MASK_CAUSAL, {}, {}, false, false, sc(32),
                                    "softcap 3 causal 2x70 GQA"}, 3.0f), true);
    run_decode<__nv_bfloat16>(256, 4, 2, {20, 83}, 20, 16, 1, true, false, "softcap 4 paged prefill Tq 20 after a prefix, GQA", 0,
                              0, paged_launch<__nv_bfloat16, 256, 256>, 4.0f);
    run_decode<__half>(128, 2, 2, {70, 33}, 33, 8, 1, true, true, "softcap 3 paged prefill Tq 33, T5 causal", 0, 0,
                       paged_launch<__half, 128, 128>, 3.0f);
    run_decode<float>(64, 4, 2, {61, 250}, 3, 8, 5, true, false, "softcap 3 GQA 2 Tq 3, 5 splits", 0, 0, {}, 3.0f);
    run_decode<__half>(128, 4, 4, {90, 7}, 1, 16, 3, true, false, "softcap 4 MHA Tq 1 (4 warps a row), 3 splits", 0, 0, {}, 4.0f);
    run_decode<__nv_bfloat16>(256, 8, 4, {17, 50, 300}, 2, 16, 4, true, false, "softcap 5 GQA 2 Tq 2, 4 splits, sliding window 20",
                              20, 0, {}, 5.0f);
    run_decode<__half>(64, 4, 4, {100, 33}, 16, 8, 2, true, true, "softcap 2.5 Tq 16, T5 causal, 2 splits", 0, 0, {}, 2.5f);
    run_decode<__nv_bfloat16>(128, 8, 2, {95, 40}, 1, 16, 1, true, false, "softcap 3 GQA 4 Tq 1, 1 split", 0, 0, {}, 3.0f);
}

// GPT-OSS's attention sinks (t4j_attention_params.sinks, t4j_decode_params.sinks; ABI 11): head h's logit joins each row's
// softmax denominator with no value, on every path a decoder takes: tensor-core prefill in both dtypes at instances 32, 64,
// 80, 96, 128 and 256 (its two column blocks: the sink in both, the lse from the first), 64- and 128-row tiles, GPT-OSS's
// causal sliding window and full layers, key padding with rows that see no key (zeros, lse = the sink); the fp32 rows
// kernel; paged prefill (Tq > 16) with 64- and 128-row tiles; the split-KV decode with 1 split (the decode kernel ends the
// row, also after the 4 warps of a row merge), 3, 16 with split_keys (most splits exit) and 128 over 300 keys (the last
// 28 see none): the combine adds the sink once. Sinks U(−1, 6), every fourth head 12 (sinks_for). Every problem names
// "sinks" right after its kernel prefix.
void sinks_suite() {
    const auto sunk = [](Problem pr) { pr.sinks = true; return pr; };
    const auto sc = [](int hs) { return 1.0f / std::sqrt(static_cast<float>(hs)); };
    constexpr int kCausal = T4J_ATTN_MASK_CAUSAL, kNone = T4J_ATTN_MASK_NONE;
    run_prefill<__nv_bfloat16, 64>(sunk({3, 8, 2, 64, {70, 5, 1}, {70, 5, 1}, true, kCausal, {}, {}, false, false, sc(64),
                                        "sinks packed causal sliding window 9, GQA 4, a 1-row sequence", 9}), true);
    run_prefill<__half, 64>(sunk({1, 4, 2, 64, {300}, {300}, false, kCausal, {}, {}, false, false, sc(64),
                                  "sinks 128 rows causal 1x300 GQA", 0, 128}), true);
    run_prefill<__nv_bfloat16, 128>(sunk({3, 4, 2, 128, {5, 5, 5}, {130, 130, 130}, false, kNone, {}, {130, 77, 0}, false, false,
                                          sc(128), "sinks cross, key padding, one sequence without keys"}), true);
    run_prefill<__nv_bfloat16, 256>(sunk({2, 4, 2, 256, {70, 70}, {70, 70}, false, kCausal, {}, {}, false, false, sc(256),
                                          "sinks causal 2x70 GQA (two column blocks)"}), true);
    run_prefill<__half, 32>(sunk({2, 4, 1, 32, {40, 40}, {40, 40}, false, kCausal, {}, {40, 0}, false, false, sc(32),
                                  "sinks causal 2x40 MQA, key padding to none"}), true);
    run_prefill<__nv_bfloat16, 72>(sunk({2, 4, 2, 72, {3, 90}, {90, 90}, true, kCausal, {}, {}, false, false, sc(72),
                                         "sinks packed chunk after a prefix, GQA"}), true);
    run_prefill<__half, 96>(sunk({1, 4, 4, 96, {280}, {280}, false, kCausal, {}, {}, false, false, sc(96),
                                  "sinks 128 rows causal sliding window 128 1x280", 128, 128}), true);
    run_prefill<float, 64>(sunk({3, 8, 2, 64, {70, 5, 1}, {70, 5, 1}, true, kCausal, {}, {}, false, false, sc(64),
                                 "sinks packed causal sliding window 9, GQA 4, a 1-row sequence", 9}), false);
    run_prefill<float, 128>(sunk({3, 4, 2, 128, {5, 5, 5}, {130, 130, 130}, false, kNone, {}, {130, 77, 0}, false, false, sc(128),
                                  "sinks cross, key padding, one sequence without keys"}), false);
    run_decode<__nv_bfloat16>(64, 8, 2, {20, 83}, 20, 16, 1, true, false, "sinks paged prefill Tq 20 after a prefix, GQA 4", 0, 0,
                              paged_launch<__nv_bfloat16, 64, 64>, 0.0f, true);
    run_decode<__half>(128, 2, 1, {150, 300}, 130, 16, 1, true, false, "sinks paged prefill Tq 130, sliding window 40, MQA", 40, 0,
                       paged_launch<__half, 128, 128>, 0.0f, true);
    run_decode<__nv_bfloat16>(64, 4, 2, {260, 300}, 260, 32, 1, true, false, "sinks paged prefill Tq 260 (128 rows)", 0, 0,
                              paged_launch<__nv_bfloat16, 64, 64>, 0.0f, true);
    run_decode<float>(64, 8, 2, {1, 50, 130}, 1, 16, 1, true, false, "sinks GQA 4 Tq 1, 1 split", 0, 0, {}, 0.0f, true);
    run_decode<__nv_bfloat16>(64, 4, 4, {90, 7}, 1, 16, 1, true, false, "sinks MHA Tq 1 (4 warps a row), 1 split", 0, 0, {}, 0.0f, true);
    run_decode<__half>(64, 2, 2, {70, 5}, 2, 16, 3, true, false, "sinks MHA Tq 2 (2 warps a row), 3 splits", 0, 0, {}, 0.0f, true);
    run_decode<float>(64, 8, 2, {1, 50, 130}, 1, 16, 3, true, false, "sinks GQA 4 Tq 1, 3 splits", 0, 0, {}, 0.0f, true);
    run_decode<__nv_bfloat16>(64, 8, 2, {100, 17, 600}, 3, 16, 16, true, false, "sinks GQA 4 Tq 3, 16 splits, split_keys 32, window 128",
                              128, 32, {}, 0.0f, true);
    run_decode<__half>(64, 8, 1, {300}, 1, 16, 128, true, false, "sinks MQA 8 heads, 128 splits", 0, 0, {}, 0.0f, true);
}

// ALiBi (t4j_attention_params.alibi_slopes, t4j_decode_params.alibi_slopes; ABI 14: BLOOM, MPT, Falcon-RW): −slope · |key
// position − query position| added to each score, on every path a decoder takes and bidirectionally (mask none): tensor
// cores in both dtypes at instances 32, 64, 80 (HS 72), 96, 128 and 256, 64- and 128-row tiles (the table carries the bias
// on tiles every row sees whole, so "full" tiles get it too), chunks after a cached prefix (pos = i + Lk − Lq), packed rows,
// key padding, GQA and MQA, a sliding window; the fp32 rows kernel; paged prefill with 64- and 128-row tiles; the split-KV
// decode with 1, 3 and 16 splits (split_keys) and a non-causal decode (keys on both sides). Slopes from alibi_for (every
// third head 1.25). Every problem names "alibi" right after its kernel prefix.
void alibi_suite() {
    const auto sloped = [](Problem pr) { pr.alibi = true; return pr; };
    const auto sc = [](int hs) { return 1.0f / std::sqrt(static_cast<float>(hs)); };
    constexpr int kCausal = T4J_ATTN_MASK_CAUSAL, kNone = T4J_ATTN_MASK_NONE;
    run_prefill<__nv_bfloat16, 64>(sloped({3, 6, 6, 64, {70, 5, 1}, {70, 5, 1}, true, kCausal, {}, {}, false, false, sc(64),
                                           "alibi packed causal 70+5+1, 6 heads"}), true);
    run_prefill<__half, 64>(sloped({1, 4, 2, 64, {300}, {300}, false, kCausal, {}, {}, false, false, sc(64),
                                     "alibi 128 rows causal 1x300 GQA", 0, 128}), true);
    run_prefill<__nv_bfloat16, 128>(sloped({2, 4, 1, 128, {140, 140}, {140, 140}, false, kNone, {}, {140, 77}, false, false, sc(128),
                                             "alibi none (bidirectional) 2x140 MQA, key padding"}), true);
    run_prefill<__half, 256>(sloped({2, 4, 2, 256, {70, 70}, {70, 70}, false, kCausal, {}, {}, false, false, sc(256),
                                      "alibi causal 2x70 GQA (two column blocks)"}), true);
    run_prefill<__nv_bfloat16, 32>(sloped({2, 8, 8, 32, {3, 90}, {90, 90}, true, kCausal, {}, {}, false, false, sc(32),
                                           "alibi packed chunk of 3 after a prefix of 87"}), true);
    run_prefill<__half, 72>(sloped({1, 4, 4, 72, {200}, {200}, false, kCausal, {}, {}, false, false, sc(72),
                                     "alibi causal sliding window 50 1x200", 50}), true);
    run_prefill<__nv_bfloat16, 96>(sloped({1, 3, 3, 96, {130}, {130}, false, kCausal, {}, {}, false, false, sc(96),
                                           "alibi causal 1x130, 3 heads"}), true);
    run_prefill<float, 64>(sloped({3, 6, 6, 64, {70, 5, 1}, {70, 5, 1}, true, kCausal, {}, {}, false, false, sc(64),
                                   "alibi packed causal 70+5+1, 6 heads"}), false);
    run_prefill<float, 128>(sloped({2, 4, 1, 128, {140, 140}, {140, 140}, false, kNone, {}, {140, 77}, false, false, sc(128),
                                    "alibi none (bidirectional) 2x140 MQA, key padding"}), false);
    run_decode<__nv_bfloat16>(64, 6, 6, {20, 83}, 20, 16, 1, true, false, "alibi paged prefill Tq 20 after a prefix, 6 heads", 0, 0,
                              paged_launch<__nv_bfloat16, 64, 64>, 0.0f, false, true);
    run_decode<__half>(128, 4, 2, {260, 300}, 260, 32, 1, true, false, "alibi paged prefill Tq 260 (128 rows), GQA", 0, 0,
                       paged_launch<__half, 128, 128>, 0.0f, false, true);
    run_decode<float>(64, 6, 6, {1, 50, 130}, 1, 16, 1, true, false, "alibi MHA 6 heads Tq 1, 1 split", 0, 0, {}, 0.0f, false, true);
    run_decode<__nv_bfloat16>(64, 8, 2, {90, 7, 300}, 3, 16, 3, true, false, "alibi GQA 4 Tq 3, 3 splits", 0, 0, {}, 0.0f, false, true);
    run_decode<__half>(128, 4, 4, {100, 17, 600}, 2, 16, 16, true, false, "alibi MHA Tq 2, 16 splits, split_keys 32", 0, 32, {}, 0.0f,
                       false, true);
    run_decode<float>(96, 4, 1, {129, 20}, 2, 32, 4, false, false, "alibi Tq 2, not causal, MQA, 4 splits", 0, 0, {}, 0.0f, false, true);
}

// ---- varlen paged append and decode (ABI 17) ---------------------------------------------------------------------------

// A value's bits (the varlen problems require bit equality with launches over one sequence).
template <typename T>
uint32_t bits_of(T v) {
    uint32_t u = 0;
    std::memcpy(&u, &v, sizeof(T));
    return u;
}

// t4j_kv_append with cu_seqlens: packed new rows (Tnew, NKV, HS) with a row stride past NKV · HS (its padding never read)
// and batch strides that would point elsewhere (ignored), row r going to sequence b's position cache_lengths[b] + r − cu[b].
// The cache starts with random values; afterwards every slot must hold exactly what the float-free host model says: the
// new rows' bits where a row lands, the old bits everywhere else (rows past the table's pages and pages with a bad block
// id skipped, as the padded append skips them).
template <typename T>
void run_varlen_append(int NKV, int HS, int block_size, int max_blocks, std::vector<int> cache_lengths, std::vector<int> rows,
                       std::vector<std::pair<int, int>> bad_pages, const std::string& what_) {
    using E = std::conditional_t<sizeof(T) == 2, uint16_t, uint32_t>;
    const std::string what = std::string("kv_append ") + name<T>() + " " + what_;
    if (!emu::wanted(what)) return;
    const int B = static_cast<int>(rows.size());
    std::vector<int> cu(B + 1, 0);
    for (int b = 0; b < B; b++) cu[b + 1] = cu[b] + rows[b];
    const int total = cu[B];
    const int num_blocks = B * max_blocks + 3;
    PagedCache<T> cache(B, NKV, HS, block_size, max_blocks, num_blocks, from<T>(0.0f));
    std::vector<int>& table = cache.table;
    for (auto [b, page] : bad_pages) table[static_cast<size_t>(b) * max_blocks + page] = page % 2 ? -1 : num_blocks;  // skipped
    const int64_t row_stride = static_cast<int64_t>(NKV) * HS + 8;  // padded rows: the last 8 elements are never read
    std::vector<T> k(static_cast<size_t>(std::max(total, 1)) * row_stride), v(k.size());
    for (size_t i = 0; i < k.size(); i++) { k[i] = from<T>(uniform(1.5f)); v[i] = from<T>(uniform(1.5f)); }
    std::vector<T>& kc = cache.k;
    std::vector<T>& vc = cache.v;
    for (size_t i = 0; i < kc.size(); i++) { kc[i] = from<T>(uniform(3.0f)); vc[i] = from<T>(uniform(3.0f)); }
    std::vector<T> want_k = kc, want_v = vc;  // the host model
    int written = 0, skipped = 0;
    for (int b = 0; b < B; b++) {
        for (int t = 0; t < rows[b]; t++) {
            const int pos = cache_lengths[b] + t, page = pos / block_size;
            const int blk = page < max_blocks ? table[static_cast<size_t>(b) * max_blocks + page] : -1;
            if (blk < 0 || blk >= num_blocks) { skipped++; continue; }
            written++;
            for (int h = 0; h < NKV; h++)
                for (int d = 0; d < HS; d++) {
                    const size_t dst = ((static_cast<size_t>(blk) * block_size + pos % block_size) * NKV + h) * HS + d;
                    want_k[dst] = k[(cu[b] + t) * row_stride + h * HS + d];
                    want_v[dst] = v[(cu[b] + t) * row_stride + h * HS + d];
                }
        }
    }
    // batch stride one row: ignored (a padded kernel would read sequence b from row b)
    t4j_kv_append_params a = cache.append(k.data(), v.data(), cache_lengths.data(), B, total, row_stride, row_stride);
    a.cu_seqlens = cu.data();
    const char* kernel = sizeof(T) == 2 ? "t4j_kv_append_b16" : "t4j_kv_append_b32";
    if constexpr (emu::built(emu::key("kv_append ", name<T>()).view())) {
        const int64_t elems = static_cast<int64_t>(total) * NKV * HS;  // the launcher's grid: (Tnew, NKV, HS)
        if (elems > 0) simt::launch(SimtDim3{static_cast<unsigned>((elems + 255) / 256), 1, 1}, 256, [&] { t4j::kv_append<E>(a); }, 0, kernel);
    } else {
        emu::not_built(kernel);
        return;
    }
    size_t bad = 0;
    for (size_t i = 0; i < kc.size(); i++) bad += (bits_of(kc[i]) != bits_of(want_k[i])) + (bits_of(vc[i]) != bits_of(want_v[i]));
    emu::verdict(bad == 0, what, "B %d, %d rows: %d written, %d skipped (past the table, bad block ids), %zu cache elements "
                 "differ from the host model (others' bits kept)", B, total, written, skipped, bad);
}

// Runs a varlen decode (packed q, out, lse; batch strides set to one row, so a kernel that used them would read and write
// other sequences' rows) against the float64 reference per sequence, then each sequence with Lq_b > 0 alone in the padded
// layout (B 1, Tq = Lq_b, the same splits, split_keys, cache and inputs) and requires its out and lse bits to equal the
// varlen launch's. The solo launches take the varlen launch's path: a paged-prefill problem's short sequences (Lq_b ≤ 16,
// which t4j_decode alone would send to the split-KV decode, other arithmetic) run the paged prefill kernel directly, as
// paged_launch does for any Tq (its 64-row tiles where the varlen launch may have 128).
template <typename T>
void run_varlen_decode(const DecodeCase& c, const std::function<void(const t4j_decode_params&)>& paged = {}) {
    const std::string what = std::string("decode ") + name<T>() + " HS " + std::to_string(c.HS) + " " + c.what;
    if (!emu::wanted(what)) return;
    const int B = static_cast<int>(c.lengths.size()), HS = c.HS, NH = c.NH, NKV = c.NKV, Tq = c.Tq;
    const bool prefill = Tq > t4j::kMaxDecodeRows;
    std::vector<int> cu(B + 1, 0);
    for (int b = 0; b < B; b++) cu[b + 1] = cu[b] + c.lq[b];
    const int total = cu[B];
    // The cache: dense keys per sequence appended by the padded append, as run_decode fills it.
    DecodeKeys<T> keys(c);
    keys.append();
    DecodeIO<T> io(c, std::max(total, 1), static_cast<size_t>(c.splits) * B * NH * Tq);
    // One launch as attention_launch.cpp's t4j_decode makes it (the path picked by the varlen launch's Tq); smem: the
    // split kernel's dynamic shared memory.
    auto launch = [&](const t4j_decode_params& d, int smem) {
        if (prefill)
            paged(d);
        else if constexpr (emu::built(emu::key("decode ", name<T>()).view()))
            launch_split_decode<T>(d, static_cast<size_t>(smem));
        else
            emu::not_built(std::string("t4j_decode_") + name<T>());
    };
    t4j_decode_params p = decode_params(c, keys, io);
    p.q_batch_stride = p.out_batch_stride = static_cast<int64_t>(NH) * HS;  // ignored when packed (one row: in bounds, wrong)
    p.cu_seqlens_q = cu.data();
    const int group = NH / NKV;
    launch(p, t4j::decode_varlen_bytes(HS, static_cast<int>(sizeof(T)), group, Tq));

    // float64 reference per sequence: queries at the last lq[b] of its keys.
    std::vector<double> ref(io.q.size(), 0.0), ref_lse(io.lse.size(), -INFINITY);
    const double max_v = decode_reference(c, keys, io, p.scale, total, ref, ref_lse);
    if (total == 0) {  // nothing to compare (the problems have rows; kept for shape)
        ref.clear();
        ref_lse.clear();
    }
    compare<T>(what, io.out, io.lse, ref, ref_lse, max_v, prefill);

    // Bit equality: each sequence alone, padded, Tq = Lq_b.
    size_t diff = 0;
    int solo = 0;
    for (int b = 0; b < B; b++) {
        const int n = c.lq[b];
        if (n == 0) continue;
        solo++;
        std::vector<T> out1(static_cast<size_t>(n) * NH * HS, from<T>(NAN));
        std::vector<float> lse1(static_cast<size_t>(NH) * n, NAN), ws_o1(static_cast<size_t>(c.splits) * NH * n * HS, NAN),
            ws_lse1(static_cast<size_t>(c.splits) * NH * n, NAN);
        t4j_decode_params d = p;
        d.cu_seqlens_q = nullptr;
        d.B = 1;
        d.Tq = n;
        d.q = io.q.data() + static_cast<size_t>(cu[b]) * NH * HS;
        d.out = out1.data();
        d.lse = lse1.data();
        d.q_batch_stride = d.out_batch_stride = static_cast<int64_t>(n) * NH * HS;
        d.block_table = keys.cache.table.data() + static_cast<size_t>(b) * keys.cache.max_blocks;
        d.cache_lengths = c.lengths.data() + b;
        d.workspace_o = ws_o1.data();
        d.workspace_lse = ws_lse1.data();
        launch(d, t4j::decode_layout(HS, static_cast<int>(sizeof(T)), group * n).bytes);
        for (size_t e = 0; e < out1.size(); e++) diff += bits_of(out1[e]) != bits_of(io.out[static_cast<size_t>(cu[b]) * NH * HS + e]);
        for (int h = 0; h < NH; h++)
            for (int i = 0; i < n; i++) diff += bits_of(lse1[static_cast<size_t>(h) * n + i]) != bits_of(io.lse[static_cast<size_t>(h) * total + cu[b] + i]);
    }
    emu::verdict(diff == 0, what + ", bits", "%zu out / lse values of %d sequences differ from their solo launches (B 1, Tq = Lq_b)",
                 diff, solo);
}

// Varlen paged append and decode (ABI 17: t4j_kv_append_params.cu_seqlens, t4j_decode_params.cu_seqlens_q): several
// sequences' chunks, drafts and decode rows in one launch. The append in F32 and BF16 (row counts 0, 1 and more, rows
// across block boundaries, past the table, onto bad block ids; 1000 sequences for the binary search's depth); the split-KV
// decode in every dtype with Lq_b mixes such as {1, 0, 16, 3, 1} under Tq 16, 1..5 splits (split_keys), GQA, MHA and MQA,
// a sliding window, sinks, T5 bias and ALiBi; the paged prefill in BF16 and F16 with a decode row beside long chunks
// ({1, 200, 17, 0, 64}: 64-row tiles; a 300-row chunk: 128-row tiles). Each decode problem against the float64 reference
// per sequence and, bit for bit, against each sequence's solo padded launch. Every problem names "varlen" right after its
// kernel prefix.
void varlen_suite() {
    run_varlen_append<float>(2, 64, 16, 4, {14, 7, 0, 10, 60}, {3, 0, 1, 37, 5}, {{3, 2}},
                             "varlen rows 3,0,1,37,5 over block boundaries, past the table, a bad block id");
    run_varlen_append<__nv_bfloat16>(4, 32, 8, 6, {0, 5, 7, 40, 1, 0}, {0, 9, 1, 0, 17, 2}, {{4, 1}},
                                     "varlen rows 0,9,1,0,17,2, a bad block id");
    {
        std::vector<int> lens(1000), rows(1000);
        for (int b = 0; b < 1000; b++) { lens[b] = b % 37; rows[b] = b % 7 == 3 ? 0 : b % 4; }
        run_varlen_append<float>(1, 8, 16, 4, lens, rows, {}, "varlen B 1000, rows 0..3");
    }
    // split-KV decode (Tq ≤ 16)
    run_varlen_decode<__nv_bfloat16>({.HS = 64, .NH = 8, .NKV = 2, .lengths = {40, 25, 90, 3, 200}, .lq = {1, 0, 16, 3, 1}, .Tq = 16,
                                      .splits = 3, .what = "varlen GQA 4 Lq 1,0,16,3,1, 3 splits"});
    run_varlen_decode<__half>({.HS = 128, .NH = 4, .NKV = 4, .lengths = {70, 5, 33, 4, 120}, .lq = {1, 0, 16, 3, 1}, .Tq = 16,
                               .splits = 5, .what = "varlen MHA Lq 1,0,16,3,1, 5 splits, split_keys 16, sinks", .split_keys = 16,
                               .sinks = true});
    run_varlen_decode<float>({.HS = 64, .NH = 4, .NKV = 2, .lengths = {61, 30, 17, 250}, .lq = {2, 1, 0, 5}, .Tq = 5, .block_size = 8,
                              .splits = 1, .bias = true, .what = "varlen GQA 2 Lq 2,1,0,5, 1 split, T5 causal"});
    run_varlen_decode<float>({.HS = 96, .NH = 6, .NKV = 6, .lengths = {20, 100, 9, 45}, .lq = {3, 16, 1, 0}, .Tq = 16, .splits = 2,
                              .what = "varlen MHA 6 heads Lq 3,16,1,0, 2 splits, alibi", .alibi = true});
    run_varlen_decode<__nv_bfloat16>({.HS = 128, .NH = 8, .NKV = 1, .lengths = {17, 50, 300, 2}, .lq = {4, 1, 7, 2}, .Tq = 8, .splits = 4,
                                      .what = "varlen MQA 8 heads Lq 4,1,7,2, 4 splits, sliding window 20", .window = 20});
    run_varlen_decode<__half>({.HS = 64, .NH = 2, .NKV = 2, .lengths = {30, 64, 12}, .lq = {2, 1, 9}, .Tq = 9, .splits = 1,
                               .what = "varlen MHA Lq 2,1,9 (4 and 2 warps a row), 1 split, softcap 3", .softcap = 3.0f});
    // paged prefill (Tq > 16): a decode row beside long chunks
    run_varlen_decode<__nv_bfloat16>({.HS = 64, .NH = 4, .NKV = 2, .lengths = {30, 260, 17, 8, 100}, .lq = {1, 200, 17, 0, 64}, .Tq = 200,
                                      .what = "varlen paged prefill Lq 1,200,17,0,64 (64 rows), GQA"},
                                     paged_launch<__nv_bfloat16, 64, 64>);
    run_varlen_decode<__half>({.HS = 128, .NH = 2, .NKV = 1, .lengths = {301, 50, 140}, .lq = {300, 1, 40}, .Tq = 300, .block_size = 32,
                               .what = "varlen paged prefill Lq 300,1,40 (128 rows), sliding window 100, sinks", .window = 100,
                               .sinks = true},
                              paged_launch<__half, 128, 128>);
    run_varlen_decode<__half>({.HS = 64, .NH = 4, .NKV = 4, .lengths = {90, 20, 64}, .lq = {33, 20, 5}, .Tq = 33, .block_size = 8,
                               .bias = true, .what = "varlen paged prefill Lq 33,20,5, T5 causal"},
                              paged_launch<__half, 64, 64>);
    run_varlen_decode<__nv_bfloat16>({.HS = 128, .NH = 4, .NKV = 2, .lengths = {40, 300}, .lq = {17, 260}, .Tq = 260, .block_size = 32,
                                      .what = "varlen paged prefill Lq 17,260 (128 rows), alibi", .alibi = true},
                                     paged_launch<__nv_bfloat16, 128, 128>);
}

// T5 buckets through the tensor-core kernel's distance table (t5_fill_distances, t5_table_bias) for
// every relative position −N..N against an independent float64 evaluation of transformers'
// _relative_position_bucket. Where the float64 value of log(rel/max_exact)/log(max_distance/max_exact)
// · (n − max_exact) is within 1e-5 of an integer, float32 (transformers' precision) may fall on either
// side, and either bucket is accepted; such ties are counted and printed.
void t5_bucket_sweep(int buckets, int max_distance, bool bidir, int N) {
    const std::string what = "t5 buckets " + std::to_string(buckets) + "/" + std::to_string(max_distance) +
                             (bidir ? " bidirectional" : " causal") + " over -" + std::to_string(N) + ".." + std::to_string(N);
    if (!emu::wanted(what)) return;
    std::vector<float> table(buckets);
    for (int b = 0; b < buckets; b++) table[b] = static_cast<float>(b);  // NH 1: the bias is the bucket
    t4j_attention_params p{};
    p.rel_bias = table.data();
    p.NH = 1;
    p.num_buckets = buckets;
    p.max_distance = max_distance;
    p.bias_bidirectional = bidir ? 1 : 0;
    const int D = std::min(max_distance, t4j::kT5TableDistance);
    std::vector<float> dist(2 * D + 1, NAN);
    t4j::t5_fill_distances(dist.data(), D, p, 0, 0, 1);
    int bad = 0, ties = 0;
    for (int rel = -N; rel <= N; rel++) {
        const int got = static_cast<int>(std::lround(t4j::t5_table_bias(dist.data(), D, rel, p, 0) / t4j::kLog2e));
        int base = 0, n = buckets, r;
        if (bidir) {
            n /= 2;
            base = rel > 0 ? n : 0;
            r = std::abs(rel);
        } else {
            r = rel < 0 ? -rel : 0;
        }
        const int me = n / 2;
        int lo, hi;  // accepted buckets
        if (r < me) {
            lo = hi = base + r;
        } else {
            const long double y = std::log(static_cast<long double>(r) / me) / std::log(static_cast<long double>(max_distance) / me) * (n - me);
            const long double k = std::round(y);
            const bool tie = std::abs(y - k) < 1e-5L;
            ties += tie;
            hi = base + std::min(me + static_cast<int>(tie ? k : std::floor(y)), n - 1);
            lo = base + std::min(me + static_cast<int>(tie ? k - 1 : std::floor(y)), n - 1);
        }
        if (got < lo || got > hi) {
            if (bad++ < 5) std::printf("     rel %d: bucket %d, float64 reference %d..%d\n", rel, got, lo, hi);
        }
    }
    if (bad) g_failures++;
    std::printf("%s %s: %d mismatches, %d float64 ties\n", bad ? "FAIL" : "ok  ", what.c_str(), bad, ties);
}

// Every head size 8..256 step 8 on every path, one problem each (causal, GQA, a key-padded row, a
// partial query tile): BF16 and F16 tensor cores through their instance, fp32 rows, BF16 decode.
template <int HS>
void head_size_sweep() {
    const float sc = 1.0f / std::sqrt(static_cast<float>(HS));
    const Problem pr{2, 4, 2, HS, {70, 70}, {70, 70}, false, T4J_ATTN_MASK_CAUSAL, {}, {70, 33}, false, false, sc, "sweep"};
    run_prefill<__nv_bfloat16, HS>(pr, true);
    run_prefill<__half, HS>(pr, true);
    run_prefill<float, HS>(pr, false);
    run_decode<__nv_bfloat16>(HS, 4, 2, {37, 70}, 2, 16, 2, true, false, "sweep");
}

}  // namespace

int main(int argc, char** argv) {
    emu::parse_args(argc, argv);
    // Prefill: every tensor-core instance (32/64/80/96/128/256) × dtype once, with the masks rotated so
    // that each kernel × dtype meets all four (causal, prefix-LM + T5, none: cross + key padding,
    // sliding window); the fp32 row-wise kernel likewise (its causal problem is the sweep's).
    prefill_suite<__nv_bfloat16, 32>(true, kCausal);
    prefill_suite<__nv_bfloat16, 64>(true, kCross);
    prefill_suite<__nv_bfloat16, 80>(true, kPrefixLm);
    prefill_suite<__nv_bfloat16, 96>(true, kWindow);
    prefill_suite<__nv_bfloat16, 128>(true, kCausal);
    prefill_suite<__nv_bfloat16, 256>(true, kCross);   // Gemma's head size: two column blocks per query tile
    prefill_suite<__half, 32>(true, kWindow);
    prefill_suite<__half, 64>(true, kCausal);
    prefill_suite<__half, 80>(true, kCross);
    prefill_suite<__half, 96>(true, kPrefixLm);
    prefill_suite<__half, 128>(true, kCross);
    prefill_suite<__half, 256>(true, kPrefixLm);
    prefill_suite<float, 32>(false, kPrefixLm);
    prefill_suite<float, 96>(false, kWindow);
    prefill_suite<float, 256>(false, kCross);
    if (emu::g_all) {                          // head sizes padded to an instance, every mask
        prefill_suite<__nv_bfloat16, 16>(true, kCausal);   // padded to the 32 instance
        prefill_suite<__half, 200>(true, kCausal);         // padded to the 256 instance
        // every head size 8..256 step 8 on every path
#ifndef T4J_EMU_SAMPLED_BUILD  // 32 head sizes x 3 paths of templates: most of this file's compile time
        [&]<int... I>(std::integer_sequence<int, I...>) { (head_size_sweep<(I + 1) * 8>(), ...); }(std::make_integer_sequence<int, 32>{});
#endif
    } else {                                   // the sampled set: one size below, between and above the instances
        head_size_sweep<8>();
        head_size_sweep<72>();
        head_size_sweep<136>();
        head_size_sweep<248>();
    }
    head_size_sweep<192>();                      // DeepSeek's MLA (qk_nope 128 + qk_rope 64) on the 256 instance
    run_decode<__nv_bfloat16>(192, 8, 8, {37, 130, 300}, 1, 16, 3, true, false, "DeepSeek MLA MHA");
    run_decode<__half>(192, 4, 4, {90, 12}, 5, 16, 2, true, false, "DeepSeek MLA MHA");
    tall_suite<__nv_bfloat16, 64>();             // 128-row tiles (issue 19): every mask kind, window, T5 past the table
    tall_suite<__half, 128>();
    if (emu::g_all) {
        tall_suite<__nv_bfloat16, 256>();
        tall_suite<__half, 80>();
    }
    paged_prefill_suite<__nv_bfloat16, 32, 32>(true);  // paged prefill (issue 19): every instance once, masks on two
    paged_prefill_suite<__half, 64, 64>(true);
    paged_prefill_suite<__nv_bfloat16, 64, 56>(false);
    paged_prefill_suite<__nv_bfloat16, 80, 80>(false);
    paged_prefill_suite<__half, 80, 72>(false);
    paged_prefill_suite<__nv_bfloat16, 96, 96>(false);
    paged_prefill_suite<__half, 96, 88>(false);
    paged_prefill_suite<__nv_bfloat16, 128, 128>(false);
    paged_prefill_suite<__half, 128, 128>(false);
    paged_prefill_suite<__nv_bfloat16, 256, 256>(false);
    paged_prefill_suite<__half, 256, 200>(false);
    paged_prefill_suite<__half, 32, 16>(false);
    paged_prefill_suite<__nv_bfloat16, 256, 192>(false);   // DeepSeek's MLA head size
    softcap_suite();                             // Gemma 2's attention logit soft-capping on every path
    sinks_suite();                               // GPT-OSS's attention sinks on every path a decoder takes
    alibi_suite();                               // BLOOM's, MPT's and Falcon-RW's ALiBi on every path, and bidirectional
    varlen_suite();                              // ABI 17: varlen paged append and decode, bit for bit as solo launches
    bidir_window_suite();                        // ModernBERT's local attention: mask none with a window, every prefill variant
    mpnet_suite();                               // MPNet: the T5 bias after a 1/sqrt(HS) scale, packed, past distance 128
    deberta_suite();                             // DeBERTa: the disentangled bias's own instances
    t5_bucket_sweep(32, 128, true, 4096);        // T5's (and mT5's, UMT5's) encoder buckets
    t5_bucket_sweep(32, 128, false, 4096);       // its decoder's
    t5_bucket_sweep(16, 20, true, 300);          // the problems' own
    t5_bucket_sweep(16, 20, false, 300);
    t5_bucket_sweep(64, 1000, true, 4096);       // a table smaller than max_distance
    t5_bucket_sweep(4096, 8192, false, 20000);   // the most buckets the launcher accepts
    run_decode<__half>(64, 4, 4, {100, 33}, 16, 8, 3, true, true, "Tq 16, T5 causal, 3 splits");
    run_decode<float>(96, 4, 1, {129, 20}, 2, 32, 7, false, false, "Tq 2, not causal, MQA, 7 splits");
    run_decode<__half>(64, 2, 2, {70, 5}, 2, 16, 3, true, true, "MHA Tq 2 (2 warps a row), T5, 3 splits");
    run_decode<__nv_bfloat16>(128, 8, 2, {17, 50, 300}, 4, 16, 5, true, false, "Tq 4, 5 splits, sliding window 20", 20);
    // GQA ratios 1, 2, 4, 8 and MQA, lengths off the block size, split counts 1 .. 128 (128 over 300 keys:
    // 100 splits of 3 run, the last 28 see none); split_keys: the graph's launch for the largest count, with
    // only the splits a length needs running (100 keys at ≥ 32 a split: 4 of 16).
    run_decode<__nv_bfloat16>(64, 4, 4, {45, 1}, 1, 16, 3, true, false, "GQA 1 Tq 1, 3 splits");
    run_decode<__half>(128, 8, 4, {77, 130}, 1, 16, 2, true, false, "GQA 2 Tq 1, 2 splits");
    run_decode<__nv_bfloat16>(128, 8, 2, {200, 33}, 1, 16, 4, true, false, "GQA 4 Tq 1, 4 splits");
    run_decode<__nv_bfloat16>(64, 16, 2, {95}, 2, 16, 1, true, false, "GQA 8 Tq 2, 1 split");
    run_decode<__half>(64, 8, 1, {300}, 1, 16, 128, true, false, "MQA 8 heads, 128 splits");
    run_decode<__nv_bfloat16>(128, 8, 2, {100, 17, 600}, 1, 16, 16, true, false, "GQA 4, 16 splits, split_keys 32", 0, 32);
    run_decode<float>(64, 4, 2, {61, 250}, 3, 8, 5, true, true, "GQA 2 Tq 3, T5, 5 splits, split_keys 40", 0, 40);
    run_decode<__nv_bfloat16>(128, 32, 1, {70}, 1, 16, 2, true, false, "MQA 32 heads (2 passes), 2 splits");
    if (emu::g_all) {
        run_decode<__nv_bfloat16>(128, 8, 2, {17, 50, 300}, 4, 16, 5, true, false, "Tq 4, 5 splits");  // the window one's shape
        run_decode<__nv_bfloat16>(256, 8, 1, {70, 21}, 16, 16, 3, true, false, "MQA 8 x Tq 16 (8 passes), HS 256, 3 splits");
        run_decode<float>(256, 16, 1, {40}, 1, 16, 2, true, false, "fp32 HS 256 MQA 16 heads, 2 splits");
        run_decode<float>(64, 4, 4, {9, 70}, 2, 8, 3, true, false, "Tq 2, 3 splits, sliding window 6", 6);
        run_decode<__nv_bfloat16>(128, 8, 2, {1, 50, 300}, 1, 16, 1, true, false, "Tq 1, 1 split");
        run_decode<float>(256, 2, 2, {40}, 1, 16, 2, true, false, "HS 256, 2 splits");
        run_decode<__nv_bfloat16>(128, 4, 4, {90}, 1, 16, 1, true, false, "MHA Tq 1 (4 warps a row)");
        run_decode<__nv_bfloat16>(64, 8, 1, {33, 64}, 3, 8, 2, true, false, "MQA 8 heads x Tq 3, 2 splits");
        prefill_suite<float, 64>(false, kCausal);
        prefill_suite<float, 128>(false, kCausal);
    }
    emu::g_failures += g_failures;
    return emu::summary();
}
