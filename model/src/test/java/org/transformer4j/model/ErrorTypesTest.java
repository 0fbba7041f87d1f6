// ErrorTypesTest — misuse gets the exception type that says what went wrong: a config.json syntax
// error is a CheckpointException about config.json (not a safetensors format error); closed Weights
// and a closed CpuBackend give IllegalStateException; decoding an id outside the vocabulary is an
// IllegalArgumentException naming the id (tiktoken threw NullPointerException, tokenizer.json
// returned "" silently); a symbolic-link loop is reported as one.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.model.tokenizer.HfTokenizer;
import org.transformer4j.model.tokenizer.TiktokenTokenizer;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.HfConfig;
import org.transformer4j.model.weights.SafetensorsCheckpoint;
import org.transformer4j.model.weights.SafetensorsFormatException;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.DType;

class ErrorTypesTest {

    @TempDir Path dir;

    @Test
    void aConfigJsonSyntaxErrorIsAboutConfigJson() throws Exception {
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"gpt2\",");
        CheckpointException e = assertThrows(CheckpointException.class, () -> HfConfig.read(dir));
        assertFalse(e instanceof SafetensorsFormatException, "a JSON file is not a safetensors file: " + e.getClass());
        assertTrue(e.getMessage().startsWith(dir.resolve("config.json") + ": config.json is not valid JSON"), e.getMessage());
    }

    @Test
    void closedWeightsAndAClosedBackendAreIllegalStates() {
        CpuBackend cpu = new CpuBackend();
        Weights w = Weights.random(Attack.gpt(), cpu, 1);
        Transformer m = new Transformer(w, cpu);
        KvState st = m.newState(1, 8);
        w.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> m.logits(new int[][] {{1, 2}}));
        assertTrue(e.getMessage().contains("Weights are closed"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> m.prefill(st, 0, new int[] {1}));
        assertThrows(IllegalStateException.class, () -> new Generator(m).generate(new int[] {1}, Generator.Options.greedy(2), null));
        st.close();
        cpu.close();
        IllegalStateException b = assertThrows(IllegalStateException.class, () -> cpu.empty(DType.F32, 2));
        assertTrue(b.getMessage().contains("CpuBackend is closed"), b.getMessage());
        assertThrows(IllegalStateException.class, () -> Weights.random(Attack.gpt(), cpu, 2));
        cpu.close();                                                                           // idempotent
    }

    @Test
    void decodingAnIdOutsideTheVocabularyNamesIt() throws Exception {
        try (TiktokenTokenizer gpt2 = TiktokenTokenizer.gpt2()) {
            assertEquals("Hello", gpt2.decode(gpt2.encode("Hello")));
            for (int bad : new int[] {50_300, -1, Integer.MAX_VALUE}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> gpt2.decode(new int[] {15496, bad}));
                assertTrue(e.getMessage().contains("id " + bad + " at position 1"), e.getMessage());
            }
        }
        Path file = dir.resolve("tokenizer.json");
        org.transformer4j.model.tokenizer.FuzzAccess.writeWordPiece(file);
        try (HfTokenizer t = HfTokenizer.load(file)) {
            assertEquals("hello world", t.decode(new int[] {4, 5}));
            for (int bad : new int[] {10, -3, 1 << 30}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.decode(new int[] {4, bad}));
                assertTrue(e.getMessage().contains("id " + bad + " at position 1") && e.getMessage().contains("[0, 10)"), e.getMessage());
            }
        }
    }

    @Test
    void aSymbolicLinkLoopIsReportedAsOne() throws Exception {
        Path a = dir.resolve("a"), b = dir.resolve("b");
        Files.createSymbolicLink(a, b);
        Files.createSymbolicLink(b, a);
        CheckpointException e = assertThrows(CheckpointException.class, () -> SafetensorsCheckpoint.open(a));
        assertTrue(e.getMessage().contains("loop of symbolic links"), e.getMessage());
        Path dangling = dir.resolve("dangling");
        Files.createSymbolicLink(dangling, dir.resolve("nowhere"));
        CheckpointException d = assertThrows(CheckpointException.class, () -> SafetensorsCheckpoint.open(dangling));
        assertTrue(d.getMessage().contains("symbolic link to a missing"), d.getMessage());
    }
}
