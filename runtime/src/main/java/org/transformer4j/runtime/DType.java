// DType — element types of tensors, with their sizes and libt4j codes.
package org.transformer4j.runtime;

import org.transformer4j.bindings.t4j_h;

/** Element type of a {@link Tensor}. Floating types convert to fp32 for math on the CPU. */
public enum DType {
    F32(4, t4j_h.T4J_DTYPE_F32),
    F16(2, t4j_h.T4J_DTYPE_F16),
    BF16(2, t4j_h.T4J_DTYPE_BF16),
    I32(4, t4j_h.T4J_DTYPE_I32),
    I64(8, t4j_h.T4J_DTYPE_I64),
    /** Bytes, read as their unsigned values (0..255): MXFP4 blocks and scales ({@link Mxfp4}). */
    U8(1, t4j_h.T4J_DTYPE_U8);

    private final int byteSize;
    private final int code;

    DType(int byteSize, int code) {
        this.byteSize = byteSize;
        this.code = code;
    }

    public int byteSize() { return byteSize; }

    /** The T4J_DTYPE_* value of t4j.h. */
    public int code() { return code; }

    public boolean isFloatingPoint() { return this == F32 || this == F16 || this == BF16; }
}
