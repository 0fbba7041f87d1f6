// TorchCheckpointTest — torch.save files (written by ci/reference/torch_save.py from PyTorch's serialization code, both
// the zip format and the legacy one) read without PyTorch: every case a state dict holds converts to the row-major values
// the generator recorded (tied copies written once, slices of a fused storage, a transposed view, a scalar, an empty
// tensor, F16 / BF16 / I64 / BOOL, a Parameter); a pickle naming any other global is refused before anything runs; a
// truncated or mangled file is a CheckpointException, never another failure.
package org.transformer4j.model.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TorchCheckpointTest {

    @TempDir
    Path tmp;

    static Path resources() throws Exception {
        URL u = TorchCheckpointTest.class.getResource("/torch");
        assertTrue(u != null, "test resources have a torch/ folder (python3 ci/reference/torch_save.py makes it)");
        return Path.of(u.toURI());
    }

    @Test
    void bothFormatsConvertToTheRecordedValues() throws Exception {
        List<String> droppedNames = new java.util.ArrayList<>();
        new ObjectMapper().readTree(resources().resolve("edge-expected.json").toFile()).get("dropped").forEach(n -> droppedNames.add(n.asText()));
        assertEquals(List.of("lm_head.weight"), droppedNames);
        for (String file : List.of("edge.bin", "edge-legacy.bin")) {
            Path out = tmp.resolve(file + ".safetensors");
            TorchConvert.Converted c = TorchConvert.convert(resources().resolve(file), out, false);
            assertEquals(droppedNames, c.droppedCopies(), file + ": the tied copy written once");
            try (SafetensorsFile got = SafetensorsFile.open(out); SafetensorsFile want = SafetensorsFile.open(resources().resolve("edge-expected.safetensors"))) {
                assertEquals(new TreeSet<>(want.names()), new TreeSet<>(got.names()), file + ": the names kept");
                assertEquals(java.util.Map.of("format", "pt"), got.metadata(), file + ": safetensors' convert.py metadata");
                for (String name : want.names()) {
                    TensorEntry w = want.entry(name), g = got.entry(name);
                    assertEquals(w.dtype(), g.dtype(), file + " " + name);
                    assertArrayEquals(w.shape(), g.shape(), file + " " + name);
                    assertArrayEquals(want.segment(name).toArray(ValueLayout.JAVA_BYTE), got.segment(name).toArray(ValueLayout.JAVA_BYTE),
                            file + " " + name + ": the same bytes");
                }
            }
        }
    }

    @Test
    void entriesDescribeViewsOfTheirStorages() throws Exception {
        try (TorchCheckpoint ck = TorchCheckpoint.open(resources().resolve("edge.bin")); Arena a = Arena.ofConfined()) {
            assertTrue(ck.sameElements("lm_head.weight", "model.embed_tokens.weight"));
            assertFalse(ck.sameElements("attn.q.weight", "attn.k.weight"), "slices of one storage at different offsets");
            TorchCheckpoint.Entry k = ck.entry("attn.k.weight");
            assertEquals(12, k.offset());
            assertTrue(k.contiguous());
            assertFalse(ck.entry("proj.weight_t").contiguous());
            assertArrayEquals(new long[] {}, ck.entry("scale").shape());
            assertEquals(SafetensorsDType.BOOL, ck.entry("mask").dtype());
            assertEquals(0, ck.bytes("empty", a).byteSize());
            assertTrue(ck.bytes("attn.k.weight", a).isMapped(), "a contiguous tensor is a view of the mapped file");
        }
    }

    /**
     * A pickle that calls os.system: refused at its GLOBAL (the reader never looks up, let alone calls, a function it does
     * not know), naming it; the file the call would have made does not exist.
     */
    @Test
    void aPickleNamingAnyOtherGlobalIsRefused() throws Exception {
        CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(resources().resolve("malicious.bin")));
        assertTrue(e.getMessage().contains("'posix.system'") && e.getMessage().contains("never runs code"), e.getMessage());
        assertFalse(Files.exists(Path.of("/tmp/t4j-pickle-ran")));
        Path plain = tmp.resolve("plain.pkl");
        Files.write(plain, new byte[] {(byte) 0x80, 2, 'K', 7, '.'});               // pickle.dumps(7, protocol=2)
        e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(plain));
        assertTrue(e.getMessage().contains("not torch.save's magic number"), e.getMessage());
    }

    @Test
    void truncatedAndMangledFilesAreCheckpointExceptions() throws Exception {
        for (String name : List.of("edge.bin", "edge-legacy.bin")) {
            byte[] whole = Files.readAllBytes(resources().resolve(name));
            for (int cut : new int[] {3, whole.length / 3, whole.length / 2, whole.length - 9}) {
                Path f = tmp.resolve("cut-" + cut + "-" + name);
                Files.write(f, java.util.Arrays.copyOf(whole, cut));
                assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(f).close(), name + " cut at " + cut);
            }
            Random r = new Random(5);
            for (int i = 0; i < 300; i++) {
                byte[] b = whole.clone();
                for (int j = 0; j < 1 + r.nextInt(4); j++) b[r.nextInt(b.length)] = (byte) r.nextInt(256);
                Path f = tmp.resolve("mangled-" + name);
                Files.write(f, b);
                try (TorchCheckpoint ck = TorchCheckpoint.open(f); Arena a = Arena.ofConfined()) {
                    for (String t : ck.names()) ck.bytes(t, a);                       // a flip inside the data reads as data
                } catch (CheckpointException expected) {
                    // named problem: fine
                }
            }
        }
    }

    @Test
    void aTargetIsNotOverwrittenUnlessAsked() throws Exception {
        Path out = tmp.resolve("model.safetensors");
        TorchConvert.convert(resources().resolve("edge.bin"), out, false);
        CheckpointException e = assertThrows(CheckpointException.class, () -> TorchConvert.convert(resources().resolve("edge.bin"), out, false));
        assertTrue(e.getMessage().contains("exists"), e.getMessage());
        assertEquals(12, TorchConvert.convert(resources().resolve("edge.bin"), out, true).tensors());
        Set<String> left;
        try (var s = Files.list(tmp)) {
            left = new TreeSet<>(s.map(p -> p.getFileName().toString()).toList());
        }
        assertEquals(Set.of("model.safetensors"), left, "no temporary file left behind");
    }
}
