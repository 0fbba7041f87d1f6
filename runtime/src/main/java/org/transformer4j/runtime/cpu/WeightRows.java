// WeightRows — a weight matrix (N, K) kept in its stored encoding (F32, BF16, F16, MXFP4, INT4), whose rows CpuGemm.gemmTransB decodes
// to fp32 a few at a time where the product needs them: into a task's tile on the few-row path, into the panels as it
// packs them on the blocked path. The dense fp32 matrix is never formed.
package org.transformer4j.runtime.cpu;

/**
 * Row j's elements [k0, k0 + len) decode to the values a whole-matrix widening would hold, so a product over decoded rows
 * has the bits of the same product over the widened matrix. Implementations are immutable; tasks decode in parallel.
 */
sealed interface WeightRows permits F32Rows, HalfRows, Int4Rows, Mxfp4Rows {

    /** Rows (the product's N). */
    int n();

    /** Elements per row (the product's K). */
    int k();

    /** Whether threads other than the memory's owner may read it (a confined segment is read serially). */
    boolean shared(Thread other);

    /**
     * Rows [j, j + rows), elements [k0, k0 + len) of each, as fp32 into dst: row j + r at {@code at + r · len}.
     * Where the encoding has blocks along K (MXFP4's 32), k0 and len are whole blocks, or len runs to K.
     */
    void decode(int j, int rows, int k0, int len, float[] dst, int at);

    /** Whether {@link #dot} runs: a one-row product then dots straight from the encoded row, with no tile. */
    default boolean dots() {
        return false;
    }

    /** x[xo, xo + K) · row j decoded in registers, with VectorOps.dot's bits over the decoded row. Needs {@link #dots()}. */
    default float dot(float[] x, int xo, int j) {
        throw new UnsupportedOperationException("no in-register dot for " + getClass().getSimpleName());
    }
}
