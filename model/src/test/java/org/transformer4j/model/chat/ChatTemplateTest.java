// ChatTemplateTest — the gaps ChatTemplate fills on top of Jinjava, each against outside truth: Python's own
// str-method results (ci/chat-reference/python_str_methods.py), Python's json.dumps layout for tojson, Jinja's
// raise_exception / step slices / keyword arguments; and the config records' errors, which name the file.
package org.transformer4j.model.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.model.GenerationConfig;
import org.transformer4j.model.Generator;
import org.transformer4j.model.tokenizer.TokenizerConfig;
import org.transformer4j.model.tokenizer.TokenizerFormatException;
import org.transformer4j.model.weights.CheckpointException;

class ChatTemplateTest {

    static final ObjectMapper JSON = new ObjectMapper();

    static String render(String template, Map<String, Object> vars) {
        return ChatTemplate.of(template, vars, "test").render(List.of(Message.user("hi")), false, Map.of());
    }

    @Test
    void stringMethodsGivePythonsResults() throws Exception {
        JsonNode cases;
        try (InputStream in = getClass().getResourceAsStream("/chat/python-str-methods.json")) {
            cases = JSON.readTree(in);
        }
        assertTrue(cases.size() >= 25);
        for (JsonNode c : cases) {
            Object[] args = JSON.convertValue(c.get(2), Object[].class);
            for (int i = 0; i < args.length; i++) if (args[i] instanceof Integer n) args[i] = n.longValue();   // Jinjava's integers
            Object got = PythonMethods.call(c.get(0).textValue(), c.get(1).textValue(), args);
            Object want = JSON.convertValue(c.get(3), Object.class);
            if (want instanceof Integer n) want = n.longValue();
            assertEquals(want, got, c.toString());
        }
    }

    @Test
    void methodsRunInsideTemplatesWithPythonSemantics() {
        assertEquals("b||c|A.B|True", render("{{ 'a.b'.split('.')[-1] }}|{{ 'x,'.split(',')[-1] }}|{{ 'c\\n\\n'.rstrip('\\n') }}|"
                + "{{ 'a.b'.upper() }}|{{ 'ab'.startswith(('x', 'a')) }}", Map.of()).replace("true", "True"));
        assertEquals("k=1;", render("{% for k, v in {'k': 1}.items() %}{{ k }}={{ v }};{% endfor %}", Map.of()));
        assertEquals("d", render("{{ {'a': 1}.get('b', 'd') }}", Map.of()));
    }

    @Test
    void stepSlicesAndKeywordArgumentsAsJinjaReadsThem() {
        assertEquals("cba|ac|3", render("{{ 'abc'[::-1] }}|{{ ['a','b','c'][::2]|join('') }}|"
                + "{% set ns = namespace(n=[1, 2, 3, 4]|length - 1) %}{{ ns.n }}", Map.of()));
        assertEquals("x=(1) [::-1]", render("{{ 'x=(1) [::-1]' }}", Map.of()), "string literals are left alone");
        assertEquals("user", ChatTemplate.of("{% for m in messages[::-1] %}{{ m.role }}{% endfor %}", Map.of(), "t")
                .render(List.of(Message.user("a")), false));
    }

    @Test
    void tojsonPrintsPythonsJsonDumpsLayout() {
        Map<String, Object> tool = new java.util.LinkedHashMap<>();
        tool.put("name", "f");
        tool.put("args", List.of(1, 2.5, true, "é\"\n"));
        tool.put("none", null);
        assertEquals("{\"name\": \"f\", \"args\": [1, 2.5, true, \"é\\\"\\n\"], \"none\": null}", render("{{ t|tojson }}", Map.of("t", tool)));
        assertEquals("{\n  \"a\": [\n    1\n  ]\n}", render("{{ t|tojson(indent=2) }}", Map.of("t", Map.of("a", List.of(1)))));
    }

    /** Python 3.11's json.dumps of these values (repr of floats; ensure_ascii's escapes, a surrogate pair as two). */
    @Test
    void pythonJsonWritesFloatsAndAsciiAsPythonDoes() {
        double[] xs = {3.5, 1e16, 1e15, 0.0001, 0.00001, 12345678.5, 1e-7, -2.5e-5, 1.5e300, 100000.0, 0.1 + 0.2, -0.0, 1e22, 123456789012345678.0};
        String[] py = {"3.5", "1e+16", "1000000000000000.0", "0.0001", "1e-05", "12345678.5", "1e-07", "-2.5e-05", "1.5e+300", "100000.0",
            "0.30000000000000004", "-0.0", "1e+22", "1.2345678901234568e+17"};
        for (int i = 0; i < xs.length; i++) assertEquals(py[i], PythonJson.dumps(xs[i]), "repr of " + xs[i]);
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("city", "Zürich");
        m.put("x", "\u007f");
        m.put("e", "😀");
        assertEquals("{\"city\": \"Z\\u00fcrich\", \"x\": \"\\u007f\", \"e\": \"\\ud83d\\ude00\"}", PythonJson.dumpsAscii(m));
        assertEquals("{\"city\": \"Zürich\", \"x\": \"\u007f\", \"e\": \"😀\"}", PythonJson.dumps(m));
    }

