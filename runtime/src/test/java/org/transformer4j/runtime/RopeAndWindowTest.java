// RopeAndWindowTest — the rope op and sliding-window attention (prefill and paged decode) of the CPU
// backend against float64 oracles written here from their definitions: transformers' rotate_half RoPE
// (cos/sin of position × inverse frequency, the first rotaryDim dimensions, dynamic NTK's frequencies of
// the sequence length, LongRoPE's short or long table by the sequence length, cos/sin times the attention
// scaling) and masking_utils' sliding window (key j visible to query i when i − W < j ≤ i).
package org.transformer4j.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RopeAndWindowTest {

    static final CpuBackend CPU = new CpuBackend();

    static float[] random(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextDouble() * 2 - 1);
        return a;
    }

    /** x (B, T, H, HS) rotated in double: pairs (i, i + R/2) by angle pos · inv[b][i]. */
    static double[] ropeOracle(float[] x, int b, int t, int h, int hs, int r, int[] pos, double[][] inv) {
        return ropeOracle(x, b, t, h, hs, r, pos, inv, 1);
    }

    /** The same with cos and sin times {@code scale} (transformers' attention_scaling). */
    static double[] ropeOracle(float[] x, int b, int t, int h, int hs, int r, int[] pos, double[][] inv, double scale) {
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) out[i] = x[i];
        for (int bt = 0; bt < b * t; bt++) {
            for (int head = 0; head < h; head++) {
                int o = (bt * h + head) * hs;
                for (int i = 0; i < r / 2; i++) {
                    double a = pos[bt] * inv[bt / t][i], c = Math.cos(a) * scale, s = Math.sin(a) * scale;
                    out[o + i] = x[o + i] * c - x[o + i + r / 2] * s;
                    out[o + i + r / 2] = x[o + i + r / 2] * c + x[o + i] * s;
                }
            }
        }
        return out;
    }

    static double maxErr(float[] got, double[] want) {
        double m = 0;
        for (int i = 0; i < got.length; i++) m = Math.max(m, Math.abs(got[i] - want[i]));
        return m;
    }

    @Test
    void ropeWithATableRotatesTheFirstRotaryDimsByPositionTimesFrequency() {
        int b = 2, t = 5, h = 3, hs = 16, r = 8;                          // partial rotary: 8 of 16 dims
        SplittableRandom rnd = new SplittableRandom(3);
        float[] x = random(rnd, b * t * h * hs);
        int[] pos = {0, 1, 2, 3, 4, 37, 38, 39, 40, 1000};               // rows at different offsets
        float[] inv = new float[r / 2];
        double[][] invD = new double[b][r / 2];
        for (int i = 0; i < r / 2; i++) {
            inv[i] = (float) Math.pow(10000, -2.0 * i / r);
            invD[0][i] = invD[1][i] = inv[i];
        }
        try (Tensor xt = Tensor.ofFloats(x.clone(), b, t, h, hs); Tensor p = Tensor.ofInts(pos, b, t);
             Tensor f = Tensor.ofFloats(inv, r / 2)) {
            CPU.rope(RopeOp.of(xt, p, f, r));
            float[] got = xt.toFloatArray();
            double[] want = ropeOracle(x, b, t, h, hs, r, pos, invD);
            // fp32: the angle p · f rounds once (≤ 1000 · 2^-24 rad), cos/sin and the products once each
            assertTrue(maxErr(got, want) <= 2e-4, "rope vs oracle: " + maxErr(got, want));
            for (int i = 0; i < got.length; i++) if (i % hs >= r) assertEquals(x[i], got[i], "dims past R pass unchanged");
        }
    }

    @Test
    void dynamicNtkUsesEachSequencesLengthAndTheUnscaledBaseBelowMaxPositions() {
        int b = 2, t = 3, h = 2, hs = 8, r = 8, mpe = 16;
        float base = 10000f, factor = 2f;
        SplittableRandom rnd = new SplittableRandom(4);
        float[] x = random(rnd, b * t * h * hs);
        int[] pos = {5, 6, 7, 30, 31, 32};
        int[] lens = {8, 33};                                             // below max positions, and past it
        double[][] inv = new double[b][r / 2];
        for (int s = 0; s < b; s++) {
            double l = Math.max(lens[s], mpe);
            double basePrime = base * Math.pow(factor * l / mpe - (factor - 1), (double) r / (r - 2));
            for (int i = 0; i < r / 2; i++) inv[s][i] = 1 / Math.pow(basePrime, 2.0 * i / r);
        }
        try (Tensor xt = Tensor.ofFloats(x.clone(), b, t, h, hs); Tensor p = Tensor.ofInts(pos, b, t); Tensor sl = Tensor.ofInts(lens, b)) {
            CPU.rope(RopeOp.dynamic(xt, p, new RopeOp.Dynamic(base, factor, mpe), sl, r));
            double e = maxErr(xt.toFloatArray(), ropeOracle(x, b, t, h, hs, r, pos, inv));
            assertTrue(e <= 1e-5, "dynamic rope vs oracle: " + e);
        }
    }

    @Test
    void longRopeTakesTheLongTablePastTheOriginalMaxPositionsAndScalesCosAndSin() {
        int b = 3, t = 2, h = 2, hs = 16, r = 12, original = 16;            // partial rotary: 12 of 16
        float scale = 1.2247449f;                                         // sqrt(1 + ln 4 / ln 16)
        SplittableRandom rnd = new SplittableRandom(5);
        float[] x = random(rnd, b * t * h * hs);
        int[] pos = {14, 15, 15, 16, 40, 41};
        int[] lens = {16, 17, 42};                                        // at the original max (short), one past it, far past
        float[] tables = new float[r];
        for (int i = 0; i < r / 2; i++) {
            tables[i] = (float) (Math.pow(10000, -2.0 * i / r) / (1 + 0.1 * i));
            tables[r / 2 + i] = (float) (Math.pow(10000, -2.0 * i / r) / (2 + 3.0 * i));
        }
        double[][] inv = new double[b][r / 2];
        for (int s = 0; s < b; s++) for (int i = 0; i < r / 2; i++) inv[s][i] = tables[(lens[s] > original ? r / 2 : 0) + i];
        for (DType dt : new DType[] {DType.F32, DType.BF16}) {
            try (Tensor xt = Tensor.of(dt, x.clone(), b, t, h, hs); Tensor p = Tensor.ofInts(pos, b, t);
                 Tensor sl = Tensor.ofInts(lens, b); Tensor f = Tensor.ofFloats(tables, 2, r / 2)) {
                float[] in = xt.toFloatArray();
                CPU.rope(RopeOp.longRope(xt, p, f, original, sl, r).scaled(scale));
                double e = maxErr(xt.toFloatArray(), ropeOracle(in, b, t, h, hs, r, pos, inv, scale));
                // fp32: ~1e-6; bf16: cos/sin and the result rounded to 8 bits (2^-8 of ≤ 2 · 1.22 · 1)
                assertTrue(e <= (dt == DType.F32 ? 1e-5 : 2e-2), dt + " LongRoPE vs oracle: " + e);
                double unscaled = maxErr(xt.toFloatArray(), ropeOracle(in, b, t, h, hs, r, pos, inv, 1));
                assertTrue(unscaled > 0.05, dt + ": the attention scaling is applied (" + unscaled + " from the unscaled rotation)");
            }
        }
        // every sequence on the short table: the result differs (the choice is made per sequence)
        try (Tensor xt = Tensor.ofFloats(x.clone(), b, t, h, hs); Tensor p = Tensor.ofInts(pos, b, t);
             Tensor sl = Tensor.ofInts(new int[] {16, 16, 16}, b); Tensor f = Tensor.ofFloats(tables, 2, r / 2)) {
            CPU.rope(RopeOp.longRope(xt, p, f, original, sl, r));
            double[][] shortOnly = new double[b][r / 2];
            for (int s = 0; s < b; s++) for (int i = 0; i < r / 2; i++) shortOnly[s][i] = tables[i];
            assertTrue(maxErr(xt.toFloatArray(), ropeOracle(x, b, t, h, hs, r, pos, shortOnly)) <= 1e-5, "lengths ≤ original: short table");
        }
    }

    @Test
    void ropeRejectsMalformedArguments() {
        try (Tensor x = Tensor.empty(DType.F32, 1, 2, 1, 8); Tensor p = Tensor.ofInts(new int[] {0, 1}, 1, 2);
             Tensor f = Tensor.ofFloats(new float[4], 4); Tensor f3 = Tensor.ofFloats(new float[3], 3)) {
            assertThrows(IllegalArgumentException.class, () -> CPU.rope(RopeOp.of(x, p, f, 7)), "odd rotary dims");
            assertThrows(IllegalArgumentException.class, () -> CPU.rope(RopeOp.of(x, p, f, 10)), "rotary dims past HS");
            assertThrows(IllegalArgumentException.class, () -> CPU.rope(RopeOp.of(x, p, f3, 8)), "table of the wrong size");
            assertThrows(IllegalArgumentException.class, () -> CPU.rope(RopeOp.dynamic(x, p, new RopeOp.Dynamic(1e4f, 2f, 16), null, 8)),
                    "dynamic without lengths");
            for (float a : new float[] {0f, -1f, Float.NaN, Float.POSITIVE_INFINITY}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CPU.rope(RopeOp.of(x, p, f, 8).scaled(a)));
                assertTrue(e.getMessage().contains("attentionScaling"), e.getMessage());
            }
            try (Tensor lens = Tensor.ofInts(new int[] {2}, 1); Tensor two = Tensor.ofFloats(new float[8], 2, 4)) {
                assertThrows(IllegalArgumentException.class, () -> CPU.rope(RopeOp.longRope(x, p, f, 16, lens, 8)),
                        "LongRoPE with one table");
                assertThrows(IllegalArgumentException.class, () -> CPU.rope(RopeOp.longRope(x, p, two, 16, null, 8)),
                        "LongRoPE without lengths");
                CPU.rope(RopeOp.longRope(x, p, two, 16, lens, 8));       // well formed
            }
        }
    }

    @Test
    void theMaskRuleWithAWindowShowsWKeysTheQueryIncluded() {
        int w = 3;
        for (int i = 0; i < 8; i++) {
            int seen = 0;
            for (int j = 0; j < 8; j++) {
                boolean v = AttentionOp.Mask.CAUSAL.visible(i, j, 0, w);
                assertEquals(j <= i && j > i - w, v, "query " + i + " key " + j);
                if (v) seen++;
            }
            assertEquals(Math.min(i + 1, w), seen, "keys seen by query " + i);
        }
        assertTrue(AttentionOp.Mask.CAUSAL.visible(9, 0, 0, 0), "window 0: no window");
    }

    @Test
    void theBidirectionalWindowShowsTheKeysWithinWMinusOneEitherSide() {
        // ModernBERT: window_mask = |i − j| ≤ local_attention / 2, i.e. W = local_attention / 2 + 1 (65 for 128).
        for (int w : new int[] {1, 2, 3, 65}) {
            for (int i = 0; i < 140; i += 7) {
                int seen = 0;
                for (int j = 0; j < 140; j++) {
                    boolean v = AttentionOp.Mask.NONE.visible(i, j, 0, w);
                    assertEquals(Math.abs(i - j) <= w - 1, v, "W " + w + " query " + i + " key " + j);
                    if (v) seen++;
                    // the causal rule is the same distance rule with the keys after the query hidden
                    assertEquals(v && j <= i, AttentionOp.Mask.CAUSAL.visible(i, j, 0, w), "causal W " + w + " query " + i + " key " + j);
                }
                assertEquals(Math.min(i, w - 1) + 1 + Math.min(139 - i, w - 1), seen, "keys seen by query " + i + " with W " + w);
            }
        }
        assertEquals(false, AttentionOp.Mask.NONE.visible(0, Integer.MAX_VALUE, 0, Integer.MAX_VALUE), "no overflow at the ends");
        assertTrue(AttentionOp.Mask.NONE.visible(Integer.MAX_VALUE, 0, 0, 0), "window 0: no window");
    }

    /** softmax(scale q·k) v in double over visible keys; q (Lq, NH, HS) at positions off + i; k, v (Lk, NKV, HS). */
    static double[] attentionOracle(float[] q, float[] k, float[] v, int lq, int lk, int nh, int nkv, int hs, float scale, int window) {
        return attentionOracle(q, k, v, lq, lk, nh, nkv, hs, scale, window, 0);
    }

    /** The same with Gemma 2's soft-capping of each scaled score (cap &gt; 0): cap · tanh(z / cap). */
    static double[] attentionOracle(float[] q, float[] k, float[] v, int lq, int lk, int nh, int nkv, int hs, float scale, int window,
                                    double cap) {
        double[] out = new double[lq * nh * hs];
        int off = lk - lq;
        for (int i = 0; i < lq; i++) {
            for (int h = 0; h < nh; h++) {
                int kvh = h / (nh / nkv);
                double[] s = new double[lk];
                double m = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < lk; j++) {
                    int qi = i + off;
                    if (j > qi || window > 0 && j <= qi - window) { s[j] = Double.NEGATIVE_INFINITY; continue; }
                    double d = 0;
                    for (int x = 0; x < hs; x++) d += (double) q[(i * nh + h) * hs + x] * k[(j * nkv + kvh) * hs + x];
                    s[j] = cap > 0 ? cap * Math.tanh(d * scale / cap) : d * scale;
                    m = Math.max(m, s[j]);
                }
                double l = 0;
                for (int j = 0; j < lk; j++) if (s[j] != Double.NEGATIVE_INFINITY) l += Math.exp(s[j] - m);
                for (int j = 0; j < lk; j++) {
                    if (s[j] == Double.NEGATIVE_INFINITY) continue;
                    double p = Math.exp(s[j] - m) / l;
                    for (int x = 0; x < hs; x++) out[(i * nh + h) * hs + x] += p * v[(j * nkv + kvh) * hs + x];
                }
            }
        }
        return out;
    }

    @Test
    void slidingWindowPrefillAndPagedDecodeMatchTheOracle() {
        int nh = 4, nkv = 2, hs = 32, lk = 23, lq = 9, w = 5;            // a chunk of 9 after 14 cached rows
        SplittableRandom rnd = new SplittableRandom(5);
        float[] q = random(rnd, lq * nh * hs), k = random(rnd, lk * nkv * hs), v = random(rnd, lk * nkv * hs);
        float scale = 0.3f;
        double[] want = attentionOracle(q, k, v, lq, lk, nh, nkv, hs, scale, w);
        try (Tensor qt = Tensor.ofFloats(q, 1, lq, nh, hs); Tensor kt = Tensor.ofFloats(k, 1, lk, nkv, hs);
             Tensor vt = Tensor.ofFloats(v, 1, lk, nkv, hs); Tensor out = Tensor.empty(DType.F32, 1, lq, nh, hs)) {
            out.fill(Float.NaN);
            CPU.attention(AttentionOp.of(qt, kt, vt, out).causal().scale(scale).window(w));
            double e = maxErr(out.toFloatArray(), want);
            assertTrue(e <= 1e-5, "prefill with window vs oracle: " + e);
            IllegalArgumentException prefixLm = assertThrows(IllegalArgumentException.class,
                    () -> CPU.attention(AttentionOp.of(qt, kt, vt, out).prefixLm(new int[] {4}).window(w)), "no window with PREFIX_LM");
            assertTrue(prefixLm.getMessage().contains("PREFIX_LM"), prefixLm.getMessage());
            assertThrows(IllegalArgumentException.class, () -> CPU.attention(AttentionOp.of(qt, kt, vt, out).window(-1)), "window -1");
            CPU.attention(AttentionOp.of(qt, kt, vt, out).scale(scale).window(w));       // bidirectional (NONE) takes a window

            int block = 4, blocks = 8;
            try (Tensor kc = Tensor.empty(DType.F32, blocks, block, nkv, hs); Tensor vc = Tensor.empty(DType.F32, blocks, block, nkv, hs)) {
                int[] table = {7, 2, 5, 0, 1, 3, 4, 6};                     // scattered blocks
                PagedKvCache cache = new PagedKvCache(kc, vc, table, blocks);
                CPU.kvAppend(new KvAppendOp(cache, new int[] {0}, kt, vt));
                for (int splits : new int[] {1, 3}) {                        // a split range may fall wholly outside the window
                    Tensor last = out.slice(1, lq - 4, lq);                  // the last 4 queries through decode
                    last.fill(Float.NaN);
                    CPU.decode(DecodeOp.of(qt.slice(1, lq - 4, lq), cache, new int[] {lk}, last).scale(scale).window(w).splits(splits));
                    float[] got = last.toFloatArray();
                    double m = 0;
                    for (int i = 0; i < got.length; i++) m = Math.max(m, Math.abs(got[i] - want[(lq - 4) * nh * hs + i]));
                    assertTrue(m <= 1e-5, "decode with window, " + splits + " splits: " + m);
                }
            }
        }
    }
}
