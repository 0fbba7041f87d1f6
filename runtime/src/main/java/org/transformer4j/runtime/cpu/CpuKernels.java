// CpuKernels: the CPU backend's math over float[] with explicit offsets and strides (in elements):
// batched GEMM and LayerNorm/RMSNorm with a fused residual add. fp32 arithmetic, multithreaded
// for large problems, vectorised with the Vector API when jdk.incubator.vector is present (all
// Vector API code lives in the nested VectorOps class, which is never loaded otherwise).
package org.transformer4j.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;
import java.util.function.LongConsumer;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Plain-Java kernels used by the CPU backend and as every CUDA kernel's twin.
 *
 * <p>Outputs must not overlap inputs unless a method says otherwise, and distinct output rows
 * (and batches) must not overlap each other.
 */
public final class CpuKernels {

    /** A float-to-float function, e.g. {@code Half::roundToBf16} to emulate a low-precision store. */
    @FunctionalInterface
    public interface FloatUnaryOperator {
        float applyAsFloat(float x);
    }

    /** Problems below this many multiply-adds (or elements, for norms) run on the calling thread. */
    static final long PARALLEL_MIN_WORK = 1L << 16;

    private static final int THREADS = Runtime.getRuntime().availableProcessors();

    /** GEMM cache blocking: a KC x NC block of packed op(B) (1 MiB) stays in L2, an MC x KC block of packed op(A) (120 KiB) too. */
    private static final int KC = 256;
    private static final int MC = 120;
    private static final int NC = 1024;
    /** Micro-tile rows: 6 rows x 2 vectors = 12 accumulators fits AVX2's 16 registers and AVX-512's 32 (VectorOps.microKernel is written out for 6). */
    private static final int MR = 6;
    /** Micro-tile columns of the scalar path: long enough rows for the JIT to auto-vectorise (measured: 64 beats 16 by 1.2-2x). */
    private static final int NR_SCALAR = 64;
    /** Column chunk of the small-M (axpy) path: a few rows of 512 fp32 accumulators stay in L1. */
    private static final int AXPY_CHUNK = 512;
    /** Rows of op(B) per task in the small-M (dot) path. */
    private static final int DOT_CHUNK = 64;
    /** With the Vector API and B stored (N, K), below this M dot products beat transposing B for packing (measured at N = K = 4096). */
    private static final int DOT_MAX_M_SIMD = 12;
    /** Largest shared packing of op(B) (floats, 64 MiB): beyond it each task packs its own blocks. */
    private static final long SHARED_B_MAX = 16L << 20;
    /** Smallest column chunk a small-M task is split down to when spreading work over threads. */
    private static final int MIN_CHUNK = 16;

    private static final boolean SIMD_AVAILABLE = probeSimd();
    private static volatile boolean simd =
            SIMD_AVAILABLE && Boolean.parseBoolean(System.getProperty("t4j.cpu.simd", "true"));

    private CpuKernels() {
    }

    /** Whether the kernels currently use the Vector API (false: scalar loops). */
    public static boolean simd() {
        return simd;
    }

    /** Whether the Vector API is usable in this JVM (module present and a vector width of at least 4 floats). */
    /**
     * Rows below which gemm (and a linear) with B stored (N, K) takes its small-M path, whose per-element
     * sums run in another order than the packed path's: a row's bits are the same for every M on the
     * same side of this limit. The serving engine keeps batched decode rows below it and prefill chunks
     * at or above it, so that batched results equal solo ones bit for bit.
     */
    public static int smallMRows() {
        return simd ? DOT_MAX_M_SIMD : MR;
    }

    static boolean simdAvailable() {
        return SIMD_AVAILABLE;
    }

    /** Switches between the Vector API and scalar paths; for tests. */
    static void setSimd(boolean on) {
        if (on && !SIMD_AVAILABLE) {
            throw new IllegalStateException("the Vector API (jdk.incubator.vector) is not available in this JVM");
        }
        simd = on;
    }

