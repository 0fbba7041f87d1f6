"""beam.py — transformers' deterministic beam search (generate(num_beams=N), do_sample false) in float64 numpy.

Written from transformers' generation/utils.py (GenerationMixin._beam_search and its helpers
_get_top_k_continuations, _get_running_beams_for_next_iteration, _update_finished_beams,
_check_early_stop_heuristic, _beam_search_has_unfinished_sequences; read at commit 000034a44ef8, the
vectorized beam search of 4.5x / 5.x) and generation/logits_process.py (RepetitionPenaltyLogitsProcessor,
NoRepeatNGramLogitsProcessor, NoBadWordsLogitsProcessor (SequenceBiasLogitsProcessor with -inf),
MinLengthLogitsProcessor, MinNewTokensLengthLogitsProcessor, ForcedBOSTokenLogitsProcessor,
ForcedEOSTokenLogitsProcessor, SuppressTokensLogitsProcessor, SuppressTokensAtBeginLogitsProcessor, in
_get_logits_processor's order; read at commit 00857b6cf63a), as tensors over (batch, beams) like the original, the
additive -1e9 masks included. Shares no code with the Java library.

What it follows, step by step (cur_len: the length of generate's input_ids so far; decoder_prompt_len: its length
before the first step — a decoder-only model's prompt, an encoder-decoder's decoder start, 1):
- each beam's logits go through log_softmax first, then the logits processors (on log-probabilities);
- the running score of each beam is added; beams 1.. of a prompt start at -1e9, so the first step draws from beam 0;
- the top K = max(2, 1 + number of EOS ids) * num_beams candidates over (num_beams x V) per prompt;
- a candidate hits the stopping criteria when its token is an EOS id or its length reaches max_length
  (decoder_prompt_len + max_new_tokens);
- the next running beams: the best num_beams candidates that hit nothing;
- finished hypotheses: candidates among the first num_beams that hit a criterion, scored
  sum_logprobs / (cur_len + 1 - decoder_prompt_len) ** length_penalty (the new tokens, EOS included, prompt not),
  merged with the kept ones, best num_beams kept; none is added to a prompt whose num_beams slots are all finished
  when early_stopping is True, nor once the prompt's early-stop heuristic is satisfied;
- the heuristic (after cur_len advanced): still unsatisfied while best_running / L ** length_penalty beats the worst
  finished score (any slot unfinished counts as -1e9), L = max_length - decoder_prompt_len when early_stopping is
  "never" and length_penalty > 0, else cur_len - decoder_prompt_len;
- the loop stops (for the whole batch) when no prompt's heuristic is unsatisfied, or every slot of every prompt is
  finished with early_stopping True, or every candidate hit a criterion (max_length);
- the first num_return_sequences slots (best first) are returned with their scores (sequences_scores).
torch.topk's order among equal values is unspecified; here ties go to the lower index (np.argsort, stable)."""
import numpy as np

NEG = -1.0e9


def log_softmax(x):
    m = np.max(x)
    return x - m - np.log(np.sum(np.exp(x - m)))


