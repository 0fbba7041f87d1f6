// CpuNorm — LayerNorm / RMSNorm with a fused residual add over float[] with explicit offsets and
// strides: the twin of native/src/norm/. fp32 arithmetic, rows spread over the kernel pool.
package org.transformer4j.runtime.cpu;

import static org.transformer4j.runtime.cpu.CpuKernels.PARALLEL_MIN_WORK;
import static org.transformer4j.runtime.cpu.CpuKernels.THREADS;
import static org.transformer4j.runtime.cpu.CpuKernels.checkRange;
import static org.transformer4j.runtime.cpu.CpuKernels.parallelFor;
import static org.transformer4j.runtime.cpu.CpuKernels.simd;

import java.util.Objects;
import org.transformer4j.runtime.cpu.CpuKernels.FloatUnaryOperator;

/** {@code out} and {@code residualOut} may alias {@code x} or {@code residual} exactly (see norm). */
public final class CpuNorm {

    private CpuNorm() {
    }


    /**
     * Per row: {@code h = x + residual} (or {@code x} when residual is null), then
     * {@code h = round(h)} when round is non-null (to emulate storing h in a low-precision dtype),
     * {@code residualOut = h} when residualOut is non-null, and
     * <ul>
     *   <li>LayerNorm ({@code rms == false}): {@code out = (h - mean(h)) / sqrt(var(h) + eps) * weight (+ bias)},
     *       var computed in two passes as mean((h - mean)^2);</li>
     *   <li>RMSNorm ({@code rms == true}): {@code out = h / sqrt(mean(h^2) + eps) * weight (+ bias)}.</li>
     * </ul>
     * fp32 arithmetic. {@code out} and {@code residualOut} may be exactly the same regions (same
     * array, offset and row stride) as {@code x} or {@code residual}: each row is formed in a scratch
     * buffer before anything is written.
     */
    public static void norm(boolean rms, int rows, int cols,
                            float[] x, int xOff, int xRowStride,
                            float[] residual, int rOff, int rRowStride,
                            float[] weight, int wOff,
                            float[] bias, int bOff,
                            float eps,
                            float[] out, int outOff, int outRowStride,
                            float[] residualOut, int roOff, int roRowStride,
                            FloatUnaryOperator round) {
        String op = rms ? "rmsNorm" : "layerNorm";
        if (rows < 0 || cols < 1) {
            throw new IllegalArgumentException(op + ": need rows >= 0 and cols >= 1, got rows=" + rows + ", cols=" + cols);
        }
        if (!(eps >= 0f) || Float.isInfinite(eps)) {
            throw new IllegalArgumentException(op + ": eps must be finite and >= 0, got " + eps);
        }
        Objects.requireNonNull(x, op + ": x");
        Objects.requireNonNull(weight, op + ": weight");
        Objects.requireNonNull(out, op + ": out");
        if (rows > 1 && outRowStride < cols) {
            throw new IllegalArgumentException(op + ": out's rows overlap: outRowStride=" + outRowStride + " < cols=" + cols);
        }
        if (residualOut != null && rows > 1 && roRowStride < cols) {
            throw new IllegalArgumentException(op + ": residualOut's rows overlap: roRowStride=" + roRowStride + " < cols=" + cols);
        }
        // x (rows, cols)
        checkRange(op, "x (rows, cols)", x.length, xOff, 0, 1, rows, xRowStride, cols);
        if (residual != null) {
            // residual (rows, cols)
            checkRange(op, "residual (rows, cols)", residual.length, rOff, 0, 1, rows, rRowStride, cols);
        }
        // weight (cols)
        checkRange(op, "weight (cols)", weight.length, wOff, 0, 1, 1, 0, cols);
        if (bias != null) {
            // bias (cols)
            checkRange(op, "bias (cols)", bias.length, bOff, 0, 1, 1, 0, cols);
        }
        // out (rows, cols)
        checkRange(op, "out (rows, cols)", out.length, outOff, 0, 1, rows, outRowStride, cols);
        if (residualOut != null) {
            // residualOut (rows, cols)
            checkRange(op, "residualOut (rows, cols)", residualOut.length, roOff, 0, 1, rows, roRowStride, cols);
        }
        if (rows == 0) {
            return;
        }
        Norm job = new Norm(rms, cols, x, xOff, xRowStride, residual, rOff, rRowStride, weight, wOff, bias, bOff,
                eps, out, outOff, outRowStride, residualOut, roOff, roRowStride, round, simd());
        boolean parallel = THREADS > 1 && (long) rows * cols >= PARALLEL_MIN_WORK;
        // Enough rows per task to amortise a task (about 16k elements), at least one.
        int rowsPerTask = parallel ? Math.max(1, Math.ceilDiv((int) (PARALLEL_MIN_WORK / 4), cols)) : rows;
        parallelFor(Math.ceilDiv(rows, rowsPerTask), parallel, t -> {
            int r0 = (int) t * rowsPerTask;
            job.rows(r0, Math.min(rows, r0 + rowsPerTask));
        });
    }

