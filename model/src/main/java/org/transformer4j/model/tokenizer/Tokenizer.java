// Tokenizer — text to token ids and back, the one interface the model layer sees, whatever
// library does the work (DJL's Hugging Face tokenizers for tokenizer.json, JTokkit for tiktoken).
package org.transformer4j.model.tokenizer;

import java.util.Map;

/**
 * Turns text into token ids and back. Implementations never pad or truncate: sequence lengths are
 * the model's business. Not thread-safe unless an implementation says so: {@link TiktokenTokenizer}
 * and {@link HfTokenizer} are (encode and decode from any number of threads; close once none uses
 * them). Decoding an id outside the vocabulary is an IllegalArgumentException naming it.
 */
public interface Tokenizer extends AutoCloseable {

    /** Ids of {@code text}, with the special tokens the tokenizer adds around a sequence (e.g. BERT's [CLS] … [SEP]). */
    default int[] encode(String text) { return encode(text, true); }

    /** Ids of {@code text}; {@code addSpecialTokens} false gives the bare pieces. */
    int[] encode(String text, boolean addSpecialTokens);

    /** Ids and token type ids of one sequence or sentence pair. */
    record Encoded(int[] ids, int[] typeIds) {}

    /**
     * A sentence pair through the tokenizer's pair template (BERT: {@code [CLS] a [SEP] b [SEP]}, types 0 up
     * to the first [SEP] and 1 after; RoBERTa: {@code <s> a </s></s> b </s>}, types 0), never truncated.
     * Tokenizers without a pair template throw UnsupportedOperationException.
     */
    default Encoded encodePair(String first, String second) {
        throw new UnsupportedOperationException(name() + " has no sentence-pair template");
    }

    /** Text of {@code ids}, special tokens included as text. */
    default String decode(int[] ids) { return decode(ids, false); }

    /** Text of {@code ids}; {@code skipSpecialTokens} drops special tokens (e.g. [CLS], <|endoftext|>). */
    String decode(int[] ids, boolean skipSpecialTokens);

    /** Special tokens by their text, e.g. {"[CLS]": 101, "[SEP]": 102} or {"<|endoftext|>": 50256}. */
    Map<String, Integer> specialTokens();

    /** What this tokenizer is (the file or the encoding), for messages. */
    String name();

    @Override
    void close();
}
