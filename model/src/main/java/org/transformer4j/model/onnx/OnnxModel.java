// OnnxModel — the parts of an ONNX ModelProto an importer needs (graph nodes, initializers, graph
// inputs and outputs, opsets), read with protobuf-java's generic wire-format reader
// (CodedInputStream) instead of classes generated from onnx.proto: field numbers below are those
// of onnx/onnx.proto (IR version ≥ 3), and everything else is skipped.
package org.transformer4j.model.onnx;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A parsed ONNX model: enough of the graph to map weights to names, and every initializer.
 *
 * <p>Why the generic reader: the importer needs about twenty field numbers, and reading them
 * directly avoids a protoc step in the build and a copy of onnx.proto to keep in step with ONNX.
 * Fields are matched by number and wire type; unknown ones are skipped, so newer ONNX files parse.
 * raw_data stays a view of the memory-mapped file (CodedInputStream aliasing), not a copy.
 *
 * <pre>
 * ModelProto   1 ir_version  2 producer_name  7 graph  8 opset_import (OperatorSetIdProto: 1 domain, 2 version)
 * GraphProto   1 node  2 name  5 initializer  11 input  12 output  (ValueInfoProto: 1 name)  15 sparse_initializer
 * NodeProto    1 input  2 output  3 name  4 op_type  7 domain  5 attribute (AttributeProto: 1 name 2 f 3 i 5 t 7 floats 8 ints)
 * TensorProto  1 dims  2 data_type  4 float_data  5 int32_data  7 int64_data  8 name  9 raw_data  14 data_location
 * </pre>
 */
