// LoadAtSizeTest — loading checkpoints at size (issue 16 item 3, issue 20 item 3): a sharded BF16
// GPT-2 folder of ~42 MB, written byte by byte here (not by the project's writer), loads on the CPU
// backend with less heap allocated than a tenth of its size (the old path made a float[] of every
// tensor: twice the file), holds exactly the file's values (transposed, split, converted), and stays
// a view of the mapped file where it can; a file the machine cannot hold and a tensor too large to
// address are refused naming the file and the bytes (sparse files: the bytes are never written); a
// 4 GiB tensor is a view, not a heap copy, and asking it for a float[] says why not instead of a heap OOM.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.SafetensorsCheckpoint;
import org.transformer4j.model.weights.SafetensorsFile;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Tensor;
import org.transformer4j.runtime.Uploader;

class LoadAtSizeTest {

    static final CpuBackend CPU = new CpuBackend();

    // ~21M parameters: 42 MB in BF16, the largest tensor (wte) 16 MB.
    static final int V = 16384, C = 512, F = 2048, L = 4, NH = 8, P = 128;

    /** One stored tensor: name, dtype name, shape, and its little-endian bytes (BF16 bits here). */
    record Stored(String name, String dtype, long[] shape, short[] bits) {
        long bytes() { return 2L * bits.length; }
    }

    /** The bf16 value with bits {@code b} (the upper half of a float), for expectations. */
    static float bf16(short b) { return Float.intBitsToFloat((b & 0xffff) << 16); }

    static Stored random(SplittableRandom rnd, String name, double std, long... shape) {
        long n = 1;
        for (long d : shape) n *= d;
        short[] bits = new short[Math.toIntExact(n)];
        for (int i = 0; i < bits.length; i++) bits[i] = (short) (Float.floatToRawIntBits((float) (rnd.nextGaussian() * std)) >>> 16);
        return new Stored(name, "BF16", shape, bits);
    }

    /** GPT-2's own names and Conv1D layouts ([in, out], fused c_attn), as transformers saves them. */
    static List<Stored> gpt2(long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        List<Stored> t = new ArrayList<>();
        t.add(random(rnd, "wte.weight", 0.1, V, C));
        t.add(random(rnd, "wpe.weight", 0.02, P, C));
        for (int i = 0; i < L; i++) {
            String h = "h." + i + ".";
            t.add(random(rnd, h + "ln_1.weight", 1, C));
            t.add(random(rnd, h + "ln_1.bias", 0.02, C));
            t.add(random(rnd, h + "attn.c_attn.weight", 0.05, C, 3 * C));
            t.add(random(rnd, h + "attn.c_attn.bias", 0.02, 3 * C));
            t.add(random(rnd, h + "attn.c_proj.weight", 0.05, C, C));
            t.add(random(rnd, h + "attn.c_proj.bias", 0.02, C));
            t.add(random(rnd, h + "ln_2.weight", 1, C));
            t.add(random(rnd, h + "ln_2.bias", 0.02, C));
            t.add(random(rnd, h + "mlp.c_fc.weight", 0.05, C, F));
            t.add(random(rnd, h + "mlp.c_fc.bias", 0.02, F));
            t.add(random(rnd, h + "mlp.c_proj.weight", 0.05, F, C));
            t.add(random(rnd, h + "mlp.c_proj.bias", 0.02, C));
        }
        t.add(random(rnd, "ln_f.weight", 1, C));
        t.add(random(rnd, "ln_f.bias", 0.02, C));
        return t;
    }

    static String config(int vocab, int width, int layers, int heads, int positions, int inner) {
        return String.format(Locale.ROOT, "{\"model_type\":\"gpt2\",\"n_embd\":%d,\"n_layer\":%d,\"n_head\":%d,\"n_inner\":%d,"
                + "\"n_positions\":%d,\"vocab_size\":%d,\"torch_dtype\":\"bfloat16\"}", width, layers, heads, inner, positions, vocab);
    }

