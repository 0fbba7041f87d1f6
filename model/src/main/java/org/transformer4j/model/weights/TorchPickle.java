// TorchPickle — a restricted reader of the pickles torch.save writes for a state dict: the opcodes of pickle protocols
// 2 to 5 that such a pickle uses, and an allow-list of the globals a state dict names (OrderedDict, the tensor rebuild
// functions, the storage types). Nothing in a checkpoint is ever run: any other global is refused by name, as
// torch.load(weights_only=True) refuses it.
package org.transformer4j.model.weights;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads one pickle from a byte range into Java values: None → null, bool → Boolean, int → Long (BigInteger past 64
 * bits), float → Double, str → String, bytes → byte[], list → ArrayList, tuple → {@link Tuple}, dict / OrderedDict →
 * LinkedHashMap, a tensor → {@link TensorRef} whose storage the caller's {@code persistent} function resolves from the
 * persistent id torch.save writes ({@code ('storage', storage type, key, location, numel[, view])}).
 */
final class TorchPickle {

    /** A pickled tuple. */
    record Tuple(List<Object> items) {
        Object get(int i) { return items.get(i); }
        int size() { return items.size(); }
    }

    /** A class or function the pickle names (module, qualified name), only ever one of {@link #ALLOWED}. */
    record Global(String module, String name) {
        @Override public String toString() { return module + "." + name; }
    }

    /** A storage: its key in the file, element type, elements, and (legacy views) the element offset into its root. */
    record Storage(String key, SafetensorsDType dtype, long numel, String location, String viewOf, long viewOffset) {}

    /** A tensor: a strided view of a storage (elements), as torch._utils._rebuild_tensor_v2 makes it. */
    record TensorRef(Storage storage, long offset, long[] shape, long[] stride) {}

    /** Resolves torch.save's persistent id (a tuple) to a {@link Storage}. */
    interface Persistent {
        Storage load(Tuple pid) throws CheckpointException;
    }

    /** The storage classes torch.save names (TypedStorage._pickle_storage_type), and their element types. */
    static final Map<String, SafetensorsDType> STORAGES = Map.ofEntries(
            Map.entry("FloatStorage", SafetensorsDType.F32), Map.entry("DoubleStorage", SafetensorsDType.F64),
            Map.entry("HalfStorage", SafetensorsDType.F16), Map.entry("BFloat16Storage", SafetensorsDType.BF16),
            Map.entry("LongStorage", SafetensorsDType.I64), Map.entry("IntStorage", SafetensorsDType.I32),
            Map.entry("ShortStorage", SafetensorsDType.I16), Map.entry("CharStorage", SafetensorsDType.I8),
            Map.entry("ByteStorage", SafetensorsDType.U8), Map.entry("BoolStorage", SafetensorsDType.BOOL),
            Map.entry("UntypedStorage", SafetensorsDType.U8), Map.entry("Float8_e4m3fnStorage", SafetensorsDType.F8_E4M3),
            Map.entry("Float8_e5m2Storage", SafetensorsDType.F8_E5M2));

    /** Every global a state dict's pickle may name; anything else is refused before it is used. */
    static final Set<String> ALLOWED = allowed();

    private static Set<String> allowed() {
        java.util.HashSet<String> s = new java.util.HashSet<>(List.of("collections.OrderedDict", "torch._utils._rebuild_tensor_v2",
                "torch._utils._rebuild_tensor", "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
                "torch._tensor._rebuild_from_type_v2", "torch.Tensor", "torch.nn.parameter.Parameter", "torch.Size"));
        for (String storage : STORAGES.keySet()) s.add("torch." + storage);
        return Set.copyOf(s);
    }

    private static final Object MARK = new Object();

    private final MemorySegment data;
    private final Path file;
    private final String where;
    private final Persistent persistent;
    private long pos;

    private TorchPickle(MemorySegment data, long from, Path file, String where, Persistent persistent) {
        this.data = data;
        this.pos = from;
        this.file = file;
        this.where = where;
        this.persistent = persistent;
    }

    /** The value of the pickle that starts at {@code from} in {@code data}, and where it ended ({@code end[0]}). */
    static Object read(MemorySegment data, long from, long[] end, Path file, String where, Persistent persistent) throws CheckpointException {
        TorchPickle p = new TorchPickle(data, from, file, where, persistent);
        Object v;
        try {
            v = p.run();
        } catch (RuntimeException e) {                   // a malformed argument (a number that is not one, an overflow)
            throw p.bad("malformed pickle: " + e);
        }
        if (end != null) end[0] = p.pos;
        return v;
    }

