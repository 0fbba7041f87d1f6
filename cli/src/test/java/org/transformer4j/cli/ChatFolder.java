// ChatFolder — a GPT-2-shaped random model folder that chats: config.json + model.safetensors (Gpt2Folder's
// layout) with a small word-level tokenizer.json (ChatML's <|im_start|>/<|im_end|> as special added tokens)
// and a tokenizer_config.json carrying a ChatML chat template, as Qwen's folders do.
package org.transformer4j.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

final class ChatFolder {

    static final String[] WORDS = {"[UNK]", "user", "assistant", "system", "hello", "how", "are", "you", "hi", "again",
            "the", "a", "cat", "dog", "sat", "on", "mat", "is", "good", "bad", "yes", "no", "what", "why", "!", "?", ".", ",",
            "be", "brief", "one", "two", "three", "red", "blue", "green", "sun", "moon", "tea", "cake"};
    static final int IM_START = WORDS.length, IM_END = WORDS.length + 1, V = WORDS.length + 2;
    static final int POSITIONS = 256;
    static final String TEMPLATE = "{% for message in messages %}{{ '<|im_start|>' + message.role + '\\n' + message.content | trim "
            + "+ '<|im_end|>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    private ChatFolder() {}

    static Path write(Path dir, long seed) throws IOException {
        Gpt2Folder.write(dir, seed, V, POSITIONS);
        List<String> vocab = new ArrayList<>();
        for (int i = 0; i < WORDS.length; i++) vocab.add("\"" + WORDS[i] + "\": " + i);
        String added = "{\"id\": %d, \"content\": \"%s\", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": true}";
        Files.writeString(dir.resolve("tokenizer.json"), "{\"version\": \"1.0\", \"truncation\": null, \"padding\": null, \"added_tokens\": ["
                + String.format(added, IM_START, "<|im_start|>") + ", " + String.format(added, IM_END, "<|im_end|>") + "], "
                + "\"normalizer\": {\"type\": \"Lowercase\"}, \"pre_tokenizer\": {\"type\": \"Whitespace\"}, \"post_processor\": null, \"decoder\": null, "
                + "\"model\": {\"type\": \"WordLevel\", \"vocab\": {" + String.join(", ", vocab) + "}, \"unk_token\": \"[UNK]\"}}");
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"bos_token\": null, \"eos_token\": \"<|im_end|>\", \"pad_token\": null, "
                + "\"add_bos_token\": false, \"chat_template\": " + new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(TEMPLATE) + "}");
        Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": [" + IM_END + "], \"do_sample\": false, \"max_new_tokens\": 5}");
        return dir;
    }
}
