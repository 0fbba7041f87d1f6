// TokenizerModelsTest — the other two tokenizer.json model types through HfTokenizer: a tiny
// byte-level BPE (GPT-2 style) and a tiny Unigram (SentencePiece style) file written here, with
// the ids worked out by hand from the merge ranks and piece scores.
package org.transformer4j.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerModelsTest {

    @TempDir Path dir;

    private static final String SPECIAL = "{\"id\":0,\"content\":\"<|endoftext|>\",\"single_word\":false,\"lstrip\":false,"
            + "\"rstrip\":false,\"normalized\":false,\"special\":true}";

    @Test
    void byteLevelBpe() throws IOException {
        // Merge ranks: "l o" < "lo w" < "e r" < "Ġ n". "lower" → l o w e r → lo w e r → low e r → low er.
        // "Ġnewer" → pairs Ġn(3) ne ew we er(2): er first, then Ġn → Ġn e w er.
        String json = "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":[" + SPECIAL + "],"
                + "\"normalizer\":null,"
                + "\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":true,\"use_regex\":true},"
                + "\"post_processor\":null,"
                + "\"decoder\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":true,\"use_regex\":true},"
                + "\"model\":{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":null,\"continuing_subword_prefix\":null,"
                + "\"end_of_word_suffix\":null,\"fuse_unk\":false,\"byte_fallback\":false,"
                + "\"vocab\":{\"<|endoftext|>\":0,\"l\":1,\"o\":2,\"w\":3,\"e\":4,\"r\":5,\"Ġ\":6,\"n\":7,\"lo\":8,\"low\":9,"
                + "\"er\":10,\"Ġn\":11},"
                + "\"merges\":[\"l o\",\"lo w\",\"e r\",\"Ġ n\"]}}";
        Path p = dir.resolve("bpe.json");
        Files.writeString(p, json);
        try (HfTokenizer t = HfTokenizer.load(p)) {
            int[] ids = {9, 10, 11, 4, 3, 10};
            assertArrayEquals(ids, t.encode("lower newer"));
            assertEquals("lower newer", t.decode(ids));
            assertEquals(0, t.specialTokens().get("<|endoftext|>"));
            assertArrayEquals(new int[] {9, 0}, t.encode("low<|endoftext|>"), "added special tokens are matched in text");
        }
    }

    @Test
    void unigram() throws IOException {
        // Viterbi over log-probabilities: "▁lower" (-1.2) beats "▁low"+"er" (-2.5); "▁newer" = "▁new"+"er" (-2.5).
        String json = "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":[],\"normalizer\":null,"
                + "\"pre_tokenizer\":{\"type\":\"Metaspace\",\"replacement\":\"▁\",\"prepend_scheme\":\"always\",\"split\":true},"
                + "\"post_processor\":null,"
                + "\"decoder\":{\"type\":\"Metaspace\",\"replacement\":\"▁\",\"prepend_scheme\":\"always\",\"split\":true},"
                + "\"model\":{\"type\":\"Unigram\",\"unk_id\":0,\"byte_fallback\":false,\"vocab\":["
                + "[\"<unk>\",0.0],[\"▁\",-2.0],[\"▁low\",-1.0],[\"er\",-1.5],[\"▁lower\",-1.2],[\"e\",-3.0],[\"r\",-3.0],"
                + "[\"l\",-3.0],[\"o\",-3.0],[\"w\",-3.0],[\"n\",-3.0],[\"▁new\",-1.0]]}}";
        Path p = dir.resolve("unigram.json");
        Files.writeString(p, json);
        try (HfTokenizer t = HfTokenizer.load(p)) {
            int[] ids = {4, 11, 3};
            assertArrayEquals(ids, t.encode("lower newer"));
            assertEquals("lower newer", t.decode(ids));
            assertArrayEquals(new int[] {2, 1, 0}, t.encode("low z"), "an unknown piece becomes <unk>");
        }
    }
}
