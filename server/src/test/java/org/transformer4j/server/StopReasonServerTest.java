// StopReasonServerTest — how replies stop, as vLLM stops them, on ServerTest's tiny random decoder against the greedy
// reply run alone: stop_reason (the stop string that ended a reply, a stop_token_id, another end id of the model — vLLM
// adds generation_config's end ids to the stop ids —, null for the tokenizer's own EOS and at max_tokens; on whole replies,
// every completion chunk, a chat stream's finishing chunk only), the text held for a stop string that never completes
// (given at the end), ignore_eos and include_stop_str_in_output.
package org.transformer4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.transformer4j.model.Generator;

class StopReasonServerTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static OpenAiServer ends;
    static String base;
    static int[] greedy;            // "hello"'s greedy reply of 8 tokens, alone
    static int eos, other;          // the server's end ids: the tokenizer's EOS (first) and another

    @BeforeAll
    static void setUp() {
        ServerTest.setUp();
        greedy = new Generator(ServerTest.model).generate(ServerTest.TOK.encode("hello"), Generator.Options.greedy(8), null);
        other = greedy[3];
        eos = 0;
        while (indexOf(greedy, eos) >= 0) eos++;                 // an EOS the reply never reaches
        LinkedHashSet<Integer> ids = new LinkedHashSet<>(List.of(eos, other));
        ends = OpenAiServer.decoder("tiny", ServerTest.engine, ServerTest.TOK, ServerTest.TEMPLATE, OpenAiServer.Limits.defaults(), ids);
        base = "http://127.0.0.1:" + ends.start("127.0.0.1", 0);
    }

    @AfterAll
    static void tearDown() {
        if (ends != null) ends.close();
        ServerTest.tearDown();
    }

    static int indexOf(int[] a, int x) {
        for (int i = 0; i < a.length; i++) if (a[i] == x) return i;
        return -1;
    }

    static HttpResponse<String> post(String base, String body, String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode choice(String base, String extra) throws Exception {
        HttpResponse<String> r = post(base, "{\"model\": \"tiny\", \"prompt\": \"hello\", \"max_tokens\": 8, \"temperature\": 0" + extra + "}", "/v1/completions");
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body()).get("choices").get(0);
    }

    @Test
    void wholeRepliesNameWhatStoppedThem() throws Exception {
        // the model's other end id (greedy[3]) comes first: it is the stop_reason; the tokenizer's EOS would be null
        JsonNode byOther = choice(base, "");
        assertEquals("stop", byOther.get("finish_reason").asText());
        assertEquals(other, byOther.get("stop_reason").asInt(), byOther.toString());
        assertEquals(ServerTest.TOK.decode(java.util.Arrays.copyOf(greedy, indexOf(greedy, other))), byOther.get("text").asText());
        // ServerTest's server has no end ids: a stop_token_id names itself; the tokenizer's EOS (here: none) is not involved
        JsonNode byId = choice(ServerTest.base, ", \"stop_token_ids\": [" + greedy[4] + "]");
        assertEquals(greedy[4], byId.get("stop_reason").asInt(), byId.toString());
        // a stop string: the string itself
        String stop = ServerTest.TOK.decode(new int[] {greedy[1], greedy[2]});
        JsonNode byString = choice(ServerTest.base, ", \"stop\": [\"zzzz\", " + JSON.writeValueAsString(stop) + "]");
        assertEquals("stop", byString.get("finish_reason").asText());
        assertEquals(stop, byString.get("stop_reason").asText(), byString.toString());
        // max_tokens: null, present
        JsonNode byLength = choice(ServerTest.base, "");
        assertEquals("length", byLength.get("finish_reason").asText());
        assertTrue(byLength.has("stop_reason") && byLength.get("stop_reason").isNull(), byLength.toString());
    }

    /** The tokenizer's EOS (the first end id without tokenizer_config.json): a stop with stop_reason null. */
    @Test
    void theTokenizersEosIsNoStopReason() throws Exception {
        OpenAiServer eosFirst = OpenAiServer.decoder("tiny", ServerTest.engine, ServerTest.TOK, null, OpenAiServer.Limits.defaults(),
                new LinkedHashSet<>(List.of(greedy[2])));
        try {
            JsonNode c = choice("http://127.0.0.1:" + eosFirst.start("127.0.0.1", 0), "");
            assertEquals("stop", c.get("finish_reason").asText());
            assertTrue(c.has("stop_reason") && c.get("stop_reason").isNull(), c.toString());
        } finally {
            eosFirst.close();
        }
    }

    static List<JsonNode> chunks(String path, String body) throws Exception {
        HttpResponse<String> r = post(base, body, path);
        assertEquals(200, r.statusCode(), r.body());
        List<JsonNode> out = new ArrayList<>();
        for (String line : r.body().split("\n")) {
            if (line.startsWith("data: ") && !line.equals("data: [DONE]")) out.add(JSON.readTree(line.substring(6)));
        }
        return out;
    }

    @Test
    void streamsCarryItAsVllmSerializesThem() throws Exception {
        List<JsonNode> cs = chunks("/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"hello\", \"max_tokens\": 8, \"temperature\": 0, \"stream\": true}");
        JsonNode last = cs.get(cs.size() - 1).get("choices").get(0);
        assertEquals(other, last.get("stop_reason").asInt(), last.toString());
        for (JsonNode c : cs.subList(0, cs.size() - 1)) {
            JsonNode ch = c.get("choices").get(0);
            assertTrue(ch.has("stop_reason") && ch.get("stop_reason").isNull(), "a completion chunk before the last: " + ch);
        }
        List<JsonNode> chat = chunks("/v1/chat/completions", "{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}],"
                + " \"max_tokens\": 8, \"temperature\": 0, \"stream\": true}");
        int finishing = 0;
        for (JsonNode c : chat) {
            JsonNode ch = c.get("choices").get(0);
            if (ch.get("finish_reason").isNull()) assertFalse(ch.has("stop_reason"), "a chat chunk that does not finish: " + ch);
            else {
                finishing++;
                assertTrue(ch.has("stop_reason"), ch.toString());
            }
        }
        assertEquals(1, finishing);
    }

    /**
     * A reply whose last characters begin a stop string that never completes: held back while it might (streamed), and
     * given at the end, as vLLM's detokenizer releases its stop buffer when the sequence finishes.
     */
    @Test
    void textHeldForAStopStringThatNeverCompletesIsGivenAtTheEnd() throws Exception {
        String whole = ServerTest.TOK.decode(greedy);
        String stop = whole.substring(whole.length() - 2) + "\u007f\u007f";     // begins with the reply's last two characters
        JsonNode c = choice(ServerTest.base, ", \"stop\": [" + JSON.writeValueAsString(stop) + "]");
        assertEquals("length", c.get("finish_reason").asText());
        assertEquals(whole, c.get("text").asText(), "the whole reply");
        List<JsonNode> cs = new ArrayList<>();
        HttpResponse<String> r = post(ServerTest.base, "{\"model\": \"tiny\", \"prompt\": \"hello\", \"max_tokens\": 8, \"temperature\": 0,"
                + " \"stream\": true, \"stop\": [" + JSON.writeValueAsString(stop) + "]}", "/v1/completions");
        StringBuilder streamed = new StringBuilder();
        for (String line : r.body().split("\n")) {
            if (line.startsWith("data: ") && !line.equals("data: [DONE]")) streamed.append(JSON.readTree(line.substring(6)).at("/choices/0/text").asText());
        }
        assertEquals(whole, streamed.toString(), "the streamed reply");
    }

    /**
     * vLLM's ignore_eos (neither the tokenizer's EOS nor the model's other end ids stop the reply; stop_token_ids still do)
     * and include_stop_str_in_output (the stop string, or a stop id's text, kept in the reply).
     */
    @Test
    void ignoreEosAndIncludeStopStrInOutput() throws Exception {
        String whole = ServerTest.TOK.decode(greedy);
        JsonNode ignored = choice(base, ", \"ignore_eos\": true");
        assertEquals("length", ignored.get("finish_reason").asText(), "the end id greedy[3] no longer stops it");
        assertEquals(whole, ignored.get("text").asText());
        JsonNode stillStops = choice(base, ", \"ignore_eos\": true, \"stop_token_ids\": [" + greedy[4] + "]");
        assertEquals(greedy[4], stillStops.get("stop_reason").asInt());

        String stop = ServerTest.TOK.decode(new int[] {greedy[1], greedy[2]});
        int at = whole.indexOf(stop);
        JsonNode kept = choice(ServerTest.base, ", \"stop\": " + JSON.writeValueAsString(stop) + ", \"include_stop_str_in_output\": true");
        assertEquals(whole.substring(0, at + stop.length()), kept.get("text").asText(), "the stop string kept");
        assertEquals(stop, kept.get("stop_reason").asText());
        JsonNode dropped = choice(ServerTest.base, ", \"stop\": " + JSON.writeValueAsString(stop));
        assertEquals(whole.substring(0, at), dropped.get("text").asText(), "the stop string dropped");

        int k = indexOf(greedy, greedy[4]);
        JsonNode idKept = choice(ServerTest.base, ", \"stop_token_ids\": [" + greedy[4] + "], \"include_stop_str_in_output\": true");
        assertEquals(ServerTest.TOK.decode(java.util.Arrays.copyOf(greedy, k + 1)), idKept.get("text").asText(), "the stop id's text kept");
        JsonNode idDropped = choice(ServerTest.base, ", \"stop_token_ids\": [" + greedy[4] + "]");
        assertEquals(ServerTest.TOK.decode(java.util.Arrays.copyOf(greedy, k)), idDropped.get("text").asText(), "the stop id's text dropped");
    }

    /** ServerTest's one-character tokenizer with one id marked special (decoded as its character unless skipped). */
    static ServerTest.CharTokenizer specialAt(int special) {
        return new ServerTest.CharTokenizer() {
            @Override public String decode(int[] ids, boolean skip) {
                return super.decode(skip ? java.util.Arrays.stream(ids).filter(i -> i != special).toArray() : ids, false);
            }
            @Override public java.util.Map<String, Integer> specialTokens() { return java.util.Map.of(super.decode(new int[] {special}, false), special); }
        };
    }

    /** vLLM's skip_special_tokens: special tokens are left out of the reply's text by default, kept with false. */
    @Test
    void specialTokensAreLeftOutOfTheTextUnlessAskedFor() throws Exception {
        int special = greedy[0];
        OpenAiServer s = OpenAiServer.decoder("tiny", ServerTest.engine, specialAt(special), ServerTest.TEMPLATE, OpenAiServer.Limits.defaults());
        try {
            String url = "http://127.0.0.1:" + s.start("127.0.0.1", 0);
            String all = ServerTest.TOK.decode(greedy), without = ServerTest.TOK.decode(java.util.Arrays.stream(greedy).filter(i -> i != special).toArray());
            assertTrue(!all.equals(without));
            assertEquals(without, choice(url, "").get("text").asText(), "skipped by default");
            assertEquals(all, choice(url, ", \"skip_special_tokens\": false").get("text").asText(), "kept when asked");
            assertEquals(without, choice(url, ", \"skip_special_tokens\": true").get("text").asText());
            HttpResponse<String> bad = post(url, "{\"model\": \"tiny\", \"prompt\": \"hello\", \"skip_special_tokens\": \"no\"}", "/v1/completions");
            assertEquals(400, bad.statusCode());
            assertTrue(bad.body().contains("skip_special_tokens"), bad.body());
        } finally {
            s.close();
        }
    }

    /**
     * Two stop strings completed by one token: the one listed first wins, wherever it begins, as vLLM's
     * check_stop_strings tries them in the request's order (before, the one that began earliest won).
     */
    @Test
    void whenTwoStopsCompleteTogetherTheOneListedFirstWins() throws Exception {
        String whole = ServerTest.TOK.decode(greedy);
        int i = 0;
        while (i + 1 < whole.length() && whole.indexOf(whole.charAt(i + 1)) != i + 1) i++;
        org.junit.jupiter.api.Assumptions.assumeTrue(i + 1 < whole.length(), "a character first seen right after another: " + whole);
        String pair = whole.substring(i, i + 2), single = whole.substring(i + 1, i + 2);    // both end with the token at i + 1
        JsonNode singleFirst = choice(ServerTest.base, ", \"stop\": [" + JSON.writeValueAsString(single) + ", " + JSON.writeValueAsString(pair) + "]");
        assertEquals(single, singleFirst.get("stop_reason").asText());
        assertEquals(whole.substring(0, i + 1), singleFirst.get("text").asText());
        JsonNode pairFirst = choice(ServerTest.base, ", \"stop\": [" + JSON.writeValueAsString(pair) + ", " + JSON.writeValueAsString(single) + "]");
        assertEquals(pair, pairFirst.get("stop_reason").asText());
        assertEquals(whole.substring(0, i), pairFirst.get("text").asText());
    }
}
