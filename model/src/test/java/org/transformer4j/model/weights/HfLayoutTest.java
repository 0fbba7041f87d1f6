// HfLayoutTest — GPT-2, BERT and T5 (v1.0, v1.1) checkpoints checked key for key against the
// layouts derived from config.json: tensor names written out here as Hugging Face saves them
// (per-layer templates, independent of HfLayout's builder), prefixes and TF-era names accepted,
// buffers ignored, and missing / unexpected / misshapen tensors and bad config.json files reported
// in one error naming the file.
package org.transformer4j.model.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Tensor;

class HfLayoutTest {

    @TempDir Path dir;

    private final Random random = new Random(5);

    /** name → shape, in the order written. */
    private static final class Keys extends LinkedHashMap<String, long[]> {
        Keys add(String name, long... shape) { put(name, shape); return this; }
    }

    private Path folder(String config, Map<String, long[]> keys, DType dtype) throws IOException {
        Path d = Files.createTempDirectory(dir, "model");
        Files.writeString(d.resolve("config.json"), config);
        Map<String, Tensor> ts = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : keys.entrySet()) {
            long n = 1;
            for (long x : e.getValue()) n *= x;
            float[] v = new float[(int) n];
            for (int i = 0; i < v.length; i++) v[i] = (float) random.nextGaussian();
            Tensor t = dtype == DType.I64 ? Tensor.empty(DType.I64, e.getValue()) : Tensor.of(dtype, v, e.getValue());
            ts.put(e.getKey(), t);
        }
        SafetensorsWriter.write(d.resolve("model.safetensors"), ts, Map.of("format", "pt"));
        ts.values().forEach(Tensor::close);
        return d;
    }

    private static Map<String, String> load(Path d) throws IOException {
        HfLayout layout = HfLayout.of(HfConfig.read(d));
        try (SafetensorsCheckpoint ck = SafetensorsCheckpoint.open(d)) {
            return layout.match(ck, d);
        }
    }

    private void assertRejected(Path d, String... problems) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> load(d));
        for (String p : problems) {
            assertTrue(e.getMessage().startsWith(d.toString()) && e.getMessage().contains(p), "expected '" + p + "' in " + e.getMessage());
        }
    }

    // ---- GPT-2: C=8, 2 layers, 2 heads, V=11, 5 positions ---------------------------------------

    static final String GPT2 = "{\"model_type\":\"gpt2\",\"n_embd\":8,\"n_layer\":2,\"n_head\":2,\"vocab_size\":11,\"n_positions\":5,"
            + "\"layer_norm_epsilon\":1e-5,\"activation_function\":\"gelu_new\"}";

    static Keys gpt2Keys(String prefix) {
        Keys k = new Keys().add(prefix + "wte.weight", 11, 8).add(prefix + "wpe.weight", 5, 8);
        for (int i = 0; i < 2; i++) {
            String h = prefix + "h." + i + ".";
            k.add(h + "ln_1.weight", 8).add(h + "ln_1.bias", 8)
                    .add(h + "attn.c_attn.weight", 8, 24).add(h + "attn.c_attn.bias", 24)
                    .add(h + "attn.c_proj.weight", 8, 8).add(h + "attn.c_proj.bias", 8)
                    .add(h + "ln_2.weight", 8).add(h + "ln_2.bias", 8)
                    .add(h + "mlp.c_fc.weight", 8, 32).add(h + "mlp.c_fc.bias", 32)
                    .add(h + "mlp.c_proj.weight", 32, 8).add(h + "mlp.c_proj.bias", 8);
        }
        return k.add(prefix + "ln_f.weight", 8).add(prefix + "ln_f.bias", 8);
    }

    @Test
    void gpt2AsTheHubStoresItAndAsSavePretrainedDoes() throws IOException {
        Keys hub = gpt2Keys("");
        hub.add("h.0.attn.bias", 1, 1, 5, 5);                        // the causal-mask buffer old checkpoints carry
        Map<String, String> m = load(folder(GPT2, hub, DType.F32));
        assertEquals(2 + 2 * 12 + 2, m.size());
        assertEquals("h.1.mlp.c_fc.weight", m.get("h.1.mlp.c_fc.weight"));
        Keys lm = gpt2Keys("transformer.");
        lm.add("lm_head.weight", 11, 8);                              // a tied copy, allowed
        Map<String, String> m2 = load(folder(GPT2, lm, DType.BF16));
        assertEquals("transformer.wte.weight", m2.get("wte.weight"));
        assertEquals("lm_head.weight", m2.get("lm_head.weight"));
        HfLayout layout = HfLayout.of(HfConfig.read(dir.resolve(Files.list(dir).findFirst().orElseThrow().getFileName())));
        assertEquals(8, layout.transposed().size());
        assertTrue(layout.isTransposed("h.0.attn.c_attn.weight") && !layout.isTransposed("wte.weight"));
    }

    @Test
    void gpt2ErrorsAreListedTogether() throws IOException {
        Keys k = gpt2Keys("");
        k.remove("h.1.mlp.c_fc.bias");
        k.add("h.1.mlp.extra", 3);
        k.put("wte.weight", new long[] {11, 9});
        assertRejected(folder(GPT2, k, DType.F32), "missing [h.1.mlp.c_fc.bias], unexpected [h.1.mlp.extra]",
                "wte.weight is [11, 9], expected [11, 8]");
        assertRejected(folder(GPT2.replace("}", ",\"tie_word_embeddings\":false}"), gpt2Keys(""), DType.F32),
                "missing [lm_head.weight]");
        Keys both = gpt2Keys("");
        both.add("transformer.wte.weight", 11, 8);
        assertRejected(folder(GPT2, both, DType.F32), "'transformer.wte.weight' and 'wte.weight' are both wte.weight");
        assertRejected(folder(GPT2, gpt2Keys(""), DType.I64), "has dtype I64, expected F32, F16 or BF16");
    }

    // ---- BERT: C=8, 1 layer, 2 heads, F=16, V=13, 7 positions, 2 token types ------------------

    static final String BERT = "{\"model_type\":\"bert\",\"hidden_size\":8,\"num_hidden_layers\":1,\"num_attention_heads\":2,"
            + "\"intermediate_size\":16,\"vocab_size\":13,\"max_position_embeddings\":7,\"type_vocab_size\":2,\"layer_norm_eps\":1e-12}";

    static Keys bertKeys(String p, String gamma, String beta) {
        Keys k = new Keys().add(p + "embeddings.word_embeddings.weight", 13, 8).add(p + "embeddings.position_embeddings.weight", 7, 8)
                .add(p + "embeddings.token_type_embeddings.weight", 2, 8)
                .add(p + "embeddings.LayerNorm." + gamma, 8).add(p + "embeddings.LayerNorm." + beta, 8);
        String e = p + "encoder.layer.0.";
        for (String q : List.of("query", "key", "value")) {
            k.add(e + "attention.self." + q + ".weight", 8, 8).add(e + "attention.self." + q + ".bias", 8);
        }
        return k.add(e + "attention.output.dense.weight", 8, 8).add(e + "attention.output.dense.bias", 8)
                .add(e + "attention.output.LayerNorm." + gamma, 8).add(e + "attention.output.LayerNorm." + beta, 8)
                .add(e + "intermediate.dense.weight", 16, 8).add(e + "intermediate.dense.bias", 16)
                .add(e + "output.dense.weight", 8, 16).add(e + "output.dense.bias", 8)
                .add(e + "output.LayerNorm." + gamma, 8).add(e + "output.LayerNorm." + beta, 8);
    }

    @Test
    void bertModelAndBertForPreTrainingWithTfEraNames() throws IOException {
        assertEquals(5 + 16, load(folder(BERT, bertKeys("", "weight", "bias"), DType.F32)).size());
        Keys pre = bertKeys("bert.", "gamma", "beta");
        pre.add("bert.pooler.dense.weight", 8, 8).add("bert.pooler.dense.bias", 8)
                .add("cls.predictions.bias", 13).add("cls.predictions.transform.dense.weight", 8, 8)
                .add("cls.predictions.transform.dense.bias", 8).add("cls.predictions.transform.LayerNorm.gamma", 8)
                .add("cls.predictions.transform.LayerNorm.beta", 8).add("cls.predictions.decoder.weight", 13, 8)
                .add("cls.seq_relationship.weight", 2, 8).add("cls.seq_relationship.bias", 2)
                .add("bert.embeddings.position_ids", 1, 7);
        Map<String, String> m = load(folder(BERT, pre, DType.F16));
        assertEquals("bert.encoder.layer.0.output.LayerNorm.gamma", m.get("encoder.layer.0.output.LayerNorm.weight"));
        assertEquals("cls.predictions.transform.LayerNorm.beta", m.get("cls.predictions.transform.LayerNorm.bias"));
        assertEquals(5 + 16 + 2 + 6 + 2, m.size());
        Keys halfPooler = bertKeys("", "weight", "bias");
        halfPooler.add("pooler.dense.weight", 8, 8);
        assertRejected(folder(BERT, halfPooler, DType.F32), "missing [pooler.dense.bias]");
    }

    // ---- T5: C=8, d_kv=4, 2 heads (inner 8), F=12, 2+1 layers, V=17, 32 buckets ------------------

    static String t5Config(String ffn, boolean tie) {
        return "{\"model_type\":\"t5\",\"d_model\":8,\"d_kv\":4,\"d_ff\":12,\"num_layers\":2,\"num_decoder_layers\":1,"
                + "\"num_heads\":2,\"vocab_size\":17,\"relative_attention_num_buckets\":32,\"feed_forward_proj\":\"" + ffn
                + "\",\"tie_word_embeddings\":" + tie + "}";
    }

    static Keys t5Keys(boolean gated) {
        Keys k = new Keys().add("shared.weight", 17, 8);
        for (String stack : List.of("encoder", "decoder")) {
            int layers = stack.equals("encoder") ? 2 : 1;
            for (int i = 0; i < layers; i++) {
                String b = stack + ".block." + i + ".layer.";
                for (String w : List.of("q", "k", "v")) k.add(b + "0.SelfAttention." + w + ".weight", 8, 8);
                k.add(b + "0.SelfAttention.o.weight", 8, 8);
                if (i == 0) k.add(b + "0.SelfAttention.relative_attention_bias.weight", 32, 2);
                k.add(b + "0.layer_norm.weight", 8);
                int ff = 1;
                if (stack.equals("decoder")) {
                    for (String w : List.of("q", "k", "v", "o")) k.add(b + "1.EncDecAttention." + w + ".weight", 8, 8);
                    k.add(b + "1.layer_norm.weight", 8);
                    ff = 2;
                }
                if (gated) k.add(b + ff + ".DenseReluDense.wi_0.weight", 12, 8).add(b + ff + ".DenseReluDense.wi_1.weight", 12, 8);
                else k.add(b + ff + ".DenseReluDense.wi.weight", 12, 8);
                k.add(b + ff + ".DenseReluDense.wo.weight", 8, 12).add(b + ff + ".layer_norm.weight", 8);
            }
            k.add(stack + ".final_layer_norm.weight", 8);
        }
        return k;
    }

    @Test
    void t5V10AndV11() throws IOException {
        Keys v10 = t5Keys(false);
        v10.add("encoder.embed_tokens.weight", 17, 8);                // tied copies are allowed
        assertEquals(v10.size(), load(folder(t5Config("relu", true), v10, DType.F32)).size());
        assertEquals(HfLayout.of(HfConfig.read(folder(t5Config("relu", true), v10, DType.F32))).family(), "t5-v1.0");

        Keys v11 = t5Keys(true);
        v11.add("lm_head.weight", 17, 8);
        assertEquals(v11.size(), load(folder(t5Config("gated-gelu", false), v11, DType.BF16)).size());
        // v1.1 needs its own lm_head, and wi_0/wi_1 instead of wi.
        assertRejected(folder(t5Config("gated-gelu", false), t5Keys(false), DType.F32), "lm_head.weight",
                "decoder.block.0.layer.2.DenseReluDense.wi_0.weight", "unexpected [decoder.block.0.layer.2.DenseReluDense.wi.weight");
        Keys noEmbedding = t5Keys(false);
        noEmbedding.remove("shared.weight");
        assertRejected(folder(t5Config("relu", true), noEmbedding, DType.F32),
                "missing [one of [decoder.embed_tokens.weight, encoder.embed_tokens.weight, shared.weight]]");
        Keys relBiasInBlock1 = t5Keys(false);
        relBiasInBlock1.add("encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight", 32, 2);
        assertRejected(folder(t5Config("relu", true), relBiasInBlock1, DType.F32),
                "unexpected [encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight]");
    }

    // ---- config.json --------------------------------------------------------------------------

    private void assertBadConfig(String config, String problem) throws IOException {
        Path d = Files.createTempDirectory(dir, "cfg");
        Files.writeString(d.resolve("config.json"), config);
        CheckpointException e = assertThrows(CheckpointException.class, () -> HfLayout.of(HfConfig.read(d)));
        assertTrue(e.getMessage().startsWith(d.resolve("config.json").toString()) && e.getMessage().contains(problem),
                "expected '" + problem + "' in " + e.getMessage());
    }

    @Test
    void malformedConfigJsonIsNamed() throws IOException {
        assertBadConfig("", "not valid JSON");
        assertBadConfig("{\"model_type\":\"gpt2\",", "not valid JSON");
        assertBadConfig("[]", "not a JSON object");
        assertBadConfig("{\"model_type\":\"gpt2\",\"model_type\":\"bert\"}", "Duplicate field 'model_type'");
        assertBadConfig("{\"n_embd\":8}", "no 'model_type'");
        assertBadConfig("{\"model_type\":\"llama\"}", "model_type 'llama' is not one of gpt2, bert, roberta, xlm-roberta, camembert, distilbert, modernbert, mpnet, electra, deberta-v2, albert, t5");
        assertBadConfig(GPT2.replace("\"n_embd\":8,", ""), "no 'n_embd'");
        assertBadConfig(GPT2.replace("\"n_head\":2", "\"n_head\":\"two\""), "field 'n_head' is \"two\", expected a positive integer");
        assertBadConfig(GPT2.replace("\"n_layer\":2", "\"n_layer\":-2"), "field 'n_layer' is -2");
        assertBadConfig(GPT2.replace("\"n_layer\":2", "\"n_layer\":2.5"), "field 'n_layer' is 2.5");
        assertBadConfig(GPT2.replace("\"n_head\":2", "\"n_head\":3"), "n_embd 8 is not divisible by 3");
        assertBadConfig(GPT2.replace("}", ",\"tie_word_embeddings\":\"yes\"}"), "expected true or false");
        assertBadConfig(t5Config("swish", true), "feed_forward_proj 'swish'");
        assertBadConfig(GPT2.replace("\"n_layer\":2", "\"n_layer\":2000000000"), "more than 1024 layers");
        assertBadConfig(GPT2.replace("\"n_embd\":8", "\"n_embd\":2147483646"), "field 'n_embd' is 2147483646, more than");
        assertBadConfig(GPT2.replace("\"n_layer\":2", "\"n_layer\":3000000000"), "field 'n_layer' is 3000000000, expected a positive integer");
        Path none = dir.resolve("nothing-here");
        Files.createDirectories(none);
        CheckpointException e = assertThrows(CheckpointException.class, () -> HfConfig.read(none));
        assertTrue(e.getMessage().contains("config.json: no such file"), e.getMessage());
    }

    @Test
    void layoutsAreSelfConsistent() throws IOException {
        Consumer<HfLayout> check = l -> {
            assertTrue(l.shapes().keySet().containsAll(l.required()));
            assertTrue(l.shapes().keySet().containsAll(l.optional()));
            for (String t : l.transposed()) assertEquals(2, l.shapes().get(t).length, t);
        };
        check.accept(HfLayout.of(HfConfig.read(folder(GPT2, gpt2Keys(""), DType.F32))));
        check.accept(HfLayout.of(HfConfig.read(folder(BERT, bertKeys("", "weight", "bias"), DType.F32))));
        check.accept(HfLayout.of(HfConfig.read(folder(t5Config("gated-gelu", false), t5Keys(true), DType.F32))));
    }

    @Test
    void randomlyDamagedConfigsAreRejectedCleanlyOrGiveALayout() throws IOException {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        Object[] values = {null, -1, 0, 1, 3, 7, 1025, Integer.MAX_VALUE, 4294967296L, 1e300, 2.5, "", "gpt2", "bert", "t5",
                "gated-gelu", true, List.of(), Map.of()};
        Random r = new Random(9);
        int rejected = 0;
        for (int seed = 0; seed < 300; seed++) {
            String base = List.of(GPT2, BERT, t5Config("relu", true), t5Config("gated-gelu", false)).get(seed % 4);
            var root = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(base);
            List<String> fields = new java.util.ArrayList<>();
            root.fieldNames().forEachRemaining(fields::add);
            for (int k = 0, n = 1 + r.nextInt(3); k < n; k++) {
                String f = fields.get(r.nextInt(fields.size()));
                if (r.nextInt(4) == 0) root.remove(f);
                else root.set(f, json.valueToTree(values[r.nextInt(values.length)]));
            }
            Path d = Files.createTempDirectory(dir, "fuzz");
            Files.writeString(d.resolve("config.json"), json.writeValueAsString(root));
            try {
                HfLayout l = HfLayout.of(HfConfig.read(d));
                assertTrue(l.shapes().size() < 100_000, "seed " + seed);
            } catch (CheckpointException e) {
                assertTrue(e.getMessage().startsWith(d.resolve("config.json").toString()), e.getMessage());
                rejected++;
            } catch (RuntimeException | Error e) {
                org.junit.jupiter.api.Assertions.fail("seed " + seed + ": unchecked " + e + " for " + root, e);
            }
        }
        assertTrue(rejected > 100, "only " + rejected + " of 300 damaged configs were rejected");
    }
}
