// ChatTemplate — a Hugging Face chat template (tokenizer_config.json's chat_template) rendered by a real
// Jinja engine for the JVM, HubSpot's Jinjava, configured the way transformers configures Jinja
// (trim_blocks, lstrip_blocks, one trailing newline of the source dropped) and given what Jinja-in-transformers
// has that Jinjava lacks: Python's str/dict methods, raise_exception, strftime_now, Python's tojson, slices with a
// step (messages[::-1]) and keyword arguments whose value is an expression (namespace(i=messages|length - 1)).
package org.transformer4j.model.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/**
 * Renders conversations with one template. The gaps filled on top of Jinjava, each because a real
 * template needs it (transformers' {@code chat_template_utils._compile_jinja_template} is the model):
 * <ul>
 * <li>Python methods on strings and dicts ({@link PythonMethods}): {@code strip/lstrip/rstrip(chars)},
 *     {@code split/rsplit(sep, maxsplit)} (Java's split is a regex that drops trailing empties),
 *     {@code startswith/endswith} (also with a list), {@code upper/lower/title/capitalize}, {@code replace},
 *     {@code find/count/join}, {@code is*}, dict {@code items/keys/values/get(k, default)}. They take
 *     precedence over Java's methods of the same name.</li>
 * <li>{@code raise_exception(msg)} (transformers' global): throws {@link ChatTemplateException} with the
 *     template's message ({@code raisedByTemplate()} true).</li>
 * <li>{@code strftime_now(fmt)} (transformers' global): the local time through Python's common
 *     {@code %} directives.</li>
 * <li>{@code tojson(indent=None, sort_keys=False)}: Python's {@code json.dumps(..., ensure_ascii=False)}
 *     layout (", " and ": " separators) as transformers overrides it; Jinjava's own prints compact JSON.</li>
 * <li>Slices with a step ({@code x[::-1]}, {@code x[a:b:c]}), which Jinjava's parser rejects: rewritten
 *     in the source to the filter {@code x|t4j_slice(a, b, c)} before parsing. Plain slices ({@code [1:]})
 *     are Jinjava's own. Keyword-argument values are parenthesized the same way (see
 *     {@link #rewriteExpressions}); both rewrites touch only code inside tags, never text or string literals.</li>
 * <li>Jinja drops one newline at the end of the template source (keep_trailing_newline=False); Jinjava's
 *     option of that name trims the output instead, so the source is trimmed here.</li>
 * <li>Nested interpretation is off (Jinjava would otherwise render "{{ ... }}" found inside message text),
 *     and Jinjava's legacy behaviours are switched to Jinja's (see {@code JINJA}).</li>
 * </ul>
 * Thread-safe: each render has its own interpreter.
 */
public final class ChatTemplate {

    private static final Pattern MACRO_TAG = Pattern.compile("[-+]?\\s*macro\\b");

    private static final Pattern STEP_SLICE = Pattern.compile("\\[\\s*(-?\\d+)?\\s*:\\s*(-?\\d+)?\\s*:\\s*(-?\\d+)\\s*\\]");

    /**
     * Jinjava's switches from its own historical behaviour to Jinja's. Not {@link LegacyOverrides#ALL}: that
     * also turns on whitespace-required-within-tokens, under which Jinjava printed Qwen3's whole template as
     * text; snake-case property naming only concerns Java beans, which templates never see here.
     */
    private static final LegacyOverrides JINJA = LegacyOverrides.newBuilder()
            .withEvaluateMapKeys(true).withIterateOverMapKeys(true).withUsePyishObjectMapper(true)
            .withUseNaturalOperatorPrecedence(true).withParseWhitespaceControlStrictly(true)
            .withAllowAdjacentTextNodes(true).withUseTrimmingForNotesAndExpressions(true)
            .withKeepNullableLoopValues(true).withHandleBackslashInQuotesOnly(true)
            .withUseSnakeCasePropertyNaming(false).build();

