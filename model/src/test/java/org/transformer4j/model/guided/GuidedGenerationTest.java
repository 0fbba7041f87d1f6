// GuidedGenerationTest — Generator and TokenStream under a JSON constraint on a tiny random decoder:
// whatever the weights prefer, what ends in EOS parses (Jackson) and validates (networknt), what the token
// limit cuts is a prefix the automaton accepts, and the stream gives the tokens generate gives.
package org.transformer4j.model.guided;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.transformer4j.model.Generator;
import org.transformer4j.model.TokenStream;
import org.transformer4j.model.Transformer;

class GuidedGenerationTest {

    static final String SCHEMA = """
            {"type":"object","additionalProperties":false,"required":["name","tags"],
             "properties":{"name":{"type":"string","maxLength":6},"age":{"type":["integer","null"]},
                           "tags":{"type":"array","items":{"enum":["a","b",1]},"maxItems":3}}}""";

    static TinyVocab.Model tiny;
    static Transformer model;

    @BeforeAll
    static void setUp() {
        tiny = TinyVocab.randomModel(11);
        model = tiny.transformer();
    }

    @AfterAll
    static void tearDown() {
        tiny.close();
    }

    static List<Generator.Options> options(TokenConstraint.Factory f) {
        List<Generator.Options> out = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            Generator.Options o = Generator.Options.greedy(80).guided(f);
            out.add(i == 0 ? o : o.sampling(1.5f, i % 3 == 0 ? 20 : 0, i % 2 == 0 ? 0.95f : 1f, 100 + i));
        }
        return out;
    }

    @Test
    void generationsParseAndValidateOrArePrefixes() {
        Generator g = new Generator(model);
        TokenVocabulary v = TinyVocab.vocabulary();
        for (String schema : List.of(SCHEMA, "json_object")) {
            JsonConstraint c = schema.equals("json_object") ? JsonConstraint.jsonObject(v, Set.of(TinyVocab.EOS))
                    : JsonConstraint.schema(GuidedFixtures.tree(schema), v, Set.of(TinyVocab.EOS));
            int finished = 0;
            for (Generator.Options o : options(c)) {
                List<Integer> seen = new ArrayList<>();
                int[] ids;
                try {
                    ids = g.generate(new int[] {4, 10, 20}, o, (b, t) -> seen.add(t));
                } catch (IllegalStateException e) {
                    throw new AssertionError(schema + " after " + TinyVocab.text(seen.stream().mapToInt(Integer::intValue).toArray()) + " " + seen, e);
                }
                String text = TinyVocab.text(ids);
                if (ids[ids.length - 1] == TinyVocab.EOS) {
                    finished++;
                    var doc = GuidedFixtures.tree(text);
                    if (schema.equals("json_object")) assertTrue(doc.isObject() || doc.isArray(), text);
                    else assertEquals(List.of(), GuidedFixtures.violations(schema, doc), text);
                } else {
                    assertEquals(80, ids.length, "ended without EOS before the limit: " + text);
                    assertNotNull(JsonAutomaton.State.start(c.grammarForTests()).advance(text.getBytes(StandardCharsets.UTF_8)),
                            "cut by the limit but not a prefix: " + text);
                }
            }
            assertTrue(finished >= 4, schema + ": only " + finished + " of 12 finished");
        }
    }

    @Test
    void theStreamGivesWhatGenerateGives() {
        Generator g = new Generator(model);
        JsonConstraint c = JsonConstraint.schema(GuidedFixtures.tree(SCHEMA), TinyVocab.vocabulary(), Set.of(TinyVocab.EOS));
        for (Generator.Options o : options(c).subList(0, 4)) {
            int[] want = g.generate(new int[] {4, 10, 20}, o, null);
            List<Integer> got = new ArrayList<>();
            try (TokenStream s = g.stream(new int[] {4, 10, 20}, o)) {
                while (s.hasNext()) got.add(s.next().id());
            }
            assertArrayEquals(want, got.stream().mapToInt(Integer::intValue).toArray());
        }
    }
}
