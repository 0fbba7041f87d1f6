// ToolParser — reads the tool calls out of a chat reply, as vLLM's --tool-call-parser does: hermes (Qwen2.5, Qwen3,
// Hermes: <tool_call>{"name", "arguments"}</tool_call>), llama3_json (Llama 3.1/3.2: {"name", "parameters"} objects,
// maybe after <|python_tag|>, separated by ";"), mistral ([TOOL_CALLS] then a JSON list, or name{args} /
// name[ARGS]{args} per call), openai (gpt-oss: harmony messages to functions.NAME, which the gpt_oss reasoning
// parser separates), deepseek_v3 / deepseek_v31 (DeepSeek-V3 / R1 and V3.1: <｜tool▁call▁begin｜> blocks) and
// glm45 / glm47 (GLM-4.5 / 4.6 and 4.7: <tool_call>NAME<arg_key>K</arg_key><arg_value>V</arg_value></tool_call>,
// typed against the request's tools). One parser a request, fed the reply's content as it is released; a whole reply is the same feed
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
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.transformer4j.model.chat.PythonJson;

/**
 * Works on decoded text, special tokens included (Qwen's {@code <tool_call>}, Llama's {@code <|python_tag|>} and
 * Mistral's {@code [TOOL_CALLS]} arrive as text). Text before the first call is content, streamed as it comes; a
 * suffix that may still become a call marker is held back.
 *
 * <p>A call streams as vLLM streams one: a {@link Part} with its header (index, id, name), then parts with fragments of
 * its arguments as the model writes them; the fragments of a call add up to its arguments. The header goes out once the
 * call is sure to be one: its name is whole and its arguments have begun as a JSON object — the "{" and then the quote
 * of its first key, or its "}" (arguments that are not an object, and a call whose name comes after them, go out whole
 * once the value is whole). Until then its text waits, and if it turns out not to be a call (no name, no arguments,
 * JSON that breaks, the end tag or the reply's end first) that text is content, as vLLM answers such a reply with its
 * text. Once the header is out, the call stays a call: arguments that the reply then cuts short, or breaks, end where
 * the JSON was still whole, closed with the quote and brackets they lack (what vLLM's llama3_json stream sends at the
 * end, from partial_json_parser's completion), and the rest of that call's text is dropped. A fragment that may still
 * turn out to be an end marker waits.
 *
 * <p>Arguments are vLLM's: {@code json.dumps} of the JSON the model wrote ({@link PythonJson}'s layout), written out by
 * a {@link JsonRelay} as the text comes, so that the fragments and the whole reply's arguments are the same string.
 * Text after a call up to the next call is dropped, as vLLM drops it. Where vLLM gives up on every call of a reply for
 * one bad call, this parser keeps the calls it has begun already (a stream cannot take them back). Not thread-safe: one
 * request's thread uses it.
 */