    private static boolean probeSimd() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return false;
        }
        try {
            return VectorOps.V >= 4;
        } catch (LinkageError e) {
            return false;
        }
    }

    // ---------------------------------------------------------------------------------------------
    // GEMM

    /**
     * Batched row-major GEMM: for each batch, {@code C = alpha * op(A) @ op(B) + beta * C}.
     *
     * <p>op(A) is (M, K): stored as (M, K) with row stride {@code aRowStride}, or when {@code transA}
     * stored as (K, M) and transposed. op(B) is (K, N): stored as (K, N), or when {@code transB} as
     * (N, K). C is (M, N). Columns are contiguous in every stored matrix; strides and offsets are in
     * elements; batch strides may be 0 for A and B (broadcast). With {@code beta == 0} C's old contents
     * are not read (NaN there is ignored); with {@code alpha == 0} or {@code K == 0} A and B are not
     * read. Accumulates in fp32.
     */
    public static void gemm(int batch, int M, int N, int K, float alpha,
                            float[] a, int aOff, long aBatchStride, int aRowStride, boolean transA,
                            float[] b, int bOff, long bBatchStride, int bRowStride, boolean transB,
                            float beta,
                            float[] c, int cOff, long cBatchStride, int cRowStride) {
        gemm(batch, M, N, K, alpha, a, aOff, aBatchStride, aRowStride, transA, b, bOff, bBatchStride, bRowStride, transB,
                beta, c, cOff, cBatchStride, cRowStride, null);
    }

    /** A step applied to each finished block of C: rows [i0, i1) and columns [j0, j1) of batch bi. */
    @FunctionalInterface
    public interface BlockEpilogue {
        void apply(int bi, int i0, int i1, int j0, int j1);
    }

    /**
     * {@link #gemm(int, int, int, int, float, float[], int, long, int, boolean, float[], int, long, int, boolean, float, float[], int, long, int)
     * gemm}, then {@code epilogue} (when non-null) on every element of C exactly once, block by
     * block, by the thread that finished the block while it is still in cache. The blocks are
     * disjoint, so an epilogue that reads and writes only its block's elements (and read-only data)
     * gives the same bits however the blocks are scheduled.
     */
    public static void gemm(int batch, int M, int N, int K, float alpha,
                            float[] a, int aOff, long aBatchStride, int aRowStride, boolean transA,
                            float[] b, int bOff, long bBatchStride, int bRowStride, boolean transB,
                            float beta,
                            float[] c, int cOff, long cBatchStride, int cRowStride, BlockEpilogue epilogue) {
        if (batch < 0 || M < 0 || N < 0 || K < 0) {
            throw new IllegalArgumentException("gemm: negative size: batch=" + batch + ", M=" + M + ", N=" + N + ", K=" + K);
        }
        Objects.requireNonNull(a, "gemm: a");
        Objects.requireNonNull(b, "gemm: b");
        Objects.requireNonNull(c, "gemm: c");
        // A (M, K) or (K, M)
        checkRange("gemm", transA ? "A (stored (K, M), transA)" : "A (stored (M, K))", a.length,
                aOff, aBatchStride, batch, transA ? K : M, aRowStride, transA ? M : K);
        // B (K, N) or (N, K)
        checkRange("gemm", transB ? "B (stored (N, K), transB)" : "B (stored (K, N))", b.length,
                bOff, bBatchStride, batch, transB ? N : K, bRowStride, transB ? K : N);
        // C (M, N)
        checkRange("gemm", "C (M, N)", c.length, cOff, cBatchStride, batch, M, cRowStride, N);
        if (M > 1 && cRowStride < N) {
            throw new IllegalArgumentException("gemm: C's rows overlap: cRowStride=" + cRowStride + " < N=" + N);
        }
        if (batch > 1 && cBatchStride == 0 && M > 0 && N > 0) {
            throw new IllegalArgumentException("gemm: C's batches overlap: cBatchStride=0 with batch=" + batch);
        }
        if (batch == 0 || M == 0 || N == 0) {
            return;
        }
        boolean vec = simd;
        Gemm g = new Gemm(batch, M, N, K, alpha, a, aOff, aBatchStride, aRowStride, transA,
                b, bOff, bBatchStride, bRowStride, transB, beta, c, cOff, cBatchStride, cRowStride,
                vec, vec ? VectorOps.NR : NR_SCALAR, epilogue);
        if (K == 0 || alpha == 0f) {
            g.scaleC();
            if (epilogue != null) {
                for (int bi = 0; bi < batch; bi++) epilogue.apply(bi, 0, M, 0, N);
            }
            return;
        }
        boolean parallel = THREADS > 1 && (long) batch * M * N * K >= PARALLEL_MIN_WORK;
        if (directPath(M, transB, vec)) {
            g.runDirect(parallel);
        } else {
            g.runPacked(parallel);
        }
    }

    /**
     * One GEMM call's operands, already validated, and its algorithms: blocked with packing, or
     * for small M without packing. nr is the micro-tile width of the chosen path.
     */
    private record Gemm(int batch, int m, int n, int k, float alpha,
                        float[] a, int aOff, long aBs, int aRs, boolean transA,
                        float[] b, int bOff, long bBs, int bRs, boolean transB,
                        float beta, float[] c, int cOff, long cBs, int cRs, boolean vec, int nr,
                        BlockEpilogue epilogue) {

        // Element bases of batch bi; they fit in int because the ranges were checked.
        int aBase(int bi) {
            return (int) (aOff + bi * aBs);
        }

        int bBase(int bi) {
            return (int) (bOff + bi * bBs);
        }

        int cBase(int bi) {
            return (int) (cOff + bi * cBs);
        }

        float opA(int base, int i, int kk) {
            return transA ? a[base + kk * aRs + i] : a[base + i * aRs + kk];
        }

        /** C = beta * C (0 when beta == 0), for K == 0 or alpha == 0. */
        void scaleC() {
            for (int bi = 0; bi < batch; bi++) {
                for (int i = 0; i < m; i++) {
                    int row = cBase(bi) + i * cRs;
                    for (int j = 0; j < n; j++) {
                        c[row + j] = beta == 0f ? 0f : beta * c[row + j];
                    }
                }
            }
        }

        void store(int ci, float acc, float betaEff) {
            float r = alpha * acc;
            c[ci] = betaEff == 0f ? r : r + betaEff * c[ci];
        }

        // ---- blocked path: pack op(B) into NR-wide panels and op(A) into MR-tall panels

        void runPacked(boolean parallel) {
            int mBlocks = ceilDiv(m, MC);
            int nBlocks = ceilDiv(n, NC);
            long blocks = (long) batch * mBlocks * nBlocks;
            if (parallel && blocks < 8L * THREADS) {
                // Few blocks: split finer, to at least two per thread and a multiple of the thread
                // count, so that the threads finish together.
                long target = Math.max(2L * THREADS, roundUp(blocks, THREADS));
                if ((long) batch * mBlocks * nBlocks < target) {
                    mBlocks = (int) Math.min(ceilDiv(m, MR), ceilDiv(target, (long) batch * nBlocks));
                }
                if ((long) batch * mBlocks * nBlocks < target) {
                    nBlocks = (int) Math.min(ceilDiv(n, nr), ceilDiv(target, (long) batch * mBlocks));
                }
            }
            int mc = roundUp(ceilDiv(m, mBlocks), MR);
            int nc = roundUp(ceilDiv(n, nBlocks), nr);
            int mb = ceilDiv(m, mc);
            int nb = ceilDiv(n, nc);
            int kcMax = Math.min(KC, k);
            // With several row blocks, each would pack the same op(B) blocks again (for M = 1014,
            // K = 384, N = 1536 that was 9 times, a fifth of the GEMM's time): pack all of op(B) once
            // instead, in parallel, when it is not too large; the tasks then read their panels from it.
            int nPad = roundUp(n, nr);
            int bBatches = bBs == 0 ? 1 : batch;
            long shared = (long) bBatches * k * nPad;
            float[] bAll = mb > 1 && shared <= SHARED_B_MAX ? FloatArrays.take((int) shared) : null;   // written whole
            if (bAll != null) {
                int kBlocks = ceilDiv(k, KC);
                int panels = nPad / nr;
                int panelsPerTask = Math.max(1, ceilDiv(panels, 4 * THREADS));
                int panelTasks = ceilDiv(panels, panelsPerTask);
                parallelFor((long) bBatches * kBlocks * panelTasks, parallel, t -> {
                    int bi = (int) (t / ((long) kBlocks * panelTasks));
                    int rest = (int) (t % ((long) kBlocks * panelTasks));
                    int p0 = (rest / panelTasks) * KC;
                    int j0 = (rest % panelTasks) * panelsPerTask * nr;
                    int kc = Math.min(KC, k - p0);
                    int ncb = Math.min(panelsPerTask * nr, n - j0);
                    if (ncb > 0) {
                        packB(bBase(bi), p0, kc, j0, ncb, bAll, sharedOffset(bi, p0, kc, j0, nPad));
                    }
                });
            }
            long tasks = (long) batch * mb * nb;
            LongConsumer task = t -> {
                int bi = (int) (t / ((long) mb * nb));
                int rest = (int) (t % ((long) mb * nb));
                int i0 = (rest / nb) * mc;
                int j0 = (rest % nb) * nc;
                float[] ap = new float[mc * kcMax];
                float[] bp = bAll != null ? null : new float[nc * kcMax];
                float[] tile = new float[MR * nr];
                int mcb = Math.min(mc, m - i0), ncb = Math.min(nc, n - j0);
                block(bi, i0, mcb, j0, ncb, ap, bp, bAll, nPad, tile);
                if (epilogue != null) {
                    epilogue.apply(bi, i0, i0 + mcb, j0, j0 + ncb);
                }
            };
            parallelFor(tasks, parallel, task);
            FloatArrays.give(bAll);
        }

        /** Where the panels of op(B)[p0:p0+kc, j0:] of batch bi start in the shared packing: (batches, K, nPad) in (kc, nr) panels. */
        int sharedOffset(int bi, int p0, int kc, int j0, int nPad) {
            long batchBase = bBs == 0 ? 0 : (long) bi * k * nPad;
            return (int) (batchBase + (long) p0 * nPad + (long) (j0 / nr) * kc * nr);
        }

        /**
         * C[i0:i0+mcb, j0:j0+ncb] of batch bi, over all of K in KC steps: op(B)'s panels come from bAll
         * (all of op(B), packed by runPacked) or, when that is null, are packed here into bp.
         */
        void block(int bi, int i0, int mcb, int j0, int ncb, float[] ap, float[] bp, float[] bAll, int nPad, float[] tile) {
            int aBase = aBase(bi);
            int bBase = bBase(bi);
            int cBase = cBase(bi);
            for (int p0 = 0; p0 < k; p0 += KC) {
                int kc = Math.min(KC, k - p0);
                float[] panels = bp;
                int bOff = 0;
                if (bAll == null) {
                    packB(bBase, p0, kc, j0, ncb, bp, 0);
                } else {
                    panels = bAll;
                    bOff = sharedOffset(bi, p0, kc, j0, nPad);
                }
                packA(aBase, i0, mcb, p0, kc, ap);
                float betaEff = p0 == 0 ? beta : 1f;
                for (int jr = 0; jr < ncb; jr += nr) {
                    int cols = Math.min(nr, ncb - jr);
                    int bo = bOff + (jr / nr) * kc * nr;
                    for (int ir = 0; ir < mcb; ir += MR) {
                        int rows = Math.min(MR, mcb - ir);
                        int ao = (ir / MR) * kc * MR;
                        int ci = cBase + (i0 + ir) * cRs + j0 + jr;
                        if (vec) {
                            VectorOps.microKernel(kc, ap, ao, panels, bo, c, ci, cRs, rows, cols, alpha, betaEff, tile);
                        } else {
                            scalarMicroKernel(kc, ap, ao, panels, bo, ci, rows, cols, betaEff, tile);
                        }
                    }
                }
            }
        }

        /** op(B)[p0:p0+kc, j0:j0+ncb] into panels (ncb/nr, kc, nr) at bp[off:], zero-padded to nr columns. */
        void packB(int bBase, int p0, int kc, int j0, int ncb, float[] bp, int off) {
            for (int jp = 0; jp < ncb; jp += nr) {
                int cols = Math.min(nr, ncb - jp);
                int dst = off + (jp / nr) * kc * nr;
                if (!transB) {
                    // B stored (K, N): a panel row is a contiguous run of B's row.
                    for (int kk = 0; kk < kc; kk++) {
                        System.arraycopy(b, bBase + (p0 + kk) * bRs + j0 + jp, bp, dst + kk * nr, cols);
                    }
                } else {
                    // B stored (N, K): transpose in slabs of 16 along K, so each of B's cache lines
                    // is read whole once while the slab's (16, nr) destination stays in L1.
                    int src = bBase + (j0 + jp) * bRs + p0;
                    for (int k0 = 0; k0 < kc; k0 += 16) {
                        int k1 = Math.min(kc, k0 + 16);
                        for (int jj = 0; jj < cols; jj++) {
                            int s = src + jj * bRs;
                            for (int kk = k0; kk < k1; kk++) {
                                bp[dst + kk * nr + jj] = b[s + kk];
                            }
                        }
                    }
                }
                if (cols < nr) {
                    for (int kk = 0; kk < kc; kk++) {
                        Arrays.fill(bp, dst + kk * nr + cols, dst + kk * nr + nr, 0f);
                    }
                }
            }
        }

        /** op(A)[i0:i0+mcb, p0:p0+kc] into panels (mcb/MR, kc, MR), zero-padded to MR rows. */
        void packA(int aBase, int i0, int mcb, int p0, int kc, float[] ap) {
            for (int ip = 0; ip < mcb; ip += MR) {
                int rows = Math.min(MR, mcb - ip);
                int dst = (ip / MR) * kc * MR;
                if (!transA) {
                    // A stored (M, K)
                    for (int r = 0; r < rows; r++) {
                        int src = aBase + (i0 + ip + r) * aRs + p0;
                        for (int kk = 0; kk < kc; kk++) {
                            ap[dst + kk * MR + r] = a[src + kk];
                        }
                    }
                } else {
                    // A stored (K, M)
                    for (int kk = 0; kk < kc; kk++) {
                        int src = aBase + (p0 + kk) * aRs + i0 + ip;
                        for (int r = 0; r < rows; r++) {
                            ap[dst + kk * MR + r] = a[src + r];
                        }
                    }
                }
                for (int r = rows; r < MR; r++) {
                    for (int kk = 0; kk < kc; kk++) {
                        ap[dst + kk * MR + r] = 0f;
                    }
                }
            }
        }

        /** The scalar micro-kernel: an (MR, nr) tile of C from packed panels, kc deep. */
        void scalarMicroKernel(int kc, float[] ap, int ao, float[] bp, int bo, int ci, int rows, int cols,
                               float betaEff, float[] tile) {
            // tile (MR, nr)
            Arrays.fill(tile, 0f);
            for (int kk = 0; kk < kc; kk++) {
                int bk = bo + kk * NR_SCALAR;
                int ak = ao + kk * MR;
                for (int r = 0; r < MR; r++) {
                    float av = ap[ak + r];
                    int t = r * NR_SCALAR;
                    for (int j = 0; j < NR_SCALAR; j++) {
                        tile[t + j] += av * bp[bk + j];
                    }
                }
            }
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < cols; j++) {
                    store(ci + r * cRs + j, tile[r * nr + j], betaEff);
                }
            }
        }

        // ---- small-M path (e.g. decoding one token): no packing of B

        void runDirect(boolean parallel) {
            int width = directChunk(n, batch, transB ? DOT_CHUNK : AXPY_CHUNK, parallel);
            int perBatch = ceilDiv(n, width);
            LongConsumer task = t -> {
                int bi = (int) (t / perBatch);
                int j0 = (int) (t % perBatch) * width;
                int len = Math.min(width, n - j0);
                if (transB) {
                    directDot(bi, j0, len);
                } else {
                    directAxpy(bi, j0, len);
                }
                if (epilogue != null) {
                    epilogue.apply(bi, 0, m, j0, j0 + len);
                }
            };
            parallelFor((long) batch * perBatch, parallel, task);
        }

        /** B stored (K, N): C[:, j0:j0+len] accumulated as axpys over B's rows. */
        void directAxpy(int bi, int j0, int len) {
            int aBase = aBase(bi);
            int bBase = bBase(bi);
            int cBase = cBase(bi);
            float[] acc = new float[m * len]; // (M, len)
            for (int kk = 0; kk < k; kk++) {
                int bRow = bBase + kk * bRs + j0;
                for (int i = 0; i < m; i++) {
                    float av = opA(aBase, i, kk);
                    if (vec) {
                        VectorOps.axpy(acc, i * len, av, b, bRow, len);
                    } else {
                        scalarAxpy(acc, i * len, av, b, bRow, len);
                    }
                }
            }
            for (int i = 0; i < m; i++) {
                int row = cBase + i * cRs + j0;
                for (int j = 0; j < len; j++) {
                    store(row + j, acc[i * len + j], beta);
                }
            }
        }

        /** B stored (N, K): each C[i, j] is a dot product of op(A)'s row i and B's row j. */
        void directDot(int bi, int j0, int len) {
            int aBase = aBase(bi);
            int bBase = bBase(bi);
            int cBase = cBase(bi);
            float[] rows = a;
            int rowBase = aBase;
            int rowStride = aRs;
            if (transA) {
                // gather op(A) (M, K) from A stored (K, M)
                rows = new float[m * k];
                for (int kk = 0; kk < k; kk++) {
                    for (int i = 0; i < m; i++) {
                        rows[i * k + kk] = a[aBase + kk * aRs + i];
                    }
                }
                rowBase = 0;
                rowStride = k;
            }
            for (int j = j0; j < j0 + len; j++) {
                int bRow = bBase + j * bRs;
                for (int i = 0; i < m; i++) {
                    int aRow = rowBase + i * rowStride;
                    float d = vec ? VectorOps.dot(rows, aRow, b, bRow, k) : scalarDot(rows, aRow, b, bRow, k);
                    store(cBase + i * cRs + j, d, beta);
                }
            }
        }
    }

    private static void scalarAxpy(float[] y, int yo, float alpha, float[] x, int xo, int n) {
        for (int i = 0; i < n; i++) {
            y[yo + i] += alpha * x[xo + i];
        }
    }

    /**
     * C (M, N) = alpha · A (M, K) · Bᵀ for B an fp32 (N, K) matrix read where it lies, in native
     * memory (row j at byte {@code 4 · j · bRowStride} of {@code b}): a decode step's projections
     * without first copying each weight matrix to an array. The arithmetic is gemm's small-M path for
     * B stored (N, K) — the same dot per element, the same lane order — so the bits are gemm's; the
     * epilogue runs on each finished block of columns. Returns false, doing nothing, where gemm would
     * not take that path (M too large for it, or nothing to multiply): the caller then uses gemm.
     */
    public static boolean gemmTransBInPlace(int M, int N, int K, float alpha, float[] a, int aRowStride,
                                            MemorySegment b, int bRowStride, float[] c, int cRowStride,
                                            BlockEpilogue epilogue) {
        boolean vec = simd;
        if (M <= 0 || N <= 0 || K <= 0 || alpha == 0f || !directPath(M, true, vec)) return false;
        Objects.requireNonNull(a, "gemmTransBInPlace: a");
        Objects.requireNonNull(b, "gemmTransBInPlace: b");
        Objects.requireNonNull(c, "gemmTransBInPlace: c");
        checkRange("gemmTransBInPlace", "A (M, K)", a.length, 0, 0, 1, M, aRowStride, K);
        checkRange("gemmTransBInPlace", "C (M, N)", c.length, 0, 0, 1, M, cRowStride, N);
        if (bRowStride < K || b.byteSize() < 4L * ((long) (N - 1) * bRowStride + K)) {
            throw new IllegalArgumentException("gemmTransBInPlace: B (N, K) = (" + N + ", " + K + ") with row stride " + bRowStride
                    + " does not fit in " + b.byteSize() + " bytes");
        }
        if (M > 1 && cRowStride < N) {
            throw new IllegalArgumentException("gemmTransBInPlace: C's rows overlap: cRowStride=" + cRowStride + " < N=" + N);
        }
        // A segment confined to the calling thread cannot be read by the pool's workers: then serially.
        boolean parallel = THREADS > 1 && (long) M * N * K >= PARALLEL_MIN_WORK && b.isAccessibleBy(OTHER_THREAD);
        int width = directChunk(N, 1, DOT_CHUNK, parallel);
        parallelFor(ceilDiv(N, width), parallel, t -> {
            int j0 = (int) t * width;
            int j1 = Math.min(N, j0 + width);
            for (int j = j0; j < j1; j++) {
                long bRow = 4L * j * bRowStride;
                for (int i = 0; i < M; i++) {
                    float d = vec ? VectorOps.dot(a, i * aRowStride, b, bRow, K) : scalarDot(a, i * aRowStride, b, bRow, K);
                    c[i * cRowStride + j] = alpha * d;
                }
            }
            if (epilogue != null) epilogue.apply(0, 0, M, j0, j1);
        });
        return true;
    }

    /** Whether gemm takes its small-M path (no packing): few rows, or B stored (N, K) with vectors and not many. */
    private static boolean directPath(int M, boolean transB, boolean vec) {
        return M < MR || (transB && vec && M < DOT_MAX_M_SIMD);
    }

    /**
     * Columns per task on the small-M path: {@code base}, or when that leaves the threads idle, fewer
     * (at least MIN_CHUNK, a multiple of it) so that there are about two tasks per thread.
     */
    private static int directChunk(int n, int batch, int base, boolean parallel) {
        int chunk = base;
        int chunks = ceilDiv(n, chunk);
        if (parallel && (long) batch * chunks < 2L * THREADS) {
            chunks = (int) Math.min(ceilDiv(n, MIN_CHUNK), ceilDiv(2L * THREADS, batch));
            chunk = roundUp(ceilDiv(n, chunks), MIN_CHUNK);
        }
        return chunk;
    }

    /** Never started: asks a segment whether threads other than its owner may read it. */
    private static final Thread OTHER_THREAD = new Thread(() -> { });

    /** scalarDot with y read from native memory at byte yo: the same order of operations. */
    private static float scalarDot(float[] x, int xo, MemorySegment y, long yo, int n) {
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            s0 += x[xo + i] * y.get(ValueLayout.JAVA_FLOAT_UNALIGNED, yo + 4L * i);
            s1 += x[xo + i + 1] * y.get(ValueLayout.JAVA_FLOAT_UNALIGNED, yo + 4L * (i + 1));
            s2 += x[xo + i + 2] * y.get(ValueLayout.JAVA_FLOAT_UNALIGNED, yo + 4L * (i + 2));
            s3 += x[xo + i + 3] * y.get(ValueLayout.JAVA_FLOAT_UNALIGNED, yo + 4L * (i + 3));
        }
        for (; i < n; i++) {
            s0 += x[xo + i] * y.get(ValueLayout.JAVA_FLOAT_UNALIGNED, yo + 4L * i);
        }
        return (s0 + s1) + (s2 + s3);
    }

    private static float scalarDot(float[] x, int xo, float[] y, int yo, int n) {
        // four independent sums, so the adds do not wait on each other
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            s0 += x[xo + i] * y[yo + i];
            s1 += x[xo + i + 1] * y[yo + i + 1];
            s2 += x[xo + i + 2] * y[yo + i + 2];
            s3 += x[xo + i + 3] * y[yo + i + 3];
        }
        for (; i < n; i++) {
            s0 += x[xo + i] * y[yo + i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    // ---------------------------------------------------------------------------------------------
    // LayerNorm / RMSNorm with a fused residual add

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
                eps, out, outOff, outRowStride, residualOut, roOff, roRowStride, round, simd);
        boolean parallel = THREADS > 1 && (long) rows * cols >= PARALLEL_MIN_WORK;
        // Enough rows per task to amortise a task (about 16k elements), at least one.
        int rowsPerTask = parallel ? Math.max(1, ceilDiv((int) (PARALLEL_MIN_WORK / 4), cols)) : rows;
        parallelFor(ceilDiv(rows, rowsPerTask), parallel, t -> {
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

    // ---------------------------------------------------------------------------------------------
    // activations

    /**
     * x[off:off+n] = act(x[off:off+n]) with Activations' codes, in place. Exact GELU runs on the
     * Vector API when it is on, with the same operations in the same order as Activations.gelu, so
     * both paths give the same bits.
     */
    public static void activate(int act, float[] x, int off, int n) {
        Objects.checkFromIndexSize(off, n, x.length);
        if (act == Activations.NONE) {
            return;
        }
        int i = 0;
        if (act == Activations.GELU && simd) {
            i = VectorOps.gelu(x, off, n);
        }
        for (; i < n; i++) {
            x[off + i] = Activations.apply(act, x[off + i]);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // helpers

    /**
     * Checks that a (batch, rows, cols) view with non-negative offset and strides lies inside an
     * array of the given length; nothing is checked when the view is empty.
     */
    private static void checkRange(String op, String name, int length, int off, long batchStride,
                                   int batch, int rows, long rowStride, int cols) {
        if (off < 0 || batchStride < 0 || rowStride < 0) {
            throw new IllegalArgumentException(op + ": " + name + ": offset and strides must be >= 0, got offset=" + off
                    + ", batchStride=" + batchStride + ", rowStride=" + rowStride);
        }
        if (batch == 0 || rows == 0 || cols == 0) {
            return;
        }
        // Non-negative strides and sizes below 2^31 keep this sum far from long overflow.
        long last = off + (batch - 1) * batchStride + (rows - 1) * rowStride + (cols - 1);
        if (last >= length) {
            throw new IllegalArgumentException(op + ": " + name + " of batch=" + batch + ", rows=" + rows + ", cols=" + cols
                    + " at offset=" + off + ", batchStride=" + batchStride + ", rowStride=" + rowStride
                    + " needs index " + last + ", but the array's length is " + length);
        }
    }

    private static int ceilDiv(int x, int y) {
        return Math.ceilDiv(x, y);
    }

    private static long ceilDiv(long x, long y) {
        return Math.ceilDiv(x, y);
    }

    private static int roundUp(int x, int multiple) {
        return Math.ceilDiv(x, multiple) * multiple;
    }

    private static long roundUp(long x, long multiple) {
        return Math.ceilDiv(x, multiple) * multiple;
    }

    /** Runs body(0..n-1), on the kernel pool when parallel, else on the calling thread. */
    private static void parallelFor(long n, boolean parallel, LongConsumer body) {
        if (!parallel || n <= 1) {
            for (long i = 0; i < n; i++) {
                body.accept(i);
            }
            return;
        }
        Pool.POOL.invoke(new Range(0, n, body));
    }

    /** The kernels' worker pool, created on first parallel use; its threads are daemons. */
    private static final class Pool {
        static final ForkJoinPool POOL = new ForkJoinPool(THREADS);
    }

    /** Splits [lo, hi) in halves down to single indices. */
    @SuppressWarnings("serial") // never serialised
    private static final class Range extends RecursiveAction {
        private final long lo, hi;
        private final LongConsumer body;

        Range(long lo, long hi, LongConsumer body) {
            this.lo = lo;
            this.hi = hi;
            this.body = body;
        }

        @Override
        protected void compute() {
            if (hi - lo == 1) {
                body.accept(lo);
                return;
            }
            long mid = (lo + hi) >>> 1;
            invokeAll(new Range(lo, mid, body), new Range(mid, hi, body));
        }
    }

    // ---------------------------------------------------------------------------------------------

    /** Every Vector API use; loaded only when jdk.incubator.vector is present and enabled. */
    static final class VectorOps {
        static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
        static final int V = S.length();
        /** Micro-tile columns: two vectors. */
        static final int NR = 2 * V;

        private VectorOps() {
        }

        /** An (MR, NR) tile of C += alpha * packed op(A) panel @ packed op(B) panel, kc deep. */
        static void microKernel(int kc, float[] ap, int ao, float[] bp, int bo,
                                float[] c, int ci, int cRs, int rows, int cols,
                                float alpha, float beta, float[] tile) {
            FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
            FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
            FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
            FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
            FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
            FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
            for (int kk = 0; kk < kc; kk++, ao += MR, bo += NR) {
                FloatVector b0 = FloatVector.fromArray(S, bp, bo);
                FloatVector b1 = FloatVector.fromArray(S, bp, bo + V);
                FloatVector av = FloatVector.broadcast(S, ap[ao]);
                c00 = b0.fma(av, c00);
                c01 = b1.fma(av, c01);
                av = FloatVector.broadcast(S, ap[ao + 1]);
                c10 = b0.fma(av, c10);
                c11 = b1.fma(av, c11);
                av = FloatVector.broadcast(S, ap[ao + 2]);
                c20 = b0.fma(av, c20);
                c21 = b1.fma(av, c21);
                av = FloatVector.broadcast(S, ap[ao + 3]);
                c30 = b0.fma(av, c30);
                c31 = b1.fma(av, c31);
                av = FloatVector.broadcast(S, ap[ao + 4]);
                c40 = b0.fma(av, c40);
                c41 = b1.fma(av, c41);
                av = FloatVector.broadcast(S, ap[ao + 5]);
                c50 = b0.fma(av, c50);
                c51 = b1.fma(av, c51);
            }
            if (rows == MR && cols == NR) {
                store(c00, c, ci, alpha, beta);
                store(c01, c, ci + V, alpha, beta);
                store(c10, c, ci + cRs, alpha, beta);
                store(c11, c, ci + cRs + V, alpha, beta);
                store(c20, c, ci + 2 * cRs, alpha, beta);
                store(c21, c, ci + 2 * cRs + V, alpha, beta);
                store(c30, c, ci + 3 * cRs, alpha, beta);
                store(c31, c, ci + 3 * cRs + V, alpha, beta);
                store(c40, c, ci + 4 * cRs, alpha, beta);
                store(c41, c, ci + 4 * cRs + V, alpha, beta);
                store(c50, c, ci + 5 * cRs, alpha, beta);
                store(c51, c, ci + 5 * cRs + V, alpha, beta);
                return;
            }
            // edge tile: spill to tile (MR, NR) and store the part inside C
            c00.intoArray(tile, 0);
            c01.intoArray(tile, V);
            c10.intoArray(tile, NR);
            c11.intoArray(tile, NR + V);
            c20.intoArray(tile, 2 * NR);
            c21.intoArray(tile, 2 * NR + V);
            c30.intoArray(tile, 3 * NR);
            c31.intoArray(tile, 3 * NR + V);
            c40.intoArray(tile, 4 * NR);
            c41.intoArray(tile, 4 * NR + V);
            c50.intoArray(tile, 5 * NR);
            c51.intoArray(tile, 5 * NR + V);
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < cols; j++) {
                    int i = ci + r * cRs + j;
                    float v = alpha * tile[r * NR + j];
                    c[i] = beta == 0f ? v : v + beta * c[i];
                }
            }
        }

        private static void store(FloatVector acc, float[] c, int i, float alpha, float beta) {
            FloatVector v = acc.mul(alpha);
            if (beta != 0f) {
                v = v.add(FloatVector.fromArray(S, c, i).mul(beta));
            }
            v.intoArray(c, i);
        }

        /** y[yo:yo+n] += alpha * x[xo:xo+n] */
        static void axpy(float[] y, int yo, float alpha, float[] x, int xo, int n) {
            FloatVector av = FloatVector.broadcast(S, alpha);
            int i = 0;
            for (int upper = S.loopBound(n); i < upper; i += V) {
                FloatVector.fromArray(S, x, xo + i).fma(av, FloatVector.fromArray(S, y, yo + i)).intoArray(y, yo + i);
            }
            for (; i < n; i++) {
                y[yo + i] += alpha * x[xo + i];
            }
        }

        /**
         * s[j] = Σ_d q[qo + d] · kt[d·lkPad + j] for j < lkPad (a multiple of V), d in order: one query's
         * attention scores against keys stored transposed (HS, lkPad), accumulated in registers.
         */
        static void scores(float[] q, int qo, int hs, float[] kt, int lkPad, float[] s) {
            int j = 0;
            for (; j + 2 * V <= lkPad; j += 2 * V) {
                FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S);
                for (int d = 0; d < hs; d++) {
                    FloatVector qd = FloatVector.broadcast(S, q[qo + d]);
                    a0 = FloatVector.fromArray(S, kt, d * lkPad + j).fma(qd, a0);
                    a1 = FloatVector.fromArray(S, kt, d * lkPad + j + V).fma(qd, a1);
                }
                a0.intoArray(s, j);
                a1.intoArray(s, j + V);
            }
            for (; j < lkPad; j += V) {
                FloatVector a = FloatVector.zero(S);
                for (int d = 0; d < hs; d++) {
                    a = FloatVector.fromArray(S, kt, d * lkPad + j).fma(FloatVector.broadcast(S, q[qo + d]), a);
                }
                a.intoArray(s, j);
            }
        }

        /**
         * acc[d] = Σ_t w[t] · v[vOff[t] + d] for d < hs, t = 0 .. count − 1 in order: a weighted sum of
         * rows, V columns at a time in registers, the columns past a whole vector one by one.
         */
        static void weightedRows(float[] w, int[] vOff, int count, float[] v, int hs, float[] acc) {
            int d = 0;
            for (; d + 2 * V <= hs; d += 2 * V) {
                FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S);
                for (int t = 0; t < count; t++) {
                    FloatVector wt = FloatVector.broadcast(S, w[t]);
                    a0 = FloatVector.fromArray(S, v, vOff[t] + d).fma(wt, a0);
                    a1 = FloatVector.fromArray(S, v, vOff[t] + d + V).fma(wt, a1);
                }
                a0.intoArray(acc, d);
                a1.intoArray(acc, d + V);
            }
            for (; d + V <= hs; d += V) {
                FloatVector a = FloatVector.zero(S);
                for (int t = 0; t < count; t++) {
                    a = FloatVector.fromArray(S, v, vOff[t] + d).fma(FloatVector.broadcast(S, w[t]), a);
                }
                a.intoArray(acc, d);
            }
            for (; d < hs; d++) {
                float a = 0f;
                for (int t = 0; t < count; t++) a += w[t] * v[vOff[t] + d];
                acc[d] = a;
            }
        }

        /**
         * The lanes' sum, lane 0 first.
         *
         * <p>The rule for every kernel here: same inputs, same bits, on every call, whether the
         * interpreter, C1 or C2 runs the code. Lanewise add/mul/sub and fma are single IEEE roundings
         * and agree everywhere; what may not appear is an operation whose order of float additions is
         * left open. reduceLanes(ADD) is one: its Java fallback (interpreter, C1) adds lane 0 first,
         * C2's intrinsic in another order, so a 2x256x256 GEMM gave three bit patterns in 60 calls as
         * the JIT got to it. Sum lanes here, in this order; CpuDeterminismTest checks the rule.
         */
        static float sumLanes(FloatVector v) {
            float t = 0f;
            for (int l = 0; l < V; l++) t += v.lane(l);
            return t;
        }

        /** sum of x[xo+i] * y[yo+i] over i < n, with four independent accumulators. */
        /** dot with y read from native memory at byte yo: the same accumulators, lane order and tail. */
        static float dot(float[] x, int xo, MemorySegment y, long yo, int n) {
            ByteOrder le = ByteOrder.nativeOrder();
            FloatVector s0 = FloatVector.zero(S), s1 = FloatVector.zero(S);
            FloatVector s2 = FloatVector.zero(S), s3 = FloatVector.zero(S);
            int i = 0;
            for (int upper = n - 4 * V; i <= upper; i += 4 * V) {
                s0 = FloatVector.fromArray(S, x, xo + i).fma(FloatVector.fromMemorySegment(S, y, yo + 4L * i, le), s0);
                s1 = FloatVector.fromArray(S, x, xo + i + V).fma(FloatVector.fromMemorySegment(S, y, yo + 4L * (i + V), le), s1);
                s2 = FloatVector.fromArray(S, x, xo + i + 2 * V).fma(FloatVector.fromMemorySegment(S, y, yo + 4L * (i + 2 * V), le), s2);
                s3 = FloatVector.fromArray(S, x, xo + i + 3 * V).fma(FloatVector.fromMemorySegment(S, y, yo + 4L * (i + 3 * V), le), s3);
            }
            for (int upper = S.loopBound(n); i < upper; i += V) {
                s0 = FloatVector.fromArray(S, x, xo + i).fma(FloatVector.fromMemorySegment(S, y, yo + 4L * i, le), s0);
            }
            float s = sumLanes(s0.add(s1).add(s2.add(s3)));
            for (; i < n; i++) {
                s += x[xo + i] * y.get(ValueLayout.JAVA_FLOAT_UNALIGNED, yo + 4L * i);
            }
            return s;
        }

        static float dot(float[] x, int xo, float[] y, int yo, int n) {
            FloatVector s0 = FloatVector.zero(S), s1 = FloatVector.zero(S);
            FloatVector s2 = FloatVector.zero(S), s3 = FloatVector.zero(S);
            int i = 0;
            for (int upper = n - 4 * V; i <= upper; i += 4 * V) {
                s0 = FloatVector.fromArray(S, x, xo + i).fma(FloatVector.fromArray(S, y, yo + i), s0);
                s1 = FloatVector.fromArray(S, x, xo + i + V).fma(FloatVector.fromArray(S, y, yo + i + V), s1);
                s2 = FloatVector.fromArray(S, x, xo + i + 2 * V).fma(FloatVector.fromArray(S, y, yo + i + 2 * V), s2);
                s3 = FloatVector.fromArray(S, x, xo + i + 3 * V).fma(FloatVector.fromArray(S, y, yo + i + 3 * V), s3);
            }
            for (int upper = S.loopBound(n); i < upper; i += V) {
                s0 = FloatVector.fromArray(S, x, xo + i).fma(FloatVector.fromArray(S, y, yo + i), s0);
            }
            float s = sumLanes(s0.add(s1).add(s2.add(s3)));
            for (; i < n; i++) {
                s += x[xo + i] * y[yo + i];
            }
            return s;
        }

        /** h[0:n] = x[xo:xo+n] + r[ro:ro+n] */
        static void add(float[] x, int xo, float[] r, int ro, float[] h, int n) {
            int i = 0;
            for (int upper = S.loopBound(n); i < upper; i += V) {
                FloatVector.fromArray(S, x, xo + i).add(FloatVector.fromArray(S, r, ro + i)).intoArray(h, i);
            }
            for (; i < n; i++) {
                h[i] = x[xo + i] + r[ro + i];
            }
        }

        static float sum(float[] h, int n) {
            FloatVector s = FloatVector.zero(S);
            int i = 0;
            for (int upper = S.loopBound(n); i < upper; i += V) {
                s = s.add(FloatVector.fromArray(S, h, i));
            }
            float t = sumLanes(s);
            for (; i < n; i++) {
                t += h[i];
            }
            return t;
        }

        static float sumSq(float[] h, int n) {
            FloatVector s = FloatVector.zero(S);
            int i = 0;
            for (int upper = S.loopBound(n); i < upper; i += V) {
                FloatVector v = FloatVector.fromArray(S, h, i);
                s = v.fma(v, s);
            }
            float t = sumLanes(s);
            for (; i < n; i++) {
                t += h[i] * h[i];
            }
            return t;
        }

        static float sumSqDev(float[] h, int n, float mean) {
            FloatVector s = FloatVector.zero(S);
            int i = 0;
            for (int upper = S.loopBound(n); i < upper; i += V) {
                FloatVector d = FloatVector.fromArray(S, h, i).sub(mean);
                s = d.fma(d, s);
            }
            float t = sumLanes(s);
            for (; i < n; i++) {
                float d = h[i] - mean;
                t += d * d;
            }
            return t;
        }

        /** Doubles per vector, and floats and ints with as many lanes (for GELU in double). */
        static final VectorSpecies<Double> DS = DoubleVector.SPECIES_PREFERRED;
        static final VectorSpecies<Float> FH = VectorSpecies.of(float.class, VectorShape.forBitSize(DS.vectorBitSize() / 2));
        static final VectorSpecies<Integer> IH = VectorSpecies.of(int.class, VectorShape.forBitSize(DS.vectorBitSize() / 2));

        /**
         * x[off:off+i] = gelu(x[off:off+i]) for the largest i ≤ n that is a whole number of vectors;
         * returns i. Activations.gelu lane by lane: erfc from the Taylor table (gathered), Horner's
         * rule with separate multiply and add, the same roundings; a vector with a lane past the
         * table (|x| > 8.48) or NaN goes to Activations.gelu.
         */
        static int gelu(float[] x, int off, int n) {
            int lanes = DS.length();
            int[] index = new int[lanes];
            double[] t = Activations.ERFC_TAYLOR;
            int terms = Activations.ERFC_TERMS;
            int i = 0;
            for (int upper = n - lanes; i <= upper; i += lanes) {
                DoubleVector xd = (DoubleVector) FloatVector.fromArray(FH, x, off + i).convertShape(VectorOperators.F2D, DS, 0);
                DoubleVector z = xd.abs().mul(0.7071067811865476);
                VectorMask<Double> outside = z.compare(VectorOperators.GE, Activations.ERFC_MAX).or(z.test(VectorOperators.IS_NAN));
                if (outside.anyTrue()) {
                    for (int j = 0; j < lanes; j++) x[off + i + j] = Activations.gelu(x[off + i + j]);
                    continue;
                }
                // the nearest grid point in fp32: a double-to-int conversion across shapes is slow (2.4 ns a lane)
                FloatVector zf = (FloatVector) z.convertShape(VectorOperators.D2F, FH, 0);
                IntVector cell = (IntVector) zf.mul(Activations.ERFC_STEPS).add(0.5f).convert(VectorOperators.F2I, 0);
                DoubleVector d = z.sub(((DoubleVector) cell.convertShape(VectorOperators.I2D, DS, 0)).mul(1.0 / Activations.ERFC_STEPS));
                cell.mul(terms).intoArray(index, 0);
                DoubleVector e = DoubleVector.fromArray(DS, t, terms - 1, index, 0);
                for (int k = terms - 2; k >= 0; k--) {
                    e = e.mul(d).add(DoubleVector.fromArray(DS, t, k, index, 0));
                }
                DoubleVector pos = xd.mul(DoubleVector.broadcast(DS, 1.0).sub(e.mul(0.5)));   // x (1 − e/2)
                DoubleVector neg = xd.mul(0.5).mul(e);                   // x/2 · e
                DoubleVector r = neg.blend(pos, xd.compare(VectorOperators.GE, 0.0));
                ((FloatVector) r.convertShape(VectorOperators.D2F, FH, 0)).intoArray(x, off + i);
            }
            return i;
        }

        /** out[oi:oi+n] = (h - mean) * rstd * w[wo:wo+n] (+ bias[bo:bo+n]) */
        static void normOut(float[] h, int n, float mean, float rstd, float[] w, int wo,
                            float[] bias, int bo, float[] out, int oi) {
            int i = 0;
            for (int upper = S.loopBound(n); i < upper; i += V) {
                FloatVector v = FloatVector.fromArray(S, h, i).sub(mean).mul(rstd).mul(FloatVector.fromArray(S, w, wo + i));
                if (bias != null) {
                    v = v.add(FloatVector.fromArray(S, bias, bo + i));
                }
                v.intoArray(out, oi + i);
            }
            for (; i < n; i++) {
                float v = (h[i] - mean) * rstd * w[wo + i];
                out[oi + i] = bias == null ? v : v + bias[bo + i];
            }
        }
    }
}
