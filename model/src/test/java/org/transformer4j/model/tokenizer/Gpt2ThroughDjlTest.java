// Gpt2ThroughDjlTest — GPT-2's real vocabulary as a tokenizer.json (built from JTokkit's r50k_base
// ranks) through DJL: the seed sentence's published ids both ways, and DJL's byte-level BPE agrees
// with JTokkit id for id on random text.
package org.transformer4j.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Gpt2ThroughDjlTest {

    @TempDir Path dir;

    @Test
    void djlAndJtokkitAgreeOnGpt2() throws IOException {
        Path p = dir.resolve("tokenizer.json");
        Gpt2TokenizerJson.write(p);
        try (HfTokenizer djl = HfTokenizer.load(p); Tokenizer tk = TiktokenTokenizer.gpt2()) {
            String seed = "Many words don't map to one token: indivisible.";
            int[] ids = {7085, 2456, 836, 470, 3975, 284, 530, 11241, 25, 773, 452, 12843, 13};
            assertArrayEquals(ids, djl.encode(seed));
            assertEquals(seed, djl.decode(ids));
            assertEquals(50256, djl.specialTokens().get("<|endoftext|>"));

            String[] words = {"the", "The", " tokenizer", "don't", "we'll", "I'm", "1905", "3.14159", "naïve", "café", "東京",
                    "🙂", "—", "\n", "\t", "  ", "hello", "HELLO", "x_y", "#include", "<div>", "e=mc^2", "über", "Ω"};
            Random r = new Random(42);
            for (int i = 0; i < 300; i++) {
                StringBuilder s = new StringBuilder();
                for (int k = 0, n = 1 + r.nextInt(12); k < n; k++) {
                    if (r.nextInt(4) == 0) s.append((char) (0x20 + r.nextInt(0x5f)));
                    else s.append(words[r.nextInt(words.length)]);
                    if (r.nextBoolean()) s.append(' ');
                }
                String text = s.toString();
                int[] expected = tk.encode(text);
                int[] got = djl.encode(text);
                assertArrayEquals(expected, got, () -> "'" + text + "': JTokkit " + Arrays.toString(expected) + " DJL "
                        + Arrays.toString(got));
                assertEquals(text, djl.decode(got));
            }
        }
    }
}
