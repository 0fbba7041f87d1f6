// LowPrecision — the design's tolerance rule for the model in F16 / BF16, and the "same computation
// done naively in that precision" it measures against: the fp32 model on a backend that rounds every
// tensor it stores (uploads, every op's output) to the low-precision format, the math in fp32.
package org.transformer4j.model;

import org.transformer4j.runtime.AttentionOp;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.CrossEntropyOp;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.DecodeOp;
import org.transformer4j.runtime.Device;
import org.transformer4j.runtime.EmbeddingOp;
import org.transformer4j.runtime.GemmOp;
import org.transformer4j.runtime.KvAppendOp;
import org.transformer4j.runtime.LinearOp;
import org.transformer4j.runtime.NormOp;
import org.transformer4j.runtime.SampleOp;
import org.transformer4j.runtime.SoftmaxOp;
import org.transformer4j.runtime.Tensor;
import org.transformer4j.runtime.Tolerance;
import org.transformer4j.runtime.cpu.Half;

final class LowPrecision {

    private LowPrecision() {}

    /** The design's rule for the model's outputs: {@link Tolerance#allowed}, the one every GPU test uses. */
    static double allowed(double naiveErr, double maxRef) { return Tolerance.allowed(naiveErr, maxRef); }

    static double maxErr(float[][][] got, float[][][] ref) {
        double m = 0;
        for (int b = 0; b < ref.length; b++) m = Math.max(m, maxErr(got[b], ref[b]));
        return m;
    }

    static double maxErr(float[][] got, float[][] ref) {
        double m = 0;
        for (int i = 0; i < ref.length; i++) {
            for (int j = 0; j < ref[i].length; j++) {
                double d = Math.abs((double) got[i][j] - ref[i][j]);
                if (Double.isNaN(d)) return Double.POSITIVE_INFINITY;
                m = Math.max(m, d);
            }
        }
        return m;
    }

    static double maxAbs(float[][][] a) {
        double m = 0;
        for (float[][] r : a) m = Math.max(m, Tiny.maxAbs(r));
        return m;
    }

    static float round(DType dtype, float v) {
        return switch (dtype) {
            case BF16 -> Half.roundToBf16(v);
            case F16 -> Half.roundToF16(v);
            default -> v;
        };
    }

    /**
     * The CPU backend with every F32 tensor it stores rounded to {@code storage} (values still held in
     * F32): uploads (weights, ids excepted) and the outputs of every op. A model on it computes like a
     * naive low-precision implementation: each activation, cache row and logit rounded once when stored,
     * sums in fp32; a norm's fused residual sum is stored (rounded) before it is normalised. Inside the
     * attention op it does not round the scores and softmax weights a naive attention would store (the
     * tensor-core kernel and its CPU twin round the weights), so it errs on the strict side.
     */
    static final class RoundingBackend implements Backend {
        final CpuBackend cpu = new CpuBackend();
        final DType storage;

        RoundingBackend(DType storage) { this.storage = storage; }

        private void round(Tensor t) {
            if (t == null || t.dtype() != DType.F32) return;
            float[] v = t.toFloatArray();
            for (int i = 0; i < v.length; i++) v[i] = LowPrecision.round(storage, v[i]);
            t.copyFrom(v);
        }

        @Override public String kind() { return cpu.kind(); }
        @Override public String description() { return "cpu, storing " + storage; }
        @Override public Device device() { return cpu.device(); }
        @Override public Tensor empty(DType dtype, long... shape) { return cpu.empty(dtype, shape); }

        @Override
        public Tensor upload(Tensor host) {
            Tensor t = cpu.upload(host);
            round(t);
            return t;
        }

        @Override public Tensor toHost(Tensor t) { return cpu.toHost(t); }
        @Override public void copy(Tensor src, Tensor dst) { cpu.copy(src, dst); }
        @Override public void copyFromHost(Tensor host, Tensor dst) { cpu.copyFromHost(host, dst); }

        /** Records nothing: each replay runs {@code work} again (the rounding is host code around the CPU ops). */
        @Override
        public org.transformer4j.runtime.Graph capture(Runnable work) {
            return new org.transformer4j.runtime.Graph() {
                @Override public void replay() { work.run(); }
                @Override public int size() { return 0; }
                @Override public void close() { }
            };
        }
        @Override public void gemm(GemmOp op) { cpu.gemm(op); round(op.c()); }
        @Override public void moeRoute(org.transformer4j.runtime.MoeRouteOp op) { cpu.moeRoute(op); round(op.out().weights()); }   // transformers casts routing weights to the model dtype
        @Override public void gatherRows(org.transformer4j.runtime.GatherRowsOp op) { cpu.gatherRows(op); }
        @Override public void groupedLinear(org.transformer4j.runtime.GroupedLinearOp op) { cpu.groupedLinear(op); round(op.out()); }
        @Override public void moeCombine(org.transformer4j.runtime.MoeCombineOp op) { cpu.moeCombine(op); round(op.out()); }
        @Override public void activation(org.transformer4j.runtime.ActivationOp op) { cpu.activation(op); round(op.out()); }

        @Override
        public void norm(NormOp op) {
            if (op.residual() == null || op.x().dtype() != DType.F32) {
                cpu.norm(op);
            } else {                                        // naively the sum h = x + residual is a stored tensor
                float[] h = op.x().toFloatArray(), r = op.residual().toFloatArray();
                for (int i = 0; i < h.length; i++) h[i] = LowPrecision.round(storage, h[i] + r[i]);
                try (Tensor ht = Tensor.ofFloats(h, op.x().shape())) {
                    cpu.norm(new NormOp(op.kind(), ht, null, op.weight(), op.bias(), op.eps(), op.out(), null));
                }
                if (op.residualOut() != null) op.residualOut().copyFrom(h);
            }
            round(op.out());
        }

        @Override public void linear(LinearOp op) { cpu.linear(op); round(op.out()); }
        @Override public void embedding(EmbeddingOp op) { cpu.embedding(op); round(op.out()); }
        @Override public void softmax(SoftmaxOp op) { cpu.softmax(op); round(op.out()); }
        @Override public CrossEntropyOp.Result crossEntropy(CrossEntropyOp op) { return cpu.crossEntropy(op); }
        @Override public void sample(SampleOp op) { cpu.sample(op); }
        @Override public void penalty(org.transformer4j.runtime.PenaltyOp op) { cpu.penalty(op); round(op.logits()); }
        @Override public void attention(AttentionOp op) { cpu.attention(op); round(op.out()); }
        @Override public void kvAppend(KvAppendOp op) { cpu.kvAppend(op); }           // k and v are rounded outputs already
        @Override public void decode(DecodeOp op) { cpu.decode(op); round(op.out()); }
        @Override public void rope(org.transformer4j.runtime.RopeOp op) { cpu.rope(op); round(op.x()); }
        @Override public void softcap(org.transformer4j.runtime.SoftcapOp op) { cpu.softcap(op); round(op.x()); }
        @Override public void mask(org.transformer4j.runtime.MaskOp op) { cpu.mask(op); }
        @Override public void synchronize() { cpu.synchronize(); }
        @Override public void close() { cpu.close(); }
    }
}
