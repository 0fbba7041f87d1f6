// HfGraniteMoeTest — IBM Granite MoE config.json read as transformers' GraniteMoeConfig / GraniteMoeSharedConfig and
// modeling_granitemoe.py read them (the granite-3.x a400m / a800m configs: dense Granite's multipliers, JetMoE's experts
// behind a top-k-of-the-logits router), the float64 folders through the paged KV cache, and clear refusals.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.HfConfig;
import org.transformer4j.runtime.CpuBackend;

class HfGraniteMoeTest {

    @TempDir
    Path dir;

    private TransformerConfig read(String json) throws Exception {
        Files.writeString(dir.resolve("config.json"), json);
        return HfDecoders.config(HfConfig.read(dir));
    }

    /**
     * ibm-granite/granite-3.1-1b-a400m-instruct's config.json, written from third-party copies of its fields (no copy of
     * the file itself was found in the stored sources): transformers 4.x layout, tied, 32 experts top-8 of 512, the four
     * multipliers, rope_theta 1.5e6 over 131072 positions, bos = eos = pad = 0.
     */
    static final String A400M = """
            {"architectures": ["GraniteMoeForCausalLM"], "attention_bias": false, "attention_dropout": 0.1,
             "attention_multiplier": 0.015625, "bos_token_id": 0, "embedding_multiplier": 12.0, "eos_token_id": 0,
             "hidden_act": "silu", "hidden_size": 1024, "initializer_range": 0.02, "intermediate_size": 512,
             "logits_scaling": 6.0, "max_position_embeddings": 131072, "model_type": "granitemoe", "num_attention_heads": 16,
             "num_experts_per_tok": 8, "num_hidden_layers": 24, "num_key_value_heads": 8, "num_local_experts": 32,
             "output_router_logits": false, "pad_token_id": 0, "residual_multiplier": 0.22, "rms_norm_eps": 1e-06,
             "rope_scaling": null, "rope_theta": 1500000.0, "router_aux_loss_coef": 0.001, "tie_word_embeddings": true,
             "torch_dtype": "bfloat16", "transformers_version": "4.46.0", "use_cache": true, "vocab_size": 49155}""";

    @Test
    void granite31A400mAsPublished() throws Exception {
        TransformerConfig c = read(A400M);
        assertEquals(16, c.heads());
        assertEquals(8, c.kvHeads());
        assertEquals(64, c.headSize(), "hidden / heads");
        assertEquals(24, c.decoderLayers());
        assertEquals(49155, c.vocabSize());
        assertEquals(12f, c.embeddingScale(), "embedding_multiplier");
        assertEquals(0.015625f, c.attentionScale(), "attention_multiplier, not head_dim^-0.5");
        assertEquals(0.22f, c.residualScale(), "residual_multiplier");
        assertEquals(true, c.tiedEmbeddings());
        assertEquals(1 / 6f, c.outputScale(), "logits ÷ logits_scaling");
        assertEquals(1.5e6, c.rope().theta());
        assertEquals(64, c.rope().rotaryDim());
        assertEquals(131072, c.maxPositions());
        assertEquals(1e-6f, c.normEps());
        assertEquals(new TransformerConfig.Biases(false, false, false), c.linearBiases());
        TransformerConfig.Moe moe = c.moe();
        assertEquals(32, moe.experts());
        assertEquals(8, moe.topK());
        assertEquals(512, moe.expertWidth());
        assertEquals(true, moe.renormalize(), "softmax over the k logits = the renormalized top-k of the full softmax");
        assertEquals(0, moe.sharedWidth());
        assertEquals(List.of(), moe.denseLayers(), "every layer's MLP is the mixture");
        assertEquals(TransformerConfig.Routing.SOFTMAX, moe.routing());
        assertEquals(new TransformerConfig.SpecialIds(0, 0, 0, -1, -1), c.specialIds());
    }

    /** granite-3.1-3b-a800m: hidden 1536, 24 heads over 8, 32 layers, 40 experts top-8, rope_theta 1e7; 3.0's: theta 10000 over 4096. */
    @Test
    void granite3bA800mAndThe30Layout() throws Exception {
        TransformerConfig c = read(A400M.replace("\"hidden_size\": 1024", "\"hidden_size\": 1536")
                .replace("\"num_attention_heads\": 16", "\"num_attention_heads\": 24").replace("\"num_hidden_layers\": 24", "\"num_hidden_layers\": 32")
                .replace("\"num_local_experts\": 32", "\"num_local_experts\": 40").replace("\"rope_theta\": 1500000.0", "\"rope_theta\": 10000000.0"));
        assertEquals(64, c.headSize());
        assertEquals(40, c.moe().experts());
        assertEquals(1e7, c.rope().theta());
        TransformerConfig old = read(A400M.replace("\"rope_theta\": 1500000.0", "\"rope_theta\": 10000")
                .replace("\"max_position_embeddings\": 131072", "\"max_position_embeddings\": 4096"));
        assertEquals(10000.0, old.rope().theta());
        assertEquals(4096, old.maxPositions());
    }

