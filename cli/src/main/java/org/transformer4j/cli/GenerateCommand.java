// GenerateCommand — `t4j generate --model DIR "prompt"`: streams the tokens the model layer's Generator
// produces (greedy or sampled, stop strings, a token budget) to stdout as they come, and prints prefill
// and decode tokens/s on stderr at the end.
package org.transformer4j.cli;

import java.nio.file.Path;
import org.transformer4j.model.Generator;
import org.transformer4j.model.Pretrained;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.Weights;
import org.transformer4j.model.tokenizer.Tokenizer;
import org.transformer4j.model.tokenizer.Tokenizers;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.Backends;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Stream the tokens a model generates after PROMPT to stdout; print prefill and decode tokens/s "
                + "on stderr at the end (and the dtype). DIR: a Hugging Face GPT-2 or T5 folder (or any folder the model layer loads)."},
        footer = {"", "Exit codes: 0 success, 1 bad input or failure (one line on stderr), 2 bad usage."})
final class GenerateCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Model folder (Hugging Face layout).")
    Path model;

    @Parameters(paramLabel = "PROMPT", description = "The prompt.")
    String prompt;

    @Option(names = "--max-new-tokens", defaultValue = "64", description = "Tokens to generate at most (default: ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Option(names = "--temperature", defaultValue = "0", description = "0 is greedy (default: ${DEFAULT-VALUE}).")
    double temperature;

    @Option(names = "--top-k", defaultValue = "0", description = "Sample from the k most likely tokens; 0 is off (default).")
    int topK;

    @Option(names = "--top-p", defaultValue = "1", description = "Sample from the smallest set with this much probability; 1 is off (default).")
    double topP;

    @Option(names = "--seed", defaultValue = "42", description = "Sampling seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Mixin
    PenaltyOptions penalties;

    @Option(names = "--stop", paramLabel = "TEXT", description = "Stop when this text appears (repeatable).")
    java.util.List<String> stop;

    @Mixin
    LoraOption lora = new LoraOption();

    @Option(names = "--dtype", defaultValue = "f32", paramLabel = "f32|f16|bf16",
            description = "The dtype the model computes in (weights, activations, KV cache; fp32 accumulation) (default: ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--progress", description = "Show progress bars even when stderr is not a terminal.")
    boolean progress;

    @Option(names = "--truncate", description = "When the prompt plus --max-new-tokens exceed the model's positions, keep the "
            + "prompt's last tokens (default: fail).")
    boolean truncate;

    @Option(names = "--json-schema", paramLabel = "FILE", description = "Constrain the text to JSON that this JSON Schema "
            + "allows (structured outputs; the subset of OpenAI's strict mode, see the README).")
    Path jsonSchema;

    @Option(names = "--json", description = "Constrain the text to a JSON object or array (response_format json_object).")
    boolean json;

    @Option(names = "--num-beams", paramLabel = "N", description = "Beam search with N beams, as transformers' generate(num_beams=N) "
            + "(default: the folder's generation_config.json num_beams, else 1: greedy or sampled). With N > 1 the folder's "
            + "length_penalty, early_stopping and num_return_sequences apply, "
            + "the text is printed at the end (one line per returned sequence), and --temperature > 0, --stop, --json, "
            + "--json-schema, presence / frequency penalties are refused.")
    Integer numBeams;

    @Option(names = "--src-lang", paramLabel = "CODE", description = "The prompt's language for NLLB, mBART-50, mBART and M2M100 tokenizers "
            + "(eng_Latn, en_XX, en for M2M100's __en__): the code the tokenizers' src_lang puts around the text (default: the folder's).")
    String srcLang;

    @Option(names = "--forced-bos", paramLabel = "TOKEN", description = "transformers' forced_bos_token_id: the first generated "
            + "token, a special token of the output tokenizer (the target language: fra_Latn for NLLB, de_DE for mBART-50, __fr__ for M2M100) or an id; "
            + "overrides the folder's.")
    String forcedBos;

    @Option(names = "--length-penalty", paramLabel = "X", description = "Beam search's length_penalty: a finished sequence's "
            + "log-probability is divided by (new tokens)^X (default: the folder's, else 1.0). Needs --num-beams > 1 (or the folder's).")
    Double lengthPenalty;

    @Override
    public Integer call() throws java.io.IOException {
        ModelInputs.checkText("prompt", prompt);
        if (maxNewTokens < 1) throw new IllegalArgumentException("--max-new-tokens must be ≥ 1, got " + maxNewTokens);
        if (!(temperature >= 0) || !Double.isFinite(temperature)) throw new IllegalArgumentException("--temperature must be ≥ 0, got " + temperature);
        if (topK < 0) throw new IllegalArgumentException("--top-k must be ≥ 0, got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("--top-p must be in (0, 1], got " + topP);
        penalties.check();
        org.transformer4j.runtime.DType dt = ModelInputs.dtype(dtype);
        ModelInputs.checkModelFolder(model);
        org.transformer4j.model.LoraAdapter adapter = lora.read();   // before the model loads
        try (Backend backend = Backends.select();
             Tokenizer tok = Tokenizers.forModel(model, srcLang)) {
            int[] ids = tok.encode(prompt);
            if (ids.length == 0) throw new IllegalArgumentException("the prompt has no tokens under " + tok.name());
            Weights weights;
            try (Progress bar = Progress.start("loading " + model.getFileName(), 1, progress)) {
                weights = Pretrained.load(model, backend, dt, adapter);
                bar.update(1);
            }
            // An encoder-decoder's output is target text: Marian's target.spm (Tokenizers.forTarget), special tokens skipped
            // (a forced BOS, language codes) as transformers' summarization / translation pipelines decode it.
            boolean encDec = weights.config.architecture() == org.transformer4j.model.TransformerConfig.Architecture.ENCODER_DECODER;
            try (weights; Tokenizer target = encDec ? Tokenizers.forTarget(model) : null) {
                Tokenizer out = encDec ? target : tok;
                Transformer t = new Transformer(weights, backend);
                java.util.Optional<org.transformer4j.model.GenerationConfig> gc = org.transformer4j.model.GenerationConfig.readIfPresent(model);
                Generator.Options o = Generator.Options.greedy(maxNewTokens).sampling((float) temperature, topK, (float) topP, seed);
                o = penalties.apply(o, gc, out);         // the folder's repetition_penalty, min_p and token rules, as generate applies them
                if (forcedBos != null) o = o.forcedBosTokenId(tokenId(out, forcedBos, weights.config.vocabSize()));
                if (stop != null && !stop.isEmpty()) o = o.stopStrings(java.util.Set.copyOf(stop), x -> out.decode(x, encDec));
                // As transformers' generate: the model's end-of-sequence ids (config.json, generation_config.json,
                // tokenizer_config.json) end the text; they are not printed.
                java.util.Set<Integer> eos = new java.util.LinkedHashSet<>(ChatCommand.eosIds(model,
                        org.transformer4j.model.tokenizer.TokenizerConfig.readIfPresent(model), tok));
                if (weights.config.specialIds().eos() >= 0) eos.add(weights.config.specialIds().eos());
                o = o.stopIds(eos).truncate(truncate);
                if (json || jsonSchema != null) o = o.guided(StructuredOutput.constraint(jsonSchema, out, weights.config.vocabSize(), eos));
                int beams = numBeams != null ? numBeams
                        : gc.map(g -> g.beam().numBeams()).filter(java.util.Objects::nonNull).orElse(1);
                if (beams < 1) throw new IllegalArgumentException("--num-beams must be ≥ 1, got " + beams);
                if (beams > 1) {
                    beamSearch(t, out, encDec, ids, o, beams, gc, eos);
                    return 0;
                }
                if (lengthPenalty != null) throw new IllegalArgumentException("--length-penalty applies to beam search: pass --num-beams N (N > 1)");
                if (gc.isPresent() && !gc.get().ignoredWithoutBeams().isEmpty()) {
                    System.err.println("note: " + gc.get().file() + " sets " + String.join(", ", gc.get().ignoredWithoutBeams())
                            + ", which only beam search applies (--num-beams N); greedy / sampled generation goes on without it");
                }
                Stream stream = new Stream(out, encDec, eos);
                long start = System.nanoTime();
                int[] generated;
                try {
                    generated = new Generator(t).generate(ids, o, (sequence, token) -> stream.add(token));
                } catch (IllegalArgumentException e) {     // the library's advice names its API; say it in the CLI's words
                    String m = e.getMessage();
                    if (m == null || !m.contains("Options.truncate(true)")) throw e;
                    throw new IllegalArgumentException(m.replace("set Options.truncate(true)", "pass --truncate"), e);
                }
                long end = System.nanoTime();
                stream.finish();
                double prefillS = (stream.first - start) / 1e9;
                double decodeS = (end - stream.first) / 1e9;
                System.err.printf(java.util.Locale.ROOT, "prefill: %d tokens in %.3f s (%.1f tokens/s); decode: %d tokens in %.3f s (%.1f tokens/s); %s%n",
                        ids.length, prefillS, ids.length / prefillS, generated.length - 1, decodeS,
                        generated.length > 1 ? (generated.length - 1) / decodeS : 0.0, ModelInputs.name(dt));
            }
        }
        return 0;
    }

    /** --forced-bos's id: a special token of {@code tok} by name, or an id in the vocabulary. */
    static int tokenId(Tokenizer tok, String token, int vocab) {
        Integer id = tok.specialTokens().get(token);
        if (id == null && token.matches("\\d{1,9}")) id = Integer.parseInt(token);
        if (id == null) {
            throw new IllegalArgumentException("--forced-bos " + token + " is neither a special token of " + tok.name() + " nor a token id");
        }
        if (id >= vocab) throw new IllegalArgumentException("--forced-bos " + token + " is id " + id + ", outside the model's vocabulary [0, " + vocab + ")");
        return id;
    }

    /**
     * Beam search: the folder's beam fields (when it asks for beams itself, with its refusals: do_sample, num_beam_groups),
     * the CLI's options carried over (refusing sampling, stop strings, guides, presence / frequency penalties), then one
     * line per returned sequence on stdout (without its EOS) and each sequence's score on stderr.
     */
    private void beamSearch(Transformer t, Tokenizer tok, boolean skipSpecial, int[] ids, Generator.Options o, int beams,
                            java.util.Optional<org.transformer4j.model.GenerationConfig> gc, java.util.Set<Integer> eos) {
        org.transformer4j.model.BeamSearch.Options b = org.transformer4j.model.BeamSearch.Options.from(o, beams);
        if (gc.isPresent()) {
            if (numBeams == null) gc.get().beamOptions(maxNewTokens);          // the folder's own beams: its refusals apply
            org.transformer4j.model.GenerationConfig.Beam fb = gc.get().beam();
            if (fb.numBeamGroups() != null && fb.numBeamGroups() > 1) {
                throw new IllegalArgumentException(gc.get().file() + ": num_beam_groups " + fb.numBeamGroups() + " (diverse beam search) is not supported");
            }
            if (fb.lengthPenalty() != null) b = b.lengthPenalty(fb.lengthPenalty());
            if (fb.earlyStopping() != null) b = b.earlyStopping(fb.earlyStopping());
            if (fb.numReturnSequences() != null) b = b.numReturnSequences(fb.numReturnSequences());
        }
        if (lengthPenalty != null) b = b.lengthPenalty(lengthPenalty);
        long start = System.nanoTime();
        java.util.List<org.transformer4j.model.BeamSearch.Hypothesis> hs;
        try {
            hs = new org.transformer4j.model.BeamSearch(t).generate(ids, b);
        } catch (IllegalArgumentException e) {
            String m = e.getMessage();
            if (m == null || !m.contains("Options.truncate(true)")) throw e;
            throw new IllegalArgumentException(m.replace("set Options.truncate(true)", "pass --truncate"), e);
        }
        double s = (System.nanoTime() - start) / 1e9;
        for (org.transformer4j.model.BeamSearch.Hypothesis h : hs) {
            int[] text = java.util.Arrays.stream(h.tokens()).filter(x -> !eos.contains(x)).toArray();
            System.out.println(tok.decode(text, skipSpecial));
        }
        System.out.flush();
        Main.checkStdout();
        for (int i = 0; i < hs.size(); i++) {
            System.err.printf(java.util.Locale.ROOT, "sequence %d: %d tokens, score %.6f%n", i, hs.get(i).tokens().length, hs.get(i).score());
        }
        System.err.printf(java.util.Locale.ROOT, "beam search: %d beams, length_penalty %s, early_stopping %s, %.3f s%n", beams,
                b.lengthPenalty(), b.earlyStopping().name().toLowerCase(java.util.Locale.ROOT), s);
    }

    /**
     * Prints the text of the tokens so far as it grows: the whole generated sequence is decoded each time
     * and only the new part printed, so tokens that end mid-character print once the character is whole.
     */
    private static final class Stream {
        private final Tokenizer tok;
        private final java.util.Set<Integer> eos;
        private final java.util.List<Integer> ids = new java.util.ArrayList<>();
        private String printed = "";
        long first;

        private final boolean skipSpecial;

        Stream(Tokenizer tok, boolean skipSpecial, java.util.Set<Integer> eos) { this.tok = tok; this.skipSpecial = skipSpecial; this.eos = eos; }

        void add(int token) {
            if (first == 0) first = System.nanoTime();   // the first token comes right after the prefill
            if (eos.contains(token)) return;             // the end, not text
            ids.add(token);
            String text = tok.decode(ids.stream().mapToInt(Integer::intValue).toArray(), skipSpecial);
            if (text.endsWith("\uFFFD")) return;   // an incomplete character: wait for the next token
            if (text.startsWith(printed)) System.out.print(text.substring(printed.length()));
            else System.out.print(text);   // decoding changed earlier text (rare): print the whole again
            System.out.flush();
            Main.checkStdout();            // stdout lost: stop generating
            printed = text;
        }

        void finish() {
            String text = tok.decode(ids.stream().mapToInt(Integer::intValue).toArray(), skipSpecial);
            if (text.startsWith(printed)) System.out.print(text.substring(printed.length()));
            System.out.println();
            System.out.flush();
        }
    }
}
