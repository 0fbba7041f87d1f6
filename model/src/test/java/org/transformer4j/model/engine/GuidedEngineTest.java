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
    /**
     * One decode batch of requests that differ in everything the sampler reads — greedy and seeded sampling, top-k,
     * top-p, min_p, repetition / presence / frequency penalties, logit bias, a JSON schema, json_object mode or none —
     * gives each request Generator's solo tokens bit for bit, and the engine makes one sample op per decode pass (plus
     * one per prompt's first token), counted by a backend that counts the ops it forwards: sampling per sequence again
     * would make about one per token.
     */
    @Test
    void mixedOptionsInOneDecodeBatchGiveTheirSoloTokensWithOneSampleOpPerStep() throws Exception {
        TokenVocabulary v = TinyVocab.vocabulary();
        JsonConstraint schema = JsonConstraint.schema(new com.fasterxml.jackson.databind.ObjectMapper().readTree(
                "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"}},\"required\":[\"id\"]}"), v, Set.of(TinyVocab.EOS));
        JsonConstraint json = JsonConstraint.jsonObject(v, Set.of(TinyVocab.EOS));
        List<int[]> prompts = new ArrayList<>();
        List<Generator.Options> opts = new ArrayList<>();
        int n = 8;
        for (int i = 0; i < n; i++) {
            prompts.add(EngineTest.prompt(700 + i, 4 + i % 3));              // short prompts: all decode together
            Generator.Options o = Generator.Options.greedy(24);
            switch (i) {
                case 1 -> o = o.sampling(1.0f, 0, 1f, 11);
                case 2 -> o = o.sampling(0.8f, 12, 1f, 12).repetitionPenalty(1.4f);
                case 3 -> o = o.sampling(1.2f, 0, 0.8f, 13).presenceFrequency(0.6f, 0.3f).guided(json);
                case 4 -> o = o.sampling(0.9f, 0, 1f, 14).minP(0.1f).logitBias(java.util.Map.of(7, 3f, 8, -50f));
                case 5 -> o = o.repetitionPenalty(0.8f).presenceFrequency(-0.4f, 0.5f).guided(schema);
                case 6 -> o = o.sampling(1.1f, 30, 0.9f, 16).minP(0.05f).repetitionPenalty(1.2f).logitBias(java.util.Map.of(9, 2f));
                case 7 -> o = o.sampling(1.0f, 0, 1f, 11);                       // request 1's options: the same seed
                default -> { }
            }
            opts.add(o);
        }
        java.util.concurrent.atomic.AtomicLong samples = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.atomic.AtomicLong penalties = new java.util.concurrent.atomic.AtomicLong();
        org.transformer4j.runtime.Backend counting = (org.transformer4j.runtime.Backend) java.lang.reflect.Proxy.newProxyInstance(
                getClass().getClassLoader(), new Class<?>[] {org.transformer4j.runtime.Backend.class}, (proxy, m, args) -> {
                    if (m.getName().equals("sample")) samples.incrementAndGet();
                    if (m.getName().equals("penalty")) penalties.incrementAndGet();
                    try {
                        return m.invoke(tiny.backend(), args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        Transformer counted = new Transformer(tiny.weights(), counting);
        List<java.util.concurrent.CompletableFuture<EngineTest.Result>> fs = new ArrayList<>();
        long steps, tokens;
        try (Engine e = new Engine(counted, Engine.Config.defaults(counted).steps(64, 16))) {
            for (int i = 0; i < n; i++) fs.add(EngineTest.submit(e, prompts.get(i), opts.get(i)));
            for (var f : fs) f.get(120, java.util.concurrent.TimeUnit.SECONDS);
            steps = e.steps();
            tokens = e.tokensGenerated();
            org.junit.jupiter.api.Assertions.assertEquals(samples.get(), e.sampleOps(), "the engine's own count");
        }
        Generator g = new Generator(model);
        for (int i = 0; i < n; i++) {
            EngineTest.Result r = fs.get(i).get();
            org.junit.jupiter.api.Assertions.assertNull(r.error(), "request " + i);
            org.junit.jupiter.api.Assertions.assertArrayEquals(g.generate(prompts.get(i), opts.get(i), null), r.ids(),
                    "request " + i + " (" + opts.get(i) + ")");
        }
        // the 8 short prompts finish their prefill in the first steps (one sample op per step for the first tokens it finished,
        // not one per prompt), then
        // one sample op (and at most one penalty op) per step's decode pass (the 8 sequences are one decode group)
        org.junit.jupiter.api.Assertions.assertTrue(samples.get() <= steps + 1, samples + " sample ops for " + steps + " steps");
        org.junit.jupiter.api.Assertions.assertTrue(penalties.get() <= steps + 1, penalties + " penalty ops for " + steps + " steps");
        org.junit.jupiter.api.Assertions.assertTrue(tokens >= 3 * samples.get(), tokens + " tokens from " + samples + " sample ops");
    }
}
