// Oracle: naive float64 reference implementations of the CPU kernels (GEMM, LayerNorm, RMSNorm,
// the MLP epilogue, embeddings, softmax, cross-entropy, the sampling filters and penalties), written as plainly
// as the math, that the tests compare the kernels against. It sits in main code (like
// AttentionOracle) so that the demo's self-check uses the same references as the tests; nothing in
// it calls the kernels or their CPU twins.
package org.transformer4j.runtime.reference;

import org.transformer4j.runtime.cpu.CpuKernels;

public final class Oracle {

    private Oracle() {
    }

    /**
     * Returns C (batch, M, N), dense: alpha * op(A) @ op(B) + beta * C0, where C0 is read from
     * {@code c0} with the given layout only when beta != 0. Layouts are as in {@link org.transformer4j.runtime.cpu.CpuGemm#gemm}.
     */
    public static double[] gemm(int batch, int M, int N, int K, double alpha,
                         float[] a, int aOff, long aBatchStride, int aRowStride, boolean transA,
                         float[] b, int bOff, long bBatchStride, int bRowStride, boolean transB,
                         double beta,
                         float[] c0, int cOff, long cBatchStride, int cRowStride) {
        double[] out = new double[batch * M * N]; // (batch, M, N)
        for (int bi = 0; bi < batch; bi++) {
            for (int i = 0; i < M; i++) {
                for (int j = 0; j < N; j++) {
                    double sum = 0;
                    for (int k = 0; k < K; k++) {
                        long ai = transA
                                ? aOff + bi * aBatchStride + (long) k * aRowStride + i
                                : aOff + bi * aBatchStride + (long) i * aRowStride + k;
                        long bj = transB
                                ? bOff + bi * bBatchStride + (long) j * bRowStride + k
                                : bOff + bi * bBatchStride + (long) k * bRowStride + j;
                        sum += (double) a[(int) ai] * (double) b[(int) bj];
                    }
                    double v = alpha * sum;
                    if (beta != 0) {
                        v += beta * c0[(int) (cOff + bi * cBatchStride + (long) i * cRowStride + j)];
                    }
                    out[(bi * M + i) * N + j] = v;
                }
            }
        }
        return out;
    }

