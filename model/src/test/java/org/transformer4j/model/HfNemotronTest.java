// HfNemotronTest — NVIDIA Nemotron config.json read as transformers' NemotronConfig and modeling read them (Nemotron-Mini-4B-
// Instruct's and Minitron-8B-Base's configs: LayerNorm1P, relu², partial NeoX rotary, head_dim, GQA), the class defaults,
// refusals by name, and the nemotron fixture's LayerNorm1P folded as 1 + w.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.HfConfig;

class HfNemotronTest {

    @TempDir
    Path dir;

    private TransformerConfig read(String json) throws Exception {
        Files.writeString(dir.resolve("config.json"), json);
        return HfDecoders.config(HfConfig.read(dir));
    }

    /**
     * nvidia/Nemotron-Mini-4B-Instruct's config.json (transformers 4.44's layout). The published file could not be fetched
     * here: written from its model card's sizes (hidden 3072, 32 layers, 24 heads of head_dim 128, 8 key/value heads,
     * intermediate 9216, vocabulary 256000, 4096 positions) and NemotronConfig's fields. No verbatim copy of it (or of
     * Minitron-8B-Base's) is stored anywhere searched since (code, pages, docs, issues): the text stays as written.
     */
    static final String MINI = """
            {"architectures": ["NemotronForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "bos_token_id": 2,
             "eos_token_id": 3, "head_dim": 128, "hidden_act": "relu2", "hidden_size": 3072, "initializer_range": 0.0134,
             "intermediate_size": 9216, "max_position_embeddings": 4096, "mlp_bias": false, "model_type": "nemotron",
             "norm_eps": 1e-05, "num_attention_heads": 24, "num_hidden_layers": 32, "num_key_value_heads": 8,
             "partial_rotary_factor": 0.5, "rope_scaling": null, "rope_theta": 10000, "tie_word_embeddings": false,
             "torch_dtype": "bfloat16", "transformers_version": "4.44.0", "use_cache": true, "vocab_size": 256000}""";

    /**
     * nvidia/Minitron-8B-Base's config.json: its model card's sizes (hidden 4096, 48 heads, intermediate 16384, GQA) with
     * 32 layers and 8 key/value heads, in the same layout (also written from the card and the config class, not fetched).
     */
    static final String MINITRON_8B = """
            {"architectures": ["NemotronForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "bos_token_id": 2,
             "eos_token_id": 3, "hidden_act": "relu2", "hidden_size": 4096, "initializer_range": 0.0134,
             "intermediate_size": 16384, "max_position_embeddings": 4096, "mlp_bias": false, "model_type": "nemotron",
             "norm_eps": 1e-05, "num_attention_heads": 48, "num_hidden_layers": 32, "num_key_value_heads": 8,
             "partial_rotary_factor": 0.5, "rope_scaling": null, "rope_theta": 10000, "tie_word_embeddings": false,
             "torch_dtype": "bfloat16", "transformers_version": "4.44.0", "use_cache": true, "vocab_size": 256000}""";

    @Test
    void nemotronMiniAsPublished() throws Exception {
        TransformerConfig c = read(MINI);
        assertEquals(3072, c.modelWidth());
        assertEquals(24, c.heads());
        assertEquals(8, c.kvHeads());
        assertEquals(128, c.headSize());
        assertEquals(9216, c.mlpWidth());
        assertEquals(32, c.decoderLayers());
        assertEquals(256000, c.vocabSize());
        assertEquals(4096, c.maxPositions());
        assertEquals(TransformerConfig.NormKind.LAYER_NORM, c.norm(), "LayerNorm1P: a LayerNorm (1 + w folded at load)");
        assertEquals(TransformerConfig.NormPlacement.PRE, c.normPlacement());
        assertTrue(c.biases(), "LayerNorm1P has a bias");
        assertEquals(1e-5f, c.normEps());
        assertEquals(TransformerConfig.Activation.RELU2, c.activation());
        assertEquals(false, c.gatedMlp(), "up → relu² → down, no gate");
        assertEquals(64, c.rope().rotaryDim(), "partial_rotary_factor 0.5 of head_dim 128");
        assertEquals(10000.0, c.rope().theta());
        assertEquals(TransformerConfig.Rope.Scaling.DEFAULT, c.rope().scaling());
        assertEquals(new TransformerConfig.Biases(false, false, false), c.linearBiases());
        assertEquals(false, c.tiedEmbeddings());
        assertEquals(2, c.specialIds().bos());
        assertEquals(3, c.specialIds().eos());
        assertEquals(-1, c.specialIds().pad());
    }

