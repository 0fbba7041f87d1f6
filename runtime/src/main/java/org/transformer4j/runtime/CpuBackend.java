// CpuBackend — every op in plain Java: the fallback where no GPU is usable and the twin that the
// CUDA kernels are tested against. fp16/bf16 data converts to fp32 for math and back on store.
package org.transformer4j.runtime;

import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.transformer4j.runtime.cpu.CpuAttention;
import org.transformer4j.runtime.cpu.CpuGemm;
import org.transformer4j.runtime.cpu.CpuKernels;
import org.transformer4j.runtime.cpu.CpuLinear;
import org.transformer4j.runtime.cpu.CpuMoe;
import org.transformer4j.runtime.cpu.CpuNorm;
import org.transformer4j.runtime.cpu.CpuRope;
import org.transformer4j.runtime.cpu.FloatArrays;
import org.transformer4j.runtime.cpu.Half;
import org.transformer4j.runtime.cpu.VocabKernels;

/** Runs on all cores, with the Vector API where the JVM has {@code jdk.incubator.vector}. */
public final class CpuBackend implements Backend {

    /** Ops recorded by {@link #capture} (non-null while its work runs, on {@link #recorder}'s thread). */
    private List<Runnable> recording;
    private Thread recorder;

    @Override public String kind() { return "cpu"; }

    @Override
    public String description() {
        return "cpu (" + Runtime.getRuntime().availableProcessors() + " threads, "
                + (CpuKernels.simd() ? "Vector API" : "scalar loops") + ")";
    }

    @Override public Device device() { return Device.HOST; }

    @Override public Tensor empty(DType dtype, long... shape) {
        checkOpen();
        return Tensor.empty(dtype, shape);
    }

    @Override
    public Tensor upload(Tensor host) {
        refuseWhileRecording("upload");
        Checks.open("host", host);
        requireHost("host", host);
        Tensor t = Tensor.empty(host.dtype(), host.shape());
        copyElements(host, t);
        return t;
    }

    @Override
    public Tensor toHost(Tensor t) {
        refuseWhileRecording("toHost");
        return upload(t);
    }

    @Override
    public void copyFromHost(Tensor host, Tensor dst) {
        refuseWhileRecording("copyFromHost");
        checkCopy("host", host, dst);
        if (!host.isContiguous() || !dst.isContiguous()) {
            throw new IllegalArgumentException("copyFromHost needs contiguous tensors: " + host + ", " + dst);
        }
        copyElements(host, dst);
    }

    @Override
    public Graph capture(Runnable work) {
        checkOpen();
        Objects.requireNonNull(work, "work");
        synchronized (this) {
            if (recording != null) throw new IllegalStateException("a capture is already in progress on this backend");
            recording = new ArrayList<>();
            recorder = Thread.currentThread();
        }
        List<Runnable> ops;
        try {
            work.run();
        } finally {
            synchronized (this) {
                ops = recording;
                recording = null;
                recorder = null;
            }
        }
        return new CpuGraph(List.copyOf(ops));
    }

    /** Replays recorded ops in order; each reads its tensors' current contents. */
    private static final class CpuGraph implements Graph {
        private final List<Runnable> ops;
        private volatile boolean closed;

        CpuGraph(List<Runnable> ops) { this.ops = ops; }

        @Override
        public void replay() {
            if (closed) throw new IllegalStateException("graph is closed");
            for (Runnable op : ops) op.run();
        }

        @Override public int size() { return ops.size(); }

        @Override public void close() { closed = true; }
    }

    private boolean recordingHere() {
        return recording != null && recorder == Thread.currentThread();
    }

    /** While recording: validates the op now, keeps {@code run} for the replays, and returns true. */
    private boolean recorded(Runnable validate, Runnable run) {
        checkOpen();
        if (!recordingHere()) return false;
        validate.run();
        recording.add(run);
        return true;
    }

    private void refuseWhileRecording(String what) {
        checkOpen();
        if (recordingHere()) throw Graph.notRecordable(what);
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        if (recorded(() -> checkCopy("src", src, dst), () -> copy(src, dst))) return;
        checkCopy("src", src, dst);
        copyElements(src, dst);
    }

    /** Both open host tensors of one dtype and shape. */
    private static void checkCopy(String srcRole, Tensor src, Tensor dst) {
        Checks.open(srcRole, src);
        Checks.open("dst", dst);
        requireHost(srcRole, src);
        requireHost("dst", dst);
        Checks.sameDType(srcRole, src, "dst", dst);
        Checks.sameShape(srcRole, src, "dst", dst);
    }

