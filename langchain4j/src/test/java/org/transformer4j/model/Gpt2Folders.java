// Gpt2Folders — lets the langchain4j tests write a GPT-2 Hugging Face folder with the model module's tested
// writer (PretrainedTest.gpt2Folder, package-private, from the model test jar).
package org.transformer4j.model;

import java.nio.file.Path;

public final class Gpt2Folders {

    private Gpt2Folders() {}

    /** Writes config.json and model.safetensors for {@code w} (a GPT-2-shaped decoder) into {@code dir}. */
    public static void write(Weights w, Path dir) throws Exception { PretrainedTest.gpt2Folder(w, dir); }
}
