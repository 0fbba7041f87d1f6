// NativeValidationTest — libt4j trusts nothing it is given: malformed params come back as
// T4J_ERROR_INVALID_ARGUMENT before any driver call, so these run without a GPU.
package org.transformer4j.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class NativeValidationTest {

    /** A well-formed params struct with placeholder (never dereferenced) pointers. */
    private static MemorySegment valid(Arena arena) {
        MemorySegment p = t4j_norm_params.allocate(arena);
        MemorySegment fake = MemorySegment.ofAddress(0x1000);
        t4j_norm_params.out(p, fake);
        t4j_norm_params.x(p, fake);
        t4j_norm_params.weight(p, fake);
        t4j_norm_params.rows(p, 0);                      // no rows: validated, then nothing to launch
        t4j_norm_params.cols(p, 64);
        t4j_norm_params.x_row_stride(p, 64);
        t4j_norm_params.out_row_stride(p, 64);
        t4j_norm_params.eps(p, 1e-5f);
        t4j_norm_params.kind(p, t4j_h.T4J_NORM_LAYER);
        t4j_norm_params.dtype(p, t4j_h.T4J_DTYPE_F32);
        return p;
    }

    private static int normWith(Consumer<MemorySegment> change) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = valid(arena);
            change.accept(p);
            return t4j_h.t4j_norm(p, MemorySegment.NULL);
        }
    }

    @Test
    void wellFormedEmptyLaunchSucceedsWithoutTouchingTheDevice() {
        assertEquals(t4j_h.T4J_SUCCESS, normWith(p -> { }));
    }

    @Test
    void malformedNormParamsAreRejected() {
        int bad = t4j_h.T4J_ERROR_INVALID_ARGUMENT;
        assertEquals(bad, t4j_h.t4j_norm(MemorySegment.NULL, MemorySegment.NULL), "null params");
        assertEquals(bad, normWith(p -> t4j_norm_params.x(p, MemorySegment.NULL)), "null x");
        assertEquals(bad, normWith(p -> t4j_norm_params.weight(p, MemorySegment.NULL)), "null weight");
        assertEquals(bad, normWith(p -> t4j_norm_params.cols(p, 0)), "no columns");
        assertEquals(bad, normWith(p -> t4j_norm_params.rows(p, -1)), "negative rows");
        assertEquals(bad, normWith(p -> t4j_norm_params.x_row_stride(p, 63)), "overlapping rows");
        assertEquals(bad, normWith(p -> {
            t4j_norm_params.residual(p, MemorySegment.ofAddress(0x2000));
            t4j_norm_params.residual_row_stride(p, 10);
        }), "residual rows overlap");
        assertEquals(bad, normWith(p -> t4j_norm_params.kind(p, 7)), "unknown kind");
        assertEquals(bad, normWith(p -> t4j_norm_params.dtype(p, t4j_h.T4J_DTYPE_I32)), "integer dtype");
        assertEquals(bad, normWith(p -> t4j_norm_params.eps(p, Float.NaN)), "NaN eps");
        assertEquals(bad, normWith(p -> t4j_norm_params.eps(p, -1f)), "negative eps");
        assertEquals(bad, normWith(p -> t4j_norm_params.reserved(p, 1)), "reserved field set");
    }

    @Test
    void withoutADriverALaunchSaysSo() {
        org.junit.jupiter.api.Assumptions.assumeTrue(CudaLibraries.driverProblem().isPresent(), "a driver is installed");
        int status = normWith(p -> t4j_norm_params.rows(p, 1));
        assertEquals(t4j_h.T4J_ERROR_NO_DRIVER, status, T4jLibrary.statusString(status));
    }

    @Test
    void fatbinMustBeNonEmpty() {
        assertEquals(t4j_h.T4J_ERROR_INVALID_ARGUMENT, t4j_h.t4j_set_fatbin(MemorySegment.NULL, 0));
    }
}
