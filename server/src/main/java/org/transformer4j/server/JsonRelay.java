// JsonRelay — one JSON value read as it arrives, a character at a time, and written out again as it goes: in Python's
// json.dumps layout (what vLLM's tool-call parsers give as a call's arguments) or as the model wrote it. What it has
// written is always the beginning of what the whole value writes, so a stream can send it at once; where the text ends
// early or stops being JSON, close() ends what was written with a closing quote and brackets, so it is JSON still.
package org.transformer4j.server;

import java.math.BigInteger;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.regex.Pattern;
import org.transformer4j.model.chat.PythonJson;

/**
 * Reads JSON as Python's {@code json.loads} does (NaN, Infinity and -Infinity allowed; no control characters inside
 * strings) and writes, in {@link Layout#DUMPS}, what {@code json.dumps(json.loads(text), ensure_ascii=False)} writes:
 * ", " and ": ", no other whitespace, strings escaped again, numbers as Python prints them ({@link
 * Layout#DUMPS_ASCII}: every character outside ' '..'~' as a \\u escape, as {@code json.dumps} writes by default). One
 * difference: an object with a key twice keeps both, in order (json.loads keeps the last value) — a stream has sent the
 * first by then. {@link Layout#RAW} writes the text as it came.
 *
 * <p>What may still be taken back waits: a separator and a key are written with the value after them, a number once
 * it ends, an escape once it is whole. So a cut at any point leaves written text that {@link #close()} can end as
 * valid JSON. Not thread-safe: one request's thread uses it.
 */
final class JsonRelay {

    enum Layout { DUMPS, DUMPS_ASCII, RAW }

    enum Status { READING, DONE, BROKEN }

    /** Where the reader is: what the next character may be, or inside which token. */
    private enum At { VALUE, VALUE_OR_CLOSE, KEY, KEY_OR_CLOSE, COLON, AFTER, STRING, NUMBER, LITERAL }

    private static final Pattern NUMBER = Pattern.compile("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?");
    private static final List<String> LITERALS = List.of("true", "false", "null", "NaN", "Infinity", "-Infinity");

    private final Layout layout;
    private final StringBuilder written = new StringBuilder();
    /** Separators, a key and (RAW) whitespace, written with the next value or closing bracket; dropped by a cut. */
    private final StringBuilder held = new StringBuilder();
    private final StringBuilder token = new StringBuilder();     // a number, literal or escape being read
    private final Deque<Character> open = new ArrayDeque<>();    // '{' and '[' not yet closed, innermost first
    private At at = At.VALUE;
    private boolean key, escape, begun;
    private Status status = Status.READING;
    private int taken;

    JsonRelay(Layout layout) { this.layout = layout; }

    Status status() { return status; }

    /** An object that has begun: its "{" and then the quote of its first key, or its "}". */
    boolean begun() { return begun; }

    /** All written so far. */
    String written() { return written.toString(); }

    /** What was written since the last take. */
    String take() {
        String s = written.substring(taken);
        taken = written.length();
        return s;
    }

    /**
     * Reads {@code text} from {@code from} up to {@code to}; returns where it stopped: just past the value's end (DONE),
     * at the character that is not JSON (BROKEN), or at {@code to} (READING). A number ends at the character after it, which is not
     * consumed.
     */
    int read(CharSequence text, int from, int to) {
        int i = from;
        while (status == Status.READING && i < to) {
            boolean consumed = step(text.charAt(i));
            if (status != Status.BROKEN && consumed) i++;
        }
        return i;
    }

    /**
     * The text ended here (or broke): ends what was written — a number that is whole is written, a held separator or
     * key and a partial escape or literal are dropped, a string gets its quote, each open bracket its closing one.
     */
    void close() {
        if (status == Status.DONE) return;
        if (status == Status.READING && at == At.NUMBER && NUMBER.matcher(token).matches()) value(number(token.toString()));
        held.setLength(0);
        if (at == At.STRING && !key) written.append('"');
        while (!open.isEmpty()) written.append(open.pop() == '{' ? '}' : ']');
        status = Status.DONE;
    }

    /** One character; false where it was not consumed (the end of a number, read again in the next state). */
    private boolean step(char c) {
        switch (at) {
            case STRING -> string(c);
            case NUMBER -> {
                if ((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
                    token.append(c);
                } else if (c == 'I' && token.toString().equals("-")) {
                    token.append(c);
                    at = At.LITERAL;
                } else {
                    if (!NUMBER.matcher(token).matches()) return broken();
                    value(number(token.toString()));
                    after();
                    return false;
                }
            }
            case LITERAL -> {
                token.append(c);
                String t = token.toString();
                if (LITERALS.contains(t)) {
                    value(t);
                    after();
                } else if (LITERALS.stream().noneMatch(l -> l.startsWith(t))) {
                    return broken();
                }
            }
            default -> {
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                    if (layout == Layout.RAW) held.append(c);
                } else {
                    between(c);
                }
            }
        }
        return true;
    }

