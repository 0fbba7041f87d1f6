// M2M100TokenizerTest — M2M100 folders without tokenizer.json (sentencepiece.bpe.model + vocab.json, as
// facebook/m2m100_418M ships them) against ci/spm-reference/make_fixtures.py's "m2m100" family: a BPE model trained by
// Debian's spm_train, a fairseq-ordered vocab.json that lacks some pieces, and the ids python3-sentencepiece and a
// restatement of transformers' M2M100Tokenizer give (language tokens at len(vocab.json) + i, __src__ pieces </s>).
package org.transformer4j.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class M2M100TokenizerTest {

    @TempDir Path dir;

    static final JsonNode F = SentencePieceTokenizerTest.REF.path("families").path("m2m100");

    /** As facebook/m2m100_418M's tokenizer_config.json, with {@code extra} fields added. */
    static String tokenizerConfig(String extra) {
        return "{\"tokenizer_class\":\"M2M100Tokenizer\",\"language_codes\":\"m2m100\",\"num_madeup_words\":8,\"src_lang\":null,"
                + "\"tgt_lang\":null,\"bos_token\":\"<s>\",\"eos_token\":\"</s>\",\"unk_token\":\"<unk>\",\"pad_token\":\"<pad>\""
                + (extra.isEmpty() ? "" : "," + extra) + "}";
    }

    /** An M2M100 folder: config.json (model_type m2m_100), the fixture's model and vocab.json, maybe tokenizer_config.json. */
    static Path folder(Path d, String tokenizerConfig) throws IOException {
        Files.createDirectories(d);
        Files.writeString(d.resolve("config.json"), "{\"model_type\":\"m2m_100\"}");
        if (tokenizerConfig != null) Files.writeString(d.resolve("tokenizer_config.json"), tokenizerConfig);
        Files.write(d.resolve("sentencepiece.bpe.model"), SentencePieceTokenizerTest.resource(F.get("file").textValue()));
        Files.write(d.resolve("vocab.json"), SentencePieceTokenizerTest.resource(F.get("vocab").textValue()));
        return d;
    }

    static void check(Tokenizer t, JsonNode cases, String what) {
        List<String> failures = new ArrayList<>();
        for (JsonNode c : cases) {
            String text = c.get("text").textValue();
            int[] want = SentencePieceTokenizerTest.ints(c.get("ids"));
            int[] got = t.encode(text);
            if (!Arrays.equals(want, got)) {
                failures.add(what + " " + SentencePieceTokenizerTest.quoted(text) + ": want " + Arrays.toString(want) + " got " + Arrays.toString(got));
                continue;
            }
            if (t instanceof M2M100Tokenizer m) {
                // sentencepiece gives an unknown character's own text as its piece, the Rust BPE model "<unk>": the same id
                List<String> pieces = new ArrayList<>();
                for (int i = 0; i < c.get("pieces").size(); i++) {
                    pieces.add(want[i + 1] == F.get("unk").intValue() && m.pieces(text).get(i).equals("<unk>") ? "<unk>" : c.get("pieces").get(i).textValue());
                }
                if (!pieces.equals(m.pieces(text))) failures.add(what + " pieces " + SentencePieceTokenizerTest.quoted(text) + ": " + m.pieces(text));
                int[] bare = Arrays.copyOfRange(want, 1, want.length - 1);
                if (!Arrays.equals(bare, t.encode(text, false))) failures.add(what + " without special tokens " + SentencePieceTokenizerTest.quoted(text));
            }
            String dec = t.decode(got, true);
            if (!dec.equals(c.get("decoded").textValue())) {
                failures.add(what + " decode " + SentencePieceTokenizerTest.quoted(text) + ": want "
                        + SentencePieceTokenizerTest.quoted(c.get("decoded").textValue()) + " got " + SentencePieceTokenizerTest.quoted(dec));
            }
        }
        assertTrue(failures.isEmpty(), failures.size() + " of " + cases.size() + " cases differ:\n" + String.join("\n", failures));
    }

    @Test
    void idsAndDecodingAsTheSlowTokenizer() throws IOException {
        try (Tokenizer t = Tokenizers.forModel(folder(dir.resolve("m2m"), tokenizerConfig("")))) {
            assertInstanceOf(M2M100Tokenizer.class, t);
            check(t, F.get("cases"), "m2m100 (src_lang en)");
            // the fixture exercises what it claims: pieces vocab.json lacks read as <unk> (3), unicode, the empty text
            int unk = F.get("unk").intValue();
            assertTrue(F.get("dropped").size() >= 3);
            long unks = 0;
            for (JsonNode c : F.get("cases")) for (JsonNode id : c.get("ids")) unks += id.intValue() == unk ? 1 : 0;
            assertTrue(unks > 10, "unk ids in the fixture: " + unks);
            assertArrayEquals(new int[] {F.get("__en__").intValue(), 2}, t.encode(""));
            // a pair: __en__ A B </s>, no separator, types 0
            int[] a = t.encode("Hello world!", false), b = t.encode("Привет, мир!", false);
            Tokenizer.Encoded pair = t.encodePair("Hello world!", "Привет, мир!");
            int[] want = new int[a.length + b.length + 2];
            want[0] = F.get("__en__").intValue();
            System.arraycopy(a, 0, want, 1, a.length);
            System.arraycopy(b, 0, want, 1 + a.length, b.length);
            want[want.length - 1] = 2;
            assertArrayEquals(want, pair.ids());
            assertArrayEquals(new int[want.length], pair.typeIds());
        }
    }

    @Test
    void languageTokensAndMadeupWords() throws IOException {
        int n = F.get("encoder_size").intValue();
        try (Tokenizer t = Tokenizers.forModel(folder(dir.resolve("m2m"), tokenizerConfig("")))) {
            M2M100Tokenizer m = (M2M100Tokenizer) t;
            for (String tok : List.of("__af__", "__en__", "__fr__", "__de__", "__zu__")) {
                assertEquals(F.get(tok).intValue(), t.specialTokens().get(tok), tok);
                assertEquals(F.get(tok).intValue(), m.langId(tok.substring(2, tok.length() - 2)), tok);
            }
            assertEquals(n, m.langId("af"));
            assertEquals(n + 99, m.langId("zu"));
            assertEquals(100, t.specialTokens().keySet().stream().filter(s -> s.startsWith("__")).count());
            assertEquals(0, t.specialTokens().get("<s>"));
            assertEquals(1, t.specialTokens().get("<pad>"));
            assertEquals(2, t.specialTokens().get("</s>"));
            assertEquals(3, t.specialTokens().get("<unk>"));
            assertEquals(F.get("vocab_size").intValue(), m.vocabSize());
            assertEquals("en", m.language());
            // the madeup words have ids (vocab_size counts them) but no token: _convert_id_to_token gives <unk>
            int madeup = F.get("madeup_first").intValue();
            assertEquals(n + 100, madeup);
            assertFalse(t.specialTokens().containsKey("madeupword0"));
            assertEquals("", t.decode(new int[] {madeup, madeup + 7}, true));
            assertEquals("<unk> <unk>", t.decode(new int[] {madeup, madeup + 7}, false));
            assertThrows(IllegalArgumentException.class, () -> t.decode(new int[] {madeup + 8}, true));
            assertThrows(IllegalArgumentException.class, () -> t.decode(new int[] {-1}, true));
            assertThrows(IllegalArgumentException.class, () -> m.langId("xx"));
            // decode skips <s> </s> <pad> <unk> and the language tokens wherever they are
            for (JsonNode c : F.get("decode_cases")) {
                assertEquals(c.get("decoded").textValue(), t.decode(SentencePieceTokenizerTest.ints(c.get("ids")), true), c.toString());
            }
            // kept, they read as their text between spaces
            int[] ids = t.encode("Hello world!");
            assertEquals("__en__ Hello world! </s>", t.decode(ids, false));
        }
    }

    @Test
    void sourceLanguageFromTheCallerOrTheConfig() throws IOException {
        Path d = folder(dir.resolve("m2m"), tokenizerConfig(""));
        try (Tokenizer fr = Tokenizers.forModel(d, "fr")) {
            check(fr, F.get("fr_cases"), "m2m100 src_lang fr");
            assertEquals("fr", ((M2M100Tokenizer) fr).language());
        }
        try (Tokenizer fr = Tokenizers.forModel(folder(dir.resolve("m2m-fr"), tokenizerConfig("\"src_lang\":\"fr\"").replace("\"src_lang\":null,", "")))) {
            check(fr, F.get("fr_cases"), "m2m100 tokenizer_config src_lang fr");
        }
        // no tokenizer_config.json: config.json's model_type m2m_100 picks M2M100Tokenizer, src_lang en
        try (Tokenizer t = Tokenizers.forModel(folder(dir.resolve("m2m-bare"), null))) {
            check(t, F.get("cases"), "m2m100 without tokenizer_config.json");
        }
        TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> Tokenizers.forModel(d, "__fr__"));
        assertEquals(d, e.file());
        assertTrue(e.getMessage().contains("src_lang '__fr__'"), e.getMessage());
        Path bad = folder(dir.resolve("m2m-xx"), tokenizerConfig("\"src_lang\":\"xx\"").replace("\"src_lang\":null,", ""));
        e = assertThrows(TokenizerFormatException.class, () -> Tokenizers.forModel(bad));
        assertEquals(bad.resolve("tokenizer_config.json"), e.file());
    }

    @Test
    void targetLanguage() throws IOException {
        Path d = folder(dir.resolve("m2m"), tokenizerConfig(""));
        try (Tokenizer de = Tokenizers.forTarget(d, "de")) {
            check(de, F.get("de_target_cases"), "m2m100 tgt_lang de");
        }
        try (Tokenizer de = Tokenizers.forTarget(folder(dir.resolve("m2m-de"), tokenizerConfig("\"tgt_lang\":\"de\"").replace("\"tgt_lang\":null,", "")))) {
            check(de, F.get("de_target_cases"), "m2m100 tokenizer_config tgt_lang de");
        }
        // tgt_lang unset: decoding works, encoding a target with its language token is refused (transformers fails too)
        try (Tokenizer target = Tokenizers.forTarget(d)) {
            assertNull(((M2M100Tokenizer) target).language());
            JsonNode c = F.get("de_target_cases").get(1);
            assertEquals(c.get("decoded").textValue(), target.decode(SentencePieceTokenizerTest.ints(c.get("ids")), true));
            assertEquals(F.get("__fr__").intValue(), target.specialTokens().get("__fr__"));
            assertThrows(IllegalStateException.class, () -> target.encode("Hallo"));
        }
    }

    @Test
    void wmt21LanguageCodes() throws IOException {
        int n = F.get("encoder_size").intValue();
        Path d = folder(dir.resolve("wmt21"), tokenizerConfig("").replace("\"language_codes\":\"m2m100\"", "\"language_codes\":\"wmt21\""));
        try (Tokenizer t = Tokenizers.forModel(d, "de")) {
            M2M100Tokenizer m = (M2M100Tokenizer) t;
            assertEquals(n, m.langId("en"));
            assertEquals(n + 7, m.langId("de"));
            assertEquals(n + 8 + 8, m.vocabSize());
            assertEquals(n + 7, t.encode("Hallo")[0]);
            assertFalse(t.specialTokens().containsKey("__fr__"));
        }
    }

    @Test
    void brokenFoldersNameTheFile() throws IOException {
        Path noVocab = folder(dir.resolve("no-vocab"), tokenizerConfig(""));
        Files.delete(noVocab.resolve("vocab.json"));
        TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> Tokenizers.forModel(noVocab));
        assertEquals(noVocab.resolve("vocab.json"), e.file());

        Path corrupt = folder(dir.resolve("corrupt"), tokenizerConfig(""));
        byte[] model = Files.readAllBytes(corrupt.resolve("sentencepiece.bpe.model"));
        Files.write(corrupt.resolve("sentencepiece.bpe.model"), Arrays.copyOf(model, model.length / 3));
        e = assertThrows(TokenizerFormatException.class, () -> Tokenizers.forModel(corrupt));
        assertEquals(corrupt.resolve("sentencepiece.bpe.model"), e.file());

        Path noModel = folder(dir.resolve("no-model"), tokenizerConfig(""));
        Files.delete(noModel.resolve("sentencepiece.bpe.model"));
        e = assertThrows(TokenizerFormatException.class, () -> Tokenizers.forModel(noModel));
        assertEquals(noModel.resolve("sentencepiece.bpe.model"), e.file());

        Path badJson = folder(dir.resolve("bad-json"), tokenizerConfig(""));
        Files.writeString(badJson.resolve("vocab.json"), "{\"<unk>\": 3, \"</s>\": 2,");
        e = assertThrows(TokenizerFormatException.class, () -> Tokenizers.forModel(badJson));
        assertEquals(badJson.resolve("vocab.json"), e.file());

        Path noEos = folder(dir.resolve("no-eos"), tokenizerConfig(""));
        Files.writeString(noEos.resolve("vocab.json"), "{\"<unk>\": 0, \"a\": 1}");
        e = assertThrows(TokenizerFormatException.class, () -> Tokenizers.forModel(noEos));
        assertTrue(e.getMessage().contains("'</s>'") && e.getMessage().contains("M2M100Tokenizer"), e.getMessage());

        Path codes = folder(dir.resolve("codes"), tokenizerConfig("").replace("\"m2m100\"", "\"flores200\""));
        e = assertThrows(TokenizerFormatException.class, () -> Tokenizers.forModel(codes));
        assertEquals(codes.resolve("tokenizer_config.json"), e.file());
    }

    /** An NLLB checkpoint is model_type m2m_100 too; its config.json's tokenizer_class keeps it from being read as M2M100. */
    @Test
    void nllbConfigWithoutTokenizerJsonIsNotM2M100() throws IOException {
        Path d = folder(dir.resolve("nllb"), null);
        Files.writeString(d.resolve("config.json"), "{\"model_type\":\"m2m_100\",\"tokenizer_class\":\"NllbTokenizer\"}");
        TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> Tokenizers.forModel(d));
        assertTrue(e.getMessage().contains("m2m_100"), e.getMessage());
        // a target language is for M2M100 folders only
        Path t5 = dir.resolve("t5");
        Files.createDirectories(t5);
        Files.writeString(t5.resolve("config.json"), "{\"model_type\":\"t5\"}");
        Files.write(t5.resolve("spiece.model"), SentencePieceTokenizerTest.resource("t5-spiece.model"));
        assertThrows(TokenizerFormatException.class, () -> Tokenizers.forTarget(t5, "de"));
    }
}