    /** One norm call's operands, already validated. */
    private record Norm(boolean rms, int cols,
                        float[] x, int xOff, int xRs, float[] residual, int rOff, int rRs,
                        float[] weight, int wOff, float[] bias, int bOff, float eps,
                        float[] out, int outOff, int outRs, float[] residualOut, int roOff, int roRs,
                        FloatUnaryOperator round, boolean vec) {

        void rows(int r0, int r1) {
            float[] h = new float[cols]; // (cols): one row of h, formed before any output is written
            for (int r = r0; r < r1; r++) {
                hidden(r, h);
                if (residualOut != null) {
                    System.arraycopy(h, 0, residualOut, roOff + r * roRs, cols);
                }
                float mean = rms ? 0f : sum(h) / cols;
                float ms = rms ? sumSq(h) / cols : sumSqDev(h, mean) / cols;
                float rstd = (float) (1.0 / Math.sqrt((double) ms + eps));
                normalize(h, mean, rstd, outOff + r * outRs);
            }
        }

        /** h = round(x[r] + residual[r]) */
        void hidden(int r, float[] h) {
            int xi = xOff + r * xRs;
            if (residual == null) {
                System.arraycopy(x, xi, h, 0, cols);
            } else if (vec) {
                VectorOps.add(x, xi, residual, rOff + r * rRs, h, cols);
            } else {
                int ri = rOff + r * rRs;
                for (int j = 0; j < cols; j++) {
                    h[j] = x[xi + j] + residual[ri + j];
                }
            }
            if (round != null) {
                for (int j = 0; j < cols; j++) {
                    h[j] = round.applyAsFloat(h[j]);
                }
            }
        }

        float sum(float[] h) {
            return vec ? VectorOps.sum(h, cols) : scalarSum(h, cols);
        }

        float sumSq(float[] h) {
            return vec ? VectorOps.sumSq(h, cols) : scalarSumSq(h, cols);
        }

        float sumSqDev(float[] h, float mean) {
            return vec ? VectorOps.sumSqDev(h, cols, mean) : scalarSumSqDev(h, cols, mean);
        }

        /** out[oi:oi+cols] = (h - mean) * rstd * weight (+ bias) */
        void normalize(float[] h, float mean, float rstd, int oi) {
            if (vec) {
                VectorOps.normOut(h, cols, mean, rstd, weight, wOff, bias, bOff, out, oi);
                return;
            }
            for (int j = 0; j < cols; j++) {
                float v = (h[j] - mean) * rstd * weight[wOff + j];
                out[oi + j] = bias == null ? v : v + bias[bOff + j];
            }
        }
    }

    private static float scalarSum(float[] h, int n) {
        float s = 0f;
        for (int i = 0; i < n; i++) {
            s += h[i];
        }
        return s;
    }

    private static float scalarSumSq(float[] h, int n) {
        float s = 0f;
        for (int i = 0; i < n; i++) {
            s += h[i] * h[i];
        }
        return s;
    }

    private static float scalarSumSqDev(float[] h, int n, float mean) {
        float s = 0f;
        for (int i = 0; i < n; i++) {
            float d = h[i] - mean;
            s += d * d;
        }
        return s;
    }
}
