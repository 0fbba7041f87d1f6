// Tensor — a dtype, a shape and strides (in elements) over host or device storage. Views share
// their root's storage and keep the root reachable; closing the root releases it (in stream order on a device), and a
// Cleaner releases the storage of a root that was never closed once neither it nor a view of it is reachable.
package org.transformer4j.runtime;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Cleaner;
import java.util.Arrays;
import java.util.Objects;
import java.util.StringJoiner;
import org.transformer4j.runtime.cpu.Half;

/**
 * An n-dimensional array. Host tensors are created with the static factories here; device tensors
 * by a backend ({@link Backend#empty}, {@link Backend#upload}). Element access methods work on host
 * tensors only.
 */
public final class Tensor implements AutoCloseable {

    private static final Cleaner CLEANER = Cleaner.create();

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT;
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT;
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG;

    private final Storage storage;
    private final DType dtype;
    private final long[] shape;
    private final long[] strides;
    private final long offset;
    private final boolean owner;
    private final Cleaner.Cleanable cleanable;
    /**
     * A view's root (null for a root): the Cleaner is registered on the root, so a view that outlives every other
     * reference to its root (a loader that keeps only a slice of a stored tensor) must keep it from being collected.
     */
    private final Tensor root;

    private Tensor(Storage storage, DType dtype, long[] shape, long[] strides, long offset, boolean owner) {
        this.storage = storage;
        this.dtype = dtype;
        this.shape = shape;
        this.strides = strides;
        this.offset = offset;
        this.owner = owner;
        this.cleanable = owner ? CLEANER.register(this, Storage.onCollect(storage)) : null;
        this.root = null;
    }

    /** A view of {@code of}'s storage. */
    private Tensor(Tensor of, long[] shape, long[] strides, long offset) {
        this.storage = of.storage;
        this.dtype = of.dtype;
        this.shape = shape;
        this.strides = strides;
        this.offset = offset;
        this.owner = false;
        this.cleanable = null;
        this.root = of.owner ? of : of.root;
    }

    // ---- creation ---------------------------------------------------------------------------

    /** An uninitialised host tensor. */
    public static Tensor empty(DType dtype, long... shape) {
        Objects.requireNonNull(dtype, "dtype");
        long[] s = checkShape(shape);
        return new Tensor(new Storage.Host(numel(s) * dtype.byteSize()), dtype, s, contiguousStrides(s), 0, true);
    }

    /** A host tensor of {@code dtype} holding {@code data} (rounded to the dtype), row-major. */
    public static Tensor of(DType dtype, float[] data, long... shape) {
        Tensor t = empty(dtype, shape);
        if (data.length != t.numel()) {
            t.close();
            throw new IllegalArgumentException("data has " + data.length + " values but shape " + Arrays.toString(shape)
                    + " holds " + numel(shape));
        }
        t.copyFrom(data);
        return t;
    }

    /** An F32 host tensor holding {@code data}, row-major. */
    public static Tensor ofFloats(float[] data, long... shape) { return of(DType.F32, data, shape); }

    /** An I32 host tensor holding {@code data}, row-major. */
    public static Tensor ofInts(int[] data, long... shape) {
        Tensor t = empty(DType.I32, shape);
        if (data.length != t.numel()) {
            t.close();
            throw new IllegalArgumentException("data has " + data.length + " values but shape " + Arrays.toString(shape)
                    + " holds " + numel(shape));
        }
        MemorySegment.copy(data, 0, t.hostSegment(), I32, 0, data.length);
        return t;
    }

    /**
     * A host tensor over memory that the caller owns (e.g. a memory-mapped checkpoint), row-major,
     * without copying. Closing the tensor does not free the memory; once its owner frees it (closes
     * the segment's arena), every access fails with IllegalStateException. The segment must hold
     * exactly the tensor's bytes and be aligned to the dtype's size.
     */
    public static Tensor wrapHost(MemorySegment segment, DType dtype, long... shape) {
        Objects.requireNonNull(segment, "segment");
        Objects.requireNonNull(dtype, "dtype");
        if (!segment.isNative()) throw new IllegalArgumentException("wrapHost needs a native (off-heap) segment");
        long[] s = checkShape(shape);
        long needed = numel(s) * dtype.byteSize();
        if (segment.byteSize() != needed) {
            throw new IllegalArgumentException("segment of " + segment.byteSize() + " bytes does not hold " + dtype + " "
                    + Arrays.toString(s) + " (" + needed + " bytes)");
        }
        if (segment.address() % dtype.byteSize() != 0) {
            throw new IllegalArgumentException("segment at 0x" + Long.toHexString(segment.address())
                    + " is not aligned to " + dtype.byteSize() + " bytes for " + dtype);
        }
        return new Tensor(new Storage.Host(segment), dtype, s, contiguousStrides(s), 0, true);
    }

