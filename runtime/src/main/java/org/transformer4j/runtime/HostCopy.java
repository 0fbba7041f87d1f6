// HostCopy — copies a host tensor's elements (any strides: a transposed or sliced view of a
// memory-mapped checkpoint) row-major into native memory, converting between F32, F16 and BF16 on
// the way, a range of elements at a time, with no Java array: the inner step of every weight load.
package org.transformer4j.runtime;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;
import org.transformer4j.runtime.cpu.Half;

/**
 * {@code convert(src, dtype, dst, first, count)} writes elements {@code [first, first + count)} of
 * {@code src}, in row-major order of its shape, into {@code dst} (bytes {@code [0, count · size)}) as
 * {@code dtype}. Floating types convert among each other, rounding to nearest even exactly as
 * {@link Tensor#of} does (so a load through here is bit-identical to one through a float array);
 * integer types copy to their own type only. Ranges let a caller fill a fixed-size staging buffer
 * chunk after chunk.
 */
public final class HostCopy {

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT;
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT;
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG;

    /** Side of the square tiles a transposed matrix is copied in (64 × 64 fits L1 for 2- and 4-byte types). */
    private static final int TILE = 64;

    private HostCopy() {}

    /** Whether {@code from} can be converted to {@code to} here. */
    public static boolean supports(DType from, DType to) {
        return from == to || from.isFloatingPoint() && to.isFloatingPoint();
    }

    /** All of {@code src} into {@code dst} as {@code dtype}. */
    public static void convert(Tensor src, DType dtype, MemorySegment dst) {
        convert(src, dtype, dst, 0, src.numel());
    }

    /** Stands for "a pool thread" when asking whether memory is confined to the calling thread (never started). */
    private static final Thread OTHER = Thread.ofPlatform().unstarted(() -> {});

    /** Below this many bytes a copy runs on the calling thread only (splitting costs more than it gains). */
    private static final long PARALLEL_BYTES = 8L << 20;

    /**
     * As {@link #convert(Tensor, DType, MemorySegment, long, long)}, split over the common fork-join pool
     * in parts of whole tile rows (each part writes its own range of {@code dst}); small ranges run here.
     */
    public static void convertParallel(Tensor src, DType dtype, MemorySegment dst, long first, long count) {
        if (first < 0 || count < 0 || first > src.numel() - count || dst.byteSize() < count * dtype.byteSize()) {
            convert(src, dtype, dst, first, count);                      // throws, naming the problem
            return;
        }
        int threads = java.util.concurrent.ForkJoinPool.getCommonPoolParallelism() + 1;
        long bytes = count * Math.max(src.dtype().byteSize(), dtype.byteSize());
        if (threads < 2 || bytes < PARALLEL_BYTES || src.rank() == 0
                || !src.hostSegment().isAccessibleBy(OTHER) || !dst.isAccessibleBy(OTHER)) {   // confined memory: this thread only
            convert(src, dtype, dst, first, count);
            return;
        }
        long cols = Math.max(1, src.shape(src.rank() - 1));
        long unit = src.isContiguous() ? 1 << 16 : cols * TILE;        // parts start on tile rows of transposed views
        long parts = Math.min(threads * 4L, Math.max(1, count / unit));
        long per = (count / parts + unit - 1) / unit * unit;
        java.util.stream.LongStream.range(0, (count + per - 1) / per).parallel().forEach(i -> {
            long from = i * per, n = Math.min(per, count - from);
            convert(src, dtype, dst.asSlice(from * dtype.byteSize(), n * dtype.byteSize()), first + from, n);
        });
    }

    /** Elements {@code [first, first + count)} of {@code src} (row-major) into {@code dst} as {@code dtype}. */
    public static void convert(Tensor src, DType dtype, MemorySegment dst, long first, long count) {
        Objects.requireNonNull(src, "src");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(dst, "dst");
        MemorySegment s = src.hostSegment();                      // checks open and on the host
        DType from = src.dtype();
        if (!supports(from, dtype)) {
            throw new IllegalArgumentException("cannot convert " + src + " to " + dtype + " (floating types convert among"
                    + " F32, F16 and BF16; integer types copy to their own type only)");
        }
        long n = src.numel();
        if (first < 0 || count < 0 || first > n - count) {
            throw new IllegalArgumentException("elements [" + first + ", " + (first + count) + ") out of range for " + src);
        }
        if (dst.byteSize() < count * dtype.byteSize()) {
            throw new IllegalArgumentException("dst of " + dst.byteSize() + " bytes cannot hold " + count + " " + dtype + " elements");
        }
        if (dst.isReadOnly()) throw new IllegalArgumentException("dst is read-only");
        if (count == 0) return;
        if (src.isContiguous()) {
            run(s, from, first, 1, dst, dtype, 0, count);
            return;
        }
        int r = src.rank();
        long[] shape = src.shape(), strides = src.strides();
        long cols = shape[r - 1], cs = strides[r - 1];
        long e = first, end = first + count;
        while (e < end) {
            long row = e / cols, col = e % cols;
            if (r == 2 && cs != 1 && col == 0 && end - e >= TILE * cols) {
                // Whole rows of a transposed matrix: in tiles, so that both sides stay in cache.
                long rows = (end - e) / cols / TILE * TILE;
                tiles(s, from, row * strides[0], strides[0], cs, rows, cols, dst, dtype, e - first);
                e += rows * cols;
                continue;
            }
            long take = Math.min(cols - col, end - e);
            run(s, from, rowOffset(row, shape, strides) + col * cs, cs, dst, dtype, e - first, take);
            e += take;
        }
    }