public abstract sealed class ToolParser extends PieceParser<ToolParser.Delta>
        permits ToolParser.Hermes, ToolParser.Llama3Json, ToolParser.Mistral, ToolParser.Harmony, ToolParser.Forced,
                ToolParser.DeepSeek, ToolParser.Glm {

    /** One tool call: its id (vLLM's: "chatcmpl-tool-" and 32 hex digits; Mistral's 9 letters and digits), name, arguments. */
    public record Call(String id, String name, String arguments) {}

    /**
     * A call's piece as it streams, {@code index} its number in the reply: its header ({@code id} and {@code name}, no
     * arguments yet: "") or a fragment of its arguments ({@code id} and {@code name} null).
     */
    public record Part(int index, String id, String name, String arguments) {
        public boolean header() { return name != null; }
    }

    /** What a piece of the reply released: content text and parts of calls (either may be empty). */
    public record Delta(String content, List<Part> parts) {
        public Delta { parts = List.copyOf(parts); }
        public boolean isEmpty() { return content.isEmpty() && parts.isEmpty(); }
    }

    /** A parser chosen at startup; {@link #start} makes one for a request. */
    public interface Kind {
        String name();

        /**
         * A parser for one reply whose text went first through {@code reasoning} (the request's reasoning parser, or
         * null): openai's calls are the harmony messages that parser separated. {@code tools}: the request's tools
         * array (null: none), by which glm45 and glm47 type the arguments.
         */
        ToolParser start(ReasoningParser reasoning, JsonNode tools);

        /** {@link #start(ReasoningParser, JsonNode)} without tools. */
        default ToolParser start(ReasoningParser reasoning) { return start(reasoning, null); }
    }

    /** The names {@link #named} knows, as vLLM's {@code --tool-call-parser} spells them (llama4_json is llama3_json). */
    public static final List<String> NAMES = List.of("hermes", "llama3_json", "llama4_json", "mistral", "openai", "deepseek_v3",
            "deepseek_v31", "glm45", "glm47");

    /** The parser of that name; an unknown name is an IllegalArgumentException that lists the known ones. */
    public static Kind named(String name) {
        return switch (name == null ? "" : name) {
            case "hermes" -> kind("hermes", (r, t) -> new Hermes());
            case "llama3_json", "llama4_json" -> kind("llama3_json", (r, t) -> new Llama3Json());
            case "mistral" -> kind("mistral", (r, t) -> new Mistral());
            case "deepseek_v3" -> kind("deepseek_v3", (r, t) -> new DeepSeek(false));
            case "deepseek_v31" -> kind("deepseek_v31", (r, t) -> new DeepSeek(true));
            case "glm45" -> kind("glm45", (r, t) -> new Glm(false, t));
            case "glm47" -> kind("glm47", (r, t) -> new Glm(true, t));
            case "openai" -> kind("openai", (r, t) -> {
                if (!(r instanceof ReasoningParser.Harmony h)) {
                    throw new IllegalStateException("the openai tool parser reads harmony messages: it needs the gpt_oss reasoning parser");
                }
                return new Harmony(h);
            });
            default -> throw new IllegalArgumentException("unknown tool-call parser '" + name + "'; the parsers are: " + String.join(", ", NAMES));
        };
    }

    private interface Starter { ToolParser start(ReasoningParser reasoning, JsonNode tools); }

    private static Kind kind(String name, Starter s) {
        return new Kind() {
            @Override public String name() { return name; }
            @Override public ToolParser start(ReasoningParser reasoning, JsonNode tools) { return s.start(reasoning, tools); }
        };
    }

    private final StringBuilder content = new StringBuilder();
    private final List<Call> calls = new ArrayList<>();
    /** The parts of the piece being read. */
    private List<Part> parts = new ArrayList<>();

    /** All content released so far. */
    public final String content() { return content.toString(); }

    /** All calls begun so far, with the arguments released so far (after {@link #finish()}: the reply's calls). */
    public final List<Call> calls() { return List.copyOf(calls); }

    /** Calls whose arguments were cut short or broken, closed by force for the stream (by index). */
    final java.util.Set<Integer> cut = new java.util.TreeSet<>();
    /** Of those, the ones whose text vLLM's non-streamed reply keeps as their arguments (openai: a finished message that is not JSON). */
    final java.util.Map<Integer, String> rawArguments = new java.util.HashMap<>();

    /**
     * The non-streamed reply as vLLM's extract_tool_calls makes it, from what the stream released ({@code input}: all text
     * this parser read; {@code content}, {@code calls}: the released content and calls, those past the first dropped
     * without parallel_tool_calls). A stream must send a call's header and arguments before it knows the call ends well,
     * and closes cut-short or broken arguments, as vLLM's streams do; vLLM's non-streamed parsers never make such a call:
     * hermes, llama3_json and mistral give the whole text as content and no call (their json.loads fails), openai drops a
     * message cut short and gives a finished one that is not JSON its text as arguments. Well-formed calls are the
     * stream's, whose fragments joined are their arguments.
     */
    Whole whole(String input, String content, List<Call> calls) {
        if (cut.isEmpty()) return new Whole(content, calls);
        return new Whole(input, List.of());
    }

    /** A non-streamed reply's content and calls. */
    record Whole(String content, List<Call> calls) {}

    @Override
    final Delta released(Delta d) {
        content.append(d.content());
        for (Part p : d.parts()) {
            if (p.header()) calls.add(new Call(p.id(), p.name(), p.arguments()));
            else {
                Call c = calls.get(p.index());
                calls.set(p.index(), new Call(c.id(), c.name(), c.arguments() + p.arguments()));
            }
        }
        return d;
    }

    @Override
    final Delta nothing() { return new Delta("", List.of()); }

    /**
     * Consumes what it can of {@link #pending} into {@code out} and, through {@link #header} and {@link #arguments},
     * calls; at the end ({@code end}) holds nothing back: an unfinished call is judged as it stands.
     */
    abstract void step(boolean end, StringBuilder out);

    @Override
    final Delta step(boolean end) {
        StringBuilder out = new StringBuilder();
        parts = new ArrayList<>();
        step(end, out);
        return new Delta(out.toString(), parts);
    }

    /** A call's header goes out; returns the call's index in the reply. */
    final int header(String id, String name) {
        int index = calls.size() + (int) parts.stream().filter(Part::header).count();
        parts.add(new Part(index, id, name, ""));
        return index;
    }

    /** A fragment of call {@code index}'s arguments goes out (joined to the last part where that is one of the same call's). */
    final void arguments(int index, String text) {
        if (text.isEmpty()) return;
        Part last = parts.isEmpty() ? null : parts.get(parts.size() - 1);
        if (last != null && !last.header() && last.index() == index) {
            parts.set(parts.size() - 1, new Part(index, null, null, last.arguments() + text));
        } else {
            parts.add(new Part(index, null, null, text));
        }
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

    /**
     * Passes {@link #pending} through {@code consume} up to {@code marker} and past it (true), or, where it is not there
     * yet, all of it but a suffix that may begin it (nothing held back at the end; false).
     */
    boolean throughMarker(String marker, boolean end, java.util.function.IntConsumer consume) {
        int at = pending.indexOf(marker);
        consume.accept(at >= 0 ? at : pending.length() - (end ? 0 : partialTag(pending, List.of(marker))));
        if (at < 0) return false;
        consume.accept(marker.length());
        return true;
    }

    /** How far a call may read {@link #pending}: up to {@code marker}, or all but a suffix that may begin it (all at the end). */
    int upTo(String marker, boolean end) {
        int at = pending.indexOf(marker);
        return at >= 0 ? at : pending.length() - (end ? 0 : partialTag(pending, List.of(marker)));
    }

    /** vLLM's tool-call id (make_tool_call_id): "chatcmpl-tool-" and a random UUID's 32 hex digits. */
    static String vllmId() { return "chatcmpl-tool-" + UUID.randomUUID().toString().replace("-", ""); }

    /**
     * One {@code {"name": ..., "arguments": ...}} object read as it arrives ({@code keys}: the arguments' key or keys, the
     * first of them that comes counts): the name once its string is whole; arguments that are an object through a
     * {@link JsonRelay} as they come, others ({@code whole} makes their string) once whole. Other keys are skipped; a
     * key that comes again is skipped.
     */
    static final class CallObject {
        private enum At { OPEN, KEY_OR_CLOSE, KEY, COLON, VALUE, AFTER }
        private enum Reading { KEY, NAME, ARGUMENTS, WHOLE, SKIP }

        private final List<String> keys;
        private final Function<JsonNode, String> whole;
        String name;
        /** The arguments object, once it began. */
        JsonRelay arguments;
        /** Arguments that are not an object, once whole. */
        String wholeArguments;
        JsonRelay.Status status = JsonRelay.Status.READING;
        private At at = At.OPEN;
        private JsonRelay value;                          // the key or value being read
        private Reading reading;
        private String key;

        CallObject(List<String> keys, Function<JsonNode, String> whole) { this.keys = keys; this.whole = whole; }

        /** Its header may go out: the name is whole and the arguments have begun as an object, or are whole. */
        boolean ready() { return name != null && (wholeArguments != null || arguments != null && arguments.begun()); }

        /** Reads {@code text} from {@code from} up to {@code to}; returns where it stopped (see {@link JsonRelay#read}). */
        int read(CharSequence text, int from, int to) {
            int i = from;
            while (status == JsonRelay.Status.READING && i < to) {
                if (value != null) {
                    i = value.read(text, i, to);
                    if (value.status() == JsonRelay.Status.READING) return i;
                    if (value.status() == JsonRelay.Status.BROKEN) { status = JsonRelay.Status.BROKEN; return i; }
                    done();
                    continue;
                }
                char c = text.charAt(i);
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r') { i++; continue; }     // JSON's whitespace
                switch (at) {
                    case OPEN -> { if (c != '{') return broken(i); at = At.KEY_OR_CLOSE; i++; }
                    case KEY_OR_CLOSE, KEY -> {
                        if (c == '}' && at == At.KEY_OR_CLOSE) { status = JsonRelay.Status.DONE; i++; }
                        else if (c == '"') start(Reading.KEY, JsonRelay.Layout.RAW);
                        else return broken(i);
                    }
                    case COLON -> { if (c != ':') return broken(i); at = At.VALUE; i++; }
                    case VALUE -> {
                        if (key.equals("name") && name == null) start(Reading.NAME, JsonRelay.Layout.RAW);
                        else if (keys.contains(key) && arguments == null && wholeArguments == null) {
                            if (c == '{') { start(Reading.ARGUMENTS, JsonRelay.Layout.DUMPS); arguments = value; }
                            else start(Reading.WHOLE, JsonRelay.Layout.RAW);
                        } else start(Reading.SKIP, JsonRelay.Layout.RAW);
                    }
                    case AFTER -> {
                        if (c == ',') at = At.KEY;
                        else if (c == '}') status = JsonRelay.Status.DONE;
                        else return broken(i);
                        i++;
                    }
                }
            }
            return i;
        }

        private void start(Reading r, JsonRelay.Layout layout) {
            reading = r;
            value = new JsonRelay(layout);
        }

        /** The key or value just read. */
        private void done() {
            JsonNode v = reading == Reading.ARGUMENTS || reading == Reading.SKIP ? null : parse(value.written());
            if (v == null && (reading == Reading.KEY || reading == Reading.NAME || reading == Reading.WHOLE)) {
                status = JsonRelay.Status.BROKEN;                 // the relay took it as JSON, the parser did not
                return;
            }
            switch (reading) {
                case KEY -> { key = v.textValue(); at = At.COLON; value = null; return; }
                case NAME -> { if (v.isTextual()) name = v.textValue(); }
                case WHOLE -> wholeArguments = whole.apply(v);
                default -> { }
            }
            value = null;
            at = At.AFTER;
        }

        private int broken(int i) {
            status = JsonRelay.Status.BROKEN;
            return i;
        }
    }

    /**
     * A {@link CallObject} read as a call of this parser: its header out once it is ready, its arguments as they come;
     * {@link #settle} ends it.
     */
    final class Reader {
        final CallObject object;
        private final String id;
        int index = -1;                                   // its header's, once out
        int read;                                         // how far it read the text it is given

        Reader(CallObject object, String id) { this.object = object; this.id = id; }

        /** Reads {@code text} up to {@code to} from where it stopped; sends what may go out. */
        void read(CharSequence text, int to) {
            read = object.read(text, read, to);
            if (index < 0 && object.ready()) {
                index = header(id, object.name);
                if (object.wholeArguments != null) arguments(index, object.wholeArguments);
            }
            if (index >= 0 && object.arguments != null) arguments(index, object.arguments.take());
        }

        /** Its object is done or broken: no more text changes it. */
        boolean decided() { return object.status != JsonRelay.Status.READING; }

        /** The text it may read ended here: a call's arguments are closed; returns whether it is a call. */
        boolean settle() {
            if (index < 0) return false;
            if (object.status != JsonRelay.Status.DONE) cut.add(index);
            if (object.arguments != null) {
                object.arguments.close();
                arguments(index, object.arguments.take());
            }
            return true;
        }
    }

    // ---- tool_choice "required" and a named function -------------------------------------------------

    /**
     * The reply of a request whose tool_choice forced a call, as vLLM's serving_chat reads it (no tool-call parser
     * needed; guided decoding made the text). A named function's call takes the text as its arguments: its header goes
     * out with the first text, and the text streams as its arguments, as vLLM streams it. "required" reads the text at
     * the reply's end as a JSON array of {"name", "parameters"} objects, each a call whose arguments are
     * {@code json.dumps(parameters)}; a text that is not such an array (a reply cut by max_tokens) is content, so its
     * calls go out whole at the end. With a reasoning parser the text is the content after the reasoning (the constraint
     * begins there); a reply that ended while reasoning makes no call.
     */
    static final class Forced extends ToolParser {
        final String named;                                     // null: "required"
        private int index = -1;

        Forced(String named) { this.named = named; }

        @Override
        void step(boolean end, StringBuilder out) {
            if (named != null) {
                if (pending.isEmpty()) return;
                if (index < 0) index = header(vllmId(), named);
                arguments(index, pending.toString());
                pending.setLength(0);
                return;
            }
            if (!end) return;
            String text = pending.toString();
            pending.setLength(0);
            JsonNode list = parse(text);
            List<JsonNode> found = new ArrayList<>();
            if (list != null && list.isArray()) {
                for (JsonNode c : list) {
                    if (!c.isObject() || !c.path("name").isTextual() || !c.has("parameters")) { found = null; break; }
                    found.add(c);
                }
            }
            if (found == null || found.isEmpty()) { out.append(text); return; }
            for (JsonNode c : found) arguments(header(vllmId(), c.get("name").textValue()), dumps(c.get("parameters")));
        }
    }

    // ---- hermes --------------------------------------------------------------------------------------

    /**
     * vLLM's Hermes2ProToolParser: content is what comes before the first {@code <tool_call>}; each
     * {@code <tool_call>BODY</tool_call>} (or, at the end of the reply, {@code <tool_call>BODY}) is a call when BODY is a
     * JSON object with a string "name" and an "arguments" key. Arguments that are a string holding a JSON object are that
     * object (vLLM's rule for models that serialize them, e.g. Granite 4); other arguments are dumped as they are. The end
     * tag ends a call's text wherever it comes.
     */
    static final class Hermes extends ToolParser {
        static final String START = "<tool_call>", END = "</tool_call>";
        private enum State { TEXT, CALL, AFTER_CALL }
        private State state = State.TEXT;
        private Reader call;

        @Override
        void step(boolean end, StringBuilder out) {
            while (true) {
                if (state != State.CALL) {
                    if (!pastMarker(START, state == State.TEXT, end, out)) return;
                    state = State.CALL;
                    call = new Reader(new CallObject(List.of("arguments"), Hermes::arguments), vllmId());
                }
                int e = pending.indexOf(END);
                call.read(pending, upTo(END, end));
                if (!call.decided() && e < 0 && !end) return;                   // the call is still coming
                if (call.settle()) {
                    pending.delete(0, call.read);
                    state = State.AFTER_CALL;
                } else {                                          // not a call: its text is content
                    out.append(START);
                    state = State.TEXT;
                }
            }
        }

        private static String arguments(JsonNode args) {
            JsonNode inner = args.isTextual() ? parse(args.textValue()) : null;
            return dumps(inner != null && inner.isObject() ? inner : args);
        }
    }

    // ---- llama3_json ---------------------------------------------------------------------------------

    /**
     * vLLM's Llama3JsonToolParser as it streams: a reply that begins (after whitespace) with {@code <|python_tag|>} or
     * {@code {} is calls — JSON objects with a string "name" and "arguments" or "parameters" (the first of them),
     * separated by ";" or whitespace; text after the last call is dropped. Any other reply is content. (vLLM's
     * non-streamed path also takes a {"name"...} object from the middle of prose and drops the prose; that cannot be
     * streamed, since the prose before it would have gone out already.)
     */
    static final class Llama3Json extends ToolParser {
        static final String TAG = "<|python_tag|>";
        private enum State { START, OBJECT, SEPARATOR, TEXT, DROP }
        private State state = State.START;
        /** The tag and whitespace before the first object: content after all if that object is not a call. */
        private final StringBuilder lead = new StringBuilder();
        private Reader call;

        @Override
        void step(boolean end, StringBuilder out) {
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
                        if (call == null) {
                            int i = skipSpace(pending, 0);
                            if (i == pending.length() && !end) return;   // the object's start is still coming
                            if (i == pending.length() || pending.charAt(i) != '{') { notCall(out); continue; }
                            call = new Reader(new CallObject(List.of("arguments", "parameters"), ToolParser::dumps), vllmId());
                            call.read = i;
                        }
                        call.read(pending, pending.length());
                        if (!call.decided() && !end) return;
                        boolean done = call.object.status == JsonRelay.Status.DONE;
                        if (!call.settle()) { notCall(out); continue; }
                        lead.setLength(0);
                        pending.delete(0, call.read);
                        call = null;
                        state = done ? State.SEPARATOR : State.DROP;
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

        /** The object is not a call: it and the rest are content. */
        private void notCall(StringBuilder out) {
            out.append(lead);
            lead.setLength(0);
            call = null;
            state = State.TEXT;
        }
    }

    // ---- mistral -------------------------------------------------------------------------------------

    /**
     * vLLM's MistralToolParser: content is what comes before {@code [TOOL_CALLS]}. After it either a JSON list of
     * {"name", "arguments"} objects (Mistral 7B v0.3, Nemo: what vLLM reads with a Hugging Face tokenizer; arguments
     * dumped), or per call {@code name{args}} (v11+ models, as vLLM reads them through mistral_common, which drops the
     * {@code [ARGS]} token) — here also {@code name[ARGS]{args}} and {@code name[CALL_ID]id[ARGS]{args}}, the same
     * tokens decoded with special tokens kept, which is how this server decodes; the arguments are the JSON object as
     * the model wrote it, as vLLM gives them. A call's text ends at the next {@code [TOOL_CALLS]}. Ids are 9 letters and
     * digits, as Mistral's templates demand.
     */
    static final class Mistral extends ToolParser {
        static final String MARK = "[TOOL_CALLS]", ARGS = "[ARGS]", CALL_ID = "[CALL_ID]";
        private enum State { TEXT, CALLS, LIST, NAMED, AFTER_CALL }
        private State state = State.TEXT;
        private int at;                                   // how far the list or name{args} was read
        private Reader item;                              // the list's item being read
        private boolean called, afterItem;                // the list: a call came; an item was read (a "," or "]" next)
        private JsonRelay named;                          // name{args}: the arguments
        private String name;
        private int index;

        @Override
        void step(boolean end, StringBuilder out) {
            while (true) {
                switch (state) {
                    case TEXT, AFTER_CALL -> {
                        if (!pastMarker(MARK, state == State.TEXT, end, out)) return;
                        state = State.CALLS;
                    }
                    case CALLS -> {                               // after the marker: a list, or a name
                        int i = skipSpace(pending, 0);
                        if (i >= upTo(MARK, end)) {
                            if (!cut(end)) return;
                            notCalls(out);
                        } else if (pending.charAt(i) == '[') {
                            state = State.LIST;
                            at = i + 1;
                            called = afterItem = false;
                        } else {
                            state = State.NAMED;
                        }
                    }
                    case LIST -> { if (!list(end, out)) return; }
                    case NAMED -> { if (!named(end, out)) return; }
                }
            }
        }

        /** The calls' text ends before the text there is: the reply ended, or the next marker came. */
        private boolean cut(boolean end) { return end || pending.indexOf(MARK) >= 0; }

        /** The list form; false while it waits for more text. */
        private boolean list(boolean end, StringBuilder out) {
            int to = upTo(MARK, end);
            while (true) {
                if (item != null) {
                    item.read(pending, to);
                    if (!item.decided() && !cut(end)) return false;
                    boolean done = item.object.status == JsonRelay.Status.DONE;
                    boolean call = item.settle();
                    at = item.read;
                    item = null;
                    if (!call) return called ? over() : notCalls(out);
                    called = true;
                    if (!done) return over();
                }
                int i = skipSpace(pending, at);
                if (i >= to) return !cut(end) ? false : called ? over() : notCalls(out);
                char c = pending.charAt(i);
                if (c == ']' && (called || afterItem)) return called ? over() : notCalls(out);
                if (afterItem) {
                    if (c != ',') return called ? over() : notCalls(out);
                    at = i + 1;
                    afterItem = false;
                    continue;
                }
                if (c != '{') return called ? over() : notCalls(out);
                item = new Reader(new CallObject(List.of("arguments"), ToolParser::dumps), mistralId());
                item.read = i;
                afterItem = true;
            }
        }

        /** The name{args} form; false while it waits for more text. */
        private boolean named(boolean end, StringBuilder out) {
            int to = upTo(MARK, end);
            if (named == null) {
                int open = pending.indexOf("{");
                if (open < 0 || open >= to) return cut(end) && notCalls(out);
                name = name(pending.substring(0, open));
                if (name == null) return notCalls(out);
                named = new JsonRelay(JsonRelay.Layout.RAW);
                at = open;
                index = -1;
            }
            at = named.read(pending, at, to);
            if (index < 0 && named.begun()) index = header(mistralId(), name);
            if (index >= 0) arguments(index, named.take());
            if (named.status() == JsonRelay.Status.READING && !cut(end)) return false;
            if (index < 0) return notCalls(out);
            if (named.status() != JsonRelay.Status.DONE) cut.add(index);
            named.close();
            arguments(index, named.take());
            named = null;
            return over();
        }

        /** The calls are over: the rest up to the next marker is dropped. */
        private boolean over() {
            pending.delete(0, Math.min(at, pending.length()));
            item = null;
            named = null;
            state = State.AFTER_CALL;
            return true;
        }

        /** What followed the marker is not calls: the marker and the text are content. */
        private boolean notCalls(StringBuilder out) {
            out.append(MARK);
            item = null;
            named = null;
            state = State.TEXT;
            return true;
        }

        /** The name before a call's "{" ([ARGS] and [CALL_ID]id dropped), or null where it is not one. */
        private static String name(String head) {
            String name = head;
            if (name.endsWith(ARGS)) name = name.substring(0, name.length() - ARGS.length());
            int id = name.indexOf(CALL_ID);
            if (id >= 0) name = name.substring(0, id);
            name = name.strip();
            return name.isEmpty() || name.chars().anyMatch(Character::isWhitespace) ? null : name;
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
     * content type is JSON or none is given, are {@code json.dumps(json.loads(text))} (ensure_ascii, as vLLM calls it) —
     * an object streams as it comes, by the rule above — or, where the text is not JSON, the text as it stands; other
     * content types give the text, streamed as it comes (vLLM streams every call's text so). The content passes through:
     * the gpt_oss reasoning parser has already taken the final channel and the preambles as content. A message that the
     * end of the reply cuts short ({@code <|call|>} ends the sequence, so the last call always ends so) counts when its
     * JSON object has begun (closed, as above) or its JSON parses; other cut-short JSON is dropped, as vLLM drops an
     * unfinished call.
     */
    static final class Harmony extends ToolParser {
        private final ReasoningParser.Harmony messages;
        private String name;
        private boolean json;
        private final StringBuilder text = new StringBuilder();
        private JsonRelay relay;
        private int index = -1, read;

        Harmony(ReasoningParser.Harmony messages) { this.messages = messages; }

        /** vLLM's openai parser, not streamed: a message cut short is no call; a finished one that is not JSON keeps its text. */
        @Override
        Whole whole(String input, String content, List<Call> calls) {
            List<Call> kept = new ArrayList<>();
            for (int i = 0; i < calls.size(); i++) {
                Call c = calls.get(i);
                if (!cut.contains(i)) kept.add(c);
                else if (rawArguments.containsKey(i)) kept.add(new Call(c.id(), c.name(), rawArguments.get(i)));
            }
            return new Whole(content, kept);
        }

        @Override
        void step(boolean end, StringBuilder out) {
            out.append(pending);
            pending.setLength(0);
            for (ReasoningParser.FunctionPiece p : messages.takeFunctionPieces()) {
                if (p.opened()) {
                    name = p.name();
                    json = p.contentType().isEmpty() || p.contentType().contains("json");
                    text.setLength(0);
                    relay = json ? new JsonRelay(JsonRelay.Layout.DUMPS_ASCII) : null;
                    index = json ? -1 : header(vllmId(), name);
                    read = 0;
                }
                text.append(p.text());
                if (!json) arguments(index, p.text());
                else {
                    read = relay.read(text, read, text.length());
                    if (index < 0 && relay.begun()) index = header(vllmId(), name);
                    if (index >= 0) arguments(index, relay.take());
                }
                if (p.ended() == null || !json) continue;
                if (index >= 0) {
                    if (relay.status() != JsonRelay.Status.DONE) {
                        cut.add(index);
                        if (p.ended() && parse(text.toString()) == null) rawArguments.put(index, text.toString());
                    }
                    relay.close();
                    arguments(index, relay.take());
                    continue;
                }
                JsonNode v = parse(text.toString());
                if (v == null && !p.ended()) continue;
                arguments(header(vllmId(), name), v != null ? PythonJson.dumpsAscii(JSON.convertValue(v, Object.class)) : text.toString());
            }
        }
    }

    // ---- deepseek_v3, deepseek_v31 -------------------------------------------------------------------

    /**
     * vLLM's DeepSeekV3ToolParser ({@code v31} false: DeepSeek-V3, R1-0528) and DeepSeekV31ToolParser. Content is what
     * comes before {@code <｜tool▁calls▁begin｜>}; after it each {@code <｜tool▁call▁begin｜>} opens a call, read as vLLM's
     * regex reads it, no part of it across a line break: V3's {@code TYPE<｜tool▁sep｜>NAME\n```json\nARGS\n```<｜tool▁call▁end｜>}
     * (the name after the line's last separator, the arguments one line), V3.1's {@code NAME<｜tool▁sep｜>ARGS<｜tool▁call▁end｜>}
     * (the name up to the first separator, the arguments up to the end tag). The arguments are the text as the model wrote
     * it: vLLM does not parse them. Text between and after calls is dropped. A call that does not match is none: V3 drops
     * its text, as vLLM's V3 gives the text before the marker as content whatever follows; V3.1 gives the whole reply as
     * content where no call matched. A call's header goes out once its name is whole and its arguments begin (V3: after
     * the fence line); a call that then breaks or is cut short stays one in the stream and is none in the whole reply.
     */
    static final class DeepSeek extends ToolParser {
        static final String CALLS = "<｜tool▁calls▁begin｜>", CALL = "<｜tool▁call▁begin｜>", SEP = "<｜tool▁sep｜>",
                END = "<｜tool▁call▁end｜>", FENCE = "```json\n", CLOSE = "```" + END;
        private enum State { TEXT, SEEK, CALL, ARGS, CLOSE }
        private final boolean v31;
        private State state = State.TEXT;
        /** V3.1: the text from the marker on, while no call has gone out (content after all if none does). */
        private final StringBuilder held = new StringBuilder();
        private boolean called;
        private int index = -1;

        DeepSeek(boolean v31) { this.v31 = v31; }

        @Override
        Whole whole(String input, String content, List<Call> calls) {
            List<Call> kept = new ArrayList<>();
            for (int i = 0; i < calls.size(); i++) if (!cut.contains(i)) kept.add(calls.get(i));
            return new Whole(kept.isEmpty() && v31 ? input : content, kept);
        }

        @Override
        void step(boolean end, StringBuilder out) {
            while (true) {
                switch (state) {
                    case TEXT -> {
                        if (!pastMarker(CALLS, true, end, out)) return;
                        if (v31) held.append(CALLS);
                        state = State.SEEK;
                    }
                    case SEEK -> {
                        if (!throughMarker(CALL, end, this::consume)) {
                            if (end && !called) out.append(held);          // no call came: all of it is content
                            return;
                        }
                        state = State.CALL;
                    }
                    case CALL -> {                                   // nothing consumed until it is a call: else SEEK reads on
                        String name = v31 ? nameV31(end) : nameV3(end);
                        if (name == null) return;
                        if (state == State.SEEK) continue;
                        index = header(vllmId(), name);
                        called = true;
                        held.setLength(0);
                        state = State.ARGS;
                    }
                    case ARGS -> {
                        int e = v31 ? pending.indexOf(END) : -1, nl = pending.indexOf("\n");
                        boolean closed = e >= 0 && (nl < 0 || e < nl);
                        int upTo = closed ? e : nl >= 0 ? nl : pending.length() - (end || !v31 ? 0 : partialTag(pending, List.of(END)));
                        arguments(index, pending.substring(0, upTo));
                        consume(upTo);
                        if (closed) {
                            consume(END.length());
                            state = State.SEEK;
                        } else if (nl >= 0 && !v31) {
                            consume(1);
                            state = State.CLOSE;
                        } else if (nl >= 0 || end) {                     // V3.1's arguments broke a line, or the reply ended
                            cut.add(index);
                            state = State.SEEK;
                        } else {
                            return;
                        }
                    }
                    case CLOSE -> {
                        if (pending.indexOf(CLOSE) == 0) consume(CLOSE.length());
                        else if (!end && CLOSE.startsWith(pending.toString())) return;
                        else cut.add(index);
                        state = State.SEEK;
                    }
                }
            }
        }

        /** V3's name, once its line and the fence are there (null: wait); no call: state SEEK and "". */
        private String nameV3(boolean end) {
            int nl = pending.indexOf("\n");
            if (nl < 0) return end ? notCall() : null;
            int sep = pending.lastIndexOf(SEP, nl);
            String rest = pending.substring(nl + 1);
            if (sep < 0 || !rest.startsWith(FENCE)) return !end && sep >= 0 && FENCE.startsWith(rest) ? null : notCall();
            String name = pending.substring(sep + SEP.length(), nl);
            consume(nl + 1 + FENCE.length());
            return name;
        }

        /** V3.1's name, once its separator is there (null: wait); no call: state SEEK and "". */
        private String nameV31(boolean end) {
            int sep = pending.indexOf(SEP), nl = pending.indexOf("\n");
            if (nl >= 0 && (sep < 0 || nl < sep)) return notCall();
            if (sep < 0) return end ? notCall() : null;
            String name = pending.substring(0, sep);
            consume(sep + SEP.length());
            return name;
        }

        private String notCall() {
            state = State.SEEK;
            return "";
        }

        /** Passes {@code n} characters of the text: kept in {@link #held} while V3.1 has made no call, else dropped. */
        private void consume(int n) {
            if (v31 && !called && state != State.TEXT) held.append(pending, 0, n);
            pending.delete(0, n);
        }
    }

    // ---- glm45, glm47 --------------------------------------------------------------------------------

    /**
     * vLLM's Glm4MoeModelToolParser (glm45: GLM-4.5 / 4.6, {@code <tool_call>NAME\n<arg_key>K</arg_key>\n<arg_value>V</arg_value>\n</tool_call>})
     * and Glm47MoeModelToolParser (glm47: GLM-4.7, the name ended by the first {@code <arg_key>} or the end tag, and the
     * pairs maybe separated by whitespace or a literal "\\n"). A call is {@code <tool_call>} up to the first
     * {@code </tool_call>} (glm45: with a line break after the name, else no call); its arguments are
     * {@code json.dumps} (ensure_ascii=False) of a dict of its pairs, keys stripped, later pairs of a key overriding
     * earlier ones in place: a value whose parameter the request's tools type "string" is the stripped text, others
     * {@code json.loads} of it, else {@code ast.literal_eval}, else the text. Content is what comes before the first
     * {@code <tool_call>} (none where only whitespace, vLLM's None); text between and after calls is dropped; with no
     * call the whole reply is content. A call's header goes out once its name is whole; its arguments as its pairs
     * close, the closing brace with its end tag. A call the reply cuts short stays one in the stream (its arguments
     * closed) and is none in the whole reply; where a key came again and changed a value already sent, the stream closes
     * what it sent and the whole reply has vLLM's dict.
     */
    static final class Glm extends ToolParser {
        static final String START = "<tool_call>", END = "</tool_call>", KEY = "<arg_key>";
        private static final Pattern PAIR_45 = Pattern.compile("<arg_key>(.*?)</arg_key>\\s*<arg_value>(.*?)</arg_value>",
                Pattern.DOTALL | Pattern.UNICODE_CHARACTER_CLASS);
        private static final Pattern PAIR_47 = Pattern.compile("<arg_key>(.*?)</arg_key>(?:\\\\n|\\s)*<arg_value>(.*?)</arg_value>",
                Pattern.DOTALL | Pattern.UNICODE_CHARACTER_CLASS);
        private enum State { TEXT, SEEK, NAME, ARGS }
        private final boolean v47;
        private final JsonNode tools;
        private State state = State.TEXT;
        /** Leading whitespace not yet content; the text from the first {@code <tool_call>} on, while no call has gone out. */
        private final StringBuilder lead = new StringBuilder(), held = new StringBuilder();
        private boolean spoke, called;
        private String name, sent;
        private int index = -1;
        /** The whole reply's arguments where the stream's differ (a key that came again). */
        private final java.util.Map<Integer, String> dictArguments = new java.util.HashMap<>();

        Glm(boolean v47, JsonNode tools) { this.v47 = v47; this.tools = tools; }

        @Override
        Whole whole(String input, String content, List<Call> calls) {
            List<Call> kept = new ArrayList<>();
            for (int i = 0; i < calls.size(); i++) {
                Call c = calls.get(i);
                if (!cut.contains(i)) kept.add(dictArguments.containsKey(i) ? new Call(c.id(), c.name(), dictArguments.get(i)) : c);
            }
            return new Whole(kept.isEmpty() ? input : content, kept);
        }

        @Override
        void step(boolean end, StringBuilder out) {
            while (true) {
                switch (state) {
                    case TEXT -> {
                        int at = pending.indexOf(START);
                        int upTo = at >= 0 ? at : pending.length() - (end ? 0 : partialTag(pending, List.of(START)));
                        lead.append(pending, 0, upTo);
                        pending.delete(0, upTo);
                        if (spoke || !pyStrip(lead.toString()).isEmpty()) {
                            out.append(lead);
                            lead.setLength(0);
                            spoke = true;
                        }
                        if (at < 0) {
                            if (end) out.append(lead);
                            return;
                        }
                        held.append(lead);
                        state = State.SEEK;
                    }
                    case SEEK -> {
                        if (!throughMarker(START, end, this::consume)) {
                            if (end && !called) out.append(held);          // no call came: all of it is content
                            return;
                        }
                        state = State.NAME;
                    }
                    case NAME -> {
                        int e = pending.indexOf(END), stop = v47 ? pending.indexOf(KEY) : pending.indexOf("\n");
                        if (stop < 0 || e >= 0 && e < stop) stop = v47 ? e : -1;
                        if (stop < 0) {
                            if (e >= 0) consume(e + END.length());       // glm45: no line break after the name: no call
                            if (e < 0 && !end) return;
                            state = State.SEEK;
                            continue;
                        }
                        name = pyStrip(pending.substring(0, stop));
                        consume(v47 ? stop : stop + 1);
                        index = header(vllmId(), name);
                        called = true;
                        held.setLength(0);
                        sent = "";
                        state = State.ARGS;
                    }
                    case ARGS -> {
                        int e = pending.indexOf(END);
                        java.util.Map<String, Object> dict = pairs(e >= 0 ? pending.substring(0, e) : pending.toString());
                        String json = PythonJson.dumps(dict);
                        if (e >= 0) {
                            if (json.startsWith(sent)) arguments(index, json.substring(sent.length()));
                            else {
                                arguments(index, "}");
                                dictArguments.put(index, json);
                            }
                            consume(e + END.length());
                            state = State.SEEK;
                            continue;
                        }
                        String open = json.substring(0, json.length() - 1);          // all but the closing brace
                        if (!dict.isEmpty() && open.startsWith(sent)) {
                            arguments(index, open.substring(sent.length()));
                            sent = open;
                        }
                        if (!end) return;
                        arguments(index, sent.isEmpty() ? "{}" : "}");               // cut short: closed for the stream
                        cut.add(index);
                        state = State.SEEK;
                    }
                }
            }
        }

        /** A call's pairs so far as vLLM's dict of them. */
        private java.util.Map<String, Object> pairs(String body) {
            java.util.Map<String, Object> dict = new java.util.LinkedHashMap<>();
            Matcher m = (v47 ? PAIR_47 : PAIR_45).matcher(body);
            while (m.find()) {
                String key = pyStrip(m.group(1)), value = pyStrip(m.group(2));
                dict.put(key, isString(key) ? value : deserialize(value));
            }
            return dict;
        }

        /** vLLM's _is_string_type: the first tool of this call's name types the key's property "string". */
        private boolean isString(String key) {
            if (tools == null) return false;
            for (JsonNode t : tools) {
                JsonNode f = t.path("function");
                if (!name.equals(f.path("name").textValue())) continue;
                JsonNode ps = f.get("parameters");
                return ps != null && !ps.isNull() && "string".equals(ps.path("properties").path(key).path("type").textValue());
            }
            return false;
        }

        /** vLLM's _deserialize: json.loads, else ast.literal_eval, else the text. */
        private static Object deserialize(String value) {
            JsonNode n = parse(value);
            if (n != null) return JSON.convertValue(n, Object.class);
            Object literal = PythonLiteral.eval(value);
            return literal != PythonLiteral.NOT ? literal : value;
        }

        private void consume(int n) {
            if (!called && state != State.TEXT) held.append(pending, 0, n);
            pending.delete(0, n);
        }
    }

    /** Python's str.strip(): whitespace as str.isspace() has it. */
    static String pyStrip(String s) {
        int a = 0, b = s.length();
        while (a < b && pySpace(s.charAt(a))) a++;
        while (b > a && pySpace(s.charAt(b - 1))) b--;
        return s.substring(a, b);
    }

    private static boolean pySpace(char c) {
        return Character.isWhitespace(c) || c == '\u0085' || c == '\u00a0' || c == '\u2007' || c == '\u202f';
    }
}
