// CliProcessTest — each command run as a process on the CPU backend: info, demo (ops, MiniLM similarity
// matrix, the four-step table, the chat cost table), inspect on a logits
// file (table and HTML page), --help everywhere, and bad input: one line on stderr, a non-zero exit,
// no stack trace unless --verbose.
package org.transformer4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.cli.inspect.HtmlReport;
import org.transformer4j.model.weights.SafetensorsWriter;
import org.transformer4j.runtime.Tensor;

class CliProcessTest {

    @TempDir
    Path dir;

    static final List<String> VOCAB = List.of("<s>", "The", " cat", " sat", " on", " the", " mat", ".", " <b>&\"", "\n");

    /** A logits file: T = ids.length rows over VOCAB, random logits from {@code seed}, plus an attention tensor. */
    static Path logitsFile(Path dir, int[] ids, long seed) throws IOException {
        int t = ids.length;
        int v = VOCAB.size();
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] l = new float[t * v];
        for (int i = 0; i < l.length; i++) l[i] = (float) (rnd.nextGaussian() * 2);
        float[] att = new float[2 * t * t];   // [H=2, T, T], causal rows summing to 1
        for (int h = 0; h < 2; h++) {
            for (int i = 0; i < t; i++) {
                for (int j = 0; j <= i; j++) att[(h * t + i) * t + j] = 1f / (i + 1);
            }
        }
        List<String> quoted = new ArrayList<>();
        for (String s : VOCAB) quoted.add(HtmlReport.json(s));
        Path file = dir.resolve("logits.safetensors");
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("logits", Tensor.ofFloats(l, t, v));
        tensors.put("ids", Tensor.ofInts(ids, t));
        tensors.put("attention", Tensor.ofFloats(att, 2, t, t));
        SafetensorsWriter.write(file, tensors, Map.of("t4j.vocab", "[" + String.join(",", quoted) + "]"));
        return file;
    }

    private static void assertOneLineError(CliProcess.Result r, String expected) {
        assertEquals(1, r.exit(), r.all());
        assertEquals(1, r.err().lines().count(), r.all());
        assertEquals(expected, r.err().strip(), r.all());
        assertFalse(r.err().contains("Exception") || r.err().contains("\tat "), r.all());
    }

    @Test
    void infoNamesTheCpuBackend() throws Exception {
        CliProcess.Result r = CliProcess.run(dir, "info");
        assertEquals(0, r.exit(), r.all());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("backend:  cpu")), r.all());
    }

    @Test
    void infoWithAModelPrintsTheLoadTimeAndPeakHostMemory() throws Exception {
        Path model = Gpt2Folder.write(dir.resolve("gpt2"), 5);
        int c = Gpt2Folder.C, l = Gpt2Folder.LAYERS;
        long params = (long) Gpt2Folder.V * c + (long) Gpt2Folder.POSITIONS * c + 2L * c
                + l * (2L * c + 3L * c * c + 3L * c + (long) c * c + c + 2L * c + 4L * c * c + 4L * c + 4L * c * c + c);
        for (String dt : new String[] {"f32", "bf16"}) {
            CliProcess.Result r = CliProcess.run(dir, "info", "--model", model.toString(), "--dtype", dt);
            assertEquals(0, r.exit(), r.all());
            String out = r.out();
            assertTrue(out.contains(String.format(java.util.Locale.ROOT, "%,d parameters", params)), r.all());
            assertTrue(out.lines().anyMatch(x -> x.matches("load: +[0-9.]+ s on cpu.*")), r.all());
            assertTrue(out.lines().anyMatch(x -> x.matches("memory: +peak RSS [0-9,.]+ MB.*")), r.all());
            assertTrue(out.lines().anyMatch(x -> x.matches("heap: +[0-9,.]+ MB allocated during the load.*")), r.all());
            // stored F32: loaded as f32 the token table and the norms stay views of the mapped file; as bf16 all is converted
            assertEquals(dt.equals("f32"), out.lines().anyMatch(x -> x.startsWith("mapped:")), r.all());
        }
    }

    /**
     * `t4j info --model` on an AWQ folder: with -Dt4j.quant=packed its 14 projections are kept in 4 bits and said so, the
     * parameter count the dequantized load's; the CPU's default load (dequantized) has no such line.
     */
    @Test
    void infoOnAnAwqFolderSaysWhatStaysInFourBits() throws Exception {
        Path model = org.transformer4j.model.TestFolders.fixture("qwen2-awq");
        String[] args = {"info", "--model", model.toString(), "--dtype", "bf16"};
        List<String> cmd = new java.util.ArrayList<>(CliProcess.command(args));
        cmd.add(1, "-Dt4j.quant=packed");
        CliProcess.Result packed = CliProcess.runCommand(dir, cmd, "t4j info --model qwen2-awq (-Dt4j.quant=packed)");
        CliProcess.Result plain = CliProcess.run(dir, args);
        assertEquals(0, packed.exit(), packed.all());
        assertEquals(0, plain.exit(), plain.all());
        assertTrue(packed.out().lines().anyMatch(x -> x.matches("4-bit: +14 projections kept as the AWQ / GPTQ folder packs them, .*")), packed.all());
        assertFalse(plain.out().contains("4-bit:"), plain.all());
        java.util.function.Function<String, String> params = out -> out.lines().filter(x -> x.startsWith("model:")).findFirst().orElseThrow()
                .replaceAll(".* ([0-9,]+) parameters.*", "$1");
        assertEquals(params.apply(plain.out()), params.apply(packed.out()), packed.all());
    }

    @Test
    void demoMatchesEveryOp() throws Exception {
        CliProcess.Result r = CliProcess.run(dir, "demo");
        assertEquals(0, r.exit(), r.all());
        assertTrue(r.out().contains("all ops match the float64 reference"), r.all());
        List<String> lines = r.out().lines().toList();

        // MiniLM: a symmetric 6 x 6 cosine matrix with ones on the diagonal; the paraphrase pairs [0]/[1]
        // (guitar) and [2]/[3] (stock market) score above every pair across topics
        int at = indexOf(lines, l -> l.startsWith("  cosine"), r);
        double[][] sim = new double[6][];
        for (int i = 0; i < 6; i++) {
            String[] f = lines.get(at + 1 + i).strip().split("\\s+");
            assertEquals("[" + i + "]", f[0], r.all());
            sim[i] = new double[6];
            for (int j = 0; j < 6; j++) sim[i][j] = Double.parseDouble(f[j + 1]);
        }
        for (int i = 0; i < 6; i++) {
            assertEquals(1.0, sim[i][i], 1e-3, r.all());
            for (int j = 0; j < 6; j++) assertEquals(sim[i][j], sim[j][i], 1e-3, r.all());
        }
        for (int i = 0; i < 6; i++) {
            for (int j = i + 1; j < 6; j++) {
                if ((i == 0 && j == 1) || (i == 2 && j == 3)) continue;
                assertTrue(sim[0][1] > sim[i][j] && sim[2][3] > sim[i][j], "pair " + i + "/" + j + ":\n" + r.all());
            }
        }

        // the four steps: steps 1–3 give the prefix-LM, all four the decoder-only model, to 1e-5; each step changes the logits
        double[] three = numbers(lines.get(indexOf(lines, l -> l.strip().startsWith("+3 "), r)));   // params, prev, plm, dec
        double[] four = numbers(lines.get(indexOf(lines, l -> l.strip().startsWith("+4 "), r)));
        assertTrue(three[2] <= 1e-5, "steps 1-3 vs prefix-LM " + three[2] + "\n" + r.all());
        assertTrue(four[3] <= 1e-5, "steps 1-4 vs decoder-only " + four[3] + "\n" + r.all());
        assertTrue(three[1] > 1e-3 && four[1] > 1e-3 && four[2] > 1e-3 && three[3] > 1e-3, r.all());
        for (String step : new String[] {"+1 ", "+2 "}) {
            assertTrue(numbers(lines.get(indexOf(lines, l -> l.strip().startsWith(step), r)))[1] > 1e-3, r.all());
        }

        // chat cost: from turn 2 on the causal model encodes fewer tokens than the prefix-LM and the encoder-decoder
        int head = indexOf(lines, l -> l.startsWith("  turn  |"), r);
        int turns = 0;
        for (int i = head + 1; lines.get(i).strip().matches("\\d+ .*"); i++, turns++) {
            String[] cells = lines.get(i).split("\\|");
            long causal = Long.parseLong(cells[1].strip().split(" ")[0]);
            long prefix = Long.parseLong(cells[2].strip().split(" ")[0]);
            long encDec = Long.parseLong(cells[3].strip().split(" ")[0]);
            if (turns >= 1) assertTrue(causal < prefix && causal < encDec, lines.get(i) + "\n" + r.all());
            double causalFlops = Double.parseDouble(cells[1].strip().split(" +")[2]);   // "N tok X MFLOP Y ms"
            double prefixFlops = Double.parseDouble(cells[2].strip().split(" +")[2]);
            if (turns >= 1) assertTrue(causalFlops < prefixFlops, "same stack, fewer tokens: less work\n" + lines.get(i));
        }
        assertTrue(turns >= 5 && turns <= 10, r.all());
    }

    private static int indexOf(List<String> lines, java.util.function.Predicate<String> p, CliProcess.Result r) {
        for (int i = 0; i < lines.size(); i++) if (p.test(lines.get(i))) return i;
        throw new AssertionError("line not found in:\n" + r.all());
    }

    /** The numbers of a line after its label, in order (— for a cell not computed is skipped). */
    private static double[] numbers(String line) {
        return java.util.regex.Pattern.compile("(?<![\\w+])\\d+(?:\\.\\d+)?(?:e[+-]\\d+)?").matcher(line.substring(50)).results()
                .mapToDouble(m -> Double.parseDouble(m.group())).toArray();
    }

    @Test
    void inspectLogitsPrintsTheTableAndWritesThePage() throws Exception {
        int[] ids = {0, 1, 2, 3, 4, 5, 6, 7, 8};
        Path file = logitsFile(dir, ids, 5);
        Path html = dir.resolve("out.html");
        CliProcess.Result r = CliProcess.run(dir, "inspect", "--logits", file.toString(), "--html", html.toString(), "--head", "1");
        assertEquals(0, r.exit(), r.all());
        assertEquals("", r.err(), r.all());   // no bar: stderr is not a terminal and --progress was not given
        List<String> lines = r.out().lines().toList();
        assertEquals("logits.safetensors: 9 tokens, vocabulary 10", lines.get(0));
        // position 3 (" sat") is scored by row 2; recompute its probability and loss in float64 from the file
        float[] l;
        try (var f = org.transformer4j.model.weights.SafetensorsFile.open(file)) {
            l = f.tensor("logits").toFloatArray();
        }
        int v = VOCAB.size();
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < v; j++) max = Math.max(max, l[2 * v + j]);
        double sum = 0;
        for (int j = 0; j < v; j++) sum += Math.exp(l[2 * v + j] - max);
        double p = Math.exp(l[2 * v + 3] - max) / sum;
        String row = lines.stream().filter(s -> s.startsWith("    3  \" sat\"")).findFirst().orElseThrow(() -> new AssertionError(r.all()));
        String prob = p >= 0.001 ? String.format(Locale.ROOT, "%.1f%%", 100 * p) : String.format(Locale.ROOT, "%.1e", p);
        assertTrue(row.contains(" " + prob + " "), row + " should show " + prob);
        assertTrue(row.contains(String.format(Locale.ROOT, " %.3f ", -Math.log(p))), row);
        assertTrue(r.out().contains("\" <b>&\\\"\""), r.all());   // the nasty token, quoted in the table
        assertTrue(r.out().contains("perplexity"), r.all());
        assertTrue(lines.getLast().equals("wrote " + html), r.all());
        String page = Files.readString(html, StandardCharsets.UTF_8);
        assertTrue(page.startsWith("<!DOCTYPE html>"));
        assertTrue(page.contains("&lt;b&gt;&amp;&quot;"), "escaped token in the page");
        assertTrue(page.contains("data-name=\"layer 0, head 1\""), "attention weights of the chosen head");
    }

    @Test
    void inspectNamesTokensWithTheModelsTokenizer() throws Exception {
        int[] ids;
        try (var tok = org.transformer4j.model.tokenizer.TiktokenTokenizer.gpt2()) {
            ids = tok.encode("Hello world!");
        }
        int v = 50257;
        float[] l = new float[ids.length * v];
        l[ids[1]] = 9;                 // row 0 expects " world": rank 1
        l[v + 11] = 4;                 // row 1 prefers id 11 (",") over the "!" that follows
        Path file = dir.resolve("gpt2-logits.safetensors");
        SafetensorsWriter.write(file, Map.of("logits", Tensor.ofFloats(l, ids.length, v), "ids", Tensor.ofInts(ids, ids.length)),
                Map.of());
        Path model = Files.createDirectories(dir.resolve("gpt2"));
        Files.writeString(model.resolve("config.json"), "{\"model_type\": \"gpt2\", \"vocab_size\": 50257}");
        CliProcess.Result r = CliProcess.run(dir, "inspect", "--logits", file.toString(), "--tokenizer", model.toString());
        assertEquals(0, r.exit(), r.all());
        List<String> lines = r.out().lines().toList();
        assertTrue(lines.get(2).startsWith("    0  \"Hello\""), r.all());
        assertTrue(lines.get(3).matches("    1  \" world\" +" + ids[1] + " +[0-9.]+% +1 .*"), r.all());
        assertTrue(lines.get(4).matches("    2  \"!\" +" + ids[2] + " .*\",\" .*"), r.all());
    }

    @Test
    void everyCommandHasHelp() throws Exception {
        CliProcess.Result top = CliProcess.run(dir, "--help");
        assertEquals(0, top.exit(), top.all());
        for (String cmd : new String[] {"info", "demo", "inspect", "generate", "chat", "embed", "classify", "fill-mask", "bench"}) {
            assertTrue(top.out().lines().anyMatch(l -> l.strip().startsWith(cmd + " ")), cmd + " not listed:\n" + top.all());
        }
        for (String cmd : new String[] {"info", "demo", "inspect", "generate", "chat", "embed", "classify", "fill-mask", "bench"}) {
            CliProcess.Result r = CliProcess.run(dir, cmd, "--help");
            assertEquals(0, r.exit(), r.all());
            assertTrue(r.out().startsWith("Usage: t4j " + cmd), r.all());
        }
        assertTrue(CliProcess.run(dir, "inspect", "--help").out().contains("--logits=FILE"));
    }

    @Test
    void badInputIsOneLineAndNonZero() throws Exception {
        Path missing = dir.resolve("nope.safetensors");
        assertOneLineError(CliProcess.run(dir, "inspect", "--logits", missing.toString()), "t4j inspect: " + missing + ": no such file");

        Path bad = dir.resolve("bad.safetensors");
        Files.write(bad, new byte[] {(byte) 0xff, 0x7f, 0, 0, 0, 0, 0, 0, '{'});
        CliProcess.Result r = CliProcess.run(dir, "inspect", "--logits", bad.toString());
        assertEquals(1, r.exit(), r.all());
        assertTrue(r.err().startsWith("t4j inspect: " + bad + ": header length"), r.all());
        assertEquals(1, r.err().lines().count(), r.all());

        Path noIds = dir.resolve("noids.safetensors");
        SafetensorsWriter.write(noIds, Map.of("logits", Tensor.ofFloats(new float[4], 2, 2)), Map.of());
        assertOneLineError(CliProcess.run(dir, "inspect", "--logits", noIds.toString()),
                "t4j inspect: " + noIds + ": no tensor 'ids' (has [logits])");

        Path outside = logitsFile(dir, new int[] {1, 99, 3}, 1);
        assertOneLineError(CliProcess.run(dir, "inspect", "--logits", outside.toString()),
                "t4j inspect: token id 99 at position 1 is outside the vocabulary [0, 10)");

        Path good = logitsFile(dir, new int[] {1, 2, 3}, 1);
        Path noFolder = dir.resolve("no/such/folder/out.html");
        assertOneLineError(CliProcess.run(dir, "inspect", "--logits", good.toString(), "--html", noFolder.toString()),
                "t4j inspect: cannot write " + noFolder + ": no folder " + noFolder.getParent());
        assertOneLineError(CliProcess.run(dir, "inspect", "--logits", good.toString(), "--html", dir.toString()),
                "t4j inspect: cannot write " + dir + ": it is a folder");
        assertOneLineError(CliProcess.run(dir, "inspect", "--logits", good.toString(), "--head", "2"),
                "t4j inspect: --head 2 must be in 0..1");

        Path model = Files.createDirectories(dir.resolve("model"));
        assertOneLineError(CliProcess.run(dir, "inspect", "--model", model.toString(), ""), "t4j inspect: the text to inspect is empty");
        assertOneLineError(CliProcess.run(dir, "inspect", "--model", dir.resolve("absent").toString(), "hi"),
                "t4j inspect: " + dir.resolve("absent") + ": no such model folder");
        assertOneLineError(CliProcess.run(dir, "generate", "--model", model.toString(), " "), "t4j generate: the prompt is empty");
        assertOneLineError(CliProcess.run(dir, "embed", "--model", "bert", "a"),
                "t4j embed: unknown model 'bert': give a model folder or one of [minilm, bge-small-en-v1.5, e5-small-v2]");

        assertOneLineError(CliProcess.run(dir, "generate", "--model", model.toString(), "hi", "--dtype", "int8"),
                "t4j generate: --dtype must be f32, f16 or bf16, got 'int8'");
        assertOneLineError(CliProcess.run(dir, "bench", "--dtype", "i32"), "t4j bench: --dtype must be f32, f16 or bf16, got 'i32'");
        assertOneLineError(CliProcess.run(dir, "bench", "--shape", "llama-70b"),
                "t4j bench: unknown shape 'llama-70b': one of [gpt2-small, bert-base, t5-small]");
        assertOneLineError(CliProcess.run(dir, "bench", "--prompt-tokens", "1000"),
                "t4j bench: --prompt-tokens + --new-tokens = 1128 exceeds gpt2-small's 1024 positions");

        // verbose: the same failure with its stack trace
        r = CliProcess.run(dir, "--verbose", "inspect", "--logits", bad.toString());
        assertEquals(1, r.exit(), r.all());
        assertTrue(r.err().contains("SafetensorsFormatException") && r.err().contains("\tat "), r.all());

        // usage errors exit 2
        assertEquals(2, CliProcess.run(dir, "inspect").exit());
        assertEquals(2, CliProcess.run(dir, "inspect", "--logits", good.toString(), "--model", model.toString()).exit());
    }

    @Test
    void inspectRunsAGpt2FolderAndAgreesWithTheModelsOwnScoring() throws Exception {
        Path model = Gpt2Folder.write(dir.resolve("gpt2"), 9);
        String text = "Why do LLMs work? Look at the data.";
        Path html = dir.resolve("model.html");
        CliProcess.Result r = CliProcess.run(dir, "inspect", "--model", model.toString(), text, "--layer", "1", "--head", "1",
                "--html", html.toString());
        assertEquals(0, r.exit(), r.all());

        // the same text through the model layer's own scoring path (log-softmax in double, not the backend's ops)
        int[] ids;
        double loss;
        try (var tok = org.transformer4j.model.tokenizer.Tokenizers.forModel(model);
             var backend = new org.transformer4j.runtime.CpuBackend();
             var weights = org.transformer4j.model.Pretrained.load(model, backend)) {
            ids = tok.encode(text);
            loss = new org.transformer4j.model.Transformer(weights, backend).score(ids, 1).loss();
        }
        List<String> lines = r.out().lines().toList();
        assertEquals("gpt2 on \"" + text + "\": " + ids.length + " tokens, vocabulary " + Gpt2Folder.V, lines.get(0));
        assertEquals(ids.length + 5, lines.size(), r.all());   // title, columns, T tokens, next, mean loss, wrote
        assertTrue(lines.get(2).startsWith("    0  \"Why\""), r.all());
        assertTrue(lines.get(3).startsWith("    1  \" do\""), r.all());
        String mean = lines.get(lines.size() - 2);
        assertTrue(mean.startsWith(String.format(Locale.ROOT, "mean loss: %.4f nats over %d predicted tokens", loss, ids.length - 1)),
                mean + " vs the model's " + loss);
        String page = Files.readString(html, StandardCharsets.UTF_8);
        assertTrue(page.contains("data-name=\"layer 1, head 1\""), "the chosen head's weights");

        assertOneLineError(CliProcess.run(dir, "inspect", "--model", model.toString(), text, "--layer", "2"),
                "t4j inspect: --layer 2 must be in 0..1");
        String longText = "word ".repeat(40);
        r = CliProcess.run(dir, "inspect", "--model", model.toString(), longText);
        assertEquals(1, r.exit(), r.all());
        assertTrue(r.err().matches("t4j inspect: the text is \\d+ tokens; " + java.util.regex.Pattern.quote(model.toString())
                + " takes at most 32\\R"), r.all());
        Path noWeights = Files.createDirectories(dir.resolve("config-only"));
        Files.copy(model.resolve("config.json"), noWeights.resolve("config.json"));
        r = CliProcess.run(dir, "inspect", "--model", noWeights.toString(), text);
        assertEquals(1, r.exit(), r.all());
        assertEquals(1, r.err().lines().count(), r.all());
        assertTrue(r.err().startsWith("t4j inspect: ") && !r.err().contains("\tat "), r.all());
    }

    @Test
    void generateStreamsTheGreedyContinuation() throws Exception {
        Path model = Gpt2Folder.write(dir.resolve("gpt2"), 4);
        String prompt = "Why do LLMs work?";
        int n = 8;
        CliProcess.Result r = CliProcess.run(dir, "generate", "--model", model.toString(), prompt, "--max-new-tokens", String.valueOf(n));
        assertEquals(0, r.exit(), r.all());
        assertTrue(r.err().matches("prefill: \\d+ tokens in [0-9.]+ s \\([0-9.]+ tokens/s\\); decode: " + (n - 1)
                + " tokens in [0-9.]+ s \\([0-9.]+ tokens/s\\); f32\\R"), r.all());

        // the reference: greedy by full recomputation of the logits for each new token (no KV cache, no Generator)
        String expected;
        try (var tok = org.transformer4j.model.tokenizer.Tokenizers.forModel(model);
             var backend = new org.transformer4j.runtime.CpuBackend();
             var weights = org.transformer4j.model.Pretrained.load(model, backend)) {
            var t = new org.transformer4j.model.Transformer(weights, backend);
            int[] ids = tok.encode(prompt);
            int[] all = java.util.Arrays.copyOf(ids, ids.length + n);
            for (int i = 0; i < n; i++) {
                int len = ids.length + i;
                float[][] l = t.logits(new int[][] {java.util.Arrays.copyOf(all, len)})[0];
                float[] last = l[len - 1];
                int best = 0;
                for (int j = 1; j < last.length; j++) if (last[j] > last[best]) best = j;
                all[len] = best;
            }
            expected = tok.decode(java.util.Arrays.copyOfRange(all, ids.length, all.length));
        }
        assertEquals(expected + System.lineSeparator(), r.out());

        assertOneLineError(CliProcess.run(dir, "generate", "--model", model.toString(), prompt, "--top-p", "0"),
                "t4j generate: --top-p must be in (0, 1], got 0.0");
    }

    @Test
    void embedPrintsUnitVectorsAndTheirCosines() throws Exception {
        Path model = BertFolder.write(dir.resolve("bert"), 8);
        String[] sentences = {"The cat sat on the mat.", "A dog ran in the park.", "GPU kernels are fast."};
        List<String> args = new ArrayList<>(List.of("embed", "--model", model.toString()));
        args.addAll(List.of(sentences));
        CliProcess.Result r = CliProcess.run(dir, args.toArray(String[]::new));
        assertEquals(0, r.exit(), r.all());
        List<String> lines = r.out().lines().toList();
        assertEquals(3, lines.size(), r.all());
        double[][] v = new double[3][];
        for (int i = 0; i < 3; i++) {
            v[i] = java.util.Arrays.stream(lines.get(i).split(" ")).mapToDouble(Double::parseDouble).toArray();
            assertEquals(BertFolder.C, v[i].length);
            double norm = 0;
            for (double x : v[i]) norm += x * x;
            assertEquals(1.0, Math.sqrt(norm), 1e-5, "sentence " + i + " is L2-normalised");
        }
        // the same sentences through the model layer in this JVM (the command's plumbing: tokenizer, load, pooling)
        try (var tok = org.transformer4j.model.tokenizer.Tokenizers.forModel(model);
             var backend = new org.transformer4j.runtime.CpuBackend();
             var weights = org.transformer4j.model.Pretrained.load(model, backend)) {
            List<int[]> ids = new ArrayList<>();
            for (String s : sentences) ids.add(tok.encode(s));
            assertEquals(2, ids.get(0)[0], "[CLS] first");
            float[][] e = new org.transformer4j.model.Transformer(weights, backend).embedSentences(ids);
            for (int i = 0; i < 3; i++) for (int c = 0; c < BertFolder.C; c++) assertEquals(e[i][c], v[i][c], 1e-6);
        }

        args.add(3, "--similarity");
        r = CliProcess.run(dir, args.toArray(String[]::new));
        assertEquals(0, r.exit(), r.all());
        lines = r.out().lines().toList();
        assertEquals("[0] The cat sat on the mat.", lines.get(0));
        for (int i = 0; i < 3; i++) {
            String[] cells = lines.get(4 + i).trim().split(" +");
            assertEquals("[" + i + "]", cells[0]);
            for (int j = 0; j < 3; j++) {
                double cos = 0;
                for (int c = 0; c < BertFolder.C; c++) cos += v[i][c] * v[j][c];
                assertEquals(cos, Double.parseDouble(cells[1 + j]), 6e-4, "cosine " + i + ", " + j);
            }
        }

        Path gpt2 = Gpt2Folder.write(dir.resolve("gpt2"), 1);
        assertOneLineError(CliProcess.run(dir, "embed", "--model", gpt2.toString(), "hello"),
                "t4j embed: " + gpt2 + " is a decoder-only model; sentence embeddings need an encoder (BERT, T5)");
    }

    /**
     * A sentence-transformers folder: `t4j embed` pools as its 1_Pooling/config.json says (CLS without Normalize;
     * mean with include_prompt false and a named prompt), names the pooling on stderr, and its vectors are those
     * of the model layer's hidden states pooled that way in this JVM.
     */
    @Test
    void embedFollowsASentenceTransformersFolder() throws Exception {
        Path model = BertFolder.write(dir.resolve("st"), 9);
        java.nio.file.Files.writeString(model.resolve("modules.json"), "[{\"idx\": 0, \"name\": \"0\", \"path\": \"\", \"type\": "
                + "\"sentence_transformers.models.Transformer\"}, {\"idx\": 1, \"name\": \"1\", \"path\": \"1_Pooling\", \"type\": "
                + "\"sentence_transformers.models.Pooling\"}]");
        java.nio.file.Files.createDirectories(model.resolve("1_Pooling"));
        Path pooling = model.resolve("1_Pooling/config.json");
        java.nio.file.Files.writeString(pooling, "{\"word_embedding_dimension\": 64, \"pooling_mode_cls_token\": true, "
                + "\"pooling_mode_mean_tokens\": false, \"pooling_mode_max_tokens\": false}");
        String sentence = "The cat sat on the mat.";
        CliProcess.Result r = CliProcess.run(dir, "embed", "--model", model.toString(), sentence);
        assertEquals(0, r.exit(), r.all());
        assertTrue(r.err().contains("t4j embed: cls pooling, not normalized (" + model.resolve("modules.json") + ")"), r.err());
        double[] cls = java.util.Arrays.stream(r.out().strip().split(" ")).mapToDouble(Double::parseDouble).toArray();

        java.nio.file.Files.writeString(pooling, "{\"word_embedding_dimension\": 64, \"pooling_mode_mean_tokens\": true, "
                + "\"include_prompt\": false}");
        java.nio.file.Files.writeString(model.resolve("config_sentence_transformers.json"), "{\"prompts\": {\"query\": \"a dog \"}}");
        r = CliProcess.run(dir, "embed", "--model", model.toString(), "--prompt", "query", sentence);
        assertEquals(0, r.exit(), r.all());
        assertTrue(r.err().contains("mean pooling (prompt excluded), not normalized"), r.err());
        double[] mean = java.util.Arrays.stream(r.out().strip().split(" ")).mapToDouble(Double::parseDouble).toArray();

        try (var tok = org.transformer4j.model.tokenizer.Tokenizers.forModel(model);
             var backend = new org.transformer4j.runtime.CpuBackend();
             var weights = org.transformer4j.model.Pretrained.load(model, backend)) {
            var m = new org.transformer4j.model.Transformer(weights, backend);
            float[][] h = m.encode(new int[][] {tok.encode(sentence)})[0];
            for (int c = 0; c < BertFolder.C; c++) assertEquals(h[0][c], cls[c], 1e-5, "the [CLS] row, not normalised");
            int[] ids = tok.encode("a dog " + sentence);
            int prompt = tok.encode("a dog ").length - 1;                       // [CLS] a dog: sentence-transformers' prompt_length
            assertEquals(3, prompt);
            float[][] hp = m.encode(new int[][] {ids})[0];
            for (int c = 0; c < BertFolder.C; c++) {
                double want = 0;
                for (int t = prompt; t < ids.length; t++) want += hp[t][c];
                assertEquals(want / (ids.length - prompt), mean[c], 1e-5, "the mean after the prompt");
            }
        }
        assertOneLineError(CliProcess.run(dir, "embed", "--model", model.toString(), "--prompt", "passage", sentence),
                "t4j embed: prompt 'passage' is not one of [query]");
    }

    @Test
    void embedMiniLmByNameRanksAParaphraseAboveAnUnrelatedSentence() throws Exception {
        CliProcess.Result r = CliProcess.run(dir, "embed", "--model", "minilm", "--similarity",
                "A man is playing a guitar.", "Someone plays an acoustic guitar.", "The stock market fell sharply today.");
        assertEquals(0, r.exit(), r.all());
        List<String> lines = r.out().lines().toList();
        double[][] cos = new double[3][3];
        for (int i = 0; i < 3; i++) {
            String[] cells = lines.get(4 + i).trim().split(" +");
            for (int j = 0; j < 3; j++) cos[i][j] = Double.parseDouble(cells[1 + j]);
            assertEquals(1.0, cos[i][i], 1e-3, "unit vectors");
        }
        assertTrue(cos[0][1] > cos[0][2] + 0.2 && cos[0][1] > cos[1][2] + 0.2,
                "paraphrase " + cos[0][1] + " vs unrelated " + cos[0][2] + ", " + cos[1][2]);
        r = CliProcess.run(dir, "embed", "--model", "minilm", "hello");
        assertEquals(0, r.exit(), r.all());
        assertEquals(384, r.out().strip().split(" ").length, "one 384-wide vector");
        // stderr: the JDK's incubator line (CliProcess drops it; ./t4j does too) and the one line saying which
        // pooling ran (issue 14), nothing else: no SLF4J, DJL or other warning lines.
        assertEquals("t4j embed: mean pooling, normalized (minilm's model card)", r.err().strip(), r.all());
    }

    @Test
    void benchRunsTheFourArchitectures() throws Exception {
        CliProcess.Result r = CliProcess.run(dir, "bench", "--layers", "1", "--prompt-tokens", "6", "--new-tokens", "3", "--json");
        assertEquals(0, r.exit(), r.all());
        var root = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.out());
        assertTrue(root.get("backend").asText().startsWith("cpu"), r.all());
        var results = root.get("results");
        assertEquals(4, results.size(), r.all());
        List<String> seen = new ArrayList<>();
        for (var row : results) {
            seen.add(row.get("architecture").asText() + "/" + row.get("shape").asText());
            double ms = row.get("prefillMs").asDouble();
            assertTrue(ms > 0 && Double.isFinite(ms), r.all());
            assertEquals(6 / (ms / 1e3), row.get("prefillTokensPerS").asDouble(), 1e-3 * row.get("prefillTokensPerS").asDouble() + 1e-3);
            boolean decodes = !row.get("architecture").asText().equals("encoder-only");
            assertEquals(decodes ? 3 : 0, row.get("decodeSteps").asInt(), r.all());
            assertEquals(decodes, !row.get("decodeMsPerToken").isNull(), r.all());
            if (decodes) {
                assertEquals(1e3 / row.get("decodeMsPerToken").asDouble(), row.get("decodeTokensPerS").asDouble(),
                        1e-3 * row.get("decodeTokensPerS").asDouble() + 1e-3);
            }
        }
        assertEquals(List.of("decoder-only/gpt2-small", "prefix-LM/gpt2-small", "encoder-only/bert-base", "encoder-decoder/t5-small"), seen);

        r = CliProcess.run(dir, "bench", "--layers", "1", "--prompt-tokens", "4", "--new-tokens", "2", "--shape", "bert-base");
        assertEquals(0, r.exit(), r.all());
        List<String> lines = r.out().lines().toList();
        assertEquals(3, lines.size(), r.all());
        assertTrue(lines.get(1).startsWith("architecture     shape"), r.all());
        assertTrue(lines.get(2).matches("encoder-only +bert-base +[0-9.]+ +[0-9.]+ +- +-"), r.all());
    }

    /**
     * --dtype bf16: generate, embed and bench run the model in BF16. The references are the model layer in this
     * JVM loaded in BF16 (the same computation: greedy through the KV cache, pooled embeddings); the embeddings
     * also differ from the fp32 ones by more than their printed precision, so an ignored flag would show.
     */
    @Test
    void dtypeBf16RunsTheModelInBf16() throws Exception {
        Path gpt2 = Gpt2Folder.write(dir.resolve("gpt2"), 4);
        String prompt = "Why do LLMs work?";
        int n = 8;
        CliProcess.Result r = CliProcess.run(dir, "generate", "--model", gpt2.toString(), prompt, "--max-new-tokens", String.valueOf(n),
                "--dtype", "bf16");
        assertEquals(0, r.exit(), r.all());
        assertTrue(r.err().matches("prefill: .*; decode: .*; bf16\\R"), r.all());
        String expected;
        try (var tok = org.transformer4j.model.tokenizer.Tokenizers.forModel(gpt2);
             var backend = new org.transformer4j.runtime.CpuBackend();
             var weights = org.transformer4j.model.Pretrained.load(gpt2, backend, org.transformer4j.runtime.DType.BF16)) {
            var t = new org.transformer4j.model.Transformer(weights, backend);
            int[] out = new org.transformer4j.model.Generator(t).generate(tok.encode(prompt),
                    org.transformer4j.model.Generator.Options.greedy(n), null);
            expected = tok.decode(out);
        }
        assertEquals(expected + System.lineSeparator(), r.out());

        Path bert = BertFolder.write(dir.resolve("bert"), 8);
        String[] sentences = {"The cat sat on the mat.", "A dog ran in the park."};
        r = CliProcess.run(dir, "embed", "--model", bert.toString(), sentences[0], sentences[1], "--dtype", "BF16");
        assertEquals(0, r.exit(), r.all());
        List<String> lines = r.out().lines().toList();
        assertEquals(2, lines.size(), r.all());
        try (var tok = org.transformer4j.model.tokenizer.Tokenizers.forModel(bert);
             var backend = new org.transformer4j.runtime.CpuBackend();
             var w32 = org.transformer4j.model.Pretrained.load(bert, backend);
             var w16 = org.transformer4j.model.Pretrained.load(bert, backend, org.transformer4j.runtime.DType.BF16)) {
            List<int[]> ids = new ArrayList<>();
            for (String s : sentences) ids.add(tok.encode(s));
            float[][] e16 = new org.transformer4j.model.Transformer(w16, backend).embedSentences(ids);
            float[][] e32 = new org.transformer4j.model.Transformer(w32, backend).embedSentences(ids);
            double apart = 0;
            for (int i = 0; i < 2; i++) {
                double[] v = java.util.Arrays.stream(lines.get(i).split(" ")).mapToDouble(Double::parseDouble).toArray();
                for (int c = 0; c < BertFolder.C; c++) {
                    assertEquals(e16[i][c], v[c], 1e-6, "sentence " + i + " [" + c + "]");
                    apart = Math.max(apart, Math.abs(e32[i][c] - v[c]));
                }
            }
            assertTrue(apart > 1e-4, "the BF16 embeddings are the fp32 ones to " + apart + ": was --dtype applied?");
        }

        r = CliProcess.run(dir, "bench", "--layers", "1", "--prompt-tokens", "4", "--new-tokens", "2", "--shape", "gpt2-small",
                "--dtype", "bf16", "--json");
        assertEquals(0, r.exit(), r.all());
        var root = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.out());
        assertEquals("bf16", root.get("dtype").asText(), r.all());
        assertEquals(2, root.get("results").size(), r.all());
        for (var row : root.get("results")) assertEquals(2, row.get("decodeSteps").asInt(), r.all());
    }
}
