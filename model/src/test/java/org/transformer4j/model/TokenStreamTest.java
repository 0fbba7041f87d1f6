// TokenStreamTest — Generator.stream against the callback form and full recomputation: the same tokens
// in the same order (greedy, sampled, stop ids and strings, batches, encoder-decoders), one decode
// step per step's worth of tokens taken, and the KvState released on exhaustion, on close and on error.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.transformer4j.runtime.CpuBackend;

class TokenStreamTest {

    static final CpuBackend CPU = new CpuBackend();

    /** The (sequence, token) pairs in the order the callback form reports them. */
    static List<TokenStream.Token> viaCallback(Generator g, List<int[]> prompts, Generator.Options o) {
        List<TokenStream.Token> out = new ArrayList<>();
        g.generate(prompts, o, (b, t) -> out.add(new TokenStream.Token(b, t)));
        return out;
    }

    static List<TokenStream.Token> drain(TokenStream s) {
        List<TokenStream.Token> out = new ArrayList<>();
        s.forEachRemaining(out::add);
        return out;
    }

    static int[] ofSequence(List<TokenStream.Token> tokens, int b) {
        return tokens.stream().filter(t -> t.sequence() == b).mapToInt(TokenStream.Token::id).toArray();
    }

    @Test
    void aSinglePromptStreamsTheGreedyTokensOfFullRecomputationOneStepAtATime() {
        TransformerConfig c = Tiny.decoderOnly(Tiny.encDec().build(), false);
        try (Weights w = Weights.random(c, CPU, 71)) {
            Transformer m = new Transformer(w, CPU);
            Generator g = new Generator(m);
            int[] prompt = Tiny.ids(72, 1, 7)[0];
            List<Integer> ids = new ArrayList<>();
            try (TokenStream s = g.stream(prompt, Generator.Options.greedy(10))) {
                KvState st = s.state;
                assertEquals(7, st.length(0), "the prompt is prefilled when the stream is made");
                for (int i = 0; ; i++) {
                    // token i comes from the prompt's logits (i = 0) or from the step that feeds token i − 1:
                    // until it is asked for, the cache holds the prompt and tokens 0 .. i − 2 only
                    if (!st.isClosed()) assertEquals(7 + Math.max(i - 1, 0), st.length(0), "before token " + i);
                    if (!s.hasNext()) break;
                    TokenStream.Token t = s.next();
                    assertEquals(0, t.sequence());
                    ids.add(t.id());
                    assertEquals(i == 9, st.isClosed(), "the state is released when the last token is chosen, not before");
                    if (!st.isClosed()) assertEquals(7 + i, st.length(0), "after token " + i);
                }
                assertTrue(st.isClosed(), "exhaustion releases the state before close()");
                assertThrows(NoSuchElementException.class, s::next);
            }
            int[] out = ids.stream().mapToInt(Integer::intValue).toArray();
            assertEquals(10, out.length);
            for (int i = 0; i < out.length; i++) {
                float[][] full = m.logits(new int[][] {GenerationTest.cat(prompt, Arrays.copyOf(out, i))})[0];
                assertEquals(GenerationTest.argmax(full[full.length - 1]), out[i], "token " + i);
            }
            assertArrayEquals(g.generate(prompt, Generator.Options.greedy(10), null), out);
        }
    }