    private static void copyElements(Tensor src, Tensor dst) {
        if (src.isContiguous() && dst.isContiguous()) {
            long bytes = src.numel() * src.dtype().byteSize();
            java.lang.foreign.MemorySegment.copy(src.hostSegment(), 0, dst.hostSegment(), 0, bytes);
        } else if (src.dtype().isFloatingPoint()) {
            dst.copyFrom(src.toFloatArray());
        } else {
            throw new IllegalArgumentException("strided copies of " + src.dtype() + " tensors are not supported; "
                    + "src " + src + ", dst " + dst);
        }
    }

    @Override
    public void gemm(GemmOp op) {
        if (recorded(op::validate, () -> gemm(op))) return;
        GemmOp.Shape s = op.validate();
        requireHost("A", op.a());
        float[] a = op.a().toFloatArray();                      // (batch, rows, cols) packed
        float[] b = op.b().toFloatArray();
        float[] c = op.beta() == 0f ? new float[Math.toIntExact(op.c().numel())] : op.c().toFloatArray();
        int aRows = (int) op.a().shape(-2);
        int aCols = (int) op.a().shape(-1);
        int bRows = (int) op.b().shape(-2);
        int bCols = (int) op.b().shape(-1);
        long aBatch = op.a().rank() == 3 ? (long) aRows * aCols : 0;
        long bBatch = op.b().rank() == 3 ? (long) bRows * bCols : 0;
        long cBatch = op.c().rank() == 3 ? (long) s.m() * s.n() : 0;
        CpuGemm.gemm(s.batch(), s.m(), s.n(), s.k(), op.alpha(),
                a, 0, aBatch, aCols, op.transA(),
                b, 0, bBatch, bCols, op.transB(),
                op.beta(), c, 0, cBatch, s.n());
        op.c().copyFrom(c);
    }

    @Override
    public void norm(NormOp op) {
        if (recorded(op::validate, () -> norm(op))) return;
        NormOp.Shape s = op.validate();
        requireHost("x", op.x());
        int rows = Math.toIntExact(s.rows());
        int cols = Math.toIntExact(s.cols());
        float[] weight = op.weight().toFloatArray();
        float[] bias = op.bias() == null ? null : op.bias().toFloatArray();
        if (packedF32(op.x(), op.residual(), op.out(), op.residualOut())
                && CpuNorm.overlapsAllowed(4L * rows * cols, op.x().hostSegment(), segment(op.residual()),
                        op.out().hostSegment(), segment(op.residualOut()))) {
            // fp32 rows read and written where they lie: no copies to arrays and back
            CpuNorm.norm(op.kind() == NormOp.Kind.RMS, rows, cols, op.x().hostSegment(), segment(op.residual()),
                    weight, bias, op.eps(), op.out().hostSegment(), segment(op.residualOut()));
            return;
        }
        float[] x = FloatArrays.copyOf(op.x());
        float[] residual = op.residual() == null ? null : FloatArrays.copyOf(op.residual());
        float[] out = FloatArrays.take(rows * cols);                                  // written whole
        float[] residualOut = op.residualOut() == null ? null : FloatArrays.take(rows * cols);
        CpuNorm.norm(op.kind() == NormOp.Kind.RMS, rows, cols, x, 0, cols, residual, 0, cols, weight, 0, bias, 0,
                op.eps(), out, 0, cols, residualOut, 0, cols, rounding(op.x().dtype()));
        op.out().copyFrom(out);
        if (residualOut != null) op.residualOut().copyFrom(residualOut);
        FloatArrays.give(x, residual, out, residualOut);
    }

    @Override
    public void linear(LinearOp op) {
        if (recorded(op::validate, () -> linear(op))) return;
        LinearOp.Shape s = op.validate();
        requireHost("x", op.x());
        CpuLinear.linear(op, s);
    }

