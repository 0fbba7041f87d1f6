// MpnetConfigTest — MPNet's config.json as MPNetConfig reads it (all-mpnet-base-v2's file and the class defaults),
// the layout's key names as sentence-transformers and the task classes save them, and the refusals.
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

class MpnetConfigTest {

    @TempDir
    Path dir;

    private HfConfig cfg(String json) throws Exception {
        Files.writeString(dir.resolve("config.json"), json);
        return HfConfig.read(dir);
    }

    /** sentence-transformers/all-mpnet-base-v2's config.json, field for field. */
    static final String ALL_MPNET_BASE_V2 = """
            {"_name_or_path": "microsoft/mpnet-base", "architectures": ["MPNetForMaskedLM"], "attention_probs_dropout_prob": 0.1,
             "bos_token_id": 0, "eos_token_id": 2, "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "hidden_size": 768,
             "initializer_range": 0.02, "intermediate_size": 3072, "layer_norm_eps": 1e-05, "max_position_embeddings": 514,
             "model_type": "mpnet", "num_attention_heads": 12, "num_hidden_layers": 12, "pad_token_id": 1,
             "relative_attention_num_buckets": 32, "torch_dtype": "float32", "transformers_version": "4.8.2", "vocab_size": 30527}
            """;

    @Test
    void allMpnetBaseV2() throws Exception {
        TransformerConfig c = Pretrained.mpnetConfig(cfg(ALL_MPNET_BASE_V2));
        assertEquals(TransformerConfig.Architecture.ENCODER_ONLY, c.architecture());
        assertEquals(768, c.modelWidth());
        assertEquals(3072, c.mlpWidth());
        assertEquals(64, c.headSize());
        assertEquals(12, c.encoderLayers());
        assertEquals(TransformerConfig.NormPlacement.POST, c.normPlacement());
        assertEquals(1e-5f, c.normEps());
        assertEquals(TransformerConfig.Positions.LEARNED_ABSOLUTE, c.positions());
        assertEquals(514, c.maxPositions());
        assertEquals(32, c.relativeBuckets());
        assertEquals(128, c.relativeMaxDistance());
        assertEquals(0, c.typeVocabSize());
        assertEquals(1f / 8, c.attentionScale(), "1/sqrt(64): MPNet scales its scores, unlike T5");
        assertTrue(c.biases() && !c.gatedMlp() && c.activation() == TransformerConfig.Activation.GELU);
        assertEquals(1, c.specialIds().pad());
    }

    /** MPNetConfig's defaults: microsoft/mpnet-base's sizes, layer_norm_eps 1e-12, 512 positions. */
    @Test
    void defaults() throws Exception {
        TransformerConfig c = Pretrained.mpnetConfig(cfg("{\"model_type\": \"mpnet\"}"));
        assertEquals(30527, c.vocabSize());
        assertEquals(1e-12f, c.normEps());
        assertEquals(512, c.maxPositions());
        assertEquals(32, c.relativeBuckets(), "compute_position_bias always uses 32 buckets");
    }

    /** The keys all-mpnet-base-v2's model.safetensors holds (MPNetModel, no prefix) are the layout's, buffers aside. */
    @Test
    void layoutNamesAsSentenceTransformersSavesThem() throws Exception {
        HfLayout l = HfLayout.of(cfg(ALL_MPNET_BASE_V2));
        assertTrue(l.required().containsAll(List.of("embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
                "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias", "encoder.layer.0.attention.attn.q.weight",
                "encoder.layer.11.attention.attn.o.bias", "encoder.layer.5.attention.LayerNorm.weight",
                "encoder.layer.5.intermediate.dense.weight", "encoder.layer.5.output.dense.bias", "encoder.layer.5.output.LayerNorm.bias",
                "encoder.relative_attention_bias.weight")));
        assertEquals(List.of(32L, 12L), java.util.Arrays.stream(l.shapes().get("encoder.relative_attention_bias.weight")).boxed().toList());
        assertFalse(l.shapes().containsKey("embeddings.token_type_embeddings.weight"), "MPNet has no token types");
        assertTrue(l.allOrNone().contains(java.util.Set.of("pooler.dense.weight", "pooler.dense.bias")));
        assertTrue(l.prefixes().contains("mpnet.") && l.ignored().contains(".position_ids"));
    }

    @Test
    void refusals() throws Exception {
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> Pretrained.mpnetConfig(cfg("{\"model_type\": \"mpnet\", \"relative_attention_num_buckets\": 16}")));
        assertTrue(e.getMessage().contains("relative_attention_num_buckets 16") && e.getMessage().contains("32"), e.getMessage());
        e = assertThrows(CheckpointException.class,
                () -> Pretrained.mpnetConfig(cfg("{\"model_type\": \"mpnet\", \"hidden_act\": \"swish\"}")));
        assertTrue(e.getMessage().contains("hidden_act 'swish'"), e.getMessage());
        e = assertThrows(CheckpointException.class,
                () -> Pretrained.mpnetConfig(cfg("{\"model_type\": \"mpnet\", \"hidden_size\": 100}")));
        assertTrue(e.getMessage().contains("not divisible"), e.getMessage());
    }

    /** The relative bias beside learned positions belongs to bidirectional encoders only. */
    @Test
    void relativeBiasBesideLearnedPositionsIsForEncoders() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TransformerConfig.builder().vocabSize(10)
                .widths(8, 16, 2).decoderLayers(1).norm(TransformerConfig.NormKind.LAYER_NORM, TransformerConfig.NormPlacement.PRE, 1e-5f)
                .learnedPositions(16).relativeBias(32, 128).build());
        assertTrue(e.getMessage().contains("MPNet"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TransformerConfig.builder().vocabSize(10)
                .widths(8, 16, 2).encoderLayers(1).norm(TransformerConfig.NormKind.LAYER_NORM, TransformerConfig.NormPlacement.POST, 1e-5f)
                .learnedPositions(16).relativeBias(32, 8).build());
        assertTrue(e.getMessage().contains("relativeMaxDistance (8)"), e.getMessage());
    }
}