    /**
     * A tensor over device memory that the caller manages; {@code onRelease} runs once when the
     * tensor is closed or collected (pass {@code () -> {}} for memory owned elsewhere).
     */
    public static Tensor wrapDevice(Device device, long address, long byteSize, DType dtype, long[] shape,
                                    Runnable onRelease) {
        return wrapDevice(device, address, byteSize, null, dtype, shape, onRelease);
    }

    /** As above, remembering the allocator's handle for the memory (see {@link Storage.DeviceMemoryStorage}). */
    public static Tensor wrapDevice(Device device, long address, long byteSize, Object allocation, DType dtype,
                                    long[] shape, Runnable onRelease) {
        if (!device.isCuda()) throw new IllegalArgumentException("wrapDevice needs a CUDA device, got " + device);
        if (address == 0) throw new IllegalArgumentException("device address is null");
        long[] s = checkShape(shape);
        long needed = numel(s) * dtype.byteSize();
        if (byteSize < needed) {
            throw new IllegalArgumentException("device memory of " + byteSize + " bytes is too small for " + dtype + " "
                    + Arrays.toString(s) + " (" + needed + " bytes)");
        }
        Storage st = new Storage.DeviceMemoryStorage(device, address, byteSize, allocation, onRelease);
        return new Tensor(st, dtype, s, contiguousStrides(s), 0, true);
    }

    // ---- properties -------------------------------------------------------------------------

    public DType dtype() { return dtype; }

    public int rank() { return shape.length; }

    public long[] shape() { return shape.clone(); }

    public long shape(int dim) { return shape[dim(dim)]; }

    /** Strides in elements. */
    public long[] strides() { return strides.clone(); }

    public long stride(int dim) { return strides[dim(dim)]; }

    /** Offset of element 0 from the start of the storage, in elements. */
    public long offset() { return offset; }

    public long numel() { return numel(shape); }

    public Device device() { return storage.device(); }

    public boolean isCuda() { return storage.device().isCuda(); }

    public Storage storage() { return storage; }

    public boolean isClosed() { return storage.isReleased(); }

