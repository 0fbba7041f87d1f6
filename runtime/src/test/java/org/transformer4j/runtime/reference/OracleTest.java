// OracleTest — the test oracle's own erf / erfc (Oracle shares no code with Activations) against
// tabulated values (Abramowitz & Stegun table 7.1 digits, extended with the C library's erf/erfc as
// printed by Python's math module), across the switch from the series to the continued fraction at 3.
package org.transformer4j.runtime.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class OracleTest {

    @Test
    void erfMatchesTabulatedValues() {
        double[][] v = {{0, 0}, {0.1, 0.1124629160182849}, {0.5, 0.5204998778130465}, {1, 0.8427007929497149},
                        {2, 0.9953222650189527}, {2.9, 0.9999589021219005}, {3, 0.9999779095030014},
                        {3.5, 0.9999992569016276}, {4, 0.9999999845827421}, {-1, -0.8427007929497149}};
        for (double[] p : v) assertEquals(p[1], Oracle.erf(p[0]), 2e-15, "erf(" + p[0] + ")");
    }

    @Test
    void erfcKeepsItsRelativeAccuracyInTheTail() {
        double[][] v = {{0.5, 0.4795001221869535}, {2, 0.004677734981047265}, {2.9, 4.109787809945886e-05},
                        {3, 2.2090496998585438e-05}, {3.5, 7.430983723414128e-07}, {4, 1.541725790028002e-08},
                        {5, 1.5374597944280351e-12}, {6, 2.1519736712498916e-17}};
        for (double[] p : v) assertEquals(p[1], Oracle.erfc(p[0]), 1e-12 * p[1], "erfc(" + p[0] + ")");
    }

    @Test
    void exactGeluUsesTheTailForNegativeInputs() {
        // gelu(x) = x/2 · erfc(−x/√2); at x = −8 that is −4 · erfc(8/√2) = −4 · erfc(5.656854…)
        double want = -4 * 1.2441921148543639e-15;   // erfc(5.656854249492381) from Python's math.erfc
        assertEquals(want, Oracle.activate(1, -8), 1e-10 * Math.abs(want));
        assertEquals(0.8413447460685429, Oracle.activate(1, 1), 1e-15);   // Φ(1)
    }
}
