// SpmVocab — the shape MarianTokenizer and M2M100Tokenizer share: a SentencePiece model that only segments
// text into pieces (through the Rust tokenizers library, on a tokenizer.json built from the model), and a
// vocab.json that maps those pieces to the model's ids (a piece missing there is <unk>), read strictly.
package org.transformer4j.model.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.transformer4j.model.weights.StrictJson;

/** A SentencePiece segmenter and a vocab.json piece → id map. Thread-safe. */
final class SpmVocab implements AutoCloseable {

    final SentencePieceModel model;
    final Path vocabFile;
    final Map<String, Integer> encoder;
    private final HfTokenizer segmenter;
    private final String[] decoder;            // id → piece; null where vocab.json has no such id

    private SpmVocab(SentencePieceModel model, HfTokenizer segmenter, Path vocabFile, Map<String, Integer> encoder) {
        this.model = model;
        this.segmenter = segmenter;
        this.vocabFile = vocabFile;
        this.encoder = encoder;
        int max = -1;
        for (int id : encoder.values()) max = Math.max(max, id);
        this.decoder = new String[max + 1];
        for (Map.Entry<String, Integer> e : encoder.entrySet()) if (decoder[e.getValue()] == null) decoder[e.getValue()] = e.getKey();
    }

    /** {@code spm} and {@code vocab}, which must both exist; {@code owner} and {@code required} are for messages and checks. */
    static SpmVocab load(Path spm, Path vocab, String owner, String folderNeeds, List<String> required) throws IOException {
        for (Path p : List.of(spm, vocab)) {
            if (!Files.isRegularFile(p)) throw new TokenizerFormatException(p, "no such file (" + folderNeeds + ")", null);
        }
        Map<String, Integer> encoder = readVocab(vocab, owner, required);
        SentencePieceModel model = SentencePieceModel.read(spm);
        HfTokenizer tok = HfTokenizer.fromJson(spm, SentencePieceConverter.tokenizerJson(model, SentencePieceConverter.marianSide(model)));
        return new SpmVocab(model, tok, vocab, encoder);
    }

    /** vocab.json: a JSON object of piece → id in [0, 10000000] that has each of {@code required}. */
    static Map<String, Integer> readVocab(Path file, String owner, List<String> required) throws IOException {
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
        for (String t : required) {
            if (!m.containsKey(t)) throw new TokenizerFormatException(file, "has no '" + t + "' (" + owner + " needs it)", null);
        }
        return Collections.unmodifiableMap(m);
    }

    /** The SentencePiece model's pieces of {@code text} (sentencepiece's encode with out_type=str). */
    String[] pieces(String text) { return segmenter.tokens(text, false); }

    /** vocab.json's id of {@code piece}, or {@code unk}. */
    int id(String piece, int unk) { return encoder.getOrDefault(piece, unk); }

    /** vocab.json's piece of {@code id}, or null when it has none. */
    String piece(int id) { return id >= 0 && id < decoder.length ? decoder[id] : null; }

    String name() { return segmenter.name() + " + " + vocabFile; }

    @Override
    public void close() { segmenter.close(); }
}
