// SoftcapValidationNativeTest — t4j_softcap trusts nothing it is given: malformed params come back as
// T4J_ERROR_INVALID_ARGUMENT before any driver call, and n = 0 succeeds without one, so these run
// without a GPU.
package org.transformer4j.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class SoftcapValidationNativeTest {

    private static final MemorySegment FAKE = MemorySegment.ofAddress(0x10000);  // 16-byte aligned, never dereferenced

    /** A well-formed BF16 soft-cap of no elements (validated, then nothing to launch). */
    private static int softcapWith(Consumer<MemorySegment> change) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = t4j_softcap_params.allocate(arena);
            t4j_softcap_params.x(p, FAKE);
            t4j_softcap_params.n(p, 0);
            t4j_softcap_params.cap(p, 30f);
            t4j_softcap_params.dtype(p, t4j_h.T4J_DTYPE_BF16);
            change.accept(p);
            return t4j_h.t4j_softcap(p, MemorySegment.NULL);
        }
    }

    @Test
    void layoutIs24Bytes() {
        assertEquals(24, t4j_softcap_params.sizeof());
    }

    @Test
    void malformedSoftcapParamsAreRejected() {
        int bad = t4j_h.T4J_ERROR_INVALID_ARGUMENT;
        assertEquals(t4j_h.T4J_SUCCESS, softcapWith(p -> { }), "well formed, n 0");
        for (int dtype : new int[] {t4j_h.T4J_DTYPE_F32, t4j_h.T4J_DTYPE_F16}) {
            assertEquals(t4j_h.T4J_SUCCESS, softcapWith(p -> t4j_softcap_params.dtype(p, dtype)), "dtype " + dtype);
        }
        assertEquals(t4j_h.T4J_SUCCESS, softcapWith(p -> t4j_softcap_params.cap(p, 1e-3f)), "small cap");
        assertEquals(bad, t4j_h.t4j_softcap(MemorySegment.NULL, MemorySegment.NULL), "null params");
        assertEquals(bad, softcapWith(p -> t4j_softcap_params.x(p, MemorySegment.NULL)), "null x");
        assertEquals(bad, softcapWith(p -> t4j_softcap_params.n(p, -1)), "negative n");
        assertEquals(bad, softcapWith(p -> t4j_softcap_params.n(p, Long.MIN_VALUE)), "n Long.MIN_VALUE");
        for (float cap : new float[] {0f, -0f, -30f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            assertEquals(bad, softcapWith(p -> t4j_softcap_params.cap(p, cap)), "cap " + cap);
        }
        for (int dtype : new int[] {t4j_h.T4J_DTYPE_I32, t4j_h.T4J_DTYPE_I64, -1, 99}) {
            assertEquals(bad, softcapWith(p -> t4j_softcap_params.dtype(p, dtype)), "dtype " + dtype);
        }
        assertEquals(bad, softcapWith(p -> t4j_softcap_params.x(p, MemorySegment.ofAddress(0x10001))), "BF16 x on an odd address");
        assertEquals(bad, softcapWith(p -> {
            t4j_softcap_params.dtype(p, t4j_h.T4J_DTYPE_F32);
            t4j_softcap_params.x(p, MemorySegment.ofAddress(0x10002));
        }), "F32 x not 4-byte aligned");
        assertEquals(t4j_h.T4J_SUCCESS, softcapWith(p -> t4j_softcap_params.x(p, MemorySegment.ofAddress(0x10002))),
                "BF16 x 2-byte aligned (the kernel handles any element offset)");
    }
}