    /** u64 LE header length | JSON header padded with spaces to 8 bytes | data (none written when {@code data} is false: sparse). */
    static long writeFile(Path file, List<Stored> tensors, boolean data) throws IOException {
        StringBuilder h = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        long off = 0;
        for (Stored s : tensors) {
            long[] shape = s.shape();
            long bytes = s.bits() != null ? s.bytes() : (s.dtype().equals("F32") ? 4L : 2L) * prod(shape);
            h.append(String.format(Locale.ROOT, ",\"%s\":{\"dtype\":\"%s\",\"shape\":%s,\"data_offsets\":[%d,%d]}", s.name(), s.dtype(),
                    java.util.Arrays.toString(shape).replace(" ", ""), off, off + bytes));
            off += bytes;
        }
        h.append('}');
        while ((h.length() + 8) % 8 != 0) h.append(' ');
        byte[] header = h.toString().getBytes(StandardCharsets.UTF_8);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length);
            f.write(len.array());
            f.write(header);
            if (data) {
                for (Stored s : tensors) {
                    ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(s.bytes())).order(ByteOrder.LITTLE_ENDIAN);
                    for (short v : s.bits()) b.putShort(v);
                    f.write(b.array());
                }
            }
            f.setLength(8 + header.length + off);                 // sparse where nothing was written
        }
        return off;
    }

    static long prod(long[] shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    /** Splits {@code tensors} over {@code shards} files and writes model.safetensors.index.json, as transformers does. */
    static void writeSharded(Path dir, List<Stored> tensors, int shards) throws IOException {
        int per = (tensors.size() + shards - 1) / shards;
        StringBuilder map = new StringBuilder();
        long total = 0;
        for (int s = 0; s < shards; s++) {
            String name = String.format(Locale.ROOT, "model-%05d-of-%05d.safetensors", s + 1, shards);
            List<Stored> part = tensors.subList(s * per, Math.min(tensors.size(), (s + 1) * per));
            total += writeFile(dir.resolve(name), part, true);
            for (Stored t : part) map.append(map.isEmpty() ? "" : ",").append('"').append(t.name()).append("\":\"").append(name).append('"');
        }
        Files.writeString(dir.resolve(SafetensorsCheckpoint.INDEX), "{\"metadata\":{\"total_size\":" + total + "},\"weight_map\":{" + map + "}}");
    }

    /** Heap bytes allocated by all threads so far (HotSpot's per-thread allocation counters). */
    static long allocated() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getTotalThreadAllocatedBytes();
    }

    @Test
    void aShardedBf16CheckpointLoadsWithoutAHeapCopyAndHoldsTheFileValues(@TempDir Path dir) throws Exception {
        List<Stored> stored = gpt2(16);
        writeSharded(dir, stored, 3);
        Files.writeString(dir.resolve("config.json"), config(V, C, L, NH, P, F));
        long fileBytes = 0;
        Map<String, Stored> byName = new LinkedHashMap<>();
        for (Stored s : stored) {
            fileBytes += s.bytes();
            byName.put(s.name(), s);
        }
        try (Weights warm = Pretrained.load(dir, CPU, DType.BF16)) {    // class loading and JIT out of the measurement
            assertEquals(DType.BF16, warm.dtype());
        }
        for (DType dt : new DType[] {DType.BF16, DType.F32}) {
            long before = allocated();
            Weights w = Pretrained.load(dir, CPU, dt);
            long heap = allocated() - before;
            MemorySegment tokens = w.embeddings.tokens().hostSegment();
            try (w) {
                // A heap copy of any kind would allocate at least the largest tensor (16 MB); the old loader, a
                // float[] of every tensor: 2 × the file in BF16.
                assertTrue(heap < fileBytes / 10, dt + ": loading " + fileBytes + " bytes allocated " + heap + " heap bytes");
                assertEquals(dt, w.dtype());
                assertEquals(dt == DType.BF16, Uploader.isView(w.embeddings.tokens()),
                        dt + ": the token table is " + (dt == DType.BF16 ? "stored as BF16: a view" : "converted: a copy"));
                assertFalse(Uploader.isView(w.decoder.layers().get(0).self().q()), "a transposed Conv1D is a copy");
                checkValues(w, byName);
            }
            // the view's memory (the mapped file) or the copy's is gone with the weights
            assertThrows(IllegalStateException.class, () -> tokens.get(ValueLayout.JAVA_SHORT, 0), dt + ": memory released on close");
        }
        System.setProperty("t4j.load.mapped", "false");
        try (Weights w = Pretrained.load(dir, CPU, DType.BF16)) {
            assertFalse(Uploader.isView(w.embeddings.tokens()), "-Dt4j.load.mapped=false copies");
            checkValues(w, byName);
        } finally {
            System.clearProperty("t4j.load.mapped");
        }
    }

    /** Every element of every tensor against the stored bits, through GPT-2's transposes and the c_attn split. */
    static void checkValues(Weights w, Map<String, Stored> s) {
        same("wte", w.embeddings.tokens(), s.get("wte.weight"), false, 0, V);
        same("wpe", w.embeddings.positions(), s.get("wpe.weight"), false, 0, P);
        for (int i = 0; i < L; i++) {
            Weights.Layer l = w.decoder.layers().get(i);
            String h = "h." + i + ".";
            Tensor[] qkv = {l.self().q(), l.self().k(), l.self().v()};
            Tensor[] qkvb = {l.self().qb(), l.self().kb(), l.self().vb()};
            for (int j = 0; j < 3; j++) {
                same(h + "q/k/v " + j, qkv[j], s.get(h + "attn.c_attn.weight"), true, j * C, C);
                same(h + "q/k/v bias " + j, qkvb[j], s.get(h + "attn.c_attn.bias"), false, j * C, C);
            }
            same(h + "o", l.self().o(), s.get(h + "attn.c_proj.weight"), true, 0, C);
            same(h + "ob", l.self().ob(), s.get(h + "attn.c_proj.bias"), false, 0, C);
            same(h + "up", l.mlp().up(), s.get(h + "mlp.c_fc.weight"), true, 0, F);
            same(h + "upb", l.mlp().upb(), s.get(h + "mlp.c_fc.bias"), false, 0, F);
            same(h + "down", l.mlp().down(), s.get(h + "mlp.c_proj.weight"), true, 0, C);
            same(h + "downb", l.mlp().downb(), s.get(h + "mlp.c_proj.bias"), false, 0, C);
            same(h + "ln_1", l.attnNorm().weight(), s.get(h + "ln_1.weight"), false, 0, C);
            same(h + "ln_2 bias", l.mlpNorm().bias(), s.get(h + "ln_2.bias"), false, 0, C);
        }
        same("ln_f", w.decoder.finalNorm().weight(), s.get("ln_f.weight"), false, 0, C);
    }

    /**
     * {@code got} equals the stored tensor: for {@code transposed} (a Conv1D [in, N]) got[o][i] = stored[i][from + o]
     * for o < n; otherwise got = stored[..., from : from + n] (vectors) or stored itself.
     */
    static void same(String what, Tensor got, Stored st, boolean transposed, int from, int n) {
        long[] shape = st.shape();
        float[] g = got.toFloatArray();
        if (transposed) {
            int in = (int) shape[0], cols = (int) shape[1];
            assertEquals(List.of((long) n, (long) in), List.of(got.shape(0), got.shape(1)), what);
            for (int o = 0; o < n; o++) {
                for (int i = 0; i < in; i++) {
                    float want = bf16(st.bits()[i * cols + from + o]);
                    if (Float.compare(want, g[o * in + i]) != 0) {
                        throw new AssertionError(what + " [" + o + ", " + i + "]: got " + g[o * in + i] + ", file holds " + want);
                    }
                }
            }
        } else if (shape.length == 1) {
            assertEquals(n, g.length, what);
            for (int i = 0; i < n; i++) {
                if (Float.compare(bf16(st.bits()[from + i]), g[i]) != 0) throw new AssertionError(what + " [" + i + "]");
            }
        } else {
            assertEquals(st.bits().length, g.length, what);
            for (int i = 0; i < g.length; i++) {
                if (Float.compare(bf16(st.bits()[i]), g[i]) != 0) throw new AssertionError(what + " element " + i);
            }
        }
    }

    @Test
    void aFileTheMachineCannotHoldIsRefusedNamingTheFileAndTheBytes(@TempDir Path dir) throws Exception {
        // A GPT-2 whose token table alone claims 2^24 × 2^14 BF16 = 512 GiB: header only, the file is sparse.
        int vocab = 1 << 24, c = 1 << 14;
        List<Stored> t = new ArrayList<>();
        t.add(new Stored("wte.weight", "BF16", new long[] {vocab, c}, null));
        t.add(new Stored("wpe.weight", "BF16", new long[] {8, c}, null));
        String h = "h.0.";
        for (Object[] e : new Object[][] {{"ln_1.weight", new long[] {c}}, {"ln_1.bias", new long[] {c}},
                {"attn.c_attn.weight", new long[] {c, 3 * c}}, {"attn.c_attn.bias", new long[] {3 * c}},
                {"attn.c_proj.weight", new long[] {c, c}}, {"attn.c_proj.bias", new long[] {c}},
                {"ln_2.weight", new long[] {c}}, {"ln_2.bias", new long[] {c}},
                {"mlp.c_fc.weight", new long[] {c, 4 * c}}, {"mlp.c_fc.bias", new long[] {4 * c}},
                {"mlp.c_proj.weight", new long[] {4 * c, c}}, {"mlp.c_proj.bias", new long[] {c}}}) {
            t.add(new Stored(h + e[0], "BF16", (long[]) e[1], null));
        }
        t.add(new Stored("ln_f.weight", "BF16", new long[] {c}, null));
        t.add(new Stored("ln_f.bias", "BF16", new long[] {c}, null));
        Path file = dir.resolve("model.safetensors");
        long data = writeFile(file, t, false);
        Files.writeString(dir.resolve("config.json"), config(vocab, c, 1, 128, 8, 4 * c));
        refusedWithoutAHeapCopy(dir, file, data);
    }

    /**
     * Loading the folder {@code dir} (its BF16 tensors in {@code file}, {@code data} bytes) as BF16 and as F32 is refused,
     * naming the file, its bytes and the bytes the load would take, with no heap copy made.
     */
    private static void refusedWithoutAHeapCopy(Path dir, Path file, long data) {
        assertThrows(CheckpointException.class, () -> Pretrained.load(dir, CPU, DType.BF16));   // class loading out of the measurement
        long before = allocated();
        for (DType dt : new DType[] {DType.BF16, DType.F32}) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> Pretrained.load(dir, CPU, dt));
            String m = e.getMessage();
            assertTrue(m.contains(file.toString()), m);
            assertTrue(m.contains(String.format(Locale.ROOT, "%,d bytes", data)), "names the file's bytes: " + m);
            assertTrue(m.contains(String.format(Locale.ROOT, "%,d bytes", data / 2 * dt.byteSize())), "names the bytes to load: " + m);
        }
        long heap = allocated() - before;
        assertTrue(heap < 8 << 20, "refused without a heap copy, but " + heap + " heap bytes were allocated");
    }

    /**
     * A Llama folder (the decoder loaders' path) claiming a 2^24 × 2^14 BF16 token table (512 GiB: header only, the file is
     * sparse) is refused before anything is allocated, naming the file and the bytes, as GPT-2's is.
     */
    @Test
    void aDecoderFolderTheMachineCannotHoldIsRefusedBeforeItLoads(@TempDir Path dir) throws Exception {
        int vocab = 1 << 24, c = 1 << 14, f = 2 * c;
        List<Stored> t = new ArrayList<>();
        t.add(new Stored("model.embed_tokens.weight", "BF16", new long[] {vocab, c}, null));
        String l = "model.layers.0.";
        for (Object[] e : new Object[][] {{"input_layernorm.weight", new long[] {c}}, {"post_attention_layernorm.weight", new long[] {c}},
                {"self_attn.q_proj.weight", new long[] {c, c}}, {"self_attn.k_proj.weight", new long[] {c, c}},
                {"self_attn.v_proj.weight", new long[] {c, c}}, {"self_attn.o_proj.weight", new long[] {c, c}},
                {"mlp.gate_proj.weight", new long[] {f, c}}, {"mlp.up_proj.weight", new long[] {f, c}},
                {"mlp.down_proj.weight", new long[] {c, f}}}) {
            t.add(new Stored(l + e[0], "BF16", (long[]) e[1], null));
        }
        t.add(new Stored("model.norm.weight", "BF16", new long[] {c}, null));
        t.add(new Stored("lm_head.weight", "BF16", new long[] {vocab, c}, null));
        Path file = dir.resolve("model.safetensors");
        long data = writeFile(file, t, false);
        Files.writeString(dir.resolve("config.json"), String.format(Locale.ROOT, "{\"model_type\":\"llama\",\"hidden_size\":%d,"
                + "\"intermediate_size\":%d,\"num_hidden_layers\":1,\"num_attention_heads\":128,\"num_key_value_heads\":128,"
                + "\"vocab_size\":%d,\"max_position_embeddings\":128,\"rms_norm_eps\":1e-5,\"tie_word_embeddings\":false,"
                + "\"torch_dtype\":\"bfloat16\"}", c, f, vocab));
        refusedWithoutAHeapCopy(dir, file, data);
    }

    @Test
    void aTensorTooLargeToAddressNamesTheFileTheTensorAndTheBytes(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("huge.safetensors");
        long n = 1L << 35;                                   // 2^35 F32 elements: 128 GiB, beyond one tensor's 2^34
        writeFile(file, List.of(new Stored("w", "F32", new long[] {n}, null)), false);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.tensor("w"));
            String m = e.getMessage();
            assertTrue(m.contains(file.toString()) && m.contains("'w'") && m.contains(4 * n + " bytes"), m);
        }
    }

    @Test
    void aFourGigabyteTensorIsAViewNotAHeapCopy(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("big.safetensors");
        long n = (1L << 31) + (1 << 20);                     // 2^31 + 2^20 BF16 elements: 4 GiB, past every Java array
        writeFile(file, List.of(new Stored("w", "BF16", new long[] {n / 1024, 1024}, null)), false);
        long before = allocated();
        try (SafetensorsFile f = SafetensorsFile.open(file); Tensor t = f.tensor("w"); var up = CPU.uploader()) {
            Tensor shared = up.share(t, DType.BF16);
            assertTrue(Uploader.isView(shared));
            assertEquals(0f, shared.getFloat(n / 1024 - 1, 1023), 0f);      // a hole of the sparse file reads as zeros
            assertEquals(2 * n, shared.storage().byteSize());
            IllegalStateException e = assertThrows(IllegalStateException.class, t::toFloatArray);   // no array can hold it: said so
            assertTrue(e.getMessage().contains(n + " elements") && e.getMessage().contains(2 * n + " bytes"), e.getMessage());
        }
        assertTrue(allocated() - before < 1 << 20, "no heap copy of a 4 GiB tensor");
    }
}
