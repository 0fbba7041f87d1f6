// AlbertConfigTest — ALBERT's config.json as AlbertConfig reads it (albert-base-v2's file and the class defaults), which
// group and inner layer each stacked layer runs (AlbertTransformer's group_idx), and the refusals.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.HfConfig;
import org.transformer4j.model.weights.HfLayout;

class AlbertConfigTest {

    @TempDir
    Path dir;

    private HfConfig cfg(String json) throws Exception {
        Files.writeString(dir.resolve("config.json"), json);
        return HfConfig.read(dir);
    }

    /** albert-base-v2's config.json, field for field. */
    static final String ALBERT_BASE_V2 = """
            {"architectures": ["AlbertForMaskedLM"], "attention_probs_dropout_prob": 0, "bos_token_id": 2, "classifier_dropout_prob": 0.1,
             "down_scale_factor": 1, "embedding_size": 128, "eos_token_id": 3, "gap_size": 0, "hidden_act": "gelu_new",
             "hidden_dropout_prob": 0, "hidden_size": 768, "initializer_range": 0.02, "inner_group_num": 1, "intermediate_size": 3072,
             "layer_norm_eps": 1e-12, "max_position_embeddings": 512, "model_type": "albert", "net_structure_type": 0,
             "num_attention_heads": 12, "num_hidden_groups": 1, "num_hidden_layers": 12, "num_memory_blocks": 0, "pad_token_id": 0,
             "type_vocab_size": 2, "vocab_size": 30000}
            """;

    @Test
    void albertBaseV2AndTheClassDefaults() throws Exception {
        TransformerConfig c = Pretrained.albertConfig(cfg(ALBERT_BASE_V2));
        assertEquals(768, c.modelWidth());
        assertEquals(128, c.embeddingTableWidth());
        assertEquals(12, c.heads());
        assertEquals(3072, c.mlpWidth());
        assertEquals(12, c.encoderLayers());
        assertEquals(TransformerConfig.Activation.GELU_TANH, c.activation());
        assertEquals(TransformerConfig.NormPlacement.POST, c.normPlacement());
        assertEquals(1e-12f, c.normEps());
        assertEquals(2, c.typeVocabSize());
        assertEquals(512, c.maxPositions());
        assertEquals(0, c.specialIds().pad());
        assertTrue(c.tiedEmbeddings());
        TransformerConfig d = Pretrained.albertConfig(cfg("{\"model_type\": \"albert\"}"));         // AlbertConfig(): xxlarge's shape
        assertEquals(4096, d.modelWidth());
        assertEquals(64, d.heads());
        assertEquals(16384, d.mlpWidth());
        assertEquals(30000, d.vocabSize());
        assertEquals(TransformerConfig.Activation.GELU_TANH, d.activation());
        assertEquals(TransformerConfig.Activation.RELU,
                Pretrained.albertConfig(cfg("{\"model_type\": \"albert\", \"hidden_act\": \"relu\"}")).activation(), "albert_chinese's");
        assertTrue(HfLayout.of(cfg(ALBERT_BASE_V2)).shapes().containsKey("encoder.albert_layer_groups.0.albert_layers.0.ffn_output.weight"));
    }

    /** group_idx = int(i / (num_hidden_layers / num_hidden_groups)); each layer runs every inner layer of its group in order. */
    @Test
    void eachStackedLayerRunsItsGroupsInnerLayers() throws Exception {
        assertArrayEquals(new int[][] {{0, 0}, {0, 0}, {0, 0}}, Pretrained.albertLayers(3, 1, 1));
        assertArrayEquals(new int[][] {{0, 0}, {0, 1}, {0, 0}, {0, 1}, {1, 0}, {1, 1}, {1, 0}, {1, 1}}, Pretrained.albertLayers(4, 2, 2));
        // 12 layers over 5 groups: 12 / 5 = 2.4, so layers 0-2 → 0, 3-4 → 1, 5-7 → 2, 8-9 → 3, 10-11 → 4
        int[][] five = Pretrained.albertLayers(12, 5, 1);
        int[] groups = new int[12];
        for (int i = 0; i < 12; i++) groups[i] = five[i][0];
        assertArrayEquals(new int[] {0, 0, 0, 1, 1, 2, 2, 2, 3, 3, 4, 4}, groups);
        assertEquals(24, Pretrained.albertConfig(cfg("{\"model_type\": \"albert\", \"num_hidden_layers\": 12, \"num_hidden_groups\": 2,"
                + " \"inner_group_num\": 2}")).encoderLayers(), "num_hidden_layers · inner_group_num");
    }

    @Test
    void refusals() throws Exception {
        for (String[] bad : new String[][] {
                {"\"position_embedding_type\": \"relative_key\"", "position_embedding_type 'relative_key'"},
                {"\"num_hidden_layers\": 4, \"num_hidden_groups\": 2, \"inner_group_num\": 3", "do not fit"},
                {"\"num_hidden_layers\": 2, \"num_hidden_groups\": 3", "do not fit"},
                {"\"hidden_size\": 100, \"num_attention_heads\": 3", "not divisible"},
                {"\"hidden_act\": \"swish\"", "hidden_act 'swish'"}}) {
            CheckpointException e = assertThrows(CheckpointException.class,
                    () -> Pretrained.albertConfig(cfg("{\"model_type\": \"albert\", " + bad[0] + "}")), bad[0]);
            assertTrue(e.getMessage().contains(bad[1]), e.getMessage());
        }
    }
}
