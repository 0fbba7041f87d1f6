// CudaBackend — ops on one GPU: custom kernels from libt4j, GEMM through cuBLAS, memory from the
// caching allocator, all queued on the backend's own stream in the device's primary context.
package org.transformer4j.runtime.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.transformer4j.bindings.T4jLibrary;
import org.transformer4j.bindings.cuda_h;
import org.transformer4j.bindings.t4j_h;
import org.transformer4j.bindings.t4j_attention_params;
import org.transformer4j.bindings.t4j_decode_params;
import org.transformer4j.bindings.t4j_kv_append_params;
import org.transformer4j.bindings.t4j_norm_params;
import org.transformer4j.runtime.AttentionOp;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.DecodeOp;
import org.transformer4j.runtime.Device;
import org.transformer4j.runtime.GemmOp;
import org.transformer4j.runtime.KvAppendOp;
import org.transformer4j.runtime.NormOp;
import org.transformer4j.runtime.PagedKvCache;
import org.transformer4j.runtime.RelativeBias;
import org.transformer4j.runtime.Storage;
import org.transformer4j.runtime.Tensor;
import org.transformer4j.runtime.memory.AllocatorStats;
import org.transformer4j.runtime.memory.Block;
import org.transformer4j.runtime.memory.CachingAllocator;

/**
 * Asynchronous: ops return once queued. With {@code -Dt4j.sync=true} every op waits for the GPU
 * and an asynchronous CUDA error is reported as coming from the op that caused it.
 */
public final class CudaBackend implements Backend {

    private final CudaDevice device;
    private final Stream stream;
    private final CachingAllocator allocator;
    private final boolean syncEachOp;
    private Cublas cublas;
    private volatile boolean closed;

