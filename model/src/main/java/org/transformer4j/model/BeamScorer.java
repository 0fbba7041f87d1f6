// BeamScorer — the host-side bookkeeping of transformers' deterministic beam search: the logits processors on
// log-probabilities, the top candidates over (num_beams × V) per prompt, the running beams, the finished hypotheses
// with their length-penalized scores, and when the search stops. No model, no backend: BeamSearch feeds it logits.
package org.transformer4j.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Rows are (prompt b, beam j) → b·N + j. Each {@link #advance} takes the logits (R, V) that follow every row and
 * returns, per row, the row it continues (its source) and the token it appends. The rules are transformers'
 * (generation/utils.py {@code _beam_search}, 4.5x/5.x; see {@link BeamSearch} for what each one is); finished
 * hypotheses are kept as a sorted list per prompt rather than transformers' merged tensors, which selects the same
 * ones: the masks it adds (−1e9) only ever keep candidates out.
 */
final class BeamScorer {

    /** transformers' initial score of beams 1.. (so that the first step draws from beam 0 only), and its mask. */
    static final double NEG = -1.0e9;

    /** A candidate: its accumulated log-probability, source row (within the prompt) and token. */
    private record Candidate(double score, int beam, int token) {}

    private final BeamSearch.Options o;
    private final int prompts;
    private final int n;
    private final int k;
    private final int[] eos;
    private final int contextLength;
    private final int[][] context;                    // (B) the ids generate's input_ids start with: prompt or [decoder start]
    private int[][] generated;                        // (R) each running row's new tokens
    private final double[] runScores;                 // (R)
    private final List<List<BeamSearch.Hypothesis>> finished = new ArrayList<>();   // per prompt, best first, ≤ N
    private final boolean[] unsatisfied;              // per prompt: the early-stop heuristic still says go on
    private int step;
    private boolean done;

    /**
     * @param context per prompt, the ids before the new tokens (what transformers' processors see in input_ids; all
     *                of one length for a batch, as transformers' padded batch has them)
     */
    BeamScorer(BeamSearch.Options o, int[][] context) {
        this.o = o;
        this.prompts = context.length;
        this.n = o.numBeams();
        this.eos = o.eosIds().stream().mapToInt(Integer::intValue).sorted().toArray();
        this.k = Math.max(2, 1 + eos.length) * n;
        this.context = context;
        this.contextLength = context[0].length;
        for (int[] c : context) {
            if (c.length != contextLength) throw new IllegalArgumentException("prompts of one batch must be of one length here");
        }
        this.generated = new int[prompts * n][0];
        this.runScores = new double[prompts * n];
        for (int r = 0; r < runScores.length; r++) if (r % n != 0) runScores[r] = NEG;
        this.unsatisfied = new boolean[prompts];
        Arrays.fill(unsatisfied, true);
        for (int b = 0; b < prompts; b++) finished.add(new ArrayList<>());
    }

    /** Candidates kept per prompt and step: max(2, 1 + number of EOS ids) · num_beams. */
    int candidatesPerStep() { return k; }

    boolean done() { return done; }

    /** Steps taken. */
    int steps() { return step; }

    /** The result: per prompt, the first num_return_sequences hypotheses, best first. */
    List<List<BeamSearch.Hypothesis>> results() {
        List<List<BeamSearch.Hypothesis>> out = new ArrayList<>();
        for (List<BeamSearch.Hypothesis> f : finished) out.add(List.copyOf(f.subList(0, Math.min(o.numReturnSequences(), f.size()))));
        return out;
    }

    /** Per row, the row it continues and the token it appends: {sources (R), tokens (R)}. */
    record Step(int[] sources, int[] tokens) {}

    /**
     * One step from the logits (R, V) of every running row. Throws where a row's logits are not finite
     * (NaN or +∞, or none finite), naming the prompt, the beam and the step.
     */
    Step advance(float[][] logits) {
        if (done) throw new IllegalStateException("the beam search has ended");
        int rows = prompts * n;
        if (logits.length != rows) throw new IllegalArgumentException("logits for " + logits.length + " rows, expected " + rows);
        boolean last = step + 1 >= o.maxNewTokens();
        int[] sources = new int[rows];
        int[] tokens = new int[rows];
        int[][] nextGenerated = new int[rows][];
        double[] nextScores = new double[rows];
        boolean allHit = true;
        for (int b = 0; b < prompts; b++) {
            List<Candidate> all = new ArrayList<>();
            for (int j = 0; j < n; j++) {
                int r = b * n + j;
                double[] lp = logSoftmax(logits[r], b, j);
                process(lp, sequence(b, r));
                topK(lp, runScores[r], j, all);
            }
            all.sort((x, y) -> x.score != y.score ? Double.compare(y.score, x.score)
                    : Integer.compare(x.beam * logits[0].length + x.token, y.beam * logits[0].length + y.token));
            List<Candidate> top = all.subList(0, Math.min(k, all.size()));
            boolean full = finished.get(b).size() == n;
            // finished hypotheses: hits among the first num_beams, unless the prompt is full (early_stopping true) or settled
            for (int i = 0; i < Math.min(n, top.size()); i++) {
                Candidate c = top.get(i);
                if (!hits(c.token, last)) continue;
                if (o.earlyStopping() == BeamSearch.EarlyStopping.TRUE && full) continue;
                if (!unsatisfied[b]) continue;
                add(b, new BeamSearch.Hypothesis(append(generated[b * n + c.beam], c.token),
                        c.score / Math.pow(step + 1, o.lengthPenalty())));
            }
            // the next running beams: the best num_beams that hit nothing (transformers fills up with hits at −1e9
            // when there are fewer, which happens only at the last step, after which nothing runs)
            int j = 0;
            for (Candidate c : top) {
                if (hits(c.token, last)) continue;
                allHit = false;
                if (j == n) break;
                int r = b * n + j++;
                sources[r] = b * n + c.beam;
                tokens[r] = c.token;
                nextGenerated[r] = append(generated[b * n + c.beam], c.token);
                nextScores[r] = c.score;
            }
            for (Candidate c : top) {
                if (j == n) break;
                if (!hits(c.token, last)) continue;
                int r = b * n + j++;
                sources[r] = b * n + c.beam;
                tokens[r] = c.token;
                nextGenerated[r] = append(generated[b * n + c.beam], c.token);
                nextScores[r] = c.score + NEG;
            }
        }
        generated = nextGenerated;
        System.arraycopy(nextScores, 0, runScores, 0, rows);
        step++;
        // the early-stop heuristic, after the step (transformers' cur_len has advanced)
        boolean never = o.earlyStopping() == BeamSearch.EarlyStopping.NEVER && o.lengthPenalty() > 0;
        double length = never ? o.maxNewTokens() : step;
        boolean allFull = true;
        boolean anyUnsatisfied = false;
        for (int b = 0; b < prompts; b++) {
            List<BeamSearch.Hypothesis> f = finished.get(b);
            if (f.size() < n) allFull = false;
            else if (unsatisfied[b]) unsatisfied[b] = runScores[b * n] / Math.pow(length, o.lengthPenalty()) > f.get(n - 1).score();
            anyUnsatisfied |= unsatisfied[b];
        }
        done = !anyUnsatisfied || (allFull && o.earlyStopping() == BeamSearch.EarlyStopping.TRUE) || allHit;
        return new Step(sources, tokens);
    }

    /** Whether a candidate token ends its sequence: an EOS id, or the last new token. */
    private boolean hits(int token, boolean last) {
        return last || Arrays.binarySearch(eos, token) >= 0;
    }

    /** Keeps the best num_beams hypotheses of prompt b; a newcomer goes after those with an equal score. */
    private void add(int b, BeamSearch.Hypothesis h) {
        List<BeamSearch.Hypothesis> f = finished.get(b);
        int at = 0;
        while (at < f.size() && f.get(at).score() >= h.score()) at++;
        if (at >= n) return;
        f.add(at, h);
        if (f.size() > n) f.remove(n);
    }

    /** Row r's ids as transformers' input_ids hold them: the context of prompt b, then the row's new tokens. */
    private int[] sequence(int b, int r) {
        int[] g = generated[r];
        int[] s = Arrays.copyOf(context[b], contextLength + g.length);
        System.arraycopy(g, 0, s, contextLength, g.length);
        return s;
    }

    /** Adds the best k (token, score) pairs of one row to {@code out}: a candidate outside a row's own top k is outside the prompt's. */
    private void topK(double[] lp, double running, int beam, List<Candidate> out) {
        int kk = Math.min(k, lp.length);
        int[] idx = new int[kk];
        int size = 0;
        for (int v = 0; v < lp.length; v++) {
            if (size < kk) {
                int at = size++;
                while (at > 0 && better(lp, v, idx[at - 1])) { idx[at] = idx[at - 1]; at--; }
                idx[at] = v;
            } else if (better(lp, v, idx[kk - 1])) {
                int at = kk - 1;
                while (at > 0 && better(lp, v, idx[at - 1])) { idx[at] = idx[at - 1]; at--; }
                idx[at] = v;
            }
        }
        for (int i = 0; i < size; i++) out.add(new Candidate(lp[idx[i]] + running, beam, idx[i]));
    }

    /** Whether id a ranks before id b (higher, then lower id). */
    private static boolean better(double[] lp, int a, int b) {
        return lp[a] > lp[b] || (lp[a] == lp[b] && a < b);
    }

    private static int[] append(int[] a, int t) {
        int[] out = Arrays.copyOf(a, a.length + 1);
        out[a.length] = t;
        return out;
    }

    private double[] logSoftmax(float[] x, int b, int beam) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : x) {
            if (Float.isNaN(v) || v == Float.POSITIVE_INFINITY) max = Double.NaN;
            else if (!Double.isNaN(max)) max = Math.max(max, v);
        }
        if (!(max > Double.NEGATIVE_INFINITY)) {
            throw new IllegalStateException("prompt " + b + ", beam " + beam + ": non-finite logits (NaN, +∞ or none finite) at step " + step);
        }
        double sum = 0;
        for (float v : x) sum += Math.exp(v - max);
        double log = max + Math.log(sum);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) out[i] = x[i] - log;
        return out;
    }

    /**
     * transformers' processors for beam search, on one row's log-probabilities, in {@code _get_logits_processor}'s
     * order; {@code seq} is the row's input_ids: repetition_penalty, no_repeat_ngram_size, bad_words_ids, min_length,
     * min_new_tokens, forced_bos_token_id, forced_eos_token_id (each forced id scores 0, every other −∞), suppress_tokens,
     * begin_suppress_tokens; then vLLM's allowed_token_ids (not transformers': −∞ outside them).
     */
    void process(double[] lp, int[] seq) {
        float p = o.repetitionPenalty();
        if (p != 1f) {                                        // RepetitionPenaltyLogitsProcessor: < 0 multiplied, else divided
            boolean[] seen = new boolean[lp.length];
            for (int id : seq) {
                if (seen[id]) continue;
                seen[id] = true;
                lp[id] = lp[id] < 0 ? lp[id] * p : lp[id] / p;
            }
        }
        int ng = o.noRepeatNgramSize();
        if (ng > 0 && seq.length + 1 >= ng) {                 // NoRepeatNGramLogitsProcessor
            int tail = seq.length - ng + 1;                   // the last ng − 1 ids start here
            for (int i = 0; i + ng <= seq.length; i++) {
                if (Arrays.equals(seq, i, i + ng - 1, seq, tail, seq.length)) lp[seq[i + ng - 1]] = Double.NEGATIVE_INFINITY;
            }
        }
        TokenRules rules = o.rules();
        for (java.util.List<Integer> w : rules.badWordsIds()) {         // NoBadWordsLogitsProcessor: [eos] dropped
            if (w.size() == 1 && Arrays.binarySearch(eos, w.get(0)) >= 0) continue;
            if (w.size() > seq.length) continue;
            boolean match = true;
            for (int i = 0; i < w.size() - 1 && match; i++) match = w.get(i) == seq[seq.length - w.size() + 1 + i];
            if (match) lp[w.get(w.size() - 1)] = Double.NEGATIVE_INFINITY;
        }
        java.util.List<Integer> out = new java.util.ArrayList<>();                   // vLLM's bad_words: the new tokens only
        for (int i = contextLength; i < seq.length; i++) out.add(seq[i]);
        for (java.util.List<Integer> w : rules.outputBadWordsIds()) {
            if (TokenRules.outputPrefixMatches(w, out)) lp[w.get(w.size() - 1)] = Double.NEGATIVE_INFINITY;
        }
        boolean suppress = (o.minLength() > 0 && seq.length < o.minLength())                       // MinLengthLogitsProcessor
                || (o.minNewTokens() > 0 && seq.length - contextLength < o.minNewTokens());        // MinNewTokensLengthLogitsProcessor
        if (suppress) for (int e : eos) if (e < lp.length) lp[e] = Double.NEGATIVE_INFINITY;
        if (rules.forcedBosTokenId() != null && seq.length == 1) force(lp, java.util.Set.of(rules.forcedBosTokenId()));
        if (!rules.forcedEosTokenIds().isEmpty() && seq.length == contextLength + o.maxNewTokens() - 1) force(lp, rules.forcedEosTokenIds());
        for (int id : rules.suppressTokens()) if (id < lp.length) lp[id] = Double.NEGATIVE_INFINITY;     // past V: ignored (isin)
        if (seq.length == rules.beginIndex(contextLength)) {
            for (int id : rules.beginSuppressTokens()) if (id < lp.length) lp[id] = Double.NEGATIVE_INFINITY;
        }
        if (rules.allowedTokenIds() != null) {
            for (int v = 0; v < lp.length; v++) if (!rules.allowedTokenIds().contains(v)) lp[v] = Double.NEGATIVE_INFINITY;
        }
        if (rules.renormalizeLogits()) renormalize(lp);                // LogitNormalization, the last processor
    }

    /** lp ← log_softmax(lp) in double (a row with no finite score is left as it is). */
    private static void renormalize(double[] lp) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : lp) max = Math.max(max, v);
        if (max == Double.NEGATIVE_INFINITY || Double.isNaN(max)) return;
        double sum = 0;
        for (double v : lp) sum += Math.exp(v - max);
        double shift = max + Math.log(sum);
        for (int i = 0; i < lp.length; i++) lp[i] -= shift;
    }

    /** ForcedBOS / ForcedEOSTokenLogitsProcessor: every score −∞ but the forced ids', which become 0. */
    private static void force(double[] lp, java.util.Set<Integer> ids) {
        Arrays.fill(lp, Double.NEGATIVE_INFINITY);
        for (int id : ids) lp[id] = 0;
    }
}
