// VocabKernels — the CPU twins of native/src/vocab: softmax / log-softmax, cross-entropy, sampling
// and the sampling penalties over rows of logits (float[] with row offsets), fp32 math, no [rows, V] scratch.
package org.transformer4j.runtime.cpu;

import java.util.Arrays;

/** Row-wise ops over the vocabulary; the sampling semantics are those documented in t4j.h. */
public final class VocabKernels {

    private VocabKernels() {
    }

    /** max of x[off : off+n] (maxSum's m at scale 1). */
    static float max(float[] x, int off, int n) {
        float m = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) m = Math.max(m, x[off + i]);
        return m;
    }

    /** max and Σ exp(scale·x − max) of x[off : off+n]. */
    static float[] maxSum(float[] x, int off, int n, float scale) {
        float m = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) m = Math.max(m, scale * x[off + i]);
        float s = 0f;
        for (int i = 0; i < n; i++) s += (float) Math.exp(scale * x[off + i] - m);
        return new float[] {m, s};
    }

    /** out row r = softmax(scale · x row r) or its log; x and out are (rows, cols) dense. */
    public static void softmax(int rows, int cols, float[] x, float scale, boolean log, float[] out) {
        for (int r = 0; r < rows; r++) {
            int o = r * cols;
            float[] ms = maxSum(x, o, cols, scale);
            float logSum = (float) Math.log(ms[1]);
            for (int i = 0; i < cols; i++) {
                float z = scale * x[o + i] - ms[0];
                out[o + i] = log ? z - logSum : (float) Math.exp(z) / ms[1];
            }
        }
    }

    /** losses[r] = logsumexp(x row r) − x[r, target]; 0 where ignored. Targets must be valid (checked by the caller). */
    public static void crossEntropy(int rows, int cols, float[] logits, int[] targets, int ignoreIndex, float[] losses) {
        for (int r = 0; r < rows; r++) {
            if (targets[r] == ignoreIndex) {
                losses[r] = 0f;
                continue;
            }
            int o = r * cols;
            float[] ms = maxSum(logits, o, cols, 1f);
            losses[r] = ms[0] + (float) Math.log(ms[1]) - logits[o + targets[r]];
        }
    }

    /** The first row index whose target is neither ignoreIndex nor in [0, cols), or −1. */
    public static int firstBadTarget(int[] targets, int cols, int ignoreIndex) {
        for (int r = 0; r < targets.length; r++) {
            if (targets[r] != ignoreIndex && (targets[r] < 0 || targets[r] >= cols)) return r;
        }
        return -1;
    }

    /**
     * One id per row of logits (rows, cols) dense; logprobs (may be null) gets log_softmax at
     * temperature 1 of the chosen id. topK 0 and topP 1 disable the filters.
     */
    public static void sample(int rows, int cols, float[] logits, float temperature, int topK, float topP, long seed,
                               long offset, int[] ids, float[] logprobs) {
        sample(rows, cols, logits, temperature, topK, topP, 0f, seed, offset, ids, logprobs, null);
    }

    /**
     * The same with min_p (0: off; see t4j.h: after top-k and top-p, ids whose weight exp((x − max) / T) is
     * below minP are dropped), and nonFinite (may be null) gets 1 for each non-finite row (a NaN or +∞, or no
     * finite logit), else 0. Such a row's id is its argmax over non-NaN logits (0 when all are NaN) and its
     * logprob NaN: ids never leave [0, cols).
     */
    public static void sample(int rows, int cols, float[] logits, float temperature, int topK, float topP, float minP, long seed,
                               long offset, int[] ids, float[] logprobs, int[] nonFinite) {
        for (int r = 0; r < rows; r++) sampleOne(r, r, cols, logits, temperature, topK, topP, minP, seed, offset, ids, logprobs, nonFinite);
    }

    /**
     * Per-row parameters (t4j.h's row_params, ABI 13): row r with temperature[r], topK[r], topP[r], minP[r], seed[r] and
     * offset[r], its Philox counter's row word 0 — so each row gets exactly what {@link #sample} gives that row alone.
     */
    public static void sampleRows(int rows, int cols, float[] logits, float[] temperature, int[] topK, float[] topP, float[] minP,
                                  long[] seed, long[] offset, int[] ids, float[] logprobs, int[] nonFinite) {
        for (int r = 0; r < rows; r++) {
            sampleOne(r, 0, cols, logits, temperature[r], topK[r], topP[r], minP[r], seed[r], offset[r], ids, logprobs, nonFinite);
        }
    }

    /** Row r of logits, drawn with Philox counter row word {@code counterRow}. */
    private static void sampleOne(int r, int counterRow, int cols, float[] logits, float temperature, int topK, float topP, float minP,
                                  long seed, long offset, int[] ids, float[] logprobs, int[] nonFinite) {
        boolean vec = CpuKernels.simd();
        int o = r * cols;
        // with the Vector API one pass finds both (the scalar loops took ~70 µs for GPT-2's 50257 logits)
        int finiteArgmax = vec ? VectorOps.finiteArgmax(logits, o, cols) : -1;
        boolean bad = vec ? finiteArgmax < 0 : nonFinite(logits, o, cols);
        boolean greedy = temperature == 0f || bad;
        // the softmax's sum (an exp per logit) only where a logprob is asked for; sampling needs the max only
        float[] ms = logprobs != null && !bad ? maxSum(logits, o, cols, 1f) : null;
        int id = greedy ? (finiteArgmax >= 0 ? finiteArgmax : argmax(logits, o, cols)) : sampleRow(logits, o, cols, ms != null ? ms[0] : max(logits, o, cols),
                temperature, topK, topP, minP, Philox.uniform(seed, counterRow, offset));
        ids[r] = id;
        if (logprobs != null) logprobs[r] = bad ? Float.NaN : logits[o + id] - ms[0] - (float) Math.log(ms[1]);
        if (nonFinite != null) nonFinite[r] = bad ? 1 : 0;
    }

    /** Whether x[off : off+n] holds a NaN or +∞, or no finite value. */
    static boolean nonFinite(float[] x, int off, int n) {
        boolean finite = false;
        for (int i = 0; i < n; i++) {
            float v = x[off + i];
            if (Float.isNaN(v) || v == Float.POSITIVE_INFINITY) return true;
            if (v != Float.NEGATIVE_INFINITY) finite = true;
        }
        return !finite;
    }

    /** The smallest index among equal maxima (NaN never wins; 0 when every value is NaN). */
    static int argmax(float[] x, int off, int n) {
        float bv = Float.NEGATIVE_INFINITY;
        int bi = Integer.MAX_VALUE;
        for (int i = 0; i < n; i++) {
            float v = x[off + i];
            if (v > bv || (v == bv && i < bi)) {
                bv = v;
                bi = i;
            }
        }
        return bi == Integer.MAX_VALUE ? 0 : bi;
    }

    /** The smallest logit that the top-k and top-p filters keep (every logit ≥ it is kept). */
    public static float keptThreshold(float[] x, int off, int n, float max, float temperature, int topK, float topP) {
        float[] sorted = Arrays.copyOfRange(x, off, off + n);
        Arrays.sort(sorted);  // ascending
        float floor = topK > 0 && topK < n ? sorted[n - topK] : Float.NEGATIVE_INFINITY;
        if (topP < 1f) {
            float inv = 1f / temperature;
            float kept = 0f;
            for (int i = 0; i < n; i++) if (x[off + i] >= floor) kept += (float) Math.exp((x[off + i] - max) * inv);
            float need = topP * kept;
            float cum = 0f;
            float boundary = floor;
            for (int i = n - 1; i >= 0 && sorted[i] >= floor; i--) {
                cum += (float) Math.exp((sorted[i] - max) * inv);
                boundary = sorted[i];
                if (cum >= need) break;  // rounding that never reaches need keeps everything left
            }
            floor = boundary;
        }
        return floor;
    }

    /** Filters in transformers' warper order — temperature, top-k, top-p, then min_p — and one draw. */
    private static int sampleRow(float[] x, int off, int n, float max, float temperature, int topK, float topP, float minP, float u) {
        float floor = keptThreshold(x, off, n, max, temperature, topK, topP);
        float inv = 1f / temperature;
        float mass = 0f;
        int last = -1;
        for (int i = 0; i < n; i++) {
            if (x[off + i] >= floor) {
                float e = (float) Math.exp((x[off + i] - max) * inv);
                if (e < minP) continue;                  // min_p: probability below minP · the largest (whose e is 1)
                mass += e;
                last = i;
            }
        }
        float target = u * mass;
        float running = 0f;
        for (int i = 0; i < n; i++) {
            if (x[off + i] < floor) continue;
            float e = (float) Math.exp((x[off + i] - max) * inv);
            if (e < minP) continue;
            if (e > 0f && running + e > target) return i;
            running += e;
        }
        return last;
    }

    /**
     * One logit after the sampling penalties (t4j.h's t4j_penalty rule, in fp32, each step rounded): the bias where
     * given, the repetition penalty where count ≥ 0, the frequency and presence penalties where count > 0.
     */
    public static float penalized(float x, boolean hasBias, float bias, int count, float repetition, float presence, float frequency) {
        if (hasBias) x = x + bias;
        if (count >= 0) x = x < 0f ? x * repetition : x / repetition;
        if (count > 0) x = (x - frequency * (float) count) - presence;
        return x;
    }
}
