// T4jEmbeddingModel — langchain4j's EmbeddingModel on this library's Transformer: a sentence-transformers folder
// (pooled as its modules say, encoder or decoder-only), an encoder folder (BERT, T5: mean-pooled, L2-normalised) or
// the built-in name "minilm" (all-MiniLM-L6-v2), each call's texts packed into padding-free batches over a token
// budget, on CUDA when Backends.select() finds it usable, else on the CPU backend.
package org.transformer4j.langchain4j;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.DimensionAwareEmbeddingModel;
import dev.langchain4j.model.output.Response;
import dev.langchain4j.model.output.TokenUsage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.transformer4j.model.Pretrained;
import org.transformer4j.model.SentencePooling;
import org.transformer4j.model.TextEncoder;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.tokenizer.Tokenizer;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.Backends;
import org.transformer4j.runtime.DType;

/**
 * Sentence embeddings for langchain4j. {@link #load(String)} takes a model folder or {@code "minilm"}; a
 * sentence-transformers folder (modules.json) is pooled as its Pooling, Dense and Normalize modules say, its texts cut to
 * its max_seq_length (bge's [CLS] row, Qwen3-Embedding's last token: what sentence-transformers gives), other folders are
 * mean-pooled and L2-normalised;
 * {@link #of} wraps a model you built. Texts longer than the model's positions keep their first tokens and
 * their last (the tokenizer's closing token, e.g. [SEP]). Calls are serialised (one model, one pass at a
 * time). A text longer than the batch budget runs alone. Close it to release the weights (and the backend when this object chose it).
 */
public final class T4jEmbeddingModel extends DimensionAwareEmbeddingModel implements AutoCloseable {

    /** Batches are cut at this many tokens: the packed pass holds (ΣT, C) activations and (ΣT, 4C) in the MLP. */
    public static final int DEFAULT_BATCH_TOKENS = 8192;

    private final Transformer model;
    private final Tokenizer tokenizer;
    private final TextEncoder pooled;          // a sentence-transformers folder's pipeline, else null (mean, normalised)
    private final int dimension0;
    private final String name;
    private final int batchTokens;
    private final AutoCloseable[] owned;

    private T4jEmbeddingModel(Transformer model, Tokenizer tokenizer, String name, int batchTokens, AutoCloseable... owned) {
        this(model, tokenizer, null, name, batchTokens, owned);
    }

    private T4jEmbeddingModel(Transformer model, Tokenizer tokenizer, TextEncoder pooled, String name, int batchTokens,
                              AutoCloseable... owned) {
        if (model.config.encoderLayers() == 0 && pooled == null) {
            throw new IllegalArgumentException(name + " is a " + model.config.architecture() + " model; sentence embeddings need an encoder"
                    + " (BERT, T5) or a sentence-transformers folder (Qwen3-Embedding)");
        }
        if (batchTokens < 1) throw new IllegalArgumentException("batchTokens must be ≥ 1, got " + batchTokens);
        this.model = model;
        this.tokenizer = tokenizer;
        this.pooled = pooled;
        this.name = name;
        this.batchTokens = batchTokens;
        this.owned = owned;
        this.dimension0 = pooled == null ? model.config.modelWidth() : pooled.pooling.dimension(model.config.modelWidth());   // Dense
        this.dimension = dimension0;
    }

    /** A model folder (config.json, safetensors, tokenizer.json) or {@code "minilm"}, in F32 on {@code Backends.select()}. */
    public static T4jEmbeddingModel load(String folderOrName) throws IOException {
        Backend backend = Backends.select();
        try {
            return load(folderOrName, backend, DType.F32, true);
        } catch (IOException | RuntimeException e) {
            backend.close();
            throw e;
        }
    }

    /** The same on {@code backend} (not closed by this model), computing in {@code dtype} (F32, BF16, F16). */
    public static T4jEmbeddingModel load(String folderOrName, Backend backend, DType dtype) throws IOException {
        return load(folderOrName, backend, dtype, false);
    }

