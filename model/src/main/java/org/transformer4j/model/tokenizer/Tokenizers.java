// Tokenizers — picks the tokenizer of a Hugging Face model folder: its tokenizer.json when there
// is one; else, for the families whose checkpoints often carry only a SentencePiece model (T5/mT5,
// Pegasus, ALBERT, XLNet spiece.model; Llama/Mistral tokenizer.model; XLM-R, CamemBERT, mBART
// sentencepiece.bpe.model; DeBERTa v2/v3 spm.model; Marian source.spm + target.spm + vocab.json), the
// tokenizer.json transformers' converters would build from it, or for M2M100 (sentencepiece.bpe.model +
// vocab.json, slow-only in transformers) its M2M100Tokenizer; else the tiktoken encoding that matches
// its config.json (GPT-2 → r50k_base); else a TokenizerFormatException naming the folder or file and
// what is supported.
package org.transformer4j.model.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.HfConfig;

/** Entry points for tokenizers. */
public final class Tokenizers {

    private Tokenizers() {}

    /** The SentencePiece families and the file each one reads. */
    enum SpmFamily {
        T5("spiece.model"), PEGASUS("spiece.model"), ALBERT("spiece.model"), XLNET("spiece.model"), LLAMA("tokenizer.model"),
        XLM_ROBERTA("sentencepiece.bpe.model"), CAMEMBERT("sentencepiece.bpe.model"), MBART("sentencepiece.bpe.model"),
        MBART50("sentencepiece.bpe.model"), DEBERTA_V2("spm.model"), MARIAN("source.spm"), M2M100("sentencepiece.bpe.model");

        final String file;

        SpmFamily(String file) { this.file = file; }
    }

    static final String SUPPORTED = "SentencePiece folders supported: t5/mt5/umt5/longt5, pegasus, albert, xlnet (spiece.model), "
            + "llama/mistral (tokenizer.model), xlm-roberta, camembert, mbart/mbart-50 (sentencepiece.bpe.model), "
            + "deberta-v2 (spm.model), marian (source.spm, target.spm, vocab.json), m2m100 (sentencepiece.bpe.model, vocab.json); "
            + "byte-level BPE folders (vocab.json + merges.txt): gpt2, opt, codegen, gpt_neox, phi, roberta, bart, longformer";

    /**
     * The tokenizer for the model in {@code folder}: tokenizer.json through DJL; without one, a SentencePiece
     * model converted as transformers converts it (the family from tokenizer_config.json's tokenizer_class, else
     * config.json's model_type; Marian: the source side); else a byte-level BPE folder's vocab.json + merges.txt
     * converted as GPT2Converter / RobertaConverter do ({@link ByteLevelBpeConverter}); else GPT-2 (config.json model_type
     * "gpt2" with GPT-2's 50,257-token vocabulary) through JTokkit's r50k_base.
     */
    public static Tokenizer forModel(Path folder) throws IOException {
        return forModel(folder, false, null);
    }

    /**
     * {@link #forModel} with the source language {@code srcLang} (null: the folder's) of a multilingual translation
     * tokenizer, as the fast tokenizers' {@code src_lang} / set_src_lang_special_tokens set it: NLLB {@code src_lang $A </s>}
     * ({@code $A </s> src_lang} with tokenizer_config.json's legacy_behaviour), mBART-50 {@code src_lang $A </s>}, mBART
     * {@code $A </s> src_lang}; pairs put $B after $A. The language code must be one of the tokenizer's special tokens.
     * An M2M100 folder without tokenizer.json takes M2M100Tokenizer's codes ("fr", not "__fr__"): {@code __fr__ $A </s>}.
     *
     * @throws TokenizerFormatException for another tokenizer family, or a code the tokenizer does not have
     */
    public static Tokenizer forModel(Path folder, String srcLang) throws IOException {
        return forModel(folder, false, srcLang);
    }

    /**
     * The tokenizer for target texts (labels, translations): a Marian folder's target side (target.spm), an M2M100
     * folder's tokenizer in target mode (tokenizer_config.json's tgt_lang before the text; without one, decoding works and
     * encoding with special tokens is refused, as in transformers), and the same tokenizer as {@link #forModel} for
     * every other folder.
     */
    public static Tokenizer forTarget(Path folder) throws IOException {
        return forModel(folder, true, null);
    }

