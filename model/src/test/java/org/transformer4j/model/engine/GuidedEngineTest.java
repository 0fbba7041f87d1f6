// GuidedEngineTest — structured outputs through continuous batching: JSON-constrained requests (schema and
// json_object mode, greedy and seeded sampling) beside unconstrained ones give the tokens Generator gives
// each alone, bit for bit (EngineTest's pattern, on its tiny GPT-2 shape over TinyVocab's 160 ids).
package org.transformer4j.model.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.transformer4j.model.Generator;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.guided.JsonConstraint;
import org.transformer4j.model.guided.TinyVocab;
import org.transformer4j.model.guided.TokenVocabulary;

class GuidedEngineTest {

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

    @Test
    void guidedRequestsGiveTheirSoloTokens() throws Exception {
        TokenVocabulary v = TinyVocab.vocabulary();
        JsonConstraint schema = JsonConstraint.schema(new com.fasterxml.jackson.databind.ObjectMapper().readTree(
                "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},\"age\":{\"type\":\"integer\"}},"
                        + "\"required\":[\"name\",\"age\"],\"additionalProperties\":false}"), v, Set.of(TinyVocab.EOS));
        JsonConstraint json = JsonConstraint.jsonObject(v, Set.of(TinyVocab.EOS));
        List<int[]> prompts = new ArrayList<>();
        List<Generator.Options> opts = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            prompts.add(EngineTest.prompt(500 + i, 3 + (i * 5) % 11));    // ids below 100
            Generator.Options o = Generator.Options.greedy(20 + i * 3);
            if (i % 2 == 1) o = o.sampling(1.2f, i % 3 == 0 ? 10 : 0, 0.9f, 60 + i);
            opts.add(i % 3 == 2 ? o : o.guided(i % 3 == 0 ? schema : json));   // every third unconstrained
        }
        try (Engine e = new Engine(model, Engine.Config.defaults(model).steps(16, 8))) {
            EngineTest.assertSameAsAlone(model, e, prompts, opts);
        }
    }
}
