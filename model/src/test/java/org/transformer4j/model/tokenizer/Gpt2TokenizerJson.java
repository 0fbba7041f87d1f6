// Gpt2TokenizerJson — builds GPT-2's tokenizer.json (byte-level BPE: vocab + merges) from the
// r50k_base ranks that JTokkit ships, the way tiktoken-to-Hugging-Face converters do: a token's
// merge is the pair that BPE with only lower-ranked merges leaves it as. Lets the tests run GPT-2's
// real vocabulary through DJL offline and compare it with JTokkit.
package org.transformer4j.model.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

final class Gpt2TokenizerJson {

    private Gpt2TokenizerJson() {}

    /** GPT-2's byte → printable character table (bytes_to_unicode in openai/gpt-2's encoder.py). */
    static char[] byteToUnicode() {
        char[] map = new char[256];
        boolean[] printable = new boolean[256];
        for (int b = '!'; b <= '~'; b++) printable[b] = true;
        for (int b = 0xA1; b <= 0xAC; b++) printable[b] = true;
        for (int b = 0xAE; b <= 0xFF; b++) printable[b] = true;
        int n = 0;
        for (int b = 0; b < 256; b++) map[b] = printable[b] ? (char) b : (char) (256 + n++);
        return map;
    }

    /**
     * Writes GPT-2's vocab.json (token → id, {@code <|endoftext|>} 50256) and merges.txt ("#version: 0.2", then one merge a
     * line in rank order) into {@code dir}, as the gpt2 repository's files are laid out, with {@code extra} tokens appended
     * to the vocabulary from id 50257 on.
     */
    static void writeVocabAndMerges(Path dir, List<String> extra) throws IOException {
        ObjectNode root = (ObjectNode) new ObjectMapper().readTree(json().toString());
        ObjectNode vocab = (ObjectNode) root.get("model").get("vocab");
        int next = 50257;
        for (String t : extra) vocab.put(t, next++);
        new ObjectMapper().writeValue(dir.resolve("vocab.json").toFile(), vocab);
        StringBuilder m = new StringBuilder("#version: 0.2\n");
        for (com.fasterxml.jackson.databind.JsonNode merge : root.get("model").get("merges")) m.append(merge.asText()).append('\n');
        java.nio.file.Files.writeString(dir.resolve("merges.txt"), m.toString(), StandardCharsets.UTF_8);
    }

    /** Writes tokenizer.json to {@code file}. */
    static void write(Path file) throws IOException {
        new ObjectMapper().writeValue(file.toFile(), json());
    }

    /** GPT-2's tokenizer.json as built from the ranks. */
    static ObjectNode json() throws IOException {
        Map<String, Integer> ranks = new HashMap<>();           // token bytes as ISO-8859-1 text → rank
        List<String> byRank = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(
                Gpt2TokenizerJson.class.getResourceAsStream("/com/knuddels/jtokkit/r50k_base.tiktoken"), StandardCharsets.US_ASCII))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.isBlank()) continue;
                String[] parts = line.split(" ");
                String token = new String(Base64.getDecoder().decode(parts[0]), StandardCharsets.ISO_8859_1);
                int rank = Integer.parseInt(parts[1]);
                ranks.put(token, rank);
                while (byRank.size() <= rank) byRank.add(null);
                byRank.set(rank, token);
            }
        }
        char[] u = byteToUnicode();
        ObjectMapper json = new ObjectMapper();
        ObjectNode vocab = json.createObjectNode();
        ArrayNode merges = json.createArrayNode();
        for (int rank = 0; rank < byRank.size(); rank++) {
            String t = byRank.get(rank);
            vocab.put(visible(t, u), rank);
            if (t.length() < 2) continue;
            List<String> parts = bpe(t, ranks, rank);
            if (parts.size() != 2) throw new IllegalStateException("token " + rank + " does not split into one merge: " + parts);
            merges.add(visible(parts.get(0), u) + " " + visible(parts.get(1), u));
        }
        vocab.put("<|endoftext|>", 50256);

        ObjectNode root = json.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ObjectNode eot = root.putArray("added_tokens").addObject();
        eot.put("id", 50256).put("content", "<|endoftext|>").put("single_word", false).put("lstrip", false)
                .put("rstrip", false).put("normalized", true).put("special", true);
        root.putNull("normalizer");
        root.set("pre_tokenizer", byteLevel(json));
        root.set("post_processor", byteLevel(json));
        root.set("decoder", byteLevel(json));
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE").putNull("dropout");
        model.putNull("unk_token").putNull("continuing_subword_prefix").putNull("end_of_word_suffix");
        model.put("fuse_unk", false).put("byte_fallback", false);
        model.set("vocab", vocab);
        model.set("merges", merges);
        return root;
    }

    private static ObjectNode byteLevel(ObjectMapper json) {
        ObjectNode n = json.createObjectNode();
        n.put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true).put("use_regex", true);
        return n;
    }

    private static String visible(String bytes, char[] u) {
        StringBuilder b = new StringBuilder(bytes.length());
        for (int i = 0; i < bytes.length(); i++) b.append(u[bytes.charAt(i)]);
        return b.toString();
    }

    /** BPE of {@code token} using only merges that produce tokens ranked below {@code maxRank}. */
    private static List<String> bpe(String token, Map<String, Integer> ranks, int maxRank) {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < token.length(); i++) parts.add(token.substring(i, i + 1));
        while (true) {
            int best = -1;
            int bestRank = maxRank;
            for (int i = 0; i + 1 < parts.size(); i++) {
                Integer r = ranks.get(parts.get(i) + parts.get(i + 1));
                if (r != null && r < bestRank) {
                    bestRank = r;
                    best = i;
                }
            }
            if (best < 0) return parts;
            parts.set(best, parts.get(best) + parts.remove(best + 1));
        }
    }
}
