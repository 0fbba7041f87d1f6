/**
 * Tokenizers behind one interface, {@link org.transformer4j.model.tokenizer.Tokenizer}:
 * {@link org.transformer4j.model.tokenizer.HfTokenizer} for tokenizer.json (DJL's binding of Hugging
 * Face tokenizers; DJL's usage tracking is switched off by {@link org.transformer4j.model.tokenizer.DjlTracking}),
 * also for SentencePiece models ({@link org.transformer4j.model.tokenizer.SentencePieceModel}) turned into the
 * tokenizer.json transformers' converters build, {@link org.transformer4j.model.tokenizer.MarianTokenizer} for
 * Marian's two .spm files and vocab.json, and {@link org.transformer4j.model.tokenizer.TiktokenTokenizer} for
 * tiktoken encodings (JTokkit; r50k_base is GPT-2's vocabulary). {@link org.transformer4j.model.tokenizer.Tokenizers#forModel}
 * picks the one a model folder needs.
 */
package org.transformer4j.model.tokenizer;
