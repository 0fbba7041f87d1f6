// HfTokenizer — a Hugging Face tokenizer.json (BPE, WordPiece, Unigram) through DJL's binding of
// the Rust tokenizers library, whose native library ships inside DJL's jar (no download). Checks
// the file is a JSON object first, so that a broken file is named with a readable reason.
package org.transformer4j.model.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.transformer4j.model.weights.StrictJson;

/** A tokenizer.json tokenizer. Padding and truncation are off whatever the file says (see {@link Tokenizer}). Thread-safe. */
public final class HfTokenizer implements Tokenizer {

    static {
        DjlTracking.optOut();   // before the first HuggingFaceTokenizer.newInstance, which would call home
    }

    private final Path file;
    private final HuggingFaceTokenizer tokenizer;
    private final Map<String, Integer> special;

    private final int vocabSize;                    // ids are 0 .. vocabSize − 1 (the model's vocabulary and added tokens)

    private HfTokenizer(Path file, HuggingFaceTokenizer tokenizer, Map<String, Integer> special, int vocabSize) {
        this.file = file;
        this.tokenizer = tokenizer;
        this.special = special;
        this.vocabSize = vocabSize;
    }

    /** One more than the largest id of the model's vocabulary (an object token → id, or Unigram's list) and of added_tokens. */
    private static int vocabSize(JsonNode root) {
        long n = 0;
        JsonNode vocab = root.path("model").path("vocab");
        if (vocab.isArray()) n = vocab.size();
        if (vocab.isObject()) for (JsonNode id : vocab) if (id.canConvertToLong()) n = Math.max(n, id.longValue() + 1);
        for (JsonNode t : root.path("added_tokens")) if (t.path("id").canConvertToLong()) n = Math.max(n, t.path("id").longValue() + 1);
        return (int) Math.min(n, Integer.MAX_VALUE);
    }

    /** Loads {@code path}: a tokenizer.json, or a model folder holding one (and maybe tokenizer_config.json). */
    public static HfTokenizer load(Path path) throws IOException {
        Path file = Files.isDirectory(path) ? path.resolve("tokenizer.json") : path;
        if (!Files.isRegularFile(file)) {
            throw new TokenizerFormatException(file, "no such file", null);
        }
        JsonNode root;
        try {
            root = StrictJson.parse(Files.readAllBytes(file));
        } catch (StrictJson.ParseError e) {
            throw new TokenizerFormatException(file, "not valid JSON: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new TokenizerFormatException(file, "cannot read: " + e, e);
        }
        if (!root.isObject() || !root.path("model").isObject()) {
            throw new TokenizerFormatException(file, "not a tokenizer.json: no 'model' object", null);
        }
        return build(file, root, () -> HuggingFaceTokenizer.newInstance(file, OPTIONS));
    }

    private static final Map<String, String> OPTIONS = Map.of("padding", "false", "truncation", "false");

    private interface Loader { HuggingFaceTokenizer load() throws IOException; }

    /**
     * A tokenizer from a tokenizer.json built in memory (e.g. from a SentencePiece model); {@code file} is the
     * file it was built from, named in messages.
     */
    static HfTokenizer fromJson(Path file, JsonNode root) throws IOException {
        byte[] json = new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsBytes(root);
        return build(file, root, () -> HuggingFaceTokenizer.newInstance(new java.io.ByteArrayInputStream(json), OPTIONS));
    }

    private static HfTokenizer build(Path file, JsonNode root, Loader loader) throws IOException {
        Map<String, Integer> special = new LinkedHashMap<>();
        for (JsonNode t : root.path("added_tokens")) {
            if (t.path("special").asBoolean(false) && t.path("content").isTextual() && t.path("id").canConvertToInt()) {
                special.put(t.path("content").textValue(), t.path("id").intValue());
            }
        }
        HuggingFaceTokenizer tok;
        try {
            tok = loader.load();
        } catch (IOException | RuntimeException | UnsatisfiedLinkError e) {
            throw new TokenizerFormatException(file, "the tokenizers library rejected it: " + e.getMessage(), e);
        }
        // Some broken files load and only fail when used (e.g. a WordPiece model whose unk_token is not in
        // its vocabulary): try one sample with words, digits, accents, CJK and an emoji before handing it out.
        try {
            long[] ids = tok.encode(PROBE, true, false).getIds();
            tok.decode(ids, false);
        } catch (RuntimeException e) {
            tok.close();
            throw new TokenizerFormatException(file, "the tokenizer fails on a sample text: " + e.getMessage(), e);
        }
        return new HfTokenizer(file, tok, Collections.unmodifiableMap(special), vocabSize(root));
    }

    private static final String PROBE = "Hello world! Unbelievable, 1905 naïve 東京 🙂 <|endoftext|> [CLS]";

    /**
     * {@inheritDoc} A tokenizer that loaded but fails on this text (its file is inconsistent in a way the
     * sample at load time did not reach) throws IllegalStateException naming the file.
     */
    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        long[] ids;
        try {
            ids = tokenizer.encode(text, addSpecialTokens, false).getIds();
        } catch (RuntimeException e) {
            throw new IllegalStateException(file + ": the tokenizer failed on the text: " + e.getMessage(), e);
        }
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = Math.toIntExact(ids[i]);
        return out;
    }

    /** {@inheritDoc} Through tokenizer.json's {@code post_processor} pair template. */
    @Override
    public Encoded encodePair(String first, String second) {
        if (first == null || second == null) throw new IllegalArgumentException("a sentence pair needs two texts, got null");
        ai.djl.huggingface.tokenizers.Encoding e;
        try {
            e = tokenizer.encode(first, second, true, false);
        } catch (RuntimeException ex) {
            throw new IllegalStateException(file + ": the tokenizer failed on the sentence pair: " + ex.getMessage(), ex);
        }
        long[] ids = e.getIds(), types = e.getTypeIds();
        int[] a = new int[ids.length], t = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            a[i] = Math.toIntExact(ids[i]);
            t[i] = Math.toIntExact(types[i]);
        }
        return new Encoded(a, t);
    }

    /** The token strings of {@code text} (with special tokens), for inspection. */
    public String[] tokens(String text) {
        return tokens(text, true);
    }

    /** The token strings of {@code text}, with or without the special tokens the template adds. */
    public String[] tokens(String text, boolean addSpecialTokens) {
        try {
            return tokenizer.encode(text, addSpecialTokens, false).getTokens();
        } catch (RuntimeException e) {
            throw new IllegalStateException(file + ": the tokenizer failed on the text: " + e.getMessage(), e);
        }
    }

    @Override
    /** {@inheritDoc} An id outside the vocabulary throws IllegalArgumentException naming it (the library would drop it silently). */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocabSize) {
                throw new IllegalArgumentException("id " + ids[i] + " at position " + i + " is outside " + file + "'s vocabulary [0, "
                        + vocabSize + ")");
            }
            l[i] = ids[i];
        }
        try {
            return tokenizer.decode(l, skipSpecialTokens);
        } catch (RuntimeException e) {
            throw new IllegalStateException(file + ": the tokenizer failed to decode " + ids.length + " ids: " + e.getMessage(), e);
        }
    }

    @Override
    public Map<String, Integer> specialTokens() { return special; }

    @Override
    public String name() { return file.toString(); }

    /** The tokenizer.json this tokenizer was loaded from (or the SentencePiece model its tokenizer.json was built from). */
    public Path file() { return file; }

    @Override
    public void close() { tokenizer.close(); }
}
