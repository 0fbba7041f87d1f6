// Int4 — a weight matrix in group-wise affine 4-bit quantization as GPTQ packs it (AWQ's checkpoints repacked to it at
// load): what LinearOp reads in place of a dense W, decoded inside the GEMM (ABI 21, T4J_WEIGHTS_INT4).
package org.transformer4j.runtime;

/**
 * W (N, K) in 4 bits, the layout of GPTQ's {@code qweight} with its {@code scales} and zero points:
 * <pre>
 *   codes   I32 (K/8, N)    word (r, n) holds W[n, 8r + i] in bits 4i .. 4i + 3 (i = 0..7), codes 0..15
 *   scales  F16 (G, N)      s of group g, column n
 *   zeros   U8  (G, N)      the effective zero point z (0..255; GPTQ v1 checkpoints store z − 1, AWQ's store z)
 *   gidx    I32 (K) or null the group of each k (GPTQ's act-order g_idx); null: k / groupSize
 * </pre>
 * W[n, k] = half((q − z) · s), the product rounded once to float16 as AutoAWQ's and AutoGPTQ's dequantization computes it,
 * then to the compute dtype. The three matrices share their row stride (in elements), so that a block of columns — one
 * of a fused [q ; k ; v]'s projections — is a view of each ({@link #columns}). groupSize is a multiple of 8 (a word's 8
 * values share a group) when gidx is null, else 0.
 */
public record Int4(Tensor codes, Tensor scales, Tensor zeros, Tensor gidx, int groupSize) {

    /** N: W's rows (the output's width). */
    public long rows() { return codes.shape(1); }

    /** K: W's columns (the input's width). */
    public long cols() { return codes.shape(0) * 8; }

    /** G: the groups (rows of scales and zeros). */
    public long groups() { return scales.shape(0); }

    /** Its tensors: codes, scales, zeros and, where act-order, gidx. */
    public java.util.List<Tensor> parts() {
        return gidx == null ? java.util.List.of(codes, scales, zeros) : java.util.List.of(codes, scales, zeros, gidx);
    }

    /** The bytes its tensors take. */
    public long bytes() {
        long b = 0;
        for (Tensor t : parts()) b += t.numel() * t.dtype().byteSize();
        return b;
    }

    /** W's rows [from, to) — columns of the packed matrices — as views. */
    public Int4 columns(long from, long to) {
        return new Int4(codes.slice(1, from, to), scales.slice(1, from, to), zeros.slice(1, from, to), gidx, groupSize);
    }

    /** The group of input column k (gidx clamped into the groups, as the kernels read it). */
    public long groupOf(long k, int[] gidxHost) {
        long g = gidxHost != null ? gidxHost[(int) k] : k / groupSize;
        return Math.max(0, Math.min(groups() - 1, g));
    }

    /** Throws IllegalArgumentException naming the problem. */
    public void validate(String role) {
        Checks.open(role + ".codes", codes);
        Checks.open(role + ".scales", scales);
        Checks.open(role + ".zeros", zeros);
        Checks.sameDevice(role + ".codes", codes, role + ".scales", scales);
        Checks.sameDevice(role + ".codes", codes, role + ".zeros", zeros);
        if (codes.dtype() != DType.I32 || scales.dtype() != DType.F16 || zeros.dtype() != DType.U8) {
            throw new IllegalArgumentException(role + ": INT4 codes, scales and zeros are I32, F16 and U8, got " + codes.dtype() + ", "
                    + scales.dtype() + " and " + zeros.dtype());
        }
        if (codes.rank() != 2 || scales.rank() != 2 || zeros.rank() != 2 || scales.shape(1) != codes.shape(1)
                || zeros.shape(0) != scales.shape(0) || zeros.shape(1) != codes.shape(1) || scales.shape(0) < 1) {
            throw new IllegalArgumentException(role + ": codes " + codes.shapeString() + ", scales " + scales.shapeString() + " and zeros "
                    + zeros.shapeString() + " must be (K/8, N), (G, N) and (G, N) with G >= 1");
        }
        if (codes.stride(1) != 1 || scales.stride(1) != 1 || zeros.stride(1) != 1 || (codes.shape(0) > 1 && codes.stride(0) < codes.shape(1))
                || scales.stride(0) != codes.stride(0) || zeros.stride(0) != codes.stride(0)) {
            throw new IllegalArgumentException(role + ": codes " + codes + ", scales " + scales + " and zeros " + zeros
                    + " need dense rows and one shared row stride (in elements)");
        }
        if (scales.shape(0) > Integer.MAX_VALUE) throw new IllegalArgumentException(role + ": " + scales.shape(0) + " groups");
        if (gidx == null) {
            if (groupSize <= 0 || groupSize % 8 != 0) {
                throw new IllegalArgumentException(role + ": the group size must be a positive multiple of 8, got " + groupSize);
            }
            if (groups() * groupSize < cols()) {
                throw new IllegalArgumentException(role + ": " + groups() + " groups of " + groupSize + " do not cover K=" + cols());
            }
        } else {
            Checks.open(role + ".gidx", gidx);
            Checks.sameDevice(role + ".codes", codes, role + ".gidx", gidx);
            if (groupSize != 0) throw new IllegalArgumentException(role + ": with gidx the group size must be 0, got " + groupSize);
            if (gidx.dtype() != DType.I32 || gidx.rank() != 1 || gidx.shape(0) != cols() || gidx.stride(0) != 1) {
                throw new IllegalArgumentException(role + ": gidx " + gidx + " must be a dense I32 (" + cols() + ")");
            }
        }
    }
}
