// DecodeSplitsTest — the CUDA backend's choice of split-KV splits (pure arithmetic, no GPU needed):
// enough blocks for two per SM, no split shorter than 256 keys, at most 128.
package org.transformer4j.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class DecodeSplitsTest {

    @Test
    void splitsFillTheGpuWithoutTinySplits() {
        assertEquals(33, CudaBackend.autoSplits(1, 8, 32768, 132), "one sequence, 8 KV heads: 264 blocks wanted");
        assertEquals(3, CudaBackend.autoSplits(16, 8, 1024, 132), "128 blocks already: ceil(264 / 128)");
        assertEquals(1, CudaBackend.autoSplits(1, 8, 100, 132), "100 keys: one split");
        assertEquals(4, CudaBackend.autoSplits(1, 1, 1024, 132), "MQA, 1k keys: 256-key splits");
        assertEquals(128, CudaBackend.autoSplits(1, 1, 1 << 20, 132), "capped at 128");
        assertEquals(1, CudaBackend.autoSplits(256, 32, 32768, 132), "many blocks: no split");
    }
}
