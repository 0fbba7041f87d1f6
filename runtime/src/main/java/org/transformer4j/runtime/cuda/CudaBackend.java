// CudaBackend — ops on one GPU: custom kernels from libt4j, GEMM through cuBLAS, memory from the
// caching allocator, all queued on the backend's own stream in the device's primary context.
// Why ~730 lines: each op is validate → pack (CudaParams) → launch, and graph capture stays here
// because its state (blocks kept for the graph, frozen host ints, the op count) is consulted by
// every op's memory path (release, ints, afterOp); moving it out would put that state behind an
// interface that only this class uses. Read top to bottom: memory, GEMM/linear, vocabulary ops,
// norm, attention/KV cache/decode, capture.
package org.transformer4j.runtime.cuda;

import static org.transformer4j.runtime.cuda.CudaParams.address;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.transformer4j.bindings.CudaLibraries;
import org.transformer4j.bindings.T4jLibrary;
import org.transformer4j.bindings.cuda_h;
import org.transformer4j.bindings.t4j_h;
import org.transformer4j.bindings.t4j_linear_params;
import java.lang.foreign.ValueLayout;
import org.transformer4j.runtime.AttentionOp;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.CrossEntropyOp;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.DecodeOp;
import org.transformer4j.runtime.Device;
import org.transformer4j.runtime.EmbeddingOp;
import org.transformer4j.runtime.GemmOp;
import org.transformer4j.runtime.Graph;
import org.transformer4j.runtime.KvAppendOp;
import org.transformer4j.runtime.RopeOp;
import org.transformer4j.runtime.LinearOp;
import org.transformer4j.runtime.NormOp;
import org.transformer4j.runtime.PagedKvCache;
import org.transformer4j.runtime.PenaltyOp;
import org.transformer4j.runtime.SampleOp;
import org.transformer4j.runtime.SoftmaxOp;
import org.transformer4j.runtime.Storage;
import org.transformer4j.runtime.Tensor;
import org.transformer4j.runtime.memory.AllocatorStats;
import org.transformer4j.runtime.memory.Block;
import org.transformer4j.runtime.memory.CachingAllocator;

/**
 * Asynchronous: ops return once queued. With {@code -Dt4j.sync=true} every op waits for the GPU
 * and an asynchronous CUDA error is reported as coming from the op that caused it. Exceptions:
 * {@link #embedding} and {@link #crossEntropy} wait, to read back the kernels' out-of-range flag
 * (and the losses for the mean). Under CUDA graph capture, run a {@link #linear} of the same shape
 * once before capturing: its split-K workspace is allocated on first use. {@link #attention} with
 * packed lengths, key lengths or prefix lengths, {@link #kvAppend} and {@link #decode} copy their host
 * int arrays (lengths, block table) to the device with each op; under {@link #capture} each distinct
 * array is staged once in pinned memory that the graph keeps (a constant of the graph), and
 * per-replay lengths must come as tensors (and a block table that changes between replays as the
 * cache's {@link PagedKvCache#tableTensor}).
 */
public final class CudaBackend implements Backend {

    private final CudaDevice device;
    private final Stream stream;
    private final CachingAllocator allocator;
    private final boolean syncEachOp;
    private Cublas cublas;
    private volatile GemmMode gemmMode;
    private Tensor gemmWorkspace;  // split-K scratch of the custom GEMM, zeroed when allocated; grows
    private Tensor cublasWorkspace; // given to cuBLAS so that it never allocates (graph capture)
    private volatile boolean closed;

    // Graph capture (see capture()): the fields below belong to the thread that holds the gate exclusively.
    private final StreamGate gate = new StreamGate();
    private List<Block> keptForGraph;         // blocks freed while capturing: the graph may still use them
    private List<MemorySegment> pinnedForGraph;
    private Map<IntArrayKey, Tensor> frozenInts;
    private int capturedOps;
    private final java.util.Set<CapturedGraph> openGraphs = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** cuBLAS's workspace: 32 MiB, NVIDIA's recommendation for Hopper (4 MiB suffices before it). */
    static final long CUBLAS_WORKSPACE_BYTES = 32L << 20;

    private CudaBackend(CudaDevice device) {
        this.device = device;
        T4jLibrary.loadFatbin();
        this.stream = Stream.create(device);
        this.allocator = new CachingAllocator(new CudaMemory(device));
        this.syncEachOp = Boolean.getBoolean("t4j.sync");
        this.gemmMode = GemmMode.fromSystemProperty();
    }

    /** The GEMM path {@link #linear} takes (initially -Dt4j.gemm); benchmarks switch it to compare. */
    public GemmMode gemmMode() { return gemmMode; }

    public void gemmMode(GemmMode mode) { gemmMode = java.util.Objects.requireNonNull(mode, "mode"); }

    /**
     * A backend on device {@code ordinal}. Throws {@link Cuda.CudaUnavailableException} with a
     * one-sentence reason where CUDA cannot be used (no driver, driver too old, no GPU, no kernels).
     */
    public static CudaBackend create(int ordinal) {
        T4jLibrary.BuildInfo info;
        try {
            info = T4jLibrary.buildInfo();
        } catch (RuntimeException e) {
            throw new Cuda.CudaUnavailableException("the native library did not load: " + e.getMessage());
        }
        if (!info.hasKernels()) throw new Cuda.CudaUnavailableException(info.kernelsLine());
        return new CudaBackend(CudaDevice.get(ordinal));
    }

    public CudaDevice cudaDevice() { return device; }

    /** The stream every op of this backend is queued on. */
    public Stream stream() { return stream; }

    public AllocatorStats memoryStats() { return allocator.stats(); }

    /** Releases cached device memory back to the driver. */
    public void emptyCache() { allocator.emptyCache(); }

    @Override public String kind() { return "cuda"; }

    @Override public String description() { return device.toString(); }

    @Override public Device device() { return device; }