    @Override
    public void embedding(EmbeddingOp op) {
        if (recorded(op::validate, () -> embedding(op))) return;
        EmbeddingOp.Shape s = op.validate();
        requireHost("ids", op.ids());
        int[] ids = op.ids().toIntArray();
        int[] types = op.typeIds() == null ? null : op.typeIds().toIntArray();
        int[] positions = op.positions() == null ? null : op.positions().toIntArray();
        for (int r = 0; r < ids.length; r++) {
            if (positions != null && (positions[r] < 0 || positions[r] >= s.maxPositions())) {
                throw new IllegalArgumentException("position " + positions[r] + " at " + op.position(r) + " is outside [0, "
                        + s.maxPositions() + ") of positionTable " + op.positionTable().shapeString());
            }
            if (ids[r] < 0 || ids[r] >= s.vocab()) {
                throw new IllegalArgumentException("token id " + ids[r] + " at position " + op.position(r)
                        + " is outside the vocabulary [0, " + s.vocab() + ") of tokenTable " + op.tokenTable().shapeString());
            }
            if (types != null && (types[r] < 0 || types[r] >= s.typeVocab())) {
                throw new IllegalArgumentException("token type id " + types[r] + " at position " + op.position(r)
                        + " is outside [0, " + s.typeVocab() + ") of typeTable " + op.typeTable().shapeString());
            }
        }
        int c = Math.toIntExact(s.cols());
        float[] out = new float[Math.multiplyExact(ids.length, c)];   // (rows, C)
        for (int r = 0; r < ids.length; r++) {
            float[] v = row(op.tokenTable(), ids[r]);
            if (op.tokenScale() != 1f) for (int i = 0; i < v.length; i++) v[i] *= op.tokenScale();
            if (op.positionTable() != null) {
                add(v, row(op.positionTable(), positions != null ? positions[r] : op.positionOffset() + r % s.seqLen()));
            }
            if (types != null) add(v, row(op.typeTable(), types[r]));
            System.arraycopy(v, 0, out, r * c, c);
        }
        op.out().copyFrom(out);
    }

    private static float[] row(Tensor table, long i) { return table.slice(0, i, i + 1).toFloatArray(); }

    private static void add(float[] acc, float[] v) {
        for (int i = 0; i < acc.length; i++) acc[i] += v[i];
    }

    @Override
    public void softmax(SoftmaxOp op) {
        if (recorded(op::validate, () -> softmax(op))) return;
        SoftmaxOp.Shape s = op.validate();
        requireHost("x", op.x());
        float[] x = op.x().toFloatArray();
        float[] out = new float[x.length];
        VocabKernels.softmax(Math.toIntExact(s.rows()), Math.toIntExact(s.cols()), x, op.scale(), op.log(), out);
        op.out().copyFrom(out);
    }

    @Override
    public CrossEntropyOp.Result crossEntropy(CrossEntropyOp op) {
        refuseWhileRecording("crossEntropy");
        CrossEntropyOp.Shape s = op.validate();
        requireHost("logits", op.logits());
        int[] targets = op.targets().toIntArray();
        int cols = Math.toIntExact(s.cols());
        int bad = VocabKernels.firstBadTarget(targets, cols, op.ignoreIndex());
        if (bad >= 0) throw badTarget(op, bad, targets[bad]);
        float[] losses = new float[targets.length];
        VocabKernels.crossEntropy(targets.length, cols, op.logits().toFloatArray(), targets, op.ignoreIndex(), losses);
        op.losses().copyFrom(losses);
        return CrossEntropyOp.reduce(losses, targets, op.ignoreIndex());
    }

    /** The message both backends give for a target outside the vocabulary. */
    public static IllegalArgumentException badTarget(CrossEntropyOp op, long row, int target) {
        long cols = op.logits().shape(-1);
        return new IllegalArgumentException("target " + target + " at row " + row + " of targets " + op.targets().shapeString()
                + " is outside the vocabulary [0, " + cols + ") and is not the ignore index " + op.ignoreIndex());
    }

    @Override
    public void sample(SampleOp op) {
        if (recorded(op::validate, () -> sample(op))) return;
        SampleOp.Shape s = op.validate();
        requireHost("logits", op.logits());
        int rows = Math.toIntExact(s.rows());
        int[] ids = new int[rows];
        float[] lp = op.logprobs() == null ? null : new float[rows];
        int[] flags = op.nonFinite() == null ? null : new int[rows];
        if (op.rows() == null) {
            VocabKernels.sample(rows, Math.toIntExact(s.cols()), op.logits().toFloatArray(), op.temperature(), op.topK(),
                    op.topP(), op.minP(), op.seed(), op.offset(), ids, lp, flags);
        } else {
            int n = op.rows().size();
            long[] seeds = new long[n], offsets = new long[n];
            float[] temperature = new float[n], topP = new float[n], minP = new float[n];
            int[] topK = new int[n];
            for (int r = 0; r < n; r++) {
                SampleOp.Row row = op.rows().get(r);
                seeds[r] = row.seed();
                offsets[r] = row.offset();
                temperature[r] = row.temperature();
                topK[r] = row.topK();
                topP[r] = row.topP();
                minP[r] = row.minP();
            }
            VocabKernels.sampleRows(rows, Math.toIntExact(s.cols()), op.logits().toFloatArray(), temperature, topK, topP, minP,
                    seeds, offsets, ids, lp, flags);
        }
        for (int r = 0; r < rows; r++) op.ids().hostSegment().setAtIndex(ValueLayout.JAVA_INT, r, ids[r]);
        if (flags != null) for (int r = 0; r < rows; r++) op.nonFinite().hostSegment().setAtIndex(ValueLayout.JAVA_INT, r, flags[r]);
        if (lp != null) op.logprobs().copyFrom(lp);
    }

