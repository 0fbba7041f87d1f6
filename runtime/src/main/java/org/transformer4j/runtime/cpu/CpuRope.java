// CpuRope — the CPU twin of the rope kernel (native/src/rope/rope.cuh): rotary position embedding
// in place, fp32 math, cos/sin times the attention scaling and rounded to the data's dtype first as
// transformers casts them.
package org.transformer4j.runtime.cpu;

import java.util.stream.IntStream;

public final class CpuRope {

    private CpuRope() {}

    /**
     * x (B, T, H, HS) dense, rotated in place on its first r dimensions; pos (B, T); invFreq[b] the
     * (r/2) frequencies of sequence b; cos and sin times {@code scaling} in fp32 (yarn's and LongRoPE's
     * attention factor; 1 leaves them as they are); round (null for fp32) rounds cos/sin and the results
     * to the data's dtype.
     */
    public static void rope(int batch, int t, int h, int hs, int r, int[] pos, float[][] invFreq, float scaling,
                            CpuKernels.FloatUnaryOperator round, float[] x) {
        int half = r / 2;
        IntStream.range(0, batch * t).parallel().forEach(bt -> {
            int b = bt / t;
            float p = (float) pos[bt];
            float[] c = new float[half], s = new float[half];
            for (int i = 0; i < half; i++) {
                float angle = p * invFreq[b][i];
                c[i] = round((float) Math.cos(angle) * scaling, round);
                s[i] = round((float) Math.sin(angle) * scaling, round);
            }
            for (int head = 0; head < h; head++) {
                int o = (bt * h + head) * hs;
                for (int i = 0; i < half; i++) {
                    float x0 = x[o + i], x1 = x[o + i + half];
                    x[o + i] = round(x0 * c[i] - x1 * s[i], round);
                    x[o + i + half] = round(x1 * c[i] + x0 * s[i], round);
                }
            }
        });
    }

    private static float round(float v, CpuKernels.FloatUnaryOperator round) {
        return round == null ? v : round.applyAsFloat(v);
    }

    /**
     * Dynamic NTK frequencies (r/2) for a sequence of {@code seqLen} positions, in fp32 as transformers'
     * _compute_dynamic_ntk_parameters computes them from a seq_len tensor: L = max(seqLen, maxPositions),
     * base' = base · (factor · L / maxPositions − (factor − 1))^(r / (r − 2)), inv[i] = 1 / base'^(2i / r).
     */
    public static float[] dynamicInvFreq(float base, float factor, int maxPositions, int r, int seqLen) {
        float l = Math.max(seqLen, maxPositions);
        float g = factor * l / (float) maxPositions - (factor - 1f);
        float basePrime = base * powf(g, (float) r / (float) (r - 2));
        float[] inv = new float[r / 2];
        for (int i = 0; i < inv.length; i++) inv[i] = 1f / powf(basePrime, (float) (2 * i) / (float) r);
        return inv;
    }

    /** fp32 pow as CUDA's powf gives it to within an ulp: the double power rounded once. */
    private static float powf(float a, float b) {
        return (float) Math.pow(a, b);
    }
}
