// JlamaDecode — the CPU peer for generation: the same random GPT-2-small checkpoint (a Hugging Face GPT-2
// folder written here: config.json, model.safetensors, a byte-level tokenizer.json) loaded by transformer4j
// (Pretrained.load, Generator) and by Jlama (com.github.tjake:jlama-core, ModelSupport.loadModel, generate),
// batch 1, F32, greedy; prompt time and decode ms/token side by side. Run: ./t4j run JlamaDecode [prompt] [new] [runs].
package org.transformer4j.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tjake.jlama.model.AbstractModel;
import com.github.tjake.jlama.model.ModelSupport;
import com.github.tjake.jlama.safetensors.prompt.PromptContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import org.transformer4j.model.Generator;
import org.transformer4j.model.Pretrained;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.Weights;
import org.transformer4j.model.weights.SafetensorsWriter;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.Backends;
import org.transformer4j.runtime.Tensor;

/**
 * Usage: {@code ./t4j run JlamaDecode [promptTokens] [newTokens] [runs]} (defaults 128, 128, 2; the first run
 * of each warms up). The prompt is the letter x repeated: one token per letter in the byte-level vocabulary
 * written here (no merges), id 120 for both libraries. Jlama's time is its own report (promptTimeMs,
 * generateTimeMs over the tokens after the first); ours is measured the same way around Generator.
 */
public final class JlamaDecode {

    private JlamaDecode() {}

    static final int C = 768, L = 12, H = 12, V = 50257, P = 1024;

    public static void main(String[] args) throws Exception {
        int prompt = args.length > 0 ? Integer.parseInt(args[0]) : 128;
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 128;
        int runs = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        if (prompt < 1 || steps < 2 || runs < 1 || prompt + steps > P) {
            throw new IllegalArgumentException("need prompt ≥ 1, new ≥ 2, runs ≥ 1, prompt + new ≤ " + P);
        }
        Path dir = Files.createTempDirectory("t4j-gpt2-small-random");
        try {
            writeCheckpoint(dir, 42);
            int[] ids = new int[prompt];
            Arrays.fill(ids, 'x');
            try (Backend backend = Backends.select(); Weights w = Pretrained.load(dir, backend)) {
                Generator g = new Generator(new Transformer(w, backend));
                for (int r = 0; r < runs + 1; r++) {
                    long[] first = {0};
                    long start = System.nanoTime();
                    g.generate(ids, Generator.Options.greedy(steps), (s, t) -> { if (first[0] == 0) first[0] = System.nanoTime(); });
                    long end = System.nanoTime();
                    if (r > 0) System.out.printf("transformer4j (%s): prompt %d tokens %.0f ms, decode %.1f ms/token%n", backend.kind(),
                            prompt, (first[0] - start) / 1e6, (end - first[0]) / 1e6 / (steps - 1));
                }
            }
            AbstractModel jlama = ModelSupport.loadModel(dir.toFile(), com.github.tjake.jlama.safetensors.DType.F32,
                    com.github.tjake.jlama.safetensors.DType.F32);
            try {
                for (int r = 0; r < runs + 1; r++) {
                    var res = jlama.generate(UUID.randomUUID(), PromptContext.of("x".repeat(prompt)), 0f, prompt + steps, (s, f) -> {});
                    if (res.promptTokens != prompt) throw new IllegalStateException("Jlama read " + res.promptTokens + " prompt tokens, not " + prompt);
                    if (r > 0) System.out.printf("Jlama 0.8.4 (CPU): prompt %d tokens %d ms, decode %.1f ms/token (%d tokens)%n", prompt,
                            res.promptTimeMs, res.generateTimeMs / (double) Math.max(1, res.generatedTokens), res.generatedTokens);
                }
            } finally {
                jlama.close();
            }
        } finally {
            try (var files = Files.list(dir)) { for (Path f : files.toList()) Files.delete(f); }
            Files.delete(dir);
        }
    }