    @Override
    public Tensor empty(DType dtype, long... shape) {
        try (var use = gate.op()) {
            checkOpen();
            long n = 1;
            for (long d : shape) {
                if (d < 0) throw new IllegalArgumentException("negative size in shape " + java.util.Arrays.toString(shape));
                n = Math.multiplyExact(n, d);
            }
            long bytes = Math.max(1, Math.multiplyExact(n, dtype.byteSize()));
            Block block = allocator.allocate(bytes, stream.address());
            return Tensor.wrapDevice(device, block.address(), block.size(), block, dtype, shape, () -> release(block));
        }
    }

    /** Marks {@code t} as used on {@code other} too: its memory is reused only after {@code other} passes this point. */
    public void recordStream(Tensor t, Stream other) {
        try (var use = gate.op()) {
            requireHere("tensor", t);
            if (!(t.storage() instanceof Storage.DeviceMemoryStorage d) || !(d.allocation() instanceof Block block)) {
                throw new IllegalArgumentException(t + " was not allocated by a CUDA backend; its owner manages its lifetime");
            }
            allocator.recordStream(block, other.address());
        }
    }

    @Override
    public Tensor upload(Tensor host) {
        try (var use = gate.op()) {
            checkOpen();
            refuseWhileCapturing("upload");
            if (host.isCuda()) throw new IllegalArgumentException("upload: " + host + " is already on a device");
            host.checkOpen();
            Tensor src = host.isContiguous() ? host : new CpuBackend().upload(host);
            Tensor dst = empty(host.dtype(), host.shape());
            long bytes = host.numel() * host.dtype().byteSize();
            device.makeCurrent();
            Cuda.check(cuda_h.cuMemcpyHtoDAsync_v2(dst.deviceAddress(), src.hostSegment(), bytes, stream.handle()),
                    "cuMemcpyHtoDAsync(" + bytes + " bytes)");
            if (src != host) src.close();
            afterOp("upload");
            return dst;
        }
    }

    /**
     * Loads through two reused pinned staging buffers (see {@link PinnedUploader}): host tensors of any
     * strides, dtype-converted chunk by chunk, never a whole host copy. Never run on a GPU so far.
     */
    @Override
    public org.transformer4j.runtime.Uploader uploader() {
        checkOpen();
        return new PinnedUploader(this);
    }

    /** The checks {@link #upload} makes of its argument, for the uploader. */
    void checkUploadable(String what, Tensor host) {
        checkOpen();
        refuseWhileCapturing(what);
        if (host.isCuda()) throw new IllegalArgumentException(what + ": " + host + " is already on a device");
        host.checkOpen();
    }

    @Override
    public Tensor toHost(Tensor t) {
        try (var use = gate.op()) {
            checkOpen();
            refuseWhileCapturing("toHost");
            requireHere("tensor", t);
            if (!t.isContiguous()) throw new IllegalArgumentException("toHost: " + t + " is not contiguous; copy it first");
            Tensor host = Tensor.empty(t.dtype(), t.shape());
            long bytes = t.numel() * t.dtype().byteSize();
            device.makeCurrent();
            Cuda.check(cuda_h.cuMemcpyDtoHAsync_v2(host.hostSegment(), t.deviceAddress(), bytes, stream.handle()),
                    "cuMemcpyDtoHAsync(" + bytes + " bytes)");
            synchronizeFor("toHost");
            return host;
        }
    }

    @Override
    public void copyFromHost(Tensor host, Tensor dst) {
        try (var use = gate.op()) {
            checkOpen();
            refuseWhileCapturing("copyFromHost");
            host.checkOpen();
            requireHere("dst", dst);
            if (host.isCuda()) throw new IllegalArgumentException("copyFromHost: " + host + " is not a host tensor");
            if (host.dtype() != dst.dtype()) throw new IllegalArgumentException("dst has dtype " + dst.dtype() + " but host has " + host.dtype());
            if (!java.util.Arrays.equals(host.shape(), dst.shape())) {
                throw new IllegalArgumentException("dst has shape " + dst.shapeString() + " but host has shape " + host.shapeString());
            }
            if (!host.isContiguous() || !dst.isContiguous()) {
                throw new IllegalArgumentException("copyFromHost needs contiguous tensors: " + host + ", " + dst);
            }
            long bytes = host.numel() * host.dtype().byteSize();
            device.makeCurrent();
            // From pageable memory the driver stages the bytes before returning, so host may be reused at once.
            Cuda.check(cuda_h.cuMemcpyHtoDAsync_v2(dst.deviceAddress(), host.hostSegment(), bytes, stream.handle()),
                    "cuMemcpyHtoDAsync(" + bytes + " bytes)");
            afterOp("copyFromHost");
        }
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        try (var use = gate.op()) {
            checkOpen();
            requireHere("src", src);
            requireHere("dst", dst);
            if (src.dtype() != dst.dtype()) throw new IllegalArgumentException("dst has dtype " + dst.dtype() + " but src has " + src.dtype());
            if (!java.util.Arrays.equals(src.shape(), dst.shape())) {
                throw new IllegalArgumentException("dst has shape " + dst.shapeString() + " but src has shape " + src.shapeString());
            }
            if (!src.isContiguous() || !dst.isContiguous()) throw new IllegalArgumentException("copy needs contiguous tensors: " + src + ", " + dst);
            long bytes = src.numel() * src.dtype().byteSize();
            device.makeCurrent();
            Cuda.check(cuda_h.cuMemcpyDtoDAsync_v2(dst.deviceAddress(), src.deviceAddress(), bytes, stream.handle()),
                    "cuMemcpyDtoDAsync(" + bytes + " bytes)");
            afterOp("copy");
        }
    }

    @Override
    public void gemm(GemmOp op) {
        try (var use = gate.op()) {
            checkOpen();
            GemmOp.Shape s = op.validate();
            requireHere("A", op.a());
            cublas().gemm(op, s);
            afterOp("gemm");
        }
    }

    /** The lock order everywhere: the gate, then this backend's monitor (a capture holds the gate while it waits for the monitor). */
    private Cublas cublas() {
        try (var use = gate.op()) {
            synchronized (this) {
                if (cublas == null) newCublas();
                return cublas;
            }
        }
    }

