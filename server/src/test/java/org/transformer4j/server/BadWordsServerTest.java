// BadWordsServerTest — vLLM's bad_words and allowed_token_ids on /v1/completions and /v1/chat/completions: the text
// equals Generator alone with the words tokenized as vLLM's SamplingParams.update_from_tokenizer does and matched
// against the new tokens only (vllm/v1/sample/ops/bad_words.py), or with the allow-list, streamed or not, through the
// openai-java client (extra body fields) and raw HTTP; each bad value is a 400 naming its field, in vLLM's words.
package org.transformer4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.core.JsonValue;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.completions.CompletionCreateParams;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.transformer4j.model.Generator;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.Weights;
import org.transformer4j.model.engine.Engine;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.CpuBackend;

class BadWordsServerTest {

    static final ServerTest.CharTokenizer TOK = ServerTest.TOK;
    static final String PROMPT = SamplingFieldsTest.PROMPT;
    static Backend backend;
    static Weights weights;
    static Transformer model;
    static Engine engine;
    static OpenAiServer server;
    static String base;

    @BeforeAll
    static void setUp() {
        backend = new CpuBackend();
        weights = Weights.random(ServerTest.gpt2Tiny(), backend, 31);
        model = new Transformer(weights, backend);
        engine = new Engine(model, Engine.Config.defaults(model).steps(64, 32));
        server = OpenAiServer.decoder("tiny", engine, TOK, ServerTest.TEMPLATE, OpenAiServer.Limits.defaults());
        base = "http://127.0.0.1:" + server.start("127.0.0.1", 0);
    }

    @AfterAll
    static void tearDown() {
        if (server != null) server.close();
        if (engine != null) engine.close();
        weights.close();
        backend.close();
    }

    static String alone(int[] prompt, Generator.Options o) {
        return TOK.decode(new Generator(model).generate(prompt, o, null));
    }

    static List<Integer> word(String w) {
        return java.util.Arrays.stream(TOK.encode(w, false)).boxed().toList();
    }

    @Test
    void badWordsAndAllowedIdsGiveGeneratorsTokens() throws Exception {
        int[] p = TOK.encode(PROMPT);
        String free = alone(p, Generator.Options.greedy(24));
        String one = free.substring(0, 1), two = free.substring(2, 4), promptTail = PROMPT.substring(PROMPT.length() - 1) + free.charAt(0);
        Generator.Options greedy = Generator.Options.greedy(24);
        Object[][] cases = {
            {"\"bad_words\": [\"" + one + "\"]", greedy.outputBadWordsIds(List.of(word(one)))},
            {"\"bad_words\": [\"" + two + "\", \"  " + one + "\"]", greedy.outputBadWordsIds(List.of(word(two), word(one)))},
            {"\"allowed_token_ids\": [5, 9, 12, 40]", greedy.allowedTokenIds(Set.of(5, 9, 12, 40))},
            {"\"bad_words\": [\"" + two + "\"], \"allowed_token_ids\": [" + word(two).get(0) + ", " + word(two).get(1) + ", 7]",
             greedy.outputBadWordsIds(List.of(word(two))).allowedTokenIds(new java.util.HashSet<>(List.of(word(two).get(0), word(two).get(1), 7)))},
        };
        for (Object[] c : cases) {
            String want = alone(p, (Generator.Options) c[1]);
            assertNotEquals(free, want, c[0] + " changes nothing here: a useless check");
            for (boolean stream : new boolean[] {false, true}) {
                assertEquals(want, SamplingFieldsTest.complete(base, "\"max_tokens\": 24, \"temperature\": 0, " + c[0], stream), c[0] + " streamed " + stream);
            }
        }
        // vLLM matches a word's prefix in the new tokens only: a word whose first character ends the prompt bans nothing at first
        assertEquals(free, SamplingFieldsTest.complete(base, "\"max_tokens\": 24, \"temperature\": 0, \"bad_words\": [\"" + promptTail + "\"]", false));
        // sampled: every token an allowed id
        String sampled = SamplingFieldsTest.complete(base, "\"max_tokens\": 30, \"temperature\": 1.5, \"seed\": 4, \"allowed_token_ids\": [40, 41, 42]", false);
        assertTrue(sampled.chars().allMatch(ch -> ch >= 0x21 + 40 && ch <= 0x21 + 42), sampled);
        assertEquals(alone(p, Generator.Options.greedy(30).sampling(1.5f, 0, 1f, 4).allowedTokenIds(Set.of(40, 41, 42))), sampled);
    }

    @Test
    void theOpenAiClientSendsThemAsExtraBodyFields() throws Exception {
        OpenAIClient client = ServerTest.client(Integer.parseInt(base.substring(base.lastIndexOf(':') + 1)));
        int[] p = TOK.encode(PROMPT);
        String free = alone(p, Generator.Options.greedy(20));
        String bad = free.substring(0, 2);
        var completion = client.completions().create(CompletionCreateParams.builder().model("tiny").prompt(PROMPT).maxTokens(20).temperature(0.0)
                .putAdditionalBodyProperty("bad_words", JsonValue.from(List.of(bad))).build());
        assertEquals(alone(p, Generator.Options.greedy(20).outputBadWordsIds(List.of(word(bad)))), completion.choices().get(0).text());
        int[] chatPrompt = ServerTest.TEMPLATE.render(List.of(new ChatTemplate.Message("user", "hello")), Map.of());
        var chat = client.chat().completions().create(ChatCompletionCreateParams.builder().model("tiny").addUserMessage("hello")
                .maxCompletionTokens(16).temperature(0.0).putAdditionalBodyProperty("allowed_token_ids", JsonValue.from(List.of(3, 30, 60))).build());
        assertEquals(alone(chatPrompt, Generator.Options.greedy(16).allowedTokenIds(Set.of(3, 30, 60))),
                chat.choices().get(0).message().content().orElse(""));
    }

