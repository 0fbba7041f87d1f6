// HfDecodersConfigTest — config.json of the RoPE decoders read as transformers' configuration classes read
// them: defaults per family (Qwen3's head_dim 128, Gemma's 256, tied Gemma), which layers slide (Mistral all,
// Qwen2 from max_window_layers and only with use_sliding_window, layer_types when given), 4.x rope_scaling
// ("type" or "rope_type") and 5.x rope_parameters, eos id lists; and clear errors for what is not implemented.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.HfConfig;

class HfDecodersConfigTest {

    @TempDir
    Path dir;

    private TransformerConfig read(String json) throws Exception {
        Files.writeString(dir.resolve("config.json"), json);
        return HfDecoders.config(HfConfig.read(dir));
    }

    private static String base(String type, String extra) {
        return "{\"model_type\": \"" + type + "\", \"hidden_size\": 64, \"num_attention_heads\": 4, \"num_hidden_layers\": 3,"
                + " \"intermediate_size\": 96, \"vocab_size\": 300" + extra + "}";
    }

    @Test
    void familyDefaults() throws Exception {
        TransformerConfig llama = read(base("llama", ", \"eos_token_id\": [7, 8, 9]"));
        assertEquals(16, llama.headSize());
        assertEquals(4, llama.kvHeads());
        assertEquals(7, llama.specialIds().eos(), "Llama 3 lists eos ids; the first is the config's");
        assertEquals(false, llama.tiedEmbeddings());
        assertEquals(List.of(), llama.windows());
        assertEquals(10000, llama.rope().theta());
        assertEquals(128, read(base("qwen3", "")).headSize(), "Qwen3Config(head_dim=128)");
        TransformerConfig gemma = read(base("gemma", ""));
        assertEquals(256, gemma.headSize(), "GemmaConfig(head_dim=256)");
        assertTrue(gemma.tiedEmbeddings());
        assertEquals(TransformerConfig.Activation.GELU_TANH, gemma.activation());
        assertEquals(8f, gemma.embeddingScale());
        TransformerConfig qwen2 = read(base("qwen2", ""));
        assertTrue(qwen2.qkvBias() && !qwen2.outBias() && !qwen2.mlpBias(), "Qwen2: bias on q, k, v only");
        assertEquals(8, read(base("phi3", ", \"partial_rotary_factor\": 0.5")).rope().rotaryDim());
    }

    @Test
    void whichLayersSlide() throws Exception {
        assertEquals(List.of(7, 7, 7), read(base("mistral", ", \"sliding_window\": 7")).windows());
        assertEquals(List.of(), read(base("mistral", ", \"sliding_window\": null")).windows());
        assertEquals(List.of(), read(base("qwen2", ", \"sliding_window\": 6, \"max_window_layers\": 1")).windows(),
                "Qwen2 drops sliding_window unless use_sliding_window");
        assertEquals(List.of(0, 6, 6), read(base("qwen2", ", \"sliding_window\": 6, \"max_window_layers\": 1, \"use_sliding_window\": true")).windows());
        assertEquals(List.of(6, 0, 6), read(base("qwen2", ", \"sliding_window\": 6, \"use_sliding_window\": true, \"layer_types\":"
                + " [\"sliding_attention\", \"full_attention\", \"sliding_attention\"]")).windows());
        CheckpointException e = assertThrows(CheckpointException.class, () -> read(base("mistral",
                ", \"layer_types\": [\"sliding_attention\", \"full_attention\", \"full_attention\"]")));
        assertTrue(e.getMessage().contains("sliding_window"), e.getMessage());
    }

    @Test
    void ropeSettingsFromEitherLayout() throws Exception {
        TransformerConfig v4 = read(base("llama", ", \"rope_theta\": 500000.0, \"rope_scaling\": {\"type\": \"linear\", \"factor\": 4.0}"));
        assertEquals(TransformerConfig.Rope.Scaling.LINEAR, v4.rope().scaling());
        assertEquals(500000, v4.rope().theta());
        TransformerConfig v5 = read(base("llama", ", \"rope_parameters\": {\"rope_type\": \"llama3\", \"rope_theta\": 500000.0,"
                + " \"factor\": 32.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 8192}"));
        assertEquals(TransformerConfig.Rope.Scaling.LLAMA3, v5.rope().scaling());
        assertEquals(8192, v5.rope().originalMaxPositions());
        assertEquals(500000, v5.rope().theta());
        for (String kind : List.of("yarn", "longrope")) {
            CheckpointException e = assertThrows(CheckpointException.class,
                    () -> read(base("phi3", ", \"rope_scaling\": {\"type\": \"" + kind + "\", \"factor\": 2.0}")));
            assertTrue(e.getMessage().contains(kind) && e.getMessage().contains("config.json"), e.getMessage());
        }
    }

    /** Llama 3's llama3 frequencies against _compute_llama3_parameters' three bands, worked out here in double. */
    @Test
    void llama3FrequenciesFollowTheirThreeBands() {
        TransformerConfig.Rope r = new TransformerConfig.Rope(500000, 64, TransformerConfig.Rope.Scaling.LLAMA3, 32, 1, 4, 8192);
        float[] inv = r.invFreq();
        for (int i = 0; i < 32; i++) {
            double base = Math.pow(500000, -2.0 * i / 64), wavelen = 2 * Math.PI / base;
            double want;
            if (wavelen < 8192 / 4.0) want = base;                                   // high frequency: kept
            else if (wavelen > 8192 / 1.0) want = base / 32;                         // low frequency: ÷ factor
            else {
                double smooth = (8192 / wavelen - 1) / (4 - 1);
                want = (1 - smooth) * base / 32 + smooth * base;
            }
            assertEquals(want, inv[i], Math.ulp((float) want), "frequency " + i);
        }
    }
}
