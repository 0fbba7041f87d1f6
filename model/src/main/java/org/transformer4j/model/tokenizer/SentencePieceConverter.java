// SentencePieceConverter — builds, in memory, the tokenizer.json that transformers' convert_slow_tokenizer.py
// builds from a SentencePiece model (SpmConverter and its subclasses T5Converter, LlamaConverter,
// XLMRobertaConverter), so that the Rust tokenizers library, through DJL, does the tokenizing of folders
// that carry only spiece.model / tokenizer.model / sentencepiece.bpe.model. Per family: the model
// (Unigram with the scores, or BPE with merges ordered as generate_merges orders them), the normalizer,
// the Metaspace pre-tokenizer with the family's prepend scheme, the post-processor template with the
// family's special tokens and ids, the decoder, and the added tokens (the model's control and user-defined
// pieces, and the special tokens transformers' fast tokenizer registers).
package org.transformer4j.model.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** SentencePiece model → tokenizer.json, the way transformers' converters do it. */
final class SentencePieceConverter {

    private SentencePieceConverter() {}

    static final String SPIECE = "▁";
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    /** A vocabulary entry of the converted model. */
    record Entry(String piece, double score) {}

    /**
     * What a family changes in SpmConverter's recipe.
     *
     * @param vocab            the converted vocabulary (the model's pieces, or a family's re-layout of them)
     * @param unkId            the Unigram model's unk id in {@code vocab}
     * @param byteFallback     the converter's handle_byte_fallback (and the model's byte_fallback)
     * @param normalizer       the normalizer, or null
     * @param preTokenizer     the pre-tokenizer, or null
     * @param decoder          the decoder
     * @param single           the single-sequence template: token names, "$A"; null for no post-processor
     * @param pair             the pair template ("$A", "$B", tokens; a ":1" suffix sets the type id)
     * @param specials         special tokens the fast tokenizer registers (added as special tokens)
     * @param lstrip           those of them that take the whitespace before them (ALBERT's and XLNet's mask)
     */
    record Recipe(List<Entry> vocab, int unkId, boolean byteFallback, JsonNode normalizer, JsonNode preTokenizer,
                  JsonNode decoder, List<String> single, List<String> pair, List<String> specials, List<String> lstrip) {

        Recipe(List<Entry> vocab, int unkId, boolean byteFallback, JsonNode normalizer, JsonNode preTokenizer,
               JsonNode decoder, List<String> single, List<String> pair, List<String> specials) {
            this(vocab, unkId, byteFallback, normalizer, preTokenizer, decoder, single, pair, specials, List.of());
        }
    }

    // ---- the families ------------------------------------------------------------------------------

    /** The model's own pieces, as SpmConverter.vocab. */
    static List<Entry> pieces(SentencePieceModel m, int from) {
        List<Entry> v = new ArrayList<>();
        for (int i = from; i < m.pieces().size(); i++) v.add(new Entry(m.pieces().get(i).piece(), m.pieces().get(i).score()));
        return v;
    }

    /**
     * T5Converter (t5, mt5, umt5, longt5): the pieces then {@code <extra_id_(n−1)>} … {@code <extra_id_0>};
     * SpmConverter's normalizer, Metaspace; {@code $A </s>}, pair {@code $A </s> $B </s>}.
     */
    static Recipe t5(SentencePieceModel m, int extraIds, boolean legacy, boolean addPrefixSpace) {
        List<Entry> v = pieces(m, 0);
        List<String> specials = new ArrayList<>(List.of("</s>", "<unk>", "<pad>"));
        for (int i = extraIds - 1; i >= 0; i--) {
            v.add(new Entry("<extra_id_" + i + ">", 0.0));
            specials.add("<extra_id_" + i + ">");
        }
        String scheme = prependScheme(m, addPrefixSpace, legacy);
        return new Recipe(v, m.unkId(), false, spmNormalizer(m), metaspace(scheme, true), metaspace(scheme, true),
                List.of("$A", "</s>"), List.of("$A", "</s>", "$B", "</s>"), specials);
    }

