// CpuGemm — the CPU backend's batched GEMM over float[] with explicit offsets and strides (in
// elements): cache-blocked packing and a micro-kernel for large M, dot/axpy paths for few rows,
// and the in-place path that reads fp32 (N, K) weights where they lie. The twin of cuBLAS for
// GemmOp and the product inside CpuLinear. fp32 arithmetic, multithreaded for large problems.
package org.transformer4j.runtime.cpu;

import static org.transformer4j.runtime.cpu.CpuKernels.PARALLEL_MIN_WORK;
import static org.transformer4j.runtime.cpu.CpuKernels.THREADS;
import static org.transformer4j.runtime.cpu.CpuKernels.checkRange;
import static org.transformer4j.runtime.cpu.CpuKernels.parallelFor;
import static org.transformer4j.runtime.cpu.CpuKernels.simd;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Objects;
import java.util.function.LongConsumer;

/** Outputs must not overlap inputs, and distinct output rows (and batches) must not overlap each other. */
public final class CpuGemm {

    /**
     * GEMM cache blocking: a KC x NC block of packed op(B) (1 MiB) stays in L2, an MC x KC block of packed op(A) (120 KiB) too.
     * KC is a multiple of 32, so an MXFP4 B's KC-long pieces are whole blocks (WeightRows.decode).
     */
    private static final int KC = 256;
    private static final int MC = 120;
    private static final int NC = 1024;
    /** Micro-tile rows: 6 rows x 2 vectors = 12 accumulators fits AVX2's 16 registers and AVX-512's 32 (VectorOps.microKernel is written out for 6). */
    static final int MR = 6;
    /** Micro-tile columns of the scalar path: long enough rows for the JIT to auto-vectorise (measured: 64 beats 16 by 1.2-2x). */
    private static final int NR_SCALAR = 64;
    /** Column chunk of the small-M (axpy) path: a few rows of 512 fp32 accumulators stay in L1. */
    private static final int AXPY_CHUNK = 512;
    /** Rows of op(B) per task in the small-M (dot) path, at most, and their floats at most (256 KiB: in L2). */
    private static final int DOT_CHUNK = 64;
    private static final int DOT_CHUNK_FLOATS = 64 << 10;
    /** Rows of op(A) that pass a task's B rows together on the tiled dot path (16 rows of K = 3072: 192 KiB, in L2 beside them). */
    private static final int DOT_ROW_BLOCK = 16;
    /**
     * With the Vector API and B stored (N, K), products of up to this many rows take the tiled dot path
     * (VectorOps.dotTile: no packing, B read once, each element's bits independent of M): a serving
     * engine's whole decode batch (Engine.Config.defaults runs up to 64 sequences) in one group, and
     * prompts of up to this many tokens, whose prefill chunks may then be of any size. Larger
     * products (long prompts' prefill) take the packed path.
     */
    static final int DOT_MAX_ROWS = 128;
    /** The same limit without the tiles (vectors of 128 bits): one dot per element beats packing below 12 rows (measured at N = K = 4096 with AVX2 before its tiles). */
    private static final int DOT_MAX_ROWS_UNTILED = 11;
    /** Largest shared packing of op(B) (floats, 64 MiB): beyond it each task packs its own blocks. */
    private static final long SHARED_B_MAX = 16L << 20;
    /** Tasks per thread that a GEMM of few cache blocks is split into, so that the threads finish together even when one core is interrupted. */
    private static final int TASKS_PER_THREAD = 8;
    /** Smallest column chunk a small-M task is split down to when spreading work over threads. */
    private static final int MIN_CHUNK = 16;

