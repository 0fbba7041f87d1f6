// BeamSearchOnline — vLLM's online beam search (its OpenAI server's use_beam_search) driven through the Engine: each
// step runs every live beam as a one-token request asking for its 2 · beam_width most likely next tokens, so beams
// batch with whatever else the engine serves and take their earlier rows from the prefix cache.
package org.transformer4j.model.engine;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.transformer4j.model.Generator;

/**
 * What it follows: vLLM's {@code BeamSearchOnlineMixin.beam_search} and {@code vllm/beam_search.py} (read in December
 * 2026), which differ from transformers' beam search ({@link org.transformer4j.model.BeamSearch}):
 * <ul>
 * <li>the search starts from one beam, the prompt; each step asks for every live beam's top 2 · beam_width raw
 *     log-probabilities (log softmax of the logits at temperature 1: vLLM's default raw_logprobs, so temperature
 *     changes nothing), the chosen token's first;</li>
 * <li>a candidate that is the tokenizer's EOS id (unless ignore_eos) is finished at once with the beam's cumulative
 *     log-probability plus its own, the EOS kept in its tokens only with include_stop_str_in_output; finished beams are
 *     never dropped while the search runs;</li>
 * <li>the next beams are the beam_width other candidates of highest cumulative log-probability;</li>
 * <li>after max_tokens steps (or when no candidate is left) the finished and live beams are ranked by
 *     {@code cumulative / len ^ length_penalty}, len counting the prompt's tokens and the beam's, less one where the
 *     last is the EOS id, and the best beam_width are returned, best first (ties: in the order they were made).</li>
 * </ul>
 * Each step's requests are independent engine requests: one that fails ends the search with its error, and a search
 * past its deadline cancels its requests.
 */
public final class BeamSearchOnline {

    private BeamSearchOnline() {}

    /**
     * vLLM's BeamSearchParams. {@code eosId}: the tokenizer's eos_token_id (vLLM ends beams on that one id only), or −1
     * for none.
     */
    public record Params(int beamWidth, int maxTokens, boolean ignoreEos, double lengthPenalty, boolean includeStopStrInOutput, int eosId) {
        public Params {
            if (beamWidth < 1) throw new IllegalArgumentException("beam width must be ≥ 1, got " + beamWidth);
            if (maxTokens < 1) throw new IllegalArgumentException("max_tokens must be ≥ 1, got " + maxTokens);
            if (!Double.isFinite(lengthPenalty)) throw new IllegalArgumentException("length_penalty must be finite, got " + lengthPenalty);
            if (eosId < -1) throw new IllegalArgumentException("eosId must be a token id or -1 (none), got " + eosId);
        }
    }

    /**
     * A returned beam: {@code tokens} its new tokens (vLLM's token_ids: the EOS included only with
     * include_stop_str_in_output), {@code textTokens} those its text decodes (the EOS never), its cumulative
     * log-probability, whether the EOS ended it ("stop"; else "length"), and its rank score.
     */
    public record Beam(int[] tokens, int[] textTokens, double cumulativeLogprob, boolean stopped, double score) {}

    /** The best beams, best first, and the prompt tokens the first step found in the prefix cache. */
    public record Result(List<Beam> beams, int cachedPromptTokens) {}

    /** A beam while the search runs: all its tokens, the prompt's included. */
    private record Seq(int[] tokens, double cum, boolean stopped) {}

    /** A candidate continuation: its cumulative log-probability, its token, and the beam it continues. */
    private record Candidate(double cum, int token, Seq beam) {}