    private static T4jEmbeddingModel load(String folderOrName, Backend backend, DType dtype, boolean ownBackend) throws IOException {
        if (folderOrName == null || folderOrName.isBlank()) throw new IllegalArgumentException("no model folder or name given");
        AutoCloseable backendToClose = ownBackend ? backend : () -> {};
        if (folderOrName.equals(MiniLm.NAME)) {
            MiniLm.Loaded m = MiniLm.load(backend, dtype);
            return new T4jEmbeddingModel(new Transformer(m.weights(), backend), m.tokenizer(), "all-MiniLM-L6-v2",
                    DEFAULT_BATCH_TOKENS, m.weights(), m.tokenizer(), backendToClose);
        }
        Path dir = Path.of(folderOrName);
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("'" + folderOrName + "' is neither a model folder nor a built-in name (" + MiniLm.NAME + ")");
        }
        if (SentencePooling.isSentenceTransformers(dir)) {
            SentencePooling pooling = SentencePooling.read(dir);
            return Owned.load(pooling.tokenizerDir(dir),
                    () -> Pretrained.loadEncoder(pooling.modelDir(), backend, dtype), (tok, w) -> {
                        Transformer m = new Transformer(w, backend);
                        return new T4jEmbeddingModel(m, tok, new TextEncoder(m, tok, pooling), dir.getFileName().toString(),
                                DEFAULT_BATCH_TOKENS, w, tok, backendToClose);
                    });
        }
        return Owned.load(dir, () -> Pretrained.load(dir, backend, dtype), (tok, w) -> new T4jEmbeddingModel(new Transformer(w, backend),
                tok, dir.getFileName().toString(), DEFAULT_BATCH_TOKENS, w, tok, backendToClose));
    }

    /** A model you built and keep ownership of (closing this closes nothing); batches cut at {@code batchTokens}. */
    public static T4jEmbeddingModel of(Transformer model, Tokenizer tokenizer, String name, int batchTokens) {
        return new T4jEmbeddingModel(model, tokenizer, name, batchTokens);
    }

    @Override
    public Response<List<Embedding>> embedAll(List<TextSegment> segments) {
        if (segments == null || segments.isEmpty()) throw new IllegalArgumentException("no text segments to embed");
        List<int[]> ids = new ArrayList<>(segments.size());
        int tokens = 0;
        for (int i = 0; i < segments.size(); i++) {
            TextSegment s = segments.get(i);
            if (s == null || s.text() == null) throw new IllegalArgumentException("text segment " + i + " is null");
            int[] t = pooled != null ? tokenizer.encode(s.text()) : fit(tokenizer.encode(s.text()));
            if (t.length == 0) throw new IllegalArgumentException("text segment " + i + " has no tokens under " + tokenizer.name());
            ids.add(t);
            tokens += t.length;
        }
        List<Embedding> out = new ArrayList<>(ids.size());
        synchronized (this) {
            int from = 0;
            while (from < ids.size()) {
                int to = from, batch = 0;
                while (to < ids.size() && (to == from || batch + ids.get(to).length <= batchTokens)) batch += ids.get(to++).length;
                if (pooled != null) {                                   // the folder's pipeline (it cuts to max_seq_length)
                    List<String> texts = new ArrayList<>();
                    for (int i = from; i < to; i++) texts.add(segments.get(i).text());
                    for (float[] e : pooled.embed(texts)) out.add(Embedding.from(e));
                } else {
                    for (float[] e : model.embedSentences(ids.subList(from, to))) out.add(Embedding.from(e));   // (n, C)
                }
                from = to;
            }
        }
        return Response.from(out, new TokenUsage(tokens));
    }

    /** Ids cut to the model's positions: the first max-1 and the last (the closing special token). */
    private int[] fit(int[] ids) {
        int max = model.config.maxPositions();
        if (max <= 0 || ids.length <= max) return ids;
        int[] cut = Arrays.copyOf(ids, max);
        cut[max - 1] = ids[ids.length - 1];
        return cut;
    }

    @Override
    protected Integer knownDimension() { return dimension0; }

    @Override
    public String modelName() { return name; }

    /** The Transformer behind this model (its backend tells where it runs). */
    public Transformer transformer() { return model; }

    /** The tokenizer that turns texts into the model's ids. */
    public Tokenizer tokenizer() { return tokenizer; }

    @Override
    public void close() { Owned.closeAll(name, owned); }
}
