// VectorOps — every Vector API use of the CPU kernels (GEMM micro-kernel and small-M paths, norm
// reductions, exact GELU, attention scores); loaded only when jdk.incubator.vector is present and
// enabled (CpuKernels.simd()), so no other class touches jdk.incubator.vector.
package org.transformer4j.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/** Every Vector API use; loaded only when jdk.incubator.vector is present and enabled. */
final class VectorOps {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int V = S.length();
    /** Micro-tile columns: two vectors. */
    static final int NR = 2 * V;

    private VectorOps() {
    }

    /** Whether {@link #decodeMxfp4Row} runs on vectors: 8 or 16 float lanes (a byte vector of V lanes must exist). */
    static final boolean MXFP4_VECTORS = V == 8 || V == 16;
    private static final VectorSpecies<Byte> MX_BYTES = V == 16 ? ByteVector.SPECIES_128 : ByteVector.SPECIES_64;
    private static final VectorSpecies<Integer> MX_INTS = VectorSpecies.of(int.class, S.vectorShape());
    /** Lanes [lo0 hi0 lo1 hi1 …]: the first V outputs of V low and V high nibbles' values, then the next V. */
    private static final VectorShuffle<Float> ZIP_LO = zip(0), ZIP_HI = zip(V / 2);

    private static VectorShuffle<Float> zip(int from) {
        int[] idx = new int[V];
        for (int i = 0; i < V / 2; i++) {
            idx[2 * i] = from + i;              // this vector's lane (the low nibbles)
            idx[2 * i + 1] = V + from + i;      // exceptional: the other vector's lane (the high nibbles)
        }
        return VectorShuffle.fromArray(S, idx, 0);
    }

    /**
     * One MXFP4 row of {@code groups} · 32 values into out from outOff in its natural order, as CpuMxfp4.decodeRowScalar does
     * it one value at a time (the same bits: each value is an FP4 code times a power of two, exact in fp32): per V bytes,
     * the codes' fp32 bits built from their fields (sign bit 3 → bit 31; exponent e = bits 1–2: e > 0 gives
     * (e + 126) &lt;&lt; 23 | m &lt;&lt; 22, e = 0 the subnormal m · 0.5), times the group's 2^(scale − 127) in
     * CpuMxfp4.scaleHalf's two steps, low and high
     * nibbles interleaved back into place. Needs {@link #MXFP4_VECTORS}.
     */
    static void decodeMxfp4Row(MemorySegment blocks, long bOff, MemorySegment scales, long sOff, int groups, float[] out, int outOff) {
        for (int q = 0; q < groups; q++) {
            int e = Byte.toUnsignedInt(scales.get(ValueLayout.JAVA_BYTE, sOff + q)) - 127;
            float s1 = CpuMxfp4.scaleHalf(e, 0), s2 = CpuMxfp4.scaleHalf(e, 1);
            for (int c = 0; c < 16; c += V) {
                IntVector b = ((IntVector) ByteVector.fromMemorySegment(MX_BYTES, blocks, bOff + 16L * q + c, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.B2I, MX_INTS, 0)).and(0xff);
                FloatVector lo = fp4(b.and(15)).mul(s1).mul(s2), hi = fp4(b.lanewise(VectorOperators.LSHR, 4)).mul(s1).mul(s2);
                int at = outOff + 32 * q + 2 * c;
                lo.rearrange(ZIP_LO, hi).intoArray(out, at);
                lo.rearrange(ZIP_HI, hi).intoArray(out, at + V);
            }
        }
    }

    /**
     * The dot of x[xo, xo + 32 · groups) with one MXFP4 row (blocks at bOff, scales at sOff), decoded in registers as
     * {@link #decodeMxfp4Row} decodes it: {@link #dot(float[], int, float[], int, int)} over the decoded row, in its order
     * (one accumulator taking the row's vectors in turn, lanes summed; no tail, V divides 32), so the same bits without
     * the row written out and read back. Needs {@link #MXFP4_VECTORS}.
     */
    static float dotMxfp4(float[] x, int xo, MemorySegment blocks, long bOff, MemorySegment scales, long sOff, int groups) {
        FloatVector s0 = FloatVector.zero(S);
        for (int q = 0; q < groups; q++) {
            int e = Byte.toUnsignedInt(scales.get(ValueLayout.JAVA_BYTE, sOff + q)) - 127;
            float s1 = CpuMxfp4.scaleHalf(e, 0), s2 = CpuMxfp4.scaleHalf(e, 1);
            for (int c = 0; c < 16; c += V) {
                IntVector b = ((IntVector) ByteVector.fromMemorySegment(MX_BYTES, blocks, bOff + 16L * q + c, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.B2I, MX_INTS, 0)).and(0xff);
                FloatVector lo = fp4(b.and(15)).mul(s1).mul(s2), hi = fp4(b.lanewise(VectorOperators.LSHR, 4)).mul(s1).mul(s2);
                int at = xo + 32 * q + 2 * c;
                s0 = FloatVector.fromArray(S, x, at).fma(lo.rearrange(ZIP_LO, hi), s0);
                s0 = FloatVector.fromArray(S, x, at + V).fma(lo.rearrange(ZIP_HI, hi), s0);
            }
        }
        return sumLanes(s0);
    }

    /** 8 float and int lanes (256 bits) for the INT4 decode, where the preferred vectors are at least that wide. */
    static final boolean INT4_VECTORS = S.vectorBitSize() >= 256;
    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    private static final VectorSpecies<Integer> I8 = IntVector.SPECIES_256;
    private static final IntVector NIBBLE_SHIFTS = IntVector.fromArray(I8, new int[] {0, 4, 8, 12, 16, 20, 24, 28}, 0);

    /**
     * The 8 values of one INT4 word (Int4Rows: code i in bits 4i .. 4i + 3) looked up in the 16 values of table[t, t + 16)
     * (its group's and column's), into dst[at, at + 8): the scalar lookup's values, V-independent (two 8-lane
     * rearranges and a blend). Needs {@link #INT4_VECTORS}.
     */
    static void int4Decode8(int word, float[] table, int t, float[] dst, int at) {
        IntVector codes = IntVector.broadcast(I8, word).lanewise(VectorOperators.LSHR, NIBBLE_SHIFTS).and(15);
        VectorShuffle<Float> idx = codes.and(7).toShuffle().cast(F8);
        FloatVector lo = FloatVector.fromArray(F8, table, t), hi = FloatVector.fromArray(F8, table, t + 8);
        lo.rearrange(idx).blend(hi.rearrange(idx), codes.compare(VectorOperators.GE, 8).cast(F8)).intoArray(dst, at);
    }