    private CheckpointException bad(String problem) {
        return new CheckpointException(file, where + ": " + problem + " (at byte " + pos + ")");
    }

    private int u8() throws CheckpointException {
        if (pos >= data.byteSize()) throw bad("the pickle ends before its STOP opcode");
        return data.get(ValueLayout.JAVA_BYTE, pos++) & 0xff;
    }

    private long le(int n) throws CheckpointException {
        if (pos + n > data.byteSize()) throw bad("the pickle ends inside an argument");
        long v = 0;
        for (int i = 0; i < n; i++) v |= (long) (data.get(ValueLayout.JAVA_BYTE, pos + i) & 0xff) << (8 * i);
        pos += n;
        return v;
    }

    private byte[] bytes(long n) throws CheckpointException {
        if (n < 0 || n > data.byteSize() - pos) throw bad("a length of " + n + " runs past the pickle");
        byte[] b = new byte[(int) n];
        MemorySegment.copy(data, ValueLayout.JAVA_BYTE, pos, b, 0, (int) n);
        pos += n;
        return b;
    }

    private String line() throws CheckpointException {
        StringBuilder sb = new StringBuilder();
        for (int c = u8(); c != '\n'; c = u8()) {
            if (sb.length() > 4096) throw bad("a text argument longer than 4096 characters");
            sb.append((char) c);
        }
        return sb.toString();
    }

    private Object run() throws CheckpointException {
        List<Object> stack = new ArrayList<>();
        Map<Long, Object> memo = new HashMap<>();
        while (true) {                                                  // every opcode reads at least one byte: this ends
            int op = u8();
            switch (op) {
                case 0x80 -> { int proto = u8(); if (proto > 5) throw bad("pickle protocol " + proto + " (at most 5 is read)"); }
                case 0x95 -> le(8);                                                       // FRAME: a length hint
                case '.' -> {
                    if (stack.size() != 1) throw bad("STOP with " + stack.size() + " values on the stack");
                    return stack.get(0);
                }
                case '(' -> stack.add(MARK);
                case '0' -> pop(stack);
                case '1' -> popMark(stack);
                case '2' -> stack.add(peek(stack));
                case 'N' -> stack.add(null);
                case 0x88 -> stack.add(Boolean.TRUE);
                case 0x89 -> stack.add(Boolean.FALSE);
                case 'J' -> stack.add((long) (int) le(4));
                case 'K' -> stack.add(le(1));
                case 'M' -> stack.add(le(2));
                case 'I' -> {                                                             // protocol 0 int; "01" / "00" are bools
                    String s = line();
                    stack.add(s.equals("01") ? Boolean.TRUE : s.equals("00") ? Boolean.FALSE : parseLong(s));
                }
                case 'L' -> { String s = line(); stack.add(bigOrLong(new BigInteger(s.endsWith("L") ? s.substring(0, s.length() - 1) : s))); }
                case 0x8a -> stack.add(longN((int) le(1)));
                case 0x8b -> {
                    long n = le(4);
                    if (n > 1 << 20) throw bad("a LONG4 of " + n + " bytes");
                    stack.add(longN((int) n));
                }
                case 'G' -> {
                    long bits = 0;
                    for (int i = 0; i < 8; i++) bits = bits << 8 | u8();                  // big-endian
                    stack.add(Double.longBitsToDouble(bits));
                }
                case 'X' -> stack.add(new String(bytes(le(4)), StandardCharsets.UTF_8));
                case 0x8c -> stack.add(new String(bytes(le(1)), StandardCharsets.UTF_8));
                case 0x8d -> stack.add(new String(bytes(le(8)), StandardCharsets.UTF_8));
                case 'T' -> stack.add(new String(bytes(le(4)), StandardCharsets.ISO_8859_1));   // Python 2 str (legacy files)
                case 'U' -> stack.add(new String(bytes(le(1)), StandardCharsets.ISO_8859_1));
                case 'B' -> stack.add(bytes(le(4)));
                case 'C' -> stack.add(bytes(le(1)));
                case 0x8e -> stack.add(bytes(le(8)));
                case ')' -> stack.add(new Tuple(List.of()));
                case 't' -> stack.add(new Tuple(popMark(stack)));
                case 0x85 -> stack.add(new Tuple(popN(stack, 1)));
                case 0x86 -> stack.add(new Tuple(popN(stack, 2)));
                case 0x87 -> stack.add(new Tuple(popN(stack, 3)));
                case ']' -> stack.add(new ArrayList<>());
                case 'l' -> stack.add(new ArrayList<>(popMark(stack)));
                case 'a' -> { Object v = pop(stack); list(peek(stack)).add(v); }
                case 'e' -> { List<Object> vs = popMark(stack); list(peek(stack)).addAll(vs); }
                case '}' -> stack.add(new LinkedHashMap<>());
                case 'd' -> {
                    List<Object> kv = popMark(stack);
                    Map<Object, Object> m = new LinkedHashMap<>();
                    putAll(m, kv);
                    stack.add(m);
                }
                case 's' -> { Object v = pop(stack), k = pop(stack); map(peek(stack)).put(key(k), v); }
                case 'u' -> { List<Object> kv = popMark(stack); putAll(map(peek(stack)), kv); }
                case 'c' -> { String module = line(), name = line(); stack.add(global(module, name)); }
                case 0x93 -> {
                    Object name = pop(stack), module = pop(stack);
                    if (!(module instanceof String m) || !(name instanceof String n)) throw bad("STACK_GLOBAL of non-strings");
                    stack.add(global(m, n));
                }
                case 'R' -> { Object args = pop(stack), f = pop(stack); stack.add(reduce(f, args)); }
                case 0x81 -> { Object args = pop(stack), cls = pop(stack); stack.add(reduce(cls, args)); }   // NEWOBJ
                case 'b' -> pop(stack);                                                   // BUILD: instance state (a state
                                                                                          // dict's _metadata, a tensor's hooks) is not kept
                case 'Q' -> {
                    Object pid = pop(stack);
                    if (!(pid instanceof Tuple t)) throw bad("a persistent id that is not a tuple");
                    stack.add(persistent.load(t));
                }
                case 'P' -> throw bad("a text persistent id (torch.save writes tuples)");
                case 'q' -> memo.put(le(1), peek(stack));
                case 'r' -> memo.put(le(4), peek(stack));
                case 'p' -> memo.put(parseLong(line()), peek(stack));
                case 0x94 -> memo.put((long) memo.size(), peek(stack));
                case 'h' -> stack.add(memoGet(memo, le(1)));
                case 'j' -> stack.add(memoGet(memo, le(4)));
                case 'g' -> stack.add(memoGet(memo, parseLong(line())));
                default -> throw bad(String.format("pickle opcode 0x%02x is not one a state dict uses", op));
            }
        }
    }

