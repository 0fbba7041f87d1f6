// HfErnie45MoeTest — ERNIE 4.5 MoE config.json read as transformers' Ernie4_5_MoeConfig and modeling read them (the
// published ERNIE-4.5-21B-A3B-PT config: head_dim hidden / heads, layer 0 dense, 64 experts top-6 with two shared, the softmax
// router with its correction bias), the defaults and the sparse-layer rule, clear refusals, the mtp_* tensors left alone and
// transformers 5.x's stacked layout loading to the same logits.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.HfConfig;
import org.transformer4j.model.weights.SafetensorsFile;
import org.transformer4j.model.weights.SafetensorsWriter;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Tensor;

class HfErnie45MoeTest {

    @TempDir
    Path dir;

    private TransformerConfig read(String json) throws Exception {
        Files.writeString(dir.resolve("config.json"), json);
        return HfDecoders.config(HfConfig.read(dir));
    }

    /**
     * baidu/ERNIE-4.5-21B-A3B-PT's config.json (4.x layout: rope_theta at the top level, no head_dim, moe_layer_end_index
     * given), its fields as MindIE's ErniemoeConfig test copies them, with architectures, model_type, the tied embeddings,
     * use_bias and torch_dtype the model card's files carry. No verbatim copy of ERNIE-4.5-21B-A3B-PT's or
     * ERNIE-4.5-300B-A47B-PT's config.json is stored anywhere searched (code, pages, docs, issues): the text stays as written.
     */
    static final String A3B = """
            {"architectures": ["Ernie4_5_MoeForCausalLM"], "model_type": "ernie4_5_moe", "pad_token_id": 0, "bos_token_id": 1,
             "eos_token_id": 2, "hidden_act": "silu", "hidden_size": 2560, "intermediate_size": 12288,
             "max_position_embeddings": 131072, "moe_intermediate_size": 1536, "moe_k": 6, "moe_layer_end_index": 27,
             "moe_layer_interval": 1, "moe_layer_start_index": 1, "moe_num_experts": 64, "moe_num_shared_experts": 2,
             "num_attention_heads": 20, "num_hidden_layers": 28, "num_key_value_heads": 4, "rms_norm_eps": 1e-05,
             "rope_theta": 500000.0, "vocab_size": 103424, "tie_word_embeddings": true, "use_bias": false,
             "torch_dtype": "bfloat16"}""";

    @Test
    void ernie45A3bAsPublished() throws Exception {
        TransformerConfig c = read(A3B);
        assertEquals(20, c.heads());
        assertEquals(4, c.kvHeads());
        assertEquals(128, c.headSize(), "no head_dim: hidden / heads = 2560 / 20");
        assertEquals(2560, c.modelWidth());
        assertEquals(128, c.rope().rotaryDim(), "the whole head turns (pairs, by rows reordered at load)");
        assertEquals(500000, c.rope().theta());
        assertEquals(new TransformerConfig.Biases(false, false, false), c.linearBiases(), "use_bias false");
        assertEquals(1e-5f, c.normEps());
        assertEquals(12288, c.mlpWidth(), "layer 0's dense MLP");
        TransformerConfig.Moe moe = c.moe();
        assertEquals(64, moe.experts());
        assertEquals(6, moe.topK());
        assertEquals(1536, moe.expertWidth());
        assertEquals(2 * 1536, moe.sharedWidth(), "two shared experts as one ungated MLP");
        assertEquals(false, moe.sharedGate());
        assertEquals(List.of(0), moe.denseLayers(), "moe_layer_start_index 1");
        assertEquals(true, moe.renormalize(), "the picks' softmax renormalized (clamp min 1e-12)");
        assertEquals(new TransformerConfig.Routing(false, true, 1, 1, 1f, true), moe.routing(), "softmax, biased for the choice");
        assertEquals(28, c.decoderLayers());
        assertEquals(0, c.specialIds().pad());
        assertEquals(1, c.specialIds().bos());
        assertEquals(2, c.specialIds().eos());
        assertEquals(true, c.tiedEmbeddings());
        assertEquals(131072, c.maxPositions());
    }

