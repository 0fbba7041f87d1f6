// ChatFolder — a GPT-2-shaped random model folder that chats: config.json + model.safetensors (Gpt2Folder's
// layout) with a small word-level tokenizer.json (ChatML's <|im_start|>/<|im_end|> as special added tokens)
// and a tokenizer_config.json carrying a ChatML chat template, as Qwen's folders do.
package org.transformer4j.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.transformer4j.model.TestFolders;

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
        writeTokenizer(dir, V);
        return dir;
    }

    /**
     * A RoPE decoder from the float64 reference harness (the model test-jar's reference/NAME, {@link TestFolders}: its
     * config.json and model.safetensors, e.g. "llama", "qwen3", "mistral") made to chat with the same files as
     * {@link #write}: WORDS padded with "w40", "w41", … to the model's vocabulary, ChatML's two tokens last.
     */
    static Path decoder(Path dir, String name) throws Exception {
        Path src = TestFolders.fixture(name);
        Files.createDirectories(dir);
        Files.copy(src.resolve("config.json"), dir.resolve("config.json"));
        Files.copy(src.resolve("model.safetensors"), dir.resolve("model.safetensors"));
        writeTokenizer(dir, vocabSize(dir));
        return dir;
    }

    /**
     * The folder's tokenizer given a post-processor that puts {@code <|im_start|>} before every sequence (TemplateProcessing,
     * as Llama 3's tokenizer.json puts its BOS): what add_special_tokens adds.
     */
    static Path withBosProcessor(Path dir) throws IOException {
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        var root = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(dir.resolve("tokenizer.json").toFile());
        int imStart = vocabSize(dir) - 2;
        root.set("post_processor", json.readTree("{\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\": \"<|im_start|>\", "
                + "\"type_id\": 0}}, {\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}], \"pair\": [{\"SpecialToken\": {\"id\": \"<|im_start|>\", "
                + "\"type_id\": 0}}, {\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}, {\"Sequence\": {\"id\": \"B\", \"type_id\": 1}}], "
                + "\"special_tokens\": {\"<|im_start|>\": {\"id\": \"<|im_start|>\", \"ids\": [" + imStart + "], \"tokens\": [\"<|im_start|>\"]}}}"));
        Files.writeString(dir.resolve("tokenizer.json"), json.writeValueAsString(root));
        return dir;
    }

    static int vocabSize(Path dir) throws IOException {
        return new com.fasterxml.jackson.databind.ObjectMapper().readTree(dir.resolve("config.json").toFile()).get("vocab_size").asInt();
    }

    /** ChatML's end token in a folder of vocabulary v. */
    static int imEnd(int v) { return v - 1; }

    private static void writeTokenizer(Path dir, int v) throws IOException {
        int imStart = v - 2, imEnd = v - 1;
        List<String> vocab = new ArrayList<>();
        for (int i = 0; i < imStart; i++) vocab.add("\"" + (i < WORDS.length ? WORDS[i] : "w" + i) + "\": " + i);
        String added = "{\"id\": %d, \"content\": \"%s\", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": true}";
        Files.writeString(dir.resolve("tokenizer.json"), "{\"version\": \"1.0\", \"truncation\": null, \"padding\": null, \"added_tokens\": ["
                + String.format(added, imStart, "<|im_start|>") + ", " + String.format(added, imEnd, "<|im_end|>") + "], "
                + "\"normalizer\": {\"type\": \"Lowercase\"}, \"pre_tokenizer\": {\"type\": \"Whitespace\"}, \"post_processor\": null, \"decoder\": null, "
                + "\"model\": {\"type\": \"WordLevel\", \"vocab\": {" + String.join(", ", vocab) + "}, \"unk_token\": \"[UNK]\"}}");
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"bos_token\": null, \"eos_token\": \"<|im_end|>\", \"pad_token\": null, "
                + "\"add_bos_token\": false, \"chat_template\": " + new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(TEMPLATE) + "}");
        Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": [" + imEnd + "], \"do_sample\": false, \"max_new_tokens\": 5}");
    }
}
