// M2M100Tokenizer — M2M100 folders (facebook/m2m100_418M, m2m100_1.2B) that ship sentencepiece.bpe.model and
// vocab.json but no tokenizer.json, as transformers' slow-only M2M100Tokenizer (tokenization_m2m_100.py) reads
// them: the SentencePiece model's pieces mapped through vocab.json (a missing piece is <unk>), the language
// tokens __xx__ at len(vocab.json) + i, then num_madeup_words ids without a token; a sequence is
// [__src_lang__] pieces [</s>] (set_src_lang_special_tokens), a target [__tgt_lang__] pieces [</s>].
package org.transformer4j.model.tokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** An M2M100 tokenizer for one language (the source's or the target's). Thread-safe. */
public final class M2M100Tokenizer extends SpmVocabTokenizer {

    /** FAIRSEQ_LANGUAGE_CODES["m2m100"], in transformers' order: {@code __af__} is len(vocab.json), {@code __zu__} 99 after it. */
    public static final List<String> M2M100_LANGUAGES = List.of("af", "am", "ar", "ast", "az", "ba", "be", "bg", "bn", "br", "bs",
            "ca", "ceb", "cs", "cy", "da", "de", "el", "en", "es", "et", "fa", "ff", "fi", "fr", "fy", "ga", "gd", "gl", "gu", "ha",
            "he", "hi", "hr", "ht", "hu", "hy", "id", "ig", "ilo", "is", "it", "ja", "jv", "ka", "kk", "km", "kn", "ko", "lb", "lg",
            "ln", "lo", "lt", "lv", "mg", "mk", "ml", "mn", "mr", "ms", "my", "ne", "nl", "no", "ns", "oc", "or", "pa", "pl", "ps",
            "pt", "ro", "ru", "sd", "si", "sk", "sl", "so", "sq", "sr", "ss", "su", "sv", "sw", "ta", "th", "tl", "tn", "tr", "uk",
            "ur", "uz", "vi", "wo", "xh", "yi", "yo", "zh", "zu");

    /** FAIRSEQ_LANGUAGE_CODES["wmt21"] (language_codes "wmt21"). */
    public static final List<String> WMT21_LANGUAGES = List.of("en", "ha", "is", "ja", "cs", "ru", "zh", "de");

    private static final String SPIECE = SentencePieceConverter.SPIECE;

    private final List<String> codes;
    private final int encoderSize, vocabSize, eos, unk;
    private final String lang;                         // null: a target side whose tgt_lang is not set
    private final java.util.Set<String> modelPieces = new java.util.HashSet<>();

    private M2M100Tokenizer(SpmVocab vocab, List<String> codes, int madeupWords, String lang) {
        super(vocab, specials(vocab, codes));
        this.codes = codes;
        this.encoderSize = vocab.encoder.size();
        this.vocabSize = encoderSize + codes.size() + madeupWords;
        this.eos = vocab.encoder.get("</s>");
        this.unk = vocab.encoder.get("<unk>");
        this.lang = lang;
        for (SentencePieceModel.Piece p : vocab.model.pieces()) modelPieces.add(p.piece());
    }

    /**
     * The tokenizer of an M2M100 folder (sentencepiece.bpe.model, vocab.json): {@code codes} the language codes
     * (tokenizer_config.json's language_codes), {@code lang} the source language (src_lang, "en" when null) or, with
     * {@code target}, the target language (tgt_lang; null leaves encode with special tokens refused, as transformers'
     * set_tgt_lang_special_tokens(None) fails).
     */
    static M2M100Tokenizer load(Path folder, List<String> codes, int madeupWords, String lang, boolean target, Path langSource)
            throws IOException {
        if (!target && lang == null) lang = "en";
        if (lang != null && !codes.contains(lang)) {
            throw new TokenizerFormatException(langSource, (target ? "tgt_lang" : "src_lang") + " '" + lang
                    + "' is not one of M2M100Tokenizer's language codes " + codes, null);
        }
        SpmVocab v = SpmVocab.load(folder.resolve("sentencepiece.bpe.model"), folder.resolve("vocab.json"), "M2M100Tokenizer",
                "an M2M100 folder without tokenizer.json needs sentencepiece.bpe.model and vocab.json", List.of("</s>", "<unk>"));
        return new M2M100Tokenizer(v, codes, madeupWords, lang);
    }

    /** The special tokens: &lt;s&gt; &lt;/s&gt; &lt;pad&gt; &lt;unk&gt; from vocab.json, then the language tokens. */
    private static Map<String, Integer> specials(SpmVocab vocab, List<String> codes) {
        Map<String, Integer> s = new LinkedHashMap<>();
        for (String t : List.of("<s>", "</s>", "<pad>", "<unk>")) if (vocab.encoder.containsKey(t)) s.put(t, vocab.encoder.get(t));
        for (int i = 0; i < codes.size(); i++) s.put(token(codes.get(i)), vocab.encoder.size() + i);
        return s;
    }

