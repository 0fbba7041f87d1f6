// HfArceeTest — Arcee AFM config.json read as transformers' ArceeConfig and modeling_arcee.py read them (AFM-4.5B's layout:
// Llama's attention and rotary, yarn scaling, a relu² MLP without a gate), the class defaults, refusals by name, and the
// float64 arcee folder through the paged KV cache.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.HfConfig;
import org.transformer4j.runtime.CpuBackend;

class HfArceeTest {

    @TempDir
    Path dir;

    private TransformerConfig read(String json) throws Exception {
        Files.writeString(dir.resolve("config.json"), json);
        return HfDecoders.config(HfConfig.read(dir));
    }

    /**
     * arcee-ai/AFM-4.5B's config.json in transformers 4.x's layout. No verbatim copy of it (or of AFM-4.5B-Base's) is
     * stored anywhere searched (code, pages, docs, issues: only model cards, which give the architecture in words: grouped
     * query attention, ReLU², 4.5B parameters): written from the ArceeConfig fields with sizes that give 4.5B parameters
     * (hidden 2560, 36 layers of 20 heads over 4 key/value heads, intermediate 18432, vocabulary 128004) and yarn over 4096
     * original positions (the rope kind ArceeConfig documents beside default). The text is not the published file.
     */
    static final String AFM = """
            {"architectures": ["ArceeForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "bos_token_id": 128000,
             "eos_token_id": 128001, "head_dim": 128, "hidden_act": "relu2", "hidden_size": 2560, "initializer_range": 0.02,
             "intermediate_size": 18432, "max_position_embeddings": 65536, "mlp_bias": false, "model_type": "arcee",
             "num_attention_heads": 20, "num_hidden_layers": 36, "num_key_value_heads": 4, "pad_token_id": null,
             "rms_norm_eps": 1e-05, "rope_scaling": {"beta_fast": 32.0, "beta_slow": 1.0, "factor": 16.0,
             "original_max_position_embeddings": 4096, "rope_type": "yarn"}, "rope_theta": 10000.0,
             "tie_word_embeddings": false, "torch_dtype": "bfloat16", "transformers_version": "4.53.2", "use_cache": true,
             "vocab_size": 128004}""";

    @Test
    void afmLayout() throws Exception {
        TransformerConfig c = read(AFM);
        assertEquals(2560, c.modelWidth());
        assertEquals(20, c.heads());
        assertEquals(4, c.kvHeads());
        assertEquals(128, c.headSize());
        assertEquals(18432, c.mlpWidth());
        assertEquals(36, c.decoderLayers());
        assertEquals(128004, c.vocabSize());
        assertEquals(65536, c.maxPositions());
        assertEquals(TransformerConfig.NormKind.RMS_NORM, c.norm());
        assertEquals(TransformerConfig.NormPlacement.PRE, c.normPlacement());
        assertEquals(1e-5f, c.normEps());
        assertEquals(TransformerConfig.Activation.RELU2, c.activation());
        assertFalse(c.gatedMlp(), "ArceeMLP = NemotronMLP: up → relu² → down, no gate");
        assertEquals(new TransformerConfig.Biases(false, false, false), c.linearBiases());
        assertFalse(c.biases(), "RMSNorm has no bias");
        assertFalse(c.qkNorm());
        TransformerConfig.Rope r = c.rope();
        assertEquals(TransformerConfig.Rope.Scaling.YARN, r.scaling());
        assertEquals(128, r.rotaryDim(), "whole heads");
        assertEquals(10000.0, r.theta());
        assertEquals(16.0, r.factor());
        assertEquals(4096, r.originalMaxPositions());
        assertEquals(0.1 * Math.log(16) + 1, r.attentionFactor(), 1e-12, "yarn's get_mscale(factor) on cos / sin");
        assertFalse(c.tiedEmbeddings());
        assertEquals(128000, c.specialIds().bos());
        assertEquals(128001, c.specialIds().eos());
        assertEquals(-1, c.specialIds().pad());
        // 5.x's layout: rope_parameters holding rope_theta and the yarn fields
        assertEquals(c, read(AFM.replace("\"rope_scaling\": {\"beta_fast\"", "\"rope_parameters\": {\"rope_theta\": 10000.0, \"beta_fast\"")
                .replace(", \"rope_theta\": 10000.0,", ",")));
    }