    /** GraniteMoeConfig's defaults where the folder says nothing; GraniteMoeSharedConfig's shared_intermediate_size 0 = none. */
    @Test
    void defaultsFollowTheConfigClasses() throws Exception {
        TransformerConfig c = read("{\"model_type\": \"granitemoe\"}");
        assertEquals(32000, c.vocabSize());
        assertEquals(4096, c.modelWidth());
        assertEquals(32, c.heads());
        assertEquals(32, c.kvHeads(), "num_key_value_heads = heads when absent");
        assertEquals(128, c.headSize());
        assertEquals(32, c.decoderLayers());
        assertEquals(2048, c.maxPositions());
        assertEquals(1e-6f, c.normEps());
        assertEquals(10000.0, c.rope().theta());
        assertEquals(new TransformerConfig.Moe(8, 2, true, 11008, 0, false, List.of()), c.moe());
        assertEquals(false, c.tiedEmbeddings());
        assertEquals(1f, c.embeddingScale());
        assertEquals(1f, c.attentionScale());
        assertEquals(1f, c.residualScale());
        assertEquals(1f, c.outputScale());
        assertEquals(new TransformerConfig.SpecialIds(-1, 1, 2, -1, -1), c.specialIds(), "bos 1, eos 2, no pad");
        assertEquals(0, read("{\"model_type\": \"granitemoeshared\"}").moe().sharedWidth());
        assertEquals(0, read("{\"model_type\": \"granitemoeshared\", \"shared_intermediate_size\": 0}").moe().sharedWidth());
        TransformerConfig.Moe shared = read("{\"model_type\": \"granitemoeshared\", \"shared_intermediate_size\": 1024}").moe();
        assertEquals(1024, shared.sharedWidth());
        assertEquals(false, shared.sharedGate(), "added as is (no sigmoid gate as Qwen2-MoE's)");
        assertEquals(0, read("{\"model_type\": \"granitemoe\", \"shared_intermediate_size\": 1024}").moe().sharedWidth(),
                "GraniteMoeConfig has no shared MLP");
        // 5.x's rope_parameters
        assertEquals(read(A400M), read(A400M.replace("\"rope_scaling\": null, \"rope_theta\": 1500000.0,",
                "\"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": 1500000.0},")));
    }

    @Test
    void whatTransformersRejectsOrThisLibraryDoesNotRunIsRefusedByName() throws Exception {
        for (String[] bad : new String[][] {
                {"\"hidden_act\": \"silu\"", "\"hidden_act\": \"gelu\"", "hidden_act 'gelu'"},
                {"\"num_key_value_heads\": 8", "\"num_key_value_heads\": 8, \"head_dim\": 128", "head_dim 128"},
                {"\"num_key_value_heads\": 8", "\"num_key_value_heads\": 6", "does not divide"},
                {"\"hidden_size\": 1024", "\"hidden_size\": 1000", "not divisible"},
                {"\"attention_bias\": false", "\"attention_bias\": true", "attention_bias with residual_multiplier"}}) {
            assertTrue(A400M.contains(bad[0]), bad[0]);
            CheckpointException e = assertThrows(CheckpointException.class, () -> read(A400M.replace(bad[0], bad[1])), bad[1]);
            assertTrue(e.getMessage().contains(bad[2]), e.getMessage());
        }
        // head_dim equal to hidden / heads is what both transformers versions use
        assertEquals(64, read(A400M.replace("\"num_key_value_heads\": 8", "\"num_key_value_heads\": 8, \"head_dim\": 64")).headSize());
        // attention biases with residual_multiplier 1 run
        assertEquals(new TransformerConfig.Biases(true, true, false),
                read(A400M.replace("\"attention_bias\": false", "\"attention_bias\": true").replace("\"residual_multiplier\": 0.22", "\"residual_multiplier\": 1.0")).linearBiases());
        refusedAtLoad("granitemoe", "\"model_type\"", "\"quantization_config\": {\"quant_method\": \"fp8\"}, \"model_type\"", "quantization_config");
    }

    /**
     * Tensors that do not fit the config are refused naming them: input_linear of the wrong width, a shared MLP of another
     * width, a shared MLP where shared_intermediate_size 0 says there is none.
     */
    @Test
    void tensorsThatDoNotFitTheConfigAreNamed() throws Exception {
        refusedAtLoad("granitemoe", "\"intermediate_size\": 16", "\"intermediate_size\": 8", "input_linear");
        refusedAtLoad("granitemoeshared", "\"shared_intermediate_size\": 24", "\"shared_intermediate_size\": 16", "shared_mlp");
        refusedAtLoad("granitemoeshared", "\"shared_intermediate_size\": 24", "\"shared_intermediate_size\": 0", "shared_mlp");
    }

    /** The fixture folder with its config.json's {@code from} replaced by {@code to} fails to load with a message containing {@code expected}. */
    private void refusedAtLoad(String fixture, String from, String to, String expected) throws Exception {
        Path src = ReferenceFixturesTest.Fixture.open(fixture).dir(), bad = Files.createDirectories(dir.resolve(fixture + "-" + expected + "-" + to.length()));
        String json = Files.readString(src.resolve("config.json"));
        assertTrue(json.contains(from), fixture + " has " + from);
        Files.copy(src.resolve("model.safetensors"), bad.resolve("model.safetensors"));
        Files.writeString(bad.resolve("config.json"), json.replace(from, to));
        try (CpuBackend cpu = new CpuBackend()) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> Pretrained.load(bad, cpu).close(), to);
            assertTrue(e.getMessage().contains(expected), e.getMessage());
        }
    }

    /** The float64 folders through the paged KV cache (PagedDecoderTest.referenceThroughThePagedCache). */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"granitemoe", "granitemoeshared"})
    void theFolderMatchesTheReferenceThroughThePagedCache(String name) throws Exception {
        PagedDecoderTest.referenceThroughThePagedCache(name);
    }
}