    /**
     * XLMRobertaConverter: fairseq's layout {@code <s>}=0 {@code <pad>}=1 {@code </s>}=2 {@code <unk>}=3, the
     * pieces from id 3 on shifted by one, {@code <mask>} last; unk id 3; {@code <s> $A </s>}, pair
     * {@code <s> $A </s> </s> $B </s>}.
     */
    static Recipe xlmRoberta(SentencePieceModel m, boolean addPrefixSpace) {
        List<Entry> v = new ArrayList<>(List.of(new Entry("<s>", 0), new Entry("<pad>", 0), new Entry("</s>", 0), new Entry("<unk>", 0)));
        v.addAll(pieces(m, 3));
        v.add(new Entry("<mask>", 0));
        String scheme = prependScheme(m, addPrefixSpace, true);
        return new Recipe(v, 3, false, spmNormalizer(m), metaspace(scheme, true), metaspace(scheme, true),
                List.of("<s>", "$A", "</s>"), List.of("<s>", "$A", "</s>", "</s>", "$B", "</s>"),
                List.of("<s>", "<pad>", "</s>", "<unk>", "<mask>"), List.of("<mask>"));
    }

    /**
     * CamembertConverter: {@code <s>NOTUSED}=0 {@code <pad>}=1 {@code </s>NOTUSED}=2 {@code <unk>}=3
     * {@code <unk>NOTUSED}=4 (score −100), the pieces from id 1 on (piece i is i + 4, so the model's own
     * {@code <s>}/{@code </s>} are 5 and 6), {@code <mask>} last; unk id 3; the XLM-R templates.
     */
    static Recipe camembert(SentencePieceModel m, boolean addPrefixSpace) {
        List<Entry> v = new ArrayList<>(List.of(new Entry("<s>NOTUSED", 0), new Entry("<pad>", 0), new Entry("</s>NOTUSED", 0),
                new Entry("<unk>", 0), new Entry("<unk>NOTUSED", -100)));
        v.addAll(pieces(m, 1));
        v.add(new Entry("<mask>", 0));
        String scheme = prependScheme(m, addPrefixSpace, true);
        return new Recipe(v, 3, false, spmNormalizer(m), metaspace(scheme, true), metaspace(scheme, true),
                List.of("<s>", "$A", "</s>"), List.of("<s>", "$A", "</s>", "</s>", "$B", "</s>"),
                List.of("<s>NOTUSED", "</s>NOTUSED", "<unk>NOTUSED", "<s>", "<pad>", "</s>", "<unk>", "<mask>"), List.of("<mask>"));
    }

    /** mBART's 25 language codes (MBART_LANGUAGES of convert_slow_tokenizer.py). */
    static final List<String> MBART_LANGUAGES = List.of("ar_AR", "cs_CZ", "de_DE", "en_XX", "es_XX", "et_EE", "fi_FI", "fr_XX",
            "gu_IN", "hi_IN", "it_IT", "ja_XX", "kk_KZ", "ko_KR", "lt_LT", "lv_LV", "my_MM", "ne_NP", "nl_XX", "ro_RO", "ru_RU",
            "si_LK", "tr_TR", "vi_VN", "zh_CN");

    /** mBART-50's 52: the 25 and these (MBART50_LANGUAGES). */
    static final List<String> MBART50_LANGUAGES;
    static {
        List<String> l = new ArrayList<>(MBART_LANGUAGES);
        l.addAll(List.of("af_ZA", "az_AZ", "bn_IN", "fa_IR", "he_IL", "hr_HR", "id_ID", "ka_GE", "km_KH", "mk_MK", "ml_IN",
                "mn_MN", "mr_IN", "pl_PL", "ps_AF", "pt_XX", "sv_SE", "sw_KE", "ta_IN", "te_IN", "th_TH", "tl_XX", "uk_UA", "ur_PK",
                "xh_ZA", "gl_ES", "sl_SI"));
        MBART50_LANGUAGES = List.copyOf(l);
    }

