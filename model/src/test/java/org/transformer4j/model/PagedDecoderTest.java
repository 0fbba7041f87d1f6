package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.Tensor;

/**
 * {@link PagedBatch.Decoder} against {@link PagedBatch#decode}: the same sequences stepped through two
 * pools, one op by op at each step's own size (a fresh state per step), the other through captured
 * steps at batch buckets with padding rows. Every logit bit and every cache row of the sequences'
 * blocks must agree: a padding row that wrote into a sequence's block, or a stale block table in a
 * replayed graph, changes one of them. The model is {@link Tiny#ropeDecoder()} (RoPE from the
 * positions tensor, a sliding window, GQA), on the CPU backend, whose graph twin runs the captured path.
 */
class PagedDecoderTest {

    static final int SEQS = 6, BLOCKS_PER_SEQ = 4, PAD = SEQS * BLOCKS_PER_SEQ, POOL = PAD + 1;

    /** How the two paths' logits and cache blocks are compared: bit for bit on the CPU, within a tolerance on CUDA. */
    interface Agree {
        void same(float[] want, float[] got, String what);
    }

    @Test
    void capturedBucketStepsMatchOpByOpStepsBitForBit() {
        try (CpuBackend backend = new CpuBackend(); Weights w = Weights.random(Tiny.ropeDecoder(), backend, 21)) {
            scenario(new Transformer(w, backend), (want, got, what) -> assertArrayEquals(want, got, what));
        }
    }

    /** The same with a mixture of experts: padding rows take expert slots too, and must leave the real rows' bits alone. */
    @Test
    void capturedBucketStepsOfAMixtureOfExpertsMatchOpByOpSteps() {
        try (CpuBackend backend = new CpuBackend(); Weights w = Weights.random(Tiny.moeDecoder(), backend, 22)) {
            scenario(new Transformer(w, backend), (want, got, what) -> assertArrayEquals(want, got, what));
        }
    }

    /**
     * The same with DeepSeek-V3's folder: multi-head latent attention (K and V as strided views of the fused [K ; V] GEMM,
     * the in-place latent norms) and the sigmoid router with its correction bias and groups in the captured bucket steps.
     */
    @Test
    void capturedBucketStepsOfDeepseekMatchOpByOpSteps() throws Exception {
        try (CpuBackend backend = new CpuBackend();
             Weights w = Pretrained.load(ReferenceFixturesTest.Fixture.open("deepseek-v3").dir(), backend)) {
            scenario(new Transformer(w, backend), (want, got, what) -> assertArrayEquals(want, got, what));
        }
    }

    static float[] host(Transformer m, Tensor t) {
        if (!t.isCuda()) return t.toFloatArray();
        try (Tensor h = m.backend.toHost(t)) {
            return h.toFloatArray();
        }
    }

