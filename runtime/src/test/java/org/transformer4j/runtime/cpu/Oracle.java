// Oracle: naive float64 reference implementations of the CPU kernels (GEMM, LayerNorm, RMSNorm),
// written as plainly as the math, that the tests compare the kernels against.
package org.transformer4j.runtime.cpu;

public final class Oracle {

    private Oracle() {
    }

    /**
     * Returns C (batch, M, N), dense: alpha * op(A) @ op(B) + beta * C0, where C0 is read from
     * {@code c0} with the given layout only when beta != 0. Layouts are as in {@link CpuKernels#gemm}.
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
}
