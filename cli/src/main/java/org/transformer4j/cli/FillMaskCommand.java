// FillMaskCommand — `t4j fill-mask --model DIR "Paris is the [MASK] of France."`: a masked LM's most probable
// tokens at each mask, as transformers' fill-mask pipeline gives them (score, token, token_str, sequence).
package org.transformer4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.transformer4j.model.Pretrained;
import org.transformer4j.model.SentencePooling;
import org.transformer4j.model.TextEncoder;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.Weights;
import org.transformer4j.model.tokenizer.Tokenizer;
import org.transformer4j.model.tokenizer.Tokenizers;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.Backends;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "fill-mask", mixinStandardHelpOptions = true,
        description = {"The most probable tokens at each mask token ([MASK] or <mask>) of each text, with a masked LM folder "
                + "(…ForMaskedLM: BERT, RoBERTa, DistilBERT, MPNet, ModernBERT), as transformers' fill-mask pipeline gives them."},
        footer = {"", "Exit codes: 0 success, 1 bad input or failure (one line on stderr), 2 bad usage."})
final class FillMaskCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Masked LM folder.")
    Path model;

    @Parameters(arity = "1..*", paramLabel = "TEXT", description = "Texts with one or more mask tokens.")
    List<String> texts;

    @Option(names = "--top-k", paramLabel = "N", defaultValue = "5", description = "Candidates per mask (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--json", description = "JSON: per text, per mask, the pipeline's [{score, token, token_str, sequence}, …].")
    boolean json;

    @Option(names = "--dtype", defaultValue = "f32", paramLabel = "f32|f16|bf16",
            description = "The dtype the model computes in (weights, activations; fp32 accumulation) (default: ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--progress", description = "Show progress bars even when stderr is not a terminal.")
    boolean progress;

    @Override
    public Integer call() throws java.io.IOException {
        ModelInputs.checkTexts("text", texts);
        if (topK < 1) throw new IllegalArgumentException("--top-k must be ≥ 1, got " + topK);
        org.transformer4j.runtime.DType dt = ModelInputs.dtype(dtype);
        ModelInputs.checkModelFolder(model);
        try (Backend backend = Backends.select(); Tokenizer tok = Tokenizers.forModel(model)) {
            Weights weights;
            try (Progress bar = Progress.start("loading " + model.getFileName(), 1, progress)) {
                weights = Pretrained.load(model, backend, dt);
                bar.update(1);
            }
            try (weights) {
                if (weights.mlmHead == null) {
                    throw new IllegalArgumentException(model + " has no masked-LM head (…ForMaskedLM): fill-mask needs one");
                }
                TextEncoder enc = new TextEncoder(new Transformer(weights, backend), tok, SentencePooling.meanNormalized(null));
                ArrayNode out = new ObjectMapper().createArrayNode();
                for (String text : texts) {
                    int[] ids = tok.encode(text);
                    List<TextEncoder.MaskFill> fills = enc.fillMask(text, topK);
                    ArrayNode perText = out.addArray();
                    if (!json) System.out.println('"' + text + '"');
                    for (TextEncoder.MaskFill f : fills) {
                        ArrayNode perMask = perText.addArray();
                        if (!json && fills.size() > 1) System.out.println("  mask at token " + f.position());
                        for (TextEncoder.Candidate c : f.candidates()) {
                            int[] filled = ids.clone();
                            filled[f.position()] = c.id();
                            // the pipeline leaves special tokens in the sequence when the text has several masks
                            String sequence = tok.decode(filled, fills.size() == 1);
                            perMask.addObject().put("score", c.probability()).put("token", c.id()).put("token_str", c.token())
                                    .put("sequence", sequence);
                            if (!json) System.out.printf(Locale.ROOT, "  %-20s %.4f  %s%n", c.token(), c.probability(), sequence);
                        }
                    }
                }
                if (json) System.out.println(out);
                Main.checkStdout();
            }
        }
        return 0;
    }
}