    /**
     * Six sequences prefilled into two pools, then 14 decode steps of changing groups: pool a op by op
     * ({@link PagedBatch#decode}), pool b through a {@link PagedBatch.Decoder} with buckets 1, 2, 4, 8
     * (from step 7 on over a copy of b's caches); the logits of each step and, at the end, every block
     * of every sequence must agree.
     */
    static void scenario(Transformer m, Agree agree) {
        Tensor[][] a = PagedBatch.allocate(m, POOL), b = PagedBatch.allocate(m, POOL);
        Tensor[][] c = null;
        int vocab = m.weights.config.vocabSize();
        try (PagedBatch.Decoder decoder = new PagedBatch.Decoder(m, new int[] {1, 2, 4, 8}, BLOCKS_PER_SEQ, PAD)) {
            int[] lengths = new int[SEQS], last = new int[SEQS];
            SplittableRandom r = new SplittableRandom(8);
            for (int s = 0; s < SEQS; s++) {                  // prompts of 3..20 tokens, the same rows in both pools
                int[] prompt = new int[3 + r.nextInt(18)];
                for (int i = 0; i < prompt.length; i++) prompt[i] = 3 + r.nextInt(vocab - 3);
                float[] la = PagedBatch.prefill(m, a, table(s), 0, prompt);
                float[] lb = PagedBatch.prefill(m, b, table(s), 0, prompt);
                assertArrayEquals(la, lb, "the same prefill into two pools");
                lengths[s] = prompt.length;
                last[s] = argmax(la);
            }
            // groups of sequences per step: sizes 6 (bucket 8, two padding rows), 3 (4), 1, 2, 5, 6 again (replayed), 4
            // (from step 7 on over a copy of the caches: new states, each bucket eager once, then captured again)
            int[][] steps = {{0, 1, 2, 3, 4, 5}, {1, 3, 5}, {2}, {0, 4}, {5, 4, 3, 2, 1}, {0, 1, 2, 3, 4, 5},
                             {3, 0, 2, 1}, {1, 3, 5}, {0, 1, 2, 3, 4, 5}, {2}, {4, 2}, {0, 1, 2, 3, 4, 5}, {2}, {3, 0, 2}};
            for (int k = 0; k < steps.length; k++) {
                int[] group = steps[k];
                if (k == 7) {
                    assertTrue(decoder.graphed(8) && decoder.graphed(4), "buckets 8 and 4 ran twice: their second step was captured");
                    c = copy(m, b);                            // new cache tensors: the decoder must start again over them
                }
                Tensor[][] kvB = c != null ? c : b;
                int n = group.length;
                int width = 0;
                for (int s : group) width = Math.max(width, blocksFor(lengths[s] + 1));
                int[] tables = new int[n * width], lens = new int[n], tokens = new int[n];
                for (int i = 0; i < n; i++) {
                    int s = group[i];
                    int held = blocksFor(lengths[s] + 1);
                    for (int j = 0; j < width; j++) tables[i * width + j] = s * BLOCKS_PER_SEQ + Math.min(j, held - 1);
                    lens[i] = lengths[s];
                    tokens[i] = last[s];
                }
                float[] la, lb;
                try (PagedBatch.Step sa = PagedBatch.decode(m, a, tables, width, lens, tokens)) {
                    la = host(m, sa.logits());
                }
                try (PagedBatch.Step sb = decoder.decode(kvB, tables, width, lens, tokens)) {
                    assertEquals(n, sb.logits().shape(0), "step " + k + ": one logits row per sequence, padding rows cut off");
                    lb = host(m, sb.logits());
                }
                agree.same(la, lb, "step " + k + " (" + n + " sequences at bucket " + decoder.bucket(n) + ")");
                for (int i = 0; i < n; i++) {
                    int s = group[i];
                    lengths[s]++;
                    last[s] = argmax(java.util.Arrays.copyOfRange(la, i * vocab, (i + 1) * vocab));
                }
            }
            for (int bucket : new int[] {1, 2, 4, 8}) {
                assertEquals(null, decoder.graphFailure(bucket), "bucket " + bucket);
            }
            assertTrue(decoder.graphed(8) && decoder.graphed(1) && decoder.graphed(4),
                    "buckets that ran twice since the caches changed replay a graph");
            for (int layer = 0; layer < a[0].length; layer++) {
                for (int kv = 0; kv < 2; kv++) {
                    Tensor ta = a[kv][layer], tb = c[kv][layer];
                    int row = (int) (ta.numel() / ta.shape(0) / PagedBatch.BLOCK_SIZE);   // floats per cached row
                    for (int s = 0; s < SEQS; s++) {             // every row every sequence wrote (a fresh CUDA pool holds garbage elsewhere)
                        for (int j = 0; j * PagedBatch.BLOCK_SIZE < lengths[s]; j++) {
                            int blk = s * BLOCKS_PER_SEQ + j, rows = Math.min(PagedBatch.BLOCK_SIZE, lengths[s] - j * PagedBatch.BLOCK_SIZE);
                            float[] wa = host(m, ta.slice(0, blk, blk + 1)), wb = host(m, tb.slice(0, blk, blk + 1));
                            agree.same(java.util.Arrays.copyOf(wa, rows * row), java.util.Arrays.copyOf(wb, rows * row),
                                    (kv == 0 ? "K" : "V") + " cache of layer " + layer + ", sequence " + s + ", block " + j + " (" + rows + " rows)");
                        }
                    }
                }
            }
            int[] tooWide = new int[BLOCKS_PER_SEQ + 1];
            assertThrows(IllegalArgumentException.class,
                    () -> decoder.decode(b, tooWide, BLOCKS_PER_SEQ + 1, new int[1], new int[1]), "a table wider than the decoder's");
        } finally {
            close(a);
            close(b);
            if (c != null) close(c);
        }
    }

    @Test
    void badBucketsAndArgumentsAreRefused() {
        try (CpuBackend backend = new CpuBackend(); Weights w = Weights.random(Tiny.ropeDecoder(), backend, 2)) {
            Transformer m = new Transformer(w, backend);
            assertThrows(IllegalArgumentException.class, () -> new PagedBatch.Decoder(m, new int[0], 4, 0));
            assertThrows(IllegalArgumentException.class, () -> new PagedBatch.Decoder(m, new int[] {2, 2}, 4, 0));
            assertThrows(IllegalArgumentException.class, () -> new PagedBatch.Decoder(m, new int[] {1}, 0, 0));
            assertThrows(IllegalArgumentException.class, () -> new PagedBatch.Decoder(m, new int[] {1}, 4, -1));
            PagedBatch.Decoder d = new PagedBatch.Decoder(m, new int[] {2, 4}, 4, 0);
            assertEquals(2, d.bucket(1));
            assertEquals(4, d.bucket(3));
            assertEquals(5, d.bucket(5), "above the largest bucket a step runs at its own size");
            d.close();
            assertThrows(IllegalStateException.class, () -> d.decode(null, new int[1], 1, new int[1], new int[1]));
        }
    }