    private long parseLong(String s) throws CheckpointException {
        try {
            return Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            throw bad("'" + s + "' is not an integer");
        }
    }

    private Object longN(int n) throws CheckpointException {
        byte[] le = bytes(n);
        if (n == 0) return 0L;
        byte[] be = new byte[n];
        for (int i = 0; i < n; i++) be[i] = le[n - 1 - i];
        return bigOrLong(new BigInteger(be));
    }

    private static Object bigOrLong(BigInteger b) { return b.bitLength() < 64 ? (Object) b.longValue() : b; }

    private Object memoGet(Map<Long, Object> memo, long k) throws CheckpointException {
        if (!memo.containsKey(k)) throw bad("memo entry " + k + " was never stored");
        return memo.get(k);
    }

    private Object pop(List<Object> stack) throws CheckpointException {
        if (stack.isEmpty() || stack.get(stack.size() - 1) == MARK) throw bad("a value popped from an empty stack");
        return stack.remove(stack.size() - 1);
    }

    private Object peek(List<Object> stack) throws CheckpointException {
        if (stack.isEmpty() || stack.get(stack.size() - 1) == MARK) throw bad("a value read from an empty stack");
        return stack.get(stack.size() - 1);
    }

    private List<Object> popMark(List<Object> stack) throws CheckpointException {
        int m = stack.lastIndexOf(MARK);
        if (m < 0) throw bad("no MARK on the stack");
        List<Object> out = new ArrayList<>(stack.subList(m + 1, stack.size()));
        stack.subList(m, stack.size()).clear();
        return out;
    }

