// BeamCliTest — `t4j generate --num-beams N` and a generation_config.json with num_beams on the reference harness's
// Llama folder: the printed lines equal BeamSearch's hypotheses with the same options (the folder's length_penalty,
// early_stopping, num_return_sequences, no_repeat_ngram_size); what beam search does not do is refused naming it.
package org.transformer4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.model.BeamSearch;
import org.transformer4j.model.Pretrained;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.Weights;
import org.transformer4j.model.tokenizer.HfTokenizer;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.CpuBackend;

class BeamCliTest {

    /** BeamSearch's hypotheses for {@code prompt} as the CLI prints them: one line each, without EOS ids. */
    private static List<String> expected(Path model, String prompt, BeamSearch.Options o) throws Exception {
        try (Backend b = new CpuBackend(); Weights w = Pretrained.load(model, b); HfTokenizer tok = HfTokenizer.load(model)) {
            Set<Integer> eos = new java.util.HashSet<>(Set.of(ChatFolder.imEnd(ChatFolder.vocabSize(model))));
            if (w.config.specialIds().eos() >= 0) eos.add(w.config.specialIds().eos());
            return new BeamSearch(new Transformer(w, b)).generate(tok.encode(prompt), o.eosIds(eos)).stream()
                    .map(h -> tok.decode(Arrays.stream(h.tokens()).filter(x -> !eos.contains(x)).toArray())).toList();
        }
    }

    @Test
    void generateRunsBeamSearchFromTheOptionAndFromTheFolder(@TempDir Path dir) throws Exception {
        Path model = ChatFolder.decoder(dir.resolve("llama"), "llama");
        String prompt = "the cat sat on the mat";
        CliProcess.Result r = CliProcess.run(dir, "generate", "--model", model.toString(), prompt, "--max-new-tokens", "6",
                "--num-beams", "3", "--length-penalty", "0.5");
        assertEquals(0, r.exit(), r.all());
        assertEquals(expected(model, prompt, BeamSearch.Options.of(3, 6).lengthPenalty(0.5)), r.out().lines().toList(), r.all());
        assertTrue(r.err().contains("beam search: 3 beams"), r.all());

        Files.writeString(model.resolve("generation_config.json"), "{\"num_beams\": 2, \"num_return_sequences\": 2, "
                + "\"no_repeat_ngram_size\": 2, \"early_stopping\": \"never\", \"length_penalty\": 1.5}");
        CliProcess.Result byFile = CliProcess.run(dir, "generate", "--model", model.toString(), prompt, "--max-new-tokens", "6");
        assertEquals(0, byFile.exit(), byFile.all());
        assertEquals(expected(model, prompt, BeamSearch.Options.of(2, 6).numReturnSequences(2).noRepeatNgramSize(2)
                .earlyStopping(BeamSearch.EarlyStopping.NEVER).lengthPenalty(1.5)), byFile.out().lines().toList(), byFile.all());
    }

    @Test
    void whatBeamSearchDoesNotDoIsRefusedNamingIt(@TempDir Path dir) throws Exception {
        Path model = ChatFolder.decoder(dir.resolve("llama"), "llama");
        // (stop strings, guides, presence / frequency penalties: BeamSearchTest; the folder's num_beam_groups: GenerationConfigBeamTest)
        CliProcess.Result r = CliProcess.run(dir, "generate", "--model", model.toString(), "hello", "--num-beams", "2", "--temperature", "0.7");
        assertEquals(1, r.exit(), r.all());
        assertTrue(r.err().contains("beam sampling"), r.all());
        Files.writeString(model.resolve("generation_config.json"), "{\"num_beams\": 4, \"do_sample\": true}");
        CliProcess.Result sampled = CliProcess.run(dir, "generate", "--model", model.toString(), "hello", "--max-new-tokens", "3");
        assertEquals(1, sampled.exit(), sampled.all());
        assertTrue(sampled.err().contains("do_sample true with num_beams 4 is beam sampling"), sampled.all());
        Files.writeString(model.resolve("generation_config.json"), "{\"num_return_sequences\": 2}");
        CliProcess.Result greedy = CliProcess.run(dir, "generate", "--model", model.toString(), "hello", "--max-new-tokens", "3");
        assertEquals(0, greedy.exit(), greedy.all());
        assertTrue(greedy.err().contains("num_return_sequences 2, which only beam search applies"), greedy.all());
    }
}