    /**
     * MBartConverter / MBart50Converter: the XLM-R layout, then the language codes, then {@code <mask>}; mBART:
     * {@code $A </s> src_lang}, pair {@code $A $B </s> src_lang}; mBART-50: {@code src_lang $A </s>}, pair
     * {@code src_lang $A $B </s>} (the fast tokenizers' set_src_lang_special_tokens with the folder's src_lang).
     */
    static Recipe mbart(SentencePieceModel m, boolean fifty, String srcLang, boolean addPrefixSpace) {
        List<String> codes = fifty ? MBART50_LANGUAGES : MBART_LANGUAGES;
        List<Entry> v = new ArrayList<>(List.of(new Entry("<s>", 0), new Entry("<pad>", 0), new Entry("</s>", 0), new Entry("<unk>", 0)));
        v.addAll(pieces(m, 3));
        for (String c : codes) v.add(new Entry(c, 0));
        v.add(new Entry("<mask>", 0));
        List<String> specials = new ArrayList<>(List.of("<s>", "<pad>", "</s>", "<unk>", "<mask>"));
        specials.addAll(codes);
        String scheme = prependScheme(m, addPrefixSpace, true);
        List<String> single = fifty ? List.of(srcLang, "$A", "</s>") : List.of("$A", "</s>", srcLang);
        List<String> pair = fifty ? List.of(srcLang, "$A", "$B", "</s>") : List.of("$A", "$B", "</s>", srcLang);
        return new Recipe(v, 3, false, spmNormalizer(m), metaspace(scheme, true), metaspace(scheme, true), single, pair, specials,
                List.of("<mask>"));
    }

    /**
     * LlamaConverter (llama, mistral): the pieces (ids 0–2 keep their names), unk id 0, byte fallback; legacy:
     * normalizer Prepend("▁") (when a prefix space is added) + Replace(" ", "▁") and no pre-tokenizer,
     * non-legacy: no normalizer and Metaspace(prepend "first", no split); decoder Replace("▁", " "),
     * ByteFallback, Fuse, Strip one leading space. The template is LlamaTokenizerFast.update_post_processor's:
     * bos (add_bos_token) $A eos (add_eos_token).
     */
    static Recipe llama(SentencePieceModel m, boolean legacy, boolean addPrefixSpace, String bos, String eos,
                        boolean addBos, boolean addEos) {
        boolean prefix = addPrefixSpace && m.addDummyPrefix();
        JsonNode normalizer = null, pre = null;
        if (legacy) {
            ArrayNode seq = F.arrayNode();
            if (prefix) seq.add(obj("type", "Prepend").put("prepend", SPIECE));
            seq.add(replace(" ", SPIECE));
            normalizer = obj("type", "Sequence").set("normalizers", seq);
        } else {
            pre = metaspace(prefix ? "first" : "never", false);
        }
        ArrayNode dec = F.arrayNode().add(replace(SPIECE, " ")).add(obj("type", "ByteFallback")).add(obj("type", "Fuse"));
        if (prefix) dec.add(obj("type", "Strip").put("content", " ").put("start", 1).put("stop", 0));
        List<String> single = new ArrayList<>(), pair = new ArrayList<>();
        if (addBos) single.add(bos);
        single.add("$A");
        if (addEos) single.add(eos);
        pair.addAll(single);
        if (addBos) pair.add(bos + ":1");
        pair.add("$B:1");
        if (addEos) pair.add(eos + ":1");
        return new Recipe(pieces(m, 0), 0, true, normalizer, pre, obj("type", "Sequence").set("decoders", dec),
                single, pair, List.of(m.pieces().get(0).piece(), bos, eos));
    }