def process(seq, logp, prompt_len, eos_ids, repetition_penalty=1.0, no_repeat_ngram_size=0, min_length=0, min_new_tokens=0,
            bad_words_ids=(), forced_bos_token_id=None, forced_eos_token_id=(), max_length=None, suppress_tokens=(),
            begin_suppress_tokens=()):
    """The processors generate builds for beam search, in _get_logits_processor's order, applied to one row's
    log-probabilities (V,); seq is the row's input_ids (decoder-only: the prompt and the new tokens; encoder-decoder:
    the decoder start and the new tokens); prompt_len is generate's input_ids_seq_length."""
    s = np.array(logp, dtype=np.float64)
    cur_len = len(seq)
    if repetition_penalty != 1.0:                  # RepetitionPenaltyLogitsProcessor: < 0 multiplied, else divided
        ids = np.unique(np.asarray(seq, dtype=np.int64))
        v = s[ids]
        s[ids] = np.where(v < 0, v * repetition_penalty, v / repetition_penalty)
    n = no_repeat_ngram_size
    if n > 0 and len(seq) + 1 >= n:                # NoRepeatNGramLogitsProcessor: tokens that would repeat an n-gram
        tail = list(seq[len(seq) - n + 1:]) if n > 1 else []
        for i in range(len(seq) - n + 1):
            if list(seq[i:i + n - 1]) == tail:
                s[seq[i + n - 1]] = -np.inf
    if bad_words_ids:                              # NoBadWordsLogitsProcessor: [eos] filtered out, then a -inf bias
        words = [list(w) for w in bad_words_ids if all(list(w) != [e] for e in eos_ids)]
        bias = np.zeros_like(s)
        for w in words:
            if len(w) == 1:
                bias[w[0]] = -np.inf
            elif len(w) <= cur_len and list(seq[cur_len - (len(w) - 1):]) == w[:-1]:
                bias[w[-1]] += -np.inf
        s = s + bias
    if eos_ids and min_length > 0 and len(seq) < min_length:                       # MinLengthLogitsProcessor
        s[list(eos_ids)] = -np.inf
    if eos_ids and min_new_tokens > 0 and len(seq) - prompt_len < min_new_tokens:  # MinNewTokensLengthLogitsProcessor
        s[list(eos_ids)] = -np.inf
    if forced_bos_token_id is not None and cur_len == 1:                           # ForcedBOSTokenLogitsProcessor
        s = np.full_like(s, -np.inf)
        s[forced_bos_token_id] = 0
    if forced_eos_token_id and cur_len == max_length - 1:                          # ForcedEOSTokenLogitsProcessor
        s = np.full_like(s, -np.inf)
        s[list(forced_eos_token_id)] = 0
    if suppress_tokens:                                                            # SuppressTokensLogitsProcessor
        s[list(suppress_tokens)] = -np.inf
    if begin_suppress_tokens:                      # SuppressTokensAtBeginLogitsProcessor, begin_index as generate sets it
        begin_index = prompt_len if (prompt_len > 1 or forced_bos_token_id is None) else prompt_len + 1
        if cur_len == begin_index:
            s[list(begin_suppress_tokens)] = -np.inf
    return s


def _top(x, k):
    """Indices of the k largest values of a 1-D array, largest first, ties to the lower index."""
    return np.argsort(-x, kind="stable")[:k]


