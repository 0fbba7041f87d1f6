// GenerationConfig — a Hugging Face generation_config.json: the ids that end a reply (eos_token_id, one or a
// list), bos/pad ids and the default sampling (do_sample, temperature, top_k, top_p, min_p, repetition_penalty,
// max_new_tokens, no_repeat_ngram_size, min_new_tokens, min_length; the token rules forced_bos_token_id,
// forced_eos_token_id, bad_words_ids, suppress_tokens, begin_suppress_tokens) read into a record, and turned into
// Generator.Options with transformers' defaults for what it leaves out; the beam-search fields (num_beams,
// length_penalty, early_stopping, num_return_sequences and the three above) into BeamSearch.Options.
package org.transformer4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.StrictJson;

/**
 * Absent fields are null (eosTokenIds empty). A malformed file throws a CheckpointException naming it and the field.
 * A file with num_beams &gt; 1 is generated with {@link BeamSearch} ({@link #beamOptions}); {@link #options} is the
 * greedy / sampled generation the file would get with num_beams 1.
 */
public record GenerationConfig(Path file, Set<Integer> eosTokenIds, Integer bosTokenId, Integer padTokenId, Boolean doSample,
                               Double temperature, Integer topK, Double topP, Integer maxNewTokens, Double repetitionPenalty,
                               Double minP, Beam beam, TokenRules rules) {

    /**
     * The fields beam search reads (null where absent). {@code minLength} is transformers' min_length: EOS is
     * suppressed while generate's input_ids are shorter — the prompt counts for a decoder-only model, the decoder
     * start for an encoder-decoder; {@code minNewTokens} counts only new tokens. {@code numBeamGroups} &gt; 1 (diverse
     * beam search) is refused.
     */
    public record Beam(Integer numBeams, Double lengthPenalty, BeamSearch.EarlyStopping earlyStopping, Integer numReturnSequences,
                       Integer noRepeatNgramSize, Integer minNewTokens, Integer minLength, Integer numBeamGroups) {
        static final Beam NONE = new Beam(null, null, null, null, null, null, null, null);
    }

    public GenerationConfig {
        eosTokenIds = java.util.Collections.unmodifiableSet(new LinkedHashSet<>(eosTokenIds));
        if (beam == null) beam = Beam.NONE;
        if (rules == null) rules = TokenRules.NONE;
    }

    /** {@code path}: a generation_config.json, or a model folder holding one. */
    public static GenerationConfig read(Path path) throws IOException {
        Path file = Files.isDirectory(path) ? path.resolve("generation_config.json") : path;
        if (!Files.isRegularFile(file)) throw new CheckpointException(file, "no such file");
        JsonNode root;
        try {
            root = StrictJson.parse(Files.readAllBytes(file));
        } catch (StrictJson.ParseError e) {
            throw new CheckpointException(file, "not valid JSON: " + e.getMessage());
        }
        if (!root.isObject()) throw new CheckpointException(file, "not a JSON object");
        return new GenerationConfig(file, eosList(file, root), optId(file, root, "bos_token_id"), optId(file, root, "pad_token_id"),
                bool(file, root, "do_sample"), number(file, root, "temperature", 0, false), optInt(file, root, "top_k", 0),
                number(file, root, "top_p", 0, true), optInt(file, root, "max_new_tokens", 1), positive(file, root, "repetition_penalty"),
                number(file, root, "min_p", 0, true),
                new Beam(optInt(file, root, "num_beams", 1), finite(file, root, "length_penalty"), earlyStopping(file, root),
                        optInt(file, root, "num_return_sequences", 1), optInt(file, root, "no_repeat_ngram_size", 0),
                        optInt(file, root, "min_new_tokens", 0), optInt(file, root, "min_length", 0), optInt(file, root, "num_beam_groups", 1)),
                rules(file, root));
    }

    /**
     * forced_bos_token_id (an id), forced_eos_token_id (an id or a list), bad_words_ids (a list of lists of ids),
     * suppress_tokens and begin_suppress_tokens (lists of ids); null or absent: none; renormalize_logits (default false).
     */
    private static TokenRules rules(Path file, JsonNode root) throws CheckpointException {
        TokenRules r = TokenRules.NONE.forcedBos(optId(file, root, "forced_bos_token_id"));
        JsonNode fe = root.path("forced_eos_token_id");
        Set<Integer> forcedEos = new LinkedHashSet<>();
        if (fe.isArray()) for (JsonNode x : fe) forcedEos.add(id(file, "forced_eos_token_id", x));
        else if (!fe.isMissingNode() && !fe.isNull()) forcedEos.add(id(file, "forced_eos_token_id", fe));
        java.util.List<java.util.List<Integer>> bad = new java.util.ArrayList<>();
        JsonNode bw = root.path("bad_words_ids");
        if (!bw.isMissingNode() && !bw.isNull()) {
            if (!bw.isArray() || bw.isEmpty()) throw new CheckpointException(file, "bad_words_ids must be a non-empty list of lists of token ids, got " + bw);
            for (JsonNode w : bw) {
                if (!w.isArray() || w.isEmpty()) throw new CheckpointException(file, "bad_words_ids must be a list of non-empty lists of token ids, got " + w);
                java.util.List<Integer> ids = new java.util.ArrayList<>();
                for (JsonNode x : w) ids.add(id(file, "bad_words_ids", x));
                bad.add(ids);
            }
        }
        Boolean renormalize = bool(file, root, "renormalize_logits");
        return r.forcedEos(forcedEos).badWords(bad).suppress(idList(file, root, "suppress_tokens"))
                .beginSuppress(idList(file, root, "begin_suppress_tokens")).renormalize(Boolean.TRUE.equals(renormalize));
    }

    private static Set<Integer> idList(Path file, JsonNode root, String field) throws CheckpointException {
        JsonNode n = root.path(field);
        Set<Integer> out = new LinkedHashSet<>();
        if (n.isMissingNode() || n.isNull()) return out;
        if (!n.isArray()) throw new CheckpointException(file, field + " must be a list of token ids, got " + n);
        for (JsonNode x : n) out.add(id(file, field, x));
        return out;
    }

    /**
     * Beam search as transformers' generate would run it with this file, when it asks for num_beams &gt; 1 (else empty):
     * num_beams, length_penalty (default 1.0), early_stopping (default false), num_return_sequences (default 1),
     * no_repeat_ngram_size, min_new_tokens (else min_length), repetition_penalty, the {@link TokenRules} fields, the eos
     * ids, max_new_tokens from the file
     * else {@code defaultMaxNewTokens}. Refused (IllegalArgumentException naming the field): do_sample true (beam
     * sampling), num_beam_groups &gt; 1 (diverse beam search), num_return_sequences &gt; num_beams.
     */
    public Optional<BeamSearch.Options> beamOptions(int defaultMaxNewTokens) {
        if (beam.numBeams() == null || beam.numBeams() <= 1) return Optional.empty();
        int n = beam.numBeams();
        if (Boolean.TRUE.equals(doSample)) {
            throw new IllegalArgumentException(file + ": do_sample true with num_beams " + n + " is beam sampling, which is not supported");
        }
        if (beam.numBeamGroups() != null && beam.numBeamGroups() > 1) {
            throw new IllegalArgumentException(file + ": num_beam_groups " + beam.numBeamGroups() + " (diverse beam search) is not supported");
        }
        BeamSearch.Options o = BeamSearch.Options.of(n, maxNewTokens != null ? maxNewTokens : defaultMaxNewTokens).eosIds(eosTokenIds);
        if (beam.lengthPenalty() != null) o = o.lengthPenalty(beam.lengthPenalty());
        if (beam.earlyStopping() != null) o = o.earlyStopping(beam.earlyStopping());
        if (beam.numReturnSequences() != null) {
            if (beam.numReturnSequences() > n) {
                throw new IllegalArgumentException(file + ": num_return_sequences " + beam.numReturnSequences() + " exceeds num_beams " + n);
            }
            o = o.numReturnSequences(beam.numReturnSequences());
        }
        if (beam.noRepeatNgramSize() != null) o = o.noRepeatNgramSize(beam.noRepeatNgramSize());
        // generate's _prepare_generated_length: min_new_tokens takes precedence, min_length becomes it plus the input length
        if (beam.minNewTokens() != null) o = o.minNewTokens(beam.minNewTokens());
        else if (beam.minLength() != null) o = o.minLength(beam.minLength());
        if (repetitionPenalty != null) o = o.repetitionPenalty(repetitionPenalty.floatValue());
        return Optional.of(o.rules(rules));
    }

    /**
     * The fields this file sets that {@link #options} (greedy or sampled generation) does not apply: num_return_sequences
     * (&gt; 1); only {@link BeamSearch} applies it. Callers that generate with {@link #options} should say so rather than
     * drop it silently.
     */
    public java.util.List<String> ignoredWithoutBeams() {
        java.util.List<String> out = new java.util.ArrayList<>();
        if (beam.numReturnSequences() != null && beam.numReturnSequences() > 1) out.add("num_return_sequences " + beam.numReturnSequences());
        return out;
    }

    private static Double finite(Path file, JsonNode root, String field) throws CheckpointException {
        JsonNode n = root.path(field);
        if (n.isMissingNode() || n.isNull()) return null;
        if (!n.isNumber() || !Double.isFinite(n.doubleValue())) throw new CheckpointException(file, field + " must be a finite number, got " + n);
        return n.doubleValue();
    }

    private static BeamSearch.EarlyStopping earlyStopping(Path file, JsonNode root) throws CheckpointException {
        JsonNode n = root.path("early_stopping");
        if (n.isMissingNode() || n.isNull()) return null;
        if (n.isBoolean()) return n.booleanValue() ? BeamSearch.EarlyStopping.TRUE : BeamSearch.EarlyStopping.FALSE;
        if (n.isTextual() && n.textValue().equals("never")) return BeamSearch.EarlyStopping.NEVER;
        throw new CheckpointException(file, "early_stopping must be true, false or \"never\", got " + n);
    }

    /**
     * The ids that end a reply for model folder {@code dir}, as transformers' generate and vLLM take them: generation_config.json's
     * eos_token_id (one id or a list) where that file exists, else config.json's (transformers' GenerationConfig.from_model_config,
     * which vLLM's try_get_generation_config falls back to: a config.json list such as GLM's [151329, 151336, 151338] ends a
     * reply at any of them); empty where neither names one.
     */
    public static Set<Integer> eosIds(Path dir) throws IOException {
        if (Files.isRegularFile(dir.resolve("generation_config.json"))) return read(dir).eosTokenIds();
        Path file = dir.resolve("config.json");
        if (!Files.isRegularFile(file)) return Set.of();
        JsonNode root;
        try {
            root = StrictJson.parse(Files.readAllBytes(file));
        } catch (StrictJson.ParseError e) {
            throw new CheckpointException(file, "not valid JSON: " + e.getMessage());
        }
        return java.util.Collections.unmodifiableSet(eosList(file, root));
    }

    /** eos_token_id of a config file's root: one id or a list of them (none where absent or null), in order. */
    private static Set<Integer> eosList(Path file, JsonNode root) throws CheckpointException {
        Set<Integer> eos = new LinkedHashSet<>();
        JsonNode e = root.path("eos_token_id");
        if (e.isArray()) for (JsonNode x : e) eos.add(id(file, "eos_token_id", x));
        else if (!e.isMissingNode() && !e.isNull()) eos.add(id(file, "eos_token_id", e));
        return eos;
    }

    /** The fields read here beside the three ids every config.json has (eos, bos, pad). */
    static final java.util.List<String> GENERATION_FIELDS = java.util.List.of("do_sample", "temperature", "top_k", "top_p",
            "max_new_tokens", "repetition_penalty", "min_p", "num_beams", "length_penalty", "early_stopping", "num_return_sequences",
            "no_repeat_ngram_size", "min_new_tokens", "min_length", "num_beam_groups", "forced_bos_token_id", "forced_eos_token_id",
            "bad_words_ids", "suppress_tokens", "begin_suppress_tokens", "renormalize_logits");

    /**
     * The folder's generation_config.json when it has one; else, as transformers' GenerationConfig.from_model_config
     * (what from_pretrained falls back to), the generation fields of its config.json when it sets any beside the ids
     * (older checkpoints such as facebook/bart-large-cnn keep num_beams, forced_bos_token_id, forced_eos_token_id,
     * no_repeat_ngram_size and min_length there); else empty.
     */
    public static Optional<GenerationConfig> readIfPresent(Path dir) throws IOException {
        if (Files.isRegularFile(dir.resolve("generation_config.json"))) return Optional.of(read(dir));
        Path config = dir.resolve("config.json");
        if (!Files.isRegularFile(config)) return Optional.empty();
        JsonNode root;
        try {
            root = StrictJson.parse(Files.readAllBytes(config));
        } catch (StrictJson.ParseError e) {
            return Optional.empty();                                  // the model loader reports a broken config.json
        }
        if (!root.isObject()) return Optional.empty();
        for (String f : GENERATION_FIELDS) if (root.hasNonNull(f)) return Optional.of(read(config));
        return Optional.empty();
    }

    /**
     * Options as transformers' generate would run with this file and nothing else: greedy unless do_sample is
     * true, then temperature (default 1.0), top_k (default 50; 0 = off), top_p (default 1.0) and min_p (default
     * none); repetition_penalty (default 1.0), no_repeat_ngram_size, min_new_tokens and min_length greedy or sampled, as
     * generate's logits processors apply them (min_new_tokens takes precedence over min_length, as in generate's
     * _prepare_generated_length; both need eos ids); the {@link TokenRules} fields; the reply ends at any eos id;
     * max_new_tokens from the file, else
     * {@code defaultMaxNewTokens}.
     */
    public Generator.Options options(int defaultMaxNewTokens, long seed) {
        Generator.Options o = Generator.Options.greedy(maxNewTokens != null ? maxNewTokens : defaultMaxNewTokens);
        if (Boolean.TRUE.equals(doSample)) {
            o = o.sampling(temperature == null ? 1f : temperature.floatValue(), topK == null ? 50 : topK,
                    topP == null ? 1f : topP.floatValue(), seed);
            if (minP != null) o = o.minP(minP.floatValue());
        }
        if (repetitionPenalty != null) o = o.repetitionPenalty(repetitionPenalty.floatValue());
        if (beam.noRepeatNgramSize() != null) o = o.noRepeatNgramSize(beam.noRepeatNgramSize());
        if (beam.minNewTokens() != null) o = o.minNewTokens(beam.minNewTokens());
        else if (beam.minLength() != null) o = o.minLength(beam.minLength());
        o = o.rules(rules);
        return eosTokenIds.isEmpty() ? o : o.stopIds(eosTokenIds);
    }

    private static int id(Path file, String field, JsonNode n) throws CheckpointException {
        if (!n.canConvertToInt() || !n.isIntegralNumber() || n.intValue() < 0) {
            throw new CheckpointException(file, field + " must be a token id (an integer ≥ 0) or a list of them, got " + n);
        }
        return n.intValue();
    }

    private static Integer optId(Path file, JsonNode root, String field) throws CheckpointException {
        JsonNode n = root.path(field);
        return n.isMissingNode() || n.isNull() ? null : id(file, field, n);
    }

    private static Integer optInt(Path file, JsonNode root, String field, int min) throws CheckpointException {
        JsonNode n = root.path(field);
        if (n.isMissingNode() || n.isNull()) return null;
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < min) {
            throw new CheckpointException(file, field + " must be an integer ≥ " + min + ", got " + n);
        }
        return n.intValue();
    }

    private static Double number(Path file, JsonNode root, String field, double min, boolean atMostOne) throws CheckpointException {
        JsonNode n = root.path(field);
        if (n.isMissingNode() || n.isNull()) return null;
        if (!n.isNumber() || !(n.doubleValue() >= min) || (atMostOne && n.doubleValue() > 1) || Double.isInfinite(n.doubleValue())) {
            throw new CheckpointException(file, field + " must be a number ≥ " + min + (atMostOne ? " and ≤ 1" : "") + ", got " + n);
        }
        return n.doubleValue();
    }

    private static Double positive(Path file, JsonNode root, String field) throws CheckpointException {
        JsonNode n = root.path(field);
        if (n.isMissingNode() || n.isNull()) return null;
        if (!n.isNumber() || !(n.doubleValue() > 0) || Double.isInfinite(n.doubleValue()) || !Float.isFinite((float) n.doubleValue())) {
            throw new CheckpointException(file, field + " must be a number > 0, got " + n);
        }
        return n.doubleValue();
    }

    private static Boolean bool(Path file, JsonNode root, String field) throws CheckpointException {
        JsonNode n = root.path(field);
        if (n.isMissingNode() || n.isNull()) return null;
        if (!n.isBoolean()) throw new CheckpointException(file, field + " must be true or false, got " + n);
        return n.booleanValue();
    }
}