    @Test
    void raiseExceptionCarriesTheTemplatesMessage() {
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> render("{% if messages|length < 2 %}{{ raise_exception('need two, got ' ~ messages|length) }}{% endif %}", Map.of()));
        assertTrue(e.raisedByTemplate());
        assertEquals("need two, got 1", e.getMessage());
        ChatTemplateException bad = assertThrows(ChatTemplateException.class, () -> render("{{ 'a'.nosuchmethod() }}", Map.of()));
        assertFalse(bad.raisedByTemplate());
        assertTrue(bad.getMessage().startsWith("test: "), bad.getMessage());
    }

    @Test
    void messageTextIsNotInterpretedAndTrailingNewlineIsJinjas() {
        assertEquals("{{ 1 + 1 }} {% if %}", ChatTemplate.of("{{ messages[0].content }}\n", Map.of(), "t")
                .render(List.of(Message.user("{{ 1 + 1 }} {% if %}")), false));
        assertEquals("a\n", ChatTemplate.of("{{ 'a\\n' }}\n", Map.of(), "t").render(List.of(), false));
    }

    @Test
    void strftimeFollowsPython() {
        ZonedDateTime t = ZonedDateTime.of(2026, 3, 5, 14, 7, 9, 0, ZoneOffset.UTC);
        assertEquals("05 Mar 2026 14:07:09 Thursday %", ChatTemplate.strftime(t, "%d %b %Y %H:%M:%S %A %%"));
        assertTrue(render("{{ strftime_now('%Y') }}", Map.of()).matches("\\d{4}"));
    }

    @Test
    void configFilesAreReadAndBadOnesNamed(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"bos_token\": {\"content\": \"<s>\", \"__type\": \"AddedToken\"}, "
                + "\"eos_token\": \"</s>\", \"add_bos_token\": true, \"added_tokens_decoder\": {\"1\": {\"content\": \"<s>\", \"special\": true}}, "
                + "\"chat_template\": [{\"name\": \"default\", \"template\": \"{{ bos_token }}\"}, {\"name\": \"tool_use\", \"template\": \"T\"}]}");
        TokenizerConfig c = TokenizerConfig.read(dir);
        assertEquals("<s>", c.bosToken());
        assertEquals(Boolean.TRUE, c.addBosToken());
        assertEquals(new TokenizerConfig.AddedToken("<s>", true), c.addedTokensDecoder().get(1));
        assertEquals("<s>", c.template().orElseThrow().render(List.of(), false));
        assertEquals("T", c.template("tool_use").render(List.of(), false));
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": 3}");
        TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> TokenizerConfig.read(dir));
        assertEquals(dir.resolve("tokenizer_config.json") + ": chat_template is neither a string nor a list of named templates", e.getMessage());

        Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": [128001, 128009], \"bos_token_id\": 128000, "
                + "\"do_sample\": true, \"temperature\": 0.6, \"top_p\": 0.9}");
        GenerationConfig g = GenerationConfig.read(dir);
        assertEquals(List.of(128001, 128009), List.copyOf(g.eosTokenIds()));
        Generator.Options o = g.options(32, 1);
        assertEquals(0.6f, o.temperature());
        assertEquals(50, o.topK(), "transformers' default top_k");
        assertEquals(0.9f, o.topP());
        assertEquals(java.util.Set.of(128001, 128009), o.stopIds());
        assertEquals(32, o.maxNewTokens());
        assertEquals(0f, GenerationConfig.read(write(dir, "{\"eos_token_id\": 2}")).options(8, 0).temperature(), "greedy without do_sample");
        CheckpointException x = assertThrows(CheckpointException.class, () -> GenerationConfig.read(write(dir, "{\"eos_token_id\": \"2\"}")));
        assertEquals(dir.resolve("generation_config.json") + ": eos_token_id must be a token id (an integer ≥ 0) or a list of them, got \"2\"",
                x.getMessage());
    }

    private static Path write(Path dir, String json) throws Exception {
        Files.writeString(dir.resolve("generation_config.json"), json);
        return dir;
    }

    /**
     * transformers' continue_final_message: the render without a generation prompt, cut after the final message's
     * stripped text (the last occurrence; content parts: the last with text); refused where there is no text or the
     * template does not write the final message out.
     */
    @Test
    void continuingTheFinalMessageCutsTheRenderAfterItsText() {
        ChatTemplate chatml = ChatTemplate.of("{% for m in messages %}{{ '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}{% endfor %}"
                + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}", Map.of(), "t");
        assertEquals("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nhi there",
                chatml.renderContinuing(List.of(Message.user("hi"), Message.assistant("hi there  ")), Map.of()), "stripped; the last occurrence");
        Message parts = new Message("assistant", List.of(Map.of("type", "text", "text", "one"), Map.of("type", "image")), Map.of());
        ChatTemplate firstPart = ChatTemplate.of("{% for m in messages %}[{{ m.role }}]{% if m.content is string %}{{ m.content }}"
                + "{% else %}{{ m.content[0].text }}{% endif %}[end]{% endfor %}", Map.of(), "t");
        assertEquals("[user]hi[end][assistant]one", firstPart.renderContinuing(List.of(Message.user("hi"), parts), Map.of()));
        var none = assertThrows(IllegalArgumentException.class, () -> firstPart.renderContinuing(
                List.of(new Message("assistant", List.of(Map.of("type", "image")), Map.of())), Map.of()));
        assertTrue(none.getMessage().contains("could not find any text"), none.getMessage());
        ChatTemplate dropsIt = ChatTemplate.of("{% for m in messages %}[{{ m.role }}]{% endfor %}", Map.of(), "t");
        var missing = assertThrows(IllegalArgumentException.class, () -> dropsIt.renderContinuing(List.of(Message.assistant("xyz")), Map.of()));
        assertTrue(missing.getMessage().contains("does not appear in the chat"), missing.getMessage());
    }
}
