// Mxfp4 — weights in the OCP microscaling FP4 format as gpt-oss checkpoints store them: per group of 32 values along K,
// 16 bytes of FP4 (e2m1) codes and one E8M0 scale byte. What GroupedLinearOp reads in place of a dense W.
package org.transformer4j.runtime;

/**
 * A stack of G matrices (N, K) in MXFP4, the layout of transformers' Mxfp4GptOssExperts / convert_moe_packed_tensors:
 * <pre>
 *   blocks  U8 (G, N, K/32, 16)   byte b of group j of row n holds elements 32j + 2b (low nibble) and 32j + 2b + 1 (high)
 *   scales  U8 (G, N, K/32)       element (g, n, k) = FP4[code] · 2^(scales[g, n, k / 32] − 127)
 * </pre>
 * FP4 (e2m1) codes 0..15 are ±{0, 0.5, 1, 1.5, 2, 3, 4, 6}, the sign in bit 3. The last two dimensions of blocks and the
 * last of scales are dense; G and N may have any strides (a view of every other row of a stored stack: gpt-oss's gate
 * and up rows are interleaved), the same N stride in units of groups for both.
 */
public record Mxfp4(Tensor blocks, Tensor scales) {

    /** The 16 code values. */
    public static final float[] FP4 = {0f, 0.5f, 1f, 1.5f, 2f, 3f, 4f, 6f, -0f, -0.5f, -1f, -1.5f, -2f, -3f, -4f, -6f};

    public long groups() { return blocks.shape(0); }

    public long rows() { return blocks.shape(1); }

    public long cols() { return blocks.shape(2) * 32; }

    /** Rows [from, to) of every matrix (views). */
    public Mxfp4 rows(long from, long to) { return new Mxfp4(blocks.slice(1, from, to), scales.slice(1, from, to)); }

    /** The even (parity 0) or odd (1) rows of every matrix, as views: gpt-oss's interleaved gate / up rows. */
    public Mxfp4 everyOtherRow(int parity) {
        long g = groups(), n = rows(), kb = blocks.shape(2);
        if (n % 2 != 0) throw new IllegalArgumentException("every other row of " + n + " rows");
        return new Mxfp4(blocks.view(g, n / 2, 2, kb, 16).select(2, parity), scales.view(g, n / 2, 2, kb).select(2, parity));
    }

    /** Throws IllegalArgumentException naming the problem. */
    public void validate(String role) {
        Checks.open(role + ".blocks", blocks);
        Checks.open(role + ".scales", scales);
        Checks.sameDevice(role + ".blocks", blocks, role + ".scales", scales);
        if (blocks.dtype() != DType.U8 || scales.dtype() != DType.U8) {
            throw new IllegalArgumentException(role + ": MXFP4 blocks and scales are U8, got " + blocks.dtype() + " and " + scales.dtype());
        }
        if (blocks.rank() != 4 || blocks.shape(3) != 16 || scales.rank() != 3 || scales.shape(0) != blocks.shape(0)
                || scales.shape(1) != blocks.shape(1) || scales.shape(2) != blocks.shape(2)) {
            throw new IllegalArgumentException(role + ": blocks " + blocks.shapeString() + " and scales " + scales.shapeString()
                    + " must be (G, N, K/32, 16) and (G, N, K/32)");
        }
        if (blocks.stride(3) != 1 || blocks.stride(2) != 16 || scales.stride(2) != 1 || blocks.stride(1) != 16 * scales.stride(1)
                || blocks.stride(0) != 16 * scales.stride(0)) {
            throw new IllegalArgumentException(role + ": blocks " + blocks + " and scales " + scales + " need dense groups and the same"
                    + " row and matrix strides (in groups of 32)");
        }
    }
}