    /**
     * PegasusConverter: {@code <pad>}=0 {@code </s>}=1, {@code <mask_1>}=2 {@code <mask_2>}=3, {@code <unk_2>} …
     * {@code <unk_(offset−1)>}, then the pieces from id 2 on (so piece i is i + offset); unk id = the model's +
     * offset; WhitespaceSplit then Metaspace; {@code $A </s>}, pair {@code $A $B </s>}.
     */
    static Recipe pegasus(SentencePieceModel m, int offset, String maskSent, String mask, boolean legacy, boolean addPrefixSpace) {
        List<Entry> v = new ArrayList<>(List.of(new Entry("<pad>", 0), new Entry("</s>", 0)));
        List<String> specials = new ArrayList<>(List.of("<pad>", "</s>", "<unk>"));
        if (maskSent != null) v.add(new Entry(maskSent, 0));
        if (mask != null && v.size() < offset) v.add(new Entry(mask, 0));
        for (Entry e : v) if (!specials.contains(e.piece())) specials.add(e.piece());
        for (int i = 2; i < offset; i++) {
            v.add(new Entry("<unk_" + i + ">", -100));
            specials.add("<unk_" + i + ">");
        }
        v.addAll(pieces(m, 2));
        String scheme = prependScheme(m, addPrefixSpace, legacy);
        ObjectNode pre = obj("type", "Sequence").set("pretokenizers", F.arrayNode().add(obj("type", "WhitespaceSplit"))
                .add(metaspace(scheme, true)));
        return new Recipe(v, m.unkId() + offset, false, spmNormalizer(m), pre, metaspace(scheme, true),
                List.of("$A", "</s>"), List.of("$A", "$B", "</s>"), specials);
    }

    /**
     * AlbertConverter and XLNetConverter: pieces ending in digit + "," lose 100 in score (the slow tokenizers split
     * such pieces off again); normalizer "``" and "''" → '"', NFKD + StripAccents unless keep_accents, Lowercase
     * if do_lower_case, Precompiled, Replace(" {2,}", " "); Metaspace. ALBERT: {@code [CLS] $A [SEP]}, pair
     * {@code [CLS] $A [SEP] $B:1 [SEP]:1}; XLNet: {@code $A <sep> <cls>:2}, pair {@code $A <sep> $B:1 <sep>:1 <cls>:2}.
     */
    static Recipe albertOrXlnet(SentencePieceModel m, boolean xlnet, boolean lowerCase, boolean keepAccents, boolean addPrefixSpace) {
        List<Entry> v = new ArrayList<>();
        for (SentencePieceModel.Piece p : m.pieces()) v.add(new Entry(p.piece(), numberComma(p.piece()) ? p.score() - 100.0 : p.score()));
        ArrayNode seq = F.arrayNode();
        seq.add(replace("``", "\"")).add(replace("''", "\""));
        if (!keepAccents) seq.add(obj("type", "NFKD")).add(obj("type", "StripAccents"));
        if (lowerCase) seq.add(obj("type", "Lowercase"));
        if (m.precompiledCharsmap().length > 0) seq.add(precompiled(m));
        seq.add(obj("type", "Replace").<ObjectNode>set("pattern", obj("Regex", " {2,}")).put("content", " "));
        String scheme = prependScheme(m, addPrefixSpace, true);
        JsonNode normalizer = obj("type", "Sequence").set("normalizers", seq);
        if (xlnet) {
            return new Recipe(v, m.unkId(), false, normalizer, metaspace(scheme, true), metaspace(scheme, true),
                    List.of("$A", "<sep>", "<cls>:2"), List.of("$A", "<sep>", "$B:1", "<sep>:1", "<cls>:2"),
                    List.of("<s>", "</s>", "<unk>", "<sep>", "<pad>", "<cls>", "<mask>", "<eop>", "<eod>"), List.of("<mask>"));
        }
        return new Recipe(v, m.unkId(), false, normalizer, metaspace(scheme, true), metaspace(scheme, true),
                List.of("[CLS]", "$A", "[SEP]"), List.of("[CLS]", "$A", "[SEP]", "$B:1", "[SEP]:1"),
                List.of("[CLS]", "[SEP]", "<unk>", "<pad>", "[MASK]"), List.of("[MASK]"));
    }

