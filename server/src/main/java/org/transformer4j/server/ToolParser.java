// ToolParser — reads the tool calls out of a chat reply, as vLLM's --tool-call-parser does: hermes (Qwen2.5, Qwen3,
// Hermes: <tool_call>{"name", "arguments"}</tool_call>), llama3_json (Llama 3.1/3.2: {"name", "parameters"} objects,
// maybe after <|python_tag|>, separated by ";"), mistral ([TOOL_CALLS] then a JSON list, or name{args} /
// name[ARGS]{args} per call) and openai (gpt-oss: harmony messages to functions.NAME, which the gpt_oss reasoning
// parser separates). One parser a request, fed the reply's content as it is released; a whole reply is the same feed
// in one piece, so a streamed reply and a non-streamed one give the same content and calls.
package org.transformer4j.server;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import org.transformer4j.model.chat.PythonJson;

/**
 * Works on decoded text, special tokens included (Qwen's {@code <tool_call>}, Llama's {@code <|python_tag|>} and
 * Mistral's {@code [TOOL_CALLS]} arrive as text). Text before the first call is content, streamed as it comes; a
 * suffix that may still become a call marker is held back. A call is released whole once it is complete (its end tag,
 * the end of its JSON, or the end of the reply), with vLLM's arguments: {@code json.dumps} of the JSON the model wrote,
 * {@link PythonJson}'s layout. Text after a call up to the next call is dropped, as vLLM drops it. A call whose JSON
 * does not parse (or lacks its keys) is content after all, from its marker on, as vLLM answers such a reply with its
 * text; where vLLM gives up on every call of a reply for one bad call, this parser keeps the calls it has released
 * already (a stream cannot take them back), so that streamed and whole replies agree. Not thread-safe: one request's
 * thread uses it.
 */
