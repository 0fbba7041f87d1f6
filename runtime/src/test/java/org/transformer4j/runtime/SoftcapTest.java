// SoftcapTest — Gemma 2's attention logit soft-capping on the CPU backend (prefill, and decode from the
// paged cache with 1-3 splits, with and without a sliding window, GQA, F32 and BF16) against a float64
// oracle written from transformers' Gemma2 eager_attention_forward: scores × scaling, ÷ softcap, tanh,
// × softcap, then the causal (and window) mask and the softmax.
package org.transformer4j.runtime;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SoftcapTest {

    static final CpuBackend CPU = RopeAndWindowTest.CPU;

    @Test
    void softcappedPrefillAndPagedDecodeMatchTheOracle() {
        int nh = 4, nkv = 2, hs = 32, lk = 21, lq = 9;                   // a chunk of 9 after 12 cached rows
        SplittableRandom rnd = new SplittableRandom(7);
        float[] q = RopeAndWindowTest.random(rnd, lq * nh * hs), k = RopeAndWindowTest.random(rnd, lk * nkv * hs),
                v = RopeAndWindowTest.random(rnd, lk * nkv * hs);
        float scale = 1f, cap = 1.5f;                                     // scores of several units, bent hard by the cap
        for (int w : new int[] {0, 6}) {
            double[] want = RopeAndWindowTest.attentionOracle(q, k, v, lq, lk, nh, nkv, hs, scale, w, cap);
            double[] uncapped = RopeAndWindowTest.attentionOracle(q, k, v, lq, lk, nh, nkv, hs, scale, w, 0);
            double bend = 0;
            for (int i = 0; i < want.length; i++) bend = Math.max(bend, Math.abs(want[i] - uncapped[i]));
            assertTrue(bend > 0.05, "the cap changes the output (" + bend + ")");
            for (DType dt : new DType[] {DType.F32, DType.BF16}) {
                double tol = dt == DType.F32 ? 1e-5 : 3e-2;                 // BF16: inputs, probabilities and output rounded to 8 bits
                try (Tensor qt = Tensor.of(dt, q, 1, lq, nh, hs); Tensor kt = Tensor.of(dt, k, 1, lk, nkv, hs);
                     Tensor vt = Tensor.of(dt, v, 1, lk, nkv, hs); Tensor out = Tensor.empty(dt, 1, lq, nh, hs)) {
                    float[] qr = qt.toFloatArray(), kr = kt.toFloatArray(), vr = vt.toFloatArray();
                    double[] exact = RopeAndWindowTest.attentionOracle(qr, kr, vr, lq, lk, nh, nkv, hs, scale, w, cap);
                    out.fill(Float.NaN);
                    CPU.attention(AttentionOp.of(qt, kt, vt, out).causal().scale(scale).window(w).softcap(cap));
                    double e = RopeAndWindowTest.maxErr(out.toFloatArray(), exact);
                    assertTrue(e <= tol, dt + " window " + w + ": softcapped prefill vs oracle: " + e);

                    int block = 4, blocks = 8;
                    try (Tensor kc = Tensor.empty(dt, blocks, block, nkv, hs); Tensor vc = Tensor.empty(dt, blocks, block, nkv, hs)) {
                        PagedKvCache cache = new PagedKvCache(kc, vc, new int[] {5, 2, 7, 0, 1, 3, 4, 6}, blocks);
                        CPU.kvAppend(new KvAppendOp(cache, new int[] {0}, kt, vt));
                        for (int splits : new int[] {1, 3}) {
                            Tensor last = out.slice(1, lq - 4, lq);         // the last 4 queries through decode
                            last.fill(Float.NaN);
                            CPU.decode(DecodeOp.of(qt.slice(1, lq - 4, lq), cache, new int[] {lk}, last).scale(scale).window(w)
                                    .splits(splits).softcap(cap));
                            float[] got = last.toFloatArray();
                            double m = 0;
                            for (int i = 0; i < got.length; i++) m = Math.max(m, Math.abs(got[i] - exact[(lq - 4) * nh * hs + i]));
                            assertTrue(m <= tol, dt + " window " + w + ", " + splits + " splits: softcapped decode vs oracle: " + m);
                        }
                    }
                }
            }
        }
    }

    @Test
    void finalLogitSoftcapIsCapTimesTanhInPlace() {
        float[] x = {-100f, -30f, -1f, 0f, 0.5f, 3f, 29f, 1e4f, -0f};
        float cap = 30f;
        for (DType dt : new DType[] {DType.F32, DType.BF16}) {
            try (Tensor t = Tensor.of(dt, x, 3, 3)) {
                float[] in = t.toFloatArray();
                CPU.softcap(new SoftcapOp(t, cap));
                float[] got = t.toFloatArray();
                for (int i = 0; i < x.length; i++) {
                    double want = cap * Math.tanh(in[i] / (double) cap);
                    double tol = dt == DType.F32 ? 2e-6 * cap : Math.abs(want) * 0x1p-8 + 1e-30;   // BF16: rounded once
                    assertTrue(Math.abs(got[i] - want) <= tol, dt + " softcap(" + in[i] + ") = " + got[i] + ", want " + want);
                    assertTrue(Math.abs(got[i]) <= cap, "bounded by the cap");
                }
            }
        }
        try (Tensor t = Tensor.ofFloats(new float[4], 4)) {
            for (float cap0 : new float[] {0f, -1f, Float.NaN, Float.POSITIVE_INFINITY}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CPU.softcap(new SoftcapOp(t, cap0)));
                assertTrue(e.getMessage().contains("cap"), e.getMessage());
            }
        }
    }

    @Test
    void aSoftcapMustBeFiniteAndNotNegative() {
        try (Tensor x = Tensor.empty(DType.F32, 1, 2, 1, 8)) {
            for (float cap : new float[] {-1f, Float.NaN, Float.POSITIVE_INFINITY}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> CPU.attention(AttentionOp.of(x, x, x, x).causal().softcap(cap)));
                assertTrue(e.getMessage().contains("softcap"), e.getMessage());
            }
        }
    }
}
