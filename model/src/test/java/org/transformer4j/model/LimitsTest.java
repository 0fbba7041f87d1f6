// LimitsTest — sizes an adversarial caller asks for: a KV state far beyond the model's learned
// positions is capped by them (no 10 GB zero-fill), a state over the memory budget is capped by it and
// allocates nothing for the rows asked, a generation whose limit it cannot reach is refused naming the
// budget (no OutOfMemoryError, no negative shape from an int overflow), a chat whose held
// tokens overflow an int is refused before any work, and a config default (4 × n_embd) that overflows
// an int is reported as a bad config.json.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.HfConfig;
import org.transformer4j.runtime.CpuBackend;

class LimitsTest {

    static final CpuBackend CPU = new CpuBackend();

    @Test
    void aStateIsCappedByTheLearnedPositions() {
        TransformerConfig c = Tiny.decoderOnly(Tiny.encDec().build(), false);                   // 160 learned positions
        try (Weights w = Weights.random(c, CPU, 1)) {
            Transformer m = new Transformer(w, CPU);
            for (int asked : new int[] {10_000_000, Integer.MAX_VALUE}) {
                try (KvState st = m.newState(1, asked)) {
                    assertEquals(160, st.capacity(), "asked " + asked);
                    m.prefill(st, 0, Tiny.ids(2, 1, 150)[0]);                                 // and it works up to them
                }
            }
        }
    }

    @Test
    void aStateBeyondMemoryIsCappedByTheBudgetAndCostsNothingUpFront() {
        TransformerConfig c = Tiny.decoderOnly(Tiny.t5ish().build(), false);                    // relative positions: no cap
        try (Weights w = Weights.random(c, CPU, 2)) {
            Transformer m = new Transformer(w, CPU).kvBudgetBytes(1L << 30);                  // 512 bytes a row: 2^21 rows
            try (KvState st = m.newState(1, Integer.MAX_VALUE)) {
                assertEquals(1 << 21, st.capacity());
                assertTrue(st.pool().allocatedBytes() <= 4 * 8192, st.pool().allocatedBytes() + " bytes");
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> st.requireCapacity(Integer.MAX_VALUE, "x"));
                assertTrue(e.getMessage().contains("bytes") && e.getMessage().contains("budget"), e.getMessage());
            }
        }
    }

    @Test
    void generationSizedByAHugeTokenLimitIsRefusedNotOutOfMemory() {
        TransformerConfig c = Tiny.t5ish().build();                                              // an encoder-decoder, relative positions
        try (Weights w = Weights.random(c, CPU, 3)) {
            Generator g = new Generator(new Transformer(w, CPU).kvBudgetBytes(1L << 30));       // 2^21 rows: fewer than asked
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> g.generate(Tiny.ids(4, 1, 5)[0], Generator.Options.greedy(100_000_000), null));
            assertTrue(e.getMessage().contains("budget"), e.getMessage());
            IllegalArgumentException max = assertThrows(IllegalArgumentException.class,
                    () -> g.generate(List.of(Tiny.ids(4, 1, 5)[0]), Generator.Options.greedy(Integer.MAX_VALUE), null));
            assertTrue(max.getMessage().contains("budget"), max.getMessage());
        }
    }

    @Test
    void aChatWhoseHeldTokensOverflowAnIntIsRefusedBeforeAnyWork() {
        TransformerConfig c = Tiny.decoderOnly(Tiny.encDec().build(), false);
        try (Weights w = Weights.random(c, CPU, 5);
             ChatSession chat = new ChatSession(new Transformer(w, CPU), Generator.Options.greedy(Integer.MAX_VALUE - 2), 100)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> chat.send(Tiny.ids(6, 1, 5)[0]));
            assertTrue(e.getMessage().contains("would hold 2147483650 tokens"), e.getMessage());
            assertTrue(chat.tokensEncodedPerTurn().isEmpty() && chat.history().length == 0);
        }
    }

    @Test
    void aConfigDefaultThatOverflowsAnIntIsABadConfig(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("config.json"), "{\"model_type\":\"gpt2\",\"n_embd\":1000000000,\"n_layer\":1,\"n_head\":1,"
                + "\"vocab_size\":10}");
        CheckpointException e = assertThrows(CheckpointException.class, () -> Pretrained.gpt2Config(HfConfig.read(dir)));
        assertTrue(e.getMessage().contains("n_inner") && e.getMessage().contains("4000000000"), e.getMessage());
    }
}