    /**
     * A float64 fixture folder through the paged KV cache: both rows of input_ids prefilled 8 tokens into blocks of one pool,
     * then stepped together a token at a time (PagedBatch.decode) along the reference's own ids; every position's logits
     * match the reference's full pass, and greedy decoding from the reference's prompt through the same cache gives its
     * tokens while their top-2 margin is clear (at least 4 steps).
     */
    static void referenceThroughThePagedCache(String name) throws Exception {
        ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open(name);
        int[][] ids = f.ids("input_ids");
        int rows = ids.length, t = ids[0].length, prefix = 8;
        try (CpuBackend cpu = new CpuBackend(); Weights w = Pretrained.load(f.dir(), cpu)) {
            Transformer m = new Transformer(w, cpu);
            int v = m.config.vocabSize(), per = PagedDecoderTest.blocksFor(t + 16);
            Tensor[][] kv = PagedBatch.allocate(m, rows * per + 1);
            try {
                float[][][] got = new float[rows][t][];
                for (int r = 0; r < rows; r++) {
                    got[r][prefix - 1] = PagedBatch.prefill(m, kv, rowTable(r, per), 0, Arrays.copyOf(ids[r], prefix));
                }
                int[] tables = new int[rows * per];
                for (int r = 0; r < rows; r++) System.arraycopy(rowTable(r, per), 0, tables, r * per, per);
                for (int p = prefix; p < t; p++) {
                    int[] lens = new int[rows], tokens = new int[rows];
                    for (int r = 0; r < rows; r++) {
                        lens[r] = p;
                        tokens[r] = ids[r][p];
                    }
                    try (PagedBatch.Step s = PagedBatch.decode(m, kv, tables, per, lens, tokens)) {
                        float[] all = s.logits().toFloatArray();
                        for (int r = 0; r < rows; r++) got[r][p] = Arrays.copyOfRange(all, r * v, (r + 1) * v);
                    }
                }
                double[] ref = f.reference("logits", (long) rows * t * v);
                double maxRef = 0, maxErr = 0;
                for (int r = 0; r < rows; r++) {
                    for (int p = prefix - 1; p < t; p++) {
                        for (int j = 0; j < v; j++) {
                            double want = ref[(r * t + p) * v + j];
                            maxRef = Math.max(maxRef, Math.abs(want));
                            maxErr = Math.max(maxErr, Math.abs(got[r][p][j] - want));
                        }
                    }
                }
                assertTrue(maxErr <= ReferenceFixturesTest.TOLERANCE * maxRef, name + ": paged logits max err " + maxErr + " vs max " + maxRef);
                // greedy from the reference's prompt, in the first row's blocks again (overwritten from position 0)
                var gr = f.ref().get("greedy");
                int[] prompt = ReferenceFixturesTest.Fixture.ints(gr.get("prompt")), want = ReferenceFixturesTest.Fixture.ints(gr.get("tokens"));
                double bound = ReferenceFixturesTest.CLEAR_MARGIN * ReferenceFixturesTest.TOLERANCE * f.ref().get("max_abs").get("logits").doubleValue();
                int clear = 0;
                while (clear < want.length && gr.get("margins").get(clear).doubleValue() > bound) clear++;
                assertTrue(clear >= 4, name + ": the reference's greedy margins are clear for " + clear + " steps only");
                int[] tokens = new int[clear];
                float[] last = PagedBatch.prefill(m, kv, rowTable(0, per), 0, prompt);
                for (int k = 0; k < clear; k++) {
                    tokens[k] = PagedDecoderTest.argmax(last);
                    if (k + 1 == clear) break;
                    try (PagedBatch.Step s = PagedBatch.decode(m, kv, rowTable(0, per), per, new int[] {prompt.length + k}, new int[] {tokens[k]})) {
                        last = s.logits().toFloatArray();
                    }
                }
                assertArrayEquals(Arrays.copyOf(want, clear), tokens, name + ": greedy tokens through the paged cache");
            } finally {
                PagedDecoderTest.close(kv);
            }
        }
    }

    /** Sequence r's block table: blocks r·per .. r·per + per − 1 of the pool. */
    private static int[] rowTable(int r, int per) {
        int[] out = new int[per];
        for (int j = 0; j < per; j++) out[j] = r * per + j;
        return out;
    }

    static int[] table(int s) {
        int[] t = new int[BLOCKS_PER_SEQ];
        for (int j = 0; j < t.length; j++) t[j] = s * BLOCKS_PER_SEQ + j;
        return t;
    }

    static int blocksFor(int rows) { return (rows + PagedBatch.BLOCK_SIZE - 1) / PagedBatch.BLOCK_SIZE; }

    static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
        return best;
    }

    static Tensor[][] copy(Transformer m, Tensor[][] kv) {
        Tensor[][] out = PagedBatch.allocate(m, POOL);
        for (int i = 0; i < 2; i++) {
            for (int l = 0; l < kv[i].length; l++) m.backend.copy(kv[i][l], out[i][l]);
        }
        return out;
    }

    static void close(Tensor[][] kv) {
        for (Tensor[] ts : kv) for (Tensor t : ts) t.close();
    }
}
