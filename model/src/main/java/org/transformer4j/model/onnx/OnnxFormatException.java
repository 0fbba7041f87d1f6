// OnnxFormatException — an ONNX file that cannot be imported (malformed protobuf, or a graph this
// importer does not handle, such as fused or quantized exports): names the file and the reason.
package org.transformer4j.model.onnx;

import java.io.IOException;

/** A checked error naming the ONNX file (or source) and the problem. */
public class OnnxFormatException extends IOException {

    private final String source;

    public OnnxFormatException(String source, String problem) {
        super(source + ": " + problem);
        this.source = source;
    }

    public OnnxFormatException(String source, String problem, Throwable cause) {
        super(source + ": " + problem, cause);
        this.source = source;
    }

    /** The file or resource that was rejected. */
    public String source() { return source; }
}
