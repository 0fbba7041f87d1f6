// HalfTest: f16 and bf16 conversions, exhaustively over all 65536 bit patterns of each format and
// against an exact (BigDecimal) nearest-value reference on random floats.
package org.transformer4j.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

class HalfTest {

    /** A 16-bit float format: sign bit, expBits exponent bits, manBits mantissa bits. */
    record Format(String name, int expBits, int manBits) {
        int infinity() {
            return ((1 << expBits) - 1) << manBits;
        }

        int maxFinite() {
            return infinity() - 1;
        }

        /**
         * The magnitude of a non-negative pattern up to infinity(), decoded from the fields; for
         * infinity() itself this gives 2^(emax+1), the value IEEE rounding treats as the next step
         * above the largest finite one.
         */
        double magnitude(int p) {
            int man = p & ((1 << manBits) - 1);
            int exp = (p >> manBits) & ((1 << expBits) - 1);
            int bias = (1 << (expBits - 1)) - 1;
            if (exp == 0) {
                return Math.scalb((double) man, 1 - bias - manBits);
            }
            return Math.scalb((double) ((1 << manBits) + man), exp - bias - manBits);
        }

        /** The value of any pattern, decoded independently of the code under test. */
        float decode(short h) {
            int p = h & 0xffff;
            boolean negative = (p & 0x8000) != 0;
            int mag = p & 0x7fff;
            float v;
            if (mag > infinity()) {
                v = Float.NaN;
            } else if (mag == infinity()) {
                v = Float.POSITIVE_INFINITY;
            } else {
                v = (float) magnitude(mag);
            }
            return negative ? -v : v;
        }

        boolean isNaN(short h) {
            return (h & 0x7fff) > infinity();
        }

        /**
         * The pattern nearest to finite or infinite f, ties to the even pattern, with overflow to
         * infinity at max + half an ulp as IEEE rounds: found by binary search over the ordered
         * non-negative patterns and exact BigDecimal distances.
         */
        short nearest(float f) {
            int sign = (Float.floatToRawIntBits(f) >>> 31) << 15;
            double v = Math.abs((double) f);
            if (Double.isInfinite(v)) {
                return (short) (sign | infinity());
            }
            int lo = 0;
            int hi = maxFinite();
            while (lo < hi) { // largest pattern whose magnitude is <= v
                int mid = (lo + hi + 1) >>> 1;
                if (magnitude(mid) <= v) {
                    lo = mid;
                } else {
                    hi = mid - 1;
                }
            }
            int below = lo;
            int above = lo + 1;
            BigDecimal exact = new BigDecimal(v);
            int cmp = exact.subtract(new BigDecimal(magnitude(below)))
                    .compareTo(new BigDecimal(magnitude(above)).subtract(exact));
            int p;
            if (magnitude(below) == v || cmp < 0) {
                p = below;
            } else if (cmp > 0) {
                p = above;
            } else {
                p = (below & 1) == 0 ? below : above;
            }
            return (short) (sign | p);
        }
    }

    static final Format F16 = new Format("f16", 5, 10);
    static final Format BF16 = new Format("bf16", 8, 7);

    static long newSeed() {
        Long fixed = Long.getLong("t4j.test.seed");
        return fixed != null ? fixed : new SplittableRandom().nextLong();
    }

    static String hex(int bits) {
        return String.format("0x%04x", bits & 0xffff);
    }

    @Test
    void f16DecodesEveryPattern() {
        for (int p = 0; p < 0x10000; p++) {
            short h = (short) p;
            assertSameFloat(F16.decode(h), Half.f16ToFloat(h), "f16 " + hex(p));
        }
    }

    @Test
    void bf16DecodesEveryPattern() {
        for (int p = 0; p < 0x10000; p++) {
            short h = (short) p;
            assertSameFloat(BF16.decode(h), Half.bf16ToFloat(h), "bf16 " + hex(p));
        }
    }

