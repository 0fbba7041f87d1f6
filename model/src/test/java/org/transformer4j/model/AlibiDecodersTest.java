// AlibiDecodersTest — BLOOM, MPT and Falcon-RW folders beyond the reference logits (ReferenceFixturesTest, DecoderCacheTest):
// the slope formulas against values worked out by hand and against the reference harness's own (reference.json), the
// configs' defaults, spellings and refusals, BLOOM's causal-LM layout beside bigscience's base-model one, and ALiBi through
// the paged batch (captured bucket steps against op-by-op steps).
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.HfConfig;
import org.transformer4j.model.weights.SafetensorsFile;
import org.transformer4j.model.weights.SafetensorsWriter;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.Tensor;

class AlibiDecodersTest {

    @TempDir
    Path tmp;

    private TransformerConfig read(String json) throws Exception {
        Path dir = Files.createTempDirectory(tmp, "cfg");
        Files.writeString(dir.resolve("config.json"), json);
        return HfDecoders.config(HfConfig.read(dir));
    }

    private static float[] powersOfTwo(double... exponents) {
        float[] s = new float[exponents.length];
        for (int i = 0; i < s.length; i++) s[i] = (float) Math.pow(2, exponents[i]);
        return s;
    }

    /**
     * The ALiBi paper's slopes for 8 heads (2^-1 … 2^-8); BLOOM's for 12 (the 8-head geometric run, then 2^-0.5, 2^-1.5,
     * 2^-2.5, 2^-3.5: the odd powers of the 16-head base) and 6; MPT's with its power-of-two padding and odd-then-even
     * reorder, which at alibi_bias_max 8 gives BLOOM's; MPT's at 16 (each slope squared) — and the reference harness's slopes
     * for the three fixtures (alibi.py, written from transformers' build_alibi_tensor / build_mpt_alibi_tensor).
     */
    @Test
    void slopesAreTransformersOwn() throws Exception {
        float[] eight = powersOfTwo(-1, -2, -3, -4, -5, -6, -7, -8);
        assertArrayEquals(eight, HfAlibi.bloomSlopes(8));
        assertArrayEquals(eight, HfAlibi.mptSlopes(8, 8));
        float[] twelve = powersOfTwo(-1, -2, -3, -4, -5, -6, -7, -8, -0.5, -1.5, -2.5, -3.5);
        assertArrayEquals(twelve, HfAlibi.bloomSlopes(12), 1e-7f);
        assertArrayEquals(twelve, HfAlibi.mptSlopes(12, 8), 1e-7f);
        assertArrayEquals(powersOfTwo(-2, -4, -6, -8, -1, -3), HfAlibi.bloomSlopes(6));
        assertArrayEquals(powersOfTwo(-2, -4, -6, -8, -10, -12, -14, -16), HfAlibi.mptSlopes(8, 16));
        assertArrayEquals(powersOfTwo(-8), HfAlibi.bloomSlopes(1));
        for (String name : new String[] {"bloom", "mpt", "falcon-rw"}) {
            ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open(name);
            JsonNode want = f.ref().get("alibi_slopes");
            TransformerConfig c = HfDecoders.config(HfConfig.read(f.dir()));
            float[] got = c.alibiSlopeArray();
            assertEquals(want.size(), got.length, name);
            double scale = name.equals("falcon-rw") ? Math.sqrt(c.headSize()) : 1;   // FalconAttention scales after adding
            for (int h = 0; h < got.length; h++) assertEquals(want.get(h).doubleValue(), got[h] * scale, 1e-9, name + " head " + h);
            assertEquals(TransformerConfig.Positions.ALIBI, c.positions(), name);
            assertNull(c.rope(), name);
        }
    }

