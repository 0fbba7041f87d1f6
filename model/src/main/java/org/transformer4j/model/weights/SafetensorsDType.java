// SafetensorsDType — the element types the safetensors format knows, with their sizes in bits,
// and the runtime DType each maps to where the runtime has one.
package org.transformer4j.model.weights;

import java.util.Optional;
import org.transformer4j.runtime.DType;

/**
 * Element types of the safetensors format (the names as they appear in headers). Sub-byte types
 * (F4, F6_*) are accepted when a tensor's total bit count is a whole number of bytes, as the
 * reference implementation does. Only F32, F16, BF16, I32, I64 and U8 become runtime tensors; the
 * others can still be read as raw bytes.
 */
public enum SafetensorsDType {
    BOOL(8), F4(4), F6_E2M3(6), F6_E3M2(6), U8(8), I8(8), F8_E5M2(8), F8_E4M3(8), F8_E8M0(8),
    I16(16), U16(16), F16(16), BF16(16), I32(32), U32(32), F32(32), C64(64), F64(64), I64(64), U64(64);

    private final int bits;

    SafetensorsDType(int bits) { this.bits = bits; }

    /** Size of one element in bits. */
    public int bits() { return bits; }

    /** The runtime dtype with the same bytes, or empty where the runtime has none. */
    public Optional<DType> runtimeType() {
        return switch (this) {
            case F32 -> Optional.of(DType.F32);
            case F16 -> Optional.of(DType.F16);
            case BF16 -> Optional.of(DType.BF16);
            case I32 -> Optional.of(DType.I32);
            case I64 -> Optional.of(DType.I64);
            case U8 -> Optional.of(DType.U8);
            default -> Optional.empty();
        };
    }

    /** The safetensors dtype for a runtime dtype. */
    public static SafetensorsDType of(DType t) {
        return switch (t) {
            case F32 -> F32;
            case F16 -> F16;
            case BF16 -> BF16;
            case I32 -> I32;
            case I64 -> I64;
            case U8 -> U8;
        };
    }

    /** The dtype named {@code name} in a header, or empty when the name is unknown. */
    public static Optional<SafetensorsDType> byName(String name) {
        for (SafetensorsDType d : values()) if (d.name().equals(name)) return Optional.of(d);
        return Optional.empty();
    }
}