    /** True when the elements are laid out row-major without gaps. */
    public boolean isContiguous() {
        if (numel() == 0) return true;                   // no element has an address to be out of place
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && strides[i] != expected) return false;
            expected *= shape[i];
        }
        return true;
    }

    /** Throws IllegalStateException when the storage has been released. */
    public Tensor checkOpen() {
        if (storage.isReleased()) throw new IllegalStateException("tensor " + this + " is closed");
        return this;
    }

    /** "(2, 3)" */
    public String shapeString() {
        StringJoiner j = new StringJoiner(", ", "(", ")");
        for (long d : shape) j.add(Long.toString(d));
        return j.toString();
    }

    @Override
    public String toString() {
        return "Tensor[" + dtype + " " + shapeString() + " " + storage.device().name() + (isClosed() ? " closed" : "") + "]";
    }

    // ---- views ------------------------------------------------------------------------------

    /** The same elements with another shape (one dimension may be -1); needs a contiguous tensor. */
    public Tensor view(long... newShape) {
        checkOpen();
        long[] s = newShape.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1) {
                if (infer >= 0) throw new IllegalArgumentException("view " + Arrays.toString(newShape) + ": only one -1");
                infer = i;
            } else {
                if (s[i] < 0) throw new IllegalArgumentException("view " + Arrays.toString(newShape) + ": negative size");
                known *= s[i];
            }
        }
        if (infer >= 0) {
            if (known == 0 || numel() % known != 0) {
                throw new IllegalArgumentException("cannot view " + this + " as " + Arrays.toString(newShape));
            }
            s[infer] = numel() / known;
        }
        if (numel(s) != numel()) throw new IllegalArgumentException("cannot view " + this + " as " + Arrays.toString(newShape)
                + ": " + numel() + " elements vs " + numel(s));
        if (!isContiguous()) throw new IllegalArgumentException("view of non-contiguous " + this + "; copy it first");
        return new Tensor(this, s, contiguousStrides(s), offset);
    }

    /** Elements {@code start} (inclusive) to {@code end} (exclusive) along {@code dim}. */
    public Tensor slice(int dim, long start, long end) {
        checkOpen();
        int d = dim(dim);
        if (start < 0 || end > shape[d] || start > end) {
            throw new IllegalArgumentException("slice [" + start + ", " + end + ") out of range for dim " + d + " of " + this);
        }
        long[] s = shape.clone();
        s[d] = end - start;
        return new Tensor(this, s, strides.clone(), offset + start * strides[d]);
    }

    /** Element {@code index} along {@code dim}, that dimension dropped (no copy; any strides, unlike {@link #view}). */
    public Tensor select(int dim, long index) {
        checkOpen();
        int d = dim(dim);
        if (index < 0 || index >= shape[d]) throw new IllegalArgumentException("index " + index + " out of range for dim " + d + " of " + this);
        long[] s = new long[shape.length - 1], st = new long[shape.length - 1];
        for (int i = 0, j = 0; i < shape.length; i++) {
            if (i == d) continue;
            s[j] = shape[i];
            st[j++] = strides[i];
        }
        return new Tensor(this, s, st, offset + index * strides[d]);
    }

    /**
     * Rows [0, rows) of this rank-2 view's storage from its first element on, with its strides: how
     * {@link LinearOp#fusedGate} joins two adjacent row blocks of one matrix. Checked against the storage.
     */
    Tensor extendRows(long rows) {
        checkOpen();
        if (shape.length != 2 || rows < shape[0]) throw new IllegalArgumentException("cannot extend " + this + " to " + rows + " rows");
        long last = offset + (rows - 1) * strides[0] + (shape[1] - 1) * strides[1];
        if (rows > 0 && shape[1] > 0 && (last + 1) * dtype.byteSize() > storage.byteSize()) {
            throw new IllegalArgumentException(rows + " rows of " + this + " run past its storage");
        }
        return new Tensor(this, new long[] {rows, shape[1]}, strides.clone(), offset);
    }

    /** Dimensions {@code d0} and {@code d1} swapped (no copy). */
    public Tensor transpose(int d0, int d1) {
        checkOpen();
        int a = dim(d0);
        int b = dim(d1);
        long[] s = shape.clone();
        long[] st = strides.clone();
        s[a] = shape[b];
        s[b] = shape[a];
        st[a] = strides[b];
        st[b] = strides[a];
        return new Tensor(this, s, st, offset);
    }

    // ---- host element access ------------------------------------------------------------------

    /** The host segment starting at element 0 of this view (host tensors only). */
    public MemorySegment hostSegment() {
        checkOpen();
        if (!(storage instanceof Storage.Host h)) {
            throw new IllegalStateException(this + " is on " + device().name() + "; copy it to the host first (Backend.toHost)");
        }
        return h.segment().asSlice(offset * dtype.byteSize());
    }

    /** The device address of element 0 of this view (device tensors only). */
    public long deviceAddress() {
        checkOpen();
        if (!(storage instanceof Storage.DeviceMemoryStorage d)) {
            throw new IllegalStateException(this + " is not in device memory");
        }
        return d.address() + offset * dtype.byteSize();
    }

    /** All elements, row-major, converted to fp32 (host tensors only). */
    public float[] toFloatArray() {
        return toFloatArray(new float[arrayLength()]);
    }

    /**
     * numel() as the length of a 4-byte Java array, or an error naming this tensor and the bytes where no
     * array can hold it or the heap (-Xmx) is smaller than the array (instead of an OutOfMemoryError naming nothing).
     */
    private int arrayLength() {
        long n = numel();
        long max = Runtime.getRuntime().maxMemory();
        if (n > Integer.MAX_VALUE - 8 || 4 * n > max) {
            throw new IllegalStateException(this + " has " + n + " elements (" + n * dtype.byteSize() + " bytes): as a Java array"
                    + " they need " + 4 * n + " bytes, " + (n > Integer.MAX_VALUE - 8 ? "more than an array holds"
                    : "more than the maximum heap (" + max + " bytes)") + "; read it through hostSegment() or move it"
                    + " with Backend.uploader()");
        }
        return (int) n;
    }

    /** All elements, row-major, converted to fp32, into out[0 : numel) (host tensors only); returns out. */
    public float[] toFloatArray(float[] out) {
        MemorySegment seg = hostSegment();
        if (out.length < numel()) {
            throw new IllegalArgumentException("out has " + out.length + " values, " + this + " has " + numel());
        }
        if (dtype == DType.F32 && isContiguous()) {
            MemorySegment.copy(seg, F32, 0, out, 0, (int) numel());
            return out;
        }
        int r = shape.length;
        if (dtype == DType.F32 && r > 1 && strides[r - 1] == 1 && shape[r - 1] > 1) {
            // rows of unit stride (a column slice, a head's view of a fused projection): one bulk copy per row
            int row = (int) shape[r - 1];
            int[] k = {0};
            forEachOffset(r - 1, off -> MemorySegment.copy(seg, F32, off * 4, out, row * k[0]++, row));
            return out;
        }
        if (halfRows(r)) {
            // 16-bit rows of unit stride (a contiguous BF16 / F16 tensor, a column slice of one): one bulk read a row,
            // each value decoded as readFloat decodes it
            int row = (int) shape[r - 1];
            short[] buf = new short[row];
            boolean bf16 = dtype == DType.BF16;
            int[] k = {0};
            forEachOffset(r - 1, off -> {
                MemorySegment.copy(seg, I16, off * 2, buf, 0, row);
                int o = row * k[0]++;
                for (int j = 0; j < row; j++) out[o + j] = bf16 ? Half.bf16ToFloat(buf[j]) : Half.f16ToFloat(buf[j]);
            });
            return out;
        }
        int[] i = {0};
        forEachOffset(off -> out[i[0]++] = readFloat(seg, off));
        return out;
    }

    /** Whether this 16-bit float tensor of rank r ≥ 1 has a last dimension of unit stride (rows read or written in bulk). */
    private boolean halfRows(int r) {
        return (dtype == DType.BF16 || dtype == DType.F16) && r >= 1 && (strides[r - 1] == 1 || shape[r - 1] == 1);
    }

    /** All elements of an I32 or I64 tensor, row-major, as ints (host tensors only). */
    public int[] toIntArray() {
        MemorySegment seg = hostSegment();
        if (dtype != DType.I32 && dtype != DType.I64) throw new IllegalStateException(this + " is not an integer tensor");
        int[] out = new int[arrayLength()];
        int[] i = {0};
        forEachOffset(off -> out[i[0]++] = dtype == DType.I32 ? seg.get(I32, off * 4)
                : Math.toIntExact(seg.get(I64, off * 8)));
        return out;
    }

    /** Writes {@code data} (row-major, rounded to the dtype) into this host tensor's elements. */
    public Tensor copyFrom(float[] data) {
        MemorySegment seg = hostSegment();
        if (data.length != numel()) {
            throw new IllegalArgumentException("data has " + data.length + " values, " + this + " has " + numel());
        }
        if (dtype == DType.F32 && isContiguous()) {
            MemorySegment.copy(data, 0, seg, F32, 0, data.length);
            return this;
        }
        int r = shape.length;
        if (halfRows(r)) {                                             // 16-bit rows: each value rounded as writeFloat rounds it
            int row = (int) shape[r - 1];
            short[] buf = new short[row];
            boolean bf16 = dtype == DType.BF16;
            int[] k = {0};
            forEachOffset(r - 1, off -> {
                int o = row * k[0]++;
                for (int j = 0; j < row; j++) buf[j] = bf16 ? Half.floatToBf16(data[o + j]) : Half.floatToF16(data[o + j]);
                MemorySegment.copy(buf, 0, seg, I16, off * 2, row);
            });
            return this;
        }
        int[] i = {0};
        forEachOffset(off -> writeFloat(seg, off, data[i[0]++]));
        return this;
    }

    /** Sets every element to {@code value} (host tensors only). */
    public Tensor fill(float value) {
        MemorySegment seg = hostSegment();
        forEachOffset(off -> writeFloat(seg, off, value));
        return this;
    }

    public float getFloat(long... index) {
        return readFloat(hostSegment(), elementOffset(index));
    }

    public void setFloat(float value, long... index) {
        writeFloat(hostSegment(), elementOffset(index), value);
    }

    private float readFloat(MemorySegment seg, long off) {
        return switch (dtype) {
            case F32 -> seg.get(F32, off * 4);
            case F16 -> Half.f16ToFloat(seg.get(I16, off * 2));
            case BF16 -> Half.bf16ToFloat(seg.get(I16, off * 2));
            case I32 -> seg.get(I32, off * 4);
            case I64 -> seg.get(I64, off * 8);
            case U8 -> Byte.toUnsignedInt(seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, off));
        };
    }

    private void writeFloat(MemorySegment seg, long off, float v) {
        switch (dtype) {
            case F32 -> seg.set(F32, off * 4, v);
            case F16 -> seg.set(I16, off * 2, Half.floatToF16(v));
            case BF16 -> seg.set(I16, off * 2, Half.floatToBf16(v));
            case I32 -> seg.set(I32, off * 4, (int) v);
            case I64 -> seg.set(I64, off * 8, (long) v);
            case U8 -> seg.set(java.lang.foreign.ValueLayout.JAVA_BYTE, off, (byte) (int) v);
        }
    }

    private long elementOffset(long[] index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException("index of rank " + index.length + " for " + this);
        }
        long off = 0;
        for (int i = 0; i < index.length; i++) {
            if (index[i] < 0 || index[i] >= shape[i]) {
                throw new IndexOutOfBoundsException("index " + Arrays.toString(index) + " out of bounds for " + this);
            }
            off += index[i] * strides[i];
        }
        return off;
    }

    /** Calls {@code f} with each element's offset from element 0 (in elements), row-major. */
    void forEachOffset(java.util.function.LongConsumer f) {
        forEachOffset(shape.length, f);
    }

    /** Calls {@code f} with the offset of element (i₀, …, i_{r−1}, 0, …, 0) for each index of the first r dimensions, row-major (r = rank: every element). */
    private void forEachOffset(int r, java.util.function.LongConsumer f) {
        long n = 1;
        for (int d = 0; d < r; d++) n *= shape[d];
        if (numel() == 0) return;
        long[] idx = new long[r];
        long off = 0;
        for (long k = 0; k < n; k++) {
            f.accept(off);
            for (int d = r - 1; d >= 0; d--) {
                idx[d]++;
                off += strides[d];
                if (idx[d] < shape[d]) break;
                off -= strides[d] * shape[d];
                idx[d] = 0;
            }
        }
    }

    // ---- lifetime -----------------------------------------------------------------------------

    /**
     * Releases the storage when this tensor owns it (views do not; closing a view does nothing).
     * Device memory goes back to the allocator in stream order, so kernels still queued finish first.
     */
    @Override
    public void close() {
        if (!owner) return;
        storage.run();                                  // released here, so the Cleaner's action below counts nothing
        cleanable.clean();
    }

    // ---- shape helpers ------------------------------------------------------------------------

    private int dim(int d) {
        int r = shape.length;
        int x = d < 0 ? d + r : d;
        if (x < 0 || x >= r) throw new IllegalArgumentException("dim " + d + " out of range for " + this);
        return x;
    }

    static long[] checkShape(long[] shape) {
        Objects.requireNonNull(shape, "shape");
        long n = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative size in shape " + Arrays.toString(shape));
            n = Math.multiplyExact(n, d);
        }
        if (n > Integer.MAX_VALUE * 8L) throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " is too large");
        return shape.clone();
    }

    static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    static long[] contiguousStrides(long[] shape) {
        long[] st = new long[shape.length];
        long s = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            st[i] = s;
            s *= Math.max(shape[i], 1);
        }
        return st;
    }
}
