// DecoderReranker — a decoder-only model as a yes/no relevance judge (Qwen3-Reranker's recipe): each (query, document)
// goes into the model's judging prompt, and its score is P("yes") against "no" at the next token.
package org.transformer4j.model;

import java.util.ArrayList;
import java.util.List;
import org.transformer4j.model.tokenizer.Tokenizer;

/**
 * Scores (query, document) pairs with a decoder-only model that answers "yes" or "no": the prompt is
 * {@code prefix + "<Instruct>: {instruction}\n<Query>: {query}\n<Document>: {document}" + suffix}, each of the three parts
 * encoded on its own (the prefix and suffix without special tokens) and concatenated, as Qwen3-Reranker's model card
 * builds its inputs; the score is {@code exp(l_yes) / (exp(l_yes) + exp(l_no))} of the next-token logits after the last
 * prompt token ({@link Transformer#lastTokenLogits}), one packed pass for all documents. Thread-safe as its model is.
 */
public final class DecoderReranker {

    /** Qwen3-Reranker's system turn and the start of the user turn. */
    public static final String QWEN3_PREFIX = "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query "
            + "and the Instruct provided. Note that the answer can only be \"yes\" or \"no\".<|im_end|>\n<|im_start|>user\n";
    /** The end of the user turn and an empty thinking block, so that the next token is the answer. */
    public static final String QWEN3_SUFFIX = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n";
    /** The instruction Qwen3-Reranker uses when none is given. */
    public static final String DEFAULT_INSTRUCTION = "Given a web search query, retrieve relevant passages that answer the query";

    private final Transformer model;
    private final Tokenizer tokenizer;
    private final int[] prefix, suffix;
    private final int yes, no;

    /**
     * {@code yes} and {@code no} are the answer tokens' texts, each a single token of the tokenizer (refused in one line
     * otherwise).
     */
    public DecoderReranker(Transformer model, Tokenizer tokenizer, String prefix, String suffix, String yes, String no) {
        model.requireArch("DecoderReranker", TransformerConfig.Architecture.DECODER_ONLY);
        model.requireCausal("DecoderReranker");
        this.model = model;
        this.tokenizer = tokenizer;
        this.prefix = tokenizer.encode(prefix, false);
        this.suffix = tokenizer.encode(suffix, false);
        this.yes = single(tokenizer, yes);
        this.no = single(tokenizer, no);
    }

    /** Qwen3-Reranker-0.6B/4B/8B's prompt and answers ("yes", "no"). */
    public static DecoderReranker qwen3(Transformer model, Tokenizer tokenizer) {
        return new DecoderReranker(model, tokenizer, QWEN3_PREFIX, QWEN3_SUFFIX, "yes", "no");
    }

    private static int single(Tokenizer tok, String text) {
        int[] ids = tok.encode(text, false);
        if (ids.length != 1) {
            throw new IllegalArgumentException("the answer '" + text + "' is " + ids.length + " tokens of " + tok.name()
                    + "; a yes/no reranker needs each answer to be one token");
        }
        return ids[0];
    }

    /** The prompt's token ids for one pair (prefix, the formatted pair, suffix). */
    public int[] prompt(String query, String document, String instruction) {
        String text = "<Instruct>: " + (instruction == null ? DEFAULT_INSTRUCTION : instruction) + "\n<Query>: " + query
                + "\n<Document>: " + document;
        int[] body = tokenizer.encode(text);
        int[] ids = new int[prefix.length + body.length + suffix.length];
        System.arraycopy(prefix, 0, ids, 0, prefix.length);
        System.arraycopy(body, 0, ids, prefix.length, body.length);
        System.arraycopy(suffix, 0, ids, prefix.length + body.length, suffix.length);
        return ids;
    }

    /** Each document's P(yes) in [0, 1] for the query, in the documents' order; instruction null: the default. */
    public double[] scores(String query, List<String> documents, String instruction) {
        if (query == null) throw new IllegalArgumentException("query is null");
        if (documents == null || documents.isEmpty()) throw new IllegalArgumentException("no documents");
        List<int[]> prompts = new ArrayList<>();
        for (String d : documents) {
            if (d == null) throw new IllegalArgumentException("document " + prompts.size() + " is null");
            prompts.add(prompt(query, d, instruction));
        }
        float[][] logits = model.lastTokenLogits(prompts);
        double[] out = new double[logits.length];
        // exp(y) / (exp(y) + exp(n)) = sigmoid(y − n): the card's log_softmax over [no, yes], then exp
        for (int i = 0; i < out.length; i++) out[i] = TextEncoder.SIGMOID.applyAsDouble((double) logits[i][yes] - logits[i][no]);
        return out;
    }
}
