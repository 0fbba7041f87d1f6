// SafetensorsTest — round trips through the writer and the memory-mapped reader, zero-copy
// views, the reference layout (alignment, order), sharded checkpoints, and a hand-written file
// in the reference format read back value by value.
package org.transformer4j.model.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Tensor;
import org.transformer4j.runtime.cpu.Half;

class SafetensorsTest {

    @TempDir Path dir;

    private static float[] random(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    @Test
    void readsAFileWrittenInTheReferenceLayoutByHand() throws IOException {
        // What safetensors.torch.save_file({"a": torch.tensor([[1., 2.], [3., 4.]]), "b": torch.tensor([7], dtype=torch.int64)})
        // produces, less the padding: sorted by offset, little-endian data, metadata strings.
        String header = "{\"__metadata__\":{\"format\":\"pt\"},\"b\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[16,24]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}";
        ByteBuffer data = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        data.putFloat(1).putFloat(2).putFloat(3).putFloat(4).putLong(7);
        Path p = StFiles.write(dir, "ref.safetensors", StFiles.bytes(header, data.array()));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(List.of("a", "b"), List.copyOf(f.names()));
            assertEquals(Map.of("format", "pt"), f.metadata());
            Tensor a = f.tensor("a");
            assertEquals(DType.F32, a.dtype());
            assertArrayEquals(new long[] {2, 2}, a.shape());
            assertArrayEquals(new float[] {1, 2, 3, 4}, a.toFloatArray());
            assertArrayEquals(new int[] {7}, f.tensor("b").toIntArray());
            // 8 + 143 header bytes: "a" is not 4-byte aligned in the mapping, so the reader hands out an aligned copy.
            assertFalse(a.storage() instanceof org.transformer4j.runtime.Storage.Host h && h.isBorrowed());
            assertEquals(16, f.segment("a").byteSize());
        }
    }

    @Test
    void roundTripsEveryRuntimeDTypeWithMetadataAndZeroCopyViews() throws IOException {
        Random r = new Random(1);
        Map<String, Tensor> in = new LinkedHashMap<>();
        in.put("w.f32", Tensor.ofFloats(random(r, 12), 3, 4));
        in.put("w.f16", Tensor.of(DType.F16, random(r, 10), 10));
        in.put("w.bf16", Tensor.of(DType.BF16, random(r, 6), 2, 3));
        in.put("ids.i32", Tensor.ofInts(new int[] {1, -2, 3}, 3));
        Tensor i64 = Tensor.empty(DType.I64, 2);
        i64.hostSegment().setAtIndex(ValueLayout.JAVA_LONG, 0, 1L << 40);
        i64.hostSegment().setAtIndex(ValueLayout.JAVA_LONG, 1, -5L);
        in.put("ids.i64", i64);
        in.put("scalar", Tensor.ofFloats(new float[] {2.5f}));
        in.put("empty", Tensor.empty(DType.F32, 0, 4));
        Path p = dir.resolve("all.safetensors");
        SafetensorsWriter.write(p, in, Map.of("format", "pt", "note", "ünïcode"));

        byte[] raw = Files.readAllBytes(p);
        long n = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, (8 + n) % 8, "data section starts 8-byte aligned, as the reference writes it");

