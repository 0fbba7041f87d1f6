// Sampling — how Generator.Options choose a token from rows of logits, shared by Generator and the serving
// Engine so that both take the same steps: one mask op (a structured output's allowed ids, ANDed with a forced token or
// allowed_token_ids, less the ids each sequence's Bans forbid: min_new_tokens, min_length, no_repeat_ngram_size, bad
// words, suppressed ids; see TokenRules), the penalties (PenaltyOp, from each
// sequence's History), then the sample op with temperature, top-k, top-p and min_p.
package org.transformer4j.model;

import java.util.Arrays;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.transformer4j.model.guided.TokenConstraint;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.MaskOp;
import org.transformer4j.runtime.PenaltyOp;
import org.transformer4j.runtime.SampleOp;
import org.transformer4j.runtime.Tensor;

/**
 * The order is transformers' {@code generate}: logit bias (its sequence_bias), repetition penalty (over the prompt
 * and the new tokens, greedy too), then — OpenAI's and vLLM's, which transformers lacks — frequency and presence
 * penalties over the new tokens; then, when sampling, temperature, top-k, top-p and min_p in that order. vLLM
 * applies min_p before top-k and top-p; one order is used here for the generator and the engine alike, so a
 * request served by the engine gets the generator's tokens.
 *
 * <p>transformers' no_repeat_ngram_size, min_length and min_new_tokens come after the repetition penalty and before
 * temperature and the top-k / top-p / min_p warpers in its processor list; they set banned ids to −∞, which every
 * penalty here keeps at −∞ (−∞ scaled by a positive penalty, or plus a finite number), so they run first, in the
 * mask op, with the same result.
 */
public final class Sampling {

    private Sampling() {}

    /** The sample op of {@code o} for logits (rows, V) into {@code ids}: argmax at temperature 0, else seeded at counter {@code offset}. */
    public static SampleOp op(Generator.Options o, Tensor logits, Tensor ids, long offset) {
        if (o.temperature() == 0f) return SampleOp.greedy(logits, ids);
        SampleOp op = SampleOp.sample(logits, o.temperature(), o.seed(), ids).topP(o.topP()).minP(o.minP()).offset(offset);
        return o.topK() > 0 ? op.topK(o.topK()) : op;
    }

    /**
     * One sample op over logits (rows, V) for rows of different requests (per-row parameters, ABI 13): row r under
     * {@code o[r]} at counter {@code offsets[r]}. Row r gets exactly the id that {@link #op} of {@code o[r]} gives for
     * that row alone (row 0): per-row draws do not depend on the row's place (see {@link SampleOp}).
     */
    public static SampleOp op(Generator.Options[] o, Tensor logits, Tensor ids, long[] offsets) {
        java.util.List<SampleOp.Row> rows = new java.util.ArrayList<>(o.length);
        for (int r = 0; r < o.length; r++) {
            Generator.Options x = o[r];
            rows.add(x.temperature() == 0f ? SampleOp.Row.greedy()
                    : new SampleOp.Row(x.seed(), offsets[r], x.temperature(), Math.max(x.topK(), 0), x.topP(), x.minP()));
        }
        return SampleOp.perRow(logits, rows, ids);
    }

