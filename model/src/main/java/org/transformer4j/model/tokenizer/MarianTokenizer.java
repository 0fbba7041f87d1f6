// MarianTokenizer — Marian (Helsinki-NLP/opus-mt-*) folders: source.spm / target.spm segment the text
// (through the Rust tokenizers library, on a tokenizer.json built from the .spm), vocab.json maps the
// pieces to the model's ids, as transformers' slow-only MarianTokenizer does: a piece missing from
// vocab.json is <unk>, </s> is appended, a leading language code ">>xx<<" is one token; decoding maps ids
// back to pieces and joins them (▁ → space), special tokens kept as text unless skipped.
package org.transformer4j.model.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.transformer4j.model.weights.StrictJson;

/** One side (source or target) of a Marian tokenizer. Thread-safe. */
public final class MarianTokenizer implements Tokenizer {

    private final HfTokenizer pieces;          // segments text into the .spm's pieces
    private final Path vocabFile;
    private final Map<String, Integer> encoder;
    private final String[] decoder;            // id → piece; null where vocab.json has no such id
    private final int eos, unk;
    private final Map<String, Integer> special;

    private MarianTokenizer(HfTokenizer pieces, Path vocabFile, Map<String, Integer> encoder) {
        this.pieces = pieces;
        this.vocabFile = vocabFile;
        this.encoder = encoder;
        int max = -1;
        for (int id : encoder.values()) max = Math.max(max, id);
        this.decoder = new String[max + 1];
        for (Map.Entry<String, Integer> e : encoder.entrySet()) if (decoder[e.getValue()] == null) decoder[e.getValue()] = e.getKey();
        this.eos = encoder.get("</s>");
        this.unk = encoder.get("<unk>");
        Map<String, Integer> s = new LinkedHashMap<>();
        for (String t : List.of("</s>", "<unk>", "<pad>")) if (encoder.containsKey(t)) s.put(t, encoder.get(t));
        this.special = Collections.unmodifiableMap(s);
    }

    /**
     * The tokenizer of a Marian folder's source side ({@code target} false: source.spm, vocab.json) or target side
     * (target.spm, and target_vocab.json when tokenizer_config.json says separate_vocabs).
     */
    public static MarianTokenizer load(Path folder, boolean target, boolean separateVocabs) throws IOException {
        Path spm = folder.resolve(target ? "target.spm" : "source.spm");
        Path vocab = folder.resolve(target && separateVocabs ? "target_vocab.json" : "vocab.json");
        for (Path p : List.of(spm, vocab)) {
            if (!Files.isRegularFile(p)) {
                throw new TokenizerFormatException(p, "no such file (a Marian folder needs source.spm, target.spm and vocab.json)", null);
            }
        }
        Map<String, Integer> encoder = readVocab(vocab);
        SentencePieceModel model = SentencePieceModel.read(spm);
        HfTokenizer tok = HfTokenizer.fromJson(spm, SentencePieceConverter.tokenizerJson(model, SentencePieceConverter.marianSide(model)));
        return new MarianTokenizer(tok, vocab, encoder);
    }

    static Map<String, Integer> readVocab(Path file) throws IOException {
        JsonNode root;
        try {
            root = StrictJson.parse(Files.readAllBytes(file));
        } catch (StrictJson.ParseError e) {
            throw new TokenizerFormatException(file, "not valid JSON: " + e.getMessage(), e);
        }
        if (!root.isObject() || root.isEmpty()) throw new TokenizerFormatException(file, "not a JSON object of piece → id", null);
        Map<String, Integer> m = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().canConvertToInt() || !e.getValue().isIntegralNumber() || e.getValue().intValue() < 0
                    || e.getValue().intValue() > 10_000_000) {
                throw new TokenizerFormatException(file, "the id of '" + e.getKey() + "' is not an integer in [0, 10000000]: " + e.getValue(), null);
            }
            m.put(e.getKey(), e.getValue().intValue());
        }
        for (String t : List.of("</s>", "<unk>")) {
            if (!m.containsKey(t)) throw new TokenizerFormatException(file, "has no '" + t + "' (MarianTokenizer needs it)", null);
        }
        return Collections.unmodifiableMap(m);
    }

    /** The pieces of {@code text}: a leading language code ">>xx<<" as one piece, then the .spm's pieces. */
    public List<String> pieces(String text) {
        List<String> out = new ArrayList<>();
        if (text.startsWith(">>")) {
            int end = text.indexOf("<<");
            if (end >= 0) {
                out.add(text.substring(0, end + 2));
                text = text.substring(end + 2);
            }
        }
        Collections.addAll(out, pieces.tokens(text, false));
        return out;
    }

    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        List<String> ps = pieces(text);
        int[] ids = new int[ps.size() + (addSpecialTokens ? 1 : 0)];
        for (int i = 0; i < ps.size(); i++) ids[i] = encoder.getOrDefault(ps.get(i), unk);
        if (addSpecialTokens) ids[ps.size()] = eos;
        return ids;
    }

    /** {@inheritDoc} Marian's pair is both texts' pieces and one </s> (MarianTokenizer.build_inputs_with_special_tokens); types 0. */
    @Override
    public Encoded encodePair(String first, String second) {
        if (first == null || second == null) throw new IllegalArgumentException("a sentence pair needs two texts, got null");
        int[] a = encode(first, false), b = encode(second, false);
        int[] ids = new int[a.length + b.length + 1];
        System.arraycopy(a, 0, ids, 0, a.length);
        System.arraycopy(b, 0, ids, a.length, b.length);
        ids[ids.length - 1] = eos;
        return new Encoded(ids, new int[ids.length]);
    }

    /**
     * {@inheritDoc} MarianTokenizer.convert_tokens_to_string: the pieces joined with ▁ as a space, each special
     * token as its text followed by a space, the result stripped.
     */
    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        StringBuilder out = new StringBuilder(), run = new StringBuilder();
        for (int i = 0; i < ids.length; i++) {
            int id = ids[i];
            if (id < 0 || id >= decoder.length || decoder[id] == null) {
                throw new IllegalArgumentException("id " + id + " at position " + i + " is not in " + vocabFile);
            }
            String p = decoder[id];
            if (special.containsKey(p)) {
                if (skipSpecialTokens) continue;
                out.append(spmDecode(run)).append(p).append(' ');
                run.setLength(0);
            } else {
                run.append(p);
            }
        }
        out.append(spmDecode(run));
        return out.toString().replace(SentencePieceConverter.SPIECE, " ").strip();
    }

    /** sentencepiece's decode of joined pieces: ▁ is a space, the first one (the dummy prefix) dropped. */
    private static String spmDecode(CharSequence joined) {
        String s = joined.toString().replace(SentencePieceConverter.SPIECE, " ");
        return s.startsWith(" ") ? s.substring(1) : s;
    }

    @Override
    public Map<String, Integer> specialTokens() { return special; }

    @Override
    public String name() { return pieces.name() + " + " + vocabFile; }

    @Override
    public void close() { pieces.close(); }
}
