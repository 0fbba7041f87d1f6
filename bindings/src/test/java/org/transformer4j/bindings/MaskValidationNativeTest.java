// MaskValidationNativeTest — t4j_mask trusts nothing it is given: malformed params come back as
// T4J_ERROR_INVALID_ARGUMENT before any driver call, and rows = 0 succeeds without one, so these run
// without a GPU.
package org.transformer4j.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class MaskValidationNativeTest {

    private static final MemorySegment FAKE = MemorySegment.ofAddress(0x10000);  // never dereferenced

    /** A well-formed F32 mask of no rows over V = 100 (validated, then nothing to launch). */
    private static int maskWith(Consumer<MemorySegment> change) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = t4j_mask_params.allocate(arena);
            t4j_mask_params.logits(p, FAKE);
            t4j_mask_params.allowed(p, FAKE);
            t4j_mask_params.rows(p, 0);
            t4j_mask_params.cols(p, 100);
            t4j_mask_params.logits_row_stride(p, 100);
            t4j_mask_params.allowed_row_stride(p, 4);
            t4j_mask_params.dtype(p, t4j_h.T4J_DTYPE_F32);
            change.accept(p);
            return t4j_h.t4j_mask(p, MemorySegment.NULL);
        }
    }

    @Test
    void layoutIs56Bytes() {
        assertEquals(56, t4j_mask_params.sizeof());
    }

    @Test
    void malformedMaskParamsAreRejected() {
        int bad = t4j_h.T4J_ERROR_INVALID_ARGUMENT;
        assertEquals(t4j_h.T4J_SUCCESS, maskWith(p -> { }), "well formed, rows 0");
        for (int dtype : new int[] {t4j_h.T4J_DTYPE_F16, t4j_h.T4J_DTYPE_BF16}) {
            assertEquals(t4j_h.T4J_SUCCESS, maskWith(p -> t4j_mask_params.dtype(p, dtype)), "dtype " + dtype);
        }
        assertEquals(bad, t4j_h.t4j_mask(MemorySegment.NULL, MemorySegment.NULL), "null params");
        assertEquals(bad, maskWith(p -> t4j_mask_params.logits(p, MemorySegment.NULL)), "null logits");
        assertEquals(bad, maskWith(p -> t4j_mask_params.allowed(p, MemorySegment.NULL)), "null bitset");
        assertEquals(bad, maskWith(p -> t4j_mask_params.rows(p, -1)), "negative rows");
        assertEquals(bad, maskWith(p -> t4j_mask_params.cols(p, 0)), "no columns");
        assertEquals(bad, maskWith(p -> t4j_mask_params.logits_row_stride(p, 99)), "logits rows overlap");
        assertEquals(bad, maskWith(p -> t4j_mask_params.allowed_row_stride(p, 3)), "bitset rows shorter than ceil(V / 32)");
        assertEquals(bad, maskWith(p -> t4j_mask_params.reserved(p, 1)), "reserved not 0");
        for (int dtype : new int[] {-1, 3, 99}) assertEquals(bad, maskWith(p -> t4j_mask_params.dtype(p, dtype)), "dtype " + dtype);
        assertEquals(bad, maskWith(p -> { t4j_mask_params.rows(p, Long.MAX_VALUE / 2); t4j_mask_params.logits_row_stride(p, 1L << 40); }),
                "rows × stride past 2^62");
    }
}
