// PenaltyValidationNativeTest — t4j_penalty trusts nothing it is given: malformed params come back as
// T4J_ERROR_INVALID_ARGUMENT before any driver call, and no rows or no ids succeed without one, so these
// run without a GPU.
package org.transformer4j.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class PenaltyValidationNativeTest {

    private static final MemorySegment FAKE = MemorySegment.ofAddress(0x10000);  // never dereferenced

    /** Well-formed BF16 penalties over 2 rows of GPT-2's vocabulary with no ids (validated, then nothing to launch). */
    private static int penaltyWith(Consumer<MemorySegment> change) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = t4j_penalty_params.allocate(arena);
            t4j_penalty_params.logits(p, FAKE);
            t4j_penalty_params.ids(p, FAKE);
            t4j_penalty_params.counts(p, FAKE);
            t4j_penalty_params.rows(p, 2);
            t4j_penalty_params.cols(p, 50257);
            t4j_penalty_params.logits_row_stride(p, 50257);
            t4j_penalty_params.width(p, 0);
            t4j_penalty_params.repetition(p, 1.1f);
            t4j_penalty_params.presence(p, 0.5f);
            t4j_penalty_params.frequency(p, -0.5f);
            t4j_penalty_params.dtype(p, t4j_h.T4J_DTYPE_BF16);
            change.accept(p);
            return t4j_h.t4j_penalty(p, MemorySegment.NULL);
        }
    }

    @Test
    void layoutIs104Bytes() {
        assertEquals(104, t4j_penalty_params.sizeof());  // ABI 13 added the three per-row pointers
    }

    @Test
    void malformedPenaltyParamsAreRejected() {
        int ok = t4j_h.T4J_SUCCESS;
        int bad = t4j_h.T4J_ERROR_INVALID_ARGUMENT;
        assertEquals(ok, penaltyWith(p -> { }), "well formed, width 0");
        assertEquals(ok, penaltyWith(p -> {
            t4j_penalty_params.rows(p, 0);
            t4j_penalty_params.width(p, 7);
        }), "no rows");
        assertEquals(ok, penaltyWith(p -> t4j_penalty_params.bias(p, FAKE)), "with a bias");
        for (int dtype : new int[] {t4j_h.T4J_DTYPE_F32, t4j_h.T4J_DTYPE_F16}) {
            assertEquals(ok, penaltyWith(p -> t4j_penalty_params.dtype(p, dtype)), "dtype " + dtype);
        }
        assertEquals(bad, t4j_h.t4j_penalty(MemorySegment.NULL, MemorySegment.NULL), "null params");
        assertEquals(bad, penaltyWith(p -> t4j_penalty_params.logits(p, MemorySegment.NULL)), "null logits");
        assertEquals(bad, penaltyWith(p -> {
            t4j_penalty_params.width(p, 3);
            t4j_penalty_params.ids(p, MemorySegment.NULL);
        }), "null ids with width 3");
        assertEquals(bad, penaltyWith(p -> {
            t4j_penalty_params.width(p, 3);
            t4j_penalty_params.counts(p, MemorySegment.NULL);
        }), "null counts with width 3");
        assertEquals(bad, penaltyWith(p -> t4j_penalty_params.rows(p, -1)), "negative rows");
        assertEquals(bad, penaltyWith(p -> t4j_penalty_params.width(p, -1)), "negative width");
        assertEquals(bad, penaltyWith(p -> t4j_penalty_params.cols(p, 0)), "no vocabulary");
        assertEquals(bad, penaltyWith(p -> t4j_penalty_params.logits_row_stride(p, 50256)), "row stride below V");
        assertEquals(bad, penaltyWith(p -> {
            t4j_penalty_params.rows(p, Long.MAX_VALUE / 2);
            t4j_penalty_params.width(p, 3);
        }), "rows · width past int64");
        for (float r : new float[] {0f, -0f, -1.1f, Float.NaN, Float.POSITIVE_INFINITY}) {
            assertEquals(bad, penaltyWith(p -> t4j_penalty_params.repetition(p, r)), "repetition " + r);
        }
        for (float v : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            assertEquals(bad, penaltyWith(p -> t4j_penalty_params.presence(p, v)), "presence " + v);
            assertEquals(bad, penaltyWith(p -> t4j_penalty_params.frequency(p, v)), "frequency " + v);
        }
        for (int dtype : new int[] {t4j_h.T4J_DTYPE_I32, t4j_h.T4J_DTYPE_I64, -1, 99}) {
            assertEquals(bad, penaltyWith(p -> t4j_penalty_params.dtype(p, dtype)), "dtype " + dtype);
        }
    }

    @Test
    void perRowPenaltiesReplaceTheirScalars() {
        int ok = t4j_h.T4J_SUCCESS;
        int bad = t4j_h.T4J_ERROR_INVALID_ARGUMENT;
        // a per-row array (ABI 13) replaces its scalar, which is then neither read nor checked
        assertEquals(ok, penaltyWith(p -> {
            t4j_penalty_params.repetition_rows(p, FAKE);
            t4j_penalty_params.repetition(p, Float.NaN);
        }), "repetition_rows with a NaN scalar");
        assertEquals(ok, penaltyWith(p -> {
            t4j_penalty_params.presence_rows(p, FAKE);
            t4j_penalty_params.presence(p, Float.POSITIVE_INFINITY);
            t4j_penalty_params.frequency_rows(p, FAKE);
            t4j_penalty_params.frequency(p, Float.NaN);
        }), "presence_rows and frequency_rows with non-finite scalars");
        // the other scalars are still checked
        assertEquals(bad, penaltyWith(p -> {
            t4j_penalty_params.repetition_rows(p, FAKE);
            t4j_penalty_params.presence(p, Float.NaN);
        }), "repetition_rows does not excuse a NaN presence");
        assertEquals(bad, penaltyWith(p -> {
            t4j_penalty_params.presence_rows(p, FAKE);
            t4j_penalty_params.repetition(p, 0f);
        }), "presence_rows does not excuse repetition 0");
        for (int i = 0; i < 3; i++) {
            int which = i;
            assertEquals(bad, penaltyWith(p -> {
                MemorySegment odd = MemorySegment.ofAddress(0x10002);
                if (which == 0) t4j_penalty_params.repetition_rows(p, odd);
                if (which == 1) t4j_penalty_params.presence_rows(p, odd);
                if (which == 2) t4j_penalty_params.frequency_rows(p, odd);
            }), "per-row array " + which + " not 4-byte aligned");
        }
    }
}