    @Override
    public void penalty(PenaltyOp op) {
        if (recorded(op::validate, () -> penalty(op))) return;
        PenaltyOp.Shape s = op.validate();
        requireHost("logits", op.logits());
        int rows = Math.toIntExact(s.rows());
        int width = Math.toIntExact(s.width());
        int[] ids = op.ids().toIntArray();                                       // (rows, U)
        int[] counts = op.counts().toIntArray();                                 // (rows, U)
        float[] bias = op.bias() == null ? null : op.bias().toFloatArray();      // (rows, U)
        for (int r = 0; r < rows; r++) {
            int[] row = java.util.Arrays.copyOfRange(ids, r * width, (r + 1) * width);
            for (int j = 0; j < width; j++) {
                if (row[j] < -1 || row[j] >= s.cols()) {
                    throw new IllegalArgumentException("ids[" + r + ", " + j + "] = " + row[j] + " is outside the vocabulary [0, "
                            + s.cols() + ") and is not the padding -1");
                }
            }
            java.util.Arrays.sort(row);
            for (int j = 1; j < width; j++) {
                if (row[j] >= 0 && row[j] == row[j - 1]) throw new IllegalArgumentException("ids row " + r + " holds id " + row[j] + " twice");
            }
        }
        Tensor logits = op.logits();
        for (int e = 0; e < rows * width; e++) {
            if (ids[e] < 0) continue;
            long r = e / width;
            float x = logits.getFloat(r, ids[e]);
            int ri = (int) r;   // per-row penalties (ABI 13) where given, else the scalars
            float repetition = op.repetitionRows() != null ? op.repetitionRows()[ri] : op.repetition();
            float presence = op.presenceRows() != null ? op.presenceRows()[ri] : op.presence();
            float frequency = op.frequencyRows() != null ? op.frequencyRows()[ri] : op.frequency();
            logits.setFloat(VocabKernels.penalized(x, bias != null, bias == null ? 0f : bias[e], counts[e], repetition,
                    presence, frequency), r, ids[e]);
        }
    }

    @Override
    public void attention(AttentionOp op) {
        if (recorded(op::validate, () -> attention(op))) return;
        AttentionOp.Shape s = op.validate();
        requireHost("q", op.q());
        int batch = s.batch();
        int[] qStart = new int[batch];
        int[] lq = new int[batch];
        int[] kStart = new int[batch];
        int[] lk = new int[batch];
        long[] lseBase = new long[batch];
        for (int b = 0; b < batch; b++) {
            qStart[b] = s.packed() ? op.cuSeqlensQ()[b] : b * s.tq();
            kStart[b] = s.packed() ? op.cuSeqlensK()[b] : b * s.tk();
            lq[b] = s.lq(b, op.cuSeqlensQ());
            lk[b] = s.lk(b, op.cuSeqlensK());
            if (op.keyLengths() != null) lk[b] = Math.min(lk[b], op.keyLengths()[b]);
            lseBase[b] = s.packed() ? op.cuSeqlensQ()[b] : (long) b * s.nh() * s.tq();
        }
        float[] out = FloatArrays.take(Math.toIntExact(op.out().numel()));
        java.util.Arrays.fill(out, 0f);   // rows no sequence covers stay zero
        float[] lse = op.lse() == null ? null : new float[Math.toIntExact(op.lse().numel())];
        float[] q = FloatArrays.copyOf(op.q()), k = FloatArrays.copyOf(op.k()), v = FloatArrays.copyOf(op.v());
        CpuAttention.prefill(batch, s.nh(), s.nkv(), s.hs(), qStart, lq, kStart, lk, op.mask().ordinal(),
                op.prefixLengths(), op.window(), op.scale(), op.softcap(), bias(op.bias(), op.alibi()), RelativeBias::bucket,
                disentangled(op.disentangled(), s), op.sinks() == null ? null : op.sinks().toFloatArray(), rounding(op.q().dtype()),
                q, k, v, out, lse, lseBase, s.packed() ? s.totalQ() : s.tq());
        op.out().copyFrom(out);
        if (lse != null) op.lse().copyFrom(lse);
        FloatArrays.give(q, k, v, out);
    }