    /**
     * Sets to −∞, in place, the logits (rows, V) that each row's constraint does not allow at its current state (a null
     * constraint keeps its row whole: a finished sequence, or one without structured outputs), those outside the ids
     * its bans allow at its current length (a forced token, vLLM's allowed_token_ids) and the ids they forbid
     * ({@code bans[r]} null: none), in one mask op for the batch; no op when no row has a constraint or a rule.
     * {@code guides} may be null (no row has one). A forced token is an allow-list of one id ANDed into the row's bits,
     * never a V-sized ban set.
     */
    public static void mask(Backend be, Tensor logits, TokenConstraint[] guides, Bans[] bans) {
        int b = bans.length, vocab = (int) logits.shape(1), words = (int) MaskOp.words(vocab);
        int[] bits = new int[b * words];
        boolean any = false;
        for (int r = 0; r < b; r++) {
            TokenConstraint g = guides == null ? null : guides[r];
            if (g == null) Arrays.fill(bits, r * words, (r + 1) * words, -1);
            else System.arraycopy(g.allowed(), 0, bits, r * words, words);
            any |= g != null;
            Bans x = bans[r];
            if (x == null) continue;
            int[] allowed = x.allowedWords(words);
            if (allowed != null) {
                for (int w = 0; w < words; w++) bits[r * words + w] &= allowed[w];
                any = true;
            }
            int[] forced = x.forced();
            if (forced != null) {                                 // everything else banned: keep only the forced ids' bits
                int[] keep = new int[forced.length];
                for (int i = 0; i < forced.length; i++) keep[i] = forced[i] < vocab ? bits[r * words + (forced[i] >>> 5)] & (1 << (forced[i] & 31)) : 0;
                Arrays.fill(bits, r * words, (r + 1) * words, 0);
                for (int i = 0; i < forced.length; i++) if (forced[i] < vocab) bits[r * words + (forced[i] >>> 5)] |= keep[i];
                any = true;
            }
            for (int id : x.banned()) {
                if (id >= vocab) continue;                    // a stop id past the logits: nothing to ban
                bits[r * words + (id >>> 5)] &= ~(1 << (id & 31));
                any = true;
            }
        }
        if (!any) return;
        try (Tensor h = Tensor.ofInts(bits, b, words); Tensor allowed = be.upload(h)) {
            be.mask(new MaskOp(logits, allowed));
        }
    }

    /**
     * One sequence's banned ids, kept as tokens come (a new token costs one n-gram insert): transformers'
     * NoRepeatNGramLogitsProcessor over generate's input_ids, NoBadWordsLogitsProcessor, its MinLengthLogitsProcessor
     * and MinNewTokensLengthLogitsProcessor, which ban the stop ids (vLLM's min_tokens bans the same: eos and
     * stop_token_ids), ForcedBOS/ForcedEOSTokenLogitsProcessor (an allow-list: {@link #forced}), SuppressTokens and
     * SuppressTokensAtBegin; and vLLM's allowed_token_ids. See {@link TokenRules} for each rule's step.
     */
    public static final class Bans {
        private final Set<Integer> stops;
        private final int minNewTokens, minLength, n, context, maxNewTokens, beginIndex;
        private final boolean greedy;
        private final TokenRules rules;
        private final Set<Integer> badSingles = new LinkedHashSet<>();                // one-id bad words, always banned
        private final List<List<Integer>> badLonger = new ArrayList<>();             // longer ones: last id banned after the rest
        private final List<Integer> ids = new ArrayList<>();                        // input_ids: context, then new tokens
        private final Map<List<Integer>, Set<Integer>> followers = new HashMap<>(); // an (n − 1)-gram → the ids seen after it
        private int[] allowedWords;                                                  // allowed_token_ids as mask words, once built

        private Bans(Generator.Options o, int[] context) {
            stops = o.stopIds();
            minNewTokens = o.minNewTokens();
            minLength = o.minLength();
            n = o.noRepeatNgramSize();
            maxNewTokens = o.maxNewTokens();
            greedy = o.temperature() == 0f;
            rules = o.rules();
            this.context = context.length;
            beginIndex = rules.beginIndex(context.length);
            for (List<Integer> w : rules.badWordsIds()) {
                if (w.size() == 1) {
                    if (!stops.contains(w.get(0))) badSingles.add(w.get(0));  // transformers drops [eos] from bad_words_ids
                } else {
                    badLonger.add(w);
                }
            }
            for (int id : context) add(id);
        }

        /**
         * The bans of a sequence whose input_ids start as {@code context} (decoder-only: the prompt; encoder-decoder:
         * the decoder's start id), or null when {@code o} bans nothing.
         */
        public static Bans of(Generator.Options o, int[] context) { return o.banning() ? new Bans(o, context) : null; }

        /** A token the sequence produced. */
        public void add(int id) {
            ids.add(id);
            int end = ids.size();
            if (n > 0 && end >= n) followers.computeIfAbsent(List.copyOf(ids.subList(end - n, end - 1)), k -> new LinkedHashSet<>()).add(id);
        }

