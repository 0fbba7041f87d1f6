// TokenVocabulary — each token id's bytes (what the id adds to the UTF-8 text), read once from the
// tokenizer, and a trie over them in preorder so that one walk with a JsonAutomaton state finds every
// token the state allows while walking each shared prefix once.
package org.transformer4j.model.guided;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import org.transformer4j.model.tokenizer.HfTokenizer;
import org.transformer4j.model.tokenizer.Tokenizer;
import org.transformer4j.model.weights.StrictJson;

/**
 * Byte-level BPE vocabularies (GPT-2, Llama 3, Qwen) map each token's characters back through GPT-2's
 * byte-to-unicode table, so a token may end (or start) in the middle of a UTF-8 character; byte-fallback
 * vocabularies (Gemma, Llama 2, Mistral) read {@code <0xHH>} as the byte HH and ▁ as a space. Special
 * added tokens have no bytes (a constraint never allows them; end ids are handled apart); other added
 * tokens go through the same mapping (the tokenizer's decoder runs on them too). Ids the tokenizer does not know (a model's padded vocabulary) and
 * tokens of no bytes are never allowed. Immutable and thread-safe.
 */
public final class TokenVocabulary {

    private final byte[][] bytes;             // by id, null: never allowed
    private final int size;                   // the model's vocabulary V (≥ the tokenizer's)

    // the trie, nodes in preorder; node 0 is the root (the empty prefix)
    private final byte[] label;               // the byte that leads into node i
    private final int[] depth;                // node i's prefix length
    private final int[] end;                  // the first node after node i's subtree
    private final int[] tokenStart;           // ids ending at node i: ids[tokenStart[i] .. tokenStart[i + 1])
    private final int[] ids;
    private final int maxDepth;

    private TokenVocabulary(byte[][] bytes, int size) {
        this.bytes = bytes;
        this.size = size;
        Integer[] order = new Integer[bytes.length];
        int n = 0;
        for (int id = 0; id < bytes.length; id++) if (bytes[id] != null && bytes[id].length > 0) order[n++] = id;
        order = Arrays.copyOf(order, n);
        Arrays.sort(order, (a, b) -> Arrays.compareUnsigned(bytes[a], bytes[b]));
        int cap = 1 << 16, nodes = 1, longest = 0;
        byte[] lab = new byte[cap];
        int[] dep = new int[cap], en = new int[cap], nodeOf = new int[n];
        int[] path = new int[1 << 12];
        int pathLen = 0;
        byte[] prev = new byte[0];
        for (int k = 0; k < n; k++) {
            byte[] t = bytes[order[k]];
            if (t.length > path.length) path = Arrays.copyOf(path, Math.max(t.length, 2 * path.length));
            int l = 0;
            while (l < t.length && l < prev.length && t[l] == prev[l]) l++;
            for (int d = pathLen - 1; d >= l; d--) en[path[d]] = nodes;          // subtrees left behind end here
            for (int d = l; d < t.length; d++) {
                if (nodes == cap) {
                    cap *= 2;
                    lab = Arrays.copyOf(lab, cap); dep = Arrays.copyOf(dep, cap); en = Arrays.copyOf(en, cap);
                }
                lab[nodes] = t[d];
                dep[nodes] = d + 1;
                path[d] = nodes++;
            }
            pathLen = t.length;
            longest = Math.max(longest, t.length);
            nodeOf[k] = path[t.length - 1];
            prev = t;
        }
        for (int d = pathLen - 1; d >= 0; d--) en[path[d]] = nodes;
        en[0] = nodes;
        label = Arrays.copyOf(lab, nodes);
        depth = Arrays.copyOf(dep, nodes);
        end = Arrays.copyOf(en, nodes);
        tokenStart = new int[nodes + 1];
        for (int k = 0; k < n; k++) tokenStart[nodeOf[k] + 1]++;                // nodeOf is non-decreasing
        for (int i = 0; i < nodes; i++) tokenStart[i + 1] += tokenStart[i];
        ids = new int[n];
        for (int k = 0; k < n; k++) ids[k] = order[k];
        maxDepth = longest;
    }