    /**
     * {@link #forTarget} with the target language {@code tgtLang} of an M2M100 folder without tokenizer.json
     * (M2M100Tokenizer's tgt_lang / set_tgt_lang_special_tokens: {@code __tgt_lang__ $A </s>}).
     *
     * @throws TokenizerFormatException for another tokenizer family, or a code the tokenizer does not have
     */
    public static Tokenizer forTarget(Path folder, String tgtLang) throws IOException {
        return forModel(folder, true, tgtLang);
    }

    /** {@code lang}: the source language, or with {@code target} the target language (M2M100 only); null for the folder's. */
    private static Tokenizer forModel(Path folder, boolean target, String lang) throws IOException {
        Path json = folder.resolve("tokenizer.json");
        JsonNode tc = tokenizerConfig(folder);
        String tokenizerClass = tc.path("tokenizer_class").isTextual() ? tc.path("tokenizer_class").textValue() : null;
        if (Files.isRegularFile(json)) {
            if (lang != null && target) {
                throw new TokenizerFormatException(json, "a target language applies to M2M100 folders without tokenizer.json, not this one", null);
            }
            return lang == null ? HfTokenizer.load(json) : withSourceLanguage(folder, json, tc, tokenizerClass, lang);
        }
        if (lang != null) tc = ((com.fasterxml.jackson.databind.node.ObjectNode) tc.deepCopy()).put(target ? "tgt_lang" : "src_lang", lang);
        HfConfig config = null;
        CheckpointException configProblem = null;
        try {
            config = HfConfig.read(folder);
        } catch (CheckpointException e) {
            configProblem = e;
        }
        String type = null;
        if (config != null) {
            try {
                type = config.modelType();
            } catch (CheckpointException e) {
                configProblem = e;
            }
        }
        SpmFamily family = family(folder, tokenizerClass, type);
        // AutoTokenizer reads config.json's tokenizer_class when tokenizer_config.json names none: an NLLB checkpoint
        // (model_type m2m_100 too, "NllbTokenizer" there) is not read as M2M100
        if (family == SpmFamily.M2M100 && tokenizerClass == null) {
            String own = config.string("tokenizer_class", null);
            if (own != null && !own.replaceFirst("Fast$", "").equals("M2M100Tokenizer")) family = null;
        }
        if (lang != null && target && family != SpmFamily.M2M100) {
            throw new TokenizerFormatException(folder, "a target language applies to M2M100 folders without tokenizer.json, not this"
                    + " folder's (" + (family != null ? family : type) + ")", null);
        }
        if (lang != null && family != SpmFamily.MBART && family != SpmFamily.MBART50 && family != SpmFamily.M2M100) {
            throw new TokenizerFormatException(folder, "a source language applies to NLLB, mBART-50, mBART and M2M100 tokenizers, not this"
                    + " folder's (" + (family != null ? family : type) + ")", null);
        }
        if (family != null) return sentencePiece(folder, family, tc, target, lang != null);
        // a byte-level BPE folder without tokenizer.json (vocab.json + merges.txt: GPT-2 and RoBERTa fine-tunes, OPT, BART)
        Boolean roberta = ByteLevelBpeConverter.roberta(tokenizerClass, type);
        if (roberta != null && ByteLevelBpeConverter.applies(folder)) {
            return HfTokenizer.fromJson(folder.resolve("vocab.json"), ByteLevelBpeConverter.tokenizerJson(folder, tc, roberta));
        }
        if (config == null || type == null) {
            throw new TokenizerFormatException(folder, "no tokenizer.json, and no usable config.json to choose a tokenizer "
                    + "(" + configProblem.getMessage() + ")", configProblem);
        }
        if (type.equals("gpt2")) {
            int v = config.size("vocab_size", 50257);
            if (v != 50257) {
                throw new TokenizerFormatException(folder, "no tokenizer.json, and vocab_size " + v
                        + " is not GPT-2's 50257, so r50k_base would be the wrong vocabulary", null);
            }
            return TiktokenTokenizer.gpt2();
        }
        if (Files.isRegularFile(folder.resolve("tiktoken.model"))) {
            // Kimi-K2 / Moonlight: tiktoken ranks read by the folder's own remote code (tokenization_kimi.py, TikTokenTokenizer)
            throw new TokenizerFormatException(folder, "no tokenizer.json, and the folder's tiktoken.model (a tiktoken vocabulary for "
                    + (tokenizerClass != null ? tokenizerClass : "the folder's own") + " remote code, as Kimi-K2's tokenization_kimi.py"
                    + " reads it) is not read; give the folder a tokenizer.json", null);
        }
        String spm = spmFileIn(folder);
        if (spm != null) {
            throw new TokenizerFormatException(config.file(), "no tokenizer.json, and model_type '" + type + "' is not a family "
                    + "whose " + spm + " can be converted; " + SUPPORTED, null);
        }
        throw new TokenizerFormatException(folder, "no tokenizer.json, and model_type '" + type
                + "' has no tiktoken encoding to fall back on (" + SUPPORTED + ")", null);
    }