public abstract sealed class ToolParser extends PieceParser<ToolParser.Delta>
        permits ToolParser.Hermes, ToolParser.Llama3Json, ToolParser.Mistral, ToolParser.Harmony, ToolParser.Forced {

    /** One tool call: its id (vLLM's: "chatcmpl-tool-" and 32 hex digits; Mistral's 9 letters and digits), name, arguments. */
    public record Call(String id, String name, String arguments) {}

    /** What a piece of the reply released: content text and complete calls (either may be empty). */
    public record Delta(String content, List<Call> calls) {
        public Delta { calls = List.copyOf(calls); }
        public boolean isEmpty() { return content.isEmpty() && calls.isEmpty(); }
    }

    /** A parser chosen at startup; {@link #start} makes one for a request. */
    public interface Kind {
        String name();

        /**
         * A parser for one reply whose text went first through {@code reasoning} (the request's reasoning parser, or
         * null): openai's calls are the harmony messages that parser separated.
         */
        ToolParser start(ReasoningParser reasoning);
    }

    /** The names {@link #named} knows, as vLLM's {@code --tool-call-parser} spells them (llama4_json is llama3_json). */
    public static final List<String> NAMES = List.of("hermes", "llama3_json", "llama4_json", "mistral", "openai");

    /** The parser of that name; an unknown name is an IllegalArgumentException that lists the known ones. */
    public static Kind named(String name) {
        return switch (name == null ? "" : name) {
            case "hermes" -> kind("hermes", r -> new Hermes());
            case "llama3_json", "llama4_json" -> kind("llama3_json", r -> new Llama3Json());
            case "mistral" -> kind("mistral", r -> new Mistral());
            case "openai" -> kind("openai", r -> {
                if (!(r instanceof ReasoningParser.Harmony h)) {
                    throw new IllegalStateException("the openai tool parser reads harmony messages: it needs the gpt_oss reasoning parser");
                }
                return new Harmony(h);
            });
            default -> throw new IllegalArgumentException("unknown tool-call parser '" + name + "'; the parsers are: " + String.join(", ", NAMES));
        };
    }

    private interface Starter { ToolParser start(ReasoningParser reasoning); }

    private static Kind kind(String name, Starter s) {
        return new Kind() {
            @Override public String name() { return name; }
            @Override public ToolParser start(ReasoningParser reasoning) { return s.start(reasoning); }
        };
    }

    private final StringBuilder content = new StringBuilder();
    private final List<Call> calls = new ArrayList<>();

    /** All content released so far. */
    public final String content() { return content.toString(); }

    /** All calls released so far. */
    public final List<Call> calls() { return List.copyOf(calls); }

    @Override
    final Delta released(Delta d) {
        content.append(d.content());
        calls.addAll(d.calls());
        return d;
    }

    @Override
    final Delta nothing() { return new Delta("", List.of()); }

    /**
     * Consumes what it can of {@link #pending} into {@code out} and {@code found}; at the end ({@code end}) holds nothing
     * back: an unterminated call is judged as it stands.
     */
    abstract void step(boolean end, StringBuilder out, List<Call> found);

    @Override
    final Delta step(boolean end) {
        StringBuilder out = new StringBuilder();
        List<Call> found = new ArrayList<>();
        step(end, out, found);
        return new Delta(out.toString(), found);
    }

    // ---- shared pieces -------------------------------------------------------------------------------

    /** Python's json.loads as the parsers call it: NaN and Infinity allowed, nothing after the value. */
    private static final JsonMapper JSON = JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();

    /** The JSON value of {@code text} (whitespace around it allowed), or null where it is not one JSON value. */
    static JsonNode parse(String text) {
        try {
            JsonNode n = JSON.readTree(text);
            return n == null || n.isMissingNode() ? null : n;
        } catch (java.io.IOException | RuntimeException e) {
            return null;
        }
    }

    /** {@code json.dumps(value, ensure_ascii=False)}. */
    static String dumps(JsonNode value) { return PythonJson.dumps(JSON.convertValue(value, Object.class)); }

    /**
     * The index just past the JSON object or array that opens at {@code from} (braces and brackets counted outside
     * strings), or -1 while it is not closed.
     */
    static int jsonEnd(CharSequence s, int from) {
        int depth = 0;
        boolean inString = false, escaped = false;
        for (int i = from; i < s.length(); i++) {
            char c = s.charAt(i);
            if (inString) {
                if (escaped) escaped = false;
                else if (c == '\\') escaped = true;
                else if (c == '"') inString = false;
            } else if (c == '"') {
                inString = true;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                if (--depth == 0) return i + 1;
            }
        }
        return -1;
    }

    static int skipSpace(CharSequence s, int from) {
        while (from < s.length() && Character.isWhitespace(s.charAt(from))) from++;
        return from;
    }

    /**
     * Moves {@link #pending} up to {@code marker} and past it (true), or, where it is not there yet, all of it but a suffix
     * that may begin it (nothing held back at the end; false); the text passed goes to {@code out} if {@code keep}, else
     * it is dropped.
     */
    boolean pastMarker(String marker, boolean keep, boolean end, StringBuilder out) {
        int at = pending.indexOf(marker);
        int upTo = at >= 0 ? at : pending.length() - (end ? 0 : partialTag(pending, List.of(marker)));
        if (keep) out.append(pending, 0, upTo);
        pending.delete(0, at >= 0 ? at + marker.length() : upTo);
        return at >= 0;
    }

    /** vLLM's tool-call id (make_tool_call_id): "chatcmpl-tool-" and a random UUID's 32 hex digits. */
    static String vllmId() { return "chatcmpl-tool-" + UUID.randomUUID().toString().replace("-", ""); }

    // ---- tool_choice "required" and a named function -------------------------------------------------

    /**
     * The reply of a request whose tool_choice forced a call, as vLLM's serving_chat reads it (no tool-call parser
     * needed; guided decoding made the text): a named function's call takes the whole text as its arguments; "required"
     * reads the text as a JSON array of {"name", "parameters"} objects, each a call whose arguments are
     * {@code json.dumps(parameters)}. Nothing is released before the reply's end; a "required" text that is not such an
     * array (a reply cut by max_tokens) is content. With a reasoning parser the text is the content after the reasoning
     * (the constraint begins there); a reply that ended while reasoning makes no call.
     */
    static final class Forced extends ToolParser {
        final String named;                                     // null: "required"

        Forced(String named) { this.named = named; }

        @Override
        void step(boolean end, StringBuilder out, List<Call> found) {
            if (!end) return;
            String text = pending.toString();
            pending.setLength(0);
            if (named != null) {
                if (!text.isEmpty()) found.add(new Call(vllmId(), named, text));    // empty: the reply ended while reasoning
                return;
            }
            JsonNode list = parse(text);
            List<Call> calls = new ArrayList<>();
            if (list != null && list.isArray()) {
                for (JsonNode c : list) {
                    if (!c.isObject() || !c.path("name").isTextual() || !c.has("parameters")) { calls = null; break; }
                    calls.add(new Call(vllmId(), c.get("name").textValue(), dumps(c.get("parameters"))));
                }
            }
            if (calls == null || calls.isEmpty()) out.append(text);
            else found.addAll(calls);
        }
    }

    // ---- hermes --------------------------------------------------------------------------------------

    /**
     * vLLM's Hermes2ProToolParser: content is what comes before the first {@code <tool_call>}; each
     * {@code <tool_call>BODY</tool_call>} (or, at the end of the reply, {@code <tool_call>BODY}) is a call when BODY is a
     * JSON object with a string "name" and an "arguments" key. Arguments that are a string holding a JSON object are that
     * object (vLLM's rule for models that serialize them, e.g. Granite 4); other arguments are dumped as they are.
     */
    static final class Hermes extends ToolParser {
        static final String START = "<tool_call>", END = "</tool_call>";
        private enum State { TEXT, CALL, AFTER_CALL }
        private State state = State.TEXT;

        @Override
        void step(boolean end, StringBuilder out, List<Call> found) {
            while (true) {
                if (state != State.CALL) {
                    if (!pastMarker(START, state == State.TEXT, end, out)) return;
                    state = State.CALL;
                }
                int e = pending.indexOf(END);
                if (e < 0 && !end) return;                               // wait for the end tag
                String body = e < 0 ? pending.toString() : pending.substring(0, e);
                pending.delete(0, e < 0 ? pending.length() : e + END.length());
                Call call = call(body);
                if (call != null) {
                    found.add(call);
                    state = State.AFTER_CALL;
                } else {
                    out.append(START).append(body).append(e < 0 ? "" : END);
                    state = State.TEXT;
                }
                if (e < 0) return;
            }
        }

        private static Call call(String body) {
            JsonNode o = parse(body);
            if (o == null || !o.isObject() || !o.path("name").isTextual() || !o.has("arguments")) return null;
            JsonNode args = o.get("arguments");
            JsonNode inner = args.isTextual() ? parse(args.textValue()) : null;
            return new Call(vllmId(), o.get("name").textValue(), dumps(inner != null && inner.isObject() ? inner : args));
        }
    }

    // ---- llama3_json ---------------------------------------------------------------------------------

    /**
     * vLLM's Llama3JsonToolParser as it streams: a reply that begins (after whitespace) with {@code <|python_tag|>} or
     * {@code {} is calls — JSON objects with a string "name" and "arguments" or "parameters" (arguments first), separated
     * by ";" or whitespace; text after the last call is dropped. Any other reply is content. (vLLM's non-streamed path
     * also takes a {"name"...} object from the middle of prose and drops the prose; that cannot be streamed, since the
     * prose before it would have gone out already.)
     */
    static final class Llama3Json extends ToolParser {
        static final String TAG = "<|python_tag|>";
        private enum State { START, OBJECT, SEPARATOR, TEXT, DROP }
        private State state = State.START;
        /** The tag and whitespace before the first object: content after all if that object is not a call. */
        private final StringBuilder lead = new StringBuilder();

        @Override
        void step(boolean end, StringBuilder out, List<Call> found) {
            while (true) {
                switch (state) {
                    case TEXT -> { out.append(pending); pending.setLength(0); return; }
                    case DROP -> { pending.setLength(0); return; }
                    case START -> {
                        int i = skipSpace(pending, 0);
                        String rest = pending.substring(i);
                        if (rest.startsWith(TAG) || rest.startsWith("{")) {
                            int n = rest.startsWith(TAG) ? i + TAG.length() : i;
                            lead.append(pending, 0, n);
                            pending.delete(0, n);
                            state = State.OBJECT;
                        } else if (!end && TAG.startsWith(rest)) {
                            return;                                      // whitespace, or the tag's beginning: wait
                        } else {
                            state = State.TEXT;
                        }
                    }
                    case OBJECT -> {
                        int i = skipSpace(pending, 0);
                        int e = i < pending.length() && pending.charAt(i) == '{' ? jsonEnd(pending, i) : -2;
                        if (e == -1 || (i == pending.length() && e == -2)) {
                            if (!end) return;                            // the object, or its start, is still coming
                        }
                        Call call = e > 0 ? call(pending.substring(i, e)) : null;
                        if (call == null) {                              // not a call: the rest is content
                            out.append(lead).append(pending);
                            lead.setLength(0);
                            pending.setLength(0);
                            state = State.TEXT;
                            return;
                        }
                        found.add(call);
                        lead.setLength(0);
                        pending.delete(0, e);
                        state = State.SEPARATOR;
                    }
                    case SEPARATOR -> {
                        int i = skipSpace(pending, 0);
                        if (i < pending.length() && pending.charAt(i) == ';') i = skipSpace(pending, i + 1);
                        if (i == pending.length()) {
                            if (end) pending.setLength(0);
                            return;
                        }
                        pending.delete(0, i);
                        state = pending.charAt(0) == '{' ? State.OBJECT : State.DROP;
                    }
                }
            }
        }

        private static Call call(String object) {
            JsonNode o = parse(object);
            if (o == null || !o.path("name").isTextual()) return null;
            JsonNode args = o.has("arguments") ? o.get("arguments") : o.get("parameters");
            return args == null ? null : new Call(vllmId(), o.get("name").textValue(), dumps(args));
        }
    }

    // ---- mistral -------------------------------------------------------------------------------------

    /**
     * vLLM's MistralToolParser: content is what comes before {@code [TOOL_CALLS]}. After it either a JSON list of
     * {"name", "arguments"} objects (Mistral 7B v0.3, Nemo: what vLLM reads with a Hugging Face tokenizer; arguments
     * dumped), or per call {@code name{args}} (v11+ models, as vLLM reads them through mistral_common, which drops the
     * {@code [ARGS]} token) — here also {@code name[ARGS]{args}} and {@code name[CALL_ID]id[ARGS]{args}}, the same
     * tokens decoded with special tokens kept, which is how this server decodes; the arguments are the JSON object as
     * the model wrote it, as vLLM gives them. Ids are 9 letters and digits, as Mistral's templates demand.
     */
    static final class Mistral extends ToolParser {
        static final String MARK = "[TOOL_CALLS]", ARGS = "[ARGS]", CALL_ID = "[CALL_ID]";
        private enum State { TEXT, CALLS, AFTER_CALL }
        private State state = State.TEXT;

        @Override
        void step(boolean end, StringBuilder out, List<Call> found) {
            while (true) {
                if (state != State.CALLS) {
                    if (!pastMarker(MARK, state == State.TEXT, end, out)) return;
                    state = State.CALLS;
                }
                int i = skipSpace(pending, 0);
                boolean list = i < pending.length() && pending.charAt(i) == '[' && !pending.substring(i).startsWith(ARGS);
                int open = list ? i : pending.indexOf("{", i);
                int e = open < 0 ? -1 : jsonEnd(pending, open);
                if (e < 0 && !end) return;                               // the call is still coming
                List<Call> got = e < 0 ? null : list ? list(pending.substring(i, e)) : named(pending.substring(i, open), pending.substring(open, e));
                if (got == null) {                                       // not calls: the rest is content
                    out.append(MARK).append(pending);
                    pending.setLength(0);
                    state = State.TEXT;
                    return;
                }
                found.addAll(got);
                pending.delete(0, e);
                state = State.AFTER_CALL;
            }
        }

        private static List<Call> list(String json) {
            JsonNode a = parse(json);
            if (a == null || !a.isArray()) return null;
            List<Call> out = new ArrayList<>();
            for (JsonNode o : a) {
                if (!o.path("name").isTextual() || !o.has("arguments")) return null;
                out.add(new Call(mistralId(), o.get("name").textValue(), dumps(o.get("arguments"))));
            }
            return out;
        }

        private static List<Call> named(String head, String args) {
            String name = head;
            if (name.endsWith(ARGS)) name = name.substring(0, name.length() - ARGS.length());
            int id = name.indexOf(CALL_ID);
            if (id >= 0) name = name.substring(0, id);
            name = name.strip();
            JsonNode a = parse(args);
            if (name.isEmpty() || name.chars().anyMatch(Character::isWhitespace) || a == null || !a.isObject()) return null;
            return List.of(new Call(mistralId(), name, args));
        }

        /** vLLM's MistralToolCall id: 9 random letters and digits. */
        static String mistralId() {
            String alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
            StringBuilder b = new StringBuilder(9);
            for (int i = 0; i < 9; i++) b.append(alphabet.charAt(ThreadLocalRandom.current().nextInt(alphabet.length())));
            return b.toString();
        }
    }

    // ---- openai (gpt-oss harmony) --------------------------------------------------------------------

    /**
     * vLLM's OpenAIToolParser: each harmony message to {@code functions.NAME} is a call of NAME. Its arguments, where the
     * content type is JSON or none is given, are {@code json.dumps(json.loads(text))} (ensure_ascii, as vLLM calls it),
     * or the text as it stands where it is not JSON; other content types give the text. The content passes through: the
     * gpt_oss reasoning parser has already taken the final channel and the preambles as content. A message to a function
     * that the end of the reply cuts short ({@code <|call|>} ends the sequence, so the last call always ends so) counts
     * when its JSON parses; a cut-short JSON is dropped, as vLLM drops an unfinished call.
     */
    static final class Harmony extends ToolParser {
        private final ReasoningParser.Harmony messages;

        Harmony(ReasoningParser.Harmony messages) { this.messages = messages; }

        @Override
        void step(boolean end, StringBuilder out, List<Call> found) {
            out.append(pending);
            pending.setLength(0);
            for (ReasoningParser.FunctionMessage m : messages.takeFunctionMessages()) {
                boolean json = m.contentType().isEmpty() || m.contentType().contains("json");
                JsonNode v = json ? parse(m.text()) : null;
                if (json && v == null && !m.terminated()) continue;
                String args = v != null ? PythonJson.dumpsAscii(JSON.convertValue(v, Object.class)) : m.text();
                found.add(new Call(vllmId(), m.name(), args));
            }
        }
    }
}
