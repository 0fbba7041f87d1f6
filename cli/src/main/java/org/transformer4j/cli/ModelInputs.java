// ModelInputs — checks shared by the commands that run a model (generate, embed, inspect --model):
// the model folder and the texts, validated before anything is loaded.
package org.transformer4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.transformer4j.runtime.DType;

final class ModelInputs {

    private ModelInputs() {}

    /** A model folder must exist and be a folder; names without a path separator are built-in model names. */
    static void checkModelFolder(Path dir) {
        if (!Files.exists(dir)) throw new IllegalArgumentException(dir + ": no such model folder");
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException(dir + ": not a folder (a model is a folder with config.json)");
    }

    /** The --dtype values, as users type them. */
    static final String DTYPES = "f32, f16 or bf16";

    /** {@code --dtype}: f32, f16 or bf16 (any case) → the model's compute dtype. */
    static DType dtype(String name) {
        return switch (name == null ? "" : name.toLowerCase(Locale.ROOT)) {
            case "f32", "fp32", "float32" -> DType.F32;
            case "f16", "fp16", "float16" -> DType.F16;
            case "bf16", "bfloat16" -> DType.BF16;
            default -> throw new IllegalArgumentException("--dtype must be " + DTYPES + ", got '" + name + "'");
        };
    }

    /** How --dtype shows a dtype: f32, f16, bf16. */
    static String name(DType dtype) { return dtype.name().toLowerCase(Locale.ROOT); }

    static void checkText(String what, String text) {
        if (text == null || text.isBlank()) throw new IllegalArgumentException("the " + what + " is empty");
    }

    static void checkTexts(String what, List<String> texts) {
        if (texts == null || texts.isEmpty()) throw new IllegalArgumentException("no " + what + " given");
        for (int i = 0; i < texts.size(); i++) {
            if (texts.get(i).isBlank()) throw new IllegalArgumentException(what + " " + (i + 1) + " is empty");
        }
    }
}
