// ModelGpuTest — the model layer on the CUDA backend (fp32): the same forward passes, cached decoding
// and generation as on the CPU, compared with the CPU twin; skips with the reason where no GPU is usable.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.transformer4j.runtime.Backends;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.cuda.CudaBackend;

@Tag("gpu")
class ModelGpuTest {

    /** The design's fp32 rule: ‖out − ref‖ / ‖ref‖ under 1e-5. */
    static final double REL = 1e-5;

    static CudaBackend gpu() {
        Backends.CudaStatus status = Backends.cudaStatus();
        assumeTrue(status.usable(), () -> "no usable GPU: " + status.reason());
        return CudaBackend.create(0);
    }

    static double relErr(float[][] out, float[][] ref) {
        double num = 0, den = 0;
        for (int i = 0; i < ref.length; i++) {
            for (int j = 0; j < ref[i].length; j++) {
                num += Math.pow(out[i][j] - ref[i][j], 2);
                den += Math.pow(ref[i][j], 2);
            }
        }
        return Math.sqrt(num / den);
    }

    @Test
    void fourStepsCachedDecodingAndGenerationMatchTheCpu() {
        try (CudaBackend cuda = gpu()) {
            CpuBackend cpu = new CpuBackend();
            for (TransformerConfig.Builder family : new TransformerConfig.Builder[] {Tiny.encDec(), Tiny.t5ish()}) {
                TransformerConfig ed = family.build().withSteps(true, true, true, true);
                try (Weights wg = Weights.random(ed, cuda, 81); Weights wc = Weights.random(ed, cpu, 81)) {
                    int[][] in = Tiny.ids(82, 2, 7), tg = Tiny.ids(83, 2, 5);
                    float[][][] g = new Transformer(wg, cuda).logits(in, tg);
                    float[][][] c = new Transformer(wc, cpu).logits(in, tg);
                    float[][][] gpt = new Transformer(wg.viewAs(Tiny.decoderOnly(ed, false)), cuda).logits(Tiny.concat(in, tg));
                    for (int b = 0; b < 2; b++) {
                        assertTrue(relErr(g[b], c[b]) <= REL, "CUDA vs CPU " + relErr(g[b], c[b]));
                        float[][] tail = java.util.Arrays.copyOfRange(gpt[b], 7, 12);
                        assertTrue(relErr(g[b], tail) <= REL, "all four steps vs decoder-only on CUDA " + relErr(g[b], tail));
                    }
                }
                TransformerConfig dec = Tiny.decoderOnly(family.build(), false);
                try (Weights w = Weights.random(dec, cuda, 84)) {
                    Transformer m = new Transformer(w, cuda);
                    int[] seq = Tiny.ids(85, 1, 65)[0];
                    float[][] full = m.logits(new int[][] {seq})[0];
                    try (KvState st = m.newState(1, 65)) {
                        m.prefill(st, 0, new int[] {seq[0]});
                        for (int t = 1; t < 65; t++) {
                            float[][] step = m.step(st, new int[] {seq[t]});
                            assertTrue(relErr(step, new float[][] {full[t]}) <= REL, "step " + t);
                        }
                        assertTrue(st.decodeGraphed(), "steps replay a CUDA graph: " + st.decodeGraphFailure());
                    }
                    try (Weights wc = Weights.random(dec, cpu, 84)) {
                        int[] p = Tiny.ids(86, 1, 9)[0];
                        assertArrayEquals(new Generator(new Transformer(wc, cpu)).generate(p, Generator.Options.greedy(16), null),
                                new Generator(m).generate(p, Generator.Options.greedy(16), null));
                    }
                }
            }
        }
    }

    /**
     * The captured decode step on CUDA against the CPU twin, for batches of sequences at different
     * positions: decoder-only (learned positions, device-resident per sequence) and encoder-decoders
     * with cross-attention over packed memories of different lengths (frozen offsets) and with the
     * memory in the self-attention cache (step 1); graph replays equal op-by-op CUDA steps.
     */
    @Test
    void capturedDecodeStepsMatchTheCpuAndOpByOpSteps() {
        try (CudaBackend cuda = gpu()) {
            CpuBackend cpu = new CpuBackend();
            TransformerConfig[] configs = {Tiny.decoderOnly(Tiny.encDec().build(), false), Tiny.encDec().build(),
                    Tiny.t5ish().build().withSteps(true, false, false, false)};
            for (TransformerConfig c : configs) {
                try (Weights wg = Weights.random(c, cuda, 91); Weights wc = Weights.random(c, cpu, 91)) {
                    float[][][] graphed = steps(new Transformer(wg, cuda), c, true);
                    float[][][] eager = steps(new Transformer(wg, cuda).decodeGraphs(false), c, false);
                    float[][][] twin = steps(new Transformer(wc, cpu), c, true);
                    for (int t = 0; t < graphed.length; t++) {
                        assertTrue(relErr(graphed[t], twin[t]) <= REL, c.architecture() + " step " + t + " vs CPU: " + relErr(graphed[t], twin[t]));
                        assertTrue(relErr(graphed[t], eager[t]) <= 1e-6, c.architecture() + " step " + t + " graph vs op by op");
                    }
                }
            }
        }
    }

    private static float[][][] steps(Transformer m, TransformerConfig c, boolean expectGraph) {
        int n = 40;
        int[][] tokens = Tiny.ids(92, 2, n);
        float[][][] out = new float[n][][];
        boolean encDec = c.architecture() == TransformerConfig.Architecture.ENCODER_DECODER;
        try (KvState st = encDec ? m.newState(new int[][] {Tiny.ids(93, 1, 11)[0], Tiny.ids(94, 1, 4)[0]}, n)
                : m.newState(2, 9 + n)) {
            if (!encDec) {
                m.prefill(st, 0, Tiny.ids(95, 1, 9)[0]);
                m.prefill(st, 1, Tiny.ids(96, 1, 3)[0]);
            }
            for (int t = 0; t < n; t++) out[t] = m.step(st, new int[] {tokens[0][t], tokens[1][t]});
            assertTrue(st.decodeGraphed() == expectGraph, "graph state; failure: " + st.decodeGraphFailure());
        }
        return out;
    }
}
