// SafetensorsFuzzTest — malformed safetensors files: each known way of breaking the format is
// rejected with a SafetensorsFormatException naming the file and the problem, and random damage
// to a valid file (byte flips, truncation, appended bytes) never escapes as an unchecked exception.
package org.transformer4j.model.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Tensor;

class SafetensorsFuzzTest {

    @TempDir Path dir;

    private static String t(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end + "]}";
    }

    private static Arguments c(String label, byte[] file, String problem) { return Arguments.of(label, file, problem); }

    private static Arguments c(String label, String header, int dataBytes, String problem) {
        return c(label, StFiles.bytes(header, new byte[dataBytes]), problem);
    }

    static Stream<Arguments> malformed() {
        byte[] x = "{}".getBytes(StandardCharsets.UTF_8);
        return Stream.of(
                c("empty file", new byte[0], "too short"),
                c("7 bytes", new byte[7], "too short"),
                c("oversized header", StFiles.bytes(100_000_001L, x, new byte[0]), "exceeds the limit"),
                c("header length 2^64-1", StFiles.bytes(-1L, x, new byte[0]), "exceeds the limit"),
                c("header length past EOF", StFiles.bytes(1000, x, new byte[0]), "runs past the end"),
                c("header length past EOF by one", StFiles.bytes(3, x, new byte[0]), "runs past the end"),
                c("empty header", StFiles.bytes(0, new byte[0], new byte[0]), "does not start with '{'"),
                c("leading space", " {}", 0, "does not start with '{'"),
                c("array header", "[]", 0, "does not start with '{'"),
                c("invalid UTF-8", StFiles.bytes(3, new byte[] {'{', (byte) 0xC3, '}'}, new byte[0]), "not valid UTF-8"),
                c("truncated JSON", "{\"a\":{\"dtype\":\"F32\"", 0, "not valid JSON"),
                c("trailing JSON", "{} {}", 0, "not valid JSON"),
                c("deep nesting", "{\"__metadata__\":" + "[".repeat(200) + "]".repeat(200) + "}", 0, "not valid JSON"),
                c("duplicate names", "{" + t("a", "F32", "[1]", 0, 4) + "," + t("a", "F32", "[1]", 4, 8) + "}", 8, "Duplicate field 'a'"),
                c("unknown dtype", "{" + t("a", "F128", "[1]", 0, 16) + "}", 16, "unknown dtype 'F128'"),
                c("lower-case dtype", "{" + t("a", "f32", "[1]", 0, 4) + "}", 4, "unknown dtype 'f32'"),
                c("overflowing shape", "{" + t("a", "F32", "[4611686018427387904,8]", 0, 0) + "}", 0, "overflows 64 bits"),
                c("shape beyond 64 bits", "{" + t("a", "U8", "[18446744073709551616]", 0, 0) + "}", 0, "not a non-negative 64-bit integer"),
                c("negative dim", "{" + t("a", "F32", "[-1]", 0, 0) + "}", 0, "not a non-negative 64-bit integer"),
                c("fractional dim", "{" + t("a", "F32", "[1.5]", 0, 4) + "}", 4, "not a non-negative 64-bit integer"),
                c("shape is a string", "{" + t("a", "F32", "\"2\"", 0, 8) + "}", 8, "shape is not an array"),
                c("size mismatch", "{" + t("a", "F32", "[3]", 0, 8) + "}", 8, "needs 12 bytes but data_offsets [0, 8] hold 8"),
                c("sub-byte remainder", "{" + t("a", "F4", "[3]", 0, 1) + "}", 1, "not a whole number of bytes"),
                c("end before begin", "{" + t("a", "F32", "[0]", 4, 0) + "}", 4, "end < begin"),
                c("three offsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 4, "has 3 values, expected 2"),
                c("missing shape", "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "has no 'shape'"),
                c("entry not an object", "{\"a\":[1]}", 0, "tensor 'a' is not an object"),
                c("first range not at 0", "{" + t("a", "F32", "[1]", 4, 8) + "}", 8, "starts at data offset 4 but the previous tensor ends at 0 (a gap)"),
                c("gap", "{" + t("a", "F32", "[1]", 0, 4) + "," + t("b", "F32", "[1]", 8, 12) + "}", 12, "(a gap)"),
                c("overlap", "{" + t("a", "F32", "[2]", 0, 8) + "," + t("b", "F32", "[1]", 4, 8) + "}", 8, "(overlapping ranges)"),
                c("same range twice", "{" + t("a", "F32", "[1]", 0, 4) + "," + t("b", "F32", "[1]", 0, 4) + "}", 4, "(overlapping ranges)"),
                c("trailing bytes", "{" + t("a", "F32", "[1]", 0, 4) + "}", 5, "(trailing bytes)"),
                c("truncated data", "{" + t("a", "F32", "[2]", 0, 8) + "}", 7, "(truncated file)"),
                c("data but no tensors", "{}", 1, "(trailing bytes)"),
                c("non-string metadata", "{\"__metadata__\":{\"n\":1}}", 0, "__metadata__ value of 'n' is number, not a string"),
                c("null metadata value", "{\"__metadata__\":{\"n\":null}}", 0, "value of 'n' is null"),
                c("metadata not an object", "{\"__metadata__\":\"x\"}", 0, "__metadata__ is not an object"),
                c("duplicate metadata", "{\"__metadata__\":{},\"__metadata__\":{}}", 0, "Duplicate field '__metadata__'"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void rejectsWithTheFileAndTheProblem(String label, byte[] content, String problem) throws IOException {
        Path p = StFiles.write(dir, "bad.safetensors", content);
        SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> SafetensorsFile.open(p), label);
        assertEquals(p, e.file());
        assertTrue(e.getMessage().startsWith(p + ": ") && e.getMessage().contains(problem),
                label + ": expected the file and '" + problem + "' in: " + e.getMessage());
    }

    @Test
    void aMissingFileIsACheckedErrorNamingIt() {
        Path p = dir.resolve("absent.safetensors");
        IOException e = assertThrows(IOException.class, () -> SafetensorsFile.open(p));
        assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
    }

    /** A valid file with several dtypes, metadata and a zero-size tensor. */
    private Path validFile() throws IOException {
        Random r = new Random(7);
        Map<String, Tensor> m = new LinkedHashMap<>();
        float[] a = new float[24];
        for (int i = 0; i < a.length; i++) a[i] = (float) r.nextGaussian();
        m.put("encoder.layer.0.weight", Tensor.ofFloats(a, 4, 6));
        m.put("encoder.layer.0.bias", Tensor.of(DType.BF16, Arrays.copyOf(a, 6), 6));
        m.put("half", Tensor.of(DType.F16, Arrays.copyOf(a, 5), 5));
        m.put("ids", Tensor.ofInts(new int[] {1, 2, 3}, 3));
        m.put("none", Tensor.empty(DType.F32, 0));
        Path p = dir.resolve("valid.safetensors");
        SafetensorsWriter.write(p, m, Map.of("format", "pt"));
        for (Tensor t : m.values()) t.close();
        return p;
    }

    /**
     * Opens {@code content}: it must either be rejected with a SafetensorsFormatException naming
     * the file, or open as a file whose every tensor can be read in full. Returns whether it was rejected.
     */
    private boolean openOrReject(byte[] content, String label) throws IOException {
        Path p = StFiles.write(dir, "fuzz.safetensors", content);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            for (TensorEntry e : f.entries()) {
                byte[] bytes = f.segment(e.name()).toArray(ValueLayout.JAVA_BYTE);
                assertEquals(e.byteSize(), bytes.length);
                if (e.dtype().runtimeType().isPresent()) f.tensor(e.name()).toFloatArray();
            }
            return false;
        } catch (SafetensorsFormatException e) {
            assertTrue(e.getMessage().startsWith(p + ": "), label + ": message does not name the file: " + e.getMessage());
            return true;
        } catch (RuntimeException | Error e) {
            fail(label + ": unchecked " + e, e);
            return true;
        }
    }

    @Test
    void randomByteFlipsAreEitherValidOrRejectedCleanly() throws IOException {
        byte[] valid = Files.readAllBytes(validFile());
        long headerLen = valid[0] & 0xff | (valid[1] & 0xff) << 8;
        int rejected = 0;
        int seeds = 600;
        for (int seed = 0; seed < seeds; seed++) {
            Random r = new Random(seed);
            byte[] b = valid.clone();
            int flips = 1 + r.nextInt(3);
            for (int k = 0; k < flips; k++) {
                // Mostly the length and the header, where damage matters; sometimes the data.
                int pos = r.nextInt(4) == 0 ? r.nextInt(b.length) : r.nextInt((int) (8 + headerLen));
                b[pos] = switch (r.nextInt(3)) {
                    case 0 -> (byte) (b[pos] ^ (1 << r.nextInt(8)));
                    case 1 -> (byte) r.nextInt(256);
                    default -> (byte) "{}[],:\"0123456789-eE.".charAt(r.nextInt(21));
                };
            }
            if (openOrReject(b, "seed " + seed)) rejected++;
        }
        // Most header damage breaks the JSON or the offsets; some (a letter of a name, a metadata value) is harmless.
        assertTrue(rejected > seeds / 2, "only " + rejected + " of " + seeds + " damaged files were rejected");
    }

    @Test
    void everyTruncationAndEveryAppendIsRejected() throws IOException {
        byte[] valid = Files.readAllBytes(validFile());
        for (int len = 0; len < valid.length; len++) {
            assertTrue(openOrReject(Arrays.copyOf(valid, len), "truncated to " + len), "truncated to " + len + " was accepted");
        }
        for (int extra = 1; extra <= 9; extra++) {
            assertTrue(openOrReject(Arrays.copyOf(valid, valid.length + extra), extra + " bytes appended"));
        }
    }

    @Test
    void randomHeaderLengthsAreRejectedWithoutReadingPastTheFile() throws IOException {
        byte[] valid = Files.readAllBytes(validFile());
        Random r = new Random(3);
        long realLen = java.nio.ByteBuffer.wrap(valid).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(0);
        for (int i = 0; i < 200; i++) {
            byte[] b = valid.clone();
            long n = switch (i % 4) {
                case 0 -> r.nextLong();
                case 1 -> r.nextInt(valid.length * 2);
                case 2 -> realLen + 1 + r.nextInt(16);
                default -> Math.max(0, realLen - 1 - r.nextInt(16));
            };
            if (n == realLen) continue;
            java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(0, n);
            assertTrue(openOrReject(b, "header length " + n), "header length " + n + " was accepted");
        }
    }
}
