// PythonLiteral — Python's ast.literal_eval for the literals a model writes as a tool call's argument value where the
// text is not JSON (GLM's <arg_value>['a', 'b']</arg_value>, True, None, 'quoted'), as vLLM's glm45 / glm47 parsers
// try it after json.loads; the value in the shapes json.dumps writes (PythonJson).
package org.transformer4j.server;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Strings (single or double quotes, Python's escapes, adjacent ones joined), ints (decimal, 0x / 0o / 0b, underscores),
 * floats, a sign before a number, True / False / None, lists, tuples (as lists) and dicts (keys of str, int, bool or
 * None, named as json.dumps names them). What literal_eval refuses is {@link #NOT}; so are the literals it takes but
 * json.dumps cannot write (sets, bytes, complex numbers) and the rarer forms (triple quotes, string prefixes, float
 * keys), which vLLM would answer otherwise (the first two: no call; the last: as literal_eval reads them).
 */
final class PythonLiteral {

    /** Not a literal read here. */
    static final Object NOT = new Object();

    private final String s;
    private int i;

    private PythonLiteral(String s) { this.s = s; }

    /** The literal {@code text} holds (surrounding spaces allowed), or {@link #NOT}. */
    static Object eval(String text) {
        PythonLiteral p = new PythonLiteral(text);
        try {
            Object v = p.value();
            p.space();
            return p.i == text.length() ? v : NOT;
        } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
            return NOT;
        }
    }

    private static IllegalArgumentException bad() { return new IllegalArgumentException("not a literal"); }

    private void space() {
        while (i < s.length() && " \t\n\r\f".indexOf(s.charAt(i)) >= 0) i++;
    }

    private boolean eat(char c) {
        space();
        if (i < s.length() && s.charAt(i) == c) { i++; return true; }
        return false;
    }

    private Object value() {
        space();
        char c = s.charAt(i);
        if (c == '-' || c == '+') {
            i++;
            space();
            Object n = number();
            if (c == '+') return n;
            return n instanceof BigInteger b ? narrow(b.negate()) : n instanceof Long l ? narrow(BigInteger.valueOf(l).negate()) : -(Double) n;
        }
        if (c == '[') { i++; return items(']'); }
        if (c == '(') {
            i++;
            if (eat(')')) return List.of();
            Object first = value();
            if (eat(')')) return first;                            // parentheses around one value
            if (!eat(',')) throw bad();
            List<Object> rest = items(')');
            List<Object> all = new ArrayList<>();
            all.add(first);
            all.addAll(rest);
            return all;
        }
        if (c == '{') { i++; return dict(); }
        if (c == '\'' || c == '"') return strings();
        if (Character.isDigit(c) || c == '.') return number();
        for (String word : List.of("True", "False", "None")) {
            if (s.startsWith(word, i) && (i + word.length() == s.length() || !Character.isLetterOrDigit(s.charAt(i + word.length()))
                    && s.charAt(i + word.length()) != '_')) {
                i += word.length();
                return word.equals("None") ? null : Boolean.valueOf(word.equals("True"));
            }
        }
        throw bad();
    }

    /** Values separated by commas (a trailing one allowed) up to {@code close}. */
    private List<Object> items(char close) {
        List<Object> out = new ArrayList<>();
        while (!eat(close)) {
            out.add(value());
            if (!eat(',')) {
                if (!eat(close)) throw bad();
                break;
            }
        }
        return out;
    }

    private Map<String, Object> dict() {
        Map<String, Object> out = new LinkedHashMap<>();
        while (!eat('}')) {
            Object key = value();
            if (!eat(':')) throw bad();                             // a set: json.dumps cannot write it
            out.put(keyName(key), value());
            if (!eat(',')) {
                if (!eat('}')) throw bad();
                break;
            }
        }
        return out;
    }

    /** json.dumps's name for a dict key. */
    private static String keyName(Object key) {
        if (key == null) return "null";
        if (key instanceof String k) return k;
        if (key instanceof Boolean b) return b ? "true" : "false";
        if (key instanceof Long || key instanceof BigInteger) return key.toString();
        throw bad();
    }

    private String strings() {
        StringBuilder b = new StringBuilder();
        do {
            string(b);
            space();
        } while (i < s.length() && (s.charAt(i) == '\'' || s.charAt(i) == '"'));
        return b.toString();
    }

    private void string(StringBuilder b) {
        char q = s.charAt(i++);
        if (s.startsWith(String.valueOf(q).repeat(2), i)) throw bad();      // triple quotes
        while (true) {
            char c = s.charAt(i++);
            if (c == q) return;
            if (c == '\n') throw bad();
            if (c != '\\') { b.append(c); continue; }
            char e = s.charAt(i++);
            switch (e) {
                case '\n' -> { }
                case '\\', '\'', '"' -> b.append(e);
                case 'n' -> b.append('\n');
                case 't' -> b.append('\t');
                case 'r' -> b.append('\r');
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'v' -> b.append('\u000b');
                case 'a' -> b.append('\u0007');
                case 'x' -> b.append((char) hex(2));
                case 'u' -> b.append((char) hex(4));
                case 'U' -> b.appendCodePoint(hex(8));
                default -> {
                    if (e >= '0' && e <= '7') {                       // up to three octal digits
                        int v = e - '0', n = 1;
                        while (n < 3 && i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '7') { v = v * 8 + s.charAt(i++) - '0'; n++; }
                        b.append((char) v);
                    } else {
                        b.append('\\').append(e);                     // an unknown escape keeps its backslash
                    }
                }
            }
        }
    }

    private int hex(int n) {
        int v = Integer.parseUnsignedInt(s.substring(i, i + n), 16);
        if (!Character.isValidCodePoint(v)) throw bad();
        i += n;
        return v;
    }

    private Object number() {
        int start = i;
        while (i < s.length() && (Character.isLetterOrDigit(s.charAt(i)) || "._".indexOf(s.charAt(i)) >= 0
                || (s.charAt(i) == '+' || s.charAt(i) == '-') && i > start && "eE".indexOf(s.charAt(i - 1)) >= 0
                && !s.substring(start, i).toLowerCase().startsWith("0x"))) i++;
        String t = s.substring(start, i);
        if (t.isEmpty() || t.startsWith("_") || t.endsWith("_") || t.contains("__") || t.contains("_.") || t.contains("._")) throw bad();
        String d = t.replace("_", "").toLowerCase();
        try {
            if (d.matches("0x[0-9a-f]+")) return narrow(new BigInteger(d.substring(2), 16));
            if (d.matches("0o[0-7]+")) return narrow(new BigInteger(d.substring(2), 8));
            if (d.matches("0b[01]+")) return narrow(new BigInteger(d.substring(2), 2));
            if (d.matches("[0-9]+")) {
                if (d.length() > 1 && d.charAt(0) == '0' && !d.matches("0+")) throw bad();   // leading zeros: SyntaxError
                return narrow(new BigInteger(d));
            }
            if (d.matches("([0-9]+\\.[0-9]*|\\.[0-9]+|[0-9]+)(e[+-]?[0-9]+)?")) return Double.parseDouble(d);
        } catch (NumberFormatException e) {
            throw bad();
        }
        throw bad();                                                  // complex (1j) and the rest
    }

    private static Object narrow(BigInteger b) { return b.bitLength() < 64 ? (Object) b.longValue() : b; }
}
