// PackedPrefillTest — prefill chunks of several sequences, of different lengths after different cached rows, in one
// packed pass (PagedBatch.prefillPacked): on the CPU each sequence's last-token logits and the K/V rows it appends equal
// those of its own solo prefill bit for bit, for every decoder family option the tiny configs touch (learned positions,
// RoPE with llama3 scaling and a sliding window, q/k norms, GQA, T5 relative buckets, ALiBi, a mixture of experts); and
// what it refuses.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.Tensor;

class PackedPrefillTest {

    static List<TransformerConfig> configs() {
        float[] slopes = {0.5f, 0.25f};
        return List.of(
                Tiny.decoderOnly(Tiny.encDec().build(), false),                                           // GPT-2: learned positions
                Tiny.ropeDecoder(),                                                                       // RoPE, window, q/k norm, GQA
                Tiny.decoderOnly(Tiny.t5ish().build(), false),                                            // T5 relative buckets
                Tiny.decoderOnly(Tiny.encDec().build(), false).toBuilder().learnedPositions(0).alibi(slopes).build(),   // ALiBi
                Tiny.moeDecoder());                                                                       // experts
    }

    /** Cached rows before each chunk, and each chunk's length: a fresh prompt, a one-token chunk, chunks across blocks. */
    static final int[] STARTS = {0, 5, 16, 33, 0};
    static final int[] TAKES = {7, 1, 20, 3, 18};

    @ParameterizedTest
    @MethodSource("configs")
    void eachSequenceGetsItsSoloLogitsAndRowsBitForBit(TransformerConfig c) {
        try (CpuBackend cpu = new CpuBackend(); Weights w = Weights.random(c, cpu, 29)) {
            Transformer m = new Transformer(w, cpu);
            assertTrue(m.packsPrefill());
            assertPacksToSoloBits(m);
        }
    }