    /**
     * Runs the search for {@code prompt} through {@code engine} (through its LoRA adapter {@code adapter} and prefix-cache
     * salt {@code cacheSalt}, either null for none) and returns the best {@code p.beamWidth()} beams; throws
     * TimeoutException past {@code deadlineNanos} (System.nanoTime), IllegalStateException where a step's request failed.
     */
    public static Result run(Engine engine, int[] prompt, Params p, String adapter, String cacheSalt, long deadlineNanos)
            throws InterruptedException, TimeoutException {
        if (prompt == null || prompt.length == 0) throw new IllegalArgumentException("the prompt is empty");
        int vocab = engine.model().config.vocabSize();
        if (p.eosId() >= vocab) throw new IllegalArgumentException("EOS id " + p.eosId() + " is outside the vocabulary of " + vocab);
        int logprobs = Math.multiplyExact(2, p.beamWidth());
        List<Seq> beams = List.of(new Seq(prompt.clone(), 0, false));
        List<Seq> completed = new ArrayList<>();
        int cached = 0;
        for (int step = 0; step < p.maxTokens(); step++) {
            int[] admittedCached = new int[beams.size()];
            List<Engine.Token> out = step(engine, beams, logprobs, adapter, cacheSalt, deadlineNanos, admittedCached);
            if (step == 0) cached = admittedCached[0];
            List<Candidate> candidates = new ArrayList<>();
            for (int i = 0; i < beams.size(); i++) {
                Seq beam = beams.get(i);
                Engine.Token t = out.get(i);
                // the chosen token first (vLLM's logprobs put the sampled one first), then the other top ids
                addCandidate(p, beam, t.id(), t.logprob(), candidates, completed);
                for (int j = 0; j < t.topIds().length; j++) {
                    if (t.topIds()[j] == t.id()) continue;
                    addCandidate(p, beam, t.topIds()[j], t.topLogprobs()[j], candidates, completed);
                }
            }
            // the beam_width best by cumulative log-probability; a stable sort keeps ties in the order they were made
            candidates.sort(Comparator.comparingDouble((Candidate c) -> c.cum()).reversed());
            List<Seq> next = new ArrayList<>();
            for (int i = 0; i < Math.min(p.beamWidth(), candidates.size()); i++) {
                Candidate c = candidates.get(i);
                next.add(new Seq(append(c.beam().tokens(), c.token()), c.cum(), false));
            }
            beams = next;
            if (beams.isEmpty()) break;
        }
        List<Seq> all = new ArrayList<>(completed);
        all.addAll(beams);
        all.sort(Comparator.comparingDouble((Seq s) -> score(s, p)).reversed());   // stable: ties keep their order
        List<Beam> best = new ArrayList<>();
        for (Seq s : all.subList(0, Math.min(p.beamWidth(), all.size()))) {
            int[] tokens = java.util.Arrays.copyOfRange(s.tokens(), prompt.length, s.tokens().length);
            boolean eosLast = s.tokens().length > 0 && s.tokens()[s.tokens().length - 1] == p.eosId() && !p.ignoreEos();
            int[] text = eosLast ? java.util.Arrays.copyOfRange(s.tokens(), prompt.length, Math.max(prompt.length, s.tokens().length - 1)) : tokens;
            best.add(new Beam(tokens, text, s.cum(), s.stopped(), score(s, p)));
        }
        return new Result(List.copyOf(best), cached);
    }

    /**
     * One step: every beam as a one-token greedy request with {@code logprobs} alternatives, submitted together so that
     * the engine batches them; each beam's token, and in {@code cached} the prompt rows each took from the prefix cache.
     */
    private static List<Engine.Token> step(Engine engine, List<Seq> beams, int logprobs, String adapter, String cacheSalt,
                                           long deadlineNanos, int[] cached) throws InterruptedException, TimeoutException {
        List<CompletableFuture<Engine.Token>> fs = new ArrayList<>();
        List<Engine.Handle> handles = new ArrayList<>();
        try {
            for (int i = 0; i < beams.size(); i++) {
                int at = i;
                CompletableFuture<Engine.Token> f = new CompletableFuture<>();
                fs.add(f);
                Engine.Request r = new Engine.Request(beams.get(i).tokens(), Generator.Options.greedy(1), logprobs)
                        .withCacheSalt(cacheSalt).withAdapter(adapter);
                handles.add(engine.submit(r, new Engine.Listener() {
                    @Override public void onAdmitted(int cachedPromptTokens) { cached[at] = cachedPromptTokens; }
                    @Override public void onToken(Engine.Token t) { if (t.index() == 0) f.complete(t); }
                    @Override public void onFinish(Engine.Finish reason, String error) {
                        if (error != null) f.completeExceptionally(new IllegalStateException("beam search failed: " + error));
                        else if (!f.isDone()) f.completeExceptionally(new IllegalStateException("beam search failed: a step ended ("
                                + reason + ") without a token"));
                    }
                }));
            }
            List<Engine.Token> out = new ArrayList<>();
            for (CompletableFuture<Engine.Token> f : fs) {
                long left = deadlineNanos - System.nanoTime();
                if (left <= 0) throw new TimeoutException("beam search ran past its deadline");
                try {
                    out.add(f.get(left, TimeUnit.NANOSECONDS));
                } catch (ExecutionException e) {
                    throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
                }
            }
            return out;
        } catch (InterruptedException | TimeoutException | RuntimeException e) {
            for (Engine.Handle h : handles) h.cancel();
            throw e;
        }
    }

    /** vLLM's get_beam_search_score: the cumulative log-probability over (all tokens, less a last EOS) ^ length_penalty. */
    static double score(Seq s, Params p) {
        int len = s.tokens().length;
        if (len > 0 && s.tokens()[len - 1] == p.eosId()) len--;
        return s.cum() / Math.pow(len, p.lengthPenalty());
    }

    private static void addCandidate(Params p, Seq beam, int token, double logprob, List<Candidate> candidates, List<Seq> completed) {
        double cum = beam.cum() + logprob;
        if (token == p.eosId() && !p.ignoreEos()) {
            completed.add(new Seq(p.includeStopStrInOutput() ? append(beam.tokens(), token) : beam.tokens(), cum, true));
        } else {
            candidates.add(new Candidate(cum, token, beam));
        }
    }

    private static int[] append(int[] a, int x) {
        int[] r = java.util.Arrays.copyOf(a, a.length + 1);
        r[a.length] = x;
        return r;
    }
}
