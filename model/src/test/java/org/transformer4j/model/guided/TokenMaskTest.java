// TokenMaskTest — token masks over real vocabularies (Qwen3's byte-level BPE, Llama 3's, Gemma 3's byte
// fallback): each mask equals a brute-force walk of every token's bytes, token bytes agree with the
// tokenizer's own decoding, and random constrained generations parse (Jackson) and validate (networknt).
package org.transformer4j.model.guided;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.transformer4j.model.tokenizer.HfTokenizer;

class TokenMaskTest {

    private static final Map<String, TokenVocabulary> VOCABS = new ConcurrentHashMap<>();
    private static final Map<String, HfTokenizer> TOKENIZERS = new ConcurrentHashMap<>();

    static TokenVocabulary vocab(String model) {
        return VOCABS.computeIfAbsent(model, m -> {
            try {
                return TokenVocabulary.fromTokenizerJson(GuidedFixtures.tokenizerJson(m), -1);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    static HfTokenizer tokenizer(String model) {
        return TOKENIZERS.computeIfAbsent(model, m -> {
            try {
                return HfTokenizer.load(GuidedFixtures.tokenizerJson(m));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    /** The model's end-of-text id, from its tokenizer's special tokens. */
    static int eos(String model) {
        Map<String, Integer> sp = tokenizer(model).specialTokens();
        for (String name : List.of("<|im_end|>", "<|eot_id|>", "<end_of_turn>", "<eos>")) if (sp.containsKey(name)) return sp.get(name);
        throw new AssertionError("no EOS among " + sp.keySet());
    }

    static boolean allowed(int[] bits, int id) { return (bits[id >>> 5] >>> (id & 31) & 1) != 0; }

    /** One random constrained generation: uniform among allowed ids, often among those that close something; its ids. */
    static int[] generate(TokenConstraint.Factory f, TokenVocabulary v, long seed, int maxTokens, List<JsonAutomaton.State> states,
                          JsonConstraint c) {
        Random r = new Random(seed);
        TokenConstraint t = f.start();
        List<Integer> ids = new ArrayList<>();
        JsonAutomaton.State s = states == null ? null : JsonAutomaton.State.start(c.grammarForTests());
        for (int step = 0; step < maxTokens; step++) {
            int[] bits = t.allowed();
            int[] all = new int[v.size()], closing = new int[v.size()];
            int na = 0, nc = 0;
            for (int w = 0; w < bits.length; w++) {
                for (int word = bits[w]; word != 0; word &= word - 1) {
                    int id = w * 32 + Integer.numberOfTrailingZeros(word);
                    all[na++] = id;
                    byte[] b = v.bytes(id);
                    if (b == null) closing[nc++] = id;                           // an end id
                    else for (byte x : b) if (x == '"' || x == '}' || x == ']' || x == ',') { closing[nc++] = id; break; }
                }
            }
            assertTrue(na > 0, "a dead end after " + ids + " (no id allowed, seed " + seed + ")");
            boolean close = nc > 0 && r.nextInt(3) == 0;
            int id = close ? closing[r.nextInt(nc)] : all[r.nextInt(na)];
            if (f.endIds().contains(id)) {
                assertTrue(t.isComplete());
                return ids.stream().mapToInt(Integer::intValue).toArray();
            }
            t.advance(id);
            ids.add(id);
            if (s != null) {
                s = s.advance(v.bytes(id));
                states.add(s);
            }
        }
        return null;                                                              // cut by the limit
    }

    static String text(TokenVocabulary v, int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int id : ids) out.writeBytes(v.bytes(id));
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(out.toByteArray())).toString();
        } catch (CharacterCodingException e) {
            throw new AssertionError("not UTF-8: " + e);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen3", "llama3", "gemma3"})
    void tokenBytesDecodeAsTheTokenizerDecodes(String model) {
        TokenVocabulary v = vocab(model);
        HfTokenizer tok = tokenizer(model);
        Random r = new Random(7);
        int checked = 0;
        for (int k = 0; k < 3000; k++) {
            int id = r.nextInt(v.size());
            byte[] b = v.bytes(id);
            if (b == null) continue;
            String s;
            try {
                s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
            } catch (CharacterCodingException e) {
                continue;                                                         // part of a character: decoded alone it is U+FFFD
            }
            assertEquals(tok.decode(new int[] {id}, false), s, "id " + id);
            checked++;
        }
        assertTrue(checked > 2000, "checked " + checked);
        for (int id : tok.specialTokens().values()) assertEquals(null, v.bytes(id), "special id " + id);
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen3", "llama3", "gemma3"})
    void masksEqualABruteForceWalkOfEveryToken(String model) {
        TokenVocabulary v = vocab(model);
        int eos = eos(model);
        JsonConstraint c = JsonConstraint.schema(GuidedFixtures.tree(GuidedFixtures.SCHEMAS.get(0)), v, Set.of(eos));
        List<JsonAutomaton.State> states = new ArrayList<>();
        states.add(JsonAutomaton.State.start(c.grammarForTests()));
        for (long seed = 1; states.size() < 40; seed++) generate(c, v, seed, 60, states, c);
        Random r = new Random(3);
        for (int k = 0; k < 6; k++) {
            JsonAutomaton.State s = states.get(r.nextInt(states.size()));
            int[] bits = c.mask(s);
            for (int id = 0; id < v.size(); id++) {
                boolean expected;
                if (id == eos) expected = s.isComplete();
                else {
                    byte[] b = v.bytes(id);
                    JsonAutomaton.State t = s;
                    for (int i = 0; b != null && i < b.length && t != null; i++) t = t.advance(b[i] & 0xFF);
                    expected = b != null && t != null;
                }
                if (expected != allowed(bits, id)) {
                    throw new AssertionError("id " + id + " " + (v.bytes(id) == null ? "" : new String(v.bytes(id), StandardCharsets.UTF_8))
                            + ": mask " + allowed(bits, id) + ", brute force " + expected);
                }
            }
        }
    }

    @Test
    void randomGenerationsParseAndValidate() {
        TokenVocabulary v = vocab("qwen3");
        HfTokenizer tok = tokenizer("qwen3");
        int eos = eos("qwen3");
        int finished = 0;
        for (String schema : GuidedFixtures.SCHEMAS) {
            JsonConstraint c = JsonConstraint.schema(GuidedFixtures.tree(schema), v, Set.of(eos));
            for (long seed = 0; seed < 12; seed++) {
                int[] ids = generate(c, v, seed, 400, null, null);
                if (ids == null) continue;
                String text = text(v, ids);
                assertEquals(tok.decode(ids, false), text, "our bytes and the tokenizer's decoding differ");
                JsonNode doc = GuidedFixtures.tree(text);
                assertEquals(List.of(), GuidedFixtures.violations(schema, doc), text);
                finished++;
            }
        }
        assertTrue(finished >= 40, "only " + finished + " of 60 generations finished within 400 tokens");
    }

    @Test
    void jsonModeGenerationsParseOnEveryVocabulary() {
        for (String model : List.of("qwen3", "llama3", "gemma3")) {
            TokenVocabulary v = vocab(model);
            JsonConstraint c = JsonConstraint.jsonObject(v, Set.of(eos(model)));
            int finished = 0;
            for (long seed = 0; seed < 6; seed++) {
                int[] ids = generate(c, v, seed, 400, null, null);
                if (ids == null) continue;
                JsonNode doc = GuidedFixtures.tree(text(v, ids));
                assertTrue(doc.isObject() || doc.isArray(), doc.toString());
                finished++;
            }
            assertTrue(finished >= 3, model + ": only " + finished + " of 6 finished");
        }
    }

    @Test
    void endIdsOnlyOnceCompleteAndAloneOnceClosed() {
        TokenVocabulary v = vocab("qwen3");
        int eos = eos("qwen3");
        JsonConstraint c = JsonConstraint.schema(GuidedFixtures.tree("{\"type\":\"integer\"}"), v, Set.of(eos));
        TokenConstraint t = c.start();
        assertFalse(allowed(t.allowed(), eos));
        t.advance(tokenizer("qwen3").encode("7", false)[0]);
        assertTrue(allowed(t.allowed(), eos));                                   // a number may end or go on
        assertTrue(allowed(t.allowed(), tokenizer("qwen3").encode("8", false)[0]));
        TokenConstraint o = JsonConstraint.jsonObject(v, Set.of(eos)).start();
        for (int id : tokenizer("qwen3").encode("{}", false)) o.advance(id);
        int[] bits = o.allowed();
        int count = 0;
        for (int w : bits) count += Integer.bitCount(w);
        assertEquals(1, count, "after the closing brace only EOS");
        assertTrue(allowed(bits, eos));
        for (int id : tokenizer("qwen3").specialTokens().values()) {
            if (id != eos) assertFalse(allowed(JsonConstraint.jsonObject(v, Set.of(eos)).start().allowed(), id), "special id " + id);
        }
        assertNotNull(v.bytes(tokenizer("qwen3").encode("{\"", false)[0]));
    }
}