    /** A character between tokens. */
    private void between(char c) {
        switch (at) {
            case VALUE, VALUE_OR_CLOSE -> {
                if (c == ']' && at == At.VALUE_OR_CLOSE) close(c);
                else if (c == '{') { value("{"); open.push('{'); at = At.KEY_OR_CLOSE; }
                else if (c == '[') { value("["); open.push('['); at = At.VALUE_OR_CLOSE; }
                else if (c == '"') { value("\""); key = false; at = At.STRING; }
                else if (c == '-' || (c >= '0' && c <= '9')) { token.setLength(0); token.append(c); at = At.NUMBER; }
                else if (c == 't' || c == 'f' || c == 'n' || c == 'N' || c == 'I') { token.setLength(0); token.append(c); at = At.LITERAL; }
                else broken();
            }
            case KEY, KEY_OR_CLOSE -> {
                if (at == At.KEY_OR_CLOSE && open.size() == 1 && (c == '"' || c == '}')) begun = true;
                if (c == '}' && at == At.KEY_OR_CLOSE) close(c);
                else if (c == '"') { held.append('"'); key = true; at = At.STRING; }
                else broken();
            }
            case COLON -> {
                if (c != ':') { broken(); return; }
                held.append(layout == Layout.RAW ? ":" : ": ");
                at = At.VALUE;
            }
            case AFTER -> {
                char top = open.isEmpty() ? ' ' : open.peek();
                if (c == ',') {
                    held.append(layout == Layout.RAW ? "," : ", ");
                    at = top == '{' ? At.KEY : At.VALUE;
                } else if ((c == '}' && top == '{') || (c == ']' && top == '[')) {
                    close(c);
                } else {
                    broken();
                }
            }
            default -> throw new IllegalStateException(at.toString());
        }
    }

    private void string(char c) {
        if (escape) {
            token.append(c);
            if (token.length() == 1) {
                int k = "\"\\/bfnrt".indexOf(c);
                if (k < 0 && c != 'u') { broken(); return; }
                if (k >= 0) { escaped(token.toString(), "\"\\/\b\f\n\r\t".charAt(k)); }
            } else {
                if (Character.digit(c, 16) < 0) { broken(); return; }
                if (token.length() == 5) escaped(token.toString(), (char) Integer.parseInt(token.substring(1), 16));
            }
        } else if (c == '\\') {
            escape = true;
            token.setLength(0);
        } else if (c == '"') {
            if (key) {
                held.append('"');
                at = At.COLON;
            } else {
                value("\"");
                after();
            }
        } else if (c < 0x20) {
            broken();
        } else {
            text(String.valueOf(c), c);
        }
    }

    /** A whole escape ({@code raw}: after the backslash), which stands for {@code c}. */
    private void escaped(String raw, char c) {
        escape = false;
        text("\\" + raw, c);
    }

    /** A character of a string, written as the layout writes it. */
    private void text(String raw, char c) {
        String s;
        if (layout == Layout.RAW) s = raw;
        else s = switch (c) {
            case '"' -> "\\\"";
            case '\\' -> "\\\\";
            case '\n' -> "\\n";
            case '\r' -> "\\r";
            case '\t' -> "\\t";
            case '\b' -> "\\b";
            case '\f' -> "\\f";
            default -> c < 0x20 || (layout == Layout.DUMPS_ASCII && c > '~') ? String.format("\\u%04x", (int) c) : String.valueOf(c);
        };
        if (key) held.append(s);
        else written.append(s);
    }

    /** A number as the layout writes it: Python's int or float repr, or as written. */
    private String number(String t) {
        if (layout == Layout.RAW) return t;
        if (t.indexOf('.') < 0 && t.indexOf('e') < 0 && t.indexOf('E') < 0) return new BigInteger(t).toString();
        return PythonJson.dumps(Double.parseDouble(t));
    }

    /** Text of a value (its start, or all of a number or literal): what was held goes first. */
    private void value(String s) {
        written.append(held);
        held.setLength(0);
        written.append(s);
    }

    private void close(char c) {
        written.append(held);
        held.setLength(0);
        written.append(c);
        open.pop();
        after();
    }

    private void after() {
        at = At.AFTER;
        if (open.isEmpty()) status = Status.DONE;
    }

    private boolean broken() {
        status = Status.BROKEN;
        return false;
    }
}