    /**
     * DebertaV2Converter (DeBERTa v2/v3 spm.model): the pieces as they are; normalizer Lowercase (do_lower_case),
     * Strip, Precompiled, Replace(" {2,}", " "); pre-tokenizer Punctuation (split_by_punct) then Metaspace;
     * {@code [CLS] $A [SEP]}, pair {@code [CLS] $A [SEP] $B:1 [SEP]:1}; [MASK] is added after the pieces.
     */
    static Recipe debertaV2(SentencePieceModel m, boolean lowerCase, boolean splitByPunct, boolean addPrefixSpace) {
        ArrayNode seq = F.arrayNode();
        if (lowerCase) seq.add(obj("type", "Lowercase"));
        seq.add(obj("type", "Strip").put("strip_left", true).put("strip_right", true));
        if (m.precompiledCharsmap().length > 0) seq.add(precompiled(m));
        seq.add(obj("type", "Replace").<ObjectNode>set("pattern", obj("Regex", " {2,}")).put("content", " "));
        String scheme = prependScheme(m, addPrefixSpace, true);
        ArrayNode pre = F.arrayNode();
        if (splitByPunct) pre.add(obj("type", "Punctuation").put("behavior", "Isolated"));
        pre.add(metaspace(scheme, true));
        return new Recipe(pieces(m, 0), m.unkId(), false, obj("type", "Sequence").set("normalizers", seq),
                obj("type", "Sequence").set("pretokenizers", pre), metaspace(scheme, true),
                List.of("[CLS]", "$A", "[SEP]"), List.of("[CLS]", "$A", "[SEP]", "$B:1", "[SEP]:1"),
                List.of("[CLS]", "[SEP]", "[UNK]", "[PAD]", "[MASK]"));
    }

    /** check_number_comma's negation: a piece of two or more characters ending in a digit and a comma. */
    static boolean numberComma(String piece) {
        int n = piece.codePointCount(0, piece.length());
        if (n < 2 || !piece.endsWith(",")) return false;
        return Character.isDigit(piece.codePointBefore(piece.length() - 1));
    }

    /**
     * SpmConverter as it is, for Marian's source.spm / target.spm (MarianTokenizer is slow-only: these
     * tokenizers give the pieces, mapped to ids through vocab.json by {@link MarianTokenizer}). Unlike
     * SpmConverter, the Strip is on both sides and the whitespace rules follow the model's own flags, so
     * that leading whitespace is dropped as sentencepiece drops it.
     */
    static Recipe marianSide(SentencePieceModel m) {
        String scheme = m.addDummyPrefix() ? "always" : "never";
        ArrayNode seq = F.arrayNode();
        if (m.precompiledCharsmap().length > 0) seq.add(precompiled(m));
        if (m.removeExtraWhitespaces()) {
            seq.add(obj("type", "Strip").put("strip_left", true).put("strip_right", true));
            seq.add(obj("type", "Replace").<ObjectNode>set("pattern", obj("Regex", " {2,}")).put("content", SPIECE));
        }
        return new Recipe(pieces(m, 0), m.unkId(), m.byteFallback(), obj("type", "Sequence").set("normalizers", seq),
                metaspace(scheme, true), metaspace(scheme, true), null, null, List.of("</s>", "<unk>", "<pad>"));
    }

    /** _get_prepend_scheme, with a model trained without add_dummy_prefix adding none (as sentencepiece does). */
    static String prependScheme(SentencePieceModel m, boolean addPrefixSpace, boolean legacy) {
        if (!addPrefixSpace || !m.addDummyPrefix()) return "never";
        return legacy ? "always" : "first";
    }

    // ---- the pieces of a tokenizer.json ------------------------------------------------------------

