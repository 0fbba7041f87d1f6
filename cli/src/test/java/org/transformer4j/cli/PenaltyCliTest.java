// PenaltyCliTest — `t4j generate` and `t4j chat` with --repetition-penalty, --presence-penalty, --frequency-penalty,
// --min-p, --min-new-tokens and --no-repeat-ngram-size on the reference harness's Llama folder: the printed text
// equals Generator's tokens with the same options; the folder's token rules and --bad-words likewise; a generation_config.json with repetition_penalty (Qwen2.5-Instruct ships 1.05) applies it by default, in
// greedy generation too, as transformers' generate does; out-of-range values are refused naming the option.
package org.transformer4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.model.Generator;
import org.transformer4j.model.Pretrained;
import org.transformer4j.model.Weights;
import org.transformer4j.model.tokenizer.HfTokenizer;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.CpuBackend;

class PenaltyCliTest {

    private static Set<Integer> eos(Path model) throws Exception {
        int v = ChatFolder.vocabSize(model);
        try (Backend b = new CpuBackend(); Weights w = Pretrained.load(model, b)) {
            int configEos = w.config.specialIds().eos();
            return configEos >= 0 ? Set.of(ChatFolder.imEnd(v), configEos) : Set.of(ChatFolder.imEnd(v));
        }
    }

    @Test
    void generateAndChatTakeThePenaltiesAndTheFoldersRepetitionPenalty(@TempDir Path dir) throws Exception {
        Path model = ChatFolder.decoder(dir.resolve("llama"), "llama");
        Set<Integer> eos = eos(model);
        String prompt = "the cat sat on the mat";
        int[] ids;
        try (HfTokenizer tok = HfTokenizer.load(model)) { ids = tok.encode(prompt); }

        CliProcess.Result gen = CliProcess.run(dir, "generate", "--model", model.toString(), prompt, "--max-new-tokens", "12",
                "--repetition-penalty", "1.8", "--presence-penalty", "0.5", "--frequency-penalty", "0.3");
        assertEquals(0, gen.exit(), gen.all());
        Generator.Options o = Generator.Options.greedy(12).repetitionPenalty(1.8f).presenceFrequency(0.5f, 0.3f);
        String want = DecoderCliTest.expected(model, ids, o, eos);
        assertNotEquals(DecoderCliTest.expected(model, ids, Generator.Options.greedy(12), eos), want, "the penalties change this text");
        assertEquals(want, gen.out().strip(), gen.all());

        CliProcess.Result sampled = CliProcess.run(dir, "generate", "--model", model.toString(), prompt, "--max-new-tokens", "12",
                "--temperature", "0.9", "--seed", "5", "--min-p", "0.3");
        assertEquals(0, sampled.exit(), sampled.all());
        assertEquals(DecoderCliTest.expected(model, ids, Generator.Options.greedy(12).sampling(0.9f, 0, 1f, 5).minP(0.3f), eos), sampled.out().strip(),
                sampled.all());

        // the folder's generation_config.json with a repetition penalty: generate applies it, greedy too
        Files.writeString(model.resolve("generation_config.json"), "{\"eos_token_id\": [" + ChatFolder.imEnd(ChatFolder.vocabSize(model))
                + "], \"do_sample\": false, \"max_new_tokens\": 5, \"repetition_penalty\": 1.6}");
        CliProcess.Result byFile = CliProcess.run(dir, "generate", "--model", model.toString(), prompt, "--max-new-tokens", "12");
        assertEquals(0, byFile.exit(), byFile.all());
        assertEquals(DecoderCliTest.expected(model, ids, Generator.Options.greedy(12).repetitionPenalty(1.6f), eos), byFile.out().strip(), byFile.all());

        // --no-repeat-ngram-size and --min-new-tokens over the file's (min_length gives way to a given --min-new-tokens)
        String file = Files.readString(model.resolve("generation_config.json"));
        Files.writeString(model.resolve("generation_config.json"), file.replace("}", ", \"no_repeat_ngram_size\": 3, \"min_length\": 40}"));
        CliProcess.Result banned = CliProcess.run(dir, "generate", "--model", model.toString(), prompt, "--max-new-tokens", "12",
                "--no-repeat-ngram-size", "1", "--min-new-tokens", "10");
        assertEquals(0, banned.exit(), banned.all());
        String bannedWant = DecoderCliTest.expected(model, ids,
                Generator.Options.greedy(12).repetitionPenalty(1.6f).noRepeatNgramSize(1).minNewTokens(10), eos);
        assertNotEquals(DecoderCliTest.expected(model, ids, Generator.Options.greedy(12).repetitionPenalty(1.6f), eos), bannedWant,
                "the bans change this text");
        assertEquals(bannedWant, banned.out().strip(), banned.all());
        Files.writeString(model.resolve("generation_config.json"), file);

        CliProcess.Result chat = CliProcess.runWithInput(dir, "hello how are you ?\n/exit\n", "chat", "--model", model.toString(),
                "--repetition-penalty", "2.5");
        assertEquals(0, chat.exit(), chat.all());
        int[] chatPrompt;
        try (HfTokenizer tok = HfTokenizer.load(model)) {
            chatPrompt = tok.encode("<|im_start|>user\nhello how are you ?<|im_end|>\n<|im_start|>assistant\n", false);
        }
        assertEquals(DecoderCliTest.expected(model, chatPrompt, Generator.Options.greedy(5).repetitionPenalty(2.5f), Set.of(ChatFolder.imEnd(ChatFolder.vocabSize(model)))),
                chat.out().lines().findFirst().orElse(""), chat.all());
    }