    /** A handle with its own workspace, so that no cuBLAS call allocates (which a graph capture could not). */
    private void newCublas() {
        Cublas c = new Cublas(device, stream);
        Tensor ws = null;
        try {
            ws = empty(DType.F32, CUBLAS_WORKSPACE_BYTES / 4);
            c.workspace(ws.deviceAddress(), CUBLAS_WORKSPACE_BYTES);
        } catch (RuntimeException e) {
            c.close();
            if (ws != null) ws.close();
            throw e;
        }
        cublas = c;
        cublasWorkspace = ws;
    }

    /** Whether {@link #linear} would use the custom kernel for {@code op} (validated) under the current mode. */
    public boolean usesCustomGemm(LinearOp op, LinearOp.Shape s) {
        if (op.wq() != null) return true;  // 4-bit weights: only the custom kernel decodes them
        boolean covered = op.x().dtype() != DType.F32;
        return switch (gemmMode) {
            case CUSTOM -> {
                if (!covered) {
                    throw new IllegalArgumentException("the custom GEMM (t4j.gemm=custom) covers F16 and BF16, not "
                            + op.x().dtype() + " (x " + op.x().shapeString() + "); use t4j.gemm=auto or cublas for F32");
                }
                yield true;
            }
            case CUBLAS -> false;
            case AUTO -> covered && s.m() >= GemmMode.AUTO_MIN_ROWS;
        };
    }

    @Override
    public void linear(LinearOp op) {
        try (var use = gate.op()) {
            checkOpen();
            LinearOp.Shape s = op.validate();
            requireHere("x", op.x());
            if (op.wq() != null) {
                checkInt4(op);
                linearCustom(op, s);
            } else if (usesCustomGemm(op, s)) {
                linearCustom(op, s);
            } else {
                linearCublas(op, s);
            }
            afterOp("linear");
        }
    }

    /**
     * What libt4j's INT4 GEMM (ABI 21) reads beyond LinearOp's own rules: F16 or BF16 activations (it has no F32
     * instance) and the packed matrices on this device.
     */
    private void checkInt4(LinearOp op) {
        if (op.x().dtype() == DType.F32) {
            throw new IllegalArgumentException("4-bit weights (wq) on CUDA take F16 or BF16 activations, not " + op.x() + "; dequantize"
                    + " them at load (-Dt4j.quant=dequantize) to compute in F32");
        }
        for (var q : new org.transformer4j.runtime.Int4[] {op.wq(), op.wGateQ()}) {
            if (q == null) continue;
            requireHere("wq.codes", q.codes());
            requireHere("wq.scales", q.scales());
            requireHere("wq.zeros", q.zeros());
            if (q.gidx() != null) requireHere("wq.gidx", q.gidx());
        }
    }

