// Half: conversions between float and the two 16-bit float formats (IEEE binary16 "f16" and
// bfloat16 "bf16"), round-to-nearest-even, as the CPU backend uses them to store and emulate
// low-precision tensors.
package org.transformer4j.runtime.cpu;

/** Conversions between {@code float} and the 16-bit formats f16 (IEEE binary16) and bf16. */
public final class Half {

    private Half() {
    }

    /** The f16 value with bit pattern {@code h}, exactly. */
    public static float f16ToFloat(short h) {
        return Float.float16ToFloat(h);
    }

    /** {@code f} rounded to the nearest f16 (ties to even); overflow gives ±inf, NaN stays NaN. */
    public static short floatToF16(float f) {
        return Float.floatToFloat16(f);
    }

    /** The bf16 value with bit pattern {@code b}, exactly (bf16 is the upper half of a float). */
    public static float bf16ToFloat(short b) {
        return Float.intBitsToFloat((b & 0xffff) << 16);
    }

    /**
     * {@code f} rounded to the nearest bf16 (ties to even). Values at or beyond the overflow
     * threshold round to ±inf, ±inf stays ±inf, and NaN becomes a quiet NaN with the same sign.
     */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            // NaN: keep sign and the top payload bits, set the quiet bit so truncation cannot
            // turn a payload that lives only in the low 16 bits into inf.
            return (short) ((bits >>> 16) | 0x0040);
        }
        // Adding 0x7fff plus the lowest kept bit rounds the magnitude to nearest, ties to even;
        // a carry out of the mantissa bumps the exponent, which is how overflow reaches inf.
        int rounded = bits + 0x7fff + ((bits >>> 16) & 1);
        return (short) (rounded >>> 16);
    }

    /** {@code f} as it reads back after a store to f16. */
    public static float roundToF16(float f) {
        return Float.float16ToFloat(Float.floatToFloat16(f));
    }

    /** {@code f} as it reads back after a store to bf16. */
    public static float roundToBf16(float f) {
        return bf16ToFloat(floatToBf16(f));
    }
}
