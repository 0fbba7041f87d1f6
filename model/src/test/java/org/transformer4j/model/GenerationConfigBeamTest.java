// GenerationConfigBeamTest — generation_config.json's beam-search fields read as transformers' generate reads them
// (num_beams, length_penalty, early_stopping true / false / "never", num_return_sequences, no_repeat_ngram_size,
// min_new_tokens, min_length, repetition_penalty, eos ids), defaults where absent, and refusals naming the field.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.model.weights.CheckpointException;

class GenerationConfigBeamTest {

    private static GenerationConfig write(Path dir, String json) throws Exception {
        Files.writeString(dir.resolve("generation_config.json"), json);
        return GenerationConfig.read(dir);
    }

    @Test
    void beamFieldsBecomeBeamSearchOptions(@TempDir Path dir) throws Exception {
        // a T5 summarization-style file
        GenerationConfig gc = write(dir, "{\"decoder_start_token_id\": 0, \"eos_token_id\": 1, \"num_beams\": 4, \"length_penalty\": 2.0, "
                + "\"early_stopping\": true, \"no_repeat_ngram_size\": 3, \"min_length\": 30, \"max_new_tokens\": 200, "
                + "\"num_return_sequences\": 2, \"repetition_penalty\": 1.2, \"min_new_tokens\": 5}");
        BeamSearch.Options o = gc.beamOptions(64).orElseThrow();
        // min_length 30 gives way to min_new_tokens 5, as in generate (which sets min_length to 5 + the input's length)
        assertEquals(new BeamSearch.Options(4, 200, Set.of(1), 2.0, BeamSearch.EarlyStopping.TRUE, 2, 3, 5, 0, 1.2f, false, TokenRules.NONE), o);
        assertEquals(30, write(dir, "{\"num_beams\": 2, \"min_length\": 30}").beamOptions(8).orElseThrow().minLength());
        assertEquals(BeamSearch.EarlyStopping.NEVER, write(dir, "{\"num_beams\": 3, \"early_stopping\": \"never\"}").beamOptions(8).orElseThrow().earlyStopping());
        BeamSearch.Options defaults = write(dir, "{\"num_beams\": 3}").beamOptions(8).orElseThrow();
        assertEquals(BeamSearch.Options.of(3, 8), defaults, "transformers' defaults: length_penalty 1, early_stopping false, 1 sequence");
        assertTrue(write(dir, "{\"num_beams\": 1, \"num_return_sequences\": 2}").beamOptions(8).isEmpty(), "one beam: greedy or sampled");
        assertEquals(List.of("num_return_sequences 2"), GenerationConfig.read(dir).ignoredWithoutBeams(), "said, not dropped silently");
    }

    @Test
    void whatBeamSearchDoesNotDoIsRefusedNamingTheField(@TempDir Path dir) throws Exception {
        String[][] refused = {{"{\"num_beams\": 4, \"do_sample\": true}", "beam sampling"},
                              {"{\"num_beams\": 4, \"num_beam_groups\": 2}", "num_beam_groups 2"},
                              {"{\"num_beams\": 2, \"num_return_sequences\": 3}", "num_return_sequences 3 exceeds num_beams 2"}};
        for (String[] c : refused) {
            GenerationConfig gc = write(dir, c[0]);
            var e = assertThrows(IllegalArgumentException.class, () -> gc.beamOptions(8), c[0]);
            assertTrue(e.getMessage().contains(c[1]), e.getMessage());
        }
        for (String bad : new String[] {"{\"early_stopping\": \"sometimes\"}", "{\"num_beams\": 0}", "{\"length_penalty\": \"2\"}"}) {
            Files.writeString(dir.resolve("generation_config.json"), bad);
            assertThrows(CheckpointException.class, () -> GenerationConfig.read(dir), bad);
        }
    }
}
