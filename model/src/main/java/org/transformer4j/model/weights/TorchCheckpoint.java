// TorchCheckpoint — a state dict saved by torch.save (Hugging Face's pytorch_model.bin, PEFT's adapter_model.bin,
// sentence-transformers' Dense modules), read without PyTorch and without running anything it pickles: the zip
// format of torch >= 1.6 (<archive>/data.pkl, <archive>/data/<key>, stored uncompressed, zip64 for large files) and
// the legacy format before it (magic number, protocol 1001, system info, the pickle, the storage keys, then each
// storage's element count and bytes). Tensors are views of the memory-mapped file where they are stored row-major.
package org.transformer4j.model.weights;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The named tensors of one file torch.save wrote. */
public final class TorchCheckpoint implements AutoCloseable {

    /** torch.serialization.MAGIC_NUMBER, the first pickle of a legacy file. */
    static final BigInteger MAGIC = new BigInteger("1950a86a20f9469cfc6c", 16);

    /** One tensor: its element type, shape, and where its elements lie (a strided view of a storage's bytes). */
    public record Entry(String name, SafetensorsDType dtype, long[] shape, long[] stride, String storage, long offset) {
        public Entry { shape = shape.clone(); stride = stride.clone(); }

        @Override public long[] shape() { return shape.clone(); }

        public long numel() {
            long n = 1;
            for (long d : shape) n = Math.multiplyExact(n, d);
            return n;
        }

        /** Whether the elements lie row-major and gap-free from {@link #offset}. */
        public boolean contiguous() {
            long expect = 1;
            for (int i = shape.length - 1; i >= 0; i--) {
                if (shape[i] != 1 && stride[i] != expect) return false;
                expect *= shape[i];
            }
            return true;
        }
    }

    private final Path file;
    private final Arena arena;
    private final MemorySegment mapped;
    private final Map<String, Entry> entries;
    private final Map<String, MemorySegment> storages;          // key → its bytes

    private TorchCheckpoint(Path file, Arena arena, MemorySegment mapped, Map<String, Entry> entries, Map<String, MemorySegment> storages) {
        this.file = file;
        this.arena = arena;
        this.mapped = mapped;
        this.entries = Collections.unmodifiableMap(entries);
        this.storages = storages;
    }

