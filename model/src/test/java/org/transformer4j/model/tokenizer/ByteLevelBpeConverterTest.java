// ByteLevelBpeConverterTest — a byte-level BPE folder without tokenizer.json (vocab.json + merges.txt, as the gpt2, OPT and
// RoBERTa repositories lay them out; here GPT-2's real vocabulary rebuilt from JTokkit's r50k_base ranks) through
// Tokenizers.forModel: id for id JTokkit's GPT-2 on random text, the published ids of the seed sentence; OPT's folders
// (add_bos_token) put their BOS first; RoBERTa's folders wrap the text in <s> … </s> (pairs </s></s> between), the mask
// token taking the space before it; a special token missing from the vocabulary is named.
package org.transformer4j.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ByteLevelBpeConverterTest {

    @TempDir Path tmp;

    private Path folder(String name, String config, String tokenizerConfig, List<String> extra) throws Exception {
        Path d = Files.createDirectories(tmp.resolve(name));
        Gpt2TokenizerJson.writeVocabAndMerges(d, extra);
        Files.writeString(d.resolve("config.json"), config);
        if (tokenizerConfig != null) Files.writeString(d.resolve("tokenizer_config.json"), tokenizerConfig);
        return d;
    }

    static final String SEED = "Many words don't map to one token: indivisible.";
    static final int[] SEED_IDS = {7085, 2456, 836, 470, 3975, 284, 530, 11241, 25, 773, 452, 12843, 13};

    @Test
    void gpt2FilesMatchJtokkitIdForId() throws Exception {
        Path d = folder("gpt2", "{\"model_type\": \"gpt2\", \"vocab_size\": 50257}", "{\"tokenizer_class\": \"GPT2Tokenizer\","
                + " \"add_prefix_space\": false, \"bos_token\": \"<|endoftext|>\", \"eos_token\": \"<|endoftext|>\", \"unk_token\": \"<|endoftext|>\"}",
                List.of());
        try (Tokenizer t = Tokenizers.forModel(d); Tokenizer jt = TiktokenTokenizer.gpt2()) {
            assertTrue(t instanceof HfTokenizer, "converted, not the tiktoken fallback: " + t.getClass());
            assertArrayEquals(SEED_IDS, t.encode(SEED));
            assertEquals(SEED, t.decode(SEED_IDS));
            assertEquals(50256, t.specialTokens().get("<|endoftext|>"));
            assertArrayEquals(new int[] {15496, 50256}, t.encode("Hello<|endoftext|>"), "the special token is one id");
            String[] words = {"the", " The", " tokenizer", "don't", "we'll", "1905", "3.14159", "naïve", "東京", "🙂", "\n", "  ", "x_y", "<div>"};
            Random r = new Random(7);
            for (int i = 0; i < 200; i++) {
                StringBuilder s = new StringBuilder();
                for (int k = 0, n = 1 + r.nextInt(10); k < n; k++) {
                    s.append(r.nextInt(4) == 0 ? String.valueOf((char) (0x20 + r.nextInt(0x5f))) : words[r.nextInt(words.length)]);
                    if (r.nextBoolean()) s.append(' ');
                }
                String text = s.toString();
                assertArrayEquals(jt.encode(text), t.encode(text), () -> "'" + text + "'");
                assertEquals(text, t.decode(t.encode(text)));
            }
        }
    }

    /** OPT's folders: GPT2Tokenizer with add_bos_token, "</s>" the BOS (GPT2Converter's TemplateProcessing "{bos} $A"). */
    @Test
    void optFoldersPutTheirBosFirst() throws Exception {
        Path d = folder("opt", "{\"model_type\": \"opt\", \"vocab_size\": 50260}", "{\"tokenizer_class\": \"GPT2Tokenizer\","
                + " \"add_bos_token\": true, \"add_prefix_space\": false, \"bos_token\": {\"content\": \"</s>\", \"__type\": \"AddedToken\"},"
                + " \"eos_token\": \"</s>\", \"pad_token\": \"<pad>\", \"unk_token\": \"</s>\"}", List.of("</s>", "<pad>"));
        try (Tokenizer t = Tokenizers.forModel(d)) {
            int[] want = new int[SEED_IDS.length + 1];
            want[0] = 50257;
            System.arraycopy(SEED_IDS, 0, want, 1, SEED_IDS.length);
            assertArrayEquals(want, t.encode(SEED));
            assertArrayEquals(SEED_IDS, t.encode(SEED, false));
            assertEquals(SEED, t.decode(want, true));
            assertEquals(50258, t.specialTokens().get("<pad>"));
        }
    }

    /** RoBERTa's folders: RobertaProcessing (<s> $A </s>; pairs <s> $A </s></s> $B </s>); <mask> strips the space on its left. */
    @Test
    void robertaFoldersWrapTheirTexts() throws Exception {
        Path d = folder("roberta", "{\"model_type\": \"roberta\", \"vocab_size\": 50262}", "{\"tokenizer_class\": \"RobertaTokenizer\","
                + " \"bos_token\": \"<s>\", \"eos_token\": \"</s>\", \"sep_token\": \"</s>\", \"cls_token\": \"<s>\", \"unk_token\": \"<unk>\","
                + " \"pad_token\": \"<pad>\", \"mask_token\": \"<mask>\"}", List.of("<s>", "</s>", "<pad>", "<unk>", "<mask>"));
        try (Tokenizer t = Tokenizers.forModel(d)) {
            assertArrayEquals(new int[] {50257, 15496, 50258}, t.encode("Hello"));
            HfTokenizer h = (HfTokenizer) t;
            Tokenizer.Encoded pair = h.encodePair("Hello", "Hello");
            assertArrayEquals(new int[] {50257, 15496, 50258, 50258, 15496, 50258}, pair.ids(), Arrays.toString(pair.ids()));
            assertArrayEquals(new int[] {50257, 15496, 50261, 50258}, t.encode("Hello <mask>"), "the mask takes the space before it");
        }
        // RobertaTokenizer by model_type alone (no tokenizer_config.json): the defaults' tokens must be in the vocabulary
        Path bare = folder("roberta-bare", "{\"model_type\": \"roberta\", \"vocab_size\": 50257}", null, List.of());
        TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> Tokenizers.forModel(bare).close());
        assertTrue(e.getMessage().contains("'</s>' is not a token of this vocabulary"), e.getMessage());
    }
}
