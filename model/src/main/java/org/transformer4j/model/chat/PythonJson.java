// PythonJson — Python's json.dumps(x, ensure_ascii=False, indent=..., sort_keys=...) output layout, which
// transformers' tojson filter produces and chat templates print (tool schemas, tool-call arguments).
package org.transformer4j.model.chat;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

final class PythonJson {

    private PythonJson() {}

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

    private static String pyFloat(double d) {
        if (Double.isNaN(d)) return "NaN";
        if (Double.isInfinite(d)) return d > 0 ? "Infinity" : "-Infinity";
        if (d == Math.rint(d) && Math.abs(d) < 1e16) return String.valueOf((long) d) + ".0";
        return Double.toString(d);
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