    @Override
    public void kvAppend(KvAppendOp op) {
        if (recorded(() -> { op.validate(); if (op.lengths() == null) throw Graph.frozenLengths("kvAppend"); }, () -> kvAppend(op))) return;
        KvAppendOp.Shape s = op.validate();
        requireHost("k", op.k());
        if (op.cuSeqlens() != null) {                  // varlen: each sequence as an append of its own (t4j.h, ABI 17)
            for (int b = 0; b < s.batch(); b++) if (op.cuSeqlens()[b + 1] > op.cuSeqlens()[b]) kvAppend(op.sequence(b));
            return;
        }
        PagedKvCache c = op.cache();
        int[] lengths = op.currentLengths();
        int[] table = table(c);
        int width = s.nkv() * s.hs();
        Tensor kRows = c.kCache().view((long) c.numBlocks() * c.blockSize(), width);  // (slots, NKV·HS)
        Tensor vRows = c.vCache().view((long) c.numBlocks() * c.blockSize(), width);
        float[] k = op.k().toFloatArray();                                             // (B, Tnew, NKV, HS)
        float[] v = op.v().toFloatArray();
        for (int b = 0; b < s.batch(); b++) {
            for (int t = 0; t < s.tnew(); t++) {
                int pos = lengths[b] + t;
                long slot = (long) table[b * c.maxBlocksPerSeq() + pos / c.blockSize()] * c.blockSize()
                        + pos % c.blockSize();
                int from = (b * s.tnew() + t) * width;
                kRows.slice(0, slot, slot + 1).copyFrom(java.util.Arrays.copyOfRange(k, from, from + width));
                vRows.slice(0, slot, slot + 1).copyFrom(java.util.Arrays.copyOfRange(v, from, from + width));
            }
        }
    }

    @Override
    public void decode(DecodeOp op) {
        if (recorded(() -> { op.validate(); if (op.lengths() == null) throw Graph.frozenLengths("decode"); }, () -> decode(op))) return;
        DecodeOp.Shape s = op.validate();
        requireHost("q", op.q());
        if (op.cuSeqlensQ() != null) {                 // varlen: each sequence as a decode of its own (t4j.h, ABI 17)
            int[] cu = op.cuSeqlensQ();
            for (int b = 0; b < s.batch(); b++) {
                int lq = cu[b + 1] - cu[b];
                if (lq == 0) continue;
                if (op.lse() == null) {
                    decode(op.sequence(b, null));
                    continue;
                }
                try (Tensor lse = Tensor.empty(DType.F32, 1, s.nh(), lq)) {
                    decode(op.sequence(b, lse));
                    copy(lse.view(s.nh(), lq), op.lse().slice(1, cu[b], cu[b + 1]));
                }
            }
            return;
        }
        PagedKvCache c = op.cache();
        int[] lengths = op.currentLengths();
        float[] out = new float[Math.toIntExact(op.out().numel())];
        float[] lse = op.lse() == null ? null : new float[Math.toIntExact(op.lse().numel())];
        int[] table = table(c);
        float[][] keys = null, values = null;
        CpuAttention.Paged paged = null;
        if (CpuKernels.simd() && c.kCache().dtype() == DType.F32 && c.vCache().dtype() == DType.F32
                && c.kCache().isContiguous() && c.vCache().isContiguous()) {
            // fp32 caches: the attention reads the blocks where they lie (no copy per sequence and step)
            paged = new CpuAttention.Paged(c.kCache().hostSegment(), c.vCache().hostSegment(), table, c.maxBlocksPerSeq(), c.blockSize());
        } else {
            float[][] ks = keys = new float[s.batch()][];
            float[][] vs = values = new float[s.batch()][];
            long rows = 0;
            for (int b = 0; b < s.batch(); b++) rows += lengths[b];
            // K and V (of each sequence) copied by the kernel threads side by side when there is enough to copy
            CpuKernels.parallelFor(2L * s.batch(), rows * c.nkv() * c.headSize() >= GATHER_PARALLEL_MIN, t -> {
                int b = (int) (t / 2);
                if (t % 2 == 0) {
                    ks[b] = gather(c, table, c.kCache(), b, lengths[b]);
                } else {
                    vs[b] = gather(c, table, c.vCache(), b, lengths[b]);
                }
            });
        }
        CpuAttention.decode(s.batch(), s.tq(), s.nh(), s.nkv(), s.hs(), lengths, op.causal(), op.window(), op.scale(), op.softcap(),
                bias(op.bias(), op.alibi()), RelativeBias::bucket, op.sinks() == null ? null : op.sinks().toFloatArray(),
                op.numSplits() == 0 ? 1 : op.numSplits(), op.q().toFloatArray(), keys, values, paged, out, lse);
        op.out().copyFrom(out);
        if (lse != null) op.lse().copyFrom(lse);
    }

