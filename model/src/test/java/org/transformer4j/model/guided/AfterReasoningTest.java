// AfterReasoningTest — a constraint that waits for the end of reasoning: every id (EOS too) is allowed until the end
// marker, which may come split across ids; the id that completes it does not move the wrapped constraint; a prompt that
// closed the reasoning hands over from the first id; a marker that never comes leaves the generation exactly the
// unconstrained one; and on a tiny random decoder the ids after the watch ends parse as the schema says.
package org.transformer4j.model.guided;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.transformer4j.model.Generator;

class AfterReasoningTest {

    static final String SCHEMA = """
            {"type":"object","additionalProperties":false,"required":["name"],"properties":{"name":{"type":"string","maxLength":5}}}""";
    /** Ids 150-152 read as "</th", "ink>" and "</think>" to the watch (the JSON constraint knows them as "w150"...). */
    static final IntFunction<String> PIECES = id -> switch (id) {
        case 150 -> "</th";
        case 151 -> "ink>";
        case 152 -> "</think>";
        default -> TinyVocab.text(new int[] {id});
    };

    static JsonConstraint schema() { return JsonConstraint.schema(GuidedFixtures.tree(SCHEMA), TinyVocab.vocabulary(), Set.of(TinyVocab.EOS)); }

    static boolean allows(int[] mask, int id) { return (mask[id >>> 5] >>> (id & 31) & 1) != 0; }

    @Test
    void everyIdIsAllowedUntilTheMarkerSplitAcrossIdsThenTheSchemaFromItsStart() {
        JsonConstraint inner = schema();
        TokenConstraint c = new AfterReasoning(inner, AfterReasoning.marker("</think>", false, PIECES), TinyVocab.V).start();
        for (int id : new int[] {20, 150, 70, 150}) {                       // "</th" not followed by "ink>" is not the marker
            for (int v = 0; v < TinyVocab.V; v++) assertTrue(allows(c.allowed(), v), "id " + v + " while reasoning");
            assertTrue(c.isComplete(), "EOS may come while reasoning, as vLLM's full mask allows it");
            c.advance(id);
        }
        c.advance(151);                                                   // "</th" + "ink>": the reasoning ended with this id
        assertArrayEquals(inner.start().allowed(), c.allowed(), "the marker's id did not move the schema");
        assertFalse(allows(c.allowed(), TinyVocab.EOS));
        assertFalse(c.isComplete());
        assertThrows(IllegalStateException.class, () -> c.advance(150), "the schema holds after the marker");
        for (byte b : "{\"name\":\"ab\"}".getBytes(StandardCharsets.UTF_8)) c.advance(4 + b - 0x20);
        assertTrue(c.isComplete());
        assertTrue(allows(c.allowed(), TinyVocab.EOS));
    }

    @Test
    void aPromptThatClosedTheReasoningIsConstrainedFromTheFirstId() {
        JsonConstraint inner = schema();
        TokenConstraint c = new AfterReasoning(inner, AfterReasoning.marker("</think>", true, PIECES), TinyVocab.V).start();
        assertArrayEquals(inner.start().allowed(), c.allowed());
        assertThrows(IllegalStateException.class, () -> c.advance(152));
    }

    @Test
    void aWholeMarkerIdAndOneInsideLongerTextEndTheReasoning() {
        for (int[] ids : new int[][] {{152}, {20, 150, 151}, {150, 150, 151}}) {
            TokenConstraint c = new AfterReasoning(schema(), AfterReasoning.marker("</think>", false, PIECES), TinyVocab.V).start();
            for (int id : ids) c.advance(id);
            assertFalse(allows(c.allowed(), 20), Arrays.toString(ids));
        }
    }

    /** A watch that ends after {@code n} ids. */
    static Supplier<AfterReasoning.Watch> after(int n) {
        return () -> new AfterReasoning.Watch() {
            int seen;
            @Override public boolean ended() { return seen >= n; }
            @Override public void add(int id) { seen++; }
        };
    }

    @Test
    void onATinyDecoderTheReasoningIsFreeAndTheRestFollowsTheSchema() {
        try (TinyVocab.Model tiny = TinyVocab.randomModel(11)) {
            Generator g = new Generator(tiny.transformer());
            int[] prompt = {4, 10, 20};
            JsonConstraint inner = schema();
            int checked = 0, finished = 0;
            for (int seed = 0; seed < 3; seed++) {
                Generator.Options free = Generator.Options.greedy(40).sampling(1.5f, 0, 1f, 200 + seed).stopIds(Set.of(TinyVocab.EOS));
                int[] unconstrained = g.generate(prompt, free, null);
                // a marker that never comes: the generation is the unconstrained one, bit for bit, to the limit or EOS
                int[] never = g.generate(prompt, free.guided(new AfterReasoning(inner, AfterReasoning.marker("</nothing>", false, PIECES), TinyVocab.V)), null);
                assertArrayEquals(unconstrained, never, Arrays.toString(unconstrained) + "\n" + Arrays.toString(never));
                // the watch ends after 6 ids: those are the unconstrained ones, and what follows is the schema's
                int[] ids = g.generate(prompt, Generator.Options.greedy(60).sampling(1.5f, 0, 1f, 200 + seed)
                        .guided(new AfterReasoning(inner, after(6), TinyVocab.V)), null);
                if (Arrays.stream(unconstrained).limit(6).anyMatch(i -> i == TinyVocab.EOS)) continue;
                assertArrayEquals(Arrays.copyOf(unconstrained, 6), Arrays.copyOf(ids, 6));
                checked++;
                int[] rest = Arrays.copyOfRange(ids, 6, ids.length);
                String text = TinyVocab.text(rest);
                if (rest.length > 0 && rest[rest.length - 1] == TinyVocab.EOS && ++finished > 0) assertEquals(List.of(), GuidedFixtures.violations(SCHEMA, GuidedFixtures.tree(text)), text);
                else assertNotNull(JsonAutomaton.State.start(inner.grammarForTests()).advance(text.getBytes(StandardCharsets.UTF_8)), text);
            }
            assertTrue(checked >= 2 && finished >= 1, checked + " checked, " + finished + " finished");
        }
    }
}
