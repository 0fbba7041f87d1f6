// TokenRules — transformers' remaining token-ban processors (forced_bos_token_id, forced_eos_token_id, bad_words_ids,
// suppress_tokens, begin_suppress_tokens) and vLLM's allowed_token_ids, as one value that Generator.Options and
// BeamSearch.Options carry; Sampling.Bans applies them through the mask op, BeamScorer on log-probabilities.
package org.transformer4j.model;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What each rule does, as transformers' {@code generation/logits_process.py} defines it; "input_ids" is what generate
 * holds: the (fitted) prompt then the new tokens for a decoder-only model, the decoder's start id then the new tokens
 * for an encoder-decoder. Their order is {@code _get_logits_processor}'s: bad_words_ids (with no_repeat_ngram_size,
 * min_length, min_new_tokens), then forced_bos, forced_eos, then suppress_tokens and begin_suppress_tokens — so a forced
 * token overrides the bans before it (it sets every other score to −∞ and its own to 0) but not the suppressions after.
 *
 * @param forcedBosTokenId    ForcedBOSTokenLogitsProcessor (null: none): the only allowed id while input_ids hold one
 *                            id — an encoder-decoder's first new token, or a decoder-only model's after a one-token prompt
 * @param forcedEosTokenIds   ForcedEOSTokenLogitsProcessor (empty: none): the only allowed ids at input_ids length
 *                            max_length − 1, i.e. for the last new token under maxNewTokens. Several ids: transformers
 *                            sets each to 0, so greedy takes the smallest (argmax's first maximum, done here exactly);
 *                            sampling draws among them uniformly there, here by the model's probabilities (documented
 *                            difference: the mask op keeps logits, it does not set them)
 * @param badWordsIds         NoBadWordsLogitsProcessor (empty: none): a one-id sequence is always banned; a longer one's
 *                            last id is banned when input_ids end with the rest (and are at least as long as the whole
 *                            sequence). One-id sequences equal to a stop id are dropped, as transformers drops
 *                            {@code [eos]} (the stop ids here are the eos ids)
 * @param suppressTokens      SuppressTokensLogitsProcessor (empty: none): always banned (ids past the vocabulary ignored)
 * @param beginSuppressTokens SuppressTokensAtBeginLogitsProcessor (empty: none): banned when input_ids' length is the
 *                            begin index — the context's length, plus one when the context is one id and a forced BOS is
 *                            set (generate's rule), so: the first new token, or the one after a forced BOS
 * @param allowedTokenIds     vLLM's allowed_token_ids (null: every id): the only ids any new token may be
 * @param outputBadWordsIds   vLLM's bad_words once tokenized (empty: none), as its bad-words processor
 *                            (vllm/v1/sample/ops/bad_words.py) applies them: against the new tokens only, not the prompt —
 *                            a sequence's last id is banned when the new tokens end with the rest (a one-id sequence:
 *                            always); stop ids are not dropped
 * @param renormalizeLogits   transformers' renormalize_logits (LogitNormalization, the last processor): the processed
 *                            scores log-softmaxed again. Only beam search's scores change (opus-mt folders set it, so a
 *                            banned pad's share is given back); greedy and sampled choices are the same either way
 */
