// BertFolder — writes a small Hugging Face BERT folder (config.json, model.safetensors in BertModel's
// key names, and a WordPiece tokenizer.json over a 24-word vocabulary) with random weights: a real
// encoder folder for `t4j embed`, without a download.
package org.transformer4j.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.transformer4j.model.weights.SafetensorsWriter;
import org.transformer4j.runtime.Tensor;

final class BertFolder {

    static final List<String> VOCAB = List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "a", "cat", "dog", "sat",
            "ran", "on", "mat", "in", "park", "kernels", "are", "fast", "gpu", "##s", ".", ",", "is", "slow");
    /** Width 64 in 2 heads: head size 32, one the attention kernels support. */
    static final int C = 64;
    static final int HEADS = 2;
    static final int LAYERS = 2;
    static final int F = 128;
    static final int POSITIONS = 32;

    private BertFolder() {}

    static Path write(Path dir, long seed) throws IOException {
        Files.createDirectories(dir);
        int v = VOCAB.size();
        SplittableRandom rnd = new SplittableRandom(seed);
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("embeddings.word_embeddings.weight", random(rnd, 0.5, v, C));
        t.put("embeddings.position_embeddings.weight", random(rnd, 0.1, POSITIONS, C));
        t.put("embeddings.token_type_embeddings.weight", random(rnd, 0.1, 2, C));
        norm(t, rnd, "embeddings.LayerNorm");
        for (int i = 0; i < LAYERS; i++) {
            String e = "encoder.layer." + i + ".";
            linear(t, rnd, e + "attention.self.query", C, C);
            linear(t, rnd, e + "attention.self.key", C, C);
            linear(t, rnd, e + "attention.self.value", C, C);
            linear(t, rnd, e + "attention.output.dense", C, C);
            norm(t, rnd, e + "attention.output.LayerNorm");
            linear(t, rnd, e + "intermediate.dense", C, F);
            linear(t, rnd, e + "output.dense", F, C);
            norm(t, rnd, e + "output.LayerNorm");
        }
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"bert\", \"hidden_size\": " + C
                + ", \"num_hidden_layers\": " + LAYERS + ", \"num_attention_heads\": " + HEADS + ", \"intermediate_size\": " + F
                + ", \"vocab_size\": " + v + ", \"max_position_embeddings\": " + POSITIONS
                + ", \"type_vocab_size\": 2, \"hidden_act\": \"gelu\", \"layer_norm_eps\": 1e-12, \"pad_token_id\": 0}");
        SafetensorsWriter.write(dir.resolve("model.safetensors"), t, Map.of("format", "pt"));
        Files.writeString(dir.resolve("tokenizer.json"), tokenizerJson());
        return dir;
    }

    /** A BERT-style WordPiece tokenizer: lower-casing normaliser, [CLS] … [SEP] around each sentence. */
    static String tokenizerJson() {
        StringBuilder vocab = new StringBuilder();
        StringBuilder added = new StringBuilder();
        for (int i = 0; i < VOCAB.size(); i++) {
            String w = VOCAB.get(i);
            vocab.append(i == 0 ? "" : ", ").append('"').append(w).append("\": ").append(i);
            if (w.startsWith("[")) {
                added.append(added.isEmpty() ? "" : ", ").append("{\"id\": ").append(i).append(", \"content\": \"").append(w)
                        .append("\", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": true}");
            }
        }
        return "{\"version\": \"1.0\", \"truncation\": null, \"padding\": null, \"added_tokens\": [" + added + "],"
                + " \"normalizer\": {\"type\": \"BertNormalizer\", \"clean_text\": true, \"handle_chinese_chars\": true,"
                + " \"strip_accents\": null, \"lowercase\": true},"
                + " \"pre_tokenizer\": {\"type\": \"BertPreTokenizer\"},"
                + " \"post_processor\": {\"type\": \"BertProcessing\", \"sep\": [\"[SEP]\", 3], \"cls\": [\"[CLS]\", 2]},"
                + " \"decoder\": {\"type\": \"WordPiece\", \"prefix\": \"##\", \"cleanup\": true},"
                + " \"model\": {\"type\": \"WordPiece\", \"unk_token\": \"[UNK]\", \"continuing_subword_prefix\": \"##\","
                + " \"max_input_chars_per_word\": 100, \"vocab\": {" + vocab + "}}}";
    }

    private static void linear(Map<String, Tensor> t, SplittableRandom rnd, String name, int in, int out) {
        t.put(name + ".weight", random(rnd, 1.0 / Math.sqrt(in), out, in));   // nn.Linear: (out, in)
        t.put(name + ".bias", random(rnd, 0.02, out));
    }

    private static void norm(Map<String, Tensor> t, SplittableRandom rnd, String name) {
        float[] w = new float[C];
        java.util.Arrays.fill(w, 1f);
        t.put(name + ".weight", Tensor.ofFloats(w, C));
        t.put(name + ".bias", random(rnd, 0.02, C));
    }

    private static Tensor random(SplittableRandom rnd, double scale, long... shape) {
        int n = 1;
        for (long d : shape) n *= (int) d;
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (rnd.nextGaussian() * scale);
        return Tensor.ofFloats(a, shape);
    }
}
