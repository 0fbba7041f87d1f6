// KvBudgetTest — Transformer.kvBudgetBytes: a KV state over the budget is refused with the bytes it
// needs and the budget; sizes that overflow a long (Long.MAX_VALUE rows) are refused, not wrapped; the
// learned-position cap applies to long capacities too.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.transformer4j.runtime.CpuBackend;

class KvBudgetTest {

    static final CpuBackend CPU = new CpuBackend();

    @Test
    void aStateOverAnExplicitBudgetIsRefusedWithTheBytesItNeeds() {
        TransformerConfig c = Tiny.decoderOnly(Tiny.t5ish().build(), false);                    // relative positions: no cap
        try (Weights w = Weights.random(c, CPU, 2)) {
            Transformer m = new Transformer(w, CPU);
            for (long asked : new long[] {Integer.MAX_VALUE, Long.MAX_VALUE - 1, Long.MAX_VALUE}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.newState(1, asked));
                assertTrue(e.getMessage().contains("bytes") && e.getMessage().contains("budget"), e.getMessage());
            }
            m.kvBudgetBytes(1 << 20);
            // 2 layers × K,V × 1 head × 32 × 4 bytes = 512 bytes per row and sequence: 4 × 1024 rows need 2 MiB
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.newState(4, 1024));
            assertTrue(e.getMessage().contains("needs 2097152 bytes") && e.getMessage().contains("1048576"), e.getMessage());
            try (KvState ok = m.newState(2, 1024)) {
                assertEquals(1024, ok.capacity());
            }
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
