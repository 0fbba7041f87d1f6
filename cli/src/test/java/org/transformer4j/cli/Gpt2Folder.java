// Gpt2Folder — writes a small Hugging Face GPT-2 folder (config.json + model.safetensors in GPT-2's own
// key names and Conv1D layouts) with random weights and GPT-2's 50,257-token vocabulary, so the tiktoken
// tokenizer applies: a real model folder for the commands that load one, without a download.
package org.transformer4j.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.transformer4j.model.weights.SafetensorsWriter;
import org.transformer4j.runtime.Tensor;

final class Gpt2Folder {

    static final int V = 50257;
    /** Width 64 in 2 heads: head size 32, one the attention kernels support. */
    static final int C = 64;
    static final int HEADS = 2;
    static final int LAYERS = 2;
    static final int POSITIONS = 32;

    private Gpt2Folder() {}

    static Path write(Path dir, long seed) throws IOException {
        return write(dir, seed, V, POSITIONS);
    }

    /** The same shape with another vocabulary size and number of positions (for folders with their own tokenizer.json). */
    static Path write(Path dir, long seed, int V, int POSITIONS) throws IOException {
        Files.createDirectories(dir);
        SplittableRandom rnd = new SplittableRandom(seed);
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("wte.weight", random(rnd, 0.1, V, C));
        t.put("wpe.weight", random(rnd, 0.02, POSITIONS, C));
        for (int i = 0; i < LAYERS; i++) {
            String h = "h." + i + ".";
            t.put(h + "ln_1.weight", ones(C));
            t.put(h + "ln_1.bias", random(rnd, 0.02, C));
            t.put(h + "attn.c_attn.weight", random(rnd, 0.2, C, 3 * C));   // Conv1D: (in, out)
            t.put(h + "attn.c_attn.bias", random(rnd, 0.02, 3 * C));
            t.put(h + "attn.c_proj.weight", random(rnd, 0.1, C, C));
            t.put(h + "attn.c_proj.bias", random(rnd, 0.02, C));
            t.put(h + "ln_2.weight", ones(C));
            t.put(h + "ln_2.bias", random(rnd, 0.02, C));
            t.put(h + "mlp.c_fc.weight", random(rnd, 0.1, C, 4 * C));
            t.put(h + "mlp.c_fc.bias", random(rnd, 0.02, 4 * C));
            t.put(h + "mlp.c_proj.weight", random(rnd, 0.1, 4 * C, C));
            t.put(h + "mlp.c_proj.bias", random(rnd, 0.02, C));
        }
        t.put("ln_f.weight", ones(C));
        t.put("ln_f.bias", random(rnd, 0.02, C));
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"gpt2\", \"n_embd\": " + C + ", \"n_layer\": " + LAYERS
                + ", \"n_head\": " + HEADS + ", \"n_positions\": " + POSITIONS + ", \"vocab_size\": " + V
                + ", \"layer_norm_epsilon\": 1e-05, \"activation_function\": \"gelu_new\"}");
        SafetensorsWriter.write(dir.resolve("model.safetensors"), t, Map.of("format", "pt"));
        return dir;
    }

    private static Tensor random(SplittableRandom rnd, double scale, long... shape) {
        int n = 1;
        for (long d : shape) n *= (int) d;
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (rnd.nextGaussian() * scale);
        return Tensor.ofFloats(a, shape);
    }

    private static Tensor ones(int n) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, 1f);
        return Tensor.ofFloats(a, n);
    }
}