    private List<Object> popN(List<Object> stack, int n) throws CheckpointException {
        Object[] out = new Object[n];
        for (int i = n - 1; i >= 0; i--) out[i] = pop(stack);
        return Arrays.asList(out);
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object o) throws CheckpointException {
        if (o instanceof List<?> l) return (List<Object>) l;
        throw bad("APPEND to a " + kind(o));
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> map(Object o) throws CheckpointException {
        if (o instanceof Map<?, ?> m) return (Map<Object, Object>) m;
        throw bad("SETITEM on a " + kind(o));
    }

    private void putAll(Map<Object, Object> m, List<Object> kv) throws CheckpointException {
        if (kv.size() % 2 != 0) throw bad("an odd number of dict items");
        for (int i = 0; i < kv.size(); i += 2) m.put(key(kv.get(i)), kv.get(i + 1));
    }

    /** Dict keys are compared by value: strings, numbers, and tuples of them (as lists). */
    private Object key(Object k) throws CheckpointException {
        if (k == null || k instanceof String || k instanceof Long || k instanceof BigInteger || k instanceof Boolean || k instanceof Double) return k;
        if (k instanceof Tuple t) return t.items();
        throw bad("a dict key that is a " + kind(k));
    }

    private Global global(String module, String name) throws CheckpointException {
        Global g = new Global(module, name);
        if (!ALLOWED.contains(g.toString())) {
            throw bad("it names the global '" + g + "', which a state dict of tensors does not need; this reader never runs code from"
                    + " a checkpoint and refuses it (convert the file with a trusted PyTorch: torch.load(..., weights_only=True), then"
                    + " safetensors.torch.save_file)");
        }
        return g;
    }

    private Object reduce(Object f, Object args) throws CheckpointException {
        if (!(f instanceof Global g)) throw bad("REDUCE of a " + kind(f) + ", not a function");
        if (!(args instanceof Tuple a)) throw bad("REDUCE with arguments that are not a tuple");
        switch (g.toString()) {
            case "collections.OrderedDict" -> {
                Map<Object, Object> m = new LinkedHashMap<>();
                if (a.size() == 1 && a.get(0) instanceof List<?> pairs) {
                    for (Object p : pairs) {
                        List<?> kv = p instanceof Tuple t ? t.items() : p instanceof List<?> l ? l : null;
                        if (kv == null || kv.size() != 2) throw bad("OrderedDict built from something other than pairs");
                        m.put(key(kv.get(0)), kv.get(1));
                    }
                } else if (a.size() != 0) {
                    throw bad("OrderedDict with " + a.size() + " arguments");
                }
                return m;
            }
            case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor" -> {
                if (a.size() < 4) throw bad(g.name() + " with " + a.size() + " arguments");
                if (!(a.get(0) instanceof Storage s)) throw bad(g.name() + "'s first argument is a " + kind(a.get(0)) + ", not a storage");
                long offset = integer(a.get(1), "storage offset");
                long[] shape = longs(a.get(2), "size"), stride = longs(a.get(3), "stride");
                if (shape.length != stride.length) throw bad("a tensor of " + shape.length + " dimensions with " + stride.length + " strides");
                return new TensorRef(s, offset, shape, stride);
            }
            case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state" -> {
                if (a.size() < 1 || !(a.get(0) instanceof TensorRef t)) throw bad(g.name() + " of something other than a tensor");
                return t;
            }
            case "torch._tensor._rebuild_from_type_v2" -> {         // (func, type, args, state): a Parameter or Tensor subclass
                if (a.size() != 4 || !(a.get(2) instanceof Tuple inner)) throw bad("_rebuild_from_type_v2 with unexpected arguments");
                Object t = reduce(a.get(0), inner);
                if (!(t instanceof TensorRef)) throw bad("_rebuild_from_type_v2 made a " + kind(t) + ", not a tensor");
                return t;
            }
            case "torch.Size" -> {
                if (a.size() != 1 || !(a.get(0) instanceof Tuple dims)) throw bad("torch.Size of something other than a tuple");
                return dims;
            }
            default -> throw bad("'" + g + "' is not something a state dict calls");
        }
    }

    private long integer(Object o, String what) throws CheckpointException {
        if (o instanceof Long l) return l;
        throw bad("a tensor's " + what + " is a " + kind(o) + ", not an integer");
    }

    private long[] longs(Object o, String what) throws CheckpointException {
        if (!(o instanceof Tuple t)) throw bad("a tensor's " + what + " is a " + kind(o) + ", not a tuple");
        long[] out = new long[t.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = integer(t.get(i), what);
            if (out[i] < 0) throw bad("a tensor's " + what + " holds " + out[i]);
        }
        return out;
    }

    static String kind(Object o) {
        if (o == null) return "None";
        if (o instanceof Global g) return "global " + g;
        if (o instanceof Tuple) return "tuple";
        if (o instanceof List<?>) return "list";
        if (o instanceof Map<?, ?>) return "dict";
        if (o instanceof TensorRef) return "tensor";
        if (o instanceof Storage) return "storage";
        if (o instanceof byte[]) return "bytes";
        return o.getClass().getSimpleName();
    }
}
