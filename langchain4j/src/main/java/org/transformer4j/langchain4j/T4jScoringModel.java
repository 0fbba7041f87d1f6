// T4jScoringModel — langchain4j's ScoringModel (the re-ranking step of its RAG pipelines) on this library: a cross-encoder
// folder (a one-label sequence classifier: ms-marco, bge-reranker, mxbai-rerank, DeBERTa cross-encoders) or a decoder
// folder as a yes/no reranker (Qwen3-Reranker).
package org.transformer4j.langchain4j;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.output.Response;
import dev.langchain4j.model.output.TokenUsage;
import dev.langchain4j.model.scoring.ScoringModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleUnaryOperator;
import org.transformer4j.model.DecoderReranker;
import org.transformer4j.model.Pretrained;
import org.transformer4j.model.SentencePooling;
import org.transformer4j.model.TextEncoder;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.TransformerConfig;
import org.transformer4j.model.tokenizer.Tokenizer;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.Backends;
import org.transformer4j.runtime.DType;

/**
 * Scores text segments against a query for langchain4j (e.g. its {@code ReRankingContentAggregator}). A cross-encoder's
 * score is its logit through the folder's {@code sentence_transformers.activation_fn} (the sigmoid by default, as
 * sentence-transformers' CrossEncoder gives it), all pairs of a call in one padded batch; a Qwen3-Reranker's is P("yes")
 * ({@link DecoderReranker}), all prompts of a call in one packed pass. Calls are serialised; close it to release the weights
 * (and the backend when this object chose it).
 */
public final class T4jScoringModel implements ScoringModel, AutoCloseable {

    private final TextEncoder crossEncoder;           // or
    private final DecoderReranker reranker;
    private final DoubleUnaryOperator activation;
    private final Tokenizer tokenizer;
    private final AutoCloseable[] owned;

    private T4jScoringModel(TextEncoder crossEncoder, DecoderReranker reranker, DoubleUnaryOperator activation, Tokenizer tokenizer,
                            AutoCloseable... owned) {
        this.crossEncoder = crossEncoder;
        this.reranker = reranker;
        this.activation = activation;
        this.tokenizer = tokenizer;
        this.owned = owned;
    }

    /** A cross-encoder folder (encoder-only, one label) in F32 on {@code Backends.select()}. */
    public static T4jScoringModel crossEncoder(String folder) throws IOException {
        Backend backend = Backends.select();
        try {
            return load(folder, backend, DType.F32, false, backend);
        } catch (IOException | RuntimeException e) {
            backend.close();
            throw e;
        }
    }

    /** A cross-encoder folder on {@code backend} (not closed by this model), computing in {@code dtype}. */
    public static T4jScoringModel crossEncoder(String folder, Backend backend, DType dtype) throws IOException {
        return load(folder, backend, dtype, false, () -> {});
    }

    /** A Qwen3-Reranker folder (decoder-only) on {@code backend} (not closed by this model), computing in {@code dtype}. */
    public static T4jScoringModel qwen3Reranker(String folder, Backend backend, DType dtype) throws IOException {
        return load(folder, backend, dtype, true, () -> {});
    }

    private static T4jScoringModel load(String folder, Backend backend, DType dtype, boolean decoder, AutoCloseable backendToClose)
            throws IOException {
        Path dir = Path.of(folder);
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException("'" + folder + "' is not a model folder");
        return Owned.load(dir, () -> Pretrained.load(dir, backend, dtype), (tok, w) -> {
            Transformer m = new Transformer(w, backend);
            TransformerConfig.Architecture a = w.config.architecture();
            if (decoder) {
                if (a != TransformerConfig.Architecture.DECODER_ONLY) {
                    throw new IllegalArgumentException(dir + " holds a " + a + " model; a Qwen3-Reranker is decoder-only");
                }
                return new T4jScoringModel(null, DecoderReranker.qwen3(m, tok), null, tok, w, tok, backendToClose);
            }
            var head = w.classifierHead;
            if (a != TransformerConfig.Architecture.ENCODER_ONLY || head == null || head.classifier() == null
                    || head.classifier().shape(0) != 1) {
                throw new IllegalArgumentException(dir + " is not a cross-encoder (an encoder with a one-label sequence classifier);"
                        + " for a Qwen3-Reranker use qwen3Reranker");
            }
            TextEncoder enc = new TextEncoder(m, tok, SentencePooling.meanNormalized(dir));
            return new T4jScoringModel(enc, null, TextEncoder.crossEncoderActivation(dir), tok, w, tok, backendToClose);
        });
    }

    @Override
    public Response<List<Double>> scoreAll(List<TextSegment> segments, String query) {
        if (query == null) throw new IllegalArgumentException("query is null");
        if (segments == null || segments.isEmpty()) throw new IllegalArgumentException("no text segments to score");
        List<String> texts = new ArrayList<>();
        int tokens = 0;
        for (int i = 0; i < segments.size(); i++) {
            TextSegment s = segments.get(i);
            if (s == null || s.text() == null) throw new IllegalArgumentException("text segment " + i + " is null");
            texts.add(s.text());
            tokens += tokenizer.encode(s.text()).length;
        }
        List<Double> out = new ArrayList<>();
        synchronized (this) {
            if (reranker != null) {
                for (double x : reranker.scores(query, texts, null)) out.add(x);
            } else {
                for (float logit : crossEncoder.rerank(query, texts)) out.add(activation.applyAsDouble(logit));
            }
        }
        return Response.from(out, new TokenUsage(tokens));
    }

    @Override
    public void close() { Owned.closeAll("the scoring model", owned); }
}
