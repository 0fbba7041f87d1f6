// ModernBertConfigTest — ModernBERT's config.json as ModernBertConfig reads it: defaults, the global / local layer
// pattern with its two rope thetas and the window on both sides, the layout's key names, and refusals.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.HfConfig;
import org.transformer4j.model.weights.HfLayout;

class ModernBertConfigTest {

    @TempDir
    Path dir;

    private HfConfig cfg(String json) throws Exception {
        Files.writeString(dir.resolve("config.json"), json);
        return HfConfig.read(dir);
    }

    /** answerdotai/ModernBERT-base's shape from ModernBertConfig's defaults: 22 layers, every third global, ±64 locally. */
    @Test
    void defaultsAreModernBertBase() throws Exception {
        TransformerConfig c = Pretrained.modernbertConfig(cfg("{\"model_type\": \"modernbert\"}"));
        assertEquals(768, c.modelWidth());
        assertEquals(1152, c.mlpWidth());
        assertEquals(64, c.headSize());
        assertEquals(22, c.encoderLayers());
        assertEquals(TransformerConfig.Architecture.ENCODER_ONLY, c.architecture());
        assertEquals(TransformerConfig.NormPlacement.PRE, c.normPlacement());
        assertTrue(c.gatedMlp() && c.activation() == TransformerConfig.Activation.GELU);
        assertFalse(c.biases() || c.firstAttnNorm());
        assertEquals(160000, c.rope().theta());
        assertEquals(10000, c.slidingRope().theta());
        for (int i = 0; i < 22; i++) assertEquals(i % 3 == 0 ? 0 : 65, c.window(i), "layer " + i + ": |i − j| ≤ 64 is window 65");
        assertTrue(c.tiedEmbeddings());
        assertEquals(50283, c.specialIds().pad());
    }

    @Test
    void layoutNamesAndRefusals() throws Exception {
        HfConfig small = cfg("{\"model_type\": \"modernbert\", \"hidden_size\": 64, \"num_attention_heads\": 4, \"num_hidden_layers\": 2,"
                + " \"intermediate_size\": 48, \"vocab_size\": 100, \"num_labels\": 3}");
        HfLayout l = HfLayout.of(small);
        assertTrue(l.required().containsAll(List.of("embeddings.tok_embeddings.weight", "embeddings.norm.weight", "layers.0.attn.Wqkv.weight",
                "layers.1.attn_norm.weight", "layers.1.mlp.Wi.weight", "final_norm.weight")));
        assertFalse(l.shapes().containsKey("layers.0.attn_norm.weight"), "layer 0 has no attention norm");
        assertFalse(l.shapes().containsKey("embeddings.norm.bias"), "norm_bias false by default");
        assertEquals(List.of(96L, 64L), java.util.Arrays.stream(l.shapes().get("layers.0.mlp.Wi.weight")).boxed().toList());
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> Pretrained.modernbertConfig(cfg("{\"model_type\": \"modernbert\", \"attention_bias\": true}")));
        assertTrue(e.getMessage().contains("attention_bias"), e.getMessage());
    }
}