    /**
     * ERNIE-4.5-300B-A47B-PT's shape as recalled, not read from its file here: hidden 8192, 64 heads over 8, 54 layers, the first
     * 3 dense, 64 experts of 3584 top-8 (MindIE's ErniemoeConfig test admits 3584, k 8, start 3, end 53), no shared experts.
     */
    @Test
    void ernie45A47bShape() throws Exception {
        TransformerConfig c = read(A3B.replace("\"hidden_size\": 2560", "\"hidden_size\": 8192")
                .replace("\"num_attention_heads\": 20", "\"num_attention_heads\": 64").replace("\"num_key_value_heads\": 4", "\"num_key_value_heads\": 8")
                .replace("\"num_hidden_layers\": 28", "\"num_hidden_layers\": 54").replace("\"moe_layer_end_index\": 27", "\"moe_layer_end_index\": 53")
                .replace("\"moe_layer_start_index\": 1", "\"moe_layer_start_index\": 3").replace("\"moe_intermediate_size\": 1536", "\"moe_intermediate_size\": 3584")
                .replace("\"moe_k\": 6", "\"moe_k\": 8").replace("\"moe_num_shared_experts\": 2", "\"moe_num_shared_experts\": 0")
                .replace("\"intermediate_size\": 12288", "\"intermediate_size\": 28672"));
        assertEquals(128, c.headSize());
        assertEquals(List.of(0, 1, 2), c.moe().denseLayers());
        assertEquals(0, c.moe().sharedWidth(), "moe_num_shared_experts 0: no shared MLP");
        assertEquals(8, c.moe().topK());
    }

    /** Ernie4_5_MoeConfig's defaults (the 21B-A3B's shape) and the layer rule: (i + 1) % interval == 0, start ≤ i ≤ end (-1: the last). */
    @Test
    void defaultsAndTheSparseLayerRule() throws Exception {
        TransformerConfig d = read("{\"model_type\": \"ernie4_5_moe\"}");
        assertEquals(List.of(2560, 20, 4, 128, 28, 103424, 12288), List.of(d.modelWidth(), d.heads(), d.kvHeads(), d.headSize(),
                d.decoderLayers(), d.vocabSize(), d.mlpWidth()));
        assertEquals(new TransformerConfig.Moe(64, 6, true, 1536, 3072, false, List.of(0), false,
                new TransformerConfig.Routing(false, true, 1, 1, 1f, true)), d.moe());
        assertEquals(500000, d.rope().theta());
        TransformerConfig every2 = read("{\"model_type\": \"ernie4_5_moe\", \"num_hidden_layers\": 6, \"moe_layer_interval\": 2,"
                + " \"moe_layer_start_index\": 0, \"moe_layer_end_index\": 4}");
        assertEquals(List.of(0, 2, 4, 5), every2.moe().denseLayers(), "sparse: 1 and 3 ((i + 1) even, within 0..4)");
        assertNull(read("{\"model_type\": \"ernie4_5_moe\", \"num_hidden_layers\": 2, \"moe_layer_start_index\": 2}").moe(),
                "no sparse layer: a dense model");
        assertEquals(64, read("{\"model_type\": \"ernie4_5_moe\", \"head_dim\": 64}").headSize(), "head_dim when given");
        assertEquals(TransformerConfig.Rope.plain(20000, 128), read("{\"model_type\": \"ernie4_5_moe\", \"rope_parameters\":"
                + " {\"rope_type\": \"default\", \"rope_theta\": 20000}}").rope(), "5.x rope_parameters");
    }