    /** Shorts of V lanes (V · 16 bits), widened to V ints by {@link #widenBf16}. */
    private static final VectorSpecies<Short> BF16_BITS = VectorSpecies.of(short.class, VectorShape.forBitSize(16 * V));

    /**
     * n bf16 values from byte off of src (native order) into dst[at, at + n) as fp32, exactly: each value's bits
     * shifted up 16 (sign-extending the short first leaves the same low 32 bits), V at a time.
     */
    static void widenBf16(MemorySegment src, long off, float[] dst, int at, int n) {
        ByteOrder order = ByteOrder.nativeOrder();
        int i = 0;
        for (int upper = S.loopBound(n); i < upper; i += V) {
            bf16(src, off + 2L * i, order).intoArray(dst, at + i);
        }
        for (; i < n; i++) {
            dst[at + i] = Float.intBitsToFloat(src.get(ValueLayout.JAVA_SHORT_UNALIGNED, off + 2L * i) << 16);
        }
    }

    /** V bf16 values from byte off of src as fp32 (see {@link #widenBf16}). */
    private static FloatVector bf16(MemorySegment src, long off, ByteOrder order) {
        return ((IntVector) ShortVector.fromMemorySegment(BF16_BITS, src, off, order).convertShape(VectorOperators.S2I, MX_INTS, 0))
                .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /**
     * The dot of x[xo, xo + n) with n bf16 values at byte yo of y, decoded in registers: {@link #dot(float[], int, float[], int, int)}
     * over the widened values, in its order (one accumulator, lanes summed, then the tail), so the same bits.
     */
    static float dotBf16(float[] x, int xo, MemorySegment y, long yo, int n) {
        ByteOrder order = ByteOrder.nativeOrder();
        FloatVector s0 = FloatVector.zero(S);
        int i = 0;
        for (int upper = S.loopBound(n); i < upper; i += V) {
            s0 = FloatVector.fromArray(S, x, xo + i).fma(bf16(y, yo + 2L * i, order), s0);
        }
        float s = sumLanes(s0);
        for (; i < n; i++) {
            s += x[xo + i] * Float.intBitsToFloat(y.get(ValueLayout.JAVA_SHORT_UNALIGNED, yo + 2L * i) << 16);
        }
        return s;
    }

    /** FP4 (e2m1) codes 0..15 → their fp32 values. */
    private static FloatVector fp4(IntVector code) {
        IntVector e = code.lanewise(VectorOperators.LSHR, 1).and(3), m = code.and(1);
        IntVector normal = e.add(126).lanewise(VectorOperators.LSHL, 23).or(m.lanewise(VectorOperators.LSHL, 22));
        IntVector bits = normal.blend(m.mul(126 << 23), e.eq(0)).or(code.lanewise(VectorOperators.LSHR, 3).lanewise(VectorOperators.LSHL, 31));
        return bits.reinterpretAsFloats();
    }

    /** An (CpuGemm.MR, NR) tile of C += alpha * packed op(A) panel @ packed op(B) panel, kc deep. */
    static void microKernel(int kc, float[] ap, int ao, float[] bp, int bo,
                            float[] c, int ci, int cRs, int rows, int cols,
                            float alpha, float beta, float[] tile) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        for (int kk = 0; kk < kc; kk++, ao += CpuGemm.MR, bo += NR) {
            FloatVector b0 = FloatVector.fromArray(S, bp, bo);
            FloatVector b1 = FloatVector.fromArray(S, bp, bo + V);
            FloatVector av = FloatVector.broadcast(S, ap[ao]);
            c00 = b0.fma(av, c00);
            c01 = b1.fma(av, c01);
            av = FloatVector.broadcast(S, ap[ao + 1]);
            c10 = b0.fma(av, c10);
            c11 = b1.fma(av, c11);
            av = FloatVector.broadcast(S, ap[ao + 2]);
            c20 = b0.fma(av, c20);
            c21 = b1.fma(av, c21);
            av = FloatVector.broadcast(S, ap[ao + 3]);
            c30 = b0.fma(av, c30);
            c31 = b1.fma(av, c31);
            av = FloatVector.broadcast(S, ap[ao + 4]);
            c40 = b0.fma(av, c40);
            c41 = b1.fma(av, c41);
            av = FloatVector.broadcast(S, ap[ao + 5]);
            c50 = b0.fma(av, c50);
            c51 = b1.fma(av, c51);
        }
        if (rows == CpuGemm.MR && cols == NR) {
            store(c00, c, ci, alpha, beta);
            store(c01, c, ci + V, alpha, beta);
            store(c10, c, ci + cRs, alpha, beta);
            store(c11, c, ci + cRs + V, alpha, beta);
            store(c20, c, ci + 2 * cRs, alpha, beta);
            store(c21, c, ci + 2 * cRs + V, alpha, beta);
            store(c30, c, ci + 3 * cRs, alpha, beta);
            store(c31, c, ci + 3 * cRs + V, alpha, beta);
            store(c40, c, ci + 4 * cRs, alpha, beta);
            store(c41, c, ci + 4 * cRs + V, alpha, beta);
            store(c50, c, ci + 5 * cRs, alpha, beta);
            store(c51, c, ci + 5 * cRs + V, alpha, beta);
            return;
        }
        // edge tile: spill to tile (CpuGemm.MR, NR) and store the part inside C
        c00.intoArray(tile, 0);
        c01.intoArray(tile, V);
        c10.intoArray(tile, NR);
        c11.intoArray(tile, NR + V);
        c20.intoArray(tile, 2 * NR);
        c21.intoArray(tile, 2 * NR + V);
        c30.intoArray(tile, 3 * NR);
        c31.intoArray(tile, 3 * NR + V);
        c40.intoArray(tile, 4 * NR);
        c41.intoArray(tile, 4 * NR + V);
        c50.intoArray(tile, 5 * NR);
        c51.intoArray(tile, 5 * NR + V);
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < cols; j++) {
                int i = ci + r * cRs + j;
                float v = alpha * tile[r * NR + j];
                c[i] = beta == 0f ? v : v + beta * c[i];
            }
        }
    }

    private static void store(FloatVector acc, float[] c, int i, float alpha, float beta) {
        FloatVector v = acc.mul(alpha);
        if (beta != 0f) {
            v = v.add(FloatVector.fromArray(S, c, i).mul(beta));
        }
        v.intoArray(c, i);
    }

    /** axpy with x fp32 in native order at byte offset xo of a segment: the same operations. */
    static void axpy(float[] y, int yo, float alpha, MemorySegment x, long xo, int n) {
        ByteOrder le = ByteOrder.nativeOrder();
        FloatVector av = FloatVector.broadcast(S, alpha);
        int i = 0;
        for (int upper = S.loopBound(n); i < upper; i += V) {
            FloatVector.fromMemorySegment(S, x, xo + 4L * i, le).fma(av, FloatVector.fromArray(S, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) {
            y[yo + i] += alpha * x.get(ValueLayout.JAVA_FLOAT_UNALIGNED, xo + 4L * i);
        }
    }

    /**
     * VocabKernels.argmax of x[off : off+n] (the smallest index among equal maxima) where the row is
     * finite in VocabKernels.nonFinite's sense (no NaN, no +∞, some value above −∞), else −1: the
     * maximum by vectors, then the first element equal to it (−0 and +0 count as equal, as there).
     */
    static int finiteArgmax(float[] x, int off, int n) {
        FloatVector mx = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        VectorMask<Float> bad = S.maskAll(false);
        int i = 0;
        for (int upper = S.loopBound(n); i < upper; i += V) {
            FloatVector v = FloatVector.fromArray(S, x, off + i);
            bad = bad.or(v.test(VectorOperators.IS_NAN)).or(v.eq(Float.POSITIVE_INFINITY));
            mx = mx.max(v);
        }
        if (bad.anyTrue()) return -1;
        float m = mx.reduceLanes(VectorOperators.MAX);
        for (int t = i; t < n; t++) {
            float v = x[off + t];
            if (Float.isNaN(v) || v == Float.POSITIVE_INFINITY) return -1;
            m = Math.max(m, v);
        }
        if (m == Float.NEGATIVE_INFINITY) return -1;
        int j = 0;
        for (int upper = S.loopBound(n); j < upper; j += V) {
            VectorMask<Float> hit = FloatVector.fromArray(S, x, off + j).eq(m);
            if (hit.anyTrue()) return j + hit.firstTrue();
        }
        for (; j < n; j++) if (x[off + j] == m) return j;
        return -1;                                               // not reached: m is one of the elements
    }

    /** y[yo:yo+n] += alpha * x[xo:xo+n] */
    static void axpy(float[] y, int yo, float alpha, float[] x, int xo, int n) {
        FloatVector av = FloatVector.broadcast(S, alpha);
        int i = 0;
        for (int upper = S.loopBound(n); i < upper; i += V) {
            FloatVector.fromArray(S, x, xo + i).fma(av, FloatVector.fromArray(S, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) {
            y[yo + i] += alpha * x[xo + i];
        }
    }

    /**
     * s[j] = Σ_d q[qo + d] · kt[d·lkPad + j] for j < lkPad (a multiple of V), d in order: one query's
     * attention scores against keys stored transposed (HS, lkPad), accumulated in registers.
     */
    static void scores(float[] q, int qo, int hs, float[] kt, int lkPad, float[] s) {
        scores(q, qo, hs, kt, lkPad, s, 0, lkPad);
    }

    /**
     * {@link #scores} for keys [from, to) only (multiples of V, to ≤ lkPad): a sliding window's
     * keys. Each key's score is its own lane's sum, so it has the bits of the full call.
     */
    static void scores(float[] q, int qo, int hs, float[] kt, int lkPad, float[] s, int from, int to) {
        int j = from;
        for (; j + 2 * V <= to; j += 2 * V) {
            FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S);
            for (int d = 0; d < hs; d++) {
                FloatVector qd = FloatVector.broadcast(S, q[qo + d]);
                a0 = FloatVector.fromArray(S, kt, d * lkPad + j).fma(qd, a0);
                a1 = FloatVector.fromArray(S, kt, d * lkPad + j + V).fma(qd, a1);
            }
            a0.intoArray(s, j);
            a1.intoArray(s, j + V);
        }
        for (; j < to; j += V) {
            FloatVector a = FloatVector.zero(S);
            for (int d = 0; d < hs; d++) {
                a = FloatVector.fromArray(S, kt, d * lkPad + j).fma(FloatVector.broadcast(S, q[qo + d]), a);
            }
            a.intoArray(s, j);
        }
    }

    /**
     * acc[d] = Σ_t w[t] · v[vOff[t] + d] for d < hs, t = 0 .. count − 1 in order: a weighted sum of
     * rows, V columns at a time in registers, the columns past a whole vector one by one.
     */
    static void weightedRows(float[] w, int[] vOff, int count, float[] v, int hs, float[] acc) {
        int d = 0;
        for (; d + 2 * V <= hs; d += 2 * V) {
            FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S);
            for (int t = 0; t < count; t++) {
                FloatVector wt = FloatVector.broadcast(S, w[t]);
                a0 = FloatVector.fromArray(S, v, vOff[t] + d).fma(wt, a0);
                a1 = FloatVector.fromArray(S, v, vOff[t] + d + V).fma(wt, a1);
            }
            a0.intoArray(acc, d);
            a1.intoArray(acc, d + V);
        }
        for (; d + V <= hs; d += V) {
            FloatVector a = FloatVector.zero(S);
            for (int t = 0; t < count; t++) {
                a = FloatVector.fromArray(S, v, vOff[t] + d).fma(FloatVector.broadcast(S, w[t]), a);
            }
            a.intoArray(acc, d);
        }
        for (; d < hs; d++) {
            float a = 0f;
            for (int t = 0; t < count; t++) a += w[t] * v[vOff[t] + d];
            acc[d] = a;
        }
    }

    /**
     * The lanes' sum by a fixed tree: lane l is added to lane l + V/2, those sums pairwise at distance
     * V/4, and so on down to one (for V = 16: ((v0+v8)+(v4+v12)) + ((v2+v10)+(v6+v14)) + …).
     *
     * <p>The rule for every kernel here: same inputs, same bits, on every call, whether the
     * interpreter, C1 or C2 runs the code. Lanewise add/mul/sub and fma are single IEEE roundings,
     * blends and lane permutations move bits, and all agree everywhere; what may not appear is an
     * operation whose order of float additions is left open. reduceLanes(ADD) is one: its Java
     * fallback (interpreter, C1) adds lane 0 first, C2's intrinsic in another order, so a
     * 2x256x256 GEMM gave three bit patterns in 60 calls as the JIT got to it. Sum lanes here, in
     * this order (which {@link #dotTile} keeps for 16 sums at once with 15 vector adds instead of
     * 240 scalar ones); CpuDeterminismTest checks the rule.
     */
    static float sumLanes(FloatVector v) {
        if (V >= 16) v = v.add(v.rearrange(SWAP8));     // lane l: v[l] + v[l ^ 8], i.e. lanes l and l + 8
        if (V >= 8) v = v.add(v.rearrange(SWAP4));
        if (V >= 4) v = v.add(v.rearrange(SWAP2));
        if (V >= 2) v = v.add(v.rearrange(SWAP1));
        return v.lane(0);
    }

    // SWAPh exchanges lanes l and l ^ h; MASKh marks the lanes with bit h set. Each a constant of its
    // own: C2 intrinsifies a rearrange or blend only when it can see the shuffle's or mask's class, which
    // an element of a static final array does not show it (through an array the tile ran 3.7x slower).
    private static final VectorShuffle<Float> SWAP1 = swap(1), SWAP2 = swap(2), SWAP4 = swap(4), SWAP8 = swap(8);
    private static final VectorMask<Float> MASK1 = bit(1), MASK2 = bit(2), MASK4 = bit(4), MASK8 = bit(8);

    private static VectorShuffle<Float> swap(int h) {
        return VectorShuffle.fromOp(S, l -> (l ^ h) % V);
    }

    private static VectorMask<Float> bit(int h) {
        boolean[] m = new boolean[V];
        for (int l = 0; l < V; l++) m[l] = (l & h) != 0;
        return VectorMask.fromArray(S, m, 0);
    }

    /**
     * dot with y read from native memory at byte yo, in the order every dot of this class keeps: one
     * vector accumulator taking the whole vectors in turn (lane l sums elements l, l + V, l + 2V, …),
     * its lanes summed lane 0 first ({@link #sumLanes}), then the last n mod V products one by one.
     * One chain, not several: {@link #dotTile} then keeps the same order with one accumulator per
     * element in a single contiguous pass over K (four chains took 4 strided passes there, at about
     * half the FMA rate); one row alone stays bound by memory, not by the chain's FMA latency (V floats
     * per 4 cycles is several times what one core's share of the read bandwidth delivers).
     */
    static float dot(float[] x, int xo, MemorySegment y, long yo, int n) {
        ByteOrder le = ByteOrder.nativeOrder();
        FloatVector s0 = FloatVector.zero(S);
        int i = 0;
        for (int upper = n - 4 * V; i <= upper; i += 4 * V) {     // unrolled: the loop's checks once per 4 vectors
            FloatVector w0 = FloatVector.fromMemorySegment(S, y, yo + 4L * i, le);
            FloatVector w1 = FloatVector.fromMemorySegment(S, y, yo + 4L * (i + V), le);
            FloatVector w2 = FloatVector.fromMemorySegment(S, y, yo + 4L * (i + 2 * V), le);
            FloatVector w3 = FloatVector.fromMemorySegment(S, y, yo + 4L * (i + 3 * V), le);
            s0 = FloatVector.fromArray(S, x, xo + i).fma(w0, s0);
            s0 = FloatVector.fromArray(S, x, xo + i + V).fma(w1, s0);
            s0 = FloatVector.fromArray(S, x, xo + i + 2 * V).fma(w2, s0);
            s0 = FloatVector.fromArray(S, x, xo + i + 3 * V).fma(w3, s0);
        }
        for (int upper = S.loopBound(n); i < upper; i += V) {
            s0 = FloatVector.fromArray(S, x, xo + i).fma(FloatVector.fromMemorySegment(S, y, yo + 4L * i, le), s0);
        }
        float s = sumLanes(s0);
        for (; i < n; i++) {
            s += x[xo + i] * y.get(ValueLayout.JAVA_FLOAT_UNALIGNED, yo + 4L * i);
        }
        return s;
    }

    /** sum of x[xo+i] * y[yo+i] over i &lt; n, in the order of {@link #dot(float[], int, MemorySegment, long, int)}. */
    static float dot(float[] x, int xo, float[] y, int yo, int n) {
        FloatVector s0 = FloatVector.zero(S);
        int i = 0;
        for (int upper = S.loopBound(n); i < upper; i += V) {
            s0 = FloatVector.fromArray(S, x, xo + i).fma(FloatVector.fromArray(S, y, yo + i), s0);
        }
        float s = sumLanes(s0);
        for (; i < n; i++) {
            s += x[xo + i] * y[yo + i];
        }
        return s;
    }

    // ---- small-M GEMM with B stored (N, K): tiles of dot products, each in dot's exact order

    /**
     * Whether {@link #dotTile} runs: 4 × 4 tiles with 512-bit vectors (16 accumulators + 5 operands of
     * 32 registers), 4 × 3 with 256-bit ones (AVX2: 12 + 4 of 16).
     */
    static final boolean TILED = V == 16 || V == 8;
    /** B rows per tile: 4 with 512-bit vectors, 3 with 256-bit ones (b3 unused, d[4r + 3] untouched). */
    static final int TILE_COLS = V == 16 ? 4 : 3;
    /** Floats of scratch that {@link #dotTile} needs: the folded vectors (512-bit), the 12 accumulators (256-bit). */
    static final int TILE_SCRATCH = V == 16 ? 2 * V : 12 * V;

    /**
     * d[4r + c] = Σ_i a[ar + i] · B row c[i] for r &lt; 4, c &lt; TILE_COLS (A rows at element offsets
     * a0..a3, B rows at byte offsets b0..b3 of fp32 in native order; b3 unused with 3 columns), each
     * summed in exactly {@link #dot}'s order, so that an element's bits depend neither on the tile nor
     * on how many rows the product has: one pass over K's whole vectors with an accumulator per
     * element, each B vector loaded serving 4 A rows and each A vector TILE_COLS B rows; then the
     * accumulators' lanes by sumLanes' tree, all at once (15 or 11 vector steps), and the last K mod V
     * products one by one. part: TILE_SCRATCH floats of scratch. {@code stream}: the tile is the first
     * to read its B rows (from memory rather than cache), which with 256-bit vectors takes the loop that
     * keeps more loads in flight (see {@link #stream4x3}). Needs {@link #TILED}.
     */
    static void dotTile(float[] a, int a0, int a1, int a2, int a3,
                        MemorySegment b, long b0, long b1, long b2, long b3, int k, float[] part, float[] d, boolean stream) {
        int whole = S.loopBound(k);
        if (V == 16) {
            pass4x4(a, a0, a1, a2, a3, b, b0, b1, b2, b3, whole, part, d);
        } else {
            if (stream) stream4x3(a, a0, a1, a2, a3, b, b0, b1, b2, whole, part);
            else pass4x3(a, a0, a1, a2, a3, b, b0, b1, b2, whole, part);
            fold4x3(part, d);
        }
        if (whole == k) return;
        int[] ar = {a0, a1, a2, a3};
        long[] br = {b0, b1, b2, b3};
        for (int e = 0; e < 16; e++) {
            if ((e & 3) >= TILE_COLS) continue;
            int ai = ar[e >> 2];
            long bi = br[e & 3];
            float s = d[e];
            for (int i = whole; i < k; i++) s += a[ai + i] * b.get(ValueLayout.JAVA_FLOAT_UNALIGNED, bi + 4L * i);
            d[e] = s;
        }
    }

    /** Lane of the folded vector that holds accumulator e's sum: e's four bits reversed (see pass4x4). */
    private static final int[] TILE_LANE = new int[16];

    static {
        for (int e = 0; e < 16; e++) TILE_LANE[e] = Integer.reverse(e) >>> 28;
    }

    /**
     * {@link #dotTile}'s pass: for i = 0, V, 2V, … &lt; to, the (4, 4) accumulators c[r][c] += A row
     * r's vector at i · B row c's vector at i (fma), from zero; then their lane sums to d[4r + c].
     * The folds pair accumulators e = 4r + c by their bits, lowest first, so e's sum ends in lane
     * TILE_LANE[e]; part (≥ V floats) takes the folded vector.
     */
    private static void pass4x4(float[] a, int a0, int a1, int a2, int a3, MemorySegment b, long b0, long b1, long b2, long b3,
                                int to, float[] part, float[] d) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S), c02 = FloatVector.zero(S), c03 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S), c12 = FloatVector.zero(S), c13 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S), c22 = FloatVector.zero(S), c23 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S), c32 = FloatVector.zero(S), c33 = FloatVector.zero(S);
        ByteOrder le = ByteOrder.nativeOrder();
        for (int i = 0; i < to; i += V) {
            long o = 4L * i;
            FloatVector w0 = FloatVector.fromMemorySegment(S, b, b0 + o, le);
            FloatVector w1 = FloatVector.fromMemorySegment(S, b, b1 + o, le);
            FloatVector w2 = FloatVector.fromMemorySegment(S, b, b2 + o, le);
            FloatVector w3 = FloatVector.fromMemorySegment(S, b, b3 + o, le);
            FloatVector x0 = FloatVector.fromArray(S, a, a0 + i);
            c00 = x0.fma(w0, c00); c01 = x0.fma(w1, c01); c02 = x0.fma(w2, c02); c03 = x0.fma(w3, c03);
            FloatVector x1 = FloatVector.fromArray(S, a, a1 + i);
            c10 = x1.fma(w0, c10); c11 = x1.fma(w1, c11); c12 = x1.fma(w2, c12); c13 = x1.fma(w3, c13);
            FloatVector x2 = FloatVector.fromArray(S, a, a2 + i);
            c20 = x2.fma(w0, c20); c21 = x2.fma(w1, c21); c22 = x2.fma(w2, c22); c23 = x2.fma(w3, c23);
            FloatVector x3 = FloatVector.fromArray(S, a, a3 + i);
            c30 = x3.fma(w0, c30); c31 = x3.fma(w1, c31); c32 = x3.fma(w2, c32); c33 = x3.fma(w3, c33);
        }
        // sumLanes' tree for two vectors at once, one fold per line: when p's and q's partial sums lie in
        // groups of 2h lanes, p.blend(q, MASKh) + q.blend(p, MASKh).rearrange(SWAPh) gives p's pairs
        // (p[l] + p[l + h]) in the lanes with bit h clear and q's (q[l] + q[l - h]) in those with it set,
        // the same two operands sumLanes adds (float addition commutes exactly). Accumulator e = 4r + c:
        // bit 0 of e pairs at distance 8, bit 1 at 4, bit 2 at 2, bit 3 at 1. Written out because as a
        // method C2 declines to inline the fold here ("callee uses too much stack") and then boxes
        // every vector (3.7x slower).
        FloatVector p0 = c00.blend(c01, MASK8).add(c01.blend(c00, MASK8).rearrange(SWAP8));
        FloatVector p1 = c02.blend(c03, MASK8).add(c03.blend(c02, MASK8).rearrange(SWAP8));
        FloatVector p2 = c10.blend(c11, MASK8).add(c11.blend(c10, MASK8).rearrange(SWAP8));
        FloatVector p3 = c12.blend(c13, MASK8).add(c13.blend(c12, MASK8).rearrange(SWAP8));
        FloatVector p4 = c20.blend(c21, MASK8).add(c21.blend(c20, MASK8).rearrange(SWAP8));
        FloatVector p5 = c22.blend(c23, MASK8).add(c23.blend(c22, MASK8).rearrange(SWAP8));
        FloatVector p6 = c30.blend(c31, MASK8).add(c31.blend(c30, MASK8).rearrange(SWAP8));
        FloatVector p7 = c32.blend(c33, MASK8).add(c33.blend(c32, MASK8).rearrange(SWAP8));
        FloatVector q0 = p0.blend(p1, MASK4).add(p1.blend(p0, MASK4).rearrange(SWAP4));
        FloatVector q1 = p2.blend(p3, MASK4).add(p3.blend(p2, MASK4).rearrange(SWAP4));
        FloatVector q2 = p4.blend(p5, MASK4).add(p5.blend(p4, MASK4).rearrange(SWAP4));
        FloatVector q3 = p6.blend(p7, MASK4).add(p7.blend(p6, MASK4).rearrange(SWAP4));
        FloatVector r0 = q0.blend(q1, MASK2).add(q1.blend(q0, MASK2).rearrange(SWAP2));
        FloatVector r1 = q2.blend(q3, MASK2).add(q3.blend(q2, MASK2).rearrange(SWAP2));
        FloatVector t = r0.blend(r1, MASK1).add(r1.blend(r0, MASK1).rearrange(SWAP1));
        t.intoArray(part, 0);
        for (int e = 0; e < 16; e++) d[e] = part[TILE_LANE[e]];
    }

    /**
     * {@link #dotTile}'s pass with 256-bit vectors (V = 8) over a tile whose B rows are in cache:
     * accumulators c[r][c] for A rows r &lt; 4 and B rows c &lt; 3 (12 accumulators + 3 B vectors + 1 A
     * vector: AVX2's 16 registers) from zero, left in acc (12 · V floats, c[r][c] at (3r + c) · V) for
     * {@link #fold4x3}.
     *
     * <p>The loop steps by {@link #pass4x3Stride}, a field that C2 cannot take for a constant, so that
     * it is not a counted loop and C2 neither unrolls it nor loads later turns' operands early. As a
     * counted loop C2 unrolled it four times and loaded all 28 operands of the four turns first,
     * leaving 12 of the 16 registers for 12 accumulators and 28 operands: most accumulators lived on
     * the stack (64 stack loads and stores per 48 FMAs); written two vectors to a turn
     * ({@link #stream4x3}) it still kept 8 there (16 per 24). Not counted, and with the lane folds in
     * a method of their own (with them here C2 still kept 3 accumulators on the stack), the loop holds
     * all 12 in registers, at the price of a bounds check per load that the integer ports absorb.
     * SmallMGemm under -XX:UseAVX=2 (Zen 4 build machine, 2026-12-05), GFLOP/s per CPU-second, the
     * two-a-turn loop → this one for tiles in cache and stream4x3 for the first: M = 32 45–49 → 50–53,
     * M = 128 48–53 → 59–64. Each accumulator takes its products in K's order, so the bits are
     * {@link #dot}'s.
     */
    private static void pass4x3(float[] a, int a0, int a1, int a2, int a3, MemorySegment b, long b0, long b1, long b2,
                                int to, float[] acc) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S), c02 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S), c12 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S), c22 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S), c32 = FloatVector.zero(S);
        ByteOrder le = ByteOrder.nativeOrder();
        for (int i = 0, step = pass4x3Stride; i < to; i += step) {   // a stride C2 cannot fold: see above
            long o = 4L * i;
            FloatVector w0 = FloatVector.fromMemorySegment(S, b, b0 + o, le);
            FloatVector w1 = FloatVector.fromMemorySegment(S, b, b1 + o, le);
            FloatVector w2 = FloatVector.fromMemorySegment(S, b, b2 + o, le);
            FloatVector x = FloatVector.fromArray(S, a, a0 + i);
            c00 = x.fma(w0, c00); c01 = x.fma(w1, c01); c02 = x.fma(w2, c02);
            x = FloatVector.fromArray(S, a, a1 + i);
            c10 = x.fma(w0, c10); c11 = x.fma(w1, c11); c12 = x.fma(w2, c12);
            x = FloatVector.fromArray(S, a, a2 + i);
            c20 = x.fma(w0, c20); c21 = x.fma(w1, c21); c22 = x.fma(w2, c22);
            x = FloatVector.fromArray(S, a, a3 + i);
            c30 = x.fma(w0, c30); c31 = x.fma(w1, c31); c32 = x.fma(w2, c32);
        }
        store4x3(acc, c00, c01, c02, c10, c11, c12, c20, c21, c22, c30, c31, c32);
    }

    /**
     * pass4x3 for the tile that reads its B rows first, from memory: the loop takes two vectors of K a
     * turn as a counted loop, which C2 does not unroll further but whose loads it issues well ahead,
     * so that more of them are in flight (8 accumulators then live on the stack, which costs less here
     * than waiting on memory). With pass4x3's loop for that tile too, SmallMGemm at M = 4 (one tile per
     * B rows) took 31–32 ms per GPT-2-small step instead of 26–27. The second half's offset is
     * {@code o + 4V}, not {@code 4(i + V)}: so C2 proves the loads in bounds once per loop. Same bits as
     * pass4x3.
     */
    private static void stream4x3(float[] a, int a0, int a1, int a2, int a3, MemorySegment b, long b0, long b1, long b2,
                                  int to, float[] acc) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S), c02 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S), c12 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S), c22 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S), c32 = FloatVector.zero(S);
        ByteOrder le = ByteOrder.nativeOrder();
        int i = 0;
        for (int upper = to - V; i < upper; i += 2 * V) {         // two vectors a turn: see above
            long o = 4L * i;
            FloatVector w0 = FloatVector.fromMemorySegment(S, b, b0 + o, le);
            FloatVector w1 = FloatVector.fromMemorySegment(S, b, b1 + o, le);
            FloatVector w2 = FloatVector.fromMemorySegment(S, b, b2 + o, le);
            FloatVector x0 = FloatVector.fromArray(S, a, a0 + i);
            c00 = x0.fma(w0, c00); c01 = x0.fma(w1, c01); c02 = x0.fma(w2, c02);
            FloatVector x1 = FloatVector.fromArray(S, a, a1 + i);
            c10 = x1.fma(w0, c10); c11 = x1.fma(w1, c11); c12 = x1.fma(w2, c12);
            FloatVector x2 = FloatVector.fromArray(S, a, a2 + i);
            c20 = x2.fma(w0, c20); c21 = x2.fma(w1, c21); c22 = x2.fma(w2, c22);
            FloatVector x3 = FloatVector.fromArray(S, a, a3 + i);
            c30 = x3.fma(w0, c30); c31 = x3.fma(w1, c31); c32 = x3.fma(w2, c32);
            o += 4L * V;
            w0 = FloatVector.fromMemorySegment(S, b, b0 + o, le);
            w1 = FloatVector.fromMemorySegment(S, b, b1 + o, le);
            w2 = FloatVector.fromMemorySegment(S, b, b2 + o, le);
            x0 = FloatVector.fromArray(S, a, a0 + i + V);
            c00 = x0.fma(w0, c00); c01 = x0.fma(w1, c01); c02 = x0.fma(w2, c02);
            x1 = FloatVector.fromArray(S, a, a1 + i + V);
            c10 = x1.fma(w0, c10); c11 = x1.fma(w1, c11); c12 = x1.fma(w2, c12);
            x2 = FloatVector.fromArray(S, a, a2 + i + V);
            c20 = x2.fma(w0, c20); c21 = x2.fma(w1, c21); c22 = x2.fma(w2, c22);
            x3 = FloatVector.fromArray(S, a, a3 + i + V);
            c30 = x3.fma(w0, c30); c31 = x3.fma(w1, c31); c32 = x3.fma(w2, c32);
        }
        for (; i < to; i += V) {
            long o = 4L * i;
            FloatVector w0 = FloatVector.fromMemorySegment(S, b, b0 + o, le);
            FloatVector w1 = FloatVector.fromMemorySegment(S, b, b1 + o, le);
            FloatVector w2 = FloatVector.fromMemorySegment(S, b, b2 + o, le);
            FloatVector x0 = FloatVector.fromArray(S, a, a0 + i);
            c00 = x0.fma(w0, c00); c01 = x0.fma(w1, c01); c02 = x0.fma(w2, c02);
            FloatVector x1 = FloatVector.fromArray(S, a, a1 + i);
            c10 = x1.fma(w0, c10); c11 = x1.fma(w1, c11); c12 = x1.fma(w2, c12);
            FloatVector x2 = FloatVector.fromArray(S, a, a2 + i);
            c20 = x2.fma(w0, c20); c21 = x2.fma(w1, c21); c22 = x2.fma(w2, c22);
            FloatVector x3 = FloatVector.fromArray(S, a, a3 + i);
            c30 = x3.fma(w0, c30); c31 = x3.fma(w1, c31); c32 = x3.fma(w2, c32);
        }
        store4x3(acc, c00, c01, c02, c10, c11, c12, c20, c21, c22, c30, c31, c32);
    }

    private static void store4x3(float[] acc, FloatVector c00, FloatVector c01, FloatVector c02, FloatVector c10, FloatVector c11,
                                 FloatVector c12, FloatVector c20, FloatVector c21, FloatVector c22, FloatVector c30,
                                 FloatVector c31, FloatVector c32) {
        c00.intoArray(acc, 0); c01.intoArray(acc, V); c02.intoArray(acc, 2 * V);
        c10.intoArray(acc, 3 * V); c11.intoArray(acc, 4 * V); c12.intoArray(acc, 5 * V);
        c20.intoArray(acc, 6 * V); c21.intoArray(acc, 7 * V); c22.intoArray(acc, 8 * V);
        c30.intoArray(acc, 9 * V); c31.intoArray(acc, 10 * V); c32.intoArray(acc, 11 * V);
    }

    /**
     * The lane sums of pass4x3's accumulators (acc as it leaves them) into d[4r + c], as pass4x4 folds
     * its own: columns 0 and 1 (e = 2r + c: bit 0 pairs at distance 4, bit 1 at 2, bit 2 at 1) into
     * one vector, column 2 (e = r) into another, whose last fold pairs it with itself.
     */
    private static void fold4x3(float[] acc, float[] d) {
        FloatVector c00 = FloatVector.fromArray(S, acc, 0), c01 = FloatVector.fromArray(S, acc, V);
        FloatVector c10 = FloatVector.fromArray(S, acc, 3 * V), c11 = FloatVector.fromArray(S, acc, 4 * V);
        FloatVector c20 = FloatVector.fromArray(S, acc, 6 * V), c21 = FloatVector.fromArray(S, acc, 7 * V);
        FloatVector c30 = FloatVector.fromArray(S, acc, 9 * V), c31 = FloatVector.fromArray(S, acc, 10 * V);
        FloatVector c02 = FloatVector.fromArray(S, acc, 2 * V), c12 = FloatVector.fromArray(S, acc, 5 * V);
        FloatVector c22 = FloatVector.fromArray(S, acc, 8 * V), c32 = FloatVector.fromArray(S, acc, 11 * V);
        FloatVector p0 = c00.blend(c01, MASK4).add(c01.blend(c00, MASK4).rearrange(SWAP4));
        FloatVector p1 = c10.blend(c11, MASK4).add(c11.blend(c10, MASK4).rearrange(SWAP4));
        FloatVector p2 = c20.blend(c21, MASK4).add(c21.blend(c20, MASK4).rearrange(SWAP4));
        FloatVector p3 = c30.blend(c31, MASK4).add(c31.blend(c30, MASK4).rearrange(SWAP4));
        FloatVector q0 = p0.blend(p1, MASK2).add(p1.blend(p0, MASK2).rearrange(SWAP2));
        FloatVector q1 = p2.blend(p3, MASK2).add(p3.blend(p2, MASK2).rearrange(SWAP2));
        FloatVector u0 = c02.blend(c12, MASK4).add(c12.blend(c02, MASK4).rearrange(SWAP4));
        FloatVector u1 = c22.blend(c32, MASK4).add(c32.blend(c22, MASK4).rearrange(SWAP4));
        FloatVector v = u0.blend(u1, MASK2).add(u1.blend(u0, MASK2).rearrange(SWAP2));
        // acc is free again: the two folded vectors go to its first 2V floats
        q0.blend(q1, MASK1).add(q1.blend(q0, MASK1).rearrange(SWAP1)).intoArray(acc, 0);
        v.add(v.rearrange(SWAP1)).intoArray(acc, V);
        for (int e = 0; e < 8; e++) d[4 * (e >> 1) + (e & 1)] = acc[TILE_LANE_8[e]];
        for (int r = 0; r < 4; r++) d[4 * r + 2] = acc[V + 4 * (r & 1) + 2 * (r >> 1)];
    }

    /**
     * pass4x3's step, V: a static field that is not final, so that C2 reads it as a value, not a
     * constant, and pass4x3's loop is not a counted one (see there). Never written.
     */
    @SuppressWarnings("FieldMayBeFinal")
    private static int pass4x3Stride = V;

    /** Lane of pass4x3's first folded vector that holds accumulator e = 2r + c (c &lt; 2): e's three bits reversed. */
    private static final int[] TILE_LANE_8 = {0, 4, 2, 6, 1, 5, 3, 7};

    /** h[0:n] = x[xo:xo+n] + r[ro:ro+n] */
    static void add(float[] x, int xo, float[] r, int ro, float[] h, int n) {
        int i = 0;
        for (int upper = S.loopBound(n); i < upper; i += V) {
            FloatVector.fromArray(S, x, xo + i).add(FloatVector.fromArray(S, r, ro + i)).intoArray(h, i);
        }
        for (; i < n; i++) {
            h[i] = x[xo + i] + r[ro + i];
        }
    }

    /** h[0:n] = x[xo:] + r[ro:], both fp32 in native byte order at byte offsets xo and ro: add's lanes and tail. */
    static void add(MemorySegment x, long xo, MemorySegment r, long ro, float[] h, int n) {
        ByteOrder le = ByteOrder.nativeOrder();
        int i = 0;
        for (int upper = S.loopBound(n); i < upper; i += V) {
            FloatVector.fromMemorySegment(S, x, xo + 4L * i, le).add(FloatVector.fromMemorySegment(S, r, ro + 4L * i, le)).intoArray(h, i);
        }
        for (; i < n; i++) {
            h[i] = x.get(ValueLayout.JAVA_FLOAT_UNALIGNED, xo + 4L * i) + r.get(ValueLayout.JAVA_FLOAT_UNALIGNED, ro + 4L * i);
        }
    }

    static float sum(float[] h, int n) {
        FloatVector s = FloatVector.zero(S);
        int i = 0;
        for (int upper = S.loopBound(n); i < upper; i += V) {
            s = s.add(FloatVector.fromArray(S, h, i));
        }
        float t = sumLanes(s);
        for (; i < n; i++) {
            t += h[i];
        }
        return t;
    }

    static float sumSq(float[] h, int n) {
        FloatVector s = FloatVector.zero(S);
        int i = 0;
        for (int upper = S.loopBound(n); i < upper; i += V) {
            FloatVector v = FloatVector.fromArray(S, h, i);
            s = v.fma(v, s);
        }
        float t = sumLanes(s);
        for (; i < n; i++) {
            t += h[i] * h[i];
        }
        return t;
    }

    static float sumSqDev(float[] h, int n, float mean) {
        FloatVector s = FloatVector.zero(S);
        int i = 0;
        for (int upper = S.loopBound(n); i < upper; i += V) {
            FloatVector d = FloatVector.fromArray(S, h, i).sub(mean);
            s = d.fma(d, s);
        }
        float t = sumLanes(s);
        for (; i < n; i++) {
            float d = h[i] - mean;
            t += d * d;
        }
        return t;
    }

    /** Doubles per vector, and floats and ints with as many lanes (for GELU in double). */
    static final VectorSpecies<Double> DS = DoubleVector.SPECIES_PREFERRED;
    static final VectorSpecies<Float> FH = VectorSpecies.of(float.class, VectorShape.forBitSize(DS.vectorBitSize() / 2));
    static final VectorSpecies<Integer> IH = VectorSpecies.of(int.class, VectorShape.forBitSize(DS.vectorBitSize() / 2));

    /**
     * x[off:off+i] = gelu(x[off:off+i]) for the largest i ≤ n that is a whole number of vectors;
     * returns i. Activations.gelu lane by lane: erfc from the Taylor table (gathered), Horner's
     * rule with separate multiply and add, the same roundings; a vector with a lane past the
     * table (|x| > 8.48) or NaN goes to Activations.gelu.
     */
    static int gelu(float[] x, int off, int n) {
        int lanes = DS.length();
        int[] index = new int[lanes];
        double[] t = Activations.ERFC_TAYLOR;
        int terms = Activations.ERFC_TERMS;
        int i = 0;
        for (int upper = n - lanes; i <= upper; i += lanes) {
            DoubleVector xd = (DoubleVector) FloatVector.fromArray(FH, x, off + i).convertShape(VectorOperators.F2D, DS, 0);
            DoubleVector z = xd.abs().mul(0.7071067811865476);
            VectorMask<Double> outside = z.compare(VectorOperators.GE, Activations.ERFC_MAX).or(z.test(VectorOperators.IS_NAN));
            if (outside.anyTrue()) {
                for (int j = 0; j < lanes; j++) x[off + i + j] = Activations.gelu(x[off + i + j]);
                continue;
            }
            // the nearest grid point in fp32: a double-to-int conversion across shapes is slow (2.4 ns a lane)
            FloatVector zf = (FloatVector) z.convertShape(VectorOperators.D2F, FH, 0);
            IntVector cell = (IntVector) zf.mul(Activations.ERFC_STEPS).add(0.5f).convert(VectorOperators.F2I, 0);
            DoubleVector d = z.sub(((DoubleVector) cell.convertShape(VectorOperators.I2D, DS, 0)).mul(1.0 / Activations.ERFC_STEPS));
            cell.mul(terms).intoArray(index, 0);
            DoubleVector e = DoubleVector.fromArray(DS, t, terms - 1, index, 0);
            for (int k = terms - 2; k >= 0; k--) {
                e = e.mul(d).add(DoubleVector.fromArray(DS, t, k, index, 0));
            }
            DoubleVector pos = xd.mul(DoubleVector.broadcast(DS, 1.0).sub(e.mul(0.5)));   // x (1 − e/2)
            DoubleVector neg = xd.mul(0.5).mul(e);                   // x/2 · e
            DoubleVector r = neg.blend(pos, xd.compare(VectorOperators.GE, 0.0));
            ((FloatVector) r.convertShape(VectorOperators.D2F, FH, 0)).intoArray(x, off + i);
        }
        return i;
    }

    /**
     * x[off:off+i] = act(x[off:off+i]) for act GELU_TANH or SILU and the largest i ≤ n that is a whole
     * number of vectors; returns i. Activations.geluTanh / silu lane by lane: the same double operations
     * in the same order (Activations.exp's clamp, range reduction, Horner steps and 2^k), so the same bits.
     */
    static int expActivation(int act, float[] x, int off, int n) {
        boolean tanh = act == Activations.GELU_TANH;
        int lanes = DS.length();
        double[] c = Activations.EXP_TAYLOR;
        int i = 0;
        for (int upper = n - lanes; i <= upper; i += lanes) {
            DoubleVector xd = (DoubleVector) FloatVector.fromArray(FH, x, off + i).convertShape(VectorOperators.F2D, DS, 0);
            DoubleVector t = tanh ? xd.mul(xd.mul(xd).fma(Activations.TANH_B, Activations.TANH_A)) : xd.neg();
            t = t.max(-Activations.EXP_CLAMP).min(Activations.EXP_CLAMP);
            DoubleVector nr = t.fma(Activations.LOG2E, Activations.ROUND);
            DoubleVector k = nr.sub(Activations.ROUND).neg();
            DoubleVector r = k.fma(DoubleVector.broadcast(DS, Activations.LN2_HI), t);
            r = k.fma(DoubleVector.broadcast(DS, Activations.LN2_LO), r);
            DoubleVector p = DoubleVector.broadcast(DS, c[Activations.EXP_DEGREE]);
            for (int j = Activations.EXP_DEGREE - 1; j >= 0; j--) p = p.fma(r, DoubleVector.broadcast(DS, c[j]));
            DoubleVector scale = nr.reinterpretAsLongs().add(1023L).lanewise(VectorOperators.LSHL, 52).reinterpretAsDoubles();
            DoubleVector y = xd.div(p.mul(scale).add(1.0));
            ((FloatVector) y.convertShape(VectorOperators.D2F, FH, 0)).intoArray(x, off + i);
        }
        return i;
    }

    /** out[oi:oi+n] = (h - mean) * rstd * w[wo:wo+n] (+ bias[bo:bo+n]) */
    static void normOut(float[] h, int n, float mean, float rstd, float[] w, int wo,
                        float[] bias, int bo, float[] out, int oi) {
        int i = 0;
        for (int upper = S.loopBound(n); i < upper; i += V) {
            FloatVector v = FloatVector.fromArray(S, h, i).sub(mean).mul(rstd).mul(FloatVector.fromArray(S, w, wo + i));
            if (bias != null) {
                v = v.add(FloatVector.fromArray(S, bias, bo + i));
            }
            v.intoArray(out, oi + i);
        }
        for (; i < n; i++) {
            float v = (h[i] - mean) * rstd * w[wo + i];
            out[oi + i] = bias == null ? v : v + bias[bo + i];
        }
    }

    /** normOut into fp32 native memory at byte oi: the same operations, lanes and tail. */
    static void normOut(float[] h, int n, float mean, float rstd, float[] w, int wo,
                        float[] bias, int bo, MemorySegment out, long oi) {
        ByteOrder le = ByteOrder.nativeOrder();
        int i = 0;
        for (int upper = S.loopBound(n); i < upper; i += V) {
            FloatVector v = FloatVector.fromArray(S, h, i).sub(mean).mul(rstd).mul(FloatVector.fromArray(S, w, wo + i));
            if (bias != null) {
                v = v.add(FloatVector.fromArray(S, bias, bo + i));
            }
            v.intoMemorySegment(out, oi + 4L * i, le);
        }
        for (; i < n; i++) {
            float v = (h[i] - mean) * rstd * w[wo + i];
            out.set(ValueLayout.JAVA_FLOAT_UNALIGNED, oi + 4L * i, bias == null ? v : v + bias[bo + i]);
        }
    }
}