    @Test
    void defaultsAreArceeConfigs() throws Exception {
        TransformerConfig c = read("{\"model_type\": \"arcee\"}");
        assertEquals(32000, c.vocabSize());
        assertEquals(2560, c.modelWidth());
        assertEquals(18432, c.mlpWidth());
        assertEquals(32, c.decoderLayers());
        assertEquals(32, c.heads());
        assertEquals(32, c.kvHeads(), "num_key_value_heads None: the number of heads");
        assertEquals(80, c.headSize(), "head_dim None: hidden / heads");
        assertEquals(4096, c.maxPositions());
        assertEquals(1e-5f, c.normEps());
        assertEquals(TransformerConfig.Activation.RELU2, c.activation());
        assertEquals(TransformerConfig.Rope.Scaling.DEFAULT, c.rope().scaling());
        assertEquals(10000.0, c.rope().theta());
        assertFalse(c.tiedEmbeddings());
        assertEquals(-1, c.specialIds().bos(), "bos 128000 lies past the default vocabulary of 32000");
        TransformerConfig b = read("""
                {"model_type": "arcee", "vocab_size": 128256, "attention_bias": true, "mlp_bias": true, "head_dim": null,
                 "num_key_value_heads": null, "tie_word_embeddings": true}""");
        assertEquals(new TransformerConfig.Biases(true, true, true), b.linearBiases(), "attention_bias: q, k, v, o; mlp_bias: up, down");
        assertEquals(80, b.headSize(), "a null head_dim: hidden / heads");
        assertEquals(32, b.kvHeads(), "a null num_key_value_heads: the number of heads");
        assertTrue(b.tiedEmbeddings());
        assertEquals(128000, b.specialIds().bos());
        assertEquals(128001, b.specialIds().eos());
    }

    @Test
    void refusalsNameTheField() throws Exception {
        for (String[] bad : new String[][] {
                {"\"hidden_act\": \"relu2\"", "\"hidden_act\": \"silu\"", "hidden_act 'silu'"},
                {"\"num_key_value_heads\": 4", "\"num_key_value_heads\": 3", "does not divide"},
                {"\"hidden_size\": 2560", "\"hidden_size\": 2570", "not divisible"},
                {"\"rope_type\": \"yarn\"", "\"rope_type\": \"ntk-by-parts\"", "rope type 'ntk-by-parts'"}}) {
            assertTrue(AFM.contains(bad[0]), bad[0]);
            CheckpointException e = assertThrows(CheckpointException.class, () -> read(AFM.replace(bad[0], bad[1])), bad[1]);
            assertTrue(e.getMessage().contains(bad[2]), e.getMessage());
        }
        refusedAtLoad("\"model_type\"", "\"quantization_config\": {\"quant_method\": \"fp8\"}, \"model_type\"", "quantization_config");
        refusedAtLoad("\"intermediate_size\": 64", "\"intermediate_size\": 48", "up_proj");
        HfDots1Test.loraRefused(dir, "arcee", "arcee");
    }

    /** The arcee folder with its config.json's {@code from} replaced by {@code to} fails to load with a message containing {@code expected}. */
    private void refusedAtLoad(String from, String to, String expected) throws Exception {
        Path src = ReferenceFixturesTest.Fixture.open("arcee").dir(), bad = Files.createDirectories(dir.resolve("arcee-" + expected));
        String json = Files.readString(src.resolve("config.json"));
        assertTrue(json.contains(from), "arcee has " + from);
        Files.copy(src.resolve("model.safetensors"), bad.resolve("model.safetensors"));
        Files.writeString(bad.resolve("config.json"), json.replace(from, to));
        try (CpuBackend cpu = new CpuBackend()) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> Pretrained.load(bad, cpu).close(), to);
            assertTrue(e.getMessage().contains(expected), e.getMessage());
        }
    }

    /** The float64 arcee folder (yarn, relu², GQA) through the paged KV cache: every position's logits and the greedy tokens. */
    @Test
    void theFolderMatchesTheReferenceThroughThePagedCache() throws Exception {
        PagedDecoderTest.referenceThroughThePagedCache("arcee");
    }
}