    /** A vocabulary of these token bytes, by id (null: never allowed); V is their count. */
    public static TokenVocabulary of(byte[][] tokenBytes) {
        byte[][] b = new byte[tokenBytes.length][];
        for (int i = 0; i < b.length; i++) b[i] = tokenBytes[i] == null ? null : tokenBytes[i].clone();
        return new TokenVocabulary(b, b.length);
    }

    /** The vocabulary of a tokenizer: its tokenizer.json when it has one, else each id decoded alone (ids that decode to a partial character are left out). */
    public static TokenVocabulary of(Tokenizer tokenizer, int modelVocab) throws IOException {
        if (tokenizer instanceof HfTokenizer hf) return fromTokenizerJson(hf.file(), modelVocab);
        Set<Integer> special = new HashSet<>(tokenizer.specialTokens().values());
        byte[][] b = new byte[modelVocab][];
        for (int id = 0; id < modelVocab; id++) {
            if (special.contains(id)) continue;
            String s;
            try {
                s = tokenizer.decode(new int[] {id}, false);
            } catch (IllegalArgumentException e) {
                continue;                                                         // outside the tokenizer's vocabulary
            }
            if (s.indexOf('\uFFFD') < 0) b[id] = s.getBytes(StandardCharsets.UTF_8);
        }
        return new TokenVocabulary(b, modelVocab);
    }

    /** The vocabulary of a tokenizer.json, for a model of {@code modelVocab} ids (−1: the file's own count). */
    public static TokenVocabulary fromTokenizerJson(Path file, int modelVocab) throws IOException {
        JsonNode root;
        try {
            root = StrictJson.parse(Files.readAllBytes(file));
        } catch (StrictJson.ParseError e) {
            throw new IOException(file + " is not valid JSON: " + e.getMessage(), e);
        }
        return fromTokenizerJson(root, modelVocab, file.toString());
    }

