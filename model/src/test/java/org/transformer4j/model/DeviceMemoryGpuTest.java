// DeviceMemoryGpuTest — device memory over a long decode and after running out of it, on the CUDA
// backend: 10,000 decode steps (KvStates of 500 steps each, GPT-2-like tiny model, captured steps)
// leave the allocator's bytes in use and the device's free memory where they were after the first
// states; a KV block pool far larger than the GPU fails with DeviceOutOfMemoryError naming the bytes, and
// the backend then generates exactly as before. Written without a GPU: never run on one yet
// (ci/gpu-check phase "reliability").
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.transformer4j.runtime.cuda.CudaBackend;
import org.transformer4j.runtime.memory.DeviceOutOfMemoryError;

@Tag("gpu")
class DeviceMemoryGpuTest {

    /** A decoder with relative positions (no learned-position cap), so a state can be asked to be as large as we like. */
    static TransformerConfig model() { return Tiny.decoderOnly(Tiny.t5ish().build(), false); }

    @Test
    void tenThousandDecodeStepsHoldDeviceMemorySteady() {
        try (CudaBackend cuda = ModelGpuTest.gpu(); Weights w = Weights.random(model(), cuda, 1)) {
            Transformer m = new Transformer(w, cuda);
            long inUseAfterFirst = -1, freeAfterFirst = -1;
            int steps = 0;
            for (int round = 0; steps < 10_000; round++) {
                try (KvState st = m.newState(2, 520)) {
                    m.prefill(st, 0, Tiny.ids(round, 1, 8)[0]);
                    m.prefill(st, 1, Tiny.ids(round + 1, 1, 5)[0]);
                    for (int i = 0; i < 500; i++, steps += 2) m.stepOnDevice(st, new int[] {i % Tiny.V, (i * 7) % Tiny.V});
                    assertTrue(st.decodeGraphed(), "the steps replayed a graph: " + st.decodeGraphFailure());
                }
                cuda.synchronize();
                long inUse = cuda.memoryStats().bytesInUse();
                long free = ((org.transformer4j.runtime.cuda.CudaDevice) cuda.device()).memoryInfo()[0];
                if (round == 0) {
                    inUseAfterFirst = inUse;
                    freeAfterFirst = free;
                } else {
                    assertTrue(inUse <= inUseAfterFirst, "round " + round + ": " + inUse + " bytes in use, " + inUseAfterFirst + " after the first");
                    assertTrue(free >= freeAfterFirst - (64L << 20), "round " + round + ": the device's free memory fell from "
                            + freeAfterFirst + " to " + free);
                }
            }
            System.out.println("10,000 decode steps: " + cuda.memoryStats());
        }
    }

    @Test
    void runningOutOfDeviceMemoryIsAnErrorNamingTheBytesAndTheBackendRecovers() {
        try (CudaBackend cuda = ModelGpuTest.gpu(); Weights w = Weights.random(model(), cuda, 2)) {
            Transformer m = new Transformer(w, cuda);
            Generator g = new Generator(m);
            int[] prompt = Tiny.ids(3, 1, 6)[0];
            int[] before = g.generate(prompt, Generator.Options.greedy(16), null);
            long total = ((org.transformer4j.runtime.cuda.CudaDevice) cuda.device()).memoryInfo()[1];
            // a KvState takes blocks as rows arrive; a pool allocated whole (the serving engine's) of twice the
            // GPU's memory: 8,192 bytes per block (2 layers × K,V × 16 rows × 1 head × 32 × F32)
            DeviceOutOfMemoryError e = assertThrows(DeviceOutOfMemoryError.class,
                    () -> new org.transformer4j.model.engine.BlockManager(m, 2 * total, Integer.MAX_VALUE).close());
            assertTrue(e.getMessage().matches("(?s).*\\d+ bytes.*"), e.getMessage());
            m.kvBudgetBytes(1L << 30);
            assertArrayEquals(before, g.generate(prompt, Generator.Options.greedy(16), null), "the same tokens after the failure");
        }
    }
}
