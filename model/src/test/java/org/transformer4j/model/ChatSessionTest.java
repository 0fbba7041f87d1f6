// ChatSessionTest — which models chat incrementally (causal input whose rows the decoder's cache holds),
// the encoder-decoder with all four steps as one of them: its replies equal generating from the whole
// re-encoded history while it encodes only the new tokens; and a failed turn leaves a session as it was.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.transformer4j.runtime.CpuBackend;

class ChatSessionTest {

    static final CpuBackend CPU = new CpuBackend();

    @Test
    void incrementalIsDecidedByCausalInputThatTheDecodersCacheHolds() {
        TransformerConfig ed = Tiny.encDec().build();
        assertTrue(ChatSession.incremental(Tiny.decoderOnly(ed, false)), "decoder-only");
        assertTrue(ChatSession.incremental(ed.withSteps(true, true, true, true)), "encoder-decoder with all four steps");
        assertTrue(!ChatSession.incremental(Tiny.decoderOnly(ed, true)), "prefix-LM: bidirectional prefix");
        assertTrue(!ChatSession.incremental(ed), "encoder-decoder: bidirectional encoder");
        assertTrue(!ChatSession.incremental(ed.withSteps(true, true, true, false)), "steps 1–3: the prefix-LM");
        // causal input whose states the decoder reads through its own cross-attention, stack or last layer
        assertTrue(!ChatSession.incremental(ed.withSteps(false, false, false, true)), "step 4 alone");
        assertTrue(!ChatSession.incremental(ed.withSteps(true, false, true, true)), "steps 1, 3, 4");
        assertTrue(!ChatSession.incremental(ed.withSteps(true, true, false, true)), "steps 1, 2, 4");
    }

    @Test
    void anEncoderDecoderWithAllFourStepsChatsIncrementallyAndRepliesAsIfReencoding() {
        for (TransformerConfig.Builder family : List.of(Tiny.encDec(), Tiny.t5ish())) {
            TransformerConfig c = family.build().withSteps(true, true, true, true);
            try (Weights w = Weights.random(c, CPU, 90)) {
                Transformer m = new Transformer(w, CPU);
                Generator g = new Generator(m);
                // greedy, and sampled (whose tokens follow any change in the logits), without and with a stop id
                Generator.Options greedy = Generator.Options.greedy(6);
                for (Generator.Options o : List.of(greedy, greedy.sampling(1f, 0, 1f, 91))) {
                    try (ChatSession chat = new ChatSession(m, o, 150)) {
                        assertTrue(chat.incremental());
                        int previousReply = 0;
                        for (int turn = 0; turn < 4; turn++) {
                            int[] msg = Tiny.ids(92 + turn, 1, 4 + turn)[0];
                            int[] history = chat.history();
                            // the reference: the encoder-decoder re-encodes the whole history and starts its decoder anew
                            int[] expected = g.generate(GenerationTest.cat(history, msg), o, null);
                            int[] reply = chat.send(msg);
                            assertArrayEquals(expected, reply, c.positions() + " " + o.temperature() + " turn " + turn);
                            assertArrayEquals(GenerationTest.cat(GenerationTest.cat(history, msg), reply), chat.history());
                            // new tokens only: the previous reply and the message as input, then the start id and the
                            // reply's tokens but its last (a re-encoding session would add the whole history before them)
                            assertEquals(previousReply + msg.length + reply.length, chat.tokensEncodedPerTurn().get(turn),
                                    "turn " + turn);
                            previousReply = reply.length;
                        }
                    }
                }
            }
        }
    }

    @Test
    void theEncoderDecoderChatEqualsTheDecoderOnlyModelOnTheSameConversation() {
        // the same weights as a decoder-only model: the conversation [m1 r1 m2 …] with the start id before each
        // reply is what its cache would hold, so teacher-forcing the replies there gives the chat's greedy tokens
        TransformerConfig c = Tiny.encDec().build().withSteps(true, true, true, true);
        try (Weights w = Weights.random(c, CPU, 96)) {
            Transformer m = new Transformer(w, CPU);
            Transformer gpt = new Transformer(w.viewAs(Tiny.decoderOnly(c, false)), CPU);
            int start = c.specialIds().decoderStart();
            try (ChatSession chat = new ChatSession(m, Generator.Options.greedy(5), 120)) {
                for (int turn = 0; turn < 3; turn++) {
                    int[] msg = Tiny.ids(97 + turn, 1, 6)[0];
                    int[] before = GenerationTest.cat(chat.history(), msg);
                    int[] reply = chat.send(msg);
                    float[][] full = gpt.logits(new int[][] {GenerationTest.cat(GenerationTest.cat(before, new int[] {start}),
                            Arrays.copyOf(reply, reply.length - 1))})[0];
                    for (int i = 0; i < reply.length; i++) {
                        assertEquals(GenerationTest.argmax(full[before.length + i]), reply[i], "turn " + turn + " token " + i);
                    }
                }
            }
        }
    }

    @Test
    void aFailedTurnLeavesTheSessionAsItWas() {
        TransformerConfig ed = Tiny.encDec().build();
        for (TransformerConfig c : List.of(Tiny.decoderOnly(ed, false), ed.withSteps(true, true, true, true), Tiny.t5ish().build())) {
            try (Weights w = Weights.random(c, CPU, 101)) {
                Transformer m = new Transformer(w, CPU);
                RuntimeException boom = new IllegalStateException("decoder failed");
                boolean[] fail = {false};
                Function<int[], String> text = ids -> {
                    if (fail[0]) { fail[0] = false; throw boom; }
                    return "x";
                };
                Generator.Options o = Generator.Options.greedy(5).stopStrings(Set.of("never"), text);
                try (ChatSession chat = new ChatSession(m, o, 150)) {
                    chat.send(Tiny.ids(102, 1, 5)[0]);
                    int[] history = chat.history();
                    fail[0] = true;                                                               // mid-turn, after the message ran
                    assertSame(boom, assertThrows(IllegalStateException.class, () -> chat.send(Tiny.ids(103, 1, 7)[0])));
                    assertArrayEquals(history, chat.history());
                    assertEquals(1, chat.tokensEncodedPerTurn().size());
                    int[] msg = Tiny.ids(104, 1, 4)[0];
                    assertArrayEquals(new Generator(m).generate(GenerationTest.cat(history, msg), o, null), chat.send(msg),
                            c.architecture() + ": the next turn sees the history without the failed one");
                    // bad input is refused before anything runs
                    assertThrows(IllegalArgumentException.class, () -> chat.send(new int[] {Tiny.V}));
                    assertThrows(IllegalArgumentException.class, () -> chat.send(new int[140]));
                    assertEquals(2, chat.tokensEncodedPerTurn().size());
                }
            }
        }
    }
}