    /** SpmConverter.normalizer: Precompiled (when the model has a charsmap), Strip right, Replace(" {2,}", "▁"). */
    static JsonNode spmNormalizer(SentencePieceModel m) {
        ArrayNode seq = F.arrayNode();
        if (m.precompiledCharsmap().length > 0) seq.add(precompiled(m));
        seq.add(obj("type", "Strip").put("strip_left", false).put("strip_right", true));
        seq.add(obj("type", "Replace").<ObjectNode>set("pattern", obj("Regex", " {2,}")).put("content", SPIECE));
        return obj("type", "Sequence").set("normalizers", seq);
    }

    static ObjectNode precompiled(SentencePieceModel m) {
        return obj("type", "Precompiled").put("precompiled_charsmap", Base64.getEncoder().encodeToString(m.precompiledCharsmap()));
    }

    static ObjectNode metaspace(String scheme, boolean split) {
        return obj("type", "Metaspace").put("replacement", SPIECE).put("prepend_scheme", scheme).put("split", split);
    }

    static ObjectNode replace(String from, String to) {
        return obj("type", "Replace").<ObjectNode>set("pattern", obj("String", from)).put("content", to);
    }

    static ObjectNode obj(String key, String value) {
        return F.objectNode().put(key, value);
    }

    /** The tokenizer.json of {@code r} over model {@code m}. */
    static ObjectNode tokenizerJson(SentencePieceModel m, Recipe r) {
        Map<String, Integer> ids = new HashMap<>();
        for (int i = 0; i < r.vocab().size(); i++) ids.putIfAbsent(r.vocab().get(i).piece(), i);
        ObjectNode model;
        if (m.modelType() == SentencePieceModel.ModelType.UNIGRAM) {
            ArrayNode vocab = F.arrayNode();
            for (Entry e : r.vocab()) vocab.add(F.arrayNode().add(e.piece()).add(e.score()));
            model = obj("type", "Unigram").put("unk_id", r.unkId()).set("vocab", vocab);
            model.put("byte_fallback", r.byteFallback());
        } else {
            ObjectNode vocab = F.objectNode();
            for (int i = 0; i < r.vocab().size(); i++) vocab.put(r.vocab().get(i).piece(), i);   // later duplicates win, as a dict does
            ArrayNode merges = F.arrayNode();
            for (String[] mg : merges(r.vocab())) merges.add(F.arrayNode().add(mg[0]).add(mg[1]));
            model = obj("type", "BPE");
            model.putNull("dropout");
            model.put("unk_token", m.unkPiece()).putNull("continuing_subword_prefix");
            model.putNull("end_of_word_suffix");
            model.put("fuse_unk", true).put("byte_fallback", r.byteFallback()).put("ignore_merges", false);
            model.set("vocab", vocab);
            model.set("merges", merges);
        }
        // Added tokens: control (special) and user-defined (not special) pieces, in id order, then the family's
        // special tokens; an added token takes its id from the vocabulary when it is there, else the next free one.
        Map<String, Boolean> added = new LinkedHashMap<>();
        for (SentencePieceModel.Piece p : m.pieces()) {
            if (p.type() == SentencePieceModel.PieceType.CONTROL) added.merge(p.piece(), true, Boolean::logicalOr);
            if (p.type() == SentencePieceModel.PieceType.USER_DEFINED) added.putIfAbsent(p.piece(), false);
        }
        for (String s : r.specials()) added.put(s, true);
        ArrayNode addedTokens = F.arrayNode();
        int next = r.vocab().size();
        Map<String, Integer> addedIds = new HashMap<>();
        for (Map.Entry<String, Boolean> a : added.entrySet()) {
            Integer id = ids.get(a.getKey());
            if (id == null) id = next++;
            addedIds.put(a.getKey(), id);
            addedTokens.add(F.objectNode().put("id", id).put("content", a.getKey()).put("single_word", false)
                    .put("lstrip", r.lstrip().contains(a.getKey())).put("rstrip", false).put("normalized", false).put("special", a.getValue()));
        }
        ObjectNode root = F.objectNode().put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        root.set("added_tokens", addedTokens);
        root.set("normalizer", r.normalizer() == null ? F.nullNode() : r.normalizer());
        root.set("pre_tokenizer", r.preTokenizer() == null ? F.nullNode() : r.preTokenizer());
        root.set("post_processor", r.single() == null ? F.nullNode() : template(r, ids, addedIds));
        root.set("decoder", r.decoder());
        root.set("model", model);
        return root;
    }