    /** BloomConfig's and MptConfig's defaults and spellings, Falcon-RW's n_head / n_layer, and each refusal by name. */
    @Test
    void configsAndRefusals() throws Exception {
        TransformerConfig b = read("{\"model_type\": \"bloom\", \"n_embed\": 96, \"num_attention_heads\": 6, \"n_layer\": 3, \"vocab_size\": 300}");
        assertEquals(96, b.modelWidth());
        assertEquals(6, b.heads());
        assertEquals(6, b.kvHeads());
        assertEquals(3, b.decoderLayers());
        assertEquals(384, b.mlpWidth(), "BLOOM's MLP is 4 × hidden");
        assertEquals(TransformerConfig.Activation.GELU_TANH, b.activation());
        assertTrue(b.embedNorm() && b.embeddingNorm() && b.tiedEmbeddings() && b.qkvBias() && b.outBias() && b.mlpBias());
        assertEquals(1, b.specialIds().bos());
        assertEquals(2, b.specialIds().eos());
        String bloom = "{\"model_type\": \"bloom\", \"hidden_size\": 64, \"n_head\": 4, \"n_layer\": 2, \"vocab_size\": 300";
        assertTrue(assertThrows(CheckpointException.class, () -> read(bloom + ", \"apply_residual_connection_post_layernorm\": true}"))
                .getMessage().contains("apply_residual_connection_post_layernorm"));
        assertTrue(assertThrows(CheckpointException.class, () -> read(bloom + ", \"slow_but_exact\": true, \"pretraining_tp\": 4}"))
                .getMessage().contains("slow_but_exact"));
        read(bloom + ", \"slow_but_exact\": true, \"pretraining_tp\": 1}");   // one rank: transformers' plain path

        TransformerConfig m = read("{\"model_type\": \"mpt\", \"d_model\": 64, \"n_heads\": 4, \"n_layers\": 2, \"vocab_size\": 300,"
                + " \"max_seq_len\": 512, \"attn_config\": {\"alibi\": true, \"softmax_scale\": 0.5}}");
        assertEquals(256, m.mlpWidth());
        assertEquals(0.5f, m.attentionScale());
        assertEquals(512, m.maxPositions());
        assertTrue(!m.biases() && !m.qkvBias() && !m.mlpBias() && m.tiedEmbeddings() && !m.embedNorm());
        assertEquals(TransformerConfig.Activation.GELU, m.activation());
        assertEquals(0.25f, read("{\"model_type\": \"mpt\", \"d_model\": 64, \"n_heads\": 4, \"n_layers\": 2, \"vocab_size\": 300}")
                .attentionScale(), "1/sqrt(head_dim) without softmax_scale");
        String mpt = "{\"model_type\": \"mpt\", \"d_model\": 64, \"n_heads\": 4, \"n_layers\": 2, \"vocab_size\": 300";
        assertEquals(8f, read(mpt + ", \"attn_config\": {\"clip_qkv\": 8}}").clipQkv(), "MptAttention clamps the fused Wqkv output");
        assertEquals(0f, read(mpt + ", \"attn_config\": {\"clip_qkv\": 0}}").clipQkv(), "0 is falsy: no clamp");
        assertEquals(0f, m.clipQkv(), "absent: no clamp");
        for (String[] bad : new String[][] {
                {", \"attn_config\": {\"clip_qkv\": -8}}", "clip_qkv must be null, 0 (no clamp) or a finite number > 0"},
                {", \"attn_config\": {\"alibi\": false}}", "alibi false"},
                {", \"attn_config\": {\"alibi_bias_max\": 16}}", "alibi_bias_max"},
                {", \"attn_config\": {\"qk_ln\": true}}", "qk_ln"},
                {", \"attn_config\": {\"attn_type\": \"multiquery_attention\"}}", "multiquery_attention"},
                {", \"logit_scale\": 0.1}", "logit_scale"},
                {", \"expansion_ratio\": 2}", "expansion_ratio"}}) {
            Exception e = assertThrows(CheckpointException.class, () -> read(mpt + bad[0]), bad[1]);
            assertTrue(e.getMessage().contains(bad[1]), e.getMessage());
        }

        TransformerConfig rw = read("{\"model_type\": \"falcon\", \"hidden_size\": 64, \"n_head\": 4, \"n_layer\": 3, \"vocab_size\": 300,"
                + " \"alibi\": true, \"multi_query\": false, \"parallel_attn\": false, \"bias\": true}");
        assertEquals(4, rw.heads());
        assertEquals(4, rw.kvHeads());
        assertEquals(3, rw.decoderLayers());
        assertEquals(TransformerConfig.ParallelBlock.NONE, rw.parallel());
        float[] want = HfAlibi.bloomSlopes(4);
        for (int h = 0; h < 4; h++) want[h] /= 4;                            // sqrt(head_dim 16)
        assertArrayEquals(want, rw.alibiSlopeArray());
    }

    /**
     * BLOOM in BloomForCausalLM's layout (transformer.…, a stored tied lm_head.weight), as save_pretrained writes a fine-tune:
     * the same model as bigscience's base-model layout of the fixture, within the reference's tolerance.
     */
    @Test
    void aBloomFolderInTheCausalLmLayoutLoadsAsTheReference() throws Exception {
        Path from = ReferenceFixturesTest.root().resolve("bloom"), dir = Files.createDirectories(tmp.resolve("bloom-lm"));
        Files.copy(from.resolve("config.json"), dir.resolve("config.json"));
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(from.resolve("model.safetensors"))) {
            for (String key : f.names()) {
                Tensor t = f.tensor(key);
                out.put("transformer." + key, Tensor.ofFloats(t.toFloatArray(), t.shape()));
                if (key.equals("word_embeddings.weight")) out.put("lm_head.weight", Tensor.ofFloats(t.toFloatArray(), t.shape()));
            }
        }
        assertTrue(out.containsKey("transformer.h.1.self_attention.query_key_value.weight"));
        SafetensorsWriter.write(dir.resolve("model.safetensors"), out, Map.of("format", "pt"));
        ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open("bloom");
        try (CpuBackend backend = new CpuBackend(); Weights w = Pretrained.load(dir, backend)) {
            f.near("logits", new Transformer(w, backend).logits(f.ids("input_ids")));
        }
    }

    /** ALiBi (with BLOOM's embedding norm) through the paged batch: captured bucket steps = op-by-op steps, bit for bit. */
    @Test
    void pagedDecodingWithAlibiMatchesOpByOpSteps() {
        TransformerConfig c = Tiny.ropeDecoder().toBuilder().alibi(HfAlibi.bloomSlopes(4)).embedNorm(true).build();
        assertNull(c.rope());
        try (CpuBackend backend = new CpuBackend(); Weights w = Weights.random(c, backend, 29)) {
            PagedDecoderTest.scenario(new Transformer(w, backend), (want, got, what) -> assertArrayEquals(want, got, "alibi: " + what));
        }
    }
}
