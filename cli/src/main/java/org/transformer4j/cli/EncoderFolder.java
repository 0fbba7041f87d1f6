// EncoderFolder — what `t4j classify` and `t4j fill-mask` share: the --dtype and --progress options, and an
// encoder folder loaded with its heads and tokenizer into a TextEncoder for the length of one task.
package org.transformer4j.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import org.transformer4j.model.Pretrained;
import org.transformer4j.model.SentencePooling;
import org.transformer4j.model.TextEncoder;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.TransformerConfig;
import org.transformer4j.model.Weights;
import org.transformer4j.model.tokenizer.Tokenizer;
import org.transformer4j.model.tokenizer.Tokenizers;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.Backends;
import picocli.CommandLine.Option;

final class EncoderFolder {

    @Option(names = "--dtype", defaultValue = "f32", paramLabel = "f32|f16|bf16",
            description = "The dtype the model computes in (weights, activations; fp32 accumulation) (default: ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--progress", description = "Show progress bars even when stderr is not a terminal.")
    boolean progress;

    /** The work done with the loaded folder. */
    interface Task {
        void run(TextEncoder encoder, Weights weights) throws IOException;
    }

    /** Loads {@code dir} (an encoder-only folder, heads included) on the selected backend and runs {@code task} on it. */
    void run(Path dir, String command, Task task) throws IOException {
        org.transformer4j.runtime.DType dt = ModelInputs.dtype(dtype);
        ModelInputs.checkModelFolder(dir);
        try (Backend backend = Backends.select(); Tokenizer tok = Tokenizers.forModel(dir)) {
            Weights weights;
            try (Progress bar = Progress.start("loading " + dir.getFileName(), 1, progress)) {
                weights = Pretrained.load(dir, backend, dt);
                bar.update(1);
            }
            try (weights) {
                boolean seq2seqClassifier = weights.config.architecture() == TransformerConfig.Architecture.ENCODER_DECODER
                        && weights.classifierHead != null && command.equals("classify");            // bart-large-mnli
                if (weights.config.architecture() != TransformerConfig.Architecture.ENCODER_ONLY && !seq2seqClassifier) {
                    throw new IllegalArgumentException(dir + " is a " + weights.config.architecture().name().toLowerCase(Locale.ROOT)
                            .replace('_', '-') + " model; " + command + " needs an encoder with its head"
                            + (command.equals("classify") ? " (or an encoder-decoder sequence classifier)" : ""));
                }
                task.run(new TextEncoder(new Transformer(weights, backend), tok, SentencePooling.meanNormalized(null)), weights);
                Main.checkStdout();
            }
        }
    }
}