    private final String source;
    private final String prepared;
    private final String origin;
    private final Map<String, Object> defaults;
    private final Jinjava jinjava;

    private ChatTemplate(String source, String origin, Map<String, Object> defaults) {
        this.source = source;
        this.origin = origin;
        this.defaults = defaults;
        this.prepared = rewriteExpressions(trimFinalNewline(source));
        this.jinjava = newEngine();
    }

    /**
     * A template from its source. {@code variables} are always passed to it (transformers passes the
     * tokenizer's special tokens: bos_token, eos_token, unk_token, pad_token, ... as strings);
     * {@code origin} names where it came from, for messages (e.g. the tokenizer_config.json path).
     */
    public static ChatTemplate of(String source, Map<String, ?> variables, String origin) {
        if (source == null || source.isBlank()) throw new IllegalArgumentException(origin + ": the chat template is empty");
        ChatTemplate t = new ChatTemplate(source, origin == null ? "chat template" : origin,
                variables == null ? Map.of() : new HashMap<>(variables));
        // parse once now, so a template Jinjava cannot read fails at load, not at the first turn
        try {
            t.jinjava.newInterpreter().parse(t.prepared);
        } catch (RuntimeException e) {
            throw new ChatTemplateException(t.origin + ": the chat template does not parse: " + e.getMessage(), false, e);
        }
        return t;
    }

    /** The template's source as written. */
    public String source() { return source; }

    /**
     * The text of {@code messages}, as transformers' {@code apply_chat_template(messages,
     * add_generation_prompt=..., tokenize=False, **extra)} gives it. {@code extra} holds further
     * variables (tools, documents, enable_thinking, ...); they override the special-token defaults.
     */
    public String render(List<Message> messages, boolean addGenerationPrompt, Map<String, ?> extra) {
        if (messages == null) throw new IllegalArgumentException("no messages");
        List<Map<String, Object>> ms = new ArrayList<>();
        for (Message m : messages) ms.add(m.asMap());
        Map<String, Object> ctx = new HashMap<>(defaults);
        if (extra != null) ctx.putAll(extra);
        ctx.put("messages", ms);
        ctx.put("add_generation_prompt", addGenerationPrompt);
        RenderResult r;
        try {
            r = jinjava.renderForResult(prepared, ctx);
        } catch (RuntimeException e) {
            Raised raised = raised(e);
            if (raised != null) throw new ChatTemplateException(raised.getMessage(), true, raised);
            throw new ChatTemplateException(origin + ": rendering failed: " + e.getMessage(), false, e);
        }
        for (TemplateError err : r.getErrors()) {
            Raised raised = raised(err.getException());
            if (raised != null) throw new ChatTemplateException(raised.getMessage(), true, raised);
        }
        for (TemplateError err : r.getErrors()) {
            if (err.getSeverity() == TemplateError.ErrorType.FATAL) {
                throw new ChatTemplateException(origin + ": rendering failed at line " + err.getLineno() + ": " + err.getMessage(),
                        false, err.getException());
            }
        }
        return r.getOutput();
    }

    /**
     * transformers' {@code apply_chat_template(..., continue_final_message=True)}: the conversation rendered without a
     * generation prompt and cut right after the final message's text (stripped; for content parts, the last part with
     * text), so that the model continues that message instead of starting a new one — what follows it in the render (an
     * end-of-turn token, say) is dropped. Refused as transformers refuses it: no text to continue, or a final message the
     * template did not write out as it is.
     */
    public String renderContinuing(List<Message> messages, Map<String, ?> extra) {
        if (messages == null || messages.isEmpty()) throw new IllegalArgumentException("no messages");
        String rendered = render(messages, false, extra);
        String last = finalText(messages.get(messages.size() - 1).content());
        if (last == null) {
            throw new ChatTemplateException("continue_final_message is set but we could not find any text to continue in the final message!", false, null);
        }
        String stripped = last.strip();
        int at = rendered.lastIndexOf(stripped);
        if (at < 0) {
            throw new ChatTemplateException("continue_final_message is set but the final message does not appear in the chat after applying the"
                    + " chat template! This can happen if the chat template deletes portions of the final message. Please verify the chat template"
                    + " and final message in your chat to ensure they are compatible.", false, null);
        }
        return rendered.substring(0, at + stripped.length());
    }