        /** The ids the next token may not be. */
        public Set<Integer> banned() {
            int len = ids.size();
            Set<Integer> out = new LinkedHashSet<>();
            if (forcedIds() == null) {                                     // a forced token overrides the bans before it
                if (n > 0 && len + 1 >= n) {                               // the last n − 1 ids, and what followed them before
                    Set<Integer> f = followers.get(ids.subList(len - n + 1, len));
                    if (f != null) out.addAll(f);
                }
                out.addAll(badSingles);
                for (List<Integer> w : badLonger) if (TokenRules.prefixMatches(w, ids)) out.add(w.get(w.size() - 1));
                if (!rules.outputBadWordsIds().isEmpty()) {                // vLLM's bad_words: against the new tokens only
                    List<Integer> generated = ids.subList(context, len);
                    for (List<Integer> w : rules.outputBadWordsIds()) {
                        if (TokenRules.outputPrefixMatches(w, generated)) out.add(w.get(w.size() - 1));
                    }
                }
                if ((minLength > 0 && len < minLength) || len - context < minNewTokens) out.addAll(stops);
            }
            out.addAll(rules.suppressTokens());
            if (len == beginIndex) out.addAll(rules.beginSuppressTokens());
            return out;
        }

        /** The forced ids at this step before suppressions (EOS at max_length − 1 over BOS at length 1), or null. */
        private Set<Integer> forcedIds() {
            int len = ids.size();
            if (!rules.forcedEosTokenIds().isEmpty() && len == context + maxNewTokens - 1) return rules.forcedEosTokenIds();
            if (rules.forcedBosTokenId() != null && len == 1) return Set.of(rules.forcedBosTokenId());
            return null;
        }

        /**
         * The only ids the next token may be by a forced BOS / EOS, or null when none is forced at this step. Greedy
         * with several forced ids: the smallest that is not suppressed now (transformers gives each forced id score 0,
         * and argmax takes the first maximum).
         */
        public int[] forced() {
            Set<Integer> f = forcedIds();
            if (f == null) return null;
            if (!greedy || f.size() == 1) return f.stream().mapToInt(Integer::intValue).toArray();
            Set<Integer> suppressed = new java.util.HashSet<>(rules.suppressTokens());
            if (ids.size() == beginIndex) suppressed.addAll(rules.beginSuppressTokens());
            return new int[] {f.stream().filter(id -> !suppressed.contains(id)).mapToInt(Integer::intValue).min()
                    .orElse(f.stream().mapToInt(Integer::intValue).min().orElseThrow())};
        }

        /** vLLM's allowed_token_ids as {@code words} mask words (built once), or null when every id is allowed. */
        int[] allowedWords(int words) {
            if (rules.allowedTokenIds() == null) return null;
            if (allowedWords == null || allowedWords.length != words) {
                int[] w = new int[words];
                for (int id : rules.allowedTokenIds()) if (id < 32L * words) w[id >>> 5] |= 1 << (id & 31);
                allowedWords = w;
            }
            return allowedWords;
        }
    }

    /** Refuses a logit bias, or a {@link TokenRules} id, outside the model's vocabulary [0, vocab), naming the field. */
    public static void checkBias(Generator.Options o, int vocab) {
        for (int id : o.logitBias().keySet()) {
            if (id >= vocab) throw new IllegalArgumentException("logitBias id " + id + " is outside the vocabulary [0, " + vocab + ")");
        }
        o.rules().check(vocab);
    }

    /**
     * One sequence's tokens as the penalty op reads them: its distinct ids, each with its count among the new
     * tokens (0 for one seen in the prompt only, −1 for one that only carries a bias) and its bias. Kept as tokens
     * come: a new token costs one hash lookup, never a recount of the sequence.
     */
    public static final class History {
        private final Map<Integer, Integer> slot = new HashMap<>();
        private int[] ids = new int[16];
        private int[] counts = new int[16];
        private float[] bias = new float[16];
        private int size;

        /** The history of a sequence starting from {@code prompt} under {@code o}, or null when o has no penalty. */
        public static History of(Generator.Options o, int[] prompt) {
            if (!o.penalized()) return null;
            History h = new History();
            o.logitBias().forEach((id, b) -> h.bias[h.slotOf(id)] = b);              // count −1: a bias only, so far
            if (o.repetitionPenalty() != 1f) for (int id : prompt) h.count(id, 0);   // only the repetition penalty reads the prompt
            return h;
        }