    @Test
    void everyF16PatternRoundTrips() {
        for (int p = 0; p < 0x10000; p++) {
            short h = (short) p;
            short back = Half.floatToF16(Half.f16ToFloat(h));
            if (F16.isNaN(h)) {
                assertTrue(F16.isNaN(back), "f16 NaN " + hex(p) + " came back as " + hex(back));
            } else {
                assertEquals(hex(p), hex(back), "f16 round trip");
                assertSameFloat(Half.f16ToFloat(h), Half.roundToF16(Half.f16ToFloat(h)), "roundToF16 of f16 " + hex(p));
            }
        }
    }

    @Test
    void everyBf16PatternRoundTrips() {
        for (int p = 0; p < 0x10000; p++) {
            short h = (short) p;
            short back = Half.floatToBf16(Half.bf16ToFloat(h));
            if (BF16.isNaN(h)) {
                assertTrue(BF16.isNaN(back), "bf16 NaN " + hex(p) + " came back as " + hex(back));
                assertEquals(p & 0x8000, back & 0x8000, "bf16 NaN " + hex(p) + " keeps its sign");
            } else {
                assertEquals(hex(p), hex(back), "bf16 round trip");
                assertSameFloat(Half.bf16ToFloat(h), Half.roundToBf16(Half.bf16ToFloat(h)), "roundToBf16 of bf16 " + hex(p));
            }
        }
    }

    @Test
    void tiesRoundToEven() {
        for (int sign : new int[] {0, 0x8000}) {
            // bf16: the float halfway between pattern p and p + 1 has the low 16 bits 0x8000
            for (int p = 0; p < BF16.maxFinite(); p++) {
                float tie = Float.intBitsToFloat(((sign | p) << 16) | 0x8000);
                int even = (p & 1) == 0 ? p : p + 1;
                assertEquals(hex(sign | even), hex(Half.floatToBf16(tie)), "bf16 tie above " + hex(sign | p));
                float justBelow = Float.intBitsToFloat(((sign | p) << 16) | 0x7fff);
                float justAbove = Float.intBitsToFloat(((sign | p) << 16) | 0x8001);
                assertEquals(hex(sign | p), hex(Half.floatToBf16(justBelow)), "bf16 below tie above " + hex(sign | p));
                assertEquals(hex(sign | (p + 1)), hex(Half.floatToBf16(justAbove)), "bf16 above tie above " + hex(sign | p));
            }
            // f16: midpoints of neighbouring values need one more bit than f16 has, so they are exact floats
            for (int p = 0; p < F16.maxFinite(); p++) {
                double mid = (F16.magnitude(p) + F16.magnitude(p + 1)) / 2;
                float tie = (float) (sign == 0 ? mid : -mid);
                assertEquals(mid, Math.abs((double) tie), "midpoint is exact");
                int even = (p & 1) == 0 ? p : p + 1;
                assertEquals(hex(sign | even), hex(Half.floatToF16(tie)), "f16 tie above " + hex(sign | p));
            }
        }
    }