    @Test
    void minitron8bAsPublished() throws Exception {
        TransformerConfig c = read(MINITRON_8B);
        assertEquals(4096, c.modelWidth());
        assertEquals(48, c.heads());
        assertEquals(8, c.kvHeads());
        assertEquals(4096 / 48, c.headSize(), "no head_dim: hidden / heads (85)");
        assertEquals(42, c.rope().rotaryDim(), "int(85 × 0.5)");
        assertEquals(16384, c.mlpWidth());
        assertEquals(TransformerConfig.Activation.RELU2, c.activation());
    }

    @Test
    void defaultsAreNemotronConfigs() throws Exception {
        TransformerConfig c = read("""
                {"model_type": "nemotron", "num_key_value_heads": 8}""");
        assertEquals(6144, c.modelWidth());
        assertEquals(24576, c.mlpWidth());
        assertEquals(32, c.decoderLayers());
        assertEquals(48, c.heads());
        assertEquals(128, c.headSize());
        assertEquals(64, c.rope().rotaryDim(), "partial_rotary_factor 0.5 by default");
        assertEquals(256000, c.vocabSize());
        assertEquals(4096, c.maxPositions());
        assertEquals(1e-5f, c.normEps());
        assertEquals(TransformerConfig.Activation.RELU2, c.activation());
        assertEquals(false, c.tiedEmbeddings());
        assertEquals(new TransformerConfig.Biases(false, false, false), c.linearBiases());
        TransformerConfig b = read("""
                {"model_type": "nemotron", "num_key_value_heads": 8, "attention_bias": true, "mlp_bias": true, "head_dim": null}""");
        assertEquals(new TransformerConfig.Biases(true, true, true), b.linearBiases(), "attention_bias: q, k, v, o; mlp_bias: up, down");
        assertEquals(128, b.headSize(), "a null head_dim: hidden / heads");
    }

    @Test
    void refusalsNameTheField() {
        for (String[] bad : new String[][] {
                {"{\"model_type\": \"nemotron\"}", "num_key_value_heads"},
                {"{\"model_type\": \"nemotron\", \"num_key_value_heads\": null}", "num_key_value_heads"},
                {"{\"model_type\": \"nemotron\", \"num_key_value_heads\": 8, \"hidden_act\": \"silu\"}", "hidden_act"},
                {"{\"model_type\": \"nemotron\", \"num_key_value_heads\": 8, \"rope_scaling\": {\"type\": \"linear\", \"factor\": 2}}", "rope_scaling"},
                {"{\"model_type\": \"nemotron\", \"num_key_value_heads\": 8, \"partial_rotary_factor\": 0.0}", "partial_rotary_factor"},
                {"{\"model_type\": \"nemotron\", \"num_key_value_heads\": 7}", "num_key_value_heads"}}) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> read(bad[0]), bad[0]);
            assertTrue(e.getMessage().contains(bad[1]), e.getMessage());
        }
    }

    /** The fixture's weights hold 1 + w: each layer norm's weight is the stored BF16 w plus one, formed in fp32. */
    @Test
    void layerNorm1pIsFoldedAsOnePlusW() throws Exception {
        ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open("nemotron");
        try (Weights w = Pretrained.load(f.dir(), new org.transformer4j.runtime.CpuBackend());
             var ck = org.transformer4j.model.weights.SafetensorsCheckpoint.open(f.dir().resolve("model.safetensors"))) {
            float[] stored = ck.tensor("model.layers.0.input_layernorm.weight").toFloatArray();
            float[] folded = w.decoder.layers().get(0).attnNorm().weight().toFloatArray();
            for (int i = 0; i < stored.length; i++) assertEquals(1f + stored[i], folded[i], "element " + i);
        }
    }
}