    /**
     * Returns h (rows, cols), dense: x + residual (x when residual is null), and when round is
     * non-null, h rounded through float as the kernel stores it.
     */
    public static double[] hidden(int rows, int cols, float[] x, int xOff, int xRowStride,
                           float[] residual, int rOff, int rRowStride, CpuKernels.FloatUnaryOperator round) {
        double[] h = new double[rows * cols]; // (rows, cols)
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < cols; j++) {
                double v = x[xOff + r * xRowStride + j];
                if (residual != null) {
                    v += residual[rOff + r * rRowStride + j];
                }
                if (round != null) {
                    v = round.applyAsFloat((float) v);
                }
                h[r * cols + j] = v;
            }
        }
        return h;
    }

    /** LayerNorm of each row of h (rows, cols): (h - mean) / sqrt(var + eps) * weight (+ bias). */
    public static double[] layerNorm(int rows, int cols, double[] h, float[] weight, int wOff,
                              float[] bias, int bOff, double eps) {
        double[] out = new double[rows * cols]; // (rows, cols)
        for (int r = 0; r < rows; r++) {
            double mean = 0;
            for (int j = 0; j < cols; j++) {
                mean += h[r * cols + j];
            }
            mean /= cols;
            double var = 0;
            for (int j = 0; j < cols; j++) {
                double d = h[r * cols + j] - mean;
                var += d * d;
            }
            var /= cols;
            double rstd = 1 / Math.sqrt(var + eps);
            for (int j = 0; j < cols; j++) {
                double v = (h[r * cols + j] - mean) * rstd * weight[wOff + j];
                if (bias != null) {
                    v += bias[bOff + j];
                }
                out[r * cols + j] = v;
            }
        }
        return out;
    }

    /** RMSNorm of each row of h (rows, cols): h / sqrt(mean(h^2) + eps) * weight (+ bias). */
    public static double[] rmsNorm(int rows, int cols, double[] h, float[] weight, int wOff,
                            float[] bias, int bOff, double eps) {
        double[] out = new double[rows * cols]; // (rows, cols)
        for (int r = 0; r < rows; r++) {
            double ms = 0;
            for (int j = 0; j < cols; j++) {
                ms += h[r * cols + j] * h[r * cols + j];
            }
            ms /= cols;
            double rstd = 1 / Math.sqrt(ms + eps);
            for (int j = 0; j < cols; j++) {
                double v = h[r * cols + j] * rstd * weight[wOff + j];
                if (bias != null) {
                    v += bias[bOff + j];
                }
                out[r * cols + j] = v;
            }
        }
        return out;
    }

    /**
     * erf in double, written here so the oracle shares nothing with Activations.erf: for |x| < 3 the
     * series 2/√π · e^(−x²) · Σ 2ⁿ x^(2n+1) / (1·3·…·(2n+1)) (all terms positive: no cancellation);
     * beyond, 1 − erfc(x) from the continued fraction below. Checked against tabulated values in OracleTest.
     */
    public static double erf(double x) {
        if (x < 0) return -erf(-x);
        if (x >= 3) return 1 - erfc(x);
        double term = x;
        double sum = x;
        for (int n = 1; term > 1e-17 * sum; n++) {
            term *= 2 * x * x / (2 * n + 1);
            sum += term;
        }
        return 2 / Math.sqrt(Math.PI) * Math.exp(-x * x) * sum;
    }

    /**
     * erfc(x) = 1 − erf(x) with relative accuracy in the tail: for x ≥ 1.5 Laplace's continued fraction
     * e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), evaluated from 200 levels down (converged to
     * 1e-15 from x = 1.5 on); below, 1 − erf (erfc ≥ 0.03 there, so little is lost).
     */
    public static double erfc(double x) {
        if (x < 1.5) return 1 - erf(x);
        double t = x;
        for (int k = 200; k >= 1; k--) t = x + (k / 2.0) / t;
        return Math.exp(-x * x) / Math.sqrt(Math.PI) / t;
    }

    /** The activation of code {@code act} (t4j.h's T4J_ACT_*) in float64. */
    public static double activate(int act, double x) { return activate(act, x, 0); }

    /** The same; {@code limit}: T4J_ACT_CLAMP's bound (6: min(max(x, −limit), limit), NaN kept). */
    public static double activate(int act, double x, double limit) {
        return switch (act) {
            case 6 -> Double.isNaN(x) ? x : Math.min(Math.max(x, -limit), limit);
            case 0 -> x;
            case 1 -> 0.5 * x * (x >= 0 ? 1 + erf(x / Math.sqrt(2)) : erfc(-x / Math.sqrt(2)));
            case 2 -> 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
            case 3 -> Math.max(x, 0);
            case 7 -> x > 0 ? x * x : (Double.isNaN(x) ? x : 0);  // relu² (ABI 19)
            case 4 -> x / (1 + Math.exp(-x));
            case 5 -> {                                  // GPT-OSS: min(x, limit) · sigmoid(alpha · min(x, limit))
                double a = Math.min(x, 7.0);
                yield a / (1 + Math.exp(-1.702 * a));
            }
            default -> throw new IllegalArgumentException("activation " + act);
        };
    }

    /** What the gated form multiplies by: g, or for GPT-OSS's SwiGLU (5) clamp(g, −7, 7) + 1 (transformers' up + 1). */
    public static double gateFactor(int act, double g) {
        return act == 5 ? Math.max(-7.0, Math.min(7.0, g)) + 1 : g;
    }

    /**
     * out (M, N) = act(alpha·x·W + bias) [* (alpha·x·Wg + biasGate)] [+ res], all dense: x (M, K),
     * w and wg (K, N) or (N, K) when transW; bias, biasGate (N) or null; wg, res may be null.
     */
    public static double[] linear(int m, int n, int k, float[] x, float[] w, boolean transW, float[] bias, float[] wg,
                                  float[] biasGate, float[] res, double alpha, int act) {
        return linear(m, n, k, x, w, transW, bias, wg, biasGate, res, alpha, act, 0);
    }

    /** The same; {@code limit}: T4J_ACT_CLAMP's bound (0 for the other activations). */
    public static double[] linear(int m, int n, int k, float[] x, float[] w, boolean transW, float[] bias, float[] wg,
                                  float[] biasGate, float[] res, double alpha, int act, double limit) {
        double[] out = new double[m * n]; // (M, N)
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double y = 0;
                double g = 0;
                for (int p = 0; p < k; p++) {
                    int wi = transW ? j * k + p : p * n + j;
                    y += (double) x[i * k + p] * w[wi];
                    if (wg != null) g += (double) x[i * k + p] * wg[wi];
                }
                y = alpha * y + (bias == null ? 0 : bias[j]);
                double v = activate(act, y, limit);
                if (wg != null) v *= gateFactor(act, alpha * g + (biasGate == null ? 0 : biasGate[j]));
                if (res != null) v += res[i * n + j];
                out[i * n + j] = v;
            }
        }
        return out;
    }

    /** Row-wise softmax (or log-softmax) of scale·x, x (rows, cols) dense. */
    public static double[] softmax(int rows, int cols, float[] x, double scale, boolean log) {
        double[] out = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < cols; c++) max = Math.max(max, scale * x[r * cols + c]);
            double sum = 0;
            for (int c = 0; c < cols; c++) sum += Math.exp(scale * x[r * cols + c] - max);
            for (int c = 0; c < cols; c++) {
                double z = scale * x[r * cols + c] - max;
                out[r * cols + c] = log ? z - Math.log(sum) : Math.exp(z) / sum;
            }
        }
        return out;
    }

    /** −log_softmax(x)[target] per row, 0 where target == ignore. */
    public static double[] crossEntropy(int rows, int cols, float[] logits, int[] targets, int ignore) {
        double[] lsm = softmax(rows, cols, logits, 1, true);
        double[] out = new double[rows];
        for (int r = 0; r < rows; r++) out[r] = targets[r] == ignore ? 0 : -lsm[r * cols + targets[r]];
        return out;
    }

    /**
     * The ids the sampling filters keep for one row x (cols), in float64: logits ≥ the k-th largest
     * (k 0: all), then, by probability at the temperature, the most likely until their mass
     * reaches p of the rest, with ties at each boundary kept.
     */
    public static boolean[] kept(float[] x, double temperature, int k, double p) {
        return kept(x, temperature, k, p, 0);
    }

    /**
     * The same, then transformers' MinPLogitsWarper after top-p: of those ids, the ones whose probability at the
     * temperature is at least minP times the largest probability (0: all).
     */
    public static boolean[] kept(float[] x, double temperature, int k, double p, double minP) {
        int n = x.length;
        double[] sorted = new double[n];
        for (int i = 0; i < n; i++) sorted[i] = x[i];
        java.util.Arrays.sort(sorted);
        double floor = k > 0 && k < n ? sorted[n - k] : Double.NEGATIVE_INFINITY;
        if (p < 1) {
            double max = sorted[n - 1];
            double total = 0;
            for (int i = 0; i < n; i++) if (x[i] >= floor) total += Math.exp((x[i] - max) / temperature);
            double cum = 0;
            for (int i = n - 1; i >= 0 && sorted[i] >= floor; i--) {
                cum += Math.exp((sorted[i] - max) / temperature);
                if (cum >= p * total) {
                    floor = sorted[i];
                    break;
                }
            }
        }
        double top = sorted[n - 1];
        boolean[] keep = new boolean[n];
        for (int i = 0; i < n; i++) keep[i] = x[i] >= floor && Math.exp((x[i] - top) / temperature) >= minP;
        return keep;
    }

    /**
     * One row of logits x (V) after the sampling penalties, in float64, from the token lists themselves as
     * transformers and vLLM define them: {@code bias} (id → value, OpenAI's logit_bias; null: none) added first;
     * then transformers' RepetitionPenaltyLogitsProcessor over every id in the prompt or the generated tokens
     * (a score below 0 multiplied by {@code repetition}, any other divided by it); then vLLM's / OpenAI's
     * {@code frequency · count} and {@code presence · [count > 0]} subtracted, count = occurrences in
     * {@code generated} (the prompt does not count).
     */
    public static double[] penalized(float[] x, int[] prompt, int[] generated, java.util.Map<Integer, Float> bias,
                                     double repetition, double presence, double frequency) {
        int n = x.length;
        double[] out = new double[n];
        for (int i = 0; i < n; i++) out[i] = x[i];
        if (bias != null) bias.forEach((id, b) -> out[id] += b);
        boolean[] seen = new boolean[n];
        int[] count = new int[n];
        for (int id : prompt) seen[id] = true;
        for (int id : generated) {
            seen[id] = true;
            count[id]++;
        }
        for (int i = 0; i < n; i++) {
            if (seen[i]) out[i] = out[i] < 0 ? out[i] * repetition : out[i] / repetition;
            out[i] -= frequency * count[i];
            if (count[i] > 0) out[i] -= presence;
        }
        return out;
    }
}
