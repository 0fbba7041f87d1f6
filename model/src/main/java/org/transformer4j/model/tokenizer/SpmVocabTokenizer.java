// SpmVocabTokenizer — what MarianTokenizer and M2M100Tokenizer have in common as Tokenizers: an SpmVocab (the
// SentencePiece segmenter and vocab.json) and the special tokens, named and closed the same way.
package org.transformer4j.model.tokenizer;

import java.util.Collections;
import java.util.Map;

/** A tokenizer over an {@link SpmVocab}. */
abstract sealed class SpmVocabTokenizer implements Tokenizer permits MarianTokenizer, M2M100Tokenizer {

    final SpmVocab vocab;
    final Map<String, Integer> special;

    SpmVocabTokenizer(SpmVocab vocab, Map<String, Integer> special) {
        this.vocab = vocab;
        this.special = Collections.unmodifiableMap(special);
    }

    @Override
    public Map<String, Integer> specialTokens() { return special; }

    @Override
    public String name() { return vocab.name(); }

    @Override
    public void close() { vocab.close(); }
}