    /**
     * The folder's token rules (suppress_tokens, begin_suppress_tokens, bad_words_ids, forced_eos_token_id) apply to
     * `t4j generate` as generate applies them, and --bad-words (vLLM's) on top: the text equals Generator's with the same
     * rules; a blank --bad-words is refused naming the option.
     */
    @Test
    void generateTakesTheFoldersTokenRulesAndBadWords(@TempDir Path dir) throws Exception {
        Path model = ChatFolder.decoder(dir.resolve("llama"), "llama");
        Set<Integer> eos = eos(model);
        String prompt = "the cat sat on the mat";
        int[] ids, plain;
        java.util.List<java.util.List<Integer>> words;
        try (HfTokenizer tok = HfTokenizer.load(model); Backend b = new CpuBackend(); Weights w = Pretrained.load(model, b)) {
            ids = tok.encode(prompt);
            plain = new org.transformer4j.model.Generator(new org.transformer4j.model.Transformer(w, b)).generate(ids,
                    Generator.Options.greedy(10).stopIds(eos), null);
            words = org.transformer4j.model.TokenRules.badWordsOf(tok, java.util.List.of("mat"));
        }
        assertTrue(plain.length >= 4, java.util.Arrays.toString(plain));
        Files.writeString(model.resolve("generation_config.json"), "{\"eos_token_id\": [" + ChatFolder.imEnd(ChatFolder.vocabSize(model))
                + "], \"suppress_tokens\": [" + plain[2] + "], \"begin_suppress_tokens\": [" + plain[0] + "], \"bad_words_ids\": [["
                + plain[1] + "]], \"forced_eos_token_id\": " + ChatFolder.imEnd(ChatFolder.vocabSize(model)) + "}");
        Generator.Options o = Generator.Options.greedy(10).suppressTokens(Set.of(plain[2])).beginSuppressTokens(Set.of(plain[0]))
                .badWordsIds(java.util.List.of(java.util.List.of(plain[1]))).forcedEosTokenIds(Set.of(ChatFolder.imEnd(ChatFolder.vocabSize(model))))
                .outputBadWordsIds(words);
        String want = DecoderCliTest.expected(model, ids, o, eos);
        assertNotEquals(DecoderCliTest.expected(model, ids, Generator.Options.greedy(10), eos), want, "the rules change this text");
        CliProcess.Result r = CliProcess.run(dir, "generate", "--model", model.toString(), prompt, "--max-new-tokens", "10", "--bad-words", "mat");
        assertEquals(0, r.exit(), r.all());
        assertEquals(want, r.out().strip(), r.all());
        CliProcess.Result blank = CliProcess.run(dir, "generate", "--model", model.toString(), prompt, "--bad-words", "  ");
        assertNotEquals(0, blank.exit(), blank.all());
        assertTrue(blank.err().contains("--bad-words"), blank.all());
    }

    @Test
    void outOfRangeValuesAreRefusedNamingTheOption(@TempDir Path dir) throws Exception {
        Path model = ChatFolder.decoder(dir.resolve("llama"), "llama");
        String[][] cases = {{"--repetition-penalty", "0", "--repetition-penalty must be > 0"},
                            {"--presence-penalty", "2.5", "--presence-penalty must be in [-2, 2]"},
                            {"--frequency-penalty", "-3", "--frequency-penalty must be in [-2, 2]"},
                            {"--min-p", "1.2", "--min-p must be in [0, 1]"}};
        for (String[] c : cases) {
            CliProcess.Result r = CliProcess.run(dir, "generate", "--model", model.toString(), "hello", c[0], c[1]);
            assertNotEquals(0, r.exit(), r.all());
            assertTrue(r.err().contains(c[2]), r.all());
        }
        PenaltyOptions p = new PenaltyOptions();                 // the same check, in process (a JVM start each is slow)
        p.minNewTokens = -1;
        assertTrue(org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, p::check).getMessage()
                .contains("--min-new-tokens must be ≥ 0"));
        p.minNewTokens = null;
        p.noRepeatNgramSize = -2;
        assertTrue(org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, p::check).getMessage()
                .contains("--no-repeat-ngram-size must be ≥ 0"));
    }
}
