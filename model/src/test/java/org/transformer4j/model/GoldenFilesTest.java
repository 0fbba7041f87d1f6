// GoldenFilesTest — Hugging Face transformers as the outside truth: each golden folder (made by
// ci/make-golden.py on a machine with PyTorch) is loaded with Pretrained.load and run on the CPU
// backend in fp32; logits and hidden states must be within 2e-5 × max|reference| (issue 6).
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
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.transformer4j.model.weights.SafetensorsFile;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.Tensor;

class GoldenFilesTest {

    static List<Path> folders() throws IOException, URISyntaxException {
        URL root = GoldenFilesTest.class.getResource("/golden");
        if (root == null) return List.of();
        try (Stream<Path> s = Files.list(Path.of(root.toURI()))) {
            return s.filter(p -> Files.isRegularFile(p.resolve("golden.safetensors"))).sorted().toList();
        }
    }

    @Test
    void everyGoldenFolderMatchesHuggingFace() throws Exception {
        List<Path> dirs = folders();
        assumeFalse(dirs.isEmpty(), "no golden files yet: ci/make-golden.py makes them on a GPU machine "
                + "(PyTorch + transformers), see bench/GPU-STATUS.md");
        assertAll(dirs.stream().map(dir -> () -> check(dir)));
    }

    private static void check(Path dir) throws IOException {
        CpuBackend cpu = new CpuBackend();
        Weights weights = Pretrained.load(dir, cpu);
        Transformer model = new Transformer(weights, cpu);
        try (SafetensorsFile golden = SafetensorsFile.open(dir.resolve("golden.safetensors"))) {
            int[][] input = rows(golden.tensor("input_ids"));
            switch (weights.config.architecture()) {
                case DECODER_ONLY -> compare(dir, "logits", golden.tensor("logits"), model.logits(input));
                case ENCODER_ONLY -> compare(dir, "last_hidden_state", golden.tensor("last_hidden_state"), model.encode(input));
                case ENCODER_DECODER -> {
                    int[][] target = rows(golden.tensor("decoder_input_ids"));
                    compare(dir, "logits", golden.tensor("logits"), model.logits(input, target));
                    compare(dir, "encoder_last_hidden_state", golden.tensor("encoder_last_hidden_state"), model.encode(input));
                }
                default -> throw new AssertionError(dir + ": unexpected architecture " + weights.config.architecture());
            }
        }
    }

    private static int[][] rows(Tensor ids) {
        int rows = (int) ids.shape(0);
        int cols = (int) ids.shape(1);
        int[] flat = ids.toIntArray();
        int[][] out = new int[rows][cols];
        for (int r = 0; r < rows; r++) System.arraycopy(flat, r * cols, out[r], 0, cols);
        return out;
    }

    private static void compare(Path dir, String what, Tensor reference, float[][][] got) {
        float[] ref = reference.toFloatArray();
        assertEquals(ref.length, (long) got.length * got[0].length * got[0][0].length, dir + " " + what + " size");
        double maxRef = 0;
        for (float v : ref) maxRef = Math.max(maxRef, Math.abs(v));
        double maxErr = 0;
        int i = 0;
        for (float[][] a : got) for (float[] b : a) for (float v : b) maxErr = Math.max(maxErr, Math.abs(v - ref[i++]));
        assertTrue(maxErr <= 2e-5 * maxRef, dir.getFileName() + " " + what + ": max abs diff " + maxErr
                + " > 2e-5 × max|ref| (" + maxRef + ")");
    }
}