    /**
     * A tokenizer with a word-start form, as BPE's "Ġ" pieces: a space before a character folds into one id (the
     * character's + 50, mod 100), except before 'z', where the space is an id of its own (99), and " zz", which is
     * one id ({@code zz}).
     */
    static final class SpacedTokenizer implements org.transformer4j.model.tokenizer.Tokenizer {
        final int zz;
        SpacedTokenizer(int zz) { this.zz = zz; }
        @Override public String decode(int[] ids, boolean skip) { return TOK.decode(ids, skip); }
        @Override public Map<String, Integer> specialTokens() { return Map.of(); }
        @Override public String name() { return "spaced chars"; }
        @Override public void close() {}
        @Override public int[] encode(String text, boolean special) {
            List<Integer> ids = new java.util.ArrayList<>();
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                if (text.startsWith(" zz", i)) { ids.add(zz); i += 2; }
                else if (c == ' ' && i + 1 < text.length() && text.charAt(i + 1) != 'z') ids.add((text.charAt(++i) - 0x21 + 50) % 100);
                else if (c == ' ') ids.add(99);
                else ids.add(c - 0x21);
            }
            return ids.stream().mapToInt(Integer::intValue).toArray();
        }
    }

    /**
     * vLLM's update_from_tokenizer: each word left-stripped and tokenized bare, then after a space, the second kept only
     * where its first id differs and its length is the bare one's ("ab" → [a, b] and [a', b]; "zq" → [z, q] only, the
     * spaced form being one id longer; "zz" → [z, z] only, the spaced form one id shorter); the text equals Generator alone with exactly those id sequences, and the spaced
     * form is what bans the token the model would choose.
     */
    @Test
    void eachWordIsTokenizedBareAndAfterASpaceAsVllmDoes() throws Exception {
        int[] p = TOK.encode(PROMPT);
        int first = new Generator(model).generate(p, Generator.Options.greedy(1), null)[0];
        SpacedTokenizer tok = new SpacedTokenizer(first);
        try (OpenAiServer s = OpenAiServer.decoder("tiny", engine, tok, ServerTest.TEMPLATE, OpenAiServer.Limits.defaults())) {
            String url = "http://127.0.0.1:" + s.start("127.0.0.1", 0);
            int bare = (first + 50) % 100;                           // a word whose spaced form is the model's first token
            String word = String.valueOf((char) (0x21 + bare));
            List<List<Integer>> expected = List.of(List.of(bare), List.of(first), List.of(25, 16), List.of(75, 16),
                    List.of('z' - 0x21, 'q' - 0x21));
            String words = "[\"  " + word + "\", \"" + (char) (0x21 + 25) + (char) (0x21 + 16) + "\", \"zq\"]";
            for (boolean stream : new boolean[] {false, true}) {
                String got = SamplingFieldsTest.complete(url, "\"max_tokens\": 24, \"temperature\": 0, \"bad_words\": " + words, stream);
                assertEquals(TOK.decode(new Generator(model).generate(p, Generator.Options.greedy(24).outputBadWordsIds(expected), null)), got);
                assertNotEquals(first, got.charAt(0) - 0x21, "the spaced form [" + first + "] is banned");
            }
            // "zz" → [z, z]; " zz" → [first], one id shorter: not a bad word, so the first token stays
            String zz = SamplingFieldsTest.complete(url, "\"max_tokens\": 24, \"temperature\": 0, \"bad_words\": [\"zz\"]", false);
            assertEquals(TOK.decode(new Generator(model).generate(p, Generator.Options.greedy(24)
                    .outputBadWordsIds(List.of(List.of('z' - 0x21, 'z' - 0x21))), null)), zz);
            assertEquals(first, zz.charAt(0) - 0x21, "a spaced form of another length is not kept");
        }
    }

    @Test
    void eachBadValueGets400NamingItsField() throws Exception {
        String[][] cases = {
            {"bad_words", "\"abc\""}, {"bad_words", "[1]"}, {"bad_words", "[\"   \"]"}, {"bad_words", "[\"\"]"}, {"bad_words", "[\"a b\"]"},
            {"allowed_token_ids", "[]"}, {"allowed_token_ids", "[100]"}, {"allowed_token_ids", "[-1]"}, {"allowed_token_ids", "[\"5\"]"},
            {"allowed_token_ids", "5"}, {"allowed_token_ids", "[1.5]"},
        };
        for (String[] c : cases) {
            for (String path : new String[] {"/v1/completions", "/v1/chat/completions"}) {
                String input = path.contains("chat") ? "\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]" : "\"prompt\": \"abc\"";
                HttpResponse<String> r = SamplingFieldsTest.post(base, path, "{\"model\": \"tiny\", " + input + ", \"" + c[0] + "\": " + c[1] + "}");
                assertEquals(400, r.statusCode(), c[0] + " " + c[1] + ": " + r.body());
                JsonNode err = SamplingFieldsTest.JSON.readTree(r.body()).path("error");
                assertEquals(c[0], err.path("param").asText(), r.body());
                assertTrue(err.path("message").asText().contains(c[0]), r.body());
            }
        }
        HttpResponse<String> r = SamplingFieldsTest.post(base, "/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"abc\", \"allowed_token_ids\": [99]}");
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(SamplingFieldsTest.JSON.readTree(SamplingFieldsTest.post(base, "/v1/completions",
                "{\"model\": \"tiny\", \"prompt\": \"abc\", \"allowed_token_ids\": [100]}").body()).path("error").path("message").asText()
                .startsWith("allowed_token_ids contains out-of-vocab token id!"), "vLLM's words");
    }
}