    static TokenVocabulary fromTokenizerJson(JsonNode root, int modelVocab, String name) {
        JsonNode model = root.path("model");
        String decoder = root.path("decoder").toString();
        boolean byteLevel = decoder.contains("\"ByteLevel\"");
        boolean byteFallback = decoder.contains("\"ByteFallback\"") || model.path("byte_fallback").asBoolean(false);
        boolean metaspace = decoder.contains("\"Metaspace\"") || decoder.contains("\u2581");
        if (!byteLevel && !byteFallback && !metaspace) {
            throw new IllegalArgumentException(name + ": structured outputs need a byte-level BPE, byte-fallback or SentencePiece vocabulary"
                    + " (its decoder is " + root.path("decoder").path("type").asText("none") + ")");
        }
        int[] unicodeToByte = byteLevel ? unicodeToByte() : null;
        int n = 0;
        JsonNode vocab = model.path("vocab");
        for (JsonNode v : vocab) if (v.canConvertToInt()) n = Math.max(n, v.intValue() + 1);
        if (vocab.isArray()) n = vocab.size();
        for (JsonNode t : root.path("added_tokens")) n = Math.max(n, t.path("id").asInt() + 1);
        int size = modelVocab < 0 ? n : modelVocab;
        byte[][] b = new byte[Math.max(size, n)][];
        if (vocab.isArray()) {
            for (int id = 0; id < vocab.size(); id++) b[id] = piece(vocab.get(id).path(0).asText(), unicodeToByte, byteFallback);
        } else {
            for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                b[e.getValue().intValue()] = piece(e.getKey(), unicodeToByte, byteFallback);
            }
        }
        for (JsonNode t : root.path("added_tokens")) {
            int id = t.path("id").asInt();
            b[id] = t.path("special").asBoolean(false) ? null : piece(t.path("content").asText(), unicodeToByte, false);   // the decoder runs on them too
        }
        return new TokenVocabulary(b.length == size ? b : Arrays.copyOf(b, size), size);
    }

    /** A vocabulary piece's bytes. */
    private static byte[] piece(String s, int[] unicodeToByte, boolean byteFallback) {
        if (unicodeToByte != null) {
            byte[] out = new byte[s.length()];
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                int v = c < unicodeToByte.length ? unicodeToByte[c] : -1;
                if (v < 0) return s.getBytes(StandardCharsets.UTF_8);           // not a byte-level piece: its text, as the decoder keeps it
                out[i] = (byte) v;
            }
            return out;
        }
        if (byteFallback && s.length() == 6 && s.startsWith("<0x") && s.endsWith(">")) {
            try {
                return new byte[] {(byte) Integer.parseInt(s.substring(3, 5), 16)};
            } catch (NumberFormatException e) {
                // an ordinary piece that looks like one
            }
        }
        return s.replace('\u2581', ' ').getBytes(StandardCharsets.UTF_8);
    }

    /** GPT-2's byte-to-unicode table, inverted: printable Latin-1 bytes stand for themselves, the rest for 256 + n in byte order. */
    private static int[] unicodeToByte() {
        int[] inv = new int[512];
        Arrays.fill(inv, -1);
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            inv[printable ? b : 256 + extra++] = b;
        }
        return inv;
    }

    /** The model's vocabulary size V. */
    public int size() { return size; }

    /** Token {@code id}'s bytes, or null for ids never allowed (special, unknown, empty). Do not modify. */
    public byte[] bytes(int id) { return id >= 0 && id < size && bytes[id] != null && bytes[id].length > 0 ? bytes[id] : null; }

    /**
     * Sets in {@code bits} (ceil(V / 32) words, id i at bit i % 32 of word i / 32) every id whose bytes
     * {@code state} accepts. The states met on the way are numbered as they first appear and each one's
     * transitions kept in a table, so a byte taken from the same state twice costs one array read (inside a
     * string nearly every node of the trie is visited, through a handful of distinct states).
     */
    public void allowed(JsonAutomaton.State state, int[] bits) {
        Walk w = new Walk(state);
        int[] at = new int[maxDepth + 1];                                          // the state number at each depth
        int nodes = label.length;
        for (int i = 1; i < nodes; ) {
            int next = w.next(at[depth[i] - 1], label[i] & 0xFF);
            if (next < 0) {                                                       // no token below this prefix can follow
                i = end[i];
                continue;
            }
            at[depth[i]] = next;
            for (int t = tokenStart[i]; t < tokenStart[i + 1]; t++) bits[ids[t] >>> 5] |= 1 << (ids[t] & 31);
            i++;
        }
    }

    /** The states of one walk, numbered, and their transitions: −2 not computed yet, −1 rejected. */
    private static final class Walk {
        final java.util.List<JsonAutomaton.State> states = new java.util.ArrayList<>();
        final java.util.Map<JsonAutomaton.State, Integer> numbers = new java.util.HashMap<>();
        int[] table = new int[0];

        Walk(JsonAutomaton.State start) { number(start); }

        int number(JsonAutomaton.State s) {
            Integer n = numbers.get(s);
            if (n != null) return n;
            int k = states.size();
            states.add(s);
            numbers.put(s, k);
            if (table.length < (k + 1) * 256) {
                int old = table.length;
                table = Arrays.copyOf(table, Math.max(256, 2 * table.length));
                Arrays.fill(table, old, table.length, -2);
            }
            return k;
        }

        int next(int from, int b) {
            int t = table[from * 256 + b];
            if (t == -2) {
                JsonAutomaton.State s = states.get(from).advance(b);
                t = s == null ? -1 : number(s);
                table[from * 256 + b] = t;
            }
            return t;
        }
    }

    /** Trie nodes (for the benchmark's notes). */
    public int trieNodes() { return label.length; }
}
