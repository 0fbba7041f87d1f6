// TestFolders — the model module's test fixtures for other modules' tests (through its test-jar): the float64 reference
// folders, their inputs and outputs, and the WordPiece tokenizer.json the encoder tests write beside them.
package org.transformer4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.transformer4j.model.weights.SafetensorsFile;

public final class TestFolders {

    private TestFolders() {}

    /**
     * The reference folder {@code name} (config.json, model.safetensors, reference.json, reference.safetensors): the test
     * resources' own folder, or, when they come from the test-jar, a copy of its four files in a temporary folder.
     */
    public static Path fixture(String name) throws Exception {
        java.net.URL url = TestFolders.class.getResource("/reference/" + name + "/config.json");
        if (url == null) throw new IllegalArgumentException("no reference folder " + name);
        if (url.getProtocol().equals("file")) return Path.of(url.toURI()).getParent();
        Path dir = Files.createTempDirectory("t4j-fixture-" + name);
        for (String f : new String[] {"config.json", "model.safetensors", "reference.json", "reference.safetensors"}) {
            try (var in = TestFolders.class.getResourceAsStream("/reference/" + name + "/" + f)) {
                Files.copy(in, dir.resolve(f));
            }
        }
        dir.toFile().deleteOnExit();
        return dir;
    }

    /** A (rows, T) input of the fixture's reference.json, e.g. "input_ids". */
    public static int[][] input(String name, String input) throws Exception {
        JsonNode rows = new ObjectMapper().readTree(Files.readString(fixture(name).resolve("reference.json"))).get("inputs").get(input);
        int[][] out = new int[rows.size()][];
        for (int r = 0; r < out.length; r++) {
            out[r] = new int[rows.get(r).size()];
            for (int i = 0; i < out[r].length; i++) out[r][i] = rows.get(r).get(i).asInt();
        }
        return out;
    }

    /** An output of the fixture's float64 reference, flattened. */
    public static double[] output(String name, String output) throws Exception {
        try (SafetensorsFile f = SafetensorsFile.open(fixture(name).resolve("reference.safetensors"))) {
            return doubles(f, output);
        }
    }

    /**
     * Tensor {@code name} of a reference.safetensors as doubles: the float64 reference's outputs are stored rounded to F32
     * (half an ulp, 6e-8 relative: far inside every tolerance, and half the bytes that travel to the GPU machine); F64 is
     * read too.
     */
    public static double[] doubles(SafetensorsFile f, String name) {
        java.lang.foreign.MemorySegment seg = f.segment(name);
        return switch (f.entry(name).dtype()) {
            case F64 -> seg.toArray(java.lang.foreign.ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN));
            case F32 -> {
                float[] v = seg.toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN));
                double[] out = new double[v.length];
                for (int i = 0; i < v.length; i++) out[i] = v[i];
                yield out;
            }
            default -> throw new IllegalArgumentException(name + " is " + f.entry(name).dtype() + ": reference outputs are F32 or F64");
        };
    }

    /** The encoder tests' WordPiece tokenizer.json in {@code dir}: w0 … w255 with BERT's specials at 0, 100–103, its pair template. */
    public static Path wordPieceTokenizer(Path dir) throws Exception { return EncoderApiTest.tokenizer(dir); }

    /** The words of ids[from, to) as that tokenizer writes them. */
    public static String words(int[] ids, int from, int to) { return EncoderApiTest.words(ids, from, to); }
}