        /** A token the sequence produced. */
        public void add(int id) { count(id, 1); }

        private void count(int id, int add) {
            int i = slotOf(id);
            counts[i] = Math.max(counts[i], 0) + add;
        }

        /** The slot of id; a new one (count −1, no bias) where it has none. */
        private int slotOf(int id) {
            Integer i = slot.get(id);
            if (i != null) return i;
            if (size == ids.length) {
                ids = Arrays.copyOf(ids, 2 * size);
                counts = Arrays.copyOf(counts, 2 * size);
                bias = Arrays.copyOf(bias, 2 * size);
            }
            ids[size] = id;
            counts[size] = -1;
            slot.put(id, size);
            return size++;
        }
    }

    /**
     * A penalized copy of logits (rows, V), one history per row (null: the row is left as it is), or null when
     * {@code o} has no penalty; the caller closes the copy. The model's own logits stay untouched, so log-probabilities
     * reported beside a token are the model's.
     */
    public static Tensor penalized(Backend be, Tensor logits, Generator.Options o, History[] rows) {
        if (!o.penalized()) return null;
        Generator.Options[] each = new Generator.Options[rows.length];
        Arrays.fill(each, o);
        return penalized(be, logits, each, rows, false);
    }

    /**
     * The same for rows of different requests: row r under {@code o[r]} with its history {@code rows[r]} (null: left as
     * it is), in one penalty op with per-row penalties (ABI 13); null when no row is penalized. Each row gets the bits
     * {@link #penalized(Backend, Tensor, Generator.Options, History[])} gives it alone: a row without a logit bias of
     * its own carries bias −0.0, which keeps every logit's bits.
     */
    public static Tensor penalized(Backend be, Tensor logits, Generator.Options[] o, History[] rows) {
        boolean any = false;
        for (int r = 0; r < rows.length; r++) any |= rows[r] != null && o[r].penalized();
        return any ? penalized(be, logits, o, rows, true) : null;
    }

    private static Tensor penalized(Backend be, Tensor logits, Generator.Options[] o, History[] rows, boolean perRow) {
        int b = rows.length;
        int width = 1;
        boolean biased = false;
        for (int r = 0; r < b; r++) {
            if (rows[r] != null) width = Math.max(width, rows[r].size);
            biased |= rows[r] != null && !o[r].logitBias().isEmpty();
        }
        int[] ids = new int[b * width], counts = new int[b * width];
        float[] bias = biased ? new float[b * width] : null;
        Arrays.fill(ids, -1);
        float[] repetition = new float[b], presence = new float[b], frequency = new float[b];
        for (int r = 0; r < b; r++) {
            repetition[r] = o[r].repetitionPenalty();
            presence[r] = o[r].presencePenalty();
            frequency[r] = o[r].frequencyPenalty();
            History h = rows[r];
            if (h == null) continue;
            System.arraycopy(h.ids, 0, ids, r * width, h.size);
            System.arraycopy(h.counts, 0, counts, r * width, h.size);
            if (bias == null) continue;
            if (o[r].logitBias().isEmpty()) Arrays.fill(bias, r * width, (r + 1) * width, -0f);   // x + −0 is x, bit for bit
            else System.arraycopy(h.bias, 0, bias, r * width, h.size);
        }
        Tensor copy = be.empty(logits.dtype(), logits.shape());
        try (Tensor hi = Tensor.ofInts(ids, b, width); Tensor hc = Tensor.ofInts(counts, b, width);
             Tensor hb = bias == null ? null : Tensor.ofFloats(bias, b, width);
             Tensor di = be.upload(hi); Tensor dc = be.upload(hc); Tensor db = hb == null ? null : be.upload(hb)) {
            be.copy(logits, copy);
            be.penalty(perRow ? PenaltyOp.perRow(copy, di, dc, db, repetition, presence, frequency)
                    : new PenaltyOp(copy, di, dc, db, repetition[0], presence[0], frequency[0]));
        } catch (RuntimeException e) {
            copy.close();
            throw e;
        }
        return copy;
    }
}
