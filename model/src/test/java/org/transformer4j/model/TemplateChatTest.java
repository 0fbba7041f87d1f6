// TemplateChatTest — TemplateChat over a tiny decoder-only model and a word-level tokenizer.json with ChatML
// tokens: with a template whose renders extend each other, later turns encode only the new tokens and every reply
// equals generating from the whole conversation rendered and encoded afresh; with a template that rewrites
// earlier turns, the chat re-encodes, says why, and still replies as the fresh render would.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.model.chat.ChatTemplate;
import org.transformer4j.model.chat.Message;
import org.transformer4j.model.chat.TemplateChat;
import org.transformer4j.model.tokenizer.HfTokenizer;
import org.transformer4j.runtime.CpuBackend;

class TemplateChatTest {

    static final String[] WORDS = {"[UNK]", "user", "assistant", "hello", "how", "are", "you", "the", "cat", "sat", "on", "mat",
            "why", "is", "sun", "red", "?", "!", ".", "tea", "cake", "one", "two", "three"};
    static final int IM_START = WORDS.length, IM_END = WORDS.length + 1;
    static final String CHATML = "{% for m in messages %}{{ '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
    static final String LAST_ONLY = "{{ '<|im_start|>user\\n' + messages[-1].content + '<|im_end|>\\n<|im_start|>assistant\\n' }}";

    static HfTokenizer tokenizer(Path dir) throws Exception {
        List<String> vocab = new ArrayList<>();
        for (int i = 0; i < WORDS.length; i++) vocab.add("\"" + WORDS[i] + "\": " + i);
        String added = "{\"id\": %d, \"content\": \"%s\", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": true}";
        Path f = dir.resolve("tokenizer.json");
        Files.writeString(f, "{\"version\": \"1.0\", \"added_tokens\": [" + String.format(added, IM_START, "<|im_start|>") + ", "
                + String.format(added, IM_END, "<|im_end|>") + "], \"normalizer\": null, \"pre_tokenizer\": {\"type\": \"Whitespace\"}, "
                + "\"post_processor\": null, \"decoder\": null, \"model\": {\"type\": \"WordLevel\", \"vocab\": {" + String.join(", ", vocab)
                + "}, \"unk_token\": \"[UNK]\"}}");
        return HfTokenizer.load(f);
    }

    static void chat(Path dir, String templateSource, boolean extends_) throws Exception {
        CpuBackend cpu = new CpuBackend();
        TransformerConfig c = Tiny.decoderOnly(Tiny.encDec().vocabSize(WORDS.length + 2).build(), false);
        try (Weights w = Weights.random(c, cpu, 5); HfTokenizer tok = tokenizer(dir)) {
            Transformer m = new Transformer(w, cpu);
            ChatTemplate template = ChatTemplate.of(templateSource, Map.of(), "test");
            Generator.Options o = Generator.Options.greedy(4).stopIds(Set.of(IM_END));
            String[] user = {"hello how are you ?", "why is the sun red ?", "one two three !"};
            List<Message> conversation = new ArrayList<>();
            try (TemplateChat chat = new TemplateChat(m, tok, template, o, 150, null, Map.of())) {
                for (int turn = 0; turn < user.length; turn++) {
                    conversation.add(Message.user(user[turn]));
                    int[] full = tok.encode(template.render(conversation, true, Map.of()), false);
                    int[] want = new Generator(m).generate(full, o, null);
                    List<Integer> streamed = new ArrayList<>();
                    TemplateChat.Turn t = chat.send(user[turn], (seq, token) -> streamed.add(token));
                    assertArrayEquals(want, t.replyIds(), "turn " + turn);
                    assertEquals(Arrays.stream(want).boxed().toList(), streamed, "streamed tokens, turn " + turn);
                    int[] text = want[want.length - 1] == IM_END ? Arrays.copyOf(want, want.length - 1) : want;
                    assertEquals(tok.decode(text, false), t.reply());
                    conversation.add(Message.assistant(t.reply()));
                    if (turn == 0 || extends_) {
                        assertNull(t.reencodedBecause(), "turn " + turn);
                    } else {
                        assertNotNull(t.reencodedBecause(), "turn " + turn + " cannot extend the tokens held");
                        assertTrue(t.reencodedBecause().contains("do not extend"), t.reencodedBecause());
                    }
                    if (turn > 0 && extends_) {
                        assertTrue(t.tokensEncoded() < full.length, "turn " + turn + " encoded " + t.tokensEncoded() + " of " + full.length);
                    }
                }
                assertEquals(conversation, chat.messages());
            }
        }
    }

    @Test
    void rendersThatExtendEachOtherEncodeOnlyNewTokens(@TempDir Path dir) throws Exception {
        chat(dir, CHATML, true);
    }

    @Test
    void aTemplateThatRewritesEarlierTurnsReencodesAndSaysSo(@TempDir Path dir) throws Exception {
        chat(dir, LAST_ONLY, false);
    }
}
