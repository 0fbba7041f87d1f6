// TokenizersTest — choosing a model folder's tokenizer: tokenizer.json first, GPT-2's tiktoken
// vocabulary when a gpt2 folder has none, and a clear error otherwise.
package org.transformer4j.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizersTest {

    @TempDir Path dir;

    private Path folder(String name, String config) throws IOException {
        Path d = Files.createDirectories(dir.resolve(name));
        if (config != null) Files.writeString(d.resolve("config.json"), config);
        return d;
    }

    @Test
    void tokenizerJsonFirstThenTiktokenForGpt2() throws IOException {
        Path bert = folder("bert", "{\"model_type\":\"bert\"}");
        TokenizerTest.miniLmTokenizer(bert);
        try (Tokenizer t = Tokenizers.forModel(bert)) {
            assertTrue(t instanceof HfTokenizer);
            assertArrayEquals(new int[] {101, 7592, 2088, 999, 102}, t.encode("Hello world!"));
        }
        try (Tokenizer t = Tokenizers.forModel(folder("gpt2", "{\"model_type\":\"gpt2\",\"vocab_size\":50257}"))) {
            assertTrue(t instanceof TiktokenTokenizer);
            assertArrayEquals(new int[] {15496, 995, 0}, t.encode("Hello world!"));
        }
    }

    private void assertRejected(Path folder, String problem) {
        TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> Tokenizers.forModel(folder));
        assertTrue(e.getMessage().startsWith(folder.toString()) && e.getMessage().contains(problem), e.getMessage());
    }

    @Test
    void noTokenizerToBeFound() throws IOException {
        assertRejected(folder("bert", "{\"model_type\":\"bert\"}"), "model_type 'bert' has no tiktoken encoding");
        assertRejected(folder("t5", "{\"model_type\":\"t5\"}"), "no tokenizer.json and no spiece.model");
        assertRejected(folder("gpt2-other", "{\"model_type\":\"gpt2\",\"vocab_size\":1000}"), "vocab_size 1000 is not GPT-2's 50257");
        assertRejected(folder("empty", null), "no tokenizer.json, and no usable config.json");
        assertRejected(folder("broken", "{"), "config.json is not valid JSON");
        // Kimi-K2's folders: tiktoken.model and tokenization_kimi.py (remote code), no tokenizer.json
        Path kimi = folder("kimi", "{\"model_type\":\"kimi_k2\",\"architectures\":[\"DeepseekV3ForCausalLM\"]}");
        Files.writeString(kimi.resolve("tiktoken.model"), "IQ== 0\n");
        Files.writeString(kimi.resolve("tokenizer_config.json"), "{\"tokenizer_class\": \"TikTokenTokenizer\"}");
        assertRejected(kimi, "no tokenizer.json, and the folder's tiktoken.model (a tiktoken vocabulary for TikTokenTokenizer remote code");
    }
}