public record OnnxModel(String source, long irVersion, String producer, Map<String, Long> opsets, List<Node> nodes,
                        Map<String, Initializer> initializers, List<String> inputs, List<String> outputs) {

    /** ONNX TensorProto.DataType values this importer names. */
    public static final int FLOAT = 1, UINT8 = 2, INT8 = 3, INT32 = 6, INT64 = 7, FLOAT16 = 10, DOUBLE = 11, BFLOAT16 = 16;

    /**
     * A graph node with its INT/INTS attributes ({@code ints}), FLOAT/FLOATS attributes ({@code floats})
     * and TENSOR attributes ({@code tensors}, e.g. a Constant's value), by attribute name.
     */
    public record Node(String name, String opType, String domain, List<String> inputs, List<String> outputs,
                       Map<String, long[]> ints, Map<String, float[]> floats, Map<String, Initializer> tensors) {}

    /**
     * A constant tensor of the graph. {@code data} holds the little-endian bytes (from raw_data, or
     * packed from float_data / int32_data / int64_data), read-only.
     */
    public record Initializer(String name, long[] dims, int dataType, ByteBuffer data, boolean external) {
        public long numel() {
            long n = 1;
            for (long d : dims) n = Math.multiplyExact(n, d);
            return n;
        }

        @Override
        public String toString() { return name + " type " + dataType + " " + Arrays.toString(dims); }

        /** The values of a FLOAT initializer. */
        public float[] floats() {
            float[] out = new float[Math.toIntExact(numel())];
            data.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
            return out;
        }
    }

    /** Parses {@code file} (memory-mapped; the mapping lives as long as the returned initializers). */
    public static OnnxModel read(Path file) throws IOException {
        ByteBuffer buf;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            if (ch.size() > Integer.MAX_VALUE) {
                throw new OnnxFormatException(file.toString(), "file is over 2 GB; models that large keep their weights as "
                        + "external data, which this importer does not read");
            }
            buf = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size());
        } catch (OnnxFormatException e) {
            throw e;
        } catch (IOException e) {
            throw new OnnxFormatException(file.toString(), "cannot read: " + e, e);
        }
        return parse(file.toString(), buf);
    }

    /** Parses a serialized ModelProto; {@code source} names it in errors. */
    public static OnnxModel parse(String source, ByteBuffer bytes) throws OnnxFormatException {
        Builder b = new Builder(source);
        try {
            CodedInputStream in = CodedInputStream.newInstance(bytes.duplicate());
            in.enableAliasing(true);      // raw_data stays a view of the input, not a copy
            in.setSizeLimit(Integer.MAX_VALUE);
            b.model(in);
        } catch (IOException | RuntimeException e) {
            throw new OnnxFormatException(source, "not a valid ONNX protobuf: " + e.getMessage(), e);
        }
        if (b.graphSeen == 0) throw new OnnxFormatException(source, "no graph in the model (is this an ONNX file?)");
        return new OnnxModel(source, b.irVersion, b.producer, Collections.unmodifiableMap(b.opsets), List.copyOf(b.nodes),
                Collections.unmodifiableMap(b.inits), List.copyOf(b.inputs), List.copyOf(b.outputs));
    }

    /** Reads messages field by field; length-delimited submessages are parsed under pushLimit. */
    private static final class Builder {
        final String source;
        long irVersion;
        String producer = "";
        int graphSeen;
        final Map<String, Long> opsets = new LinkedHashMap<>();
        final List<Node> nodes = new ArrayList<>();
        final Map<String, Initializer> inits = new LinkedHashMap<>();
        final List<String> inputs = new ArrayList<>();
        final List<String> outputs = new ArrayList<>();

        Builder(String source) { this.source = source; }

        interface Body { void read(CodedInputStream in) throws IOException; }

        /** A length-delimited submessage: its fields are read until the limit (readTag returns 0 there). */
        static void sub(CodedInputStream in, Body body) throws IOException {
            int len = in.readRawVarint32();
            if (len < 0) throw new IOException("negative length");
            int old = in.pushLimit(len);
            body.read(in);
            in.checkLastTagWas(0);
            in.popLimit(old);
        }

        /** A packed repeated scalar field: values without tags up to the limit. */
        static void packed(CodedInputStream in, Body value) throws IOException {
            int len = in.readRawVarint32();
            if (len < 0) throw new IOException("negative length");
            int old = in.pushLimit(len);
            while (!in.isAtEnd()) value.read(in);
            in.popLimit(old);
        }

        static boolean isLen(int tag) { return WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED; }

        void model(CodedInputStream in) throws IOException {
            for (int tag; (tag = in.readTag()) != 0; ) {
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case 1 -> irVersion = in.readInt64();
                    case 2 -> producer = in.readString();
                    case 7 -> { if (!isLen(tag)) throw new IOException("graph is not a message"); graphSeen++; sub(in, this::graph); }
                    case 8 -> sub(in, this::opset);
                    default -> in.skipField(tag);
                }
            }
        }

        void opset(CodedInputStream in) throws IOException {
            String domain = "";
            long version = 0;
            for (int tag; (tag = in.readTag()) != 0; ) {
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case 1 -> domain = in.readString();
                    case 2 -> version = in.readInt64();
                    default -> in.skipField(tag);
                }
            }
            opsets.put(domain, version);
        }

        void graph(CodedInputStream in) throws IOException {
            for (int tag; (tag = in.readTag()) != 0; ) {
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case 1 -> sub(in, this::node);
                    case 5 -> sub(in, this::initializer);
                    case 11 -> sub(in, i -> inputs.add(valueInfoName(i)));
                    case 12 -> sub(in, i -> outputs.add(valueInfoName(i)));
                    case 15 -> throw new IOException("the graph has sparse initializers, which this importer does not read");
                    default -> in.skipField(tag);
                }
            }
        }

        static String valueInfoName(CodedInputStream in) throws IOException {
            String name = "";
            for (int tag; (tag = in.readTag()) != 0; ) {
                if (WireFormat.getTagFieldNumber(tag) == 1) name = in.readString();
                else in.skipField(tag);
            }
            return name;
        }

        void node(CodedInputStream in) throws IOException {
            List<String> ins = new ArrayList<>();
            List<String> outs = new ArrayList<>();
            String[] nameOpDomain = {"", "", ""};
            Map<String, long[]> ints = new LinkedHashMap<>();
            Map<String, float[]> floats = new LinkedHashMap<>();
            Map<String, Initializer> tensors = new LinkedHashMap<>();
            for (int tag; (tag = in.readTag()) != 0; ) {
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case 1 -> ins.add(in.readString());
                    case 2 -> outs.add(in.readString());
                    case 3 -> nameOpDomain[0] = in.readString();
                    case 4 -> nameOpDomain[1] = in.readString();
                    case 7 -> nameOpDomain[2] = in.readString();
                    case 5 -> sub(in, a -> attribute(a, ints, floats, tensors));
                    default -> in.skipField(tag);
                }
            }
            nodes.add(new Node(nameOpDomain[0], nameOpDomain[1], nameOpDomain[2], List.copyOf(ins), List.copyOf(outs),
                    Collections.unmodifiableMap(ints), Collections.unmodifiableMap(floats), Collections.unmodifiableMap(tensors)));
        }

        /** Keeps INT/INTS, FLOAT/FLOATS and TENSOR attributes; graphs and strings are skipped. */
        static void attribute(CodedInputStream in, Map<String, long[]> ints, Map<String, float[]> floats,
                              Map<String, Initializer> tensors) throws IOException {
            String name = "";
            List<Long> values = new ArrayList<>();
            List<Float> fvalues = new ArrayList<>();
            Builder tensor = null;
            for (int tag; (tag = in.readTag()) != 0; ) {
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case 1 -> name = in.readString();
                    case 2 -> fvalues.add(in.readFloat());
                    case 3 -> values.add(in.readInt64());
                    case 5 -> { tensor = new Builder("attribute"); sub(in, tensor::initializer); }
                    case 7 -> {
                        if (isLen(tag)) packed(in, p -> fvalues.add(p.readFloat()));
                        else fvalues.add(in.readFloat());
                    }
                    case 8 -> {
                        if (isLen(tag)) packed(in, p -> values.add(p.readInt64()));
                        else values.add(in.readInt64());
                    }
                    default -> in.skipField(tag);
                }
            }
            if (!values.isEmpty()) ints.put(name, values.stream().mapToLong(Long::longValue).toArray());
            if (!fvalues.isEmpty()) {
                float[] f = new float[fvalues.size()];
                for (int i = 0; i < f.length; i++) f[i] = fvalues.get(i);
                floats.put(name, f);
            }
            if (tensor != null && !tensor.inits.isEmpty()) tensors.put(name, tensor.inits.values().iterator().next());
        }

        void initializer(CodedInputStream in) throws IOException {
            List<Long> dims = new ArrayList<>();
            int dataType = 0;
            String name = "";
            ByteBuffer raw = null;
            boolean external = false;
            ByteBuffer packed = null;   // float_data / int32_data / int64_data, re-encoded as little-endian bytes
            for (int tag; (tag = in.readTag()) != 0; ) {
                int field = WireFormat.getTagFieldNumber(tag);
                switch (field) {
                    case 1 -> {
                        if (isLen(tag)) packed(in, p -> dims.add(p.readInt64()));
                        else dims.add(in.readInt64());
                    }
                    case 2 -> dataType = in.readInt32();
                    case 8 -> name = in.readString();
                    case 9 -> raw = in.readByteBuffer().asReadOnlyBuffer();
                    case 14 -> external = in.readEnum() == 1;
                    case 4, 5, 7 -> packed = repeated(in, tag, field, packed);
                    default -> in.skipField(tag);
                }
            }
            long[] d = dims.stream().mapToLong(Long::longValue).toArray();
            for (long x : d) if (x < 0) throw new IOException("initializer '" + name + "' has a negative dimension " + Arrays.toString(d));
            ByteBuffer data = raw != null ? raw : packed != null ? packed.flip().asReadOnlyBuffer() : ByteBuffer.allocate(0);
            if (inits.put(name, new Initializer(name, d, dataType, data.order(ByteOrder.LITTLE_ENDIAN), external)) != null) {
                throw new IOException("two initializers named '" + name + "'");
            }
        }

        /** Appends float_data (4: float32), int32_data (5: int32, also fp16/bf16/int8 payloads) or int64_data (7). */
        static ByteBuffer repeated(CodedInputStream in, int tag, int field, ByteBuffer acc) throws IOException {
            List<Number> vals = new ArrayList<>();
            Body one = p -> vals.add(switch (field) {
                case 4 -> p.readFloat();
                case 5 -> p.readInt32();
                default -> p.readInt64();
            });
            if (isLen(tag)) packed(in, one);
            else one.read(in);
            int width = field == 7 ? 8 : 4;
            int have = acc == null ? 0 : acc.position();
            ByteBuffer out = ByteBuffer.allocate(Math.addExact(have, Math.multiplyExact(vals.size(), width)))
                    .order(ByteOrder.LITTLE_ENDIAN);
            if (acc != null) out.put(acc.flip());
            for (Number v : vals) {
                switch (field) {
                    case 4 -> out.putFloat(v.floatValue());
                    case 5 -> out.putInt(v.intValue());
                    default -> out.putLong(v.longValue());
                }
            }
            return out;
        }
    }
}
