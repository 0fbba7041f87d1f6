// TiktokenTokenizer — OpenAI tiktoken encodings through JTokkit (vocabularies inside its jar):
// r50k_base is GPT-2's byte-level BPE, for GPT-2 checkpoints that come without a tokenizer.json.
package org.transformer4j.model.tokenizer;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingRegistry;
import com.knuddels.jtokkit.api.EncodingType;
import com.knuddels.jtokkit.api.IntArrayList;
import java.util.Arrays;
import java.util.Map;

/**
 * A tiktoken encoding. Text is encoded as ordinary text: "<|endoftext|>" typed by a user becomes
 * ordinary pieces, never the special id (callers append special ids themselves). GPT-2 adds no
 * special tokens around a sequence, so {@code addSpecialTokens} changes nothing for r50k_base.
 * Thread-safe.
 */
public final class TiktokenTokenizer implements Tokenizer {

    private static final EncodingRegistry REGISTRY = Encodings.newLazyEncodingRegistry();

    private final Encoding encoding;
    private final Map<String, Integer> special;

    private TiktokenTokenizer(Encoding encoding, Map<String, Integer> special) {
        this.encoding = encoding;
        this.special = special;
    }

    /** GPT-2's vocabulary (r50k_base: 50,257 tokens, <|endoftext|> = 50256). */
    public static TiktokenTokenizer gpt2() { return of("r50k_base"); }

    /** r50k_base, p50k_base, p50k_edit, cl100k_base or o200k_base. */
    public static TiktokenTokenizer of(String encodingName) {
        EncodingType type = EncodingType.fromName(encodingName).orElseThrow(() -> new IllegalArgumentException(
                "unknown tiktoken encoding '" + encodingName + "'; known: " + Arrays.stream(EncodingType.values())
                        .map(EncodingType::getName).toList()));
        Map<String, Integer> special = switch (type) {
            case R50K_BASE -> Map.of("<|endoftext|>", 50256);
            case P50K_BASE -> Map.of("<|endoftext|>", 50256);
            case P50K_EDIT -> Map.of("<|endoftext|>", 50256, "<|fim_prefix|>", 50281, "<|fim_middle|>", 50282,
                    "<|fim_suffix|>", 50283);
            case CL100K_BASE -> Map.of("<|endoftext|>", 100257, "<|fim_prefix|>", 100258, "<|fim_middle|>", 100259,
                    "<|fim_suffix|>", 100260, "<|endofprompt|>", 100276);
            case O200K_BASE -> Map.of("<|endoftext|>", 199999, "<|endofprompt|>", 200018);
        };
        return new TiktokenTokenizer(REGISTRY.getEncoding(type), special);
    }

    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        return encoding.encodeOrdinary(text).toArray();
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        IntArrayList l = new IntArrayList(ids.length);
        for (int id : ids) {
            if (skipSpecialTokens && special.containsValue(id)) continue;
            l.add(id);
        }
        try {
            return encoding.decode(l);
        } catch (RuntimeException e) {                 // JTokkit throws NullPointerException for an id it lacks
            for (int i = 0; i < ids.length; i++) {
                IntArrayList one = new IntArrayList(1);
                one.add(ids[i]);
                try {
                    encoding.decode(one);
                } catch (RuntimeException bad) {
                    throw new IllegalArgumentException("id " + ids[i] + " at position " + i + " is not in the " + name()
                            + " vocabulary", bad);
                }
            }
            throw e;
        }
    }

    @Override
    public Map<String, Integer> specialTokens() { return special; }

    @Override
    public String name() { return "tiktoken " + encoding.getName(); }

    @Override
    public void close() {}
}