    private void linearCustom(LinearOp op, LinearOp.Shape s) {
        device.makeCurrent();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = CudaParams.linear(arena, op, s);
            MemorySegment bytes = arena.allocate(ValueLayout.JAVA_LONG);
            Cuda.checkT4j(t4j_h.t4j_linear_workspace_size(p, bytes), "t4j_linear_workspace_size");
            long need = bytes.get(ValueLayout.JAVA_LONG, 0);
            if (need > 0) {
                Tensor ws = gemmWorkspace(need);
                t4j_linear_params.workspace(p, address(ws));
                t4j_linear_params.workspace_bytes(p, ws.numel() * 4);
            }
            Cuda.checkT4j(t4j_h.t4j_linear(p, stream.handle()), "t4j_linear (" + op.x().dtype() + ", M=" + s.m() + ", N=" + s.n()
                    + ", K=" + s.k() + (op.gated() ? ", gated" : "") + ", " + op.activation() + ")");
        }
    }

    /**
     * The split-K workspace, at least {@code bytes}: kept between launches (they are ordered on this
     * backend's one stream, and the kernels leave its counters at zero), replaced by a larger zeroed
     * one when a problem needs more.
     */
    private synchronized Tensor gemmWorkspace(long bytes) {
        if (gemmWorkspace == null || gemmWorkspace.numel() * 4 < bytes) {
            if (gemmWorkspace != null) gemmWorkspace.close();           // freed in stream order
            long words = Math.max(bytes, 1 << 20) / 4 + 1;             // at least 1 MiB: fewer regrowths
            gemmWorkspace = empty(DType.I32, words);
            device.makeCurrent();
            Cuda.check(cuda_h.cuMemsetD32Async(gemmWorkspace.deviceAddress(), 0, words, stream.handle()),
                    "cuMemsetD32Async (GEMM workspace)");
        }
        return gemmWorkspace;
    }

    /** cuBLAS for the product(s) into fp-dtype temporaries (or straight into out), then t4j_bias_act. */
    private void linearCublas(LinearOp op, LinearOp.Shape s) {
        Cublas cb = cublas();
        DType dt = op.x().dtype();
        Tensor x2 = rows(op.x(), s.m(), s.k());                                  // (M, K)
        Tensor out2 = rows(op.out(), s.m(), s.n());                              // (M, N)
        Tensor res2 = op.residual() == null ? null : rows(op.residual(), s.m(), s.n());  // (M, N), before any launch
        Tensor both = op.fusedGate();
        if (both != null) {                                     // [up ; gate] fused: one GEMM into (M, 2N), the epilogue reads both halves
            try (Tensor yg = empty(dt, s.m(), 2L * s.n())) {    // freed in stream order
                GemmOp g2 = GemmOp.of(x2, both, yg).transB(true).scale(op.alpha(), 0f);
                cb.gemm(g2, g2.validate());
                biasAct(out2, yg.slice(1, 0, s.n()), yg.slice(1, s.n(), 2L * s.n()), op.bias(), op.biasGate(), res2,
                        op.activation().code(), op.limit(), dt);
            }
            return;
        }
        boolean direct = !op.gated() && op.residual() == null;                    // epilogue in place on out
        Tensor y = direct ? out2 : empty(dt, s.m(), s.n());                      // (M, N) alpha·x·W
        Tensor g = op.gated() ? empty(dt, s.m(), s.n()) : null;                  // (M, N) alpha·x·W_gate
        try {
            GemmOp gy = GemmOp.of(x2, op.w(), y).transB(op.transW()).scale(op.alpha(), 0f);
            cb.gemm(gy, gy.validate());
            if (g != null) {
                GemmOp gg = GemmOp.of(x2, op.wGate(), g).transB(op.transW()).scale(op.alpha(), 0f);
                cb.gemm(gg, gg.validate());
            }
            biasAct(out2, y, g, op.bias(), op.biasGate(), res2, op.activation().code(), op.limit(), dt);
        } finally {
            if (y != out2) y.close();                                           // freed in stream order
            if (g != null) g.close();
        }
    }

    /** A (rows, cols) view of a tensor whose leading dimensions fold into rows (validated by the op). */
    private static Tensor rows(Tensor t, long rows, long cols) {
        if (t.rank() == 2) return t;
        if (t.isContiguous()) return t.view(rows, cols);
        throw new IllegalArgumentException(t + " must be rank 2 or contiguous for the cuBLAS path; copy it first");
    }

    private void biasAct(Tensor out, Tensor x, Tensor gate, Tensor bias, Tensor biasGate, Tensor residual, int act, float limit, DType dt) {
        device.makeCurrent();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = CudaParams.biasAct(arena, out, x, gate, bias, biasGate, residual, act, limit, dt);
            Cuda.checkT4j(t4j_h.t4j_bias_act(p, stream.handle()), "t4j_bias_act (" + dt + ")");
        }
    }

    @Override
    public void embedding(EmbeddingOp op) {
        try (var use = gate.op()) {
            checkOpen();
            EmbeddingOp.Shape s = op.validate();
            requireHere("ids", op.ids());
            if (s.rows() == 0) return;
            if (op.positions() != null) requireHere("positions", op.positions());
            try (Tensor flags = capturingHere() ? null : errorFlags(3); Arena arena = Arena.ofConfined()) {
                MemorySegment p = CudaParams.embedding(arena, op, s, flags);
                Cuda.checkT4j(t4j_h.t4j_embedding(p, stream.handle()), "t4j_embedding (" + op.tokenTable().dtype() + ")");
                if (flags != null) checkEmbeddingFlags(op, s, readFlags(flags));   // none under capture: nothing can be read back
            }
            afterOp("embedding");
        }
    }

    /** The embedding kernel's flags (first bad row + 1 per kind, INT32_MAX if none) as the exception they mean. */
    private static void checkEmbeddingFlags(EmbeddingOp op, EmbeddingOp.Shape s, int[] bad) {
        if (bad[0] != Integer.MAX_VALUE) {
            long row = bad[0] - 1L;
            throw new IllegalArgumentException("token id at position " + op.position(row) + " is outside the vocabulary [0, "
                    + s.vocab() + ") of tokenTable " + op.tokenTable().shapeString() + " (the kernel clamped it; out is not valid)");
        }
        if (bad[1] != Integer.MAX_VALUE) {
            long row = bad[1] - 1L;
            throw new IllegalArgumentException("token type id at position " + op.position(row) + " is outside [0, "
                    + s.typeVocab() + ") of typeTable " + op.typeTable().shapeString() + " (the kernel clamped it; out is not valid)");
        }
        if (bad[2] != Integer.MAX_VALUE) {
            long row = bad[2] - 1L;
            throw new IllegalArgumentException("position at " + op.position(row) + " is outside [0, " + s.maxPositions()
                    + ") of positionTable " + op.positionTable().shapeString() + " (the kernel clamped it; out is not valid)");
        }
    }

    /** n device int32 flags set to INT32_MAX (the kernels atomicMin row + 1 into them). */
    private Tensor errorFlags(int n) {
        Tensor flags = empty(DType.I32, n);
        device.makeCurrent();
        Cuda.check(cuda_h.cuMemsetD32Async(flags.deviceAddress(), Integer.MAX_VALUE, n, stream.handle()), "cuMemsetD32Async");
        return flags;
    }

    /** Waits for the op and reads its flags back (the one synchronisation these checked ops cost). */
    private int[] readFlags(Tensor flags) {
        try (Tensor h = toHost(flags)) {
            int n = (int) h.numel();
            int[] out = new int[n];
            for (int i = 0; i < n; i++) out[i] = h.hostSegment().getAtIndex(ValueLayout.JAVA_INT, i);
            return out;
        }
    }

    @Override
    public void softmax(SoftmaxOp op) {
        try (var use = gate.op()) {
            checkOpen();
            SoftmaxOp.Shape s = op.validate();
            requireHere("x", op.x());
            device.makeCurrent();
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment p = CudaParams.softmax(arena, op, s);
                Cuda.checkT4j(t4j_h.t4j_softmax(p, stream.handle()), "t4j_softmax (" + op.x().dtype() + ")");
            }
            afterOp("softmax");
        }
    }

    @Override
    public CrossEntropyOp.Result crossEntropy(CrossEntropyOp op) {
        try (var use = gate.op()) {
            checkOpen();
            refuseWhileCapturing("crossEntropy");
            CrossEntropyOp.Shape s = op.validate();
            requireHere("logits", op.logits());
            try (Tensor flags = errorFlags(1); Arena arena = Arena.ofConfined()) {
                if (s.rows() > 0) {
                    MemorySegment p = CudaParams.crossEntropy(arena, op, s, flags);
                    Cuda.checkT4j(t4j_h.t4j_cross_entropy(p, stream.handle()), "t4j_cross_entropy (" + op.logits().dtype() + ")");
                }
                int bad = readFlags(flags)[0];
                try (Tensor hl = toHost(op.losses()); Tensor ht = toHost(op.targets())) {
                    int[] targets = ht.toIntArray();
                    if (bad != Integer.MAX_VALUE) throw CpuBackend.badTarget(op, bad - 1L, targets[bad - 1]);
                    afterOp("crossEntropy");
                    return CrossEntropyOp.reduce(hl.toFloatArray(), targets, op.ignoreIndex());
                }
            }
        }
    }

    @Override
    public void sample(SampleOp op) {
        try (var use = gate.op()) {
            checkOpen();
            SampleOp.Shape s = op.validate();
            requireHere("logits", op.logits());
            device.makeCurrent();
            // per-row parameters (ABI 13) travel to the device per op, released in stream order
            try (Arena arena = Arena.ofConfined(); Tensor rowParams = ints(CudaParams.sampleRows(op))) {
                MemorySegment p = CudaParams.sample(arena, op, s, rowParams);
                Cuda.checkT4j(t4j_h.t4j_sample(p, stream.handle()), "t4j_sample (" + op.logits().dtype() + ")");
            }
            afterOp("sample");
        }
    }

    @Override
    public void penalty(PenaltyOp op) {
        try (var use = gate.op()) {
            checkOpen();
            PenaltyOp.Shape s = op.validate();
            requireHere("logits", op.logits());
            device.makeCurrent();
            try (Arena arena = Arena.ofConfined(); Tensor perRow = ints(CudaParams.penaltyRows(op, s.rows()))) {
                MemorySegment p = CudaParams.penalty(arena, op, s, perRow);
                Cuda.checkT4j(t4j_h.t4j_penalty(p, stream.handle()), "t4j_penalty (" + op.logits().dtype() + ")");
            }
            afterOp("penalty");
        }
    }

    @Override
    public void norm(NormOp op) {
        try (var use = gate.op()) {
            checkOpen();
            NormOp.Shape s = op.validate();
            requireHere("x", op.x());
            device.makeCurrent();
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment p = CudaParams.norm(arena, op, s);
                Cuda.checkT4j(t4j_h.t4j_norm(p, stream.handle()), "t4j_norm (" + op.kind() + ", " + op.x().dtype() + ")");
            }
            afterOp("norm");
        }
    }

    @Override
    public void attention(AttentionOp op) {
        try (var use = gate.op()) {
            checkOpen();
            AttentionOp.Shape s = op.validate();
            requireHere("q", op.q());
            requireKernelHeadSize(s.hs(), op.q());
            if (op.disentangled() != null && op.q().dtype() != DType.F32 && (s.hs() <= 32 || s.hs() > 64)) {
                throw new UnsupportedOperationException("DeBERTa's disentangled attention on tensor cores has the head-size-64 instance"
                        + " (head sizes 40 to 64; every published DeBERTa-v2/v3 has 64), not head size " + s.hs()
                        + "; run this model in F32 or on the CPU backend");
            }
            if (op.q().dtype() != DType.F32) {
                for (Tensor t : new Tensor[] {op.q(), op.k(), op.v(), op.out()}) {
                    if (t.deviceAddress() % 16 != 0) {
                        throw new IllegalArgumentException(t + " starts at an address that is not 16-byte aligned; "
                                + t.dtype() + " attention loads 16 bytes at a time");
                    }
                }
            }
            device.makeCurrent();
            // Host-side lengths travel to the device per op; their memory is released in stream order.
            try (Arena arena = Arena.ofConfined();
                 Tensor cuQ = ints(op.cuSeqlensQ()); Tensor cuK = ints(op.cuSeqlensK());
                 Tensor keyLengths = ints(op.keyLengths()); Tensor prefix = ints(op.prefixLengths())) {
                MemorySegment p = CudaParams.attention(arena, op, s, cuQ, cuK, keyLengths, prefix);
                Cuda.checkT4j(t4j_h.t4j_attention(p, stream.handle()),
                        "t4j_attention (" + op.mask() + ", " + op.q().dtype() + ", HS " + s.hs() + ")");
            }
            afterOp("attention");
        }
    }

    @Override
    public void kvAppend(KvAppendOp op) {
        try (var use = gate.op()) {
            checkOpen();
            KvAppendOp.Shape s = op.validate();
            requireHere("k", op.k());
            if (op.lengths() == null && capturingHere()) throw Graph.frozenLengths("kvAppend");
            PagedKvCache c = op.cache();
            device.makeCurrent();
            try (Arena arena = Arena.ofConfined();
                 Tensor hostTable = c.tableTensor() == null ? ints(c.blockTable()) : null;
                 Tensor hostLengths = ints(op.cacheLengths());
                 Tensor cu = ints(op.cuSeqlens())) {
                Tensor lengths = op.lengths() != null ? op.lengths() : hostLengths;
                Tensor table = hostTable != null ? hostTable : c.tableTensor();
                MemorySegment p = CudaParams.kvAppend(arena, op, s, c, table, lengths, cu);
                Cuda.checkT4j(t4j_h.t4j_kv_append(p, stream.handle()), "t4j_kv_append (" + op.k().dtype() + ")");
            }
            afterOp("kvAppend");
        }
    }

    @Override
    public void softcap(org.transformer4j.runtime.SoftcapOp op) {
        try (var use = gate.op()) {
            checkOpen();
            op.validate();
            requireHere("x", op.x());
            device.makeCurrent();
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment p = org.transformer4j.bindings.t4j_softcap_params.allocate(arena);
                org.transformer4j.bindings.t4j_softcap_params.x(p, CudaParams.address(op.x()));
                org.transformer4j.bindings.t4j_softcap_params.n(p, op.x().numel());
                org.transformer4j.bindings.t4j_softcap_params.cap(p, op.cap());
                org.transformer4j.bindings.t4j_softcap_params.dtype(p, op.x().dtype().code());
                Cuda.checkT4j(t4j_h.t4j_softcap(p, stream.handle()), "t4j_softcap (" + op.x().dtype() + ")");
            }
            afterOp("softcap");
        }
    }

    @Override
    public void mask(org.transformer4j.runtime.MaskOp op) {
        try (var use = gate.op()) {
            checkOpen();
            op.validate();
            requireHere("logits", op.logits());
            requireHere("allowed", op.allowed());
            device.makeCurrent();
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment p = org.transformer4j.bindings.t4j_mask_params.allocate(arena);
                org.transformer4j.bindings.t4j_mask_params.logits(p, CudaParams.address(op.logits()));
                org.transformer4j.bindings.t4j_mask_params.allowed(p, CudaParams.address(op.allowed()));
                org.transformer4j.bindings.t4j_mask_params.rows(p, op.logits().shape(0));
                org.transformer4j.bindings.t4j_mask_params.cols(p, op.logits().shape(1));
                org.transformer4j.bindings.t4j_mask_params.logits_row_stride(p, op.logits().stride(0));
                org.transformer4j.bindings.t4j_mask_params.allowed_row_stride(p, op.allowed().stride(0));
                org.transformer4j.bindings.t4j_mask_params.dtype(p, op.logits().dtype().code());
                Cuda.checkT4j(t4j_h.t4j_mask(p, stream.handle()), "t4j_mask (" + op.logits().dtype() + ")");
            }
            afterOp("mask");
        }
    }

    @Override
    public void moeRoute(org.transformer4j.runtime.MoeRouteOp op) {
        try (var use = gate.op()) {
            checkOpen();
            org.transformer4j.runtime.MoeRouteOp.Shape s = op.validate();
            requireHere("logits", op.logits());
            if (op.correctionBias() != null) requireHere("correctionBias", op.correctionBias());
            device.makeCurrent();
            try (Arena arena = Arena.ofConfined()) {
                Cuda.checkT4j(t4j_h.t4j_moe_route(CudaParams.moeRoute(arena, op, s), stream.handle()),
                        "t4j_moe_route (" + op.logits().dtype() + ", E " + s.experts() + ", k " + op.topK() + ")");
            }
            afterOp("moeRoute");
        }
    }

    @Override
    public void gatherRows(org.transformer4j.runtime.GatherRowsOp op) {
        try (var use = gate.op()) {
            checkOpen();
            org.transformer4j.runtime.GatherRowsOp.Shape s = op.validate();
            requireHere("x", op.x());
            device.makeCurrent();
            try (Arena arena = Arena.ofConfined()) {
                Cuda.checkT4j(t4j_h.t4j_gather_rows(CudaParams.gatherRows(arena, op, s), stream.handle()),
                        "t4j_gather_rows (" + op.x().dtype() + ")");
            }
            afterOp("gatherRows");
        }
    }

    @Override
    public void groupedLinear(org.transformer4j.runtime.GroupedLinearOp op) {
        try (var use = gate.op()) {
            checkOpen();
            org.transformer4j.runtime.GroupedLinearOp.Shape s = op.validate();
            requireHere("x", op.x());
            if (op.wq() != null) checkMxfp4(op);
            device.makeCurrent();
            try (Arena arena = Arena.ofConfined()) {
                Cuda.checkT4j(t4j_h.t4j_linear(CudaParams.groupedLinear(arena, op, s), stream.handle()),
                        "t4j_linear grouped (" + op.x().dtype() + ", " + s.groups() + " groups" + (op.wGate() != null || op.wGateQ() != null ? ", gated" : "")
                                + (op.wq() != null ? ", MXFP4 weights" : "") + ")");
            }
            afterOp("groupedLinear");
        }
    }

    @Override
    public void activation(org.transformer4j.runtime.ActivationOp op) {
        try (var use = gate.op()) {
            checkOpen();
            org.transformer4j.runtime.ActivationOp.Shape s = op.validate();
            requireHere("x", op.x());
            if (s.rows() == 0 || s.cols() == 0) return;
            long r = s.rows(), c = s.cols();
            biasAct(rows(op.out(), r, c), rows(op.x(), r, c), op.gate() == null ? null : rows(op.gate(), r, c), null, null,
                    op.residual() == null ? null : rows(op.residual(), r, c), op.activation().code(), op.limit(), op.x().dtype());
            afterOp("activation");
        }
    }

    /**
     * What libt4j's MXFP4 grouped GEMM (ABI 13) reads beyond GroupedLinearOp's own rules: BF16 activations (an MXFP4 value
     * is exact in BF16, not in F16, and F32 has no MXFP4 instance) and 8-byte aligned code blocks, on this device.
     */
    private void checkMxfp4(org.transformer4j.runtime.GroupedLinearOp op) {
        if (op.x().dtype() != org.transformer4j.runtime.DType.BF16) {
            throw new IllegalArgumentException("MXFP4 weights on CUDA take BF16 activations (x " + op.x() + "); decode the weights at load"
                    + " (-Dt4j.mxfp4=dequantize) for " + op.x().dtype());
        }
        for (var q : new org.transformer4j.runtime.Mxfp4[] {op.wq(), op.wGateQ()}) {
            if (q == null) continue;
            requireHere("wq.blocks", q.blocks());
            requireHere("wq.scales", q.scales());
            if (q.blocks().deviceAddress() % 8 != 0) {
                throw new IllegalArgumentException("MXFP4 blocks " + q.blocks() + " must start 8-byte aligned on CUDA");
            }
        }
    }

    @Override
    public void moeCombine(org.transformer4j.runtime.MoeCombineOp op) {
        try (var use = gate.op()) {
            checkOpen();
            org.transformer4j.runtime.MoeCombineOp.Shape s = op.validate();
            requireHere("out", op.out());
            device.makeCurrent();
            try (Arena arena = Arena.ofConfined()) {
                Cuda.checkT4j(t4j_h.t4j_moe_combine(CudaParams.moeCombine(arena, op, s), stream.handle()),
                        "t4j_moe_combine (" + op.out().dtype() + ", k " + s.topK() + ")");
            }
            afterOp("moeCombine");
        }
    }

    @Override
    public void rope(RopeOp op) {
        try (var use = gate.op()) {
            checkOpen();
            RopeOp.Shape s = op.validate();
            requireHere("x", op.x());
            device.makeCurrent();
            try (Arena arena = Arena.ofConfined()) {
                Cuda.checkT4j(t4j_h.t4j_rope(CudaParams.rope(arena, op, s), stream.handle()), "t4j_rope (" + op.x().dtype() + ")");
            }
            afterOp("rope");
        }
    }

    /** Fewest keys of a split the backend chooses: shorter ones cost more in the combine than they save. */
    static final int AUTO_SPLIT_KEYS = 256;

    /**
     * Splits per sequence when the op leaves it to us: enough (split, KV head, sequence) blocks for
     * two per SM (a decode block serves one GQA group), each split at least {@link #AUTO_SPLIT_KEYS}
     * keys. The kernel gets the same minimum (t4j_decode_params.split_keys) and applies it to each
     * sequence's length when it runs, so shorter sequences, and a captured graph sized for the cache's
     * capacity replayed at a shorter length, run fewer splits.
     */
    static int autoSplits(int batch, int nkv, int maxLength, int smCount) {
        long blocks = (long) batch * nkv;
        int wanted = (int) Math.min(DecodeOp.MAX_SPLITS, Math.max(1, (2L * smCount + blocks - 1) / blocks));
        int byLength = Math.max(1, (maxLength + AUTO_SPLIT_KEYS - 1) / AUTO_SPLIT_KEYS);
        return Math.max(1, Math.min(wanted, byLength));
    }

    /** The attention kernels' head sizes (multiples of 8, validated, to {@link #maxHeadSize}); the ops take larger ones for the CPU backend. */
    private void requireKernelHeadSize(long hs, Tensor q) {
        if (hs > maxHeadSize()) {
            throw new IllegalArgumentException("head size " + hs + " of q " + q.shapeString() + " has no CUDA kernel (multiples of 8"
                    + " from 8 to 256; the CPU backend runs up to " + AttentionOp.MAX_HEAD_SIZE + ")");
        }
    }

    @Override
    public void decode(DecodeOp op) {
        try (var use = gate.op()) {
            checkOpen();
            DecodeOp.Shape s = op.validate();
            requireHere("q", op.q());
            requireKernelHeadSize(op.q().shape(3), op.q());
            if (op.lengths() == null && capturingHere()) throw Graph.frozenLengths("decode");
            PagedKvCache c = op.cache();
            for (Tensor t : new Tensor[] {c.kCache(), c.vCache()}) {
                if (t.deviceAddress() % 16 != 0) {
                    throw new IllegalArgumentException("KV cache " + t + " starts at an address that is not 16-byte aligned; decode copies "
                            + "its rows 16 bytes at a time");
                }
            }
            int splits = s.tq() > DecodeOp.MAX_QUERIES ? 1                      // paged prefill: no splits, no workspace
                    : op.numSplits() > 0 ? op.numSplits() : autoSplits(s.batch(), s.nkv(), s.maxLength(), device.multiprocessorCount());
            device.makeCurrent();
            long rows = (long) splits * s.batch() * s.nh() * s.tq();
            try (Arena arena = Arena.ofConfined();
                 Tensor hostTable = c.tableTensor() == null ? ints(c.blockTable()) : null;
                 Tensor hostLengths = ints(op.cacheLengths());
                 Tensor cu = ints(op.cuSeqlensQ());
                 Tensor wsO = splits > 1 ? empty(DType.F32, rows, s.hs()) : null;      // (splits, B, NH, Tq, HS)
                 Tensor wsLse = splits > 1 ? empty(DType.F32, rows) : null) {           // (splits, B, NH, Tq)
                Tensor lengths = op.lengths() != null ? op.lengths() : hostLengths;
                Tensor table = hostTable != null ? hostTable : c.tableTensor();
                int splitKeys = op.numSplits() > 0 ? 0 : AUTO_SPLIT_KEYS;  // an explicit count is run as asked
                MemorySegment p = CudaParams.decode(arena, op, s, c, splits, splitKeys, table, lengths, wsO, wsLse, cu);
                Cuda.checkT4j(t4j_h.t4j_decode(p, stream.handle()),
                        "t4j_decode (" + op.q().dtype() + ", HS " + s.hs() + ", " + splits + " splits)");
            }
            afterOp("decode");
        }
    }

    /**
     * A device copy of host ints (I32), or null. While capturing: one copy per distinct array for the
     * whole capture, staged in pinned memory (a pageable copy cannot be captured) and kept by the
     * graph; the tensor returned is a view whose close does nothing.
     */
    private Tensor ints(int[] values) {
        if (values == null) return null;
        if (capturingHere()) return frozenInts(values);
        try (Tensor h = Tensor.ofInts(values, values.length)) {
            return upload(h);
        }
    }

    private record IntArrayKey(int[] values) {
        @Override public boolean equals(Object o) { return o instanceof IntArrayKey k && Arrays.equals(values, k.values); }
        @Override public int hashCode() { return Arrays.hashCode(values); }
    }

    private Tensor frozenInts(int[] values) {
        device.makeCurrent();
        IntArrayKey key = new IntArrayKey(values.clone());
        Tensor t = frozenInts.get(key);
        if (t == null) {
            long bytes = Math.max(4L, 4L * values.length);
            Block block = allocator.allocate(bytes, stream.address());
            keptForGraph.add(block);
            MemorySegment pinned;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment pp = arena.allocate(ValueLayout.ADDRESS);
                Cuda.check(cuda_h.cuMemHostAlloc(pp, bytes, 0), "cuMemHostAlloc(" + bytes + " bytes)");
                pinned = pp.get(ValueLayout.ADDRESS, 0).reinterpret(bytes);
            }
            pinnedForGraph.add(pinned);
            MemorySegment.copy(values, 0, pinned, ValueLayout.JAVA_INT, 0, values.length);
            Cuda.check(cuda_h.cuMemcpyHtoDAsync_v2(block.address(), pinned, 4L * values.length, stream.handle()),
                    "cuMemcpyHtoDAsync(" + bytes + " pinned bytes, captured)");
            t = Tensor.wrapDevice(device, block.address(), block.size(), DType.I32, new long[] {values.length}, () -> {});
            frozenInts.put(key, t);
        }
        return t;
    }

    // ---- graph capture --------------------------------------------------------------------------

    /**
     * See {@link Backend#capture}. The stream is captured in relaxed mode (the caching allocator may
     * call cuMemAlloc meanwhile); memory freed while capturing is kept until the graph is closed, since
     * the graph's kernels still use it at every replay. cuBLAS gets its workspace before the capture.
     * The capture holds the backend's stream exclusively ({@link StreamGate}): ops of other threads
     * wait until it ends (they would otherwise be recorded into this graph instead of running), and a
     * capture started on another thread meanwhile waits its turn; a nested capture on the same thread
     * is an IllegalStateException.
     */
    @Override
    public Graph capture(Runnable work) {
        checkOpen();
        Objects.requireNonNull(work, "work");
        if (CudaLibraries.cublasProblem().isEmpty()) cublas();
        try (var exclusive = gate.capture()) {
            checkOpen();
            return captureExclusively(work);
        }
    }

    private Graph captureExclusively(Runnable work) {
        keptForGraph = new ArrayList<>();
        pinnedForGraph = new ArrayList<>();
        frozenInts = new HashMap<>();
        capturedOps = 0;
        List<Block> kept;
        List<MemorySegment> pinned;
        CudaGraph graph = null;
        int ops;
        boolean began = false;
        try {
            stream.beginCapture(cuda_h.CU_STREAM_CAPTURE_MODE_RELAXED);
            began = true;
            work.run();
            began = false;
            graph = stream.endCapture();
        } finally {
            if (began) stream.abortCapture();
            kept = keptForGraph;
            pinned = pinnedForGraph;
            ops = capturedOps;
            keptForGraph = null;
            pinnedForGraph = null;
            frozenInts = null;
            if (graph == null) releaseGraphMemory(kept, pinned);   // nothing was captured: nothing uses them
        }
        CapturedGraph g = new CapturedGraph(graph, kept, pinned, ops);
        openGraphs.add(g);
        return g;
    }

    private void releaseGraphMemory(List<Block> kept, List<MemorySegment> pinned) {
        for (Block b : kept) allocator.free(b);
        for (MemorySegment p : pinned) cuda_h.cuMemFreeHost(p);
    }

    private final class CapturedGraph implements Graph {
        private final CudaGraph graph;
        private final List<Block> kept;
        private final List<MemorySegment> pinned;
        private final int ops;
        private boolean closed;

        CapturedGraph(CudaGraph graph, List<Block> kept, List<MemorySegment> pinned, int ops) {
            this.graph = graph; this.kept = kept; this.pinned = pinned; this.ops = ops;
        }

        @Override
        public void replay() {
            try (var use = gate.op()) {
                synchronized (this) {                                   // one launch of this graph at a time
                    if (closed) throw new IllegalStateException("graph is closed");
                    checkOpen();
                    graph.launch(stream);
                    afterOp("graph replay (" + ops + " ops)");
                }
            }
        }

        @Override public int size() { return ops; }

        /** Waits for a replay in flight, then releases the graph, its kept blocks and pinned buffers. */
        @Override
        public void close() {
            try (var use = gate.op()) {
                synchronized (this) {
                    if (closed) return;
                    closed = true;
                    openGraphs.remove(this);
                    synchronizeFor("graph close");
                    graph.close();
                    releaseGraphMemory(kept, pinned);
                }
            }
        }
    }

    private boolean capturingHere() {
        return gate.capturingHere();
    }

    /**
     * Frees a block now, or keeps it for the graph this thread captures; another thread's capture is
     * waited out (its graph does not use this block, and the free is ordered on the stream).
     */
    private void release(Block block) {
        if (capturingHere()) {
            keptForGraph.add(block);
            return;
        }
        try (var use = gate.op()) {
            allocator.free(block);
        }
    }

    /** Shared use of the stream for work queued outside the backend's ops (the pinned uploader's copies). */
    StreamGate.Hold streamUse() { return gate.op(); }

    private void refuseWhileCapturing(String what) {
        if (capturingHere()) throw Graph.notRecordable(what);
    }

    @Override
    public void synchronize() {
        try (var use = gate.op()) {
            checkOpen();
            refuseWhileCapturing("synchronize");
            synchronizeFor("synchronize");
        }
    }

    private void synchronizeFor(String op) {
        device.makeCurrent();
        Cuda.check(cuda_h.cuStreamSynchronize(stream.handle()), op + ": cuStreamSynchronize");
    }

    /** With -Dt4j.sync=true, waits so that an asynchronous error is attributed to {@code op}. */
    private void afterOp(String op) {
        if (capturingHere()) {
            capturedOps++;
            return;
        }
        if (syncEachOp) synchronizeFor(op + " (checked by -Dt4j.sync=true)");
    }

    private void requireHere(String role, Tensor t) {
        t.checkOpen();
        if (t.device() != device) {
            throw new IllegalArgumentException(role + " " + t + " is on " + t.device().name() + " but this backend runs on "
                    + device.name());
        }
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("CUDA backend on " + device.name() + " is closed");
    }

    @Override
    public void close() {
        // exclusive, so that no op of another thread is in flight (gate before monitor: see cublas())
        try (var exclusive = capturingHere() ? null : gate.capture()) {
            synchronized (this) {
                closeExclusively();
            }
        }
    }

    private void closeExclusively() {
        if (closed) return;
        for (CapturedGraph g : List.copyOf(openGraphs)) g.close();   // their memory goes back before the allocator closes
        closed = true;
        stream.synchronize();
        if (cublas != null) cublas.close();
        if (cublasWorkspace != null) cublasWorkspace.close();
        if (gemmWorkspace != null) gemmWorkspace.close();
        allocator.close();
        stream.close();
    }
}