    /** Offset (in elements) of the first element of row {@code row}, rows being all dimensions but the last. */
    private static long rowOffset(long row, long[] shape, long[] strides) {
        long off = 0;
        for (int d = shape.length - 2; d >= 0; d--) {
            off += row % shape[d] * strides[d];
            row /= shape[d];
        }
        return off;
    }

    /** {@code rows} full rows of a rank-2 view with row stride {@code rs} and column stride {@code cs}, tile by tile. */
    private static void tiles(MemorySegment s, DType from, long base, long rs, long cs, long rows, long cols,
                              MemorySegment d, DType to, long dstFirst) {
        for (long r0 = 0; r0 < rows; r0 += TILE) {
            for (long c0 = 0; c0 < cols; c0 += TILE) {
                long c1 = Math.min(cols, c0 + TILE);
                for (long c = c0; c < c1; c++) {
                    // One column of the tile: TILE source elements rs apart (often adjacent), written cols apart.
                    if (from == to && from.byteSize() == 2) {                  // BF16/F16 kept as they are: the 1B load's case
                        for (long r = r0; r < r0 + TILE; r++) {
                            d.setAtIndex(I16, dstFirst + r * cols + c, s.getAtIndex(I16, base + r * rs + c * cs));
                        }
                    } else {
                        for (long r = r0; r < r0 + TILE; r++) {
                            element(s, from, base + r * rs + c * cs, d, to, dstFirst + r * cols + c);
                        }
                    }
                }
            }
        }
    }

    private static void element(MemorySegment s, DType from, long si, MemorySegment d, DType to, long di) {
        if (from == to) {
            switch (from.byteSize()) {
                case 2 -> d.setAtIndex(I16, di, s.getAtIndex(I16, si));
                case 4 -> d.setAtIndex(I32, di, s.getAtIndex(I32, si));
                default -> d.setAtIndex(I64, di, s.getAtIndex(I64, si));
            }
        } else {
            write(d, to, di, read(s, from, si));
        }
    }

    /** {@code n} elements from {@code s} at element {@code si}, {@code stride} apart, to {@code d} from element {@code di}. */
    private static void run(MemorySegment s, DType from, long si, long stride, MemorySegment d, DType to, long di, long n) {
        if (from == to && stride == 1) {
            long b = from.byteSize();
            MemorySegment.copy(s, si * b, d, di * b, n * b);
            return;
        }
        if (from == to) {
            for (long k = 0; k < n; k++) element(s, from, si + k * stride, d, to, di + k);
            return;
        }
        // The common pairs get their own loops (the JIT keeps them tight); the rest go through float.
        if (from == DType.BF16 && to == DType.F32) {
            for (long k = 0; k < n; k++) d.setAtIndex(F32, di + k, Half.bf16ToFloat(s.getAtIndex(I16, si + k * stride)));
        } else if (from == DType.F32 && to == DType.BF16) {
            for (long k = 0; k < n; k++) d.setAtIndex(I16, di + k, Half.floatToBf16(s.getAtIndex(F32, si + k * stride)));
        } else if (from == DType.F16 && to == DType.F32) {
            for (long k = 0; k < n; k++) d.setAtIndex(F32, di + k, Half.f16ToFloat(s.getAtIndex(I16, si + k * stride)));
        } else if (from == DType.F32 && to == DType.F16) {
            for (long k = 0; k < n; k++) d.setAtIndex(I16, di + k, Half.floatToF16(s.getAtIndex(F32, si + k * stride)));
        } else {
            for (long k = 0; k < n; k++) write(d, to, di + k, read(s, from, si + k * stride));
        }
    }

    private static float read(MemorySegment s, DType t, long i) {
        return switch (t) {
            case F32 -> s.getAtIndex(F32, i);
            case F16 -> Half.f16ToFloat(s.getAtIndex(I16, i));
            case BF16 -> Half.bf16ToFloat(s.getAtIndex(I16, i));
            default -> throw new IllegalStateException(t + " is not a floating type");
        };
    }

    private static void write(MemorySegment d, DType t, long i, float v) {
        switch (t) {
            case F32 -> d.setAtIndex(F32, i, v);
            case F16 -> d.setAtIndex(I16, i, Half.floatToF16(v));
            case BF16 -> d.setAtIndex(I16, i, Half.floatToBf16(v));
            default -> throw new IllegalStateException(t + " is not a floating type");
        }
    }
}
