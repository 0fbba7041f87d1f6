// BackendsTest — backend selection: forced CPU, auto fallback, forced CUDA where there is none.
package org.transformer4j.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BackendsTest {

    @Test
    void cpuOnRequest() {
        try (Backend b = Backends.select("CPU")) {
            assertEquals("cpu", b.kind());
            assertTrue(b.description().startsWith("cpu ("), b.description());
        }
    }

    @Test
    void autoPicksCudaOnlyWhereItIsUsable() {
        Backends.CudaStatus status = Backends.cudaStatus();
        assertFalse(status.reason().isBlank());
        try (Backend b = Backends.select("auto")) {
            assertEquals(status.usable() ? "cuda" : "cpu", b.kind(), status.reason());
        }
    }

    @Test
    void forcedCudaWithoutAUsableGpuSaysWhyInOneSentence() {
        Backends.CudaStatus status = Backends.cudaStatus();
        if (status.usable()) {
            try (Backend b = Backends.select("cuda")) {
                assertEquals("cuda", b.kind());
            }
            return;
        }
        Backends.BackendUnavailableException e = assertThrows(Backends.BackendUnavailableException.class,
                () -> Backends.select("cuda"));
        assertTrue(e.getMessage().startsWith("the CUDA backend was requested (t4j.backend=cuda) but "), e.getMessage());
        assertTrue(e.getMessage().endsWith(status.reason()), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one sentence: " + e.getMessage());
    }

    @Test
    void unknownChoiceIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Backends.select("tpu"));
        assertTrue(e.getMessage().contains("auto, cpu or cuda"), e.getMessage());
    }
}
