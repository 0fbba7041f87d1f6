// PythonJson — Python's json.dumps(x, ensure_ascii=..., indent=..., sort_keys=...) output layout, which
// transformers' tojson filter produces and chat templates print (tool schemas, tool-call arguments), and which vLLM's
// tool-call parsers give as a call's arguments.
package org.transformer4j.model.chat;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/** Values are what Jackson's {@code convertValue(node, Object.class)} gives: maps, lists, strings, numbers, booleans, null. */
public final class PythonJson {

    private PythonJson() {}

    /** {@code json.dumps(x, ensure_ascii=False)}: one line, ", " and ": ". */
    public static String dumps(Object x) { return dumps(x, null, false); }

    /** {@code json.dumps(x)} (ensure_ascii=True): as {@link #dumps(Object)}, every character outside ' '..'~' as a \\u escape. */
    public static String dumpsAscii(Object x) {
        String s = dumps(x);
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c > '~') b.append(String.format("\\u%04x", (int) c));    // a surrogate pair as two escapes, as Python writes it
            else b.append(c);
        }
        return b.toString();
    }

    /** indent null: one line with ", " and ": "; indent n: newlines, n spaces per level, "," and ": ". */
    static String dumps(Object x, Integer indent, boolean sortKeys) {
        StringBuilder b = new StringBuilder();
        write(b, x, indent, sortKeys, 0);
        return b.toString();
    }

    private static void write(StringBuilder b, Object x, Integer indent, boolean sort, int depth) {
        if (x == null) b.append("null");
        else if (x instanceof Boolean v) b.append(v ? "true" : "false");
        else if (x instanceof Double || x instanceof Float) b.append(pyFloat(((Number) x).doubleValue()));
        else if (x instanceof Number n) b.append(n.toString());
        else if (x instanceof CharSequence s) string(b, s.toString());
        else if (x instanceof Map<?, ?> m) {
            List<Map.Entry<?, ?>> entries = new ArrayList<>(m.entrySet());
            if (sort) entries.sort((p, q) -> String.valueOf(p.getKey()).compareTo(String.valueOf(q.getKey())));
            if (entries.isEmpty()) { b.append("{}"); return; }
            b.append('{');
            for (int i = 0; i < entries.size(); i++) {
                if (i > 0) b.append(indent == null ? ", " : ",");
                newline(b, indent, depth + 1);
                string(b, String.valueOf(entries.get(i).getKey()));
                b.append(": ");
                write(b, entries.get(i).getValue(), indent, sort, depth + 1);
            }
            newline(b, indent, depth);
            b.append('}');
        } else if (x instanceof Collection<?> c) {
            if (c.isEmpty()) { b.append("[]"); return; }
            b.append('[');
            int i = 0;
            for (Object o : c) {
                if (i++ > 0) b.append(indent == null ? ", " : ",");
                newline(b, indent, depth + 1);
                write(b, o, indent, sort, depth + 1);
            }
            newline(b, indent, depth);
            b.append(']');
        } else if (x instanceof Object[] a) write(b, java.util.Arrays.asList(a), indent, sort, depth);
        else string(b, x.toString());
    }

    private static void newline(StringBuilder b, Integer indent, int depth) {
        if (indent == null) return;
        b.append('\n').append(" ".repeat(indent * depth));
    }

    /**
     * Python's float repr: the shortest digits that read back (Java's Double.toString finds the same ones), written out
     * when the decimal exponent is in [-4, 16), else as d.ddde+XX.
     */
    static String pyFloat(double d) {
        if (Double.isNaN(d)) return "NaN";
        if (Double.isInfinite(d)) return d > 0 ? "Infinity" : "-Infinity";
        if (d == 0) return 1 / d < 0 ? "-0.0" : "0.0";
        BigDecimal v = new BigDecimal(Double.toString(d)).stripTrailingZeros();
        String digits = v.unscaledValue().abs().toString();
        int exp = digits.length() - 1 - v.scale();
        String sign = d < 0 ? "-" : "";
        if (exp >= -4 && exp < 16) {
            String plain = v.abs().toPlainString();
            return sign + (plain.contains(".") ? plain : plain + ".0");
        }
        String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        return sign + mantissa + "e" + (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
    }

    private static void string(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                default -> {
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
                }
            }
        }
        b.append('"');
    }
}