    @Override
    public void rope(RopeOp op) {
        if (recorded(op::validate, () -> rope(op))) return;
        RopeOp.Shape s = op.validate();
        requireHost("x", op.x());
        int[] pos = op.positions().toIntArray();
        float[][] inv = new float[s.batch()][];
        if (op.isLongRope()) {
            float[] tables = op.invFreq().toFloatArray();                       // (2, R/2): short, then long
            int half = op.rotaryDim() / 2;
            float[] shortFreq = java.util.Arrays.copyOfRange(tables, 0, half), longFreq = java.util.Arrays.copyOfRange(tables, half, 2 * half);
            int[] lens = op.seqLens().toIntArray();
            for (int b = 0; b < s.batch(); b++) inv[b] = lens[b] > op.longAfter() ? longFreq : shortFreq;
        } else if (op.dynamic() == null) {
            float[] table = op.invFreq().toFloatArray();
            java.util.Arrays.fill(inv, table);
        } else {
            int[] lens = op.seqLens().toIntArray();
            RopeOp.Dynamic d = op.dynamic();
            for (int b = 0; b < s.batch(); b++) {
                inv[b] = CpuRope.dynamicInvFreq(d.base(), d.factor(), d.maxPositions(), op.rotaryDim(), lens[b]);
            }
        }
        float[] x = op.x().toFloatArray();                                            // (B, T, H, HS) dense
        CpuRope.rope(s.batch(), s.t(), s.heads(), s.hs(), op.rotaryDim(), pos, inv, op.attentionScaling(), rounding(op.x().dtype()), x);
        op.x().copyFrom(x);
    }

    @Override
    public void mask(MaskOp op) {
        if (recorded(op::validate, () -> mask(op))) return;
        op.validate();
        requireHost("logits", op.logits());
        requireHost("allowed", op.allowed());
        float[] x = op.logits().toFloatArray();           // −∞ and every kept value round-trip exactly in each dtype
        MaskOp.apply(x, op.allowed().toIntArray(), (int) op.logits().shape(0), (int) op.logits().shape(1));
        op.logits().copyFrom(x);
    }

    @Override
    public void softcap(SoftcapOp op) {
        if (recorded(op::validate, () -> softcap(op))) return;
        op.validate();
        requireHost("x", op.x());
        float[] x = op.x().toFloatArray();
        float cap = op.cap();
        CpuKernels.FloatUnaryOperator round = rounding(op.x().dtype());
        for (int i = 0; i < x.length; i++) {
            float y = cap * (float) Math.tanh(x[i] / cap);
            x[i] = round == null ? y : round.applyAsFloat(y);
        }
        op.x().copyFrom(x);
    }

    /** The block ids the op reads: the table tensor's current contents where the cache has one (as on CUDA). */
    private static int[] table(PagedKvCache c) {
        return c.tableTensor() != null ? c.tableTensor().toIntArray() : c.blockTable();
    }

    /** Cached floats (of K, per sequence summed) from which decode gathers K and V on two threads: 64 KiB. */
    private static final long GATHER_PARALLEL_MIN = 1 << 14;

    /** Key positions [0, length) of sequence b, block by block: (length, NKV, HS) dense. */
    private static float[] gather(PagedKvCache c, int[] table, Tensor cache, int b, int length) {
        int width = c.nkv() * c.headSize();
        Tensor slots = cache.view((long) c.numBlocks() * c.blockSize(), width);      // (slots, NKV·HS)
        float[] rows = new float[Math.multiplyExact(length, width)];
        if (cache.dtype() == DType.F32 && cache.isContiguous()) {
            // fp32: block by block straight from the cache's memory (no slice, no array per block)
            java.lang.foreign.MemorySegment seg = cache.hostSegment();
            int bs = c.blockSize();
            for (int j0 = 0; j0 < length; j0 += bs) {
                int n = Math.min(bs, length - j0);
                long first = (long) table[b * c.maxBlocksPerSeq() + j0 / bs] * bs;
                java.lang.foreign.MemorySegment.copy(seg, ValueLayout.JAVA_FLOAT, 4L * first * width,
                        rows, j0 * width, n * width);
            }
            return rows;
        }
        for (int j0 = 0; j0 < length; j0 += c.blockSize()) {
            int n = Math.min(c.blockSize(), length - j0);
            long first = (long) table[b * c.maxBlocksPerSeq() + j0 / c.blockSize()] * c.blockSize();
            System.arraycopy(slots.slice(0, first, first + n).toFloatArray(), 0, rows, j0 * width, n * width);
        }
        return rows;
    }

