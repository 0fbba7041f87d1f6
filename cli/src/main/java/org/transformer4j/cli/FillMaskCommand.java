// FillMaskCommand — `t4j fill-mask --model DIR "Paris is the [MASK] of France."`: a masked LM's most probable
// tokens at each mask, as transformers' fill-mask pipeline gives them (score, token, token_str, sequence).
package org.transformer4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.transformer4j.model.TextEncoder;
import org.transformer4j.model.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "fill-mask", mixinStandardHelpOptions = true,
        description = {"The most probable tokens at each mask token ([MASK] or <mask>) of each text, with a masked LM folder "
                + "(…ForMaskedLM: BERT, RoBERTa, DistilBERT, MPNet, ModernBERT), as transformers' fill-mask pipeline gives them."},
        footer = {"", "Exit codes: 0 success, 1 bad input or failure (one line on stderr), 2 bad usage."})
final class FillMaskCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Masked LM folder.")
    java.nio.file.Path model;

    @Parameters(arity = "1..*", paramLabel = "TEXT", description = "Texts with one or more mask tokens.")
    List<String> texts;

    @Option(names = "--top-k", paramLabel = "N", defaultValue = "5", description = "Candidates per mask (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--json", description = "JSON: per text, per mask, the pipeline's [{score, token, token_str, sequence}, …].")
    boolean json;

    @Mixin
    EncoderFolder folder;

    @Override
    public Integer call() throws java.io.IOException {
        ModelInputs.checkTexts("text", texts);
        if (topK < 1) throw new IllegalArgumentException("--top-k must be ≥ 1, got " + topK);
        folder.run(model, "fill-mask", (enc, weights) -> {
            if (weights.mlmHead == null) {
                throw new IllegalArgumentException(model + " has no masked-LM head (…ForMaskedLM): fill-mask needs one");
            }
            Tokenizer tok = enc.tokenizer;
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
        });
        return 0;
    }
}
