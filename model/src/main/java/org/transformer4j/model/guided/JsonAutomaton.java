// JsonAutomaton — a byte-level pushdown automaton for JSON (RFC 8259) and for the values a compiled JSON
// Schema allows: immutable states, advanced one UTF-8 byte at a time, that reject a byte as soon as no
// valid document can follow it (every live state can still be completed), so a token mask built from it
// never leads a model into a dead end.
package org.transformer4j.model.guided;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The grammar is a graph of {@link Node}s (built by {@link JsonSchemaCompiler} or {@link #anyJson}); a
 * {@link State} is a set of stacks of immutable frames (a set because {@code anyOf} and enum prefixes
 * are ambiguous until later bytes decide). Bytes outside strings are ASCII; inside strings the automaton
 * checks UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF), escapes, and pairs {@code \\uD8xx}
 * escapes with a following low surrogate, so byte-level BPE tokens that end mid-character are walked
 * like any other bytes. Whitespace between tokens (space, tab, LF, CR) is bounded to
 * {@link #MAX_WHITESPACE} bytes per gap; none is allowed before the value or after it.
 */
public final class JsonAutomaton {

    /**
     * Longest whitespace run between two JSON tokens. xgrammar's {@code max_whitespace_cnt} is unbounded by
     * default; a bound keeps a model from looping on spaces, and 32 still fits a pretty-printed document
     * nested 15 deep at two spaces an indent.
     */
    public static final int MAX_WHITESPACE = 32;

    private JsonAutomaton() {}

    // ---- grammar nodes ----------------------------------------------------------------------------------

    /** A value the grammar can expect. Compared by identity (graphs may be recursive). */
    public abstract static sealed class Node permits Str, Num, Lit, Arr, Obj, MapObj, Union {
        abstract Frame start();
    }

    /** A string of minLength..maxLength characters (code points; maxLength −1: unbounded). */
    public static final class Str extends Node {
        final int minLength, maxLength;
        Str(int minLength, int maxLength) { this.minLength = minLength; this.maxLength = maxLength; }
        boolean counts() { return minLength > 0 || maxLength >= 0; }
        @Override Frame start() { return new StrFrame(this, S_START, 0, 0); }
    }

    /** A number, or an integer (no fraction, no exponent). */
    public static final class Num extends Node {
        final boolean integer;
        Num(boolean integer) { this.integer = integer; }
        @Override Frame start() { return new NumFrame(integer, N_START); }
    }

    /** One of up to 64 exact byte strings (true, false, null, an enum's or a const's JSON text). */
    public static final class Lit extends Node {
        final byte[][] alternatives;
        Lit(byte[][] alternatives) {
            if (alternatives.length < 1 || alternatives.length > 64) throw new IllegalArgumentException("1..64 literals, got " + alternatives.length);
            this.alternatives = alternatives;
        }
        @Override Frame start() {
            long all = alternatives.length == 64 ? -1L : (1L << alternatives.length) - 1;
            return new LitFrame(this, all, 0);
        }
    }

    /** An array of items, minItems..maxItems of them (maxItems −1: unbounded). */
    public static final class Arr extends Node {
        Node items;                                  // set after construction so that graphs may be recursive
        final int minItems, maxItems;
        Arr(Node items, int minItems, int maxItems) { this.items = items; this.minItems = minItems; this.maxItems = maxItems; }
        @Override Frame start() { return new ArrFrame(this, A_START, 0, 0); }
    }

    /** An object with these properties in this order (required ones present, optional ones maybe), nothing else. */
    public static final class Obj extends Node {
        final byte[][] keys;                         // each key's JSON text after its opening quote, closing quote included
        final Node[] values;
        final boolean[] required;
        final int[] nextRequired;                    // [i]: the first required index ≥ i, or keys.length
        Obj(byte[][] keys, Node[] values, boolean[] required) {
            if (keys.length > 64) throw new IllegalArgumentException("at most 64 properties in one object, got " + keys.length);
            this.keys = keys; this.values = values; this.required = required;
            nextRequired = new int[keys.length + 1];
            nextRequired[keys.length] = keys.length;
            for (int i = keys.length - 1; i >= 0; i--) nextRequired[i] = required[i] ? i : nextRequired[i + 1];
        }
        @Override Frame start() { return new ObjFrame(this, O_START, 0, 0, 0, 0); }
    }

    /** An object with any keys, each value a {@code values}. */
    public static final class MapObj extends Node {
        Node values;
        MapObj(Node values) { this.values = values; }
        @Override Frame start() { return new MapFrame(this, M_START, 0); }
    }

    /** Any of several nodes. */
    public static final class Union extends Node {
        final Node[] alternatives;
        Union(Node... alternatives) { this.alternatives = alternatives; }
        @Override Frame start() { return new UnionFrame(this); }
    }

    static final Str ANY_STRING = new Str(0, -1);

    /** Any JSON value. */
    public static Node anyJson() {
        Arr arr = new Arr(null, 0, -1);
        MapObj obj = new MapObj(null);
        Union any = new Union(obj, arr, ANY_STRING, new Num(false), literals("true", "false", "null"));
        arr.items = any;
        obj.values = any;
        return any;
    }

    /** What {@code response_format: json_object} allows: an object or an array of any JSON (xgrammar's built-in JSON grammar). */
    public static Node jsonObjectMode() {
        Union any = (Union) anyJson();
        return new Union(any.alternatives[0], any.alternatives[1]);
    }

    /** One of these byte strings, verbatim (vLLM's guided choice: not JSON); more than 64 become a union of literals. */
    public static Node choice(java.util.List<byte[]> texts) {
        if (texts.isEmpty()) throw new IllegalArgumentException("no choices");
        java.util.List<Node> parts = new ArrayList<>();
        for (int i = 0; i < texts.size(); i += 64) parts.add(new Lit(texts.subList(i, Math.min(i + 64, texts.size())).toArray(byte[][]::new)));
        return parts.size() == 1 ? parts.get(0) : new Union(parts.toArray(Node[]::new));
    }

    static Lit literals(String... texts) {
        byte[][] b = new byte[texts.length][];
        for (int i = 0; i < b.length; i++) b[i] = texts[i].getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return new Lit(b);
    }

    // ---- states -----------------------------------------------------------------------------------------

    /** One stack of frames, top first; EMPTY once the whole value is done. Immutable, hash cached. */
    static final class Stk {
        static final Stk EMPTY = new Stk(null, null);
        final Frame top;
        final Stk rest;
        final int hash;
        Stk(Frame top, Stk rest) {
            this.top = top; this.rest = rest;
            hash = top == null ? 1 : top.hashCode() * 31 + rest.hash;
        }
        @Override public int hashCode() { return hash; }
        @Override public boolean equals(Object o) {
            if (this == o) return true;
            if (!(o instanceof Stk s) || s.hash != hash) return false;
            Stk a = this, b = s;
            while (a != b) {
                if (a.top == null || b.top == null || a.hash != b.hash || !a.top.equals(b.top)) return false;
                a = a.rest; b = b.rest;
            }
            return true;
        }
        boolean canFinish() {
            for (Stk s = this; s.top != null; s = s.rest) if (!s.top.canEnd()) return false;
            return true;
        }
    }

    /** Where the stacks a byte leads to are collected (duplicates dropped). */
    static final class Out {
        final List<Stk> stacks = new ArrayList<>(2);
        void add(Stk s) {
            for (Stk t : stacks) if (t == s || t.equals(s)) return;
            stacks.add(s);
        }
    }

    /** Feeds byte b to the stack s: its top frame takes it, or (where the top may end here) the frame below. */
    static void feed(Stk s, int b, Out out) {
        if (s.top == null) return;
        s.top.feed(b, s, out);
        if (s.top.canEnd()) feed(s.rest, b, out);
    }

    /** An automaton state: a set of stacks. Immutable; equal states allow the same continuations. */
    public static final class State {
        final Stk[] stacks;
        private final int hash;

        State(Stk[] stacks) {
            this.stacks = stacks;
            int h = 0;
            for (Stk s : stacks) h += s.hash;
            hash = h;
        }

        /** The state before any byte of a {@code root} value. */
        public static State start(Node root) { return new State(new Stk[] {new Stk(root.start(), Stk.EMPTY)}); }

        /** The state after byte {@code b} (0..255), or null if b cannot come next. */
        public State advance(int b) {
            if (stacks.length == 1 && b >= 0x20 && b < 0x80 && b != '"' && b != '\\'
                    && stacks[0].top instanceof StrFrame f && f.phase == S_CONTENT && !f.node.counts()) {
                return this;                                  // plain string content: the hot path of a mask walk
            }
            Out out = new Out();
            for (Stk s : stacks) feed(s, b, out);
            int n = out.stacks.size();
            if (n == 0) return null;
            if (n == 1 && stacks.length == 1 && out.stacks.get(0) == stacks[0]) return this;
            return new State(out.stacks.toArray(new Stk[n]));
        }

        /** The state after all of {@code bytes}, or null if they cannot come next. */
        public State advance(byte[] bytes) {
            State s = this;
            for (int i = 0; i < bytes.length && s != null; i++) s = s.advance(bytes[i] & 0xFF);
            return s;
        }

        /** Whether the bytes so far are a whole value (more may still follow, e.g. digits of a number). */
        public boolean isComplete() {
            for (Stk s : stacks) if (s.canFinish()) return true;
            return false;
        }

        /** Whether the value is complete and no byte may follow. */
        public boolean isClosed() {
            for (Stk s : stacks) if (s.top != null) return false;
            return true;
        }

        @Override public int hashCode() { return hash; }

        @Override public boolean equals(Object o) {
            if (this == o) return true;
            if (!(o instanceof State s) || s.hash != hash || s.stacks.length != stacks.length) return false;
            if (stacks.length == 1) return stacks[0].equals(s.stacks[0]);
            return Arrays.asList(stacks).containsAll(Arrays.asList(s.stacks)) && Arrays.asList(s.stacks).containsAll(Arrays.asList(stacks));
        }
    }

    // ---- frames: a node part-way through, immutable -------------------------------------------------------

    interface Frame {
        /** Consumes b with this frame on top of {@code self}, adding each resulting stack to out. */
        void feed(int b, Stk self, Out out);
        /** Whether this frame may end before the next byte (the next byte then goes to the frame below). */
        default boolean canEnd() { return false; }
    }

    static boolean ws(int b) { return b == ' ' || b == '\n' || b == '\t' || b == '\r'; }

    static boolean hex(int b) { return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F'); }

    static int hexValue(int b) { return b <= '9' ? b - '0' : (b | 0x20) - 'a' + 10; }

    static boolean digit(int b) { return b >= '0' && b <= '9'; }

    /** Pushes {@code value}'s start with {@code after} below it, and feeds b to it. */
    static void push(Node value, Frame after, Stk rest, int b, Out out) {
        feed(new Stk(value.start(), new Stk(after, rest)), b, out);
    }

    // strings
    static final int S_START = 0, S_CONTENT = 1, S_ESCAPE = 2, S_HEX = 3, S_UTF8 = 4, S_LOW_BACKSLASH = 5, S_LOW_U = 6, S_LOW_HEX = 7;

    /**
     * aux: in S_HEX and S_LOW_HEX the hex digits seen (low 3 bits) and their value (above); in S_UTF8 the
     * continuation bytes left (low 2 bits) and the next byte's range lo..hi (bits 8..15, 16..23).
     */
    record StrFrame(Str node, int phase, int count, int aux) implements Frame {
        @Override public void feed(int b, Stk self, Out out) {
            switch (phase) {
                case S_START -> { if (b == '"') out.add(new Stk(new StrFrame(node, S_CONTENT, 0, 0), self.rest)); }
                case S_CONTENT -> content(b, self, out);
                case S_ESCAPE -> {
                    if (b == 'u') out.add(next(S_HEX, count, 0, self));
                    else if (b == '"' || b == '\\' || b == '/' || b == 'b' || b == 'f' || b == 'n' || b == 'r' || b == 't') {
                        out.add(next(S_CONTENT, count + 1, 0, self));
                    }
                }
                case S_HEX, S_LOW_HEX -> {
                    if (!hex(b)) return;
                    int seen = aux & 7, v = (aux >>> 3) * 16 + hexValue(b);
                    if (phase == S_HEX) {
                        if (seen == 1 && v >= 0xDC && v <= 0xDF) return;                 // a lone low surrogate
                        if (seen == 3) {
                            out.add(v >= 0xD800 && v <= 0xDBFF ? next(S_LOW_BACKSLASH, count, 0, self) : next(S_CONTENT, count + 1, 0, self));
                            return;
                        }
                    } else {
                        if (seen == 0 && v != 0xD || seen == 1 && !(v >= 0xDC && v <= 0xDF)) return;   // not a low surrogate
                        if (seen == 3) { out.add(next(S_CONTENT, count + 1, 0, self)); return; }
                    }
                    out.add(next(phase, count, (v << 3) | (seen + 1), self));
                }
                case S_LOW_BACKSLASH -> { if (b == '\\') out.add(next(S_LOW_U, count, 0, self)); }
                case S_LOW_U -> { if (b == 'u') out.add(next(S_LOW_HEX, count, 0, self)); }
                case S_UTF8 -> {
                    int left = aux & 3, lo = (aux >>> 8) & 0xFF, hi = (aux >>> 16) & 0xFF;
                    if (b < lo || b > hi) return;
                    out.add(left == 1 ? next(S_CONTENT, count, 0, self) : next(S_UTF8, count, (left - 1) | (0x80 << 8) | (0xBF << 16), self));
                }
                default -> throw new IllegalStateException("string phase " + phase);
            }
        }

        private void content(int b, Stk self, Out out) {
            if (b == '"') {
                if (count >= node.minLength) out.add(self.rest);
                return;
            }
            if (b == '\\') {
                if (room()) out.add(next(S_ESCAPE, count, 0, self));
                return;
            }
            if (b < 0x20 || !room()) return;                                  // control characters must be escaped
            if (b < 0x80) {
                if (!node.counts()) out.add(self);                            // the same state: no allocation
                else out.add(next(S_CONTENT, count + 1, 0, self));
                return;
            }
            int left, lo = 0x80, hi = 0xBF;
            if (b >= 0xC2 && b <= 0xDF) left = 1;
            else if (b == 0xE0) { left = 2; lo = 0xA0; }
            else if (b == 0xED) { left = 2; hi = 0x9F; }                      // no UTF-16 surrogates
            else if (b >= 0xE1 && b <= 0xEF) left = 2;
            else if (b == 0xF0) { left = 3; lo = 0x90; }
            else if (b >= 0xF1 && b <= 0xF3) left = 3;
            else if (b == 0xF4) { left = 3; hi = 0x8F; }                      // nothing above U+10FFFF
            else return;
            out.add(next(S_UTF8, node.counts() ? count + 1 : 0, left | (lo << 8) | (hi << 16), self));
        }

        /** Whether one more character fits. */
        private boolean room() { return node.maxLength < 0 || count < node.maxLength; }

        private Stk next(int p, int c, int a, Stk self) {
            return new Stk(new StrFrame(node, p, node.counts() ? c : 0, a), self.rest);
        }
    }

    // numbers
    static final int N_START = 0, N_MINUS = 1, N_ZERO = 2, N_INT = 3, N_DOT = 4, N_FRAC = 5, N_E = 6, N_ESIGN = 7, N_EXP = 8;

    record NumFrame(boolean integer, int phase) implements Frame {
        @Override public void feed(int b, Stk self, Out out) {
            int p = switch (phase) {
                case N_START -> b == '-' ? N_MINUS : b == '0' ? N_ZERO : digit(b) ? N_INT : -1;
                case N_MINUS -> b == '0' ? N_ZERO : digit(b) ? N_INT : -1;
                case N_ZERO -> fractionOrExponent(b);
                case N_INT -> digit(b) ? N_INT : fractionOrExponent(b);
                case N_DOT, N_FRAC -> digit(b) ? N_FRAC : phase == N_FRAC && (b == 'e' || b == 'E') ? N_E : -1;
                case N_E -> b == '+' || b == '-' ? N_ESIGN : digit(b) ? N_EXP : -1;
                case N_ESIGN, N_EXP -> digit(b) ? N_EXP : -1;
                default -> -1;
            };
            if (p == phase) out.add(self);
            else if (p >= 0) out.add(new Stk(new NumFrame(integer, p), self.rest));
        }

        private int fractionOrExponent(int b) {
            if (integer) return -1;
            return b == '.' ? N_DOT : b == 'e' || b == 'E' ? N_E : -1;
        }

        @Override public boolean canEnd() { return phase == N_ZERO || phase == N_INT || phase == N_FRAC || phase == N_EXP; }
    }

    record LitFrame(Lit node, long candidates, int pos) implements Frame {
        @Override public void feed(int b, Stk self, Out out) {
            long keep = 0;
            for (long c = candidates; c != 0; c &= c - 1) {
                int i = Long.numberOfTrailingZeros(c);
                byte[] a = node.alternatives[i];
                if (pos < a.length && (a[pos] & 0xFF) == b) keep |= 1L << i;
            }
            if (keep != 0) out.add(new Stk(new LitFrame(node, keep, pos + 1), self.rest));
        }

        @Override public boolean canEnd() {
            for (long c = candidates; c != 0; c &= c - 1) if (node.alternatives[Long.numberOfTrailingZeros(c)].length == pos) return true;
            return false;
        }
    }

    record UnionFrame(Union node) implements Frame {
        @Override public void feed(int b, Stk self, Out out) {
            for (Node alt : node.alternatives) JsonAutomaton.feed(new Stk(alt.start(), self.rest), b, out);
        }
    }

    // arrays
    static final int A_START = 0, A_OPEN = 1, A_VALUE = 2, A_COMMA = 3;

    record ArrFrame(Arr node, int phase, int count, int spaces) implements Frame {
        @Override public void feed(int b, Stk self, Out out) {
            if (phase == A_START) {
                if (b == '[') out.add(new Stk(new ArrFrame(node, A_OPEN, 0, 0), self.rest));
                return;
            }
            if (ws(b)) {
                if (spaces < MAX_WHITESPACE) out.add(new Stk(new ArrFrame(node, phase, count, spaces + 1), self.rest));
                return;
            }
            boolean closes = b == ']' && phase != A_COMMA && count >= node.minItems;
            boolean more = node.maxItems < 0 || count < node.maxItems;
            if (closes) out.add(self.rest);
            else if (phase == A_VALUE) { if (b == ',' && more) out.add(new Stk(new ArrFrame(node, A_COMMA, count, 0), self.rest)); }
            else if (more && b != ']') push(node.items, new ArrFrame(node, A_VALUE, count + 1, 0), self.rest, b, out);
        }
    }

    // objects with fixed properties
    static final int O_START = 0, O_OPEN = 1, O_KEY = 2, O_COLON = 3, O_BEFORE_VALUE = 4, O_VALUE = 5, O_COMMA = 6;

    /** next: the first property that may still come; in O_KEY keys/pos: the candidates and bytes matched; from O_COLON keys: the property. */
    record ObjFrame(Obj node, int phase, int next, int spaces, long keys, int pos) implements Frame {
        @Override public void feed(int b, Stk self, Out out) {
            Stk rest = self.rest;
            switch (phase) {
                case O_START -> { if (b == '{') out.add(new Stk(new ObjFrame(node, O_OPEN, 0, 0, 0, 0), rest)); }
                case O_KEY -> {
                    long keep = 0;
                    int done = -1;
                    for (long c = keys; c != 0; c &= c - 1) {
                        int i = Long.numberOfTrailingZeros(c);
                        byte[] k = node.keys[i];
                        if ((k[pos] & 0xFF) != b) continue;
                        if (pos + 1 == k.length) done = i;
                        else keep |= 1L << i;
                    }
                    if (done >= 0) out.add(new Stk(new ObjFrame(node, O_COLON, done + 1, 0, done, 0), rest));   // the closing quote ends one key
                    else if (keep != 0) out.add(new Stk(new ObjFrame(node, O_KEY, next, 0, keep, pos + 1), rest));
                }
                default -> {
                    if (ws(b)) {
                        if (spaces < MAX_WHITESPACE) out.add(new Stk(new ObjFrame(node, phase, next, spaces + 1, keys, pos), rest));
                        return;
                    }
                    boolean mayClose = node.nextRequired[next] == node.keys.length;
                    switch (phase) {
                        case O_OPEN, O_COMMA -> {
                            if (b == '}' && phase == O_OPEN && mayClose) out.add(rest);
                            else if (b == '"' && next < node.keys.length) {
                                int last = Math.min(node.nextRequired[next], node.keys.length - 1);   // optional ones may be skipped
                                long cand = (last == 63 ? -1L : (1L << (last + 1)) - 1) & ~((1L << next) - 1);
                                out.add(new Stk(new ObjFrame(node, O_KEY, next, 0, cand, 0), rest));
                            }
                        }
                        case O_COLON -> { if (b == ':') out.add(new Stk(new ObjFrame(node, O_BEFORE_VALUE, next, 0, keys, 0), rest)); }
                        case O_BEFORE_VALUE -> push(node.values[(int) keys], new ObjFrame(node, O_VALUE, next, 0, 0, 0), rest, b, out);
                        case O_VALUE -> {
                            if (b == '}' && mayClose) out.add(rest);
                            else if (b == ',' && next < node.keys.length) out.add(new Stk(new ObjFrame(node, O_COMMA, next, 0, 0, 0), rest));
                        }
                        default -> throw new IllegalStateException("object phase " + phase);
                    }
                }
            }
        }
    }

    // objects with any keys
    static final int M_START = 0, M_OPEN = 1, M_COLON = 2, M_BEFORE_VALUE = 3, M_VALUE = 4, M_COMMA = 5;

    record MapFrame(MapObj node, int phase, int spaces) implements Frame {
        @Override public void feed(int b, Stk self, Out out) {
            Stk rest = self.rest;
            if (phase == M_START) {
                if (b == '{') out.add(new Stk(new MapFrame(node, M_OPEN, 0), rest));
                return;
            }
            if (ws(b)) {
                if (spaces < MAX_WHITESPACE) out.add(new Stk(new MapFrame(node, phase, spaces + 1), rest));
                return;
            }
            switch (phase) {
                case M_OPEN, M_COMMA -> {
                    if (b == '}' && phase == M_OPEN) out.add(rest);
                    else if (b == '"') push(ANY_STRING, new MapFrame(node, M_COLON, 0), rest, b, out);
                }
                case M_COLON -> { if (b == ':') out.add(new Stk(new MapFrame(node, M_BEFORE_VALUE, 0), rest)); }
                case M_BEFORE_VALUE -> push(node.values, new MapFrame(node, M_VALUE, 0), rest, b, out);
                case M_VALUE -> {
                    if (b == '}') out.add(rest);
                    else if (b == ',') out.add(new Stk(new MapFrame(node, M_COMMA, 0), rest));
                }
                default -> throw new IllegalStateException("map phase " + phase);
            }
        }
    }
}