    /** DeBERTa's tables as arrays, with each distance's column for every query position − key position the op can meet. */
    private static CpuAttention.Disentangled disentangled(DisentangledBias d, AttentionOp.Shape s) {
        if (d == null) return null;
        int center = Math.max(Math.max(s.tk(), s.tq()), 1) - 1;
        int[] index = new int[2 * center + 1];
        for (int rel = -center; rel <= center; rel++) index[rel + center] = d.index(rel);
        Tensor any = d.c2p() != null ? d.c2p() : d.p2c();
        return new CpuAttention.Disentangled(d.c2p() == null ? null : d.c2p().toFloatArray(), d.p2c() == null ? null : d.p2c().toFloatArray(),
                (int) any.shape(2), d.c2p() == null ? 0 : (int) d.c2p().shape(1), d.p2c() == null ? 0 : (int) d.p2c().shape(1), index, center);
    }

    /** The op's positional bias: its T5 table, or its ALiBi slopes (validated: never both), or null. */
    private static CpuAttention.Bias bias(RelativeBias b, Tensor alibi) {
        if (alibi != null) return CpuAttention.Bias.alibi(alibi.toFloatArray());
        return b == null ? null : new CpuAttention.Bias(b.table().toFloatArray(), b.numBuckets(), b.maxDistance(), b.bidirectional());
    }

    /** Whether every non-null tensor is fp32, contiguous and on the host: its segment is the packed matrix. */
    private static boolean packedF32(Tensor... ts) {
        for (Tensor t : ts) {
            if (t != null && (t.dtype() != DType.F32 || !t.isContiguous() || t.isCuda())) return false;
        }
        return true;
    }

    private static java.lang.foreign.MemorySegment segment(Tensor t) {
        return t == null ? null : t.hostSegment();
    }

    /** How storing a value in {@code dtype} rounds it (null for fp32). */
    @Override
    public void moeRoute(MoeRouteOp op) {
        if (recorded(op::validate, () -> moeRoute(op))) return;
        MoeRouteOp.Shape s = op.validate();
        requireHost("logits", op.logits());
        if (op.correctionBias() != null) requireHost("correctionBias", op.correctionBias());
        int t = Math.toIntExact(s.tokens()), e = s.experts(), k = op.topK();
        float[] logits = op.logits().toFloatArray();                       // (T, E) dense copy
        int[] ids = new int[t * k];
        float[] weights = new float[t * k];
        float[] sc = new float[e], choice = new float[e];
        CpuMoe.Router router = new CpuMoe.Router(e, k, op.renormalize(), op.scoring() == MoeRouteOp.Scoring.SIGMOID,
                op.correctionBias() == null ? null : op.correctionBias().toFloatArray(), op.groups(), op.topkGroups(), op.scale());
        for (int r = 0; r < t; r++) {
            CpuMoe.topK(router, logits, r * e, sc, choice, ids, weights, r * k);
        }
        int[] offsets = new int[e + 1];
        int[] sorted = new int[t * k];
        int[] slots = new int[t * k];
        CpuMoe.sortByExpert(ids, t, k, e, offsets, sorted, slots);
        MoeRouting out = op.out();
        hostInts(out.ids(), ids);
        out.weights().copyFrom(weights);
        hostInts(out.offsets(), offsets);
        hostInts(out.sortedTokens(), sorted);
        hostInts(out.slots(), slots);
    }

    private static void hostInts(Tensor dst, int[] v) {
        requireHost("routing output", dst);
        dst.hostSegment().copyFrom(java.lang.foreign.MemorySegment.ofArray(v));
    }

    @Override
    public int maxHeadSize() { return AttentionOp.MAX_HEAD_SIZE; }