public record TokenRules(Integer forcedBosTokenId, Set<Integer> forcedEosTokenIds, List<List<Integer>> badWordsIds,
                         Set<Integer> suppressTokens, Set<Integer> beginSuppressTokens, Set<Integer> allowedTokenIds,
                         List<List<Integer>> outputBadWordsIds, boolean renormalizeLogits) {

    /** No rule. */
    public static final TokenRules NONE = new TokenRules(null, Set.of(), List.of(), Set.of(), Set.of(), null, List.of(), false);

    public TokenRules {
        if (forcedBosTokenId != null && forcedBosTokenId < 0) {
            throw new IllegalArgumentException("forcedBosTokenId " + forcedBosTokenId + " is not a token id (< 0)");
        }
        forcedEosTokenIds = ids("forcedEosTokenIds", forcedEosTokenIds);
        suppressTokens = ids("suppressTokens", suppressTokens);
        beginSuppressTokens = ids("beginSuppressTokens", beginSuppressTokens);
        if (allowedTokenIds != null) {
            if (allowedTokenIds.isEmpty()) throw new IllegalArgumentException("allowedTokenIds must not be empty (null: every id)");
            allowedTokenIds = ids("allowedTokenIds", allowedTokenIds);
        }
        badWordsIds = words("badWordsIds", badWordsIds);
        outputBadWordsIds = words("outputBadWordsIds", outputBadWordsIds);
    }

    private static List<List<Integer>> words(String field, List<List<Integer>> in) {
        List<List<Integer>> words = new ArrayList<>();
        if (in == null) return List.of();
        for (List<Integer> w : in) {
            if (w == null || w.isEmpty()) throw new IllegalArgumentException(field + " holds an empty sequence");
            for (Integer id : w) if (id == null || id < 0) throw new IllegalArgumentException(field + " holds " + id + ", not a token id");
            words.add(List.copyOf(w));
        }
        return List.copyOf(words);
    }

    private static Set<Integer> ids(String field, Set<Integer> ids) {
        if (ids == null) return Set.of();
        for (Integer id : ids) if (id == null || id < 0) throw new IllegalArgumentException(field + " holds " + id + ", not a token id");
        return java.util.Collections.unmodifiableSet(new LinkedHashSet<>(ids));
    }

    /** Whether any rule is set. */
    public boolean any() {
        return forcedBosTokenId != null || !forcedEosTokenIds.isEmpty() || !badWordsIds.isEmpty() || !suppressTokens.isEmpty()
                || !beginSuppressTokens.isEmpty() || allowedTokenIds != null || !outputBadWordsIds.isEmpty();
    }

    /**
     * Refuses an id outside the model's vocabulary [0, vocab), naming the field (vLLM: allowed_token_ids → 400;
     * transformers: an index error for a forced id, a ValueError for a bad word). suppress_tokens and
     * begin_suppress_tokens past the vocabulary are ignored instead, as transformers' {@code torch.isin} over the
     * vocabulary's ids ignores them.
     */
    public void check(int vocab) {
        if (forcedBosTokenId != null) check("forcedBosTokenId", forcedBosTokenId, vocab);
        for (int id : forcedEosTokenIds) check("forcedEosTokenIds", id, vocab);
        for (List<Integer> w : badWordsIds) for (int id : w) check("badWordsIds", id, vocab);
        if (allowedTokenIds != null) for (int id : allowedTokenIds) check("allowedTokenIds", id, vocab);
        for (List<Integer> w : outputBadWordsIds) for (int id : w) check("outputBadWordsIds", id, vocab);
    }

    private static void check(String field, int id, int vocab) {
        if (id >= vocab) throw new IllegalArgumentException(field + " id " + id + " is outside the vocabulary [0, " + vocab + ")");
    }

    /** transformers' renormalize_logits. */
    public TokenRules renormalize(boolean on) {
        return new TokenRules(forcedBosTokenId, forcedEosTokenIds, badWordsIds, suppressTokens, beginSuppressTokens, allowedTokenIds,
                outputBadWordsIds, on);
    }

    public TokenRules forcedBos(Integer id) {
        return new TokenRules(id, forcedEosTokenIds, badWordsIds, suppressTokens, beginSuppressTokens, allowedTokenIds, outputBadWordsIds, renormalizeLogits);
    }

    public TokenRules forcedEos(Set<Integer> ids) {
        return new TokenRules(forcedBosTokenId, ids, badWordsIds, suppressTokens, beginSuppressTokens, allowedTokenIds, outputBadWordsIds, renormalizeLogits);
    }

    public TokenRules badWords(List<List<Integer>> words) {
        return new TokenRules(forcedBosTokenId, forcedEosTokenIds, words, suppressTokens, beginSuppressTokens, allowedTokenIds, outputBadWordsIds, renormalizeLogits);
    }

    public TokenRules suppress(Set<Integer> ids) {
        return new TokenRules(forcedBosTokenId, forcedEosTokenIds, badWordsIds, ids, beginSuppressTokens, allowedTokenIds, outputBadWordsIds, renormalizeLogits);
    }

    public TokenRules beginSuppress(Set<Integer> ids) {
        return new TokenRules(forcedBosTokenId, forcedEosTokenIds, badWordsIds, suppressTokens, ids, allowedTokenIds, outputBadWordsIds, renormalizeLogits);
    }

    public TokenRules allowed(Set<Integer> ids) {
        return new TokenRules(forcedBosTokenId, forcedEosTokenIds, badWordsIds, suppressTokens, beginSuppressTokens, ids, outputBadWordsIds, renormalizeLogits);
    }

    public TokenRules outputBadWords(List<List<Integer>> words) {
        return new TokenRules(forcedBosTokenId, forcedEosTokenIds, badWordsIds, suppressTokens, beginSuppressTokens, allowedTokenIds, words, renormalizeLogits);
    }

    /** input_ids' length at which begin_suppress_tokens apply, for a context (input_ids before new tokens) of that length. */
    public int beginIndex(int contextLength) {
        return contextLength > 1 || forcedBosTokenId == null ? contextLength : contextLength + 1;
    }

    /**
     * vLLM's bad_words as id sequences (SamplingParams.update_from_tokenizer): each word, left-stripped, is tokenized
     * without special tokens, and again after a space, the second kept only where its first id differs from the first's
     * and it has as many ids. Refuses (naming bad_words) a blank word or one the tokenizer cannot encode; a tokenizer that
     * cannot encode the spaced form gives the bare one only.
     */
    public static List<List<Integer>> badWordsOf(org.transformer4j.model.tokenizer.Tokenizer tok, List<String> words) {
        List<List<Integer>> out = new ArrayList<>();
        for (String w : words) {
            String word = w.stripLeading();
            if (word.isEmpty()) throw new IllegalArgumentException("bad_words must not hold an empty or blank string");
            int[] bare;
            try {
                bare = tok.encode(word, false);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("bad_words entry '" + w + "' cannot be tokenized: " + e.getMessage(), e);
            }
            if (bare.length == 0) throw new IllegalArgumentException("bad_words entry '" + w + "' has no tokens");
            out.add(java.util.Arrays.stream(bare).boxed().toList());
            int[] spaced = null;
            try {
                spaced = tok.encode(" " + word, false);
            } catch (IllegalArgumentException e) {                   // a vocabulary without a space: the bare form only
            }
            if (spaced != null && spaced.length == bare.length && spaced[0] != bare[0]) out.add(java.util.Arrays.stream(spaced).boxed().toList());
        }
        return out;
    }

    /** vLLM's rule: whether the new tokens {@code out} end with {@code word} less its last id (and number at least its length − 1). */
    static boolean outputPrefixMatches(List<Integer> word, List<Integer> out) {
        int k = word.size() - 1, len = out.size();
        if (k > len) return false;
        for (int i = 0; i < k; i++) if (!word.get(i).equals(out.get(len - k + i))) return false;
        return true;
    }

    /** Whether input_ids {@code seq[0, len)} end with {@code word} less its last id (and hold at least the whole word). */
    static boolean prefixMatches(List<Integer> word, List<Integer> seq) {
        int k = word.size() - 1, len = seq.size();
        if (word.size() > len) return false;
        for (int i = 0; i < k; i++) if (!word.get(i).equals(seq.get(len - k + i))) return false;
        return true;
    }
}