    /** A tokenizer.json whose post_processor is rebuilt for {@code srcLang} (see {@link #forModel(Path, String)}). */
    private static Tokenizer withSourceLanguage(Path folder, Path json, JsonNode tc, String tokenizerClass, String srcLang)
            throws IOException {
        String cls = tokenizerClass == null ? "" : tokenizerClass.replaceFirst("Fast$", "");
        boolean prefix = switch (cls) {
            case "NllbTokenizer" -> !tc.path("legacy_behaviour").asBoolean(false);
            case "MBart50Tokenizer" -> true;
            case "MBartTokenizer" -> false;
            default -> throw new TokenizerFormatException(folder.resolve("tokenizer_config.json"), "a source language applies to NLLB,"
                    + " mBART-50 and mBART tokenizers (tokenizer_class), not " + (tokenizerClass == null ? "this folder's" : tokenizerClass), null);
        };
        JsonNode root = TokenizerConfig.object(json);
        Integer lang = null, eos = null;
        for (JsonNode t : root.path("added_tokens")) {
            if (!t.path("special").asBoolean(false) || !t.path("id").canConvertToInt()) continue;
            if (srcLang.equals(t.path("content").asText())) lang = t.path("id").intValue();
            if ("</s>".equals(t.path("content").asText())) eos = t.path("id").intValue();
        }
        if (lang == null) throw new TokenizerFormatException(json, "source language '" + srcLang + "' is not one of its special tokens", null);
        if (eos == null) throw new TokenizerFormatException(json, "no </s> special token for the " + cls + " template", null);
        com.fasterxml.jackson.databind.ObjectMapper om = new com.fasterxml.jackson.databind.ObjectMapper();
        com.fasterxml.jackson.databind.node.ObjectNode post = om.createObjectNode().put("type", "TemplateProcessing");
        post.set("single", template(om, prefix, srcLang, false));
        post.set("pair", template(om, prefix, srcLang, true));
        com.fasterxml.jackson.databind.node.ObjectNode special = post.putObject("special_tokens");
        for (Object[] t : new Object[][] {{srcLang, lang}, {"</s>", eos}}) {
            com.fasterxml.jackson.databind.node.ObjectNode e = special.putObject((String) t[0]).put("id", (String) t[0]);
            e.putArray("ids").add((Integer) t[1]);
            e.putArray("tokens").add((String) t[0]);
        }
        ((com.fasterxml.jackson.databind.node.ObjectNode) root).set("post_processor", post);
        return HfTokenizer.fromJson(json, root);
    }

    /** [src_lang] $A [$B] </s>, or $A [$B] </s> src_lang, in TemplateProcessing's JSON. */
    private static JsonNode template(com.fasterxml.jackson.databind.ObjectMapper om, boolean prefix, String lang, boolean pair) {
        com.fasterxml.jackson.databind.node.ArrayNode a = om.createArrayNode();
        java.util.function.Consumer<String> special = id -> a.addObject().putObject("SpecialToken").put("id", id).put("type_id", 0);
        java.util.function.Consumer<String> seq = id -> a.addObject().putObject("Sequence").put("id", id).put("type_id", 0);
        if (prefix) special.accept(lang);
        seq.accept("A");
        if (pair) seq.accept("B");
        special.accept("</s>");
        if (!prefix) special.accept(lang);
        return a;
    }

    private static String spmFileIn(Path folder) {
        for (String f : List.of("spiece.model", "tokenizer.model", "sentencepiece.bpe.model", "spm.model", "source.spm")) {
            if (Files.isRegularFile(folder.resolve(f))) return f;
        }
        return null;
    }

