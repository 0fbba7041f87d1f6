// SafetensorsFile — one .safetensors file, memory-mapped and validated; tensors are views of the
// mapping (no copy for F32/F16/BF16/I32/I64 when aligned, which files written by the reference or
// by SafetensorsWriter always are). Closing it unmaps the file; later access fails cleanly.
package org.transformer4j.model.weights;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Tensor;

/**
 * A validated, memory-mapped safetensors file.
 *
 * <pre>{@code
 * try (SafetensorsFile f = SafetensorsFile.open(path)) {
 *     Tensor w = f.tensor("wte.weight");   // a view of the mapping, valid until f is closed
 * }
 * }</pre>
 * Data is little-endian, as the format prescribes; the runtime reads it in native order, so on a
 * big-endian JVM {@link #open} refuses rather than misreading.
 */
public final class SafetensorsFile implements AutoCloseable {

    private static final ValueLayout.OfLong U64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final Arena arena;
    private final MemorySegment data;
    private final SafetensorsHeader header;
    private final Map<String, TensorEntry> byName;
    private final AtomicBoolean closed = new AtomicBoolean();

    private SafetensorsFile(Path path, Arena arena, MemorySegment data, SafetensorsHeader header) {
        this.path = path;
        this.arena = arena;
        this.data = data;
        this.header = header;
        Map<String, TensorEntry> m = new LinkedHashMap<>();
        for (TensorEntry e : header.entries()) m.put(e.name(), e);
        this.byName = Collections.unmodifiableMap(m);
    }

    /** Maps and validates {@code path}; a malformed file throws {@link SafetensorsFormatException}. */
    public static SafetensorsFile open(Path path) throws IOException {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new SafetensorsFormatException(path, "safetensors data is little-endian; this platform is big-endian");
        }
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new SafetensorsFormatException(path, "file is " + size + " bytes, too short for the 8-byte header length");
            }
            MemorySegment file = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            long n = file.get(U64_LE, 0);
            if (Long.compareUnsigned(n, SafetensorsHeader.MAX_HEADER_SIZE) > 0) {
                throw new SafetensorsFormatException(path, "header length " + Long.toUnsignedString(n)
                        + " exceeds the limit of " + SafetensorsHeader.MAX_HEADER_SIZE + " bytes");
            }
            if (8 + n > size) {
                throw new SafetensorsFormatException(path, "header length " + n + " runs past the end of the file ("
                        + size + " bytes)");
            }
            byte[] headerBytes = file.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE);
            SafetensorsHeader header = SafetensorsHeader.parse(path, headerBytes, size - 8 - n);
            SafetensorsFile f = new SafetensorsFile(path, arena, file.asSlice(8 + n), header);
            arena = null;   // owned by f now
            return f;
        } catch (SafetensorsFormatException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new SafetensorsFormatException(path, "cannot map: " + e, e);
        } finally {
            if (arena != null) arena.close();
        }
    }

    public Path path() { return path; }

    /** The {@code __metadata__} strings (empty when the file has none). */
    public Map<String, String> metadata() { return header.metadata(); }

    /** Tensor names in the order of their data. */
    public Set<String> names() { return byName.keySet(); }

    public List<TensorEntry> entries() { return header.entries(); }

    public boolean contains(String name) { return byName.containsKey(name); }

    /** The header entry of {@code name}; IllegalArgumentException naming the file when absent. */
    public TensorEntry entry(String name) {
        TensorEntry e = byName.get(name);
        if (e == null) throw new IllegalArgumentException(path + ": no tensor '" + name + "'");
        return e;
    }

    /** The raw little-endian bytes of {@code name}, a read-only view of the mapping. */
    public MemorySegment segment(String name) {
        TensorEntry e = entry(name);
        return data.asSlice(e.begin(), e.byteSize());
    }

    /**
     * {@code name} as a host tensor: a zero-copy view of the mapping when its bytes are aligned to the
     * element size (always so for files written by the reference ≥ 0.3 or by {@link SafetensorsWriter}),
     * otherwise an aligned copy. Views are valid until this file is closed; closing the tensor does not
     * unmap anything. IllegalArgumentException for dtypes the runtime has no type for (F64, U8, F8, ...).
     */
    public Tensor tensor(String name) {
        TensorEntry e = entry(name);
        DType t = e.dtype().runtimeType().orElseThrow(() -> new IllegalArgumentException(path + ": tensor '" + name
                + "' has dtype " + e.dtype() + ", which the runtime has no tensor type for; read it with segment()"));
        MemorySegment seg = segment(name);
        try {
            if (seg.address() % t.byteSize() == 0) return Tensor.wrapHost(seg, t, e.shape());
            Tensor copy = Tensor.empty(t, e.shape());
            MemorySegment.copy(seg, 0, copy.hostSegment(), 0, seg.byteSize());
            return copy;
        } catch (IllegalArgumentException | ArithmeticException | OutOfMemoryError ex) {
            throw new IllegalArgumentException(path + ": tensor '" + name + "' (" + e.dtype() + " " + Arrays.toString(e.shape())
                    + ", " + e.byteSize() + " bytes) cannot be addressed as one tensor: " + ex.getMessage(), ex);
        }
    }

    /** Every tensor (see {@link #tensor}), in data order. */
    public Map<String, Tensor> tensors() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (String n : names()) m.put(n, tensor(n));
        return m;
    }

    /** Unmaps the file (once; later calls do nothing). Tensors viewing it fail with IllegalStateException afterwards. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) arena.close();
    }

    /** Reads {@code path}'s header only (no data access beyond the header), validated against the file size. */
    public static SafetensorsHeader readHeader(Path path) throws IOException {
        try (SafetensorsFile f = open(path)) {
            return f.header;
        }
    }
}