def beam_search(step, prompts, num_beams, max_new_tokens, eos_ids, length_penalty=1.0, early_stopping=False,
                num_return_sequences=1, repetition_penalty=1.0, no_repeat_ngram_size=0, min_length=0, min_new_tokens=0,
                bad_words_ids=(), forced_bos_token_id=None, forced_eos_token_id=(), suppress_tokens=(),
                begin_suppress_tokens=(), renormalize_logits=False):
    """step(b, ids) -> the logits (V,) that follow ids for prompt b (full recomputation). prompts: one id list per
    prompt, all of one length (generate's input_ids; for an encoder-decoder [decoder_start] each). Returns
    {"sequences": per prompt the num_return_sequences new-token lists, best first; "scores": their sequences_scores;
    "steps": decode steps run; "min_gap": the smallest difference, over the run, between two scores whose order decided
    something (the num_beams-th and next candidate that hit no criterion, the num_beams-th and next candidate where a
    hit is among them, consecutive kept finished scores and the next one, the heuristic's comparison): a float32 implementation agrees while its accumulated error stays below it}."""
    if num_return_sequences > num_beams:
        raise ValueError("num_return_sequences must be <= num_beams")
    B, N = len(prompts), num_beams
    plen = len(prompts[0])
    assert all(len(p) == plen for p in prompts)
    eos = list(eos_ids)
    K = max(2, 1 + len(eos)) * N
    max_length = plen + max_new_tokens
    running = [[list(p) for _ in range(N)] for p in prompts]
    run_scores = np.zeros((B, N))
    run_scores[:, 1:] = NEG
    fin = [[list(p) for _ in range(N)] for p in prompts]
    fin_scores = np.full((B, N), NEG)
    is_fin = np.zeros((B, N), dtype=bool)
    unsat = np.ones(B, dtype=bool)
    cur = plen
    gap = np.inf
    steps = 0
    while True:
        steps += 1
        V = None
        acc = []
        for b in range(B):
            rows = []
            for n in range(N):
                logits = np.asarray(step(b, running[b][n]), dtype=np.float64)
                V = logits.shape[0]
                lp = process(running[b][n], log_softmax(logits), plen, eos, repetition_penalty, no_repeat_ngram_size,
                             min_length, min_new_tokens, bad_words_ids, forced_bos_token_id, forced_eos_token_id, max_length,
                             suppress_tokens, begin_suppress_tokens)
                if renormalize_logits:                                        # LogitNormalization, the last processor
                    lp = log_softmax(lp)
                rows.append(lp + run_scores[b, n])
            acc.append(np.concatenate(rows))                                  # (N * V)
        hits_all = []
        for b in range(B):
            wide = _top(acc[b], 2 * K)                                        # for the decisive gaps
            wide_hit = np.array([int(i % V) in eos or cur + 1 >= max_length for i in wide])
            free = acc[b][wide][~wide_hit]
            if len(free) > N and free[N] > NEG / 2:                          # which beams run on
                gap = min(gap, float(free[N - 1] - free[N]))
            if wide_hit[:N + 1].any() and acc[b][wide[N]] > NEG / 2:         # which hits rank among the first num_beams
                gap = min(gap, float(acc[b][wide[N - 1]] - acc[b][wide[N]]))
            idx = wide[:K]
            cand_scores = acc[b][idx]
            cand_beam, cand_tok = idx // V, idx % V
            cand = [running[b][cb] + [int(t)] for cb, t in zip(cand_beam, cand_tok)]
            hits = np.array([int(t) in eos or cur + 1 >= max_length for t in cand_tok])
            hits_all.append(hits)
            # e. the next running beams: the best num_beams that hit nothing
            nxt = _top(cand_scores + hits * NEG, N)
            running[b] = [cand[i] for i in nxt]
            run_scores[b] = (cand_scores + hits * NEG)[nxt]
            # f. finished hypotheses
            did = hits & (np.arange(K) < N)
            pen = cand_scores / float(cur + 1 - plen) ** length_penalty
            if early_stopping is True and is_fin[b].all():
                pen = pen + NEG
            if not unsat[b]:
                pen = pen + NEG
            pen = pen + (~did) * NEG
            merged = np.concatenate([fin_scores[b], pen])
            merged_seq = fin[b] + cand
            merged_fin = np.concatenate([is_fin[b], did])
            keep = _top(merged, N)
            kept = merged[_top(merged, N + 1)]
            real = kept[kept > NEG / 2]                                       # which hypotheses stay, in which order
            if len(real) > 1:
                gap = min(gap, float(np.min(real[:-1] - real[1:])))
            fin[b] = [merged_seq[i] for i in keep]
            fin_scores[b] = merged[keep]
            is_fin[b] = merged_fin[keep]
        cur += 1
        for b in range(B):                                                    # _check_early_stop_heuristic
            length = max_length - plen if early_stopping == "never" and length_penalty > 0 else cur - plen
            best = run_scores[b, 0] / float(length) ** length_penalty
            worst = np.where(is_fin[b], np.min(fin_scores[b]), NEG)
            if is_fin[b].all() and unsat[b]:
                gap = min(gap, abs(best - worst[0]))
            unsat[b] = unsat[b] and bool(np.any(best > worst))
        more = unsat.any() and not (is_fin.all() and early_stopping is True) and not all(h.all() for h in hits_all)
        if not more:
            break
    return {"sequences": [[fin[b][i][plen:] for i in range(num_return_sequences)] for b in range(B)],
            "scores": [[float(fin_scores[b][i]) for i in range(num_return_sequences)] for b in range(B)],
            "steps": steps, "min_gap": float(gap)}