        SafetensorsFile f = SafetensorsFile.open(p);
        try {
            assertEquals(in.keySet(), f.names());
            assertEquals("ünïcode", f.metadata().get("note"));
            for (Map.Entry<String, Tensor> e : in.entrySet()) {
                Tensor got = f.tensor(e.getKey());
                Tensor want = e.getValue();
                assertEquals(want.dtype(), got.dtype(), e.getKey());
                assertArrayEquals(want.shape(), got.shape(), e.getKey());
                assertTrue(got.storage() instanceof org.transformer4j.runtime.Storage.Host h && h.isBorrowed(),
                        e.getKey() + " is a view of the mapping, not a copy");
                assertArrayEquals(want.hostSegment().asSlice(0, want.numel() * want.dtype().byteSize()).toArray(ValueLayout.JAVA_BYTE),
                        got.hostSegment().asSlice(0, got.numel() * got.dtype().byteSize()).toArray(ValueLayout.JAVA_BYTE), e.getKey());
            }
            assertEquals(Half.roundToBf16(in.get("w.bf16").getFloat(1, 2)), f.tensor("w.bf16").getFloat(1, 2), 0f);
            // Sorted like the reference: wider dtypes first, then by name, so offsets stay aligned.
            List<TensorEntry> es = f.entries();
            for (int i = 1; i < es.size(); i++) {
                assertTrue(es.get(i - 1).dtype().bits() >= es.get(i).dtype().bits(), es.toString());
            }
            Tensor view = f.tensor("w.f32");
            f.close();
            assertThrows(IllegalStateException.class, view::toFloatArray, "a view of a closed file fails cleanly");
        } finally {
            f.close();      // closing twice is allowed
        }
        for (Tensor t : in.values()) t.close();
    }

    @Test
    void writerMakesTransposedViewsContiguous() throws IOException {
        try (Tensor t = Tensor.ofFloats(new float[] {1, 2, 3, 4, 5, 6}, 2, 3)) {
            Path p = dir.resolve("t.safetensors");
            SafetensorsWriter.write(p, Map.of("t", t.transpose(0, 1)), Map.of());
            try (SafetensorsFile f = SafetensorsFile.open(p)) {
                assertArrayEquals(new long[] {3, 2}, f.tensor("t").shape());
                assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, f.tensor("t").toFloatArray());
            }
        }
    }

    @Test
    void writerRejectsBadInput() {
        try (Tensor t = Tensor.ofFloats(new float[] {1})) {
            assertThrows(IllegalArgumentException.class,
                    () -> SafetensorsWriter.write(dir.resolve("x"), Map.of("__metadata__", t), Map.of()));
            var seg = t.hostSegment().asSlice(0, 4);
            assertThrows(IllegalArgumentException.class, () -> SafetensorsWriter.writeRaw(dir.resolve("x"),
                    List.of(new SafetensorsWriter.RawTensor("a", SafetensorsDType.F32, new long[] {2}, seg)), Map.of()));
            assertThrows(IllegalArgumentException.class, () -> SafetensorsWriter.writeRaw(dir.resolve("x"),
                    List.of(new SafetensorsWriter.RawTensor("a", SafetensorsDType.F32, new long[] {1}, seg),
                            new SafetensorsWriter.RawTensor("a", SafetensorsDType.F32, new long[] {1}, seg)), Map.of()));
        }
        assertFalse(Files.exists(dir.resolve("x")));
    }

    @Test
    void rawDTypesWithoutARuntimeTypeAreReadableAsBytesAndU8IsATensor() throws IOException {
        byte[] data = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
        String header = "{\"q\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
                + "\"d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[4,12]},"
                + "\"f4\":{\"dtype\":\"F4\",\"shape\":[2,4],\"data_offsets\":[12,16]}}";
        Path p = StFiles.write(dir, "raw.safetensors", StFiles.bytes(header, data));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertArrayEquals(new byte[] {5, 6, 7, 8, 9, 10, 11, 12}, f.segment("d").toArray(ValueLayout.JAVA_BYTE));
            var e = assertThrows(IllegalArgumentException.class, () -> f.tensor("d"));
            assertTrue(e.getMessage().contains("raw.safetensors") && e.getMessage().contains("F64"), e.getMessage());
            assertEquals(4, f.entry("f4").byteSize());
            try (Tensor q = f.tensor("q")) {                                  // U8 (MXFP4 blocks and scales) is a runtime type
                assertEquals(DType.U8, q.dtype());
                assertArrayEquals(new float[] {1, 2, 3, 4}, q.toFloatArray());
            }
        }
    }

    @Test
    void shardedCheckpointThroughTheIndex() throws IOException {
        try (Tensor a = Tensor.ofFloats(new float[] {1, 2}, 2);
             Tensor b = Tensor.ofFloats(new float[] {3, 4, 5}, 3);
             Tensor c = Tensor.of(DType.BF16, new float[] {6}, 1)) {
            SafetensorsWriter.write(dir.resolve("model-00001-of-00002.safetensors"), Map.of("a", a, "b", b), Map.of());
            SafetensorsWriter.write(dir.resolve("model-00002-of-00002.safetensors"), Map.of("c", c), Map.of());
            Files.writeString(dir.resolve(SafetensorsCheckpoint.INDEX), "{\"metadata\":{\"total_size\":22},\"weight_map\":{"
                    + "\"a\":\"model-00001-of-00002.safetensors\",\"b\":\"model-00001-of-00002.safetensors\","
                    + "\"c\":\"model-00002-of-00002.safetensors\"}}");
            try (SafetensorsCheckpoint ck = SafetensorsCheckpoint.open(dir)) {
                assertEquals(java.util.Set.of("a", "b", "c"), ck.names());
                assertEquals(2, ck.files().size());
                assertArrayEquals(new float[] {3, 4, 5}, ck.tensor("b").toFloatArray());
                assertEquals(6f, ck.tensor("c").getFloat(0), 0f);
            }
            // A tensor the index lists in the wrong shard, one it does not list, a shard that is missing.
            assertRejected(dir, "{\"weight_map\":{\"a\":\"model-00002-of-00002.safetensors\","
                    + "\"b\":\"model-00001-of-00002.safetensors\",\"c\":\"model-00002-of-00002.safetensors\"}}", "does not hold it");
            assertRejected(dir, "{\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\","
                    + "\"c\":\"model-00002-of-00002.safetensors\"}}", "tensor 'b' that weight_map does not list");
            assertRejected(dir, "{\"weight_map\":{\"a\":\"gone.safetensors\"}}", "does not exist");
            assertRejected(dir, "{\"weight_map\":{\"a\":\"../model-00001-of-00002.safetensors\"}}", "not a file in the index's folder");
            assertRejected(dir, "{\"weight_map\":{\"a\":1}}", "is not a file name");
            assertRejected(dir, "{\"weight_map\":{\"a\":\"x\",\"a\":\"y\"}}", "Duplicate field 'a'");
            assertRejected(dir, "{\"metadata\":{}}", "no 'weight_map'");
            assertRejected(dir, "{\"weight_map\":", "not valid JSON");
        }
    }

    private static void assertRejected(Path dir, String index, String problem) throws IOException {
        Path p = dir.resolve("bad.index.json");
        Files.writeString(p, index);
        SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> SafetensorsCheckpoint.open(p));
        assertTrue(e.getMessage().startsWith(p.toString()) && e.getMessage().contains(problem), e.getMessage());
    }

    @Test
    void aFolderWithoutWeightsIsNamed() {
        SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> SafetensorsCheckpoint.open(dir));
        assertTrue(e.getMessage().contains(dir.toString()) && e.getMessage().contains("neither"), e.getMessage());
    }

    private static byte[] le64(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    private static byte[] concat(byte[]... parts) {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        for (byte[] p : parts) b.writeBytes(p);
        return b.toByteArray();
    }

    /** Test vectors of the reference implementation's serializer (safetensors/src/tensor.rs tests). */
    @Test
    void writerMatchesTheReferenceByteForByte() throws IOException {
        byte[] floats = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN)
                .putFloat(0).putFloat(1).putFloat(2).putFloat(3).putFloat(4).putFloat(5).array();
        try (Tensor t = Tensor.ofFloats(new float[] {0, 1, 2, 3, 4, 5}, 1, 2, 3);
             Tensor t4 = Tensor.ofFloats(new float[] {0, 1, 2, 3, 4, 5}, 1, 1, 2, 3)) {
            // test_serialization: a 64-byte header needs no padding.
            Path p = dir.resolve("a.safetensors");
            SafetensorsWriter.write(p, Map.of("attn.0", t), Map.of());
            String h = "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}";
            assertArrayEquals(concat(le64(64), h.getBytes(java.nio.charset.StandardCharsets.US_ASCII), floats), Files.readAllBytes(p));
            // test_serialization_forced_alignement: 65 bytes of JSON padded with spaces to 72.
            SafetensorsWriter.write(p, Map.of("attn0", t4), Map.of());
            String h4 = "{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}       ";
            assertArrayEquals(concat(le64(72), h4.getBytes(java.nio.charset.StandardCharsets.US_ASCII), floats), Files.readAllBytes(p));
            // test_empty, without and with metadata.
            SafetensorsWriter.write(p, Map.of(), Map.of());
            assertArrayEquals(concat(le64(8), "{}      ".getBytes(java.nio.charset.StandardCharsets.US_ASCII)), Files.readAllBytes(p));
            SafetensorsWriter.write(p, Map.of(), Map.of("framework", "pt"));
            assertArrayEquals(concat(le64(40), "{\"__metadata__\":{\"framework\":\"pt\"}}     ".getBytes(
                    java.nio.charset.StandardCharsets.US_ASCII)), Files.readAllBytes(p));
            try (SafetensorsFile f = SafetensorsFile.open(p)) {
                assertTrue(f.names().isEmpty());
                assertEquals(Map.of("framework", "pt"), f.metadata());
            }
        }
    }

    @Test
    void unknownFieldsOfATensorEntryAreIgnoredAsTheReferenceDoes() throws IOException {
        String header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":{\"anything\":[1]}}}";
        Path p = StFiles.write(dir, "extra.safetensors", StFiles.bytes(header, new byte[] {0, 0, (byte) 0x80, 0x3f}));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(1f, f.tensor("a").getFloat(0), 0f);
        }
    }

    @Test
    void filesLargerThan2GbMapAndReadTheirLastTensor() throws IOException {
        // A sparse file: 3 GiB of zeros on paper, almost nothing on disk. Real checkpoints are this size.
        long big = 3L << 30;
        String header = "{\"big\":{\"dtype\":\"U8\",\"shape\":[" + big + "],\"data_offsets\":[0," + big + "]},"
                + "\"last\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[" + big + "," + (big + 8) + "]}}";
        byte[] h = header.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        int pad = (8 - h.length % 8) % 8;
        byte[] padded = java.util.Arrays.copyOf(h, h.length + pad);
        java.util.Arrays.fill(padded, h.length, padded.length, (byte) ' ');
        Path p = dir.resolve("big.safetensors");
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(p, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE, java.nio.file.StandardOpenOption.SPARSE)) {
            ch.write(ByteBuffer.wrap(le64(padded.length)));
            ch.write(ByteBuffer.wrap(padded));
            ch.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).putFloat(-2f).flip(), 8 + padded.length + big);
        }
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(big, f.entry("big").byteSize());
            assertArrayEquals(new float[] {1.5f, -2f}, f.tensor("last").toFloatArray());
        }
    }
}
