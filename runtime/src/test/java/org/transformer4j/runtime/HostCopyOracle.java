// HostCopyOracle — the reference for conversion tests (HostCopyTest, PinnedUploaderTest): reads an
// element through a view's own strides and rounds it by a float64 comparison of the two neighbouring
// bf16 values (F16 through the JDK's Float.floatToFloat16); shares no code with HostCopy or Half.
package org.transformer4j.runtime;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

public final class HostCopyOracle {

    private HostCopyOracle() {}

    /** bits of the bf16 nearest to {@code x} (ties to even), by comparing the two candidates in float64. */
    public static short bf16Oracle(float x) {
        if (Float.isNaN(x)) return (short) 0x7fc0;
        int bits = Float.floatToRawIntBits(x);
        int lo = bits & 0xffff0000;                     // toward zero
        int hi = lo + 0x10000;                          // away from zero (may reach inf: that is the next value)
        double dlo = Math.abs((double) x - Float.intBitsToFloat(lo));
        double dhi = Math.abs((double) Float.intBitsToFloat(hi) - x);
        if (Float.isInfinite(Float.intBitsToFloat(hi)) && !Float.isInfinite(x)) {
            // the overflow threshold: halfway between the largest finite bf16 and 2^128
            double halfway = (Float.intBitsToFloat(lo) + Math.scalb(1.0, 128)) / 2;
            return (short) ((Math.abs((double) x) >= Math.abs(halfway) ? hi : lo) >>> 16);
        }
        if (dlo < dhi || dlo == dhi && ((lo >>> 16) & 1) == 0) return (short) (lo >>> 16);
        return (short) (hi >>> 16);
    }

    /** The value element {@code idx} (row-major over {@code shape}) has after rounding to {@code to}. */
    public static double expected(float x, DType to) {
        return switch (to) {
            case F32 -> x;
            case F16 -> Float.float16ToFloat(Float.floatToFloat16(x));
            case BF16 -> Float.intBitsToFloat((bf16Oracle(x) & 0xffff) << 16);
            default -> throw new AssertionError(to);
        };
    }

    /** Reads element {@code k} (row-major) of {@code t} through its strides, bit by bit from its segment. */
    public static float read(Tensor t, long k) {
        long[] shape = t.shape(), strides = t.strides();
        long off = 0;
        for (int d = shape.length - 1; d >= 0; d--) {
            off += k % shape[d] * strides[d];
            k /= shape[d];
        }
        MemorySegment s = t.hostSegment();
        return switch (t.dtype()) {
            case F32 -> s.get(ValueLayout.JAVA_FLOAT, off * 4);
            case F16 -> Float.float16ToFloat(s.get(ValueLayout.JAVA_SHORT, off * 2));
            case BF16 -> Float.intBitsToFloat((s.get(ValueLayout.JAVA_SHORT, off * 2) & 0xffff) << 16);
            default -> throw new AssertionError(t.dtype());
        };
    }

    public static float readOut(MemorySegment s, DType t, long i) {
        return switch (t) {
            case F32 -> s.getAtIndex(ValueLayout.JAVA_FLOAT, i);
            case F16 -> Float.float16ToFloat(s.getAtIndex(ValueLayout.JAVA_SHORT, i));
            case BF16 -> Float.intBitsToFloat((s.getAtIndex(ValueLayout.JAVA_SHORT, i) & 0xffff) << 16);
            default -> throw new AssertionError(t);
        };
    }

    public static Tensor random(SplittableRandom rnd, DType dt, long... shape) {
        Tensor t = Tensor.empty(dt, shape);
        long n = t.numel();
        MemorySegment s = t.hostSegment();
        for (long i = 0; i < n; i++) {
            // wide range with exact ties for bf16 (low 16 bits 0x8000) now and then
            float v = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(-3, 4)));
            if (rnd.nextInt(10) == 0) v = Float.intBitsToFloat((Float.floatToRawIntBits(v) & 0xffff0000) | 0x8000);
            switch (dt) {
                case F32 -> s.setAtIndex(ValueLayout.JAVA_FLOAT, i, v);
                case F16 -> s.setAtIndex(ValueLayout.JAVA_SHORT, i, Float.floatToFloat16(v));
                case BF16 -> s.setAtIndex(ValueLayout.JAVA_SHORT, i, (short) (Float.floatToRawIntBits(v) >>> 16));
                default -> throw new AssertionError(dt);
            }
        }
        return t;
    }
}
