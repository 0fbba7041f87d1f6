// Tokenizers — picks the tokenizer of a Hugging Face model folder: its tokenizer.json when there
// is one, else the tiktoken encoding that matches its config.json (GPT-2 → r50k_base), else a
// TokenizerFormatException naming the folder and what was looked for.
package org.transformer4j.model.tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.HfConfig;

/** Entry points for tokenizers. */
public final class Tokenizers {

    private Tokenizers() {}

    /**
     * The tokenizer for the model in {@code folder}: tokenizer.json through DJL; without one, GPT-2
     * (config.json model_type "gpt2" with GPT-2's 50,257-token vocabulary) through JTokkit's r50k_base.
     */
    public static Tokenizer forModel(Path folder) throws IOException {
        Path json = folder.resolve("tokenizer.json");
        if (Files.isRegularFile(json)) return HfTokenizer.load(json);
        HfConfig config;
        try {
            config = HfConfig.read(folder);
        } catch (CheckpointException e) {
            throw new TokenizerFormatException(folder, "no tokenizer.json, and no usable config.json to choose a tiktoken "
                    + "encoding (" + e.getMessage() + ")", e);
        }
        String type = config.modelType();
        if (type.equals("gpt2")) {
            int v = config.size("vocab_size", 50257);
            if (v != 50257) {
                throw new TokenizerFormatException(folder, "no tokenizer.json, and vocab_size " + v
                        + " is not GPT-2's 50257, so r50k_base would be the wrong vocabulary", null);
            }
            return TiktokenTokenizer.gpt2();
        }
        throw new TokenizerFormatException(folder, "no tokenizer.json, and model_type '" + type
                + "' has no tiktoken encoding to fall back on", null);
    }
}
