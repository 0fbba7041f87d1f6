// CpuKernels: what the CPU kernels share: the Vector API switch, the kernel thread pool and its
// parallelFor, range checks, and the in-place activations. The kernels themselves are CpuGemm,
// CpuNorm, CpuLinear, CpuAttention and VocabKernels; all Vector API code lives in VectorOps, which
// is never loaded when jdk.incubator.vector is absent.
package org.transformer4j.runtime.cpu;

import java.util.Objects;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongConsumer;


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

    static final int THREADS = Runtime.getRuntime().availableProcessors();

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
        return CpuGemm.smallMRows(simd);
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
    // activations

    /**
     * x[off:off+n] = act(x[off:off+n]) with Activations' codes, in place. Exact GELU, tanh GELU and
     * SiLU run on the Vector API when it is on, with the same operations in the same order as
     * Activations.gelu / geluTanh / silu, so both paths give the same bits (and an element's bits do
     * not depend on where it lies in the range).
     */
    public static void activate(int act, float[] x, int off, int n) {
        if (act == Activations.CLAMP) throw new IllegalArgumentException("CLAMP needs its limit");
        activate(act, 0f, x, off, n);
    }

    /** The same; {@code limit} is CLAMP's bound (0 for the others). */
    public static void activate(int act, float limit, float[] x, int off, int n) {
        Objects.checkFromIndexSize(off, n, x.length);
        if (act == Activations.NONE) {
            return;
        }
        if (act == Activations.CLAMP) {
            for (int i = 0; i < n; i++) x[off + i] = Activations.clamp(x[off + i], limit);
            return;
        }
        int i = 0;
        if (act == Activations.GELU && simd) {
            i = VectorOps.gelu(x, off, n);
        } else if ((act == Activations.GELU_TANH || act == Activations.SILU) && simd) {
            i = VectorOps.expActivation(act, x, off, n);
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
    static void checkRange(String op, String name, int length, int off, long batchStride,
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

    /**
     * Runs body(0..n-1), on the kernel threads when parallel, else on the calling thread. The caller
     * takes part: it and THREADS − 1 helper threads claim indices one at a time from a shared
     * counter, so a thread that finishes early takes the next index (no fixed split), and between
     * the ~100 small parallel ops of a decode step the helpers spin for a while instead of parking
     * (a park/unpark handoff per op cost more than the op). When the team is busy (a nested call, or
     * another thread's), the work goes to the fork/join pool as before.
     */
    public static void parallelFor(long n, boolean parallel, LongConsumer body) {
        if (!parallel || n <= 1) {
            for (long i = 0; i < n; i++) {
                body.accept(i);
            }
            return;
        }
        if (Team.TEAM != null && Team.TEAM.run(n, body)) {
            return;
        }
        Pool.POOL.invoke(new Range(0, n, body));
    }

    /** One parallelFor's indices, claimed by the caller and the team's helpers. */
    private static final class Job {
        final long n;
        final LongConsumer body;
        final AtomicLong next = new AtomicLong();
        /** Helpers between joining and leaving: one that joined may still be running an index it claimed. */
        final AtomicInteger active = new AtomicInteger();
        volatile Throwable error;

        Job(long n, LongConsumer body) {
            this.n = n;
            this.body = body;
        }

        /** Claims and runs indices until none is left or one has failed. */
        void work() {
            long i;
            while ((i = next.getAndIncrement()) < n) {
                try {
                    body.accept(i);
                } catch (Throwable t) {
                    if (error == null) error = t;
                    next.set(Long.MAX_VALUE / 2);                // no more claims
                    return;
                }
            }
        }
    }

    /**
     * The caller plus THREADS − 1 daemon helpers. A helper that finds no new job spins for
     * SPIN_NANOS (property t4j.cpu.spinMicros, default 200 µs), then parks until the next job.
     */
    private static final class Team {
        static final long SPIN_NANOS = 1000L * Long.getLong("t4j.cpu.spinMicros", 200L);
        static final Team TEAM = THREADS > 1 ? new Team(THREADS - 1) : null;

        private final AtomicBoolean busy = new AtomicBoolean();
        private final Thread[] helpers;
        private volatile Job job;
        /** Helpers parked or about to park. */
        private final AtomicInteger sleepers = new AtomicInteger();

        private Team(int count) {
            helpers = new Thread[count];
            for (int h = 0; h < helpers.length; h++) {
                Thread t = new Thread(this::loop, "t4j-cpu-" + (h + 1));
                t.setDaemon(true);
                helpers[h] = t;
                t.start();
            }
        }

        /** Runs the job with the helpers; false (running nothing) when the team is busy. */
        boolean run(long n, LongConsumer body) {
            if (!busy.compareAndSet(false, true)) return false;
            Job j = new Job(n, body);
            try {
                job = j;
                if (sleepers.get() != 0) {
                    for (Thread h : helpers) LockSupport.unpark(h);   // a running helper just keeps a permit
                }
                try {
                    j.work();
                } finally {
                    j.next.set(Long.MAX_VALUE / 2);              // a helper joining late claims nothing
                    for (int spins = 1; j.active.get() != 0; spins++) pause(spins);
                }
            } finally {
                job = null;
                busy.set(false);
            }
            Throwable t = j.error;
            if (t instanceof RuntimeException e) throw e;
            if (t instanceof Error e) throw e;
            if (t != null) throw new IllegalStateException(t);
            return true;
        }

        /**
         * One turn of a wait loop: a spin hint, and every 64th turn a yield, so that on a loaded
         * machine a waiting thread lets a descheduled helper (or the caller) run instead of
         * burning the core it needs.
         */
        private static void pause(int spins) {
            if ((spins & 63) == 0) {
                Thread.yield();
            } else {
                Thread.onSpinWait();
            }
        }

        private void loop() {
            Job last = null;
            while (true) {
                Job j = job;
                if (j == null || j == last) {
                    long t0 = System.nanoTime();
                    for (int spins = 1; ((j = job) == null || j == last) && System.nanoTime() - t0 < SPIN_NANOS; spins++) pause(spins);
                    if (j == null || j == last) {
                        sleepers.incrementAndGet();              // then look again: run() reads sleepers after writing job
                        if ((j = job) == null || j == last) {
                            LockSupport.park(this);
                        }
                        sleepers.decrementAndGet();
                        continue;
                    }
                }
                last = j;
                j.active.incrementAndGet();
                try {
                    j.work();
                } finally {
                    j.active.decrementAndGet();
                }
            }
        }
    }

    /** The kernels' worker pool for parallelFor calls the team cannot take (nested or concurrent ones), created on first such use; its threads are daemons. */
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
}