    /** tokenizer_config.json as JSON, or an empty object when the folder has none. */
    private static JsonNode tokenizerConfig(Path folder) throws IOException {
        Path file = folder.resolve("tokenizer_config.json");
        if (!Files.isRegularFile(file)) return com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
        return TokenizerConfig.object(file);
    }

    /**
     * The SentencePiece family: tokenizer_config.json's tokenizer_class decides when it names one (as AutoTokenizer
     * does), else config.json's model_type; null when neither is one of them (and the class is absent).
     */
    static SpmFamily family(Path folder, String tokenizerClass, String modelType) throws TokenizerFormatException {
        if (tokenizerClass != null) {
            String c = tokenizerClass.endsWith("Fast") ? tokenizerClass.substring(0, tokenizerClass.length() - 4) : tokenizerClass;
            switch (c) {
                case "T5Tokenizer": return SpmFamily.T5;
                case "PegasusTokenizer": return SpmFamily.PEGASUS;
                case "AlbertTokenizer": return SpmFamily.ALBERT;
                case "XLNetTokenizer": return SpmFamily.XLNET;
                case "LlamaTokenizer", "CodeLlamaTokenizer": return SpmFamily.LLAMA;
                case "XLMRobertaTokenizer": return SpmFamily.XLM_ROBERTA;
                case "CamembertTokenizer": return SpmFamily.CAMEMBERT;
                case "MBartTokenizer": return SpmFamily.MBART;
                case "MBart50Tokenizer": return SpmFamily.MBART50;
                case "DebertaV2Tokenizer": return SpmFamily.DEBERTA_V2;
                case "MarianTokenizer": return SpmFamily.MARIAN;
                case "M2M100Tokenizer": return SpmFamily.M2M100;
                default:
                    if (spmFileIn(folder) != null) {
                        throw new TokenizerFormatException(folder.resolve("tokenizer_config.json"), "no tokenizer.json, and "
                                + "tokenizer_class '" + tokenizerClass + "' is not one whose " + spmFileIn(folder)
                                + " can be converted; " + SUPPORTED, null);
                    }
                    return null;
            }
        }
        if (modelType == null) return null;
        return switch (modelType.toLowerCase(Locale.ROOT)) {
            case "t5", "mt5", "umt5", "longt5" -> SpmFamily.T5;
            case "pegasus", "pegasus_x" -> SpmFamily.PEGASUS;
            case "albert" -> SpmFamily.ALBERT;
            case "xlnet" -> SpmFamily.XLNET;
            case "llama", "mistral" -> SpmFamily.LLAMA;
            case "xlm-roberta" -> SpmFamily.XLM_ROBERTA;
            case "camembert" -> SpmFamily.CAMEMBERT;
            case "mbart" -> SpmFamily.MBART;
            case "deberta-v2" -> SpmFamily.DEBERTA_V2;
            case "marian" -> SpmFamily.MARIAN;
            case "m2m_100" -> SpmFamily.M2M100;
            default -> null;
        };
    }

