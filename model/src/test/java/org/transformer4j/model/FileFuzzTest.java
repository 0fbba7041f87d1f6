// FileFuzzTest — damaged config.json and tokenizer.json files (truncations, byte flips, fields
// retyped or given extreme values), loaded the way users load them (Pretrained.load, HfTokenizer.load):
// each loads or is rejected with a checked exception naming the file — config.json problems as a
// CheckpointException that is not a SafetensorsFormatException — and none escapes as an unchecked
// exception or an Error, or takes longer than a bound. Safetensors (SafetensorsFuzzTest) and ONNX
// (BertOnnxImporterTest.damagedFilesNeverEscapeAsUncheckedExceptions) files are fuzzed beside them.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.model.tokenizer.HfTokenizer;
import org.transformer4j.model.tokenizer.TokenizerFormatException;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.SafetensorsFormatException;
import org.transformer4j.runtime.CpuBackend;

class FileFuzzTest {

    static final CpuBackend CPU = new CpuBackend();

    @TempDir Path dir;

    /** Loads the folder: true when rejected with a CheckpointException naming config.json (or the checkpoint, for a config that parsed). */
    private boolean loadOrReject(Path folder, String label) {
        try {
            Pretrained.load(folder, CPU).close();
            return false;
        } catch (SafetensorsFormatException e) {
            assertFalse(e.getMessage().startsWith(folder.resolve("config.json") + ":"),
                    label + ": a config.json problem reported as a safetensors one: " + e.getMessage());
            return true;
        } catch (CheckpointException e) {
            assertTrue(e.getMessage().startsWith(folder.toString()), label + ": " + e.getMessage());
            return true;
        } catch (IOException | RuntimeException | Error e) {
            fail(label + ": " + e, e);
            return true;
        }
    }

    @Test
    void damagedConfigJsonIsACheckpointExceptionNamingIt() throws Exception {
        Path folder = dir.resolve("gpt2");
        Files.createDirectories(folder);
        try (Weights w = Weights.random(Attack.gpt(), CPU, 1)) {
            PretrainedTest.gpt2Folder(w, folder);
        }
        Path cfg = folder.resolve("config.json");
        byte[] valid = Files.readAllBytes(cfg);
        String text = new String(valid, StandardCharsets.UTF_8);
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            int rejected = 0, tries = 0;
            for (int len = 0; len < valid.length; len += 5, tries++) {
                Files.write(cfg, Arrays.copyOf(valid, len));
                if (loadOrReject(folder, "truncated to " + len)) rejected++;
            }
            for (int seed = 0; seed < 150; seed++, tries++) {
                Random r = new Random(seed);
                byte[] b = valid.clone();
                for (int k = 0, n = 1 + r.nextInt(3); k < n; k++) b[r.nextInt(b.length)] = (byte) r.nextInt(256);
                Files.write(cfg, b);
                if (loadOrReject(folder, "seed " + seed)) rejected++;
            }
            // every numeric field set to values that attack sizes and ids
            String[] fields = {"n_embd", "n_layer", "n_head", "n_inner", "n_positions", "vocab_size", "layer_norm_epsilon"};
            String[] values = {"0", "-1", "2147483648", "1e308", "1.5", "null", "\"64\"", "[]", "{}", "true", "NaN", "9223372036854775807"};
            for (String f : fields) {
                for (String v : values) {
                    String damaged = text.replaceFirst("\"" + f + "\":[^,}]*", "\"" + f + "\":" + v);
                    Files.writeString(cfg, damaged);
                    if (loadOrReject(folder, f + " = " + v)) rejected++;
                    tries++;
                }
            }
            Files.writeString(cfg, text.replace("\"n_inner\":128,", ""));
            assertTrue(loadOrReject(folder, "n_inner absent"), "its default, 4 × n_embd = 256, does not fit the stored 128");
            Files.write(cfg, valid);
            assertFalse(loadOrReject(folder, "the valid file"), "the undamaged folder loads");
            assertTrue(rejected > tries / 2, "only " + rejected + " of " + tries + " damaged configs were rejected");
        });
    }

    @Test
    void damagedTokenizerJsonBytesAreATokenizerFormatException() throws Exception {
        Path file = dir.resolve("tokenizer.json");
        org.transformer4j.model.tokenizer.FuzzAccess.writeWordPiece(file);
        byte[] valid = Files.readAllBytes(file);
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            int rejected = 0, tries = 0;
            for (int len = 0; len < valid.length; len += 37, tries++) {
                Files.write(file, Arrays.copyOf(valid, len));
                if (tokenizeOrReject(file, "truncated to " + len)) rejected++;
            }
            for (int seed = 0; seed < 150; seed++, tries++) {
                Random r = new Random(seed);
                byte[] b = valid.clone();
                for (int k = 0, n = 1 + r.nextInt(3); k < n; k++) b[r.nextInt(b.length)] = (byte) r.nextInt(256);
                Files.write(file, b);
                if (tokenizeOrReject(file, "seed " + seed)) rejected++;
            }
            assertTrue(rejected > tries / 3, "only " + rejected + " of " + tries + " damaged tokenizer files were rejected");
        });
    }

    /** Loads, encodes and decodes: true when rejected with a TokenizerFormatException naming the file. */
    private static boolean tokenizeOrReject(Path file, String label) {
        try (HfTokenizer t = HfTokenizer.load(file)) {
            int[] ids = t.encode("hello unbelievable world!");
            t.decode(ids);
            return false;
        } catch (TokenizerFormatException e) {
            assertTrue(e.getMessage().startsWith(file.toString()), label + ": " + e.getMessage());
            return true;
        } catch (IllegalStateException e) {       // a file that loaded but fails on this text: named, by contract
            assertTrue(e.getMessage().startsWith(file.toString()), label + ": " + e.getMessage());
            return true;
        } catch (IOException | RuntimeException | Error e) {
            fail(label + ": " + e, e);
            return true;
        }
    }
}