    /**
     * Every decoder family folder of the float64 harness, as stored (F16 / BF16 / F32, quantized ones too): packed chunks
     * give each sequence its solo prefill's logits and K/V bits; a folder whose RoPE depends on the length (Phi-3's
     * LongRoPE, dynamic NTK) is refused by name instead.
     */
    @ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"gpt2", "llama", "llama-head-dim", "llama-rope-linear", "llama-rope-llama3",
            "llama-rope-yarn-v5", "llama-rope-dynamic", "mistral", "qwen2", "qwen3", "phi3", "phi3-longrope", "gemma", "gemma2",
            "gemma3-text", "granite", "smollm3", "olmo", "olmo2", "olmo3", "mixtral", "qwen2-moe", "olmoe", "gpt-oss", "qwen3-fp8", "qwen2-awq",
            "llama-gptq", "gpt-neox", "phi", "stablelm-parallel", "starcoder2", "opt", "opt-350m", "gptj", "codegen", "gpt-bigcode",
            "falcon", "falcon-new", "bloom", "mpt", "falcon-rw", "gpt-neo", "cohere", "cohere2", "glm", "glm4", "exaone4", "ernie4_5", "seed-oss", "deepseek-v2-lite", "deepseek-v2", "deepseek-v3", "glm4-moe", "nemotron", "ernie4_5-moe", "granitemoe", "granitemoeshared", "arcee", "dots1"})
    void everyDecoderFolderPacksToItsSoloBits(String name) throws Exception {
        try (CpuBackend cpu = new CpuBackend(); Weights w = Pretrained.load(ReferenceFixturesTest.root().resolve(name), cpu)) {
            Transformer m = new Transformer(w, cpu);
            TransformerConfig.Rope r = w.config.rope();
            boolean byLength = r != null && (r.scaling() == TransformerConfig.Rope.Scaling.DYNAMIC || r.scaling() == TransformerConfig.Rope.Scaling.LONGROPE);
            if (byLength) {
                assertFalse(m.packsPrefill(), name);
                return;
            }
            assertTrue(m.packsPrefill(), name);
            assertPacksToSoloBits(m);
        }
    }

    /** Five sequences (STARTS, TAKES) over one pool, solo and packed: logits and both caches bit for bit. */
    static void assertPacksToSoloBits(Transformer m) {
        int b = STARTS.length, maxBlocks = 4, blocks = b * maxBlocks;
        int[] tables = new int[b * maxBlocks];
        for (int i = 0; i < tables.length; i++) tables[i] = (i * 7) % blocks;                   // blocks scattered over the pool
        int[][] prompts = new int[b][];
        int vocab = m.config.vocabSize();
        for (int i = 0; i < b; i++) {
            java.util.SplittableRandom rnd = new java.util.SplittableRandom(400 + i);
            prompts[i] = rnd.ints(STARTS[i] + TAKES[i], 0, vocab).toArray();
        }
        Tensor[][] solo = PagedBatch.allocate(m, blocks), packed = PagedBatch.allocate(m, blocks);
        try {
            float[][] want = new float[b][];
            int[][] chunks = new int[b][];
            for (int i = 0; i < b; i++) {
                int[] table = java.util.Arrays.copyOfRange(tables, i * maxBlocks, (i + 1) * maxBlocks);
                chunks[i] = java.util.Arrays.copyOfRange(prompts[i], STARTS[i], prompts[i].length);
                if (STARTS[i] > 0) {                                                               // the cached rows, alike in both pools
                    int[] head = java.util.Arrays.copyOf(prompts[i], STARTS[i]);
                    PagedBatch.prefill(m, solo, table, 0, head);
                    PagedBatch.prefill(m, packed, table, 0, head);
                }
                want[i] = PagedBatch.prefill(m, solo, table, STARTS[i], chunks[i]);
            }
            float[][] got = PagedBatch.prefillPacked(m, packed, tables, maxBlocks, STARTS, chunks);
            for (int i = 0; i < b; i++) assertArrayEquals(want[i], got[i], "sequence " + i + "'s last-token logits");
            for (int kv = 0; kv < 2; kv++) {
                for (int l = 0; l < solo[kv].length; l++) {
                    assertArrayEquals(solo[kv][l].toFloatArray(), packed[kv][l].toFloatArray(), (kv == 0 ? "K" : "V") + " cache of layer " + l);
                }
            }
        } finally {
            for (Tensor[] ts : solo) for (Tensor t : ts) t.close();
            for (Tensor[] ts : packed) for (Tensor t : ts) t.close();
        }
    }

    /**
     * Every row's logits for the sequences that ask for them (prompt log-probabilities, speculative drafts), the last
     * row's for the others, from one packed pass: each bit for bit its solo prefillRows / prefill.
     */
    @ParameterizedTest
    @MethodSource("configs")
    void allRowsWhereAskedEqualTheSoloRows(TransformerConfig c) {
        boolean[] all = {true, false, true, true, false};
        try (CpuBackend cpu = new CpuBackend(); Weights w = Weights.random(c, cpu, 31)) {
            Transformer m = new Transformer(w, cpu);
            int b = STARTS.length, maxBlocks = 4, blocks = b * maxBlocks;
            int[] tables = new int[b * maxBlocks];
            for (int i = 0; i < tables.length; i++) tables[i] = (i * 3 + 1) % blocks;
            Tensor[][] solo = PagedBatch.allocate(m, blocks), packed = PagedBatch.allocate(m, blocks);
            try {
                float[][][] want = new float[b][][];
                int[][] chunks = new int[b][];
                for (int i = 0; i < b; i++) {
                    int[] p = Tiny.ids(500 + i, 1, STARTS[i] + TAKES[i])[0];
                    int[] table = java.util.Arrays.copyOfRange(tables, i * maxBlocks, (i + 1) * maxBlocks);
                    chunks[i] = java.util.Arrays.copyOfRange(p, STARTS[i], p.length);
                    if (STARTS[i] > 0) {
                        PagedBatch.prefill(m, solo, table, 0, java.util.Arrays.copyOf(p, STARTS[i]));
                        PagedBatch.prefill(m, packed, table, 0, java.util.Arrays.copyOf(p, STARTS[i]));
                    }
                    want[i] = all[i] ? PagedBatch.prefillRows(m, solo, table, STARTS[i], chunks[i])
                            : new float[][] {PagedBatch.prefill(m, solo, table, STARTS[i], chunks[i])};
                }
                float[][][] got = PagedBatch.prefillPackedRows(m, packed, tables, maxBlocks, STARTS, chunks, all, null, null);
                for (int i = 0; i < b; i++) {
                    assertTrue(got[i].length == (all[i] ? TAKES[i] : 1), "sequence " + i + ": " + got[i].length + " rows");
                    for (int r = 0; r < got[i].length; r++) assertArrayEquals(want[i][r], got[i][r], "sequence " + i + " row " + r);
                }
            } finally {
                for (Tensor[] ts : solo) for (Tensor t : ts) t.close();
                for (Tensor[] ts : packed) for (Tensor t : ts) t.close();
            }
        }
    }

    @Test
    void lengthDependentRopeAndPrefixLmAreRefusedByName() {
        TransformerConfig dynamic = Tiny.ropeDecoder().toBuilder()
                .rope(new TransformerConfig.Rope(10000, 32, TransformerConfig.Rope.Scaling.DYNAMIC, 2, 1, 4, 16)).build();
        TransformerConfig prefixLm = Tiny.decoderOnly(Tiny.encDec().build(), true);
        for (TransformerConfig c : List.of(dynamic, prefixLm)) {
            try (CpuBackend cpu = new CpuBackend(); Weights w = Weights.random(c, cpu, 3)) {
                Transformer m = new Transformer(w, cpu);
                assertFalse(m.packsPrefill());
                Tensor[][] kv = PagedBatch.allocate(m, 2);
                try {
                    var e = assertThrows(IllegalArgumentException.class,
                            () -> PagedBatch.prefillPacked(m, kv, new int[] {0, 1}, 1, new int[] {0, 0}, new int[][] {{5, 6}, {7}}));
                    assertTrue(e.getMessage().contains(c.prefixLm() ? "prefix-LM" : "DYNAMIC"), e.getMessage());
                } finally {
                    for (Tensor[] ts : kv) for (Tensor t : ts) t.close();
                }
            }
        }
    }

    @Test
    void badChunksAreRefusedByName() {
        try (CpuBackend cpu = new CpuBackend(); Weights w = Weights.random(Tiny.ropeDecoder(), cpu, 3)) {
            Transformer m = new Transformer(w, cpu);
            Tensor[][] kv = PagedBatch.allocate(m, 2);
            try {
                var empty = assertThrows(IllegalArgumentException.class,
                        () -> PagedBatch.prefillPacked(m, kv, new int[] {0, 1}, 1, new int[] {0, 0}, new int[][] {{5, 6}, {}}));
                assertTrue(empty.getMessage().contains("no tokens to prefill for sequence 1"), empty.getMessage());
                var count = assertThrows(IllegalArgumentException.class,
                        () -> PagedBatch.prefillPacked(m, kv, new int[] {0, 1}, 1, new int[] {0}, new int[][] {{5, 6}, {7}}));
                assertTrue(count.getMessage().contains("1 starts, 2 token arrays"), count.getMessage());
                var id = assertThrows(IllegalArgumentException.class,
                        () -> PagedBatch.prefillPacked(m, kv, new int[] {0, 1}, 1, new int[] {0, 0}, new int[][] {{5, 6}, {Tiny.V}}));
                assertTrue(id.getMessage().contains("outside the vocabulary"), id.getMessage());
                var room = assertThrows(IllegalArgumentException.class,
                        () -> PagedBatch.prefillPacked(m, kv, new int[] {0, 1}, 1, new int[] {10, 0}, new int[][] {new int[8], {7}}));
                assertTrue(room.getMessage().contains("16"), room.getMessage());
            } finally {
                for (Tensor[] ts : kv) for (Tensor t : ts) t.close();
            }
        }
    }
}