    @Override
    public void gatherRows(GatherRowsOp op) {
        if (recorded(op::validate, () -> gatherRows(op))) return;
        GatherRowsOp.Shape s = op.validate();
        requireHost("x", op.x());
        int[] rows = op.rows() == null ? java.util.stream.IntStream.range(0, (int) s.n()).toArray() : op.rows().toIntArray();
        for (int r = 0; r < rows.length; r++) {
            if (rows[r] < 0 || rows[r] >= s.xRows()) {
                throw new IllegalArgumentException("rows[" + r + "] = " + rows[r] + " is outside x's rows [0, " + s.xRows() + ")");
            }
        }
        for (int r = 0; r < rows.length; r++) op.out().slice(0, r, r + 1).copyFrom(row(op.x(), rows[r]));
    }

    @Override
    public void groupedLinear(GroupedLinearOp op) {
        if (recorded(op::validate, () -> groupedLinear(op))) return;
        GroupedLinearOp.Shape s = op.validate();
        requireHost("x", op.x());
        int[] offsets = op.offsets().toIntArray();
        CpuMoe.checkOffsets(offsets, s.rows());
        if (op.wq() != null) {
            org.transformer4j.runtime.cpu.CpuMxfp4.groupedLinear(op, s, offsets);
            return;
        }
        for (int g = 0; g < s.groups(); g++) {
            int from = offsets[g], to = offsets[g + 1];
            if (from == to) continue;
            LinearOp one = LinearOp.of(op.x().slice(0, from, to), op.w().select(0, g), op.out().slice(0, from, to))
                    .transW(op.transW()).activation(op.activation()).alpha(op.alpha())
                    .bias(op.bias() == null ? null : op.bias().select(0, g));
            if (op.wGate() != null) one = one.gate(op.wGate().select(0, g), op.biasGate() == null ? null : op.biasGate().select(0, g));
            if (op.residual() != null) one = one.residual(op.residual().slice(0, from, to));
            CpuLinear.linear(one, one.validate());
        }
    }

    @Override
    public void activation(ActivationOp op) {
        if (recorded(op::validate, () -> activation(op))) return;
        ActivationOp.Shape s = op.validate();
        requireHost("x", op.x());
        CpuLinear.activation(op, s);
    }

    @Override
    public void moeCombine(MoeCombineOp op) {
        if (recorded(op::validate, () -> moeCombine(op))) return;
        MoeCombineOp.Shape s = op.validate();
        requireHost("y", op.y());
        int t = Math.toIntExact(s.tokens()), c = Math.toIntExact(s.cols()), k = s.topK();
        int[] slots = op.slots().toIntArray();
        float[] w = op.weights().toFloatArray();
        float[] out = new float[Math.multiplyExact(t, c)];
        float[] res = op.residual() == null ? null : op.residual().toFloatArray();
        float[] shared = op.shared() == null ? null : op.shared().toFloatArray();
        float[] gate = op.sharedGate() == null ? null : op.sharedGate().toFloatArray();
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < k; j++) {
                int slot = slots[i * k + j];
                if (slot < 0 || slot >= s.slotRows()) {
                    throw new IllegalArgumentException("slots[" + i + ", " + j + "] = " + slot + " is outside y's rows [0, " + s.slotRows() + ")");
                }
            }
        }
        float[] yr = new float[c];
        for (int i = 0; i < t; i++) {
            int o = i * c;
            for (int j = 0; j < k; j++) {
                op.y().slice(0, slots[i * k + j], slots[i * k + j] + 1).toFloatArray(yr);
                float wj = w[i * k + j];
                for (int x = 0; x < c; x++) out[o + x] += wj * yr[x];
            }
            if (shared != null) {
                float g = gate == null ? 1f : (float) (1 / (1 + Math.exp(-gate[i])));
                for (int x = 0; x < c; x++) out[o + x] += g * shared[o + x];
            }
            if (res != null) for (int x = 0; x < c; x++) out[o + x] += res[o + x];
        }
        op.out().copyFrom(out);
    }

    public static CpuKernels.FloatUnaryOperator rounding(DType dtype) {
        return switch (dtype) {
            case F16 -> Half::roundToF16;
            case BF16 -> Half::roundToBf16;
            default -> null;
        };
    }

    private static void requireHost(String role, Tensor t) {
        if (t.isCuda()) {
            throw new IllegalArgumentException(role + " " + t + " is on " + t.device().name()
                    + " but this is the CPU backend; copy it to the host first");
        }
    }

    @Override public void synchronize() { refuseWhileRecording("synchronize"); }

    /** After close every call throws IllegalStateException, as CudaBackend's do (tensors it made stay readable). Idempotent. */
    @Override public void close() { closed = true; }

    private volatile boolean closed;

    private void checkOpen() {
        if (closed) throw new IllegalStateException("this CpuBackend is closed");
    }
}
