// GoldenFilesTest — Hugging Face transformers as the outside truth: each golden folder (made by
// ci/make-golden.py on a machine with PyTorch) is loaded with Pretrained.load and run on the CPU
// backend in fp32; logits and hidden states must be within 2e-5 × max|reference| (issue 6). The CUDA
// BF16 comparison (the design's tolerance rule against the CPU twin in BF16) is in ModelGpuTest and
// uses run() and lowPrecisionWithinRule() from here; a synthetic folder checks that harness on the CPU.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.model.weights.SafetensorsFile;
import org.transformer4j.model.weights.SafetensorsWriter;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Tensor;

class GoldenFilesTest {

    /**
     * The golden folders: under {@code -Dt4j.golden.dir} when set (the GPU check makes them and tests
     * them in the same run, before they are committed), else the test resources' {@code golden/}.
     */
    static List<Path> folders() throws IOException, URISyntaxException {
        String override = System.getProperty("t4j.golden.dir");
        Path dir;
        if (override != null && !override.isBlank()) {
            dir = Path.of(override);
            if (!Files.isDirectory(dir)) throw new IOException("-Dt4j.golden.dir=" + override + " is not a directory");
        } else {
            URL root = GoldenFilesTest.class.getResource("/golden");
            if (root == null || !"file".equals(root.getProtocol())) return List.of();
            dir = Path.of(root.toURI());
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> Files.isRegularFile(p.resolve("golden.safetensors"))).sorted().toList();
        }
    }

    /**
     * PyTorch's own torch.save files (make-golden.py's torch-save/: the zip and the legacy format of one state dict, and
     * safetensors.torch's file of the same tensors made contiguous, without the tied copy): TorchConvert writes exactly
     * those bytes from either file. The test files ci/reference/torch_save.py writes imitate these; this is the check that
     * the imitation is faithful, run where PyTorch made the files (the GPU check's golden phase) and on every build once
     * they are committed.
     */
    @Test
    void torchSaveFilesConvertToWhatSafetensorsWrote(@TempDir Path tmp) throws Exception {
        Path dir = null;
        String override = System.getProperty("t4j.golden.dir");
        if (override != null && !override.isBlank()) dir = Path.of(override).resolve("torch-save");
        else {
            URL root = GoldenFilesTest.class.getResource("/golden/torch-save");
            if (root != null && "file".equals(root.getProtocol())) dir = Path.of(root.toURI());
        }
        assumeFalse(dir == null || !Files.isRegularFile(dir.resolve("expected.safetensors")), NO_FOLDERS);
        java.util.List<String> dropped = new java.util.ArrayList<>();
        new com.fasterxml.jackson.databind.ObjectMapper().readTree(dir.resolve("expected.json").toFile()).get("dropped")
                .forEach(n -> dropped.add(n.asText()));
        for (String file : List.of("zip.bin", "legacy.bin")) {
            Path out = tmp.resolve(file + ".safetensors");
            var c = org.transformer4j.model.weights.TorchConvert.convert(dir.resolve(file), out, false);
            assertEquals(dropped, c.droppedCopies(), file);
            try (SafetensorsFile got = SafetensorsFile.open(out); SafetensorsFile want = SafetensorsFile.open(dir.resolve("expected.safetensors"))) {
                assertEquals(new java.util.TreeSet<>(want.names()), new java.util.TreeSet<>(got.names()), file);
                for (String name : want.names()) {
                    assertEquals(want.entry(name).dtype(), got.entry(name).dtype(), file + " " + name);
                    assertEquals(Arrays.toString(want.entry(name).shape()), Arrays.toString(got.entry(name).shape()), file + " " + name);
                    assertTrue(Arrays.equals(want.segment(name).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                            got.segment(name).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)), file + " " + name + ": the same bytes");
                }
            }
        }
    }

    static final String NO_FOLDERS = "no golden files yet: ci/make-golden.py makes them on a GPU machine "
            + "(PyTorch + transformers), see bench/GPU-STATUS.md";

    @Test
    void everyGoldenFolderMatchesHuggingFace() throws Exception {
        List<Path> dirs = folders();
        assumeFalse(dirs.isEmpty(), NO_FOLDERS);
        assertAll(dirs.stream().map(dir -> () -> check(dir)));
    }

    /** fp32 on the CPU: within 2e-5 × max|reference| of every golden output. */
    static void check(Path dir) throws IOException {
        Map<String, float[][][]> got = run(dir, new CpuBackend(), DType.F32);
        try (SafetensorsFile golden = SafetensorsFile.open(dir.resolve("golden.safetensors"))) {
            for (Map.Entry<String, float[][][]> e : got.entrySet()) {
                float[] ref = reference(dir, golden, e.getKey(), e.getValue());
                double maxRef = maxAbs(ref), maxErr = maxErr(e.getValue(), ref);
                assertTrue(maxErr <= 2e-5 * maxRef, dir.getFileName() + " " + e.getKey() + ": max abs diff " + maxErr
                        + " > 2e-5 × max|ref| (" + maxRef + ")");
            }
        }
    }

    /**
     * The design's rule for {@code dtype} on {@code device}: each output's max error against the Hugging Face
     * fp32 reference is at most 2× that of the same model in {@code dtype} on the CPU backend (the twin, which
     * rounds where the kernels round) plus {@link LowPrecision#allowed}'s small absolute term.
     */
    static void lowPrecisionWithinRule(Path dir, Backend device, DType dtype) throws IOException {
        Map<String, float[][][]> got = run(dir, device, dtype);
        Map<String, float[][][]> twin = run(dir, new CpuBackend(), dtype);
        try (SafetensorsFile golden = SafetensorsFile.open(dir.resolve("golden.safetensors"))) {
            for (Map.Entry<String, float[][][]> e : got.entrySet()) {
                float[] ref = reference(dir, golden, e.getKey(), e.getValue());
                double err = maxErr(e.getValue(), ref), twinErr = maxErr(twin.get(e.getKey()), ref);
                double allowed = LowPrecision.allowed(twinErr, maxAbs(ref));
                assertTrue(err <= allowed, dir.getFileName() + " " + e.getKey() + " in " + dtype + " on " + device.kind()
                        + ": max error " + err + " against Hugging Face, the CPU twin's " + twinErr + ", allowed " + allowed);
            }
        }
    }

    /** The outputs a golden folder holds, by their golden names, from its model on {@code backend} in {@code dtype}. */
    static Map<String, float[][][]> run(Path dir, Backend backend, DType dtype) throws IOException {
        Map<String, float[][][]> out = new LinkedHashMap<>();
        try (Weights weights = Pretrained.load(dir, backend, dtype);
             SafetensorsFile golden = SafetensorsFile.open(dir.resolve("golden.safetensors"))) {
            Transformer model = new Transformer(weights, backend);
            int[][] input = rows(golden.tensor("input_ids"));
            switch (weights.config.architecture()) {
                case DECODER_ONLY -> {
                    if (weights.config.bidirectional()) {                         // EmbeddingGemma: hidden states, no causal head
                        out.put("last_hidden_state", model.lastHiddenStates(Arrays.asList(input)).toArray(float[][][]::new));
                    } else {
                        out.put("logits", model.logits(input));
                    }
                }
                case ENCODER_ONLY -> {                                            // issue 14: heads, token types, masks
                    int[][] types = golden.contains("token_type_ids") ? rows(golden.tensor("token_type_ids")) : null;
                    int[][] mask = golden.contains("attention_mask") ? rows(golden.tensor("attention_mask")) : null;
                    if (golden.contains("last_hidden_state")) out.put("last_hidden_state", model.encode(input, types, mask));
                    if (golden.contains("prediction_logits")) out.put("prediction_logits", model.maskedLmLogits(input, types, mask));
                    if (golden.contains("seq_relationship_logits")) {
                        out.put("seq_relationship_logits", new float[][][] {model.nextSentenceLogits(input, types, mask)});
                    }
                    if (golden.contains("logits")) out.put("logits", new float[][][] {model.classify(input, types, mask)});
                }
                case ENCODER_DECODER -> {
                    out.put("logits", model.logits(input, rows(golden.tensor("decoder_input_ids"))));
                    out.put("encoder_last_hidden_state", model.encode(input));
                }
                default -> throw new AssertionError(dir + ": unexpected architecture " + weights.config.architecture());
            }
        }
        return out;
    }

    private static int[][] rows(Tensor ids) {
        int rows = (int) ids.shape(0);
        int cols = (int) ids.shape(1);
        int[] flat = ids.toIntArray();
        int[][] out = new int[rows][cols];
        for (int r = 0; r < rows; r++) System.arraycopy(flat, r * cols, out[r], 0, cols);
        return out;
    }

    private static float[] reference(Path dir, SafetensorsFile golden, String what, float[][][] got) throws IOException {
        float[] ref = golden.tensor(what).toFloatArray();
        assertEquals(ref.length, (long) got.length * got[0].length * got[0][0].length, dir + " " + what + " size");
        return ref;
    }

    private static double maxAbs(float[] ref) {
        double m = 0;
        for (float v : ref) m = Math.max(m, Math.abs(v));
        return m;
    }

    private static double maxErr(float[][][] got, float[] ref) {
        double m = 0;
        int i = 0;
        for (float[][] a : got) {
            for (float[] b : a) {
                for (float v : b) {
                    double d = Math.abs(v - ref[i++]);
                    if (Double.isNaN(d)) return Double.POSITIVE_INFINITY;
                    m = Math.max(m, d);
                }
            }
        }
        return m;
    }

    /**
     * The harness on folders shaped like make-golden.py's (a GPT-2 and a T5 folder whose golden outputs are
     * this library's own fp32 results): it loads, runs each architecture in fp32 and BF16 and applies both
     * rules, so that the first real fixtures test the models and not the harness.
     */
    @Test
    void theHarnessRunsOnSyntheticFolders(@TempDir Path dir) throws Exception {
        CpuBackend cpu = new CpuBackend();
        TransformerConfig gpt2 = Tiny.decoderOnly(Tiny.encDec().specialIds(new TransformerConfig.SpecialIds(-1, 99, 99, -1, -1)).build(), false);
        TransformerConfig t5 = Tiny.t5ish().heads(2, 2, 32).specialIds(new TransformerConfig.SpecialIds(0, -1, 1, 0, -1))
                .t5RelativePositions(32, 128).build();
        for (TransformerConfig c : List.of(gpt2, t5)) {
            Path d = Files.createDirectories(dir.resolve(c.architecture().name()));
            int[][] input = Tiny.ids(61, 2, 10), target = Tiny.ids(62, 2, 7);
            Map<String, Tensor> golden = new LinkedHashMap<>();
            try (Weights w = Weights.random(c, cpu, 63)) {
                Transformer m = new Transformer(w, cpu);
                golden.put("input_ids", ints(input));
                if (c == gpt2) {
                    PretrainedTest.gpt2Folder(w, d);
                    golden.put("logits", floats(m.logits(input)));
                } else {
                    PretrainedTest.t5Folder(w, d);
                    golden.put("decoder_input_ids", ints(target));
                    golden.put("logits", floats(m.logits(input, target)));
                    golden.put("encoder_last_hidden_state", floats(m.encode(input)));
                }
            }
            SafetensorsWriter.write(d.resolve("golden.safetensors"), golden, Map.of());
            golden.values().forEach(Tensor::close);
            assertEquals(c == gpt2 ? List.of("logits") : List.of("logits", "encoder_last_hidden_state"),
                    List.copyOf(run(d, cpu, DType.BF16).keySet()));
            check(d);
            lowPrecisionWithinRule(d, cpu, DType.BF16);
        }
    }

    private static Tensor ints(int[][] a) {
        int[] flat = new int[a.length * a[0].length];
        for (int r = 0; r < a.length; r++) System.arraycopy(a[r], 0, flat, r * a[0].length, a[0].length);
        return Tensor.ofInts(flat, a.length, a[0].length);
    }

    private static Tensor floats(float[][][] a) {
        int rows = a[0].length, cols = a[0][0].length;
        float[] flat = new float[a.length * rows * cols];
        for (int b = 0; b < a.length; b++) for (int r = 0; r < rows; r++) System.arraycopy(a[b][r], 0, flat, (b * rows + r) * cols, cols);
        return Tensor.ofFloats(flat, a.length, rows, cols);
    }
}
