// PythonMethods — the Python str and dict methods that Hugging Face chat templates call
// (message.content.strip(), .startswith('<tool_response>'), .split('</think>')[-1], d.get(k, v) ...)
// with Python's semantics, for Jinjava, which otherwise resolves method calls to Java's methods
// (String.split is a regex and drops trailing empty parts; String.strip takes no characters; no
// startswith/lstrip/upper/title at all).
package org.transformer4j.model.chat;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** Python's str and dict methods on Java Strings and Maps; {@link #supports} says which names. */
final class PythonMethods {

    private PythonMethods() {}

    static final Set<String> STRING_METHODS = Set.of("strip", "lstrip", "rstrip", "split", "rsplit", "splitlines",
            "startswith", "endswith", "upper", "lower", "title", "capitalize", "replace", "find", "rfind", "count",
            "isdigit", "isalpha", "isalnum", "isspace", "isupper", "islower", "join", "removeprefix", "removesuffix");
    static final Set<String> MAP_METHODS = Set.of("items", "keys", "values", "get");

    static boolean supports(Object base, String method) {
        return base instanceof CharSequence ? STRING_METHODS.contains(method) : base instanceof Map<?, ?> && MAP_METHODS.contains(method);
    }

    /** Calls {@code method} on {@code base} as Python would. Wrong argument counts or types throw IllegalArgumentException. */
    static Object call(Object base, String method, Object[] args) {
        Object[] a = args == null ? new Object[0] : args;
        if (base instanceof Map<?, ?> m) return callMap(m, method, a);
        String s = base.toString();
        return switch (method) {
            case "strip" -> rstrip(lstrip(s, chars(method, a)), chars(method, a));
            case "lstrip" -> lstrip(s, chars(method, a));
            case "rstrip" -> rstrip(s, chars(method, a));
            case "split" -> split(s, a, false);
            case "rsplit" -> split(s, a, true);
            case "splitlines" -> { arity(method, a, 0, 0); yield splitlines(s); }
            case "startswith", "endswith" -> {
                arity(method, a, 1, 1);
                boolean start = method.equals("startswith");
                Collection<?> options = a[0] instanceof Collection<?> c ? c : List.of(str(method, a[0]));
                boolean any = false;
                for (Object o : options) any |= start ? s.startsWith(str(method, o)) : s.endsWith(str(method, o));
                yield any;
            }
            case "upper" -> { arity(method, a, 0, 0); yield s.toUpperCase(Locale.ROOT); }
            case "lower" -> { arity(method, a, 0, 0); yield s.toLowerCase(Locale.ROOT); }
            case "title" -> { arity(method, a, 0, 0); yield title(s); }
            case "capitalize" -> { arity(method, a, 0, 0); yield s.isEmpty() ? s : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1).toLowerCase(Locale.ROOT); }
            case "replace" -> {
                arity(method, a, 2, 3);
                String from = str(method, a[0]), to = str(method, a[1]);
                if (a.length == 2) yield s.replace(from, to);
                long n = integer(method, a[2]);
                String out = s;
                StringBuilder b = new StringBuilder();
                int at = 0;
                for (long i = 0; n < 0 || i < n; i++) {
                    int j = from.isEmpty() ? (at <= out.length() ? at : -1) : out.indexOf(from, at);
                    if (j < 0) break;
                    b.append(out, at, j).append(to);
                    if (from.isEmpty()) { if (j < out.length()) b.append(out.charAt(j)); at = j + 1; } else at = j + from.length();
                }
                if (at <= out.length()) b.append(out.substring(Math.min(at, out.length())));
                yield b.toString();
            }
            case "find" -> { arity(method, a, 1, 1); yield (long) s.indexOf(str(method, a[0])); }
            case "rfind" -> { arity(method, a, 1, 1); yield (long) s.lastIndexOf(str(method, a[0])); }
            case "count" -> {
                arity(method, a, 1, 1);
                String sub = str(method, a[0]);
                if (sub.isEmpty()) yield (long) s.length() + 1;
                long n = 0;
                for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + sub.length())) n++;
                yield n;
            }
            case "isdigit" -> { arity(method, a, 0, 0); yield !s.isEmpty() && s.codePoints().allMatch(Character::isDigit); }
            case "isalpha" -> { arity(method, a, 0, 0); yield !s.isEmpty() && s.codePoints().allMatch(Character::isLetter); }
            case "isalnum" -> { arity(method, a, 0, 0); yield !s.isEmpty() && s.codePoints().allMatch(Character::isLetterOrDigit); }
            case "isspace" -> { arity(method, a, 0, 0); yield !s.isEmpty() && s.codePoints().allMatch(PythonMethods::isSpace); }
            case "isupper" -> { arity(method, a, 0, 0); yield s.chars().anyMatch(Character::isLetter) && s.equals(s.toUpperCase(Locale.ROOT)); }
            case "islower" -> { arity(method, a, 0, 0); yield s.chars().anyMatch(Character::isLetter) && s.equals(s.toLowerCase(Locale.ROOT)); }
            case "join" -> {
                arity(method, a, 1, 1);
                if (!(a[0] instanceof Collection<?> c)) throw new IllegalArgumentException("str.join wants a list, got " + type(a[0]));
                List<String> parts = new ArrayList<>();
                for (Object o : c) parts.add(str(method, o));
                yield String.join(s, parts);
            }
            case "removeprefix" -> { arity(method, a, 1, 1); String p = str(method, a[0]); yield s.startsWith(p) ? s.substring(p.length()) : s; }
            case "removesuffix" -> { arity(method, a, 1, 1); String p = str(method, a[0]); yield !p.isEmpty() && s.endsWith(p) ? s.substring(0, s.length() - p.length()) : s; }
            default -> throw new IllegalArgumentException("str has no method " + method);
        };
    }

    private static Object callMap(Map<?, ?> m, String method, Object[] a) {
        return switch (method) {
            case "items" -> {
                arity(method, a, 0, 0);
                List<List<Object>> out = new ArrayList<>();
                for (Map.Entry<?, ?> e : m.entrySet()) out.add(java.util.Arrays.asList(e.getKey(), e.getValue()));
                yield out;
            }
            case "keys" -> { arity(method, a, 0, 0); yield new ArrayList<>(m.keySet()); }
            case "values" -> { arity(method, a, 0, 0); yield new ArrayList<>(m.values()); }
            case "get" -> { arity(method, a, 1, 2); yield m.containsKey(a[0]) ? m.get(a[0]) : a.length == 2 ? a[1] : null; }
            default -> throw new IllegalArgumentException("dict has no method " + method);
        };
    }

    /** Python's str.isspace for one code point (str.strip() with no argument strips these). */
    static boolean isSpace(int c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == 0x85 || (c >= 0x1c && c <= 0x1f);
    }

    private static String chars(String method, Object[] a) {
        arity(method, a, 0, 1);
        return a.length == 0 || a[0] == null ? null : str(method, a[0]);
    }

    static String lstrip(String s, String chars) {
        int i = 0;
        while (i < s.length()) {
            int c = s.codePointAt(i);
            if (chars == null ? !isSpace(c) : chars.indexOf(c) < 0) break;
            i += Character.charCount(c);
        }
        return s.substring(i);
    }

    static String rstrip(String s, String chars) {
        int i = s.length();
        while (i > 0) {
            int c = s.codePointBefore(i);
            if (chars == null ? !isSpace(c) : chars.indexOf(c) < 0) break;
            i -= Character.charCount(c);
        }
        return s.substring(0, i);
    }

    /** str.split / str.rsplit: with a separator, every occurrence (empty parts kept); without, runs of whitespace (none kept). */
    private static List<String> split(String s, Object[] a, boolean fromRight) {
        String method = fromRight ? "rsplit" : "split";
        arity(method, a, 0, 2);
        String sep = a.length == 0 || a[0] == null ? null : str(method, a[0]);
        long max = a.length == 2 ? integer(method, a[1]) : -1;
        if (sep != null && sep.isEmpty()) throw new IllegalArgumentException("str." + method + ": empty separator");
        List<String> out = new ArrayList<>();
        if (sep == null) {
            String t = fromRight ? rstrip(s, null) : lstrip(s, null);
            List<int[]> words = new ArrayList<>();
            int i = 0;
            while (i < t.length()) {
                while (i < t.length() && isSpace(t.codePointAt(i))) i += Character.charCount(t.codePointAt(i));
                if (i >= t.length()) break;
                int start = i;
                while (i < t.length() && !isSpace(t.codePointAt(i))) i += Character.charCount(t.codePointAt(i));
                words.add(new int[] {start, i});
            }
            if (max < 0 || words.size() <= max) {
                for (int[] w : words) out.add(t.substring(w[0], w[1]));
            } else if (!fromRight) {
                for (int k = 0; k < max; k++) out.add(t.substring(words.get(k)[0], words.get(k)[1]));
                out.add(t.substring(words.get((int) max)[0]));
            } else {
                int first = words.size() - (int) max;
                out.add(t.substring(0, words.get(first - 1)[1]));
                for (int k = first; k < words.size(); k++) out.add(t.substring(words.get(k)[0], words.get(k)[1]));
            }
            return out;
        }
        if (!fromRight) {
            int at = 0;
            for (int j = s.indexOf(sep); j >= 0 && (max < 0 || out.size() < max); j = s.indexOf(sep, at)) {
                out.add(s.substring(at, j));
                at = j + sep.length();
            }
            out.add(s.substring(at));
            return out;
        }
        int end = s.length();
        List<String> rev = new ArrayList<>();
        while (max < 0 || rev.size() < max) {
            int j = s.lastIndexOf(sep, end - sep.length());
            if (j < 0) break;
            rev.add(s.substring(j + sep.length(), end));
            end = j;
        }
        rev.add(s.substring(0, end));
        for (int k = rev.size() - 1; k >= 0; k--) out.add(rev.get(k));
        return out;
    }

    /** str.splitlines(): Python's line boundaries, \r\n as one, no empty last line after a final break. */
    private static List<String> splitlines(String s) {
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if ("\n\r\u000b\u000c\u001c\u001d\u001e\u0085\u2028\u2029".indexOf(c) < 0) continue;
            out.add(s.substring(start, i));
            if (c == '\r' && i + 1 < s.length() && s.charAt(i + 1) == '\n') i++;
            start = i + 1;
        }
        if (start < s.length()) out.add(s.substring(start));
        return out;
    }

    private static String title(String s) {
        StringBuilder b = new StringBuilder(s.length());
        boolean prevCased = false;
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            b.appendCodePoint(prevCased ? Character.toLowerCase(c) : Character.toTitleCase(c));
            prevCased = Character.isLetter(c);
            i += Character.charCount(c);
        }
        return b.toString();
    }

    private static void arity(String method, Object[] a, int min, int max) {
        if (a.length < min || a.length > max) {
            throw new IllegalArgumentException(method + "() takes " + (min == max ? String.valueOf(min) : min + " to " + max)
                    + " arguments, got " + a.length);
        }
    }

    private static String str(String method, Object o) {
        if (o instanceof CharSequence cs) return cs.toString();
        throw new IllegalArgumentException(method + "() wants a string argument, got " + type(o));
    }

    private static long integer(String method, Object o) {
        if (o instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) return n.longValue();
        throw new IllegalArgumentException(method + "() wants an integer argument, got " + type(o));
    }

    static String type(Object o) { return o == null ? "none" : o.getClass().getSimpleName(); }
}
