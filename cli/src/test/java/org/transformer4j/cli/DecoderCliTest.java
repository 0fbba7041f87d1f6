// DecoderCliTest — `t4j generate` and `t4j chat` as a user runs them on RoPE decoder folders (Llama, Qwen3,
// Mistral: the reference harness's tiny checkpoints with a word-level tokenizer, a ChatML template and a
// generation_config.json): the printed text equals Generator's tokens for the same prompt, the end-of-sequence
// id ends the reply without being printed, and the chat's reply equals generating from the conversation
// written out by hand in ChatML (not rendered by the template engine under test).
package org.transformer4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.model.Generator;
import org.transformer4j.model.Pretrained;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.Weights;
import org.transformer4j.model.tokenizer.HfTokenizer;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.CpuBackend;

class DecoderCliTest {

    /** What Generator gives for {@code prompt} (greedy, {@code max} tokens, stopping at {@code eos}), as text without the eos. */
    private static String expected(Path model, int[] prompt, int max, Set<Integer> eos) throws Exception {
        return expected(model, prompt, Generator.Options.greedy(max), eos);
    }

    /** What Generator gives for {@code prompt} under {@code o}, stopping at {@code eos}, as text without the eos. */
    static String expected(Path model, int[] prompt, Generator.Options o, Set<Integer> eos) throws Exception {
        try (Backend b = new CpuBackend(); Weights w = Pretrained.load(model, b); HfTokenizer tok = HfTokenizer.load(model)) {
            int[] ids = new Generator(new Transformer(w, b)).generate(prompt, o.stopIds(eos), null);
            int n = ids.length > 0 && eos.contains(ids[ids.length - 1]) ? ids.length - 1 : ids.length;
            return tok.decode(Arrays.copyOf(ids, n), false);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "qwen3", "mistral"})
    void generateAndChatOnARopeDecoderFolder(String name, @TempDir Path dir) throws Exception {
        Path model = ChatFolder.decoder(dir.resolve(name), name);
        int v = ChatFolder.vocabSize(model);
        int configEos;
        try (Backend b = new CpuBackend(); Weights w = Pretrained.load(model, b)) {
            configEos = w.config.specialIds().eos();
        }
        Set<Integer> eos = configEos >= 0 ? Set.of(ChatFolder.imEnd(v), configEos) : Set.of(ChatFolder.imEnd(v));

        String prompt = "the cat sat on the mat";
        CliProcess.Result gen = CliProcess.run(dir, "generate", "--model", model.toString(), prompt, "--max-new-tokens", "12");
        assertEquals(0, gen.exit(), gen.all());
        int[] promptIds;
        try (HfTokenizer tok = HfTokenizer.load(model)) {
            promptIds = tok.encode(prompt);
        }
        String wantGen = expected(model, promptIds, 12, eos);
        assertTrue(!wantGen.isBlank(), "the random model generates some text");
        assertEquals(wantGen, gen.out().strip(), gen.all());

        CliProcess.Result chat = CliProcess.runWithInput(dir, "hello how are you ?\n/exit\n", "chat", "--model", model.toString());
        assertEquals(0, chat.exit(), chat.all());
        int[] chatPrompt;
        try (HfTokenizer tok = HfTokenizer.load(model)) {
            chatPrompt = tok.encode("<|im_start|>user\nhello how are you ?<|im_end|>\n<|im_start|>assistant\n", false);
        }
        // generation_config.json's max_new_tokens (5); the chat stops at the eos ids of its two config files
        String want = expected(model, chatPrompt, 5, Set.of(ChatFolder.imEnd(v)));
        assertEquals(want, chat.out().lines().findFirst().orElse(""), chat.all());
        assertTrue(chat.err().contains("chat template from tokenizer_config.json"), chat.all());
    }

    /**
     * `t4j generate --lora DIR` on a Llama folder: the printed text is the merged model's (LoraAdapter, checked against
     * weights merged by hand in LoraAdapterTest), not the base's; a folder that is no adapter fails in one line.
     */
    @org.junit.jupiter.api.Test
    void generateMergesALoraAdapter(@TempDir Path dir) throws Exception {
        Path model = ChatFolder.decoder(dir.resolve("llama"), "llama");
        Path adapter = adapter(dir.resolve("adapter"), model, 11, "model.layers.0.self_attn.o_proj", "model.layers.1.mlp.up_proj");
        String prompt = "the cat sat on the mat";
        CliProcess.Result gen = CliProcess.run(dir, "generate", "--model", model.toString(), prompt, "--max-new-tokens", "12", "--lora", adapter.toString());
        assertEquals(0, gen.exit(), gen.all());
        String merged, base;
        try (Backend b = new CpuBackend(); HfTokenizer tok = HfTokenizer.load(model);
             Weights w = Pretrained.load(model, b, org.transformer4j.runtime.DType.F32, org.transformer4j.model.LoraAdapter.read(adapter));
             Weights plain = Pretrained.load(model, b)) {
            int[] ids = tok.encode(prompt);
            merged = tok.decode(new Generator(new Transformer(w, b)).generate(ids, Generator.Options.greedy(12), null), false);
            base = tok.decode(new Generator(new Transformer(plain, b)).generate(ids, Generator.Options.greedy(12), null), false);
        }
        assertTrue(!merged.equals(base), "the adapter changes the reply: " + merged);
        assertTrue(merged.startsWith(gen.out().strip()) && !gen.out().isBlank(), "printed " + gen.out() + ", merged model " + merged);
        CliProcess.Result bad = CliProcess.run(dir, "generate", "--model", model.toString(), prompt, "--lora", dir.toString());
        assertEquals(1, bad.exit(), bad.all());
        assertTrue(bad.err().contains("no adapter_config.json"), bad.all());
    }