    /** A message content's text: a string, or the last of its parts that has a "text" (null: none). */
    private static String finalText(Object content) {
        if (content instanceof String str) return str;
        if (content instanceof List<?> parts) {
            for (int i = parts.size() - 1; i >= 0; i--) {
                if (parts.get(i) instanceof Map<?, ?> part && part.get("text") instanceof String text) return text;
            }
        }
        return null;
    }

    /** {@link #render(List, boolean, Map)} without extra variables. */
    public String render(List<Message> messages, boolean addGenerationPrompt) {
        return render(messages, addGenerationPrompt, Map.of());
    }

    private Jinjava newEngine() {
        JinjavaConfig cfg = JinjavaConfig.newBuilder()
                .withTrimBlocks(true).withLstripBlocks(true).withKeepTrailingNewline(true)
                .withNestedInterpretationEnabled(false)
                .withFailOnUnknownTokens(false)
                .withLegacyOverrides(JINJA)
                .withElResolver(new PythonResolver(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_WRITE))
                .build();
        Jinjava j = new Jinjava(cfg);
        try {
            j.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception",
                    ChatTemplate.class.getDeclaredMethod("raiseException", Object.class)));
            j.getGlobalContext().registerFunction(new ELFunctionDefinition("", "strftime_now",
                    ChatTemplate.class.getDeclaredMethod("strftimeNow", String.class)));
        } catch (NoSuchMethodException e) {
            throw new AssertionError(e);
        }
        j.getGlobalContext().registerFilter(new ToJson());
        j.getGlobalContext().registerFilter(new StepSlice());
        return j;
    }

    /** transformers' raise_exception global. Public for Jinjava's reflection. */
    public static Object raiseException(Object message) {
        throw new Raised(String.valueOf(message));
    }

    /** transformers' strftime_now global: datetime.now().strftime(format). Public for Jinjava's reflection. */
    public static String strftimeNow(String format) {
        return strftime(ZonedDateTime.now(), format);
    }

    /** Python's strftime for the directives chat templates use (%d %b %Y and the like); unknown ones throw. */
    static String strftime(ZonedDateTime t, String format) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 == format.length()) { b.append(c); continue; }
            char d = format.charAt(++i);
            String pattern = switch (d) {
                case 'Y' -> "yyyy"; case 'y' -> "yy"; case 'm' -> "MM"; case 'd' -> "dd"; case 'B' -> "MMMM"; case 'b' -> "MMM";
                case 'A' -> "EEEE"; case 'a' -> "EEE"; case 'H' -> "HH"; case 'I' -> "hh"; case 'M' -> "mm"; case 'S' -> "ss";
                case 'p' -> "a"; case 'j' -> "DDD"; case 'Z' -> "zzz"; case 'z' -> "xx";
                case '%' -> null;
                default -> throw new IllegalArgumentException("strftime_now: directive %" + d + " is not supported");
            };
            b.append(pattern == null ? "%" : java.time.format.DateTimeFormatter.ofPattern(pattern, Locale.ENGLISH).format(t));
        }
        return b.toString();
    }

    /**
     * Jinja (keep_trailing_newline=False, transformers' setting) drops one newline at the end of the template
     * source; Jinjava's option of that name drops it from the output instead, which loses a newline that a
     * template prints as a string literal at its end (Llama 3's generation prompt ends "\n\n"). So the
     * source is trimmed here and Jinjava keeps what it renders.
     */
    static String trimFinalNewline(String source) {
        if (source.endsWith("\r\n")) return source.substring(0, source.length() - 2);
        if (source.endsWith("\n")) return source.substring(0, source.length() - 1);
        return source;
    }

    /**
     * Two rewrites of the code inside {@code {{ }}} and {@code {% %}} (never of template text or string literals):
     * <ul>
     * <li>slices with a step, {@code x[a:b:c]} → {@code x|t4j_slice(a, b, c)}: Jinjava's parser rejects them;</li>
     * <li>each keyword argument's value is wrapped in parentheses, {@code namespace(i=messages|length - 1)} →
     *     {@code namespace(i=(messages|length - 1))}: Jinjava's parser binds {@code name=} tighter than the
     *     operators after it (it would compute {@code (i=messages|length) - 1}); Jinja takes the whole
     *     expression up to the next comma.</li>
     * </ul>
     */
    static String rewriteExpressions(String source) {
        StringBuilder out = new StringBuilder(source.length() + 16);
        int i = 0, n = source.length();
        while (i < n) {
            int open = nextTag(source, i);
            if (open < 0) { out.append(source, i, n); break; }
            out.append(source, i, open);
            String close = source.charAt(open + 1) == '{' ? "}}" : "%}";
            i = open + 2;
            out.append(source, open, i);
            java.util.ArrayDeque<Character> brackets = new java.util.ArrayDeque<>();
            java.util.ArrayDeque<Integer> values = new java.util.ArrayDeque<>();   // bracket depth at which a wrapped value started
            // a macro's parameter defaults are left as they are: Jinjava's macro tag reads its parameter list up to the
            // first ')' (gpt-oss's `macro render_typescript_type(..., is_nullable=false)` broke when wrapped)
            boolean macroDefinition = close.equals("%}") && MACRO_TAG.matcher(source).region(i, n).lookingAt();
            while (i < n) {
                char c = source.charAt(i);
                if (brackets.isEmpty() && source.startsWith(close, i)) break;
                if (c == '\'' || c == '"') {
                    int end = i + 1;
                    while (end < n && source.charAt(end) != c) end += source.charAt(end) == '\\' ? 2 : 1;
                    end = Math.min(end + 1, n);
                    out.append(source, i, end);
                    i = end;
                    continue;
                }
                if (c == '[') {
                    Matcher slice = STEP_SLICE.matcher(source).region(i, n);
                    if (slice.lookingAt()) {
                        out.append("|t4j_slice(").append(orNone(slice.group(1))).append(", ").append(orNone(slice.group(2)))
                                .append(", ").append(slice.group(3)).append(')');
                        i = slice.end();
                        continue;
                    }
                }
                if (c == '(' || c == '[' || c == '{') brackets.push(c);
                if ((c == ',' || c == ')' || c == ']' || c == '}') && !values.isEmpty() && values.peek() == brackets.size()) {
                    out.append(')');
                    values.pop();
                }
                if (c == ')' || c == ']' || c == '}') { if (!brackets.isEmpty()) brackets.pop(); }
                if (Character.isJavaIdentifierStart(c) && !macroDefinition && !brackets.isEmpty() && brackets.peek() == '('
                        && (i == 0 || !Character.isJavaIdentifierPart(source.charAt(i - 1)) && source.charAt(i - 1) != '.')) {
                    int end = i;
                    while (end < n && Character.isJavaIdentifierPart(source.charAt(end))) end++;
                    int eq = end;
                    while (eq < n && source.charAt(eq) == ' ') eq++;
                    if (eq < n && source.charAt(eq) == '=' && (eq + 1 >= n || source.charAt(eq + 1) != '=')) {
                        out.append(source, i, eq + 1).append('(');
                        values.push(brackets.size());
                        i = eq + 1;
                        continue;
                    }
                    out.append(source, i, end);
                    i = end;
                    continue;
                }
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    /** The next "{{" or "{%" at or after {@code from}, or -1. */
    private static int nextTag(String s, int from) {
        int a = s.indexOf("{{", from), b = s.indexOf("{%", from);
        if (a < 0) return b;
        if (b < 0) return a;
        return Math.min(a, b);
    }

    private static String orNone(String g) { return g == null ? "none" : g; }

    private static Raised raised(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) if (t instanceof Raised r) return r;
        return null;
    }

    /** What raise_exception throws inside the engine; render turns it into a ChatTemplateException. */
    static final class Raised extends RuntimeException {
        Raised(String message) { super(message, null, false, false); }
    }

    /** Python's method semantics first, then Jinjava's resolver. */
    private static final class PythonResolver extends ELResolver {
        private final ELResolver next;

        PythonResolver(ELResolver next) { this.next = next; }

        @Override
        public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
            if (base != null && method instanceof String name && PythonMethods.supports(base, name)) {
                Object out = PythonMethods.call(base, name, params);
                context.setPropertyResolved(true);
                return out;
            }
            return next.invoke(context, base, method, paramTypes, params);
        }

        @Override public Class<?> getCommonPropertyType(ELContext c, Object base) { return next.getCommonPropertyType(c, base); }
        @Override public java.util.Iterator<java.beans.FeatureDescriptor> getFeatureDescriptors(ELContext c, Object base) {
            return next.getFeatureDescriptors(c, base);
        }
        @Override public Class<?> getType(ELContext c, Object base, Object p) { return next.getType(c, base, p); }
        @Override public Object getValue(ELContext c, Object base, Object p) { return next.getValue(c, base, p); }
        @Override public boolean isReadOnly(ELContext c, Object base, Object p) { return next.isReadOnly(c, base, p); }
        @Override public void setValue(ELContext c, Object base, Object p, Object v) { next.setValue(c, base, p, v); }
    }

    /** tojson as transformers defines it: json.dumps(x, ensure_ascii=False, indent=indent, sort_keys=sort_keys). */
    private static final class ToJson implements Filter {
        @Override public String getName() { return "tojson"; }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return PythonJson.dumps(var, args.length > 0 && args[0] != null ? Integer.valueOf(args[0].trim()) : null, false);
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object indent = kwargs.containsKey("indent") ? kwargs.get("indent") : args.length > 0 ? args[0] : null;
            boolean sort = Boolean.TRUE.equals(kwargs.get("sort_keys"));
            return PythonJson.dumps(var, indent instanceof Number n ? n.intValue() : null, sort);
        }
    }

    /** x|t4j_slice(start, stop, step): Python's slice of a list or string, any step but 0. */
    private static final class StepSlice implements Filter {
        @Override public String getName() { return "t4j_slice"; }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            throw new IllegalStateException("t4j_slice needs its numeric arguments");
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            List<Object> items = new ArrayList<>();
            boolean string = var instanceof CharSequence;
            if (string) var.toString().codePoints().forEach(c -> items.add(new String(Character.toChars(c))));
            else if (var instanceof Collection<?> c) items.addAll(c);
            else if (var instanceof Map<?, ?> m) items.addAll(m.keySet());
            else throw new IllegalArgumentException("cannot slice " + PythonMethods.type(var));
            int n = items.size();
            long step = ((Number) args[2]).longValue();
            if (step == 0) throw new IllegalArgumentException("slice step cannot be zero");
            long start = bound(args[0], n, step, true), stop = bound(args[1], n, step, false);
            List<Object> out = new ArrayList<>();
            for (long i = start; step > 0 ? i < stop : i > stop; i += step) out.add(items.get((int) i));
            if (!string) return out;
            StringBuilder b = new StringBuilder();
            for (Object o : out) b.append(o);
            return b.toString();
        }

        /** Python's slice.indices for one end. */
        private static long bound(Object v, int n, long step, boolean start) {
            if (v == null) return step > 0 ? (start ? 0 : n) : (start ? n - 1 : -1);
            long i = ((Number) v).longValue();
            if (i < 0) i += n;
            if (step > 0) return Math.max(0, Math.min(i, n));
            return Math.max(-1, Math.min(i, n - 1));
        }
    }

    /** For tests and messages. */
    @Override
    public String toString() { return "ChatTemplate(" + origin + ")"; }
}
