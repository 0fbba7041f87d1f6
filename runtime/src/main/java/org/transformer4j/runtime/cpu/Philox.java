// Philox — the counter-based generator Philox4x32-10 (Salmon et al., SC'11), bit-identical to
// native/src/vocab/vocab.cuh, so the CPU twin draws the same numbers as the sampling kernel.
package org.transformer4j.runtime.cpu;

/** Stateless: a number is a function of (seed, counter). */
public final class Philox {

    private Philox() {
    }

    /** The first 32-bit word of Philox4x32-10 with key (seed low, seed high) and counter (c0, c1, c2, c3), unsigned in a long. */
    public static long x0(long seed, int c0, int c1, int c2, int c3) {
        int k0 = (int) seed;
        int k1 = (int) (seed >>> 32);
        for (int r = 0; r < 10; r++) {
            long p0 = (0xD2511F53L) * (c0 & 0xffffffffL);
            long p1 = (0xCD9E8D57L) * (c2 & 0xffffffffL);
            int hi0 = (int) (p0 >>> 32);
            int lo0 = (int) p0;
            int hi1 = (int) (p1 >>> 32);
            int lo1 = (int) p1;
            c0 = hi1 ^ c1 ^ k0;
            c1 = lo1;
            c2 = hi0 ^ c3 ^ k1;
            c3 = lo0;
            k0 += 0x9E3779B9;
            k1 += 0xBB67AE85;
        }
        return c0 & 0xffffffffL;
    }

    /** The uniform number in [0, 1) of row {@code row} at {@code offset}: (x0 >> 8) · 2^-24, exact in float. */
    public static float uniform(long seed, long row, long offset) {
        long x = x0(seed, (int) row, (int) offset, (int) (offset >>> 32), 0);
        return (float) (x >>> 8) * (1f / 16777216f);
    }
}
