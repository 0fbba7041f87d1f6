// MarianTokenizer — Marian (Helsinki-NLP/opus-mt-*) folders: source.spm / target.spm segment the text
// (through the Rust tokenizers library, on a tokenizer.json built from the .spm), vocab.json maps the
// pieces to the model's ids, as transformers' slow-only MarianTokenizer does: a piece missing from
// vocab.json is <unk>, </s> is appended, a leading language code ">>xx<<" is one token; decoding maps ids
// back to pieces and joins them (▁ → space), special tokens kept as text unless skipped.
package org.transformer4j.model.tokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** One side (source or target) of a Marian tokenizer. Thread-safe. */
public final class MarianTokenizer extends SpmVocabTokenizer {

    private final int eos, unk;

    private MarianTokenizer(SpmVocab vocab) {
        super(vocab, specials(vocab));
        this.eos = vocab.encoder.get("</s>");
        this.unk = vocab.encoder.get("<unk>");
    }

    private static Map<String, Integer> specials(SpmVocab vocab) {
        Map<String, Integer> s = new LinkedHashMap<>();
        for (String t : List.of("</s>", "<unk>", "<pad>")) if (vocab.encoder.containsKey(t)) s.put(t, vocab.encoder.get(t));
        return s;
    }

    /**
     * The tokenizer of a Marian folder's source side ({@code target} false: source.spm, vocab.json) or target side
     * (target.spm, and target_vocab.json when tokenizer_config.json says separate_vocabs).
     */
    public static MarianTokenizer load(Path folder, boolean target, boolean separateVocabs) throws IOException {
        return new MarianTokenizer(SpmVocab.load(folder.resolve(target ? "target.spm" : "source.spm"),
                folder.resolve(target && separateVocabs ? "target_vocab.json" : "vocab.json"), "MarianTokenizer",
                "a Marian folder needs source.spm, target.spm and vocab.json", List.of("</s>", "<unk>")));
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
        Collections.addAll(out, vocab.pieces(text));
        return out;
    }

    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        List<String> ps = pieces(text);
        int[] ids = new int[ps.size() + (addSpecialTokens ? 1 : 0)];
        for (int i = 0; i < ps.size(); i++) ids[i] = vocab.id(ps.get(i), unk);
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
            String p = vocab.piece(id);
            if (p == null) throw new IllegalArgumentException("id " + id + " at position " + i + " is not in " + vocab.vocabFile);
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
}
