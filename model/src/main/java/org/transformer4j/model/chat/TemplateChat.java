// TemplateChat — a multi-turn text chat over a ChatSession: each turn renders the whole conversation with the
// model's chat template (generation prompt on), checks that its tokens extend the tokens the session already
// holds, and sends only the rest, so the KV cache carries over between turns; where the render does not extend
// them (a template that rewrites earlier turns, e.g. Qwen3 dropping old <think> blocks, or a reply whose text
// tokenizes differently from the ids the model chose) it starts a fresh session on the whole render and says so.
package org.transformer4j.model.chat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.transformer4j.model.ChatSession;
import org.transformer4j.model.Generator;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.tokenizer.Tokenizer;

/**
 * Without a template each user message is encoded as plain text (the tokenizer's own special tokens
 * added), and the conversation is the concatenation of messages and replies, as {@link ChatSession} keeps it.
 * The reply's stop token (an eos id of the options) is kept in the token history, as the model produced it,
 * and left out of the reply's text. Not thread-safe.
 */
public final class TemplateChat implements AutoCloseable {

    /** What one turn did: the reply, the tokens run through the model, and whether the whole conversation was re-encoded (and why). */
    public record Turn(String reply, int[] replyIds, long tokensEncoded, int contextTokens, String reencodedBecause) {}

    private final Transformer model;
    private final Tokenizer tokenizer;
    private final ChatTemplate template;
    private final Generator.Options options;
    private final int capacity;
    private final Map<String, ?> extra;
    private final List<Message> messages = new ArrayList<>();
    private final List<Message> system;
    private ChatSession session;

    /**
     * @param template  null: plain text turns
     * @param system    a system message put first in every render (null for none)
     * @param extra     further template variables (enable_thinking, ...), may be empty
     */
    public TemplateChat(Transformer model, Tokenizer tokenizer, ChatTemplate template, Generator.Options options, int capacity,
                        String system, Map<String, ?> extra) {
        if (model == null || tokenizer == null || options == null) throw new IllegalArgumentException("a chat needs a model, a tokenizer and options");
        this.model = model;
        this.tokenizer = tokenizer;
        this.template = template;
        this.options = options;
        this.capacity = capacity;
        this.extra = extra == null ? Map.of() : Map.copyOf(extra);
        this.system = system == null ? List.of() : List.of(Message.system(system));
        this.session = new ChatSession(model, options, capacity);
    }

    /** Sends a user message; {@code listener} (may be null) sees each reply token as it is chosen. */
    public Turn send(String userText, Generator.TokenListener listener) {
        if (userText == null || userText.isBlank()) throw new IllegalArgumentException("the message is empty");
        int[] held = session.history();
        int[] feed;
        String reencoded = null;
        List<Message> next = new ArrayList<>(messages);
        next.add(Message.user(userText));
        if (template == null) {
            feed = tokenizer.encode(userText);
        } else {
            List<Message> all = new ArrayList<>(system);
            all.addAll(next);
            int[] ids = tokenizer.encode(template.render(all, true, extra), false);
            if (startsWith(ids, held) && ids.length > held.length) {
                feed = Arrays.copyOfRange(ids, held.length, ids.length);
            } else {
                reencoded = held.length == 0 ? null : "the new render's " + ids.length + " tokens do not extend the " + held.length
                        + " tokens already encoded (first difference at token " + firstDifference(ids, held) + ")";
                feed = ids;
            }
        }
        if (feed.length == 0) throw new IllegalArgumentException("the message has no tokens under " + tokenizer.name());
        ChatSession target = session;
        if (reencoded != null) target = new ChatSession(model, options, capacity);
        int[] reply;
        try {
            reply = target.send(feed, listener);
        } catch (RuntimeException e) {
            if (target != session) target.close();
            throw e;
        }
        if (target != session) {
            session.close();
            session = target;
        }
        List<Long> perTurn = session.tokensEncodedPerTurn();
        int[] text = reply.length > 0 && options.stopIds().contains(reply[reply.length - 1]) ? Arrays.copyOf(reply, reply.length - 1) : reply;
        String replyText = tokenizer.decode(text, false);
        messages.add(Message.user(userText));
        messages.add(Message.assistant(replyText));
        return new Turn(replyText, reply, perTurn.get(perTurn.size() - 1), session.history().length, reencoded);
    }

    /** Forgets the conversation (the system message stays) and frees its cache. */
    public void reset() {
        session.close();
        messages.clear();
        session = new ChatSession(model, options, capacity);
    }

    /** The conversation so far, without the system message. */
    public List<Message> messages() { return Collections.unmodifiableList(messages); }

    /** The token ids the model has seen or produced so far. */
    public int[] history() { return session.history(); }

    @Override
    public void close() { session.close(); }

    static boolean startsWith(int[] a, int[] prefix) {
        if (prefix.length > a.length) return false;
        for (int i = 0; i < prefix.length; i++) if (a[i] != prefix[i]) return false;
        return true;
    }

    private static int firstDifference(int[] a, int[] b) {
        int n = Math.min(a.length, b.length);
        for (int i = 0; i < n; i++) if (a[i] != b[i]) return i;
        return n;
    }
}