    private CpuGemm() {
    }


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
        boolean vec = simd();
        Gemm g = new Gemm(batch, M, N, K, alpha, a, aOff, aBatchStride, aRowStride, transA,
                b, bOff, bBatchStride, bRowStride, transB, beta, c, cOff, cBatchStride, cRowStride,
                vec, vec ? VectorOps.NR : NR_SCALAR, epilogue, null);
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
     * for small M without packing. nr is the micro-tile width of the chosen path. B is b, or where
     * bRows is non-null (then b is null, batch 1, transB) an encoded matrix whose rows packB decodes.
     */
    private record Gemm(int batch, int m, int n, int k, float alpha,
                        float[] a, int aOff, long aBs, int aRs, boolean transA,
                        float[] b, int bOff, long bBs, int bRs, boolean transB,
                        float beta, float[] c, int cOff, long cBs, int cRs, boolean vec, int nr,
                        BlockEpilogue epilogue, WeightRows bRows) {

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
            if (parallel && blocks < TASKS_PER_THREAD * THREADS) {
                // Few blocks: split finer, to several per thread and a multiple of the thread count.
                // With two per thread (as before), a core lost for a while to anything else (a JIT
                // compile, GC, another process) held the whole GEMM back by up to half; with
                // op(B) packed once and shared, more row blocks cost only the A panels' reuse.
                long target = roundUp(Math.max(TASKS_PER_THREAD * THREADS, blocks), THREADS);
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
            float[] row = bRows == null ? null : new float[kc];
            for (int jp = 0; jp < ncb; jp += nr) {
                int cols = Math.min(nr, ncb - jp);
                int dst = off + (jp / nr) * kc * nr;
                if (!transB) {
                    // B stored (K, N): a panel row is a contiguous run of B's row.
                    for (int kk = 0; kk < kc; kk++) {
                        System.arraycopy(b, bBase + (p0 + kk) * bRs + j0 + jp, bp, dst + kk * nr, cols);
                    }
                } else if (bRows != null) {
                    // encoded B (N, K): each row's kc values decoded (the values a widened copy holds), then scattered
                    for (int jj = 0; jj < cols; jj++) {
                        bRows.decode(j0 + jp + jj, 1, p0, kc, row, 0);
                        for (int kk = 0; kk < kc; kk++) {
                            bp[dst + kk * nr + jj] = row[kk];
                        }
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
            int width = transB ? dotChunk(n, k, batch, parallel, vec) : directChunk(n, batch, AXPY_CHUNK, parallel);
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
            if (vec) {
                directDotTiled(bi, j0, len);
                return;
            }
            int aBase = aBase(bi);
            int bBase = bBase(bi);
            int cBase = cBase(bi);
            float[] rows = a;
            int rowBase = aBase;
            int rowStride = aRs;
            if (transA) {
                rows = opARows(bi);
                rowBase = 0;
                rowStride = k;
            }
            for (int j = j0; j < j0 + len; j++) {
                int bRow = bBase + j * bRs;
                for (int i = 0; i < m; i++) {
                    int aRow = rowBase + i * rowStride;
                    store(cBase + i * cRs + j, scalarDot(rows, aRow, b, bRow, k), beta);
                }
            }
        }

        /** directDot with the Vector API: VectorOps.dotTile over B as a heap segment. */
        void directDotTiled(int bi, int j0, int len) {
            float[] rows = a;
            int rowBase = aBase(bi);
            int rowStride = aRs;
            if (transA) {
                rows = opARows(bi);
                rowBase = 0;
                rowStride = k;
            }
            int cBase = cBase(bi);
            dotTiles(m, k, rows, rowBase, rowStride, MemorySegment.ofArray(b), 4L * bBase(bi), 4L * bRs, j0, j0 + len,
                    (i, j, d) -> store(cBase + i * cRs + j, d, beta));
        }

        /** op(A) (M, K) gathered from A stored (K, M). */
        float[] opARows(int bi) {
            int aBase = aBase(bi);
            float[] rows = new float[m * k];
            for (int kk = 0; kk < k; kk++) {
                for (int i = 0; i < m; i++) {
                    rows[i * k + kk] = a[aBase + kk * aRs + i];
                }
            }
            return rows;
        }
    }

    /** Receives C[i, j]'s dot product. */
    @FunctionalInterface
    private interface DotSink {
        void put(int i, int j, float d);
    }

    /**
     * The dot products of A's rows 0..m-1 (element offset aBase, row stride aRs) with B's rows
     * [j0, j1) (byte offset bBase, byte row stride bRs) in VectorOps.dotTile's tiles of 4 B rows by
     * 4 A rows (256- and 512-bit vectors): a tile's B rows stay in cache while the A rows of a block of
     * DOT_ROW_BLOCK pass them, and the task's B rows (see dotChunk) stay in L2 while the row blocks pass.
     * Columns past j1 in the last tile repeat row j1 - 1 and are not reported; so do rows: 3 rows left
     * over in a block, or 2 where M &gt; 2 (M = 3, 6, 7, …), take one tile whose last row repeats; a
     * single row (M = 1, 5, …), M = 2, and every row with 128-bit vectors one VectorOps.dot per
     * element, which is bound by its one accumulator chain. SmallMGemm, GPT-2 small's step, 2026-12-04,
     * ms per step by dots → with the tile: 512-bit vectors M = 3 24.9 → 19.8, M = 7 34.0 → 24.4 (M = 4
     * 19.9, M = 8 25.7); 256-bit M = 3 31.3 → 24.7, M = 6 40.4 → 33.6, M = 7 48.0 → 34.2; M = 2 alone
     * was no faster as a tile (256-bit: 22.1 by dots, 25.5 as a tile; one JVM each, ±10%). Every element
     * has VectorOps.dot's bits. (For one row the plain dot, streaming one B row at a time, measured 2.8×
     * less CPU time than a 1×4 tile's four strided passes: 18.5 vs 52.3 ms per GPT-2-small step,
     * SmallMGemm, 2026-12-04, load average 120–220.)
     */
    private static void dotTiles(int m, int k, float[] a, int aBase, int aRs, MemorySegment b, long bBase, long bRs,
                                 int j0, int j1, DotSink sink) {
        float[] part = new float[VectorOps.TILE_SCRATCH];
        float[] d = new float[16];
        for (int i0 = 0; i0 < m; i0 += DOT_ROW_BLOCK) {
            int i1 = Math.min(m, i0 + DOT_ROW_BLOCK);
            for (int j = j0; j < j1; j += VectorOps.TILE_COLS) {
                int cols = Math.min(VectorOps.TILE_COLS, j1 - j);
                long w0 = bBase + j * bRs;
                long w1 = bBase + (j + Math.min(1, cols - 1)) * bRs;
                long w2 = bBase + (j + Math.min(2, cols - 1)) * bRs;
                long w3 = bBase + (j + Math.min(3, cols - 1)) * bRs;
                int i = i0;
                // whole tiles, then 3 rows left (or 2 where M > 2) as one tile whose last row repeats
                for (int rows; VectorOps.TILED && ((rows = Math.min(4, i1 - i)) >= 3 || (rows == 2 && m > 2)); i += rows) {
                    int r0 = aBase + i * aRs, last = r0 + (rows - 1) * aRs;
                    // the first tile of the first row block is the one that reads these B rows from memory
                    VectorOps.dotTile(a, r0, Math.min(r0 + aRs, last), Math.min(r0 + 2 * aRs, last), last, b, w0, w1, w2, w3, k, part, d, i == 0);
                    for (int r = 0; r < rows; r++) {
                        for (int c = 0; c < cols; c++) sink.put(i + r, j + c, d[4 * r + c]);
                    }
                }
                for (; i < i1; i++) {                      // rows left over: one dot each, B's rows now in cache
                    int r0 = aBase + i * aRs;
                    for (int c = 0; c < cols; c++) sink.put(i, j + c, VectorOps.dot(a, r0, b, bBase + (j + c) * bRs, k));
                }
            }
        }
    }

    /**
     * Columns (B rows) per task on the tiled dot path: DOT_CHUNK, fewer for long rows so that a
     * task's B rows (≤ 256 KiB) stay in L2 while its row blocks pass them, and fewer again (see
     * directChunk) to give every thread work.
     */
    private static int dotChunk(int n, int k, int batch, boolean parallel, boolean vec) {
        int base = Math.max(MIN_CHUNK, Math.min(DOT_CHUNK, (DOT_CHUNK_FLOATS / Math.max(1, k)) / MIN_CHUNK * MIN_CHUNK));
        int width = directChunk(n, batch, base, parallel);
        // whole tiles: with 3-column tiles (256-bit vectors) a 16-column chunk ended in a tile computing one
        // column three times (K = 3072: 6 tiles for 16 columns instead of 5 1/3)
        int cols = vec && VectorOps.TILED ? VectorOps.TILE_COLS : 1;
        return width > cols ? width - width % cols : width;
    }

    private static void scalarAxpy(float[] y, int yo, float alpha, float[] x, int xo, int n) {
        for (int i = 0; i < n; i++) {
            y[yo + i] += alpha * x[xo + i];
        }
    }

    /**
     * C (M, N) = alpha · A (M, K) · Bᵀ for B an fp32 (N, K) matrix read where it lies (row j at byte
     * {@code 4 · j · bRowStride} of {@code b}) on gemm's small-M path only: {@link #gemmTransB} over {@link F32Rows}, the
     * same dot per element, the same lane order, so the bits are gemm's; the epilogue runs on each finished block of
     * columns. Returns false, doing nothing, where gemm would not take that path (M too large for it, or nothing to
     * multiply). Tests and the small-M benchmark call it; CpuLinear calls gemmTransB for every M.
     */
    public static boolean gemmTransBInPlace(int M, int N, int K, float alpha, float[] a, int aRowStride,
                                            MemorySegment b, int bRowStride, float[] c, int cRowStride,
                                            BlockEpilogue epilogue) {
        if (M <= 0 || N <= 0 || K <= 0 || alpha == 0f || !directPath(M, true, simd())) return false;
        Objects.requireNonNull(b, "gemmTransBInPlace: b");
        gemmTransB(M, N, K, alpha, a, aRowStride, new F32Rows(b, bRowStride, N, K), c, cRowStride, epilogue);
        return true;
    }

    /**
     * C (M, N) = alpha · A (M, K) · Bᵀ for B an (N, K) matrix (F32, BF16, F16, MXFP4) read where it lies, never copied or
     * widened whole: on the small-M path fp32 rows are dotted where they lie, and other encodings have each task decode
     * its chunk of B's rows (≤ 256 KiB of fp32 for K ≤ 4096, see dotChunk) into a per-thread tile and run gemm's dot
     * tiles on it (one row with {@link WeightRows#dots()}: straight from the encoded row); on the packed path packB
     * decodes (copies) each row's KC values (whole MXFP4 blocks: KC is a multiple of 32) as it packs them. The values
     * decoded are the widened copy's and every path is gemm's for that M, so the bits are those of gemm over the widened
     * matrix (beta 0), epilogue included.
     */
    static void gemmTransB(int M, int N, int K, float alpha, float[] a, int aRowStride, WeightRows b,
                           float[] c, int cRowStride, BlockEpilogue epilogue) {
        Objects.requireNonNull(a, "gemmTransB: a");
        Objects.requireNonNull(b, "gemmTransB: b");
        Objects.requireNonNull(c, "gemmTransB: c");
        if (M < 0 || b.n() != N || b.k() != K) {
            throw new IllegalArgumentException("gemmTransB: M=" + M + ", B (N, K) = (" + N + ", " + K + ") against its rows (" + b.n() + ", " + b.k() + ")");
        }
        checkRange("gemmTransB", "A (M, K)", a.length, 0, 0, 1, M, aRowStride, K);
        checkRange("gemmTransB", "C (M, N)", c.length, 0, 0, 1, M, cRowStride, N);
        if (M > 1 && cRowStride < N) {
            throw new IllegalArgumentException("gemmTransB: C's rows overlap: cRowStride=" + cRowStride + " < N=" + N);
        }
        if (M == 0 || N == 0) return;
        boolean vec = simd();
        // A segment confined to the calling thread cannot be read by the pool's workers: then serially.
        boolean parallel = THREADS > 1 && (long) M * N * K >= PARALLEL_MIN_WORK && b.shared(OTHER_THREAD);
        if (K == 0 || alpha == 0f || !directPath(M, true, vec)) {
            Gemm g = new Gemm(1, M, N, K, alpha, a, 0, 0, aRowStride, false, null, 0, 0, K, true, 0f, c, 0, 0, cRowStride,
                    vec, vec ? VectorOps.NR : NR_SCALAR, epilogue, b);
            if (K == 0 || alpha == 0f) {
                g.scaleC();
                if (epilogue != null) epilogue.apply(0, 0, M, 0, N);
            } else {
                g.runPacked(parallel);
            }
            return;
        }
        int width = dotChunk(N, K, 1, parallel, vec);
        parallelFor(ceilDiv(N, width), parallel, t -> {
            int j0 = (int) t * width;
            int len = Math.min(N, j0 + width) - j0;
            if (b instanceof F32Rows f) {
                // fp32 rows where they lie: gemm's dot tiles (or its scalar dots) straight over the segment
                if (vec) {
                    dotTiles(M, K, a, 0, aRowStride, f.seg(), 0, 4L * f.rowStride(), j0, j0 + len, (i, j, d) -> c[i * cRowStride + j] = alpha * d);
                } else {
                    for (int j = j0; j < j0 + len; j++) {
                        for (int i = 0; i < M; i++) c[i * cRowStride + j] = alpha * scalarDot(a, i * aRowStride, f.seg(), 4L * j * f.rowStride(), K);
                    }
                }
                if (epilogue != null) epilogue.apply(0, 0, M, j0, j0 + len);
                return;
            }
            if (vec && M == 1 && b.dots()) {
                // one row (a decode step): dotTiles takes one VectorOps.dot per element there, so the same dot straight
                // from the encoded row, decoded in registers (no tile written and read back)
                for (int j = j0; j < j0 + len; j++) c[j] = alpha * b.dot(a, 0, j);
                if (epilogue != null) epilogue.apply(0, 0, 1, j0, j0 + len);
                return;
            }
            float[] tile = DOT_TILE.get();
            if (tile.length < len * K) DOT_TILE.set(tile = new float[len * K]);
            b.decode(j0, len, 0, K, tile, 0);                                   // (len, K): B's rows [j0, j0 + len)
            if (vec) {
                dotTiles(M, K, a, 0, aRowStride, MemorySegment.ofArray(tile), 0, 4L * K, 0, len,
                        (i, j, d) -> c[i * cRowStride + j0 + j] = alpha * d);
            } else {
                for (int j = 0; j < len; j++) {
                    for (int i = 0; i < M; i++) {
                        c[i * cRowStride + j0 + j] = alpha * scalarDot(a, i * aRowStride, tile, j * K, K);
                    }
                }
            }
            if (epilogue != null) epilogue.apply(0, 0, M, j0, j0 + len);
        });
    }

    /** Each thread's fp32 tile of decoded B rows for gemmTransB's small-M path (a task's chunk: at most max(64 Ki, 16 · K) floats). */
    private static final ThreadLocal<float[]> DOT_TILE = ThreadLocal.withInitial(() -> new float[0]);

    /** The M below which {@link #directPath} holds for B stored (N, K): see {@link CpuKernels#smallMRows()}. */
    static int smallMRows(boolean vec) {
        return vec ? dotMaxRows() + 1 : MR;
    }

    /** Whether gemm takes its small-M path (no packing): few rows, or B stored (N, K) with vectors and not many. */
    private static boolean directPath(int M, boolean transB, boolean vec) {
        return M < MR || (transB && vec && M <= dotMaxRows());
    }

    /** The most rows of the dot path with the Vector API (call only when it is on: VectorOps is loaded here). */
    private static int dotMaxRows() {
        return VectorOps.TILED ? DOT_MAX_ROWS : DOT_MAX_ROWS_UNTILED;
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
}