    private CudaBackend(CudaDevice device) {
        this.device = device;
        T4jLibrary.loadFatbin();
        this.stream = Stream.create(device);
        this.allocator = new CachingAllocator(new CudaMemory(device));
        this.syncEachOp = Boolean.getBoolean("t4j.sync");
    }

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
        checkOpen();
        long n = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative size in shape " + java.util.Arrays.toString(shape));
            n = Math.multiplyExact(n, d);
        }
        long bytes = Math.max(1, Math.multiplyExact(n, dtype.byteSize()));
        Block block = allocator.allocate(bytes, stream.address());
        return Tensor.wrapDevice(device, block.address(), block.size(), block, dtype, shape, () -> allocator.free(block));
    }

    /** Marks {@code t} as used on {@code other} too: its memory is reused only after {@code other} passes this point. */
    public void recordStream(Tensor t, Stream other) {
        requireHere("tensor", t);
        if (!(t.storage() instanceof Storage.DeviceMemoryStorage d) || !(d.allocation() instanceof Block block)) {
            throw new IllegalArgumentException(t + " was not allocated by a CUDA backend; its owner manages its lifetime");
        }
        allocator.recordStream(block, other.address());
    }

    @Override
    public Tensor upload(Tensor host) {
        checkOpen();
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

    @Override
    public Tensor toHost(Tensor t) {
        checkOpen();
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

    @Override
    public void copy(Tensor src, Tensor dst) {
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

    @Override
    public void gemm(GemmOp op) {
        checkOpen();
        GemmOp.Shape s = op.validate();
        requireHere("A", op.a());
        synchronized (this) {
            if (cublas == null) cublas = new Cublas(device, stream);
        }
        cublas.gemm(op, s);
        afterOp("gemm");
    }

    @Override
    public void norm(NormOp op) {
        checkOpen();
        NormOp.Shape s = op.validate();
        requireHere("x", op.x());
        device.makeCurrent();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = t4j_norm_params.allocate(arena);
            t4j_norm_params.out(p, address(op.out()));
            t4j_norm_params.residual_out(p, address(op.residualOut()));
            t4j_norm_params.x(p, address(op.x()));
            t4j_norm_params.residual(p, address(op.residual()));
            t4j_norm_params.weight(p, address(op.weight()));
            t4j_norm_params.bias(p, address(op.bias()));
            t4j_norm_params.rows(p, s.rows());
            t4j_norm_params.cols(p, s.cols());
            t4j_norm_params.x_row_stride(p, s.xRowStride());
            t4j_norm_params.residual_row_stride(p, s.residualRowStride());
            t4j_norm_params.out_row_stride(p, s.outRowStride());
            t4j_norm_params.residual_out_row_stride(p, s.residualOutRowStride());
            t4j_norm_params.eps(p, op.eps());
            t4j_norm_params.kind(p, op.kind() == NormOp.Kind.RMS ? t4j_h.T4J_NORM_RMS : t4j_h.T4J_NORM_LAYER);
            t4j_norm_params.dtype(p, op.x().dtype().code());
            t4j_norm_params.reserved(p, 0);
            Cuda.checkT4j(t4j_h.t4j_norm(p, stream.handle()), "t4j_norm (" + op.kind() + ", " + op.x().dtype() + ")");
        }
        afterOp("norm");
    }

    @Override
    public void attention(AttentionOp op) {
        checkOpen();
        AttentionOp.Shape s = op.validate();
        requireHere("q", op.q());
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
            MemorySegment p = t4j_attention_params.allocate(arena);
            t4j_attention_params.out(p, address(op.out()));
            t4j_attention_params.lse(p, address(op.lse()));
            t4j_attention_params.q(p, address(op.q()));
            t4j_attention_params.k(p, address(op.k()));
            t4j_attention_params.v(p, address(op.v()));
            t4j_attention_params.cu_seqlens_q(p, address(cuQ));
            t4j_attention_params.cu_seqlens_k(p, address(cuK));
            t4j_attention_params.key_lengths(p, address(keyLengths));
            t4j_attention_params.prefix_lengths(p, address(prefix));
            t4j_attention_params.rel_bias(p, address(op.bias() == null ? null : op.bias().table()));
            t4j_attention_params.q_batch_stride(p, s.qBatchStride());
            t4j_attention_params.q_row_stride(p, s.qRowStride());
            t4j_attention_params.q_head_stride(p, s.qHeadStride());
            t4j_attention_params.k_batch_stride(p, s.kBatchStride());
            t4j_attention_params.k_row_stride(p, s.kRowStride());
            t4j_attention_params.k_head_stride(p, s.kHeadStride());
            t4j_attention_params.v_batch_stride(p, s.vBatchStride());
            t4j_attention_params.v_row_stride(p, s.vRowStride());
            t4j_attention_params.v_head_stride(p, s.vHeadStride());
            t4j_attention_params.out_batch_stride(p, s.outBatchStride());
            t4j_attention_params.out_row_stride(p, s.outRowStride());
            t4j_attention_params.out_head_stride(p, s.outHeadStride());
            t4j_attention_params.B(p, s.batch());
            t4j_attention_params.NH(p, s.nh());
            t4j_attention_params.NKV(p, s.nkv());
            t4j_attention_params.Tq(p, s.tq());
            t4j_attention_params.Tk(p, s.tk());
            t4j_attention_params.HS(p, s.hs());
            t4j_attention_params.mask(p, op.mask().ordinal());
            t4j_attention_params.scale(p, op.scale());
            setBias(op.bias(), p, t4j_attention_params::num_buckets, t4j_attention_params::max_distance,
                    t4j_attention_params::bias_bidirectional);
            t4j_attention_params.dtype(p, op.q().dtype().code());
            Cuda.checkT4j(t4j_h.t4j_attention(p, stream.handle()),
                    "t4j_attention (" + op.mask() + ", " + op.q().dtype() + ", HS " + s.hs() + ")");
        }
        afterOp("attention");
    }

    @Override
    public void kvAppend(KvAppendOp op) {
        checkOpen();
        KvAppendOp.Shape s = op.validate();
        requireHere("k", op.k());
        PagedKvCache c = op.cache();
        device.makeCurrent();
        try (Arena arena = Arena.ofConfined();
             Tensor table = ints(c.blockTable()); Tensor lengths = ints(op.cacheLengths())) {
            MemorySegment p = t4j_kv_append_params.allocate(arena);
            t4j_kv_append_params.k_cache(p, address(c.kCache()));
            t4j_kv_append_params.v_cache(p, address(c.vCache()));
            t4j_kv_append_params.k(p, address(op.k()));
            t4j_kv_append_params.v(p, address(op.v()));
            t4j_kv_append_params.block_table(p, address(table));
            t4j_kv_append_params.cache_lengths(p, address(lengths));
            t4j_kv_append_params.k_batch_stride(p, s.kBatchStride());
            t4j_kv_append_params.k_row_stride(p, s.kRowStride());
            t4j_kv_append_params.k_head_stride(p, s.kHeadStride());
            t4j_kv_append_params.v_batch_stride(p, s.vBatchStride());
            t4j_kv_append_params.v_row_stride(p, s.vRowStride());
            t4j_kv_append_params.v_head_stride(p, s.vHeadStride());
            t4j_kv_append_params.B(p, s.batch());
            t4j_kv_append_params.Tnew(p, s.tnew());
            t4j_kv_append_params.NKV(p, s.nkv());
            t4j_kv_append_params.HS(p, s.hs());
            t4j_kv_append_params.block_size(p, c.blockSize());
            t4j_kv_append_params.max_blocks_per_seq(p, c.maxBlocksPerSeq());
            t4j_kv_append_params.num_blocks(p, c.numBlocks());
            t4j_kv_append_params.dtype(p, op.k().dtype().code());
            Cuda.checkT4j(t4j_h.t4j_kv_append(p, stream.handle()), "t4j_kv_append (" + op.k().dtype() + ")");
        }
        afterOp("kvAppend");
    }

    /**
     * Splits per sequence when the op leaves it to us: enough (split, KV head, sequence) blocks for
     * two per SM (a decode block serves one GQA group), each split at least 256 keys (shorter ones
     * cost more in the combine than they save).
     */
    static int autoSplits(int batch, int nkv, int maxLength, int smCount) {
        long blocks = (long) batch * nkv;
        int wanted = (int) Math.min(DecodeOp.MAX_SPLITS, Math.max(1, (2L * smCount + blocks - 1) / blocks));
        int byLength = Math.max(1, (maxLength + 255) / 256);
        return Math.max(1, Math.min(wanted, byLength));
    }

    @Override
    public void decode(DecodeOp op) {
        checkOpen();
        DecodeOp.Shape s = op.validate();
        requireHere("q", op.q());
        PagedKvCache c = op.cache();
        int splits = op.numSplits() > 0 ? op.numSplits() : autoSplits(s.batch(), s.nkv(), s.maxLength(), device.multiprocessorCount());
        device.makeCurrent();
        long rows = (long) splits * s.batch() * s.nh() * s.tq();
        try (Arena arena = Arena.ofConfined();
             Tensor table = ints(c.blockTable()); Tensor lengths = ints(op.cacheLengths());
             Tensor wsO = splits > 1 ? empty(DType.F32, rows, s.hs()) : null;      // (splits, B, NH, Tq, HS)
             Tensor wsLse = splits > 1 ? empty(DType.F32, rows) : null) {           // (splits, B, NH, Tq)
            MemorySegment p = t4j_decode_params.allocate(arena);
            t4j_decode_params.out(p, address(op.out()));
            t4j_decode_params.lse(p, address(op.lse()));
            t4j_decode_params.q(p, address(op.q()));
            t4j_decode_params.k_cache(p, address(c.kCache()));
            t4j_decode_params.v_cache(p, address(c.vCache()));
            t4j_decode_params.block_table(p, address(table));
            t4j_decode_params.cache_lengths(p, address(lengths));
            t4j_decode_params.workspace_o(p, address(wsO));
            t4j_decode_params.workspace_lse(p, address(wsLse));
            t4j_decode_params.rel_bias(p, address(op.bias() == null ? null : op.bias().table()));
            t4j_decode_params.q_batch_stride(p, s.qBatchStride());
            t4j_decode_params.q_row_stride(p, s.qRowStride());
            t4j_decode_params.q_head_stride(p, s.qHeadStride());
            t4j_decode_params.out_batch_stride(p, s.outBatchStride());
            t4j_decode_params.out_row_stride(p, s.outRowStride());
            t4j_decode_params.out_head_stride(p, s.outHeadStride());
            t4j_decode_params.B(p, s.batch());
            t4j_decode_params.NH(p, s.nh());
            t4j_decode_params.NKV(p, s.nkv());
            t4j_decode_params.Tq(p, s.tq());
            t4j_decode_params.HS(p, s.hs());
            t4j_decode_params.block_size(p, c.blockSize());
            t4j_decode_params.max_blocks_per_seq(p, c.maxBlocksPerSeq());
            t4j_decode_params.num_blocks(p, c.numBlocks());
            t4j_decode_params.num_splits(p, splits);
            t4j_decode_params.causal(p, op.causal() ? 1 : 0);
            t4j_decode_params.scale(p, op.scale());
            setBias(op.bias(), p, t4j_decode_params::num_buckets, t4j_decode_params::max_distance,
                    t4j_decode_params::bias_bidirectional);
            t4j_decode_params.dtype(p, op.q().dtype().code());
            t4j_decode_params.reserved(p, 0);
            Cuda.checkT4j(t4j_h.t4j_decode(p, stream.handle()),
                    "t4j_decode (" + op.q().dtype() + ", HS " + s.hs() + ", " + splits + " splits)");
        }
        afterOp("decode");
    }

    private interface IntField {
        void set(MemorySegment s, int v);
    }

    private static void setBias(RelativeBias bias, MemorySegment p, IntField buckets, IntField distance, IntField bidirectional) {
        buckets.set(p, bias == null ? 0 : bias.numBuckets());
        distance.set(p, bias == null ? 0 : bias.maxDistance());
        bidirectional.set(p, bias != null && bias.bidirectional() ? 1 : 0);
    }

    /** A device copy of host ints (I32), or null. */
    private Tensor ints(int[] values) {
        if (values == null) return null;
        try (Tensor h = Tensor.ofInts(values, values.length)) {
            return upload(h);
        }
    }

    private static MemorySegment address(Tensor t) {
        return t == null ? MemorySegment.NULL : MemorySegment.ofAddress(t.deviceAddress());
    }

    @Override
    public void synchronize() {
        checkOpen();
        synchronizeFor("synchronize");
    }

    private void synchronizeFor(String op) {
        device.makeCurrent();
        Cuda.check(cuda_h.cuStreamSynchronize(stream.handle()), op + ": cuStreamSynchronize");
    }

    /** With -Dt4j.sync=true, waits so that an asynchronous error is attributed to {@code op}. */
    private void afterOp(String op) {
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
    public synchronized void close() {
        if (closed) return;
        closed = true;
        stream.synchronize();
        if (cublas != null) cublas.close();
        allocator.close();
        stream.close();
    }
}
