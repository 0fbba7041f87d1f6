// Util — input data for the benchmarks.
package org.transformer4j.bench;

import java.util.SplittableRandom;

final class Util {

    private Util() {}

    /** n values uniform in [-1, 1). */
    /** v with every element multiplied by s, in place. */
    static float[] scaled(float[] v, float s) {
        for (int i = 0; i < v.length; i++) v[i] *= s;
        return v;
    }

    static float[] random(SplittableRandom rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (rnd.nextDouble() * 2 - 1);
        return v;
    }
}
