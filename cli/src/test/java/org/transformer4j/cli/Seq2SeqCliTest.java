// Seq2SeqCliTest — `t4j generate` on an opus-mt-style Marian folder: the reference harness's marian model with
// SentencePiece source / target models and a vocab.json (no tokenizer.json, as Helsinki-NLP publishes them). The printed
// line is the target tokenizer's text of Generator's tokens under the folder's own rules (config.json's bad_words_ids and
// forced_eos_token_id), special tokens skipped.
package org.transformer4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.model.GenerationConfig;
import org.transformer4j.model.Generator;
import org.transformer4j.model.Pretrained;
import org.transformer4j.model.TestFolders;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.Weights;
import org.transformer4j.model.tokenizer.Tokenizer;
import org.transformer4j.model.tokenizer.Tokenizers;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.CpuBackend;

class Seq2SeqCliTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path ROOT = Path.of("..", "model", "src", "test", "resources").toAbsolutePath().normalize();

    /** {@code dir} with the reference fixture {@code name}'s config.json and model.safetensors. */
    static void reference(Path dir, String name) throws Exception {
        Files.createDirectories(dir);
        Path ref = TestFolders.fixture(name);
        Files.copy(ref.resolve("config.json"), dir.resolve("config.json"));
        Files.copy(ref.resolve("model.safetensors"), dir.resolve("model.safetensors"));
    }

    /**
     * The marian fixture (vocabulary 128, eos 0, pad 127) with the SentencePiece fixtures' source / target models and their
     * vocab.json cut to the model's 128 ids: its first 127 entries by id, then &lt;pad&gt; at 127.
     */
    static Path marianFolder(Path dir) throws Exception {
        reference(dir, "marian");
        Files.copy(ROOT.resolve("spm").resolve("marian-source.spm"), dir.resolve("source.spm"));
        Files.copy(ROOT.resolve("spm").resolve("marian-target.spm"), dir.resolve("target.spm"));
        ObjectNode vocab = (ObjectNode) JSON.readTree(ROOT.resolve("spm").resolve("marian-vocab.json").toFile());
        ObjectNode cut = JSON.createObjectNode();
        for (Iterator<Map.Entry<String, com.fasterxml.jackson.databind.JsonNode>> it = vocab.fields(); it.hasNext(); ) {
            Map.Entry<String, com.fasterxml.jackson.databind.JsonNode> e = it.next();
            if (e.getValue().intValue() < 127 && !e.getKey().equals("<pad>")) cut.put(e.getKey(), e.getValue().intValue());
        }
        cut.put("<pad>", 127);
        JSON.writeValue(dir.resolve("vocab.json").toFile(), cut);
        return dir;
    }

    @Test
    void generateTranslatesThroughTheSourceAndTargetTokenizers(@TempDir Path tmp) throws Exception {
        Path model = marianFolder(tmp.resolve("opus-mt-tiny"));
        String text = "Hello world! Le café est très bon.";
        String want;
        try (Backend b = new CpuBackend(); Weights w = Pretrained.load(model, b); Tokenizer source = Tokenizers.forModel(model);
             Tokenizer target = Tokenizers.forTarget(model)) {
            int[] ids = source.encode(text);
            assertEquals(0, ids[ids.length - 1], "MarianTokenizer appends </s> (id 0)");
            Generator.Options o = GenerationConfig.readIfPresent(model).orElseThrow().options(8, 0);
            int[] got = new Generator(new Transformer(w, b)).generate(ids, o, null);
            assertFalse(Arrays.stream(got).anyMatch(x -> x == 127), "bad_words_ids [[127]]: the pad id is never generated");
            assertEquals(0, got[got.length - 1], "forced_eos_token_id 0 at the last step (or the model's own eos)");
            want = target.decode(Arrays.stream(got).filter(x -> x != 0).toArray(), true);
        }
        assertFalse(want.isBlank(), "the tiny model writes some target text");
        CliProcess.Result r = CliProcess.run(tmp, "generate", "--model", model.toString(), text, "--max-new-tokens", "8");
        assertEquals(0, r.exit(), r.all());
        assertEquals(want, r.out().strip(), r.all());
        assertTrue(r.err().contains("prefill:"), r.all());
    }

    /**
     * The m2m100 reference fixture (vocabulary 128, eos 2) with the SentencePiece fixtures' M2M100 model and vocab.json cut
     * to its first 20 ids, so that the 100 language tokens (20 … 119) and 8 madeup words end at 128 as the model's vocabulary
     * does; tokenizer_config.json as facebook/m2m100_418M's (its config.json's tokenizer_class NllbTokenizer gives way).
     */
    static Path m2m100Folder(Path dir) throws Exception {
        reference(dir, "m2m100");
        Files.copy(ROOT.resolve("spm").resolve("m2m100-sentencepiece.bpe.model"), dir.resolve("sentencepiece.bpe.model"));
        ObjectNode vocab = (ObjectNode) JSON.readTree(ROOT.resolve("spm").resolve("m2m100-vocab.json").toFile());
        ObjectNode cut = JSON.createObjectNode();
        vocab.fields().forEachRemaining(e -> { if (e.getValue().intValue() < 20) cut.put(e.getKey(), e.getValue().intValue()); });
        JSON.writeValue(dir.resolve("vocab.json").toFile(), cut);
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"tokenizer_class\": \"M2M100Tokenizer\", \"language_codes\": \"m2m100\","
                + " \"num_madeup_words\": 8, \"src_lang\": null, \"tgt_lang\": null, \"eos_token\": \"</s>\", \"unk_token\": \"<unk>\"}");
        return dir;
    }

    /**
     * An M2M100 folder without tokenizer.json: --src-lang fr puts __fr__ (44) first, --forced-bos __de__ resolves to id 36
     * (20 + 16) through the target tokenizer; the tiny model then writes language tokens, which the printed text skips, so a
     * second run forces a piece (id 17) to see M2M100Tokenizer's decoding in the printed line.
     */
    @Test
    void m2m100WithoutTokenizerJson(@TempDir Path tmp) throws Exception {
        Path model = m2m100Folder(tmp.resolve("m2m100-tiny"));
        String text = "Le café est très bon à Paris.";
        for (String forced : new String[] {"__de__", "17"}) {
            String want;
            try (Backend b = new CpuBackend(); Weights w = Pretrained.load(model, b); Tokenizer source = Tokenizers.forModel(model, "fr");
                 Tokenizer target = Tokenizers.forTarget(model)) {
                int[] ids = source.encode(text);
                assertEquals(44, ids[0], "__fr__ is len(vocab.json) 20 + 24");
                assertEquals(2, ids[ids.length - 1]);
                assertTrue(Arrays.stream(ids).allMatch(x -> x < 128), Arrays.toString(ids));
                assertEquals(36, target.specialTokens().get("__de__"));
                int bos = forced.equals("17") ? 17 : 36;
                // no generation fields in config.json: greedy, stopping at eos 2 (config.json's and tokenizer_config.json's)
                assertTrue(GenerationConfig.readIfPresent(model).isEmpty());
                Generator.Options o = Generator.Options.greedy(6).forcedBosTokenId(bos).stopIds(java.util.Set.of(2));
                int[] got = new Generator(new Transformer(w, b)).generate(ids, o, null);
                assertEquals(bos, got[0]);
                want = target.decode(Arrays.stream(got).filter(x -> x != 2).toArray(), true);
            }
            if (forced.equals("17")) assertFalse(want.isBlank(), "a forced piece is printed");
            CliProcess.Result r = CliProcess.run(tmp, "generate", "--model", model.toString(), text, "--max-new-tokens", "6",
                    "--src-lang", "fr", "--forced-bos", forced);
            assertEquals(0, r.exit(), r.all());
            assertEquals(want, r.out().strip(), r.all());
        }
        CliProcess.Result bad = CliProcess.run(tmp, "generate", "--model", model.toString(), text, "--src-lang", "fra_Latn");
        assertEquals(1, bad.exit(), bad.all());
        assertTrue(bad.err().contains("src_lang 'fra_Latn'"), bad.all());
    }

    /** --forced-bos (NLLB's and mBART-50's target language): the first token forced by id; a name the tokenizer lacks is refused. */
    @Test
    void forcedBosSetsTheFirstToken(@TempDir Path tmp) throws Exception {
        Path model = marianFolder(tmp.resolve("opus-mt-tiny"));
        String text = "Hello world!";
        String want;
        try (Backend b = new CpuBackend(); Weights w = Pretrained.load(model, b); Tokenizer source = Tokenizers.forModel(model);
             Tokenizer target = Tokenizers.forTarget(model)) {
            Generator.Options o = GenerationConfig.readIfPresent(model).orElseThrow().options(6, 0).forcedBosTokenId(51);
            int[] got = new Generator(new Transformer(w, b)).generate(source.encode(text), o, null);
            assertEquals(51, got[0]);
            want = target.decode(Arrays.stream(got).filter(x -> x != 0).toArray(), true);
        }
        CliProcess.Result r = CliProcess.run(tmp, "generate", "--model", model.toString(), text, "--max-new-tokens", "6", "--forced-bos", "51");
        assertEquals(0, r.exit(), r.all());
        assertEquals(want, r.out().strip(), r.all());
        CliProcess.Result bad = CliProcess.run(tmp, "generate", "--model", model.toString(), text, "--forced-bos", "fra_Latn");
        assertEquals(1, bad.exit(), bad.all());
        assertTrue(bad.err().contains("--forced-bos fra_Latn is neither a special token"), bad.all());
    }
}