    private static String token(String code) { return "__" + code + "__"; }

    /** get_lang_id: the id of language {@code code}'s token {@code __code__}. */
    public int langId(String code) {
        int i = codes.indexOf(code);
        if (i < 0) throw new IllegalArgumentException("'" + code + "' is not one of M2M100Tokenizer's language codes " + codes);
        return encoderSize + i;
    }

    /** The language this tokenizer writes first (src_lang, or tgt_lang for a target tokenizer); null when unset. */
    public String language() { return lang; }

    /** transformers' vocab_size: len(vocab.json) + language tokens + num_madeup_words. */
    public int vocabSize() { return vocabSize; }

    /**
     * The SentencePiece pieces of {@code text}: sp_model.encode(text, out_type=str), except that a character the model does
     * not know reads as the model's unk piece (sentencepiece gives its text; vocab.json has neither, so the ids agree).
     */
    public List<String> pieces(String text) { return List.of(vocab.pieces(text)); }

    private int[] body(String text) {
        String[] ps = vocab.pieces(text);
        int[] ids = new int[ps.length];
        for (int i = 0; i < ps.length; i++) ids[i] = vocab.id(ps[i], unk);
        return ids;
    }

    private int prefix() {
        if (lang == null) {
            throw new IllegalStateException(name() + ": no target language (tokenizer_config.json's tgt_lang) to put before the text;"
                    + " use Tokenizers.forTarget(folder, tgtLang)");
        }
        return langId(lang);
    }

    /** {@inheritDoc} With special tokens: {@code __lang__ pieces </s>} (build_inputs_with_special_tokens). */
    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        int[] b = body(text);
        if (!addSpecialTokens) return b;
        return concat(prefix(), b, new int[0]);
    }

    /** {@inheritDoc} M2M100's pair: {@code __lang__ A B </s>}, no separator; types 0. */
    @Override
    public Encoded encodePair(String first, String second) {
        if (first == null || second == null) throw new IllegalArgumentException("a sentence pair needs two texts, got null");
        int[] ids = concat(prefix(), body(first), body(second));
        return new Encoded(ids, new int[ids.length]);
    }

    private int[] concat(int lang, int[] a, int[] b) {
        int[] ids = new int[a.length + b.length + 2];
        ids[0] = lang;
        System.arraycopy(a, 0, ids, 1, a.length);
        System.arraycopy(b, 0, ids, 1 + a.length, b.length);
        ids[ids.length - 1] = eos;
        return ids;
    }

    /**
     * {@inheritDoc} Ids to tokens as _convert_id_to_token does (a language id is its token; an id below vocab_size that
     * vocab.json lacks, such as a madeup word, is &lt;unk&gt;); the special tokens (&lt;s&gt; &lt;/s&gt; &lt;pad&gt;
     * &lt;unk&gt;, the language tokens) skipped, or kept as their text between spaces; each run of other pieces as
     * sentencepiece's decode gives it (convert_tokens_to_string: sp_model.decode).
     */
    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        List<String> parts = new java.util.ArrayList<>();
        List<String> run = new java.util.ArrayList<>();
        for (int i = 0; i < ids.length; i++) {
            int id = ids[i];
            if (id < 0 || id >= vocabSize) {
                throw new IllegalArgumentException("id " + id + " at position " + i + " is outside M2M100's vocabulary [0, " + vocabSize + ")");
            }
            String p = id >= encoderSize && id < encoderSize + codes.size() ? token(codes.get(id - encoderSize)) : vocab.piece(id);
            if (p == null) p = "<unk>";
            if (special.containsKey(p)) {
                if (skipSpecialTokens) continue;
                if (!run.isEmpty()) parts.add(spmDecode(run));
                run.clear();
                parts.add(p);
            } else {
                run.add(p);
            }
        }
        if (!run.isEmpty()) parts.add(spmDecode(run));
        return String.join(" ", parts);
    }

    /**
     * sentencepiece's DecodePieces for pieces that are none of its control or unknown ones: a piece of the model has
     * ▁ as a space, with a leading ▁ dropped while nothing is written yet (the dummy prefix); one it lacks is kept as is.
     */
    private String spmDecode(List<String> pieces) {
        StringBuilder out = new StringBuilder();
        for (String p : pieces) {
            if (!modelPieces.contains(p)) {
                out.append(p);
                continue;
            }
            String s = p;
            if (out.isEmpty() && vocab.model.addDummyPrefix() && s.startsWith(SPIECE)) s = s.substring(SPIECE.length());
            out.append(s.replace(SPIECE, " "));
        }
        return out.toString();
    }
}