    /** A GPT-2-small Hugging Face folder with N(0, 0.02) weights, unit LayerNorms and zero biases. */
    static void writeCheckpoint(Path dir, long seed) throws IOException {
        SplittableRandom rnd = new SplittableRandom(seed);
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("wte.weight", normal(rnd, V, C));
        t.put("wpe.weight", normal(rnd, P, C));
        for (int i = 0; i < L; i++) {
            String p = "h." + i + ".";
            t.put(p + "ln_1.weight", fill(1f, C));
            t.put(p + "ln_1.bias", fill(0f, C));
            t.put(p + "attn.c_attn.weight", normal(rnd, C, 3 * C));        // Conv1D: (in, out)
            t.put(p + "attn.c_attn.bias", fill(0f, 3 * C));
            t.put(p + "attn.c_proj.weight", normal(rnd, C, C));
            t.put(p + "attn.c_proj.bias", fill(0f, C));
            t.put(p + "ln_2.weight", fill(1f, C));
            t.put(p + "ln_2.bias", fill(0f, C));
            t.put(p + "mlp.c_fc.weight", normal(rnd, C, 4 * C));
            t.put(p + "mlp.c_fc.bias", fill(0f, 4 * C));
            t.put(p + "mlp.c_proj.weight", normal(rnd, 4 * C, C));
            t.put(p + "mlp.c_proj.bias", fill(0f, C));
        }
        t.put("ln_f.weight", fill(1f, C));
        t.put("ln_f.bias", fill(0f, C));
        try {
            SafetensorsWriter.write(dir.resolve("model.safetensors"), t, Map.of("format", "pt"));
        } finally {
            t.values().forEach(Tensor::close);
        }
        ObjectMapper json = new ObjectMapper();
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("model_type", "gpt2");
        cfg.put("architectures", List.of("GPT2LMHeadModel"));
        cfg.put("n_ctx", P); cfg.put("n_embd", C); cfg.put("n_head", H); cfg.put("n_layer", L); cfg.put("n_positions", P);
        cfg.put("vocab_size", V); cfg.put("layer_norm_epsilon", 1e-5); cfg.put("activation_function", "gelu_new");
        cfg.put("bos_token_id", V - 1); cfg.put("eos_token_id", V - 1);
        json.writeValue(dir.resolve("config.json").toFile(), cfg);
        json.writeValue(dir.resolve("tokenizer.json").toFile(), byteLevelTokenizer());
    }

    /** Byte-level BPE without merges: ids 0-255 are the bytes (GPT-2's byte → character map), then fillers, then <|endoftext|>. */
    static Map<String, Object> byteLevelTokenizer() {
        char[] u = new char[256];
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
            u[b] = printable ? (char) b : (char) (256 + n++);
        }
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (int b = 0; b < 256; b++) vocab.put(String.valueOf(u[b]), b);
        for (int i = 256; i < V - 1; i++) vocab.put("<f" + i + ">", i);
        vocab.put("<|endoftext|>", V - 1);
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("type", "BPE"); model.put("dropout", null); model.put("unk_token", null);
        model.put("continuing_subword_prefix", ""); model.put("end_of_word_suffix", ""); model.put("fuse_unk", false);
        model.put("vocab", vocab); model.put("merges", List.of());
        Map<String, Object> tok = new LinkedHashMap<>();
        tok.put("version", "1.0");
        tok.put("added_tokens", List.of(Map.of("id", V - 1, "content", "<|endoftext|>", "special", true, "single_word", false,
                "lstrip", false, "rstrip", false, "normalized", false)));
        tok.put("normalizer", null);
        tok.put("pre_tokenizer", Map.of("type", "ByteLevel", "add_prefix_space", false, "trim_offsets", true));
        tok.put("post_processor", null);
        tok.put("decoder", Map.of("type", "ByteLevel", "add_prefix_space", true, "trim_offsets", true));
        tok.put("model", model);
        return tok;
    }

    private static Tensor normal(SplittableRandom rnd, int rows, int cols) {
        float[] a = new float[rows * cols];
        for (int i = 0; i < a.length; i++) a[i] = (float) (gaussian(rnd) * 0.02);
        return Tensor.ofFloats(a, rows, cols);
    }

    private static double gaussian(SplittableRandom rnd) {       // Box–Muller
        return Math.sqrt(-2 * Math.log(1 - rnd.nextDouble())) * Math.cos(2 * Math.PI * rnd.nextDouble());
    }

    private static Tensor fill(float v, int n) {
        float[] a = new float[n];
        Arrays.fill(a, v);
        return Tensor.ofFloats(a, n);
    }
}