    private static ObjectNode template(Recipe r, Map<String, Integer> ids, Map<String, Integer> addedIds) {
        ObjectNode specials = F.objectNode();
        ObjectNode t = obj("type", "TemplateProcessing");
        t.set("single", templateSide(r.single(), specials, ids, addedIds));
        t.set("pair", templateSide(r.pair(), specials, ids, addedIds));
        t.set("special_tokens", specials);
        return t;
    }

    private static ArrayNode templateSide(List<String> items, ObjectNode specials, Map<String, Integer> ids,
                                          Map<String, Integer> addedIds) {
        ArrayNode out = F.arrayNode();
        for (String item : items) {
            int typeId = 0;
            String name = item;
            if (item.endsWith(":1") || item.endsWith(":2")) {
                typeId = item.charAt(item.length() - 1) - '0';
                name = item.substring(0, item.length() - 2);
            }
            if (name.equals("$A") || name.equals("$B")) {
                out.add(F.objectNode().set("Sequence", F.objectNode().put("id", name.substring(1)).put("type_id", typeId)));
            } else {
                Integer id = addedIds.getOrDefault(name, ids.get(name));
                if (id == null) throw new IllegalStateException("template token " + name + " has no id");
                out.add(F.objectNode().set("SpecialToken", F.objectNode().put("id", name).put("type_id", typeId)));
                specials.set(name, F.objectNode().put("id", name).<ObjectNode>set("ids", F.arrayNode().add(id))
                        .set("tokens", F.arrayNode().add(name)));
            }
        }
        return out;
    }

    /**
     * generate_merges(vocab, vocab_scores) of convert_slow_tokenizer.py: for each piece, every split into two
     * pieces of the vocabulary (ordered by their ids), then all of them ordered by the merged piece's score,
     * highest first, ties by the left and then the right part's length, longest first (a stable sort).
     */
    static List<String[]> merges(List<Entry> vocab) {
        Map<String, Integer> id = new HashMap<>();
        Map<String, Double> score = new LinkedHashMap<>();
        for (int i = 0; i < vocab.size(); i++) {
            id.put(vocab.get(i).piece(), i);
            score.put(vocab.get(i).piece(), vocab.get(i).score());   // dict(vocab_scores): the last duplicate's score, first position
        }
        record M(String l, String r, double score) {}
        List<M> all = new ArrayList<>();
        for (Map.Entry<String, Double> e : score.entrySet()) {
            String piece = e.getKey();
            List<M> local = new ArrayList<>();
            for (int k = 1; k < piece.length(); k++) {
                if (Character.isLowSurrogate(piece.charAt(k)) && Character.isHighSurrogate(piece.charAt(k - 1))) continue;
                String l = piece.substring(0, k), rr = piece.substring(k);
                if (id.containsKey(l) && id.containsKey(rr)) local.add(new M(l, rr, e.getValue()));
            }
            local.sort((a, b) -> a.l.equals(b.l) ? Integer.compare(id.get(a.r), id.get(b.r)) : Integer.compare(id.get(a.l), id.get(b.l)));
            all.addAll(local);
        }
        all.sort((a, b) -> {
            int c = Double.compare(b.score, a.score);
            if (c != 0) return c;
            c = Integer.compare(a.l.codePointCount(0, a.l.length()), b.l.codePointCount(0, b.l.length()));
            if (c != 0) return -c;
            return -Integer.compare(a.r.codePointCount(0, a.r.length()), b.r.codePointCount(0, b.r.length()));
        });
        List<String[]> out = new ArrayList<>(all.size());
        for (M mg : all) out.add(new String[] {mg.l, mg.r});
        return out;
    }
}
