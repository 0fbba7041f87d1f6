// BeamSearchServerTest — vLLM's use_beam_search on /v1/completions and /v1/chat/completions, on ServerTest's tiny
// random decoder with an EOS id that certainly ends a beam: the n choices are BeamSearchOnline's best n beams run on
// their own (whose beams BeamSearchOnlineTest checks against vLLM's algorithm), best first, with their texts, finish
// reasons, stop reasons and token ids; usage counts each beam's token ids; n > 1 at temperature 0 is allowed (n is the
// beam width); a chat stream carries the beams once known, a completion's stream flag is ignored (vLLM's two servings);
// what beam search does not do here is a 400 naming the field.
package org.transformer4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.transformer4j.model.engine.BeamSearchOnline;
import org.transformer4j.model.engine.Logprobs;

class BeamSearchServerTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static OpenAiServer beams;
    static String base;
    static int eos;

    @BeforeAll
    static void setUp() {
        ServerTest.setUp();
        // the EOS: the third most likely token after "hello", so a beam ends on it at the first step
        float[][] rows = ServerTest.model.logits(new int[][] {ServerTest.TOK.encode("hello")})[0];
        eos = Logprobs.top(Logprobs.logSoftmax(rows[rows.length - 1]), 3)[2];
        beams = OpenAiServer.decoder("tiny", ServerTest.engine, ServerTest.TOK, ServerTest.TEMPLATE, OpenAiServer.Limits.defaults(), Set.of(eos));
        base = "http://127.0.0.1:" + beams.start("127.0.0.1", 0);
    }

    @AfterAll
    static void tearDown() {
        if (beams != null) beams.close();
        ServerTest.tearDown();
    }

    static HttpResponse<String> post(String path, String body) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode ok(String path, String body) throws Exception {
        HttpResponse<String> r = post(path, body);
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    /** The search run on its own through the engine, as the server should run it. */
    static List<BeamSearchOnline.Beam> direct(int[] prompt, BeamSearchOnline.Params p) throws Exception {
        return BeamSearchOnline.run(ServerTest.engine, prompt, p, null, null, System.nanoTime() + TimeUnit.SECONDS.toNanos(60)).beams();
    }

    static void sameChoices(JsonNode choices, int from, List<BeamSearchOnline.Beam> want, boolean chat, String what) {
        for (int i = 0; i < want.size(); i++) {
            JsonNode c = choices.get(from + i);
            BeamSearchOnline.Beam w = want.get(i);
            assertEquals(from + i, c.get("index").asInt(), what);
            String text = chat ? c.path("message").path("content").asText() : c.get("text").asText();
            assertEquals(ServerTest.TOK.decode(w.textTokens()), text, what + ": choice " + i + "'s text");
            assertEquals(w.stopped() ? "stop" : "length", c.get("finish_reason").asText(), what + ": choice " + i);
            if (w.stopped()) assertEquals(eos, c.get("stop_reason").asInt(), what + ": vLLM's beam search names the EOS");
            else assertTrue(c.get("stop_reason").isNull(), what + ": " + c);
        }
    }

    @Test
    void completionsAnswerTheBestBeamsWithTheirTextsAndUsage() throws Exception {
        int[] hello = ServerTest.TOK.encode("hello");
        List<BeamSearchOnline.Beam> want = direct(hello, new BeamSearchOnline.Params(3, 6, false, 1.0, false, eos));
        assertTrue(want.stream().anyMatch(BeamSearchOnline.Beam::stopped), "a beam the EOS ended ranks among the best");
        JsonNode r = ok("/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"hello\", \"max_tokens\": 6, \"n\": 3, \"temperature\": 0,"
                + " \"use_beam_search\": true, \"return_token_ids\": true}");
        assertEquals("text_completion", r.get("object").asText());
        assertEquals(3, r.get("choices").size());
        sameChoices(r.get("choices"), 0, want, false, "completions");
        int tokens = want.stream().mapToInt(b -> b.tokens().length).sum();
        assertEquals(tokens, r.path("usage").path("completion_tokens").asInt());
        assertEquals(hello.length, r.path("usage").path("prompt_tokens").asInt());
        for (int i = 0; i < 3; i++) {
            JsonNode ids = r.get("choices").get(i).get("token_ids");
            assertEquals(want.get(i).tokens().length, ids.size(), "choice " + i + "'s token_ids");
            for (int k = 0; k < ids.size(); k++) assertEquals(want.get(i).tokens()[k], ids.get(k).asInt());
        }

        // the EOS kept in token_ids, not in the text
        List<BeamSearchOnline.Beam> kept = direct(hello, new BeamSearchOnline.Params(3, 6, false, 1.0, true, eos));
        assertTrue(kept.stream().anyMatch(BeamSearchOnline.Beam::stopped));
        JsonNode k = ok("/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"hello\", \"max_tokens\": 6, \"n\": 3, \"use_beam_search\": true,"
                + " \"include_stop_str_in_output\": true, \"return_token_ids\": true}");
        sameChoices(k.get("choices"), 0, kept, false, "include_stop_str_in_output");
        assertEquals(kept.stream().mapToInt(b -> b.tokens().length).sum(), k.path("usage").path("completion_tokens").asInt());
        for (int i = 0; i < kept.size(); i++) {
            if (kept.get(i).stopped()) {
                JsonNode ids = k.get("choices").get(i).get("token_ids");
                assertEquals(eos, ids.get(ids.size() - 1).asInt(), "a stopped beam's token_ids end with the EOS");
            }
        }

        // length_penalty 2 ranks longer beams higher
        JsonNode lp = ok("/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"hello\", \"max_tokens\": 6, \"n\": 3, \"use_beam_search\": true,"
                + " \"length_penalty\": 2.0}");
        sameChoices(lp.get("choices"), 0, direct(hello, new BeamSearchOnline.Params(3, 6, false, 2.0, false, eos)), false, "length_penalty 2");

        // two prompts: each its n beams, indexes running on
        JsonNode two = ok("/v1/completions", "{\"model\": \"tiny\", \"prompt\": [\"hello\", \"abc\"], \"max_tokens\": 4, \"n\": 2,"
                + " \"use_beam_search\": true, \"ignore_eos\": true}");
        assertEquals(4, two.get("choices").size());
        sameChoices(two.get("choices"), 0, direct(hello, new BeamSearchOnline.Params(2, 4, true, 1.0, false, eos)), false, "prompt 0");
        sameChoices(two.get("choices"), 2, direct(ServerTest.TOK.encode("abc"), new BeamSearchOnline.Params(2, 4, true, 1.0, false, eos)),
                false, "prompt 1");
        for (JsonNode c : two.get("choices")) assertEquals("length", c.get("finish_reason").asText(), "ignore_eos: every beam to max_tokens");
    }

    @Test
    void chatCompletionsAnswerTheBestBeamsAsMessages() throws Exception {
        String body = "{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": 5, \"n\": 2,"
                + " \"use_beam_search\": true}";
        int[] prompt = ServerTest.TOK.encode("user|hi|assistant|");
        List<BeamSearchOnline.Beam> want = direct(prompt, new BeamSearchOnline.Params(2, 5, false, 1.0, false, eos));
        JsonNode r = ok("/v1/chat/completions", body);
        assertEquals("chat.completion", r.get("object").asText());
        assertEquals(2, r.get("choices").size());
        sameChoices(r.get("choices"), 0, want, true, "chat");
        assertEquals("assistant", r.get("choices").get(0).path("message").path("role").asText());

        // streamed, as vLLM streams a beam search's chat reply once it is known: each choice's role, text and end
        HttpResponse<String> s = post("/v1/chat/completions", body.replace("}]", "}], \"stream\": true, \"stream_options\": {\"include_usage\": true}"));
        assertEquals(200, s.statusCode(), s.body());
        assertTrue(s.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
        String[] text = {"", ""};
        String[] finish = new String[2];
        JsonNode usage = null;
        List<String> lines = s.body().lines().filter(l -> l.startsWith("data: ")).toList();
        assertEquals("data: [DONE]", lines.get(lines.size() - 1));
        for (String l : lines.subList(0, lines.size() - 1)) {
            JsonNode c = JSON.readTree(l.substring(6));
            if (c.has("usage") && !c.get("usage").isNull()) usage = c.get("usage");
            for (JsonNode ch : c.get("choices")) {
                int i = ch.get("index").asInt();
                text[i] += ch.path("delta").path("content").asText("");
                if (!ch.get("finish_reason").isNull()) finish[i] = ch.get("finish_reason").asText();
            }
        }
        for (int i = 0; i < 2; i++) {
            assertEquals(ServerTest.TOK.decode(want.get(i).textTokens()), text[i], "streamed choice " + i);
            assertEquals(want.get(i).stopped() ? "stop" : "length", finish[i]);
        }
        assertEquals(want.stream().mapToInt(b -> b.tokens().length).sum(), usage.get("completion_tokens").asInt());
    }

    /** vLLM does not stream a completion's beams: stream is ignored and the whole reply comes as JSON. */
    @Test
    void aStreamedCompletionsBeamSearchAnswersWhole() throws Exception {
        HttpResponse<String> r = post("/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"hello\", \"max_tokens\": 5, \"n\": 2,"
                + " \"use_beam_search\": true, \"stream\": true}");
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"), r.headers().toString());
        sameChoices(JSON.readTree(r.body()).get("choices"), 0, direct(ServerTest.TOK.encode("hello"),
                new BeamSearchOnline.Params(2, 5, false, 1.0, false, eos)), false, "stream ignored");
    }

    @Test
    void whatBeamSearchDoesNotDoIsRefusedByName() throws Exception {
        String head = "{\"model\": \"tiny\", \"prompt\": \"hello\", \"max_tokens\": 4, \"use_beam_search\": true, ";
        String[][] cases = {
                {"\"n\": 2, \"logprobs\": 2}", "logprobs"},
                {"\"n\": 2, \"echo\": true}", "echo"},
                {"\"n\": 11}", "Requested sample logprobs of 22, which is greater than max of 20"},
                {"\"n\": 2, \"length_penalty\": \"long\"}", "length_penalty"},
                {"\"n\": 2, \"response_format\": {\"type\": \"json_object\"}}", "structured outputs"},
        };
        for (String[] c : cases) {
            HttpResponse<String> r = post("/v1/completions", head + c[0]);
            assertEquals(400, r.statusCode(), c[0] + ": " + r.body());
            assertTrue(r.body().contains(c[1]), c[0] + ": " + r.body());
        }
        // without use_beam_search, n > 1 at temperature 0 is still vLLM's error
        HttpResponse<String> greedy = post("/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"hello\", \"max_tokens\": 4, \"n\": 2, \"temperature\": 0}");
        assertEquals(400, greedy.statusCode());
        assertTrue(greedy.body().contains("greedy"), greedy.body());
    }
}