    /** A PEFT adapter folder (r 8, alpha 32) of random A and B for {@code modules} of the model folder (their shapes read from it). */
    static Path adapter(Path adapter, Path model, long seed, String... modules) throws Exception {
        java.nio.file.Files.createDirectories(adapter);
        java.nio.file.Files.writeString(adapter.resolve("adapter_config.json"), "{\"peft_type\": \"LORA\", \"r\": 8, \"lora_alpha\": 32,"
                + " \"bias\": \"none\"}");
        java.util.Map<String, org.transformer4j.runtime.Tensor> t = new java.util.LinkedHashMap<>();
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(seed);
        try (org.transformer4j.model.weights.SafetensorsCheckpoint ck = org.transformer4j.model.weights.SafetensorsCheckpoint.open(model)) {
            for (String m : modules) {
                long[] shape = ck.tensor(m + ".weight").shape();
                t.put("base_model.model." + m + ".lora_A.weight", random(rnd, 8, shape[1]));
                t.put("base_model.model." + m + ".lora_B.weight", random(rnd, shape[0], 8));
            }
        }
        org.transformer4j.model.weights.SafetensorsWriter.write(adapter.resolve("adapter_model.safetensors"), t, java.util.Map.of("format", "pt"));
        return adapter;
    }

    static org.transformer4j.runtime.Tensor random(java.util.SplittableRandom rnd, long rows, long cols) {
        float[] v = new float[(int) (rows * cols)];
        for (int i = 0; i < v.length; i++) v[i] = (float) rnd.nextDouble(-0.3, 0.3);
        return org.transformer4j.runtime.Tensor.ofFloats(v, rows, cols);
    }

    /**
     * `t4j embed` on decoder-only sentence-transformers folders: Qwen3 with last-token pooling (Qwen3-Embedding's
     * layout) and EmbeddingGemma's bidirectional model (base layout) with mean pooling; both normalized. The printed
     * vector is the in-process lastHiddenStates pooled the same way.
     */
    @ParameterizedTest
    @ValueSource(strings = {"qwen3", "embeddinggemma"})
    void embedFollowsADecoderSentenceTransformersFolder(String name, @TempDir Path dir) throws Exception {
        Path model = ChatFolder.decoder(dir.resolve(name), name);
        boolean last = name.equals("qwen3");
        java.nio.file.Files.writeString(model.resolve("modules.json"), "[{\"idx\": 0, \"name\": \"0\", \"path\": \"\", \"type\": "
                + "\"sentence_transformers.models.Transformer\"}, {\"idx\": 1, \"name\": \"1\", \"path\": \"1_Pooling\", \"type\": "
                + "\"sentence_transformers.models.Pooling\"}, {\"idx\": 2, \"name\": \"2\", \"path\": \"2_Normalize\", \"type\": "
                + "\"sentence_transformers.models.Normalize\"}]");
        java.nio.file.Files.createDirectories(model.resolve("1_Pooling"));
        java.nio.file.Files.writeString(model.resolve("1_Pooling/config.json"), "{\"pooling_mode_lasttoken\": " + last
                + ", \"pooling_mode_mean_tokens\": " + !last + "}");
        String sentence = "the cat sat on the mat";
        CliProcess.Result r = CliProcess.run(dir, "embed", "--model", model.toString(), sentence);
        assertEquals(0, r.exit(), r.all());
        assertTrue(r.err().contains((last ? "lasttoken" : "mean") + " pooling, normalized"), r.err());
        double[] got = Arrays.stream(r.out().strip().split(" ")).mapToDouble(Double::parseDouble).toArray();
        try (Backend b = new CpuBackend(); Weights w = Pretrained.loadEncoder(model, b, org.transformer4j.runtime.DType.F32);
             HfTokenizer tok = HfTokenizer.load(model)) {
            float[][] h = new Transformer(w, b).lastHiddenStates(java.util.List.of(tok.encode(sentence))).get(0);
            double[] v = new double[h[0].length];
            for (int t = 0; t < h.length; t++) {
                for (int c = 0; c < v.length; c++) v[c] += last ? (t == h.length - 1 ? h[t][c] : 0) : h[t][c] / h.length;
            }
            double n = Math.sqrt(Arrays.stream(v).map(x -> x * x).sum());
            assertEquals(v.length, got.length, r.out());
            for (int c = 0; c < v.length; c++) assertEquals(v[c] / n, got[c], 1e-5, "component " + c);
        }
    }
}