    /** {@code explicitLang}: the language in {@code tc} was the caller's (named with the folder in errors), not the file's. */
    private static Tokenizer sentencePiece(Path folder, SpmFamily family, JsonNode tc, boolean target, boolean explicitLang)
            throws IOException {
        Path tcFile = folder.resolve("tokenizer_config.json");
        if (family == SpmFamily.MARIAN) {
            return MarianTokenizer.load(folder, target, bool(tcFile, tc, "separate_vocabs", false));
        }
        if (family == SpmFamily.M2M100) {
            String codes = token(tcFile, tc, "language_codes", "m2m100");
            List<String> langs = switch (codes) {
                case "m2m100" -> M2M100Tokenizer.M2M100_LANGUAGES;
                case "wmt21" -> M2M100Tokenizer.WMT21_LANGUAGES;
                default -> throw new TokenizerFormatException(tcFile, "language_codes '" + codes + "' is neither m2m100 nor wmt21", null);
            };
            String lang = token(tcFile, tc, target ? "tgt_lang" : "src_lang", null);
            return M2M100Tokenizer.load(folder, langs, integer(tcFile, tc, "num_madeup_words", 8), lang, target, explicitLang ? folder : tcFile);
        }
        Path file = folder.resolve(family.file);
        if (!Files.isRegularFile(file)) {
            throw new TokenizerFormatException(folder, "no tokenizer.json and no " + family.file + " (the "
                    + family.name().toLowerCase(Locale.ROOT).replace('_', '-') + " family's SentencePiece model)", null);
        }
        SentencePieceModel m = SentencePieceModel.read(file);
        if (m.modelType() != SentencePieceModel.ModelType.UNIGRAM && m.modelType() != SentencePieceModel.ModelType.BPE) {
            throw new TokenizerFormatException(file, "a " + m.modelType() + " SentencePiece model: only unigram and BPE models "
                    + "convert (as in transformers' SpmConverter)", null);
        }
        boolean legacy = bool(tcFile, tc, "legacy", true);
        boolean addPrefixSpace = bool(tcFile, tc, "add_prefix_space", true);
        SentencePieceConverter.Recipe r = switch (family) {
            case T5 -> SentencePieceConverter.t5(m, integer(tcFile, tc, "extra_ids", 100), legacy, addPrefixSpace);
            case XLM_ROBERTA -> SentencePieceConverter.xlmRoberta(m, addPrefixSpace);
            case CAMEMBERT -> SentencePieceConverter.camembert(m, addPrefixSpace);
            case DEBERTA_V2 -> SentencePieceConverter.debertaV2(m, bool(tcFile, tc, "do_lower_case", false),
                    bool(tcFile, tc, "split_by_punct", false), addPrefixSpace);
            case MBART, MBART50 -> {
                boolean fifty = family == SpmFamily.MBART50;
                String src = token(tcFile, tc, "src_lang", "en_XX");
                List<String> codes = fifty ? SentencePieceConverter.MBART50_LANGUAGES : SentencePieceConverter.MBART_LANGUAGES;
                if (!codes.contains(src)) {
                    throw new TokenizerFormatException(tcFile, "src_lang '" + src + "' is not one of " + (fifty ? "mBART-50" : "mBART")
                            + "'s language codes " + codes, null);
                }
                yield SentencePieceConverter.mbart(m, fifty, src, addPrefixSpace);
            }
            case PEGASUS -> SentencePieceConverter.pegasus(m, integer(tcFile, tc, "offset", 103),
                    token(tcFile, tc, "mask_token_sent", "<mask_1>"), token(tcFile, tc, "mask_token", "<mask_2>"), legacy, addPrefixSpace);
            case ALBERT -> SentencePieceConverter.albertOrXlnet(m, false, bool(tcFile, tc, "do_lower_case", true),
                    bool(tcFile, tc, "keep_accents", false), addPrefixSpace);
            case XLNET -> SentencePieceConverter.albertOrXlnet(m, true, bool(tcFile, tc, "do_lower_case", false),
                    bool(tcFile, tc, "keep_accents", false), addPrefixSpace);
            case LLAMA -> SentencePieceConverter.llama(m, legacy, addPrefixSpace, token(tcFile, tc, "bos_token", "<s>"),
                    token(tcFile, tc, "eos_token", "</s>"), bool(tcFile, tc, "add_bos_token", true), bool(tcFile, tc, "add_eos_token", false));
            case MARIAN, M2M100 -> throw new AssertionError();
        };
        return HfTokenizer.fromJson(file, SentencePieceConverter.tokenizerJson(m, r));
    }

    private static boolean bool(Path file, JsonNode tc, String field, boolean dflt) throws TokenizerFormatException {
        JsonNode n = tc.path(field);
        if (n.isMissingNode() || n.isNull()) return dflt;
        if (!n.isBoolean()) throw new TokenizerFormatException(file, field + " is not true or false: " + n, null);
        return n.booleanValue();
    }

    private static int integer(Path file, JsonNode tc, String field, int dflt) throws TokenizerFormatException {
        JsonNode n = tc.path(field);
        if (n.isMissingNode() || n.isNull()) return dflt;
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < 0 || n.intValue() > 100_000) {
            throw new TokenizerFormatException(file, field + " is not an integer in [0, 100000]: " + n, null);
        }
        return n.intValue();
    }

    private static String token(Path file, JsonNode tc, String field, String dflt) throws TokenizerFormatException {
        JsonNode n = tc.path(field);
        if (n.isMissingNode() || n.isNull()) return dflt;
        if (n.isTextual()) return n.textValue();
        if (n.isObject() && n.path("content").isTextual()) return n.path("content").textValue();
        throw new TokenizerFormatException(file, field + " is neither a string nor an object with a string 'content'", null);
    }
}