    /** Opens and checks {@code file}: every tensor's elements must lie inside its storage. */
    public static TorchCheckpoint open(Path file) throws IOException {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment m;
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                m = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            }
            if (m.byteSize() < 4) throw new CheckpointException(file, "is " + m.byteSize() + " bytes: not a torch.save file");
            int head = m.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 0);
            Map<String, MemorySegment> storages = new HashMap<>();
            Map<String, TorchPickle.Storage> declared = new LinkedHashMap<>();
            Object root;
            if (head == 0x04034b50) {
                root = zip(file, m, storages, declared);
            } else if ((m.get(ValueLayout.JAVA_BYTE, 0) & 0xff) == 0x80) {
                root = legacy(file, m, storages, declared);
            } else {
                throw new CheckpointException(file, "is neither a zip archive (torch.save since PyTorch 1.6) nor a legacy torch.save"
                        + " pickle; a TensorFlow or Flax checkpoint is not read here");
            }
            Map<String, Entry> entries = entries(file, root, storages);
            TorchCheckpoint ck = new TorchCheckpoint(file, arena, m, entries, storages);
            arena = null;
            return ck;
        } catch (RuntimeException e) {                   // offsets or sizes a broken file makes absurd
            throw new CheckpointException(file, "is not a readable torch.save file: " + e, e);
        } finally {
            if (arena != null) arena.close();
        }
    }

    // ---- the zip format ---------------------------------------------------------------------------------------

    private static final java.nio.ByteOrder LE = java.nio.ByteOrder.LITTLE_ENDIAN;

    private static long u16(MemorySegment m, long at) { return m.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE), at) & 0xffffL; }

    private static long u32(MemorySegment m, long at) { return m.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE), at) & 0xffffffffL; }

    private static long u64(MemorySegment m, long at) { return m.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(LE), at); }

    /** name → the stored bytes of every entry of the archive (only stored entries: torch.save never compresses). */
    static Map<String, MemorySegment> zipEntries(Path file, MemorySegment m) throws CheckpointException {
        long size = m.byteSize(), eocd = -1;
        for (long p = size - 22; p >= Math.max(0, size - 22 - 65535); p--) {
            if (u32(m, p) == 0x06054b50L) { eocd = p; break; }
        }
        if (eocd < 0) throw new CheckpointException(file, "has no zip end-of-central-directory record (a truncated download?)");
        long count = u16(m, eocd + 10), cdSize = u32(m, eocd + 12), cdOffset = u32(m, eocd + 16);
        if ((count == 0xffff || cdSize == 0xffffffffL || cdOffset == 0xffffffffL) && eocd >= 20 && u32(m, eocd - 20) == 0x07064b50L) {
            long z = u64(m, eocd - 12);                                    // zip64 end of central directory
            if (z < 0 || z + 56 > size || u32(m, z) != 0x06064b50L) throw new CheckpointException(file, "has a broken zip64 record");
            count = u64(m, z + 32);
            cdSize = u64(m, z + 40);
            cdOffset = u64(m, z + 48);
        }
        if (cdOffset < 0 || cdSize < 0 || cdOffset + cdSize > size || count < 0 || count > cdSize / 46) {
            throw new CheckpointException(file, "has a zip central directory outside the file");
        }
        Map<String, MemorySegment> out = new LinkedHashMap<>();
        long p = cdOffset;
        for (long i = 0; i < count; i++) {
            if (p + 46 > cdOffset + cdSize || u32(m, p) != 0x02014b50L) throw new CheckpointException(file, "has a broken zip central directory");
            long method = u16(m, p + 10), comp = u32(m, p + 20), plain = u32(m, p + 24);
            int nameLen = (int) u16(m, p + 28), extraLen = (int) u16(m, p + 30), commentLen = (int) u16(m, p + 32);
            long local = u32(m, p + 42);
            if (p + 46 + nameLen + extraLen > cdOffset + cdSize) throw new CheckpointException(file, "has a broken zip central directory");
            byte[] nb = new byte[nameLen];
            MemorySegment.copy(m, ValueLayout.JAVA_BYTE, p + 46, nb, 0, nameLen);
            String name = new String(nb, StandardCharsets.UTF_8);
            for (long e = p + 46 + nameLen; e + 4 <= p + 46 + nameLen + extraLen; ) {          // zip64 extra field: the 0xffffffff ones
                long id = u16(m, e), len = u16(m, e + 2), q = e + 4;
                if (id == 1) {
                    if (plain == 0xffffffffL) { plain = u64(m, q); q += 8; }
                    if (comp == 0xffffffffL) { comp = u64(m, q); q += 8; }
                    if (local == 0xffffffffL) local = u64(m, q);
                }
                e += 4 + len;
            }
            if (method != 0) {
                throw new CheckpointException(file, "zip entry '" + name + "' is compressed (method " + method + "); torch.save stores"
                        + " entries uncompressed, so this file was repacked: unzip it and zip it again with -0 (stored)");
            }
            if (comp != plain || local < 0 || local + 30 > size || u32(m, local) != 0x04034b50L) {
                throw new CheckpointException(file, "zip entry '" + name + "' has a broken local header");
            }
            long data = local + 30 + u16(m, local + 26) + u16(m, local + 28);
            if (data + comp > size) throw new CheckpointException(file, "zip entry '" + name + "' runs past the end of the file (truncated?)");
            out.put(name, m.asSlice(data, comp));
            p += 46 + nameLen + extraLen + commentLen;
        }
        return out;
    }

    private static Object zip(Path file, MemorySegment m, Map<String, MemorySegment> storages, Map<String, TorchPickle.Storage> declared)
            throws CheckpointException {
        Map<String, MemorySegment> z = zipEntries(file, m);
        String pkl = null;
        for (String name : z.keySet()) {
            if (name.endsWith("/data.pkl") && name.indexOf('/') == name.length() - "/data.pkl".length()) {
                if (pkl != null) throw new CheckpointException(file, "holds two pickles (" + pkl + ", " + name + ")");
                pkl = name;
            }
        }
        if (pkl == null) {
            throw new CheckpointException(file, "is a zip archive without <archive>/data.pkl: not a torch.save file"
                    + (z.containsKey("constants.pkl") || z.keySet().stream().anyMatch(n -> n.contains("/code/")) ? " (a TorchScript archive)" : ""));
        }
        String prefix = pkl.substring(0, pkl.length() - "data.pkl".length());
        MemorySegment order = z.get(prefix + "byteorder");
        if (order != null) {
            String o = new String(order.toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII).trim();
            if (!o.equals("little")) throw new CheckpointException(file, "was saved on a " + o + "-endian machine; only little-endian files are read");
        }
        return TorchPickle.read(z.get(pkl), 0, null, file, pkl, pid -> {
            TorchPickle.Storage s = storage(file, pid, false);
            MemorySegment bytes = z.get(prefix + "data/" + s.key());
            if (bytes == null) throw new CheckpointException(file, "names storage '" + s.key() + "' but holds no " + prefix + "data/" + s.key());
            checkStorage(file, s, bytes.byteSize());
            storages.putIfAbsent(s.key(), bytes);
            declared.putIfAbsent(s.key(), s);
            return s;
        });
    }

    /** ('storage', storage type, key, location, numel[, view metadata]) → its storage. */
    private static TorchPickle.Storage storage(Path file, TorchPickle.Tuple pid, boolean legacy) throws CheckpointException {
        if (pid.size() < 5 || !"storage".equals(pid.get(0)) || !(pid.get(1) instanceof TorchPickle.Global type)
                || !(pid.get(2) instanceof String key) || !(pid.get(4) instanceof Long numel)) {
            throw new CheckpointException(file, "has a persistent id that is not torch.save's ('storage', type, key, location, numel)");
        }
        SafetensorsDType dtype = TorchPickle.STORAGES.get(type.name());
        if (dtype == null || !type.module().equals("torch")) throw new CheckpointException(file, "names the storage type '" + type + "'");
        String location = pid.get(3) instanceof String l ? l : "?";
        if (legacy && pid.size() == 6 && pid.get(5) instanceof TorchPickle.Tuple view) {      // (view key, element offset, view size)
            if (view.size() != 3 || !(view.get(0) instanceof String vk) || !(view.get(1) instanceof Long off) || off < 0) {
                throw new CheckpointException(file, "has a storage view that is not (key, offset, size)");
            }
            return new TorchPickle.Storage(key, dtype, numel, location, vk, off);
        }
        return new TorchPickle.Storage(key, dtype, numel, location, null, 0);
    }

    private static void checkStorage(Path file, TorchPickle.Storage s, long bytes) throws CheckpointException {
        long want = Math.multiplyExact(s.numel(), (long) Math.max(1, s.dtype().bits() / 8));
        if (bytes < want) {
            throw new CheckpointException(file, "storage '" + s.key() + "' should hold " + s.numel() + " " + s.dtype() + " elements ("
                    + want + " bytes) but has " + bytes + " bytes (truncated?)");
        }
    }

    // ---- the legacy format ------------------------------------------------------------------------------------

    private static Object legacy(Path file, MemorySegment m, Map<String, MemorySegment> storages, Map<String, TorchPickle.Storage> declared)
            throws CheckpointException {
        long[] end = new long[1];
        Object magic = TorchPickle.read(m, 0, end, file, "the magic number", pid -> { throw new CheckpointException(file, "a storage in the header"); });
        if (!MAGIC.equals(magic)) {
            throw new CheckpointException(file, "starts with a pickle that is not torch.save's magic number: a plain pickle, not a"
                    + " checkpoint (this reader does not unpickle arbitrary objects)");
        }
        Object version = TorchPickle.read(m, end[0], end, file, "the protocol version", pid -> { throw new CheckpointException(file, "a storage in the header"); });
        if (!Long.valueOf(1001).equals(version)) throw new CheckpointException(file, "has legacy protocol version " + version + ", expected 1001");
        Object sys = TorchPickle.read(m, end[0], end, file, "the system info", pid -> { throw new CheckpointException(file, "a storage in the header"); });
        if (sys instanceof Map<?, ?> info && Boolean.FALSE.equals(info.get("little_endian"))) {
            throw new CheckpointException(file, "was saved on a big-endian machine; only little-endian files are read");
        }
        Map<String, TorchPickle.Storage> roots = new LinkedHashMap<>();
        Object root = TorchPickle.read(m, end[0], end, file, "the state dict", pid -> {
            TorchPickle.Storage s = storage(file, pid, true);
            roots.putIfAbsent(s.key(), s);
            declared.putIfAbsent(s.key(), s);
            return s;
        });
        Object keys = TorchPickle.read(m, end[0], end, file, "the storage keys", pid -> { throw new CheckpointException(file, "a storage in the key list"); });
        if (!(keys instanceof List<?> list)) throw new CheckpointException(file, "has no list of storage keys after its pickle");
        long p = end[0];
        for (Object k : list) {
            if (!(k instanceof String key)) throw new CheckpointException(file, "has a storage key that is not a string");
            TorchPickle.Storage s = roots.get(key);
            if (s == null) throw new CheckpointException(file, "lists storage '" + key + "' that no tensor uses");
            if (p + 8 > m.byteSize()) throw new CheckpointException(file, "ends before storage '" + key + "' (truncated?)");
            long numel = u64(m, p), es = Math.max(1, s.dtype().bits() / 8);
            p += 8;
            if (numel < 0 || numel > (m.byteSize() - p) / es) throw new CheckpointException(file, "storage '" + key + "' runs past the end (truncated?)");
            storages.put(key, m.asSlice(p, numel * es));
            p += numel * es;
        }
        for (TorchPickle.Storage s : roots.values()) {
            if (!storages.containsKey(s.key())) throw new CheckpointException(file, "has no data for storage '" + s.key() + "'");
        }
        return root;
    }

    // ---- the tensors ------------------------------------------------------------------------------------------

    private static Map<String, Entry> entries(Path file, Object root, Map<String, MemorySegment> storages) throws CheckpointException {
        if (!(root instanceof Map<?, ?> dict)) {
            throw new CheckpointException(file, "holds a " + TorchPickle.kind(root) + ", not a state dict (a dict of tensors)");
        }
        Map<String, Entry> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : dict.entrySet()) {
            if (!(e.getKey() instanceof String name)) throw new CheckpointException(file, "has a key that is a " + TorchPickle.kind(e.getKey()));
            if (!(e.getValue() instanceof TorchPickle.TensorRef t)) {
                throw new CheckpointException(file, "entry '" + name + "' is a " + TorchPickle.kind(e.getValue()) + ", not a tensor: only a"
                        + " model's state dict converts (a training checkpoint keeps it under a key such as 'state_dict')");
            }
            TorchPickle.Storage s = t.storage();
            MemorySegment bytes = storages.get(s.key());
            long es = Math.max(1, s.dtype().bits() / 8), available = bytes.byteSize() / es;
            long base = s.viewOffset() + t.offset(), last = base;
            boolean empty = false;
            for (int i = 0; i < t.shape().length; i++) {
                if (t.shape()[i] == 0) empty = true;
                else last = Math.addExact(last, Math.multiplyExact(t.shape()[i] - 1, t.stride()[i]));
            }
            if (!empty && (base < 0 || last >= available)) {
                throw new CheckpointException(file, "tensor '" + name + "' " + Arrays.toString(t.shape()) + " reaches element " + last
                        + " of storage '" + s.key() + "', which holds " + available);
            }
            out.put(name, new Entry(name, s.dtype(), t.shape(), t.stride(), s.key(), base));
        }
        return out;
    }

    public Path file() { return file; }

    /** The tensor names, in the order the state dict holds them. */
    public Set<String> names() { return entries.keySet(); }

    public Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) throw new IllegalArgumentException(file + " has no tensor '" + name + "'");
        return e;
    }

    /** Every entry. */
    public List<Entry> entries() { return List.copyOf(entries.values()); }

    /**
     * The tensor's elements row-major: a view of the mapped file when they lie so, else a copy gathered by the strides
     * into {@code copies} (which the caller closes).
     */
    public MemorySegment bytes(String name, Arena copies) {
        Entry e = entry(name);
        long es = Math.max(1, e.dtype().bits() / 8), n = e.numel();
        MemorySegment storage = storages.get(e.storage());
        if (n == 0) return MemorySegment.ofArray(new byte[0]);
        if (e.contiguous()) return storage.asSlice(e.offset() * es, n * es);
        MemorySegment out = copies.allocate(n * es, 8);
        long[] shape = e.shape(), stride = e.stride(), idx = new long[shape.length];
        for (long i = 0; i < n; i++) {
            long src = e.offset();
            for (int d = 0; d < shape.length; d++) src += idx[d] * stride[d];
            MemorySegment.copy(storage, src * es, out, i * es, es);
            for (int d = shape.length - 1; d >= 0 && ++idx[d] == shape[d]; d--) idx[d] = 0;
        }
        return out;
    }

    /** Whether two entries are the same elements (one storage, offset, shape and strides): a tied parameter saved twice. */
    public boolean sameElements(String a, String b) {
        Entry x = entry(a), y = entry(b);
        return x.storage().equals(y.storage()) && x.offset() == y.offset() && Arrays.equals(x.shape, y.shape)
                && Arrays.equals(x.stride, y.stride) && x.dtype() == y.dtype();
    }

    @Override
    public void close() {
        arena.close();
    }

    /** The mapping (tests). */
    MemorySegment mapped() { return mapped; }
}
