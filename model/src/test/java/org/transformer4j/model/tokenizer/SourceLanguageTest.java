package org.transformer4j.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tokenizers.forModel(folder, srcLang) on tokenizer.json folders of the translation families, as the fast tokenizers'
 * set_src_lang_special_tokens writes the template (tokenization_nllb_fast.py, tokenization_mbart50_fast.py,
 * tokenization_mbart_fast.py): NLLB and mBART-50 put the code first, mBART (and NLLB's legacy_behaviour) after </s>.
 */
class SourceLanguageTest {

    /** A WordLevel tokenizer.json: <s> 0, <pad> 1, </s> 2, eng_Latn 3, fra_Latn 4, <unk> 5, then w6 … w31. */
    static Path folder(Path dir, String tokenizerConfig) throws Exception {
        Files.createDirectories(dir);
        String[] special = {"<s>", "<pad>", "</s>", "eng_Latn", "fra_Latn", "<unk>"};
        StringBuilder vocab = new StringBuilder(), added = new StringBuilder();
        for (int i = 0; i < 32; i++) {
            String t = i < special.length ? special[i] : "w" + i;
            vocab.append(i == 0 ? "" : ", ").append('"').append(t).append("\": ").append(i);
            if (i < special.length) {
                added.append(i == 0 ? "" : ", ").append("{\"id\": ").append(i).append(", \"content\": \"").append(t)
                        .append("\", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": true}");
            }
        }
        Files.writeString(dir.resolve("tokenizer.json"), "{\"version\": \"1.0\", \"truncation\": null, \"padding\": null, \"added_tokens\": ["
                + added + "], \"normalizer\": null, \"pre_tokenizer\": {\"type\": \"WhitespaceSplit\"}, \"post_processor\": {\"type\":"
                + " \"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\": \"eng_Latn\", \"type_id\": 0}}, {\"Sequence\": {\"id\":"
                + " \"A\", \"type_id\": 0}}, {\"SpecialToken\": {\"id\": \"</s>\", \"type_id\": 0}}], \"pair\": [{\"Sequence\": {\"id\": \"A\","
                + " \"type_id\": 0}}, {\"Sequence\": {\"id\": \"B\", \"type_id\": 0}}], \"special_tokens\": {\"eng_Latn\": {\"id\": \"eng_Latn\","
                + " \"ids\": [3], \"tokens\": [\"eng_Latn\"]}, \"</s>\": {\"id\": \"</s>\", \"ids\": [2], \"tokens\": [\"</s>\"]}}},"
                + " \"decoder\": null, \"model\": {\"type\": \"WordLevel\", \"unk_token\": \"<unk>\", \"vocab\": {" + vocab + "}}}");
        Files.writeString(dir.resolve("tokenizer_config.json"), tokenizerConfig);
        return dir;
    }

    @Test
    void nllbPutsTheSourceCodeFirst(@TempDir Path tmp) throws Exception {
        Path dir = folder(tmp, "{\"tokenizer_class\": \"NllbTokenizerFast\"}");
        try (Tokenizer folders = Tokenizers.forModel(dir); Tokenizer fra = Tokenizers.forModel(dir, "fra_Latn")) {
            assertArrayEquals(new int[] {3, 10, 11, 2}, folders.encode("w10 w11"));            // the file's own template
            assertArrayEquals(new int[] {4, 10, 11, 2}, fra.encode("w10 w11"));
            assertArrayEquals(new int[] {4, 10, 12, 2}, fra.encodePair("w10", "w12").ids());
        }
    }

    @Test
    void legacyNllbAndMbartPutItAfterEos(@TempDir Path tmp) throws Exception {
        for (String cfg : new String[] {"{\"tokenizer_class\": \"NllbTokenizer\", \"legacy_behaviour\": true}", "{\"tokenizer_class\": \"MBartTokenizerFast\"}"}) {
            Path dir = folder(tmp.resolve(String.valueOf(cfg.hashCode())), cfg);
            try (Tokenizer fra = Tokenizers.forModel(dir, "fra_Latn")) {
                assertArrayEquals(new int[] {10, 11, 2, 4}, fra.encode("w10 w11"), cfg);
            }
        }
        try (Tokenizer fifty = Tokenizers.forModel(folder(tmp.resolve("m50"), "{\"tokenizer_class\": \"MBart50TokenizerFast\"}"), "fra_Latn")) {
            assertArrayEquals(new int[] {4, 10, 11, 2}, fifty.encode("w10 w11"));
        }
    }

    /** M2M100 without tokenizer.json (M2M100Tokenizer, slow only): the code is "fr", its token __fr__ goes first (M2M100TokenizerTest has the rest). */
    @Test
    void m2m100PutsTheLanguageTokenFirst(@TempDir Path tmp) throws Exception {
        Path dir = M2M100TokenizerTest.folder(tmp.resolve("m2m100"), M2M100TokenizerTest.tokenizerConfig(""));
        com.fasterxml.jackson.databind.JsonNode f = M2M100TokenizerTest.F;
        try (Tokenizer en = Tokenizers.forModel(dir); Tokenizer fr = Tokenizers.forModel(dir, "fr")) {
            int[] e = en.encode("Hello world!"), x = fr.encode("Hello world!");
            assertArrayEquals(new int[] {f.get("__en__").intValue(), 2}, en.encode(""));
            assertArrayEquals(new int[] {f.get("__fr__").intValue(), 2}, fr.encode(""));
            assertArrayEquals(java.util.Arrays.copyOfRange(e, 1, e.length), java.util.Arrays.copyOfRange(x, 1, x.length));
        }
        assertThrows(TokenizerFormatException.class, () -> Tokenizers.forModel(dir, "fra_Latn"));
    }

    @Test
    void aCodeTheTokenizerLacksOrAnotherFamilyIsRefused(@TempDir Path tmp) throws Exception {
        Path dir = folder(tmp.resolve("nllb"), "{\"tokenizer_class\": \"NllbTokenizerFast\"}");
        TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> Tokenizers.forModel(dir, "deu_Latn"));
        assertTrue(e.getMessage().contains("deu_Latn"), e.getMessage());
        Path bert = folder(tmp.resolve("bert"), "{\"tokenizer_class\": \"BertTokenizer\"}");
        e = assertThrows(TokenizerFormatException.class, () -> Tokenizers.forModel(bert, "fra_Latn"));
        assertTrue(e.getMessage().contains("BertTokenizer"), e.getMessage());
    }
}
