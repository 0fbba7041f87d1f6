// MaskOp — keeps the logits a bitset allows and sets the others to −∞, in place: the token mask of
// structured outputs (JSON mode, JSON Schema), applied before the sample op.
package org.transformer4j.runtime;

/**
 * Arguments of {@link Backend#mask}:
 * <pre>
 *   logits  (rows, V) floating, contiguous, masked in place
 *   allowed I32 (rows, ceil(V / 32)), contiguous: id v of row r is kept where bit v % 32 of word
 *           allowed[r, v / 32] is set (the low bit first), else it becomes −∞; bits past V are ignored
 * </pre>
 * Kept logits are not touched (bit for bit, NaN included), so a row's sampling over the kept ids
 * is the same as before; a row whose bits are all clear becomes all −∞, which the sample op reports
 * as non-finite.
 */
public record MaskOp(Tensor logits, Tensor allowed) {

    /** Words of a mask over V ids. */
    public static long words(long v) { return (v + 31) / 32; }

    public void validate() {
        Checks.open("logits", logits);
        Checks.open("allowed", allowed);
        Checks.floating("logits", logits);
        if (logits.rank() != 2 || logits.shape(1) < 1 || !logits.isContiguous()) {
            throw new IllegalArgumentException("logits must be a contiguous (rows, V) with V ≥ 1, got " + logits.shapeString());
        }
        if (allowed.dtype() != DType.I32) throw new IllegalArgumentException("allowed must be I32, got " + allowed.dtype());
        long w = words(logits.shape(1));
        if (allowed.rank() != 2 || allowed.shape(0) != logits.shape(0) || allowed.shape(1) != w || !allowed.isContiguous()) {
            throw new IllegalArgumentException("allowed must be a contiguous (" + logits.shape(0) + ", " + w + ") for logits "
                    + logits.shapeString() + ", got " + allowed.shapeString());
        }
        Checks.sameDevice("logits", logits, "allowed", allowed);
    }

    /** The op on host arrays: logits (rows, V) row-major, allowed (rows, ceil(V / 32)). The CPU backend's kernel. */
    public static void apply(float[] logits, int[] allowed, int rows, int v) {
        int w = (int) words(v);
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < v; i++) {
                if ((allowed[r * w + (i >>> 5)] >>> (i & 31) & 1) == 0) logits[r * v + i] = Float.NEGATIVE_INFINITY;
            }
        }
    }
}