    @Test
    void batchesStreamWhatTheCallbackReportsInTheSameOrder() {
        TransformerConfig c = Tiny.decoderOnly(Tiny.t5ish().build(), false);
        try (Weights w = Weights.random(c, CPU, 73)) {
            Generator g = new Generator(new Transformer(w, CPU));
            List<int[]> prompts = List.of(Tiny.ids(74, 1, 4)[0], Tiny.ids(75, 1, 13)[0], Tiny.ids(76, 1, 9)[0]);
            Generator.Options greedy = Generator.Options.greedy(9);
            int[][] plain = g.generate(prompts, greedy, null);
            // stop sequence 1 at its fourth token's id and sequence 2 by a stop string: the sequences end at different steps
            Function<int[], String> text = ids -> Arrays.stream(ids).mapToObj(i -> "<" + i + ">").reduce("", String::concat);
            Generator.Options stops = greedy.stopIds(Set.of(plain[1][3]))
                    .stopStrings(Set.of("<" + plain[2][5] + ">"), text);
            for (Generator.Options o : List.of(greedy, stops, greedy.sampling(1.3f, 20, 0.9f, 5), stops.sampling(0.8f, 0, 1f, 6))) {
                List<TokenStream.Token> expected = viaCallback(g, prompts, o);
                List<TokenStream.Token> got;
                try (TokenStream s = g.stream(prompts, o)) {
                    got = drain(s);
                }
                assertEquals(expected, got, o.toString());
                int[][] generated = g.generate(prompts, o, null);
                for (int b = 0; b < prompts.size(); b++) assertArrayEquals(generated[b], ofSequence(got, b), "sequence " + b);
            }
            // the stops did stop: sequences of different lengths in one stream
            int[][] stopped = g.generate(prompts, stops, null);
            assertTrue(stopped[1].length <= 4 && stopped[0].length == 9, Arrays.deepToString(stopped));
        }
    }

    @Test
    void anEncoderDecoderStreamsWhatItGenerates() {
        TransformerConfig c = Tiny.t5ish().build();
        try (Weights w = Weights.random(c, CPU, 77)) {
            Generator g = new Generator(new Transformer(w, CPU));
            List<int[]> inputs = List.of(Tiny.ids(78, 1, 6)[0], Tiny.ids(79, 1, 11)[0]);
            Generator.Options o = Generator.Options.greedy(8);
            try (TokenStream s = g.stream(inputs, o)) {
                assertEquals(viaCallback(g, inputs, o), drain(s));
            }
        }
    }

    @Test
    void closingEarlyReleasesTheStateAndLaterUseFailsClearly() {
        TransformerConfig c = Tiny.decoderOnly(Tiny.encDec().build(), false);
        try (Weights w = Weights.random(c, CPU, 80)) {
            Generator g = new Generator(new Transformer(w, CPU));
            TokenStream s = g.stream(Tiny.ids(81, 1, 5)[0], Generator.Options.greedy(50));
            KvState st = s.state;
            s.next();
            s.next();
            assertFalse(st.isClosed());
            s.close();
            assertTrue(st.isClosed(), "close releases the state");
            assertNull(s.state);
            for (var use : List.<org.junit.jupiter.api.function.Executable>of(s::hasNext, s::next)) {
                IllegalStateException e = assertThrows(IllegalStateException.class, use);
                assertTrue(e.getMessage().contains("closed"), e.getMessage());
            }
            s.close();                                                                         // idempotent
            // bad input fails when the stream is made, and leaves no state behind to close
            IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                    () -> g.stream(new int[] {3, Tiny.V}, Generator.Options.greedy(4)));
            assertTrue(bad.getMessage().contains("outside the vocabulary"), bad.getMessage());
            assertThrows(IllegalArgumentException.class, () -> g.stream(List.of(), Generator.Options.greedy(4)));
            assertThrows(IllegalArgumentException.class, () -> g.stream(new int[] {3}, null));
            assertThrows(IllegalArgumentException.class, () -> g.stream((int[]) null, Generator.Options.greedy(4)));
        }
    }

    @Test
    void aFailedStepReleasesTheStateAndTheStreamStaysFailed() {
        TransformerConfig c = Tiny.decoderOnly(Tiny.encDec().build(), false);
        try (Weights w = Weights.random(c, CPU, 82)) {
            Generator g = new Generator(new Transformer(w, CPU));
            RuntimeException boom = new IllegalStateException("decoder failed");
            int[] calls = {0};
            Function<int[], String> text = ids -> {
                if (++calls[0] == 3) throw boom;                                                  // while choosing the third token
                return "x";
            };
            TokenStream s = g.stream(Tiny.ids(83, 1, 5)[0], Generator.Options.greedy(10).stopStrings(Set.of("never"), text));
            KvState st = s.state;
            s.next();
            s.next();
            assertSame(boom, assertThrows(IllegalStateException.class, s::hasNext));
            assertTrue(st.isClosed(), "a failed step releases the state");
            IllegalStateException after = assertThrows(IllegalStateException.class, s::next);
            assertSame(boom, after.getCause());
            assertTrue(after.getMessage().contains("failed"), after.getMessage());
            s.close();
        }
    }
}