    @Test
    void refusals() throws Exception {
        for (String[] r : new String[][] {{"\"use_bias\": true", "use_bias"}, {"\"head_dim\": null", "head_dim"},
            {"\"num_key_value_heads\": null", "num_key_value_heads"}, {"\"moe_layer_end_index\": null", "moe_layer_end_index"},
            {"\"moe_norm_min\": 1e-6", "moe_norm_min"}, {"\"hidden_act\": \"gelu\"", "hidden_act"},
            {"\"partial_rotary_factor\": 0.5", "partial_rotary_factor"}, {"\"moe_k\": 65", "moe_k"}}) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> read("{\"model_type\": \"ernie4_5_moe\", " + r[0] + "}"), r[0]);
            assertTrue(e.getMessage().contains(r[1]), e.getMessage());
        }
        assertTrue(read("{\"model_type\": \"ernie4_5_moe\", \"moe_norm_min\": 1e-13}").moe() != null, "a smaller floor is fine");
    }

    private Map<String, Tensor> fixtureTensors(SafetensorsFile f) {
        Map<String, Tensor> all = new LinkedHashMap<>();
        for (String n : f.names()) all.put(n, f.tensor(n));
        return all;
    }

    private void assertSameLogits(Path a, Path b) throws Exception {
        CpuBackend cpu = new CpuBackend();
        int[][] ids = ReferenceFixturesTest.Fixture.open("ernie4_5-moe").ids("input_ids");
        try (Weights wa = Pretrained.load(a, cpu); Weights wb = Pretrained.load(b, cpu)) {
            float[][][] x = new Transformer(wa, cpu).logits(ids), y = new Transformer(wb, cpu).logits(ids);
            for (int r = 0; r < x.length; r++) for (int t = 0; t < x[r].length; t++) assertArrayEquals(x[r][t], y[r][t], "row " + r + " position " + t);
        }
    }

    /**
     * The multi-token-prediction tensors ERNIE 4.5's folders carry (model.mtp_block.0.*, mtp_emb_norm, mtp_hidden_norm,
     * mtp_linear_proj; transformers ignores every key containing "mtp"): the ernie4_5-moe folder with such tensors added loads to
     * bit-identical logits; a tensor the model has is still required (the router bias of layer 2 removed is refused by name).
     */
    @Test
    void theMtpTensorsAreLeftAlone() throws Exception {
        Path src = ReferenceFixturesTest.Fixture.open("ernie4_5-moe").dir(), mtp = Files.createDirectories(dir.resolve("mtp"));
        Path missing = Files.createDirectories(dir.resolve("missing"));
        Files.copy(src.resolve("config.json"), mtp.resolve("config.json"));
        Files.copy(src.resolve("config.json"), missing.resolve("config.json"));
        try (SafetensorsFile f = SafetensorsFile.open(src.resolve("model.safetensors"))) {
            Map<String, Tensor> all = fixtureTensors(f);
            for (String n : f.names()) {
                if (n.startsWith("model.layers.1.")) all.put("model.mtp_block.0." + n.substring("model.layers.1.".length()), f.tensor(n));
            }
            all.put("model.mtp_emb_norm.0.weight", f.tensor("model.norm.weight"));
            all.put("model.mtp_hidden_norm.0.weight", f.tensor("model.norm.weight"));
            all.put("model.mtp_linear_proj.0.weight", Tensor.ofFloats(new float[32 * 64], 32, 64));
            SafetensorsWriter.write(mtp.resolve("model.safetensors"), all, Map.of("format", "pt"));
            all.remove("model.layers.2.mlp.moe_statics.e_score_correction_bias");
            SafetensorsWriter.write(missing.resolve("model.safetensors"), all, Map.of("format", "pt"));
        }
        assertSameLogits(src, mtp);
        CheckpointException e = assertThrows(CheckpointException.class, () -> Pretrained.load(missing, new CpuBackend()).close());
        assertTrue(e.getMessage().contains("model.layers.2.mlp.moe_statics.e_score_correction_bias"), e.getMessage());
    }

    /**
     * transformers 5.x's layout (Ernie4_5_MoeExperts / Ernie4_5_MoeTopKRouter): mlp.experts.gate_up_proj (E, 2F, C) = [gate ; up]
     * per expert, mlp.experts.down_proj (E, C, F), the bias under mlp.gate.moe_statics.; made from the ernie4_5-moe folder, it
     * loads to the same logits.
     */
    @Test
    void theStackedLayoutLoadsToTheSameLogits() throws Exception {
        Path src = ReferenceFixturesTest.Fixture.open("ernie4_5-moe").dir(), v5 = Files.createDirectories(dir.resolve("v5"));
        Files.copy(src.resolve("config.json"), v5.resolve("config.json"));
        int e = 16, f = 16, c = 32;
        try (SafetensorsFile in = SafetensorsFile.open(src.resolve("model.safetensors"))) {
            Map<String, Tensor> all = fixtureTensors(in);
            for (int l = 1; l <= 2; l++) {
                String m = "model.layers." + l + ".mlp.";
                float[] gu = new float[e * 2 * f * c], dn = new float[e * c * f];
                for (int x = 0; x < e; x++) {
                    String p = m + "experts." + x + ".";
                    System.arraycopy(all.remove(p + "gate_proj.weight").toFloatArray(), 0, gu, x * 2 * f * c, f * c);
                    System.arraycopy(all.remove(p + "up_proj.weight").toFloatArray(), 0, gu, x * 2 * f * c + f * c, f * c);
                    System.arraycopy(all.remove(p + "down_proj.weight").toFloatArray(), 0, dn, x * c * f, c * f);
                }
                all.put(m + "experts.gate_up_proj", Tensor.of(DType.BF16, gu, e, 2 * f, c));
                all.put(m + "experts.down_proj", Tensor.of(DType.BF16, dn, e, c, f));
                all.put(m + "gate.moe_statics.e_score_correction_bias", all.remove(m + "moe_statics.e_score_correction_bias"));
            }
            SafetensorsWriter.write(v5.resolve("model.safetensors"), all, Map.of("format", "pt"));
        }
        assertSameLogits(src, v5);
    }
}