    @Test
    void infinitiesOverflowAndNaNs() {
        assertEquals(hex(0x7f80), hex(Half.floatToBf16(Float.POSITIVE_INFINITY)));
        assertEquals(hex(0xff80), hex(Half.floatToBf16(Float.NEGATIVE_INFINITY)));
        assertEquals(hex(0x0000), hex(Half.floatToBf16(0f)));
        assertEquals(hex(0x8000), hex(Half.floatToBf16(-0f)));
        // bf16's largest finite value is 0x7f7f; the tie at 0x7f7f8000 rounds to even, which is inf
        assertEquals(hex(0x7f7f), hex(Half.floatToBf16(Float.intBitsToFloat(0x7f7f7fff))));
        assertEquals(hex(0x7f80), hex(Half.floatToBf16(Float.intBitsToFloat(0x7f7f8000))));
        assertEquals(hex(0x7f80), hex(Half.floatToBf16(Float.MAX_VALUE)));
        assertEquals(hex(0xff80), hex(Half.floatToBf16(-Float.MAX_VALUE)));
        // the smallest float subnormal is far below half of bf16's smallest subnormal (2^-133)
        assertEquals(hex(0x0000), hex(Half.floatToBf16(Float.MIN_VALUE)));
        assertEquals(hex(0x0001), hex(Half.floatToBf16(Math.scalb(1f, -133))));
        // NaNs whose payload lives only in the low 16 bits must not truncate to inf
        for (int bits : new int[] {0x7f800001, 0x7f80ffff, 0x7fc00000, 0x7fffffff, 0xff800001, 0xffc00000}) {
            short h = Half.floatToBf16(Float.intBitsToFloat(bits));
            assertTrue(BF16.isNaN(h), "bf16 of NaN " + Integer.toHexString(bits) + " is " + hex(h));
            assertEquals(0x0040, h & 0x0040, "bf16 NaN from " + Integer.toHexString(bits) + " is quiet");
            assertEquals(bits >>> 31, (h & 0x8000) >>> 15, "bf16 NaN from " + Integer.toHexString(bits) + " keeps its sign");
            assertTrue(Float.isNaN(Half.roundToBf16(Float.intBitsToFloat(bits))));
        }
        // f16: largest finite 65504; 65520 = 65504 + half an ulp ties to even, which is inf
        assertEquals(hex(0x7c00), hex(Half.floatToF16(Float.POSITIVE_INFINITY)));
        assertEquals(hex(0xfc00), hex(Half.floatToF16(Float.NEGATIVE_INFINITY)));
        assertEquals(hex(0x7bff), hex(Half.floatToF16(65519.996f)));
        assertEquals(hex(0x7c00), hex(Half.floatToF16(65520f)));
        assertEquals(hex(0xfc00), hex(Half.floatToF16(-1e6f)));
        assertTrue(F16.isNaN(Half.floatToF16(Float.NaN)));
        assertTrue(Float.isNaN(Half.roundToF16(Float.NaN)));
        assertEquals(Float.POSITIVE_INFINITY, Half.roundToF16(1e6f));
    }

    @Test
    void roundingMatchesExactReferenceOnRandomFloats() {
        long seed = newSeed();
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int i = 0; i < 200_000; i++) {
            // a third uniform over all bit patterns, a third of ordinary magnitudes, a third near bf16 ties
            float f = switch (i % 3) {
                case 0 -> Float.intBitsToFloat(rnd.nextInt());
                case 1 -> (float) (rnd.nextDouble(-1, 1) * Math.scalb(1.0, rnd.nextInt(-30, 30)));
                default -> Float.intBitsToFloat((rnd.nextInt() & 0xffff0000) | (0x8000 + rnd.nextInt(-2, 3)));
            };
            if (Float.isNaN(f)) {
                continue;
            }
            String what = "f=" + f + " (bits 0x" + Integer.toHexString(Float.floatToRawIntBits(f)) + ") [seed=" + seed
                    + ", rerun with -Dt4j.test.seed=" + seed + "]";
            assertEquals(hex(BF16.nearest(f)), hex(Half.floatToBf16(f)), "bf16 of " + what);
            assertEquals(hex(F16.nearest(f)), hex(Half.floatToF16(f)), "f16 of " + what);
            assertSameFloat(BF16.decode(BF16.nearest(f)), Half.roundToBf16(f), "roundToBf16 of " + what);
            assertSameFloat(F16.decode(F16.nearest(f)), Half.roundToF16(f), "roundToF16 of " + what);
        }
    }

    /** Equal as values, NaN equal to NaN, and +0 different from -0. */
    static void assertSameFloat(float expected, float actual, String what) {
        if (Float.isNaN(expected)) {
            assertTrue(Float.isNaN(actual), what + ": expected NaN, got " + actual);
        } else {
            assertEquals(Float.floatToIntBits(expected), Float.floatToIntBits(actual), what + ": expected " + expected + ", got " + actual);
        }
    }
}
