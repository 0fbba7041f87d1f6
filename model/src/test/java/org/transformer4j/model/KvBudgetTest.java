// KvBudgetTest — Transformer.kvBudgetBytes caps a KV state's own block pool: a capacity over it is
// capped to what the budget holds (blocks come on demand, so asking costs nothing); sizes that overflow
// a long or an int (Long.MAX_VALUE rows) are capped, not wrapped; a budget under one block is refused;
// the learned-position cap applies to long capacities too.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.transformer4j.runtime.CpuBackend;

class KvBudgetTest {

    static final CpuBackend CPU = new CpuBackend();

    @Test
    void capacitiesAreCappedByTheBudgetAndNothingIsAllocatedForThem() {
        TransformerConfig c = Tiny.decoderOnly(Tiny.t5ish().build(), false);                    // relative positions: no cap
        try (Weights w = Weights.random(c, CPU, 2)) {
            Transformer m = new Transformer(w, CPU);
            for (long asked : new long[] {Integer.MAX_VALUE, Long.MAX_VALUE - 1, Long.MAX_VALUE}) {
                try (KvState st = m.newState(1, asked)) {
                    long byBudget = m.kvBudgetBytes() / 8192 * 16;                              // 8,192 bytes per block of 16 rows
                    assertEquals(Math.min(Math.min(asked, byBudget), Integer.MAX_VALUE) / 16 * 16, st.capacity(), "asked " + asked);
                    assertTrue(st.pool().allocatedBytes() <= 4 * 8192, st.pool().allocatedBytes() + " bytes for asking " + asked);
                }
            }
            m.kvBudgetBytes(1 << 20);
            // 2 layers × K,V × 1 head × 32 × 4 bytes = 512 bytes per row and sequence: 1 MiB holds 2048 rows, 128 blocks
            try (KvState st = m.newState(1, 1 << 20)) {
                assertEquals(2048, st.capacity());
                assertEquals(128, st.pool().numBlocks());
            }
            try (KvState four = m.newState(4, 1024)) {                                          // 4 × 64 blocks asked of 128
                assertEquals(1024, four.capacity());
                four.checkRoom(0, 1024);
                four.checkRoom(1, 1024);
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> four.checkRoom(2, 1));
                assertTrue(e.getMessage().contains("all 128 blocks") && e.getMessage().contains("1048576"), e.getMessage());
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.kvBudgetBytes(8191).newState(1, 16));
            assertTrue(e.getMessage().contains("holds no block") && e.getMessage().contains("8192"), e.getMessage());
        }
    }

    @Test
    void longCapacitiesAreCappedByLearnedPositions() {
        try (Weights w = Weights.random(Tiny.decoderOnly(Tiny.encDec().build(), false), CPU, 1);
             KvState st = new Transformer(w, CPU).newState(3, Long.MAX_VALUE)) {
            assertEquals(160, st.capacity());
        }
    }
}
