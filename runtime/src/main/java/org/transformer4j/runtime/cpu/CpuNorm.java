// CpuNorm — LayerNorm / RMSNorm with a fused residual add over float[] with explicit offsets and
// strides: the twin of native/src/norm/. fp32 arithmetic, rows spread over the kernel pool.
package org.transformer4j.runtime.cpu;

import static org.transformer4j.runtime.cpu.CpuKernels.PARALLEL_MIN_WORK;
import static org.transformer4j.runtime.cpu.CpuKernels.THREADS;
import static org.transformer4j.runtime.cpu.CpuKernels.checkRange;
import static org.transformer4j.runtime.cpu.CpuKernels.parallelFor;
import static org.transformer4j.runtime.cpu.CpuKernels.simd;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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

    /**
     * {@link #norm(boolean, int, int, float[], int, int, float[], int, int, float[], int, float[], int, float, float[], int, int, float[], int, int, FloatUnaryOperator)
     * norm} on fp32 (rows, cols) matrices stored packed in memory segments (a CPU tensor's storage),
     * read and written where they lie: no copy of x, residual or the outputs to arrays and back.
     * Each row is formed in a (cols) scratch row first, so the bits are those of the array version
     * and {@code out} / {@code residualOut} may be exactly {@code x} or {@code residual}; any other
     * overlap between an input and an output is refused. residual and residualOut may be null.
     */
    public static void norm(boolean rms, int rows, int cols, MemorySegment x, MemorySegment residual,
                            float[] weight, float[] bias, float eps, MemorySegment out, MemorySegment residualOut) {
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
        long bytes = 4L * rows * cols;
        checkBytes(op, "x (rows, cols)", x, bytes);
        checkBytes(op, "residual (rows, cols)", residual, bytes);
        checkBytes(op, "out (rows, cols)", out, bytes);
        checkBytes(op, "residualOut (rows, cols)", residualOut, bytes);
        checkRange(op, "weight (cols)", weight.length, 0, 0, 1, 1, 0, cols);
        if (bias != null) checkRange(op, "bias (cols)", bias.length, 0, 0, 1, 1, 0, cols);
        if (!overlapsAllowed(bytes, x, residual, out, residualOut)) {
            throw new IllegalArgumentException(op + ": an output overlaps an input without being exactly the same region, "
                    + "or out overlaps residualOut");
        }
        if (rows == 0) {
            return;
        }
        boolean vec = simd();
        boolean parallel = THREADS > 1 && (long) rows * cols >= PARALLEL_MIN_WORK
                && accessibleByOthers(x, residual, out, residualOut);
        int rowsPerTask = parallel ? Math.max(1, Math.ceilDiv((int) (PARALLEL_MIN_WORK / 4), cols)) : rows;
        parallelFor(Math.ceilDiv(rows, rowsPerTask), parallel, t -> {
            int r0 = (int) t * rowsPerTask;
            int r1 = Math.min(rows, r0 + rowsPerTask);
            float[] h = new float[cols]; // (cols): one row of h, formed before any output is written
            for (int r = r0; r < r1; r++) {
                long at = 4L * r * cols;
                if (residual == null) {
                    MemorySegment.copy(x, F32, at, h, 0, cols);
                } else if (vec) {
                    VectorOps.add(x, at, residual, at, h, cols);
                } else {
                    for (int j = 0; j < cols; j++) {
                        h[j] = x.getAtIndex(F32, at / 4 + j) + residual.getAtIndex(F32, at / 4 + j);
                    }
                }
                if (residualOut != null) {
                    MemorySegment.copy(h, 0, residualOut, F32, at, cols);
                }
                float mean = rms ? 0f : (vec ? VectorOps.sum(h, cols) : scalarSum(h, cols)) / cols;
                float ms = (rms ? (vec ? VectorOps.sumSq(h, cols) : scalarSumSq(h, cols))
                        : (vec ? VectorOps.sumSqDev(h, cols, mean) : scalarSumSqDev(h, cols, mean))) / cols;
                float rstd = (float) (1.0 / Math.sqrt((double) ms + eps));
                if (vec) {
                    VectorOps.normOut(h, cols, mean, rstd, weight, 0, bias, 0, out, at);
                } else {
                    for (int j = 0; j < cols; j++) {
                        float v = (h[j] - mean) * rstd * weight[j];
                        out.setAtIndex(F32, at / 4 + j, bias == null ? v : v + bias[j]);
                    }
                }
            }
        });
    }

    /**
     * Whether the segment norm accepts these operands' overlaps (the first {@code bytes} of each):
     * out and residualOut each exactly the same region as an input or disjoint from it, and
     * disjoint from each other. Null segments are absent.
     */
    public static boolean overlapsAllowed(long bytes, MemorySegment x, MemorySegment residual, MemorySegment out, MemorySegment residualOut) {
        for (MemorySegment o : new MemorySegment[] {out, residualOut}) {
            for (MemorySegment i : new MemorySegment[] {x, residual}) {
                if (!sameOrDisjoint(o, i, bytes)) return false;
            }
        }
        return residualOut == null || out.asSlice(0, bytes).asOverlappingSlice(residualOut.asSlice(0, bytes)).isEmpty();
    }

    /** fp32 in native byte order, at any alignment (heap segments over byte[] are only byte-aligned). */
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private static void checkBytes(String op, String name, MemorySegment s, long bytes) {
        if (s != null && s.byteSize() < bytes) {
            throw new IllegalArgumentException(op + ": " + name + " needs " + bytes + " bytes, the segment has " + s.byteSize());
        }
    }

    /** Whether the first {@code bytes} of a and b are the same region or share no byte (true when either is null). */
    private static boolean sameOrDisjoint(MemorySegment a, MemorySegment b, long bytes) {
        if (a == null || b == null) return true;
        MemorySegment sa = a.asSlice(0, bytes), sb = b.asSlice(0, bytes);
        // sa overlaps sb in all its bytes: sa lies inside sb, and being as long, is sb
        return sa.asOverlappingSlice(sb).map(o -> o.byteSize() == bytes).orElse(true);
    }

    /** Whether threads other than the caller may read and write every non-null segment (not so for a confined arena's). */
    private static boolean accessibleByOthers(MemorySegment... segments) {
        for (MemorySegment s : segments) {
            if (s != null && !s.isAccessibleBy(OTHER_THREAD)) return false;
        }
        return true;
    }

    /** Never started: asks a segment whether threads other than its owner may use it. */
    private static final Thread OTHER_THREAD = new Thread(() -> { });

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
