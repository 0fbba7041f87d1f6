// DecodeSplitsTest — properties of the CUDA backend's choice of split-KV splits (pure arithmetic, no
// GPU needed), over a sweep of batch × KV heads × cache length × SM count, rather than the outputs of
// the heuristic: always in [1, MAX_SPLITS]; never more splits than 256-key pieces of the longest
// sequence; enough (split, KV head, sequence) blocks for two per SM unless length or the cap stop it;
// not one split more than that needs; and monotone in the SM count, the length and the batch.
package org.transformer4j.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.transformer4j.runtime.DecodeOp;

class DecodeSplitsTest {

    private static final int[] BATCHES = {1, 2, 3, 7, 16, 64, 255, 256};
    private static final int[] KV_HEADS = {1, 2, 8, 32};
    private static final int[] LENGTHS = {1, 100, 255, 256, 257, 1000, 4096, 32768, 1 << 20};
    private static final int[] SMS = {1, 46, 108, 132, 144};

    @Test
    void splitsFillTheGpuWithoutNeedlessOrTinySplits() {
        for (int b : BATCHES) for (int nkv : KV_HEADS) for (int len : LENGTHS) for (int sms : SMS) {
            int s = CudaBackend.autoSplits(b, nkv, len, sms);
            String what = "batch " + b + ", " + nkv + " KV heads, " + len + " keys, " + sms + " SMs: " + s + " splits";
            long blocks = (long) b * nkv;
            int byLength = (len + 255) / 256;
            assertTrue(s >= 1 && s <= DecodeOp.MAX_SPLITS, what + " outside [1, " + DecodeOp.MAX_SPLITS + "]");
            assertTrue(s <= byLength, what + ": more splits than 256-key pieces (" + byLength + ")");
            if (blocks * s < 2L * sms) {
                assertTrue(s == Math.min(byLength, DecodeOp.MAX_SPLITS), what + ": the GPU is not filled yet the length allows more");
            }
            if (s > 1) {
                assertTrue(blocks * (s - 1) < 2L * sms, what + ": one split fewer would still give two blocks per SM");
            }
        }
    }

    @Test
    void moreSmsOrKeysNeverMeanFewerSplitsAndMoreSequencesNeverMoreSplits() {
        for (int b : BATCHES) for (int nkv : KV_HEADS) for (int len : LENGTHS) for (int sms : SMS) {
            int s = CudaBackend.autoSplits(b, nkv, len, sms);
            String what = "batch " + b + ", " + nkv + " KV heads, " + len + " keys, " + sms + " SMs";
            assertTrue(CudaBackend.autoSplits(b, nkv, len, sms + 1) >= s, what + ": one more SM lowered the splits");
            assertTrue(CudaBackend.autoSplits(b, nkv, len + 1, sms) >= s, what + ": one more key lowered the splits");
            assertTrue(CudaBackend.autoSplits(b + 1, nkv, len, sms) <= s, what + ": one more sequence raised the splits");
        }
    }
}
