// SentencePieceModel — the parts of a SentencePiece ModelProto (spiece.model, tokenizer.model,
// sentencepiece.bpe.model, Marian's *.spm) that a tokenizer needs: the pieces with score and type, the
// trainer's model type, byte_fallback and unk settings, and the normalizer spec (precompiled_charsmap,
// add_dummy_prefix, remove_extra_whitespaces). Read with protobuf-java's generic wire-format reader
// (CodedInputStream, as OnnxModel does) at the field numbers of sentencepiece_model.proto: no classes
// generated from the .proto, and unknown fields skipped.
package org.transformer4j.model.tokenizer;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A parsed SentencePiece model. Fields the file leaves out have the .proto's defaults (unigram,
 * unk_id 0, add_dummy_prefix and remove_extra_whitespaces true).
 */
public record SentencePieceModel(Path file, List<Piece> pieces, ModelType modelType, boolean byteFallback, int unkId,
                                 String unkPiece, String normalizerName, byte[] precompiledCharsmap, boolean addDummyPrefix,
                                 boolean removeExtraWhitespaces, boolean treatWhitespaceAsSuffix) {

    /** sentencepiece_model.proto's SentencePiece.Type. */
    public enum PieceType { NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE;

        static PieceType of(int v) throws IOException {
            return switch (v) {
                case 1 -> NORMAL;
                case 2 -> UNKNOWN;
                case 3 -> CONTROL;
                case 4 -> USER_DEFINED;
                case 5 -> UNUSED;
                case 6 -> BYTE;
                default -> throw new IOException("piece type " + v + " is none of NORMAL(1) .. BYTE(6)");
            };
        }
    }

    /** TrainerSpec.ModelType. */
    public enum ModelType { UNIGRAM, BPE, WORD, CHAR }

    /** One vocabulary entry; its id is its index in {@link #pieces}. */
    public record Piece(String piece, float score, PieceType type) {}

    public SentencePieceModel {
        pieces = List.copyOf(pieces);
    }

    /** The id of {@code piece}, or −1 (the first one when a piece occurs twice). */
    public int id(String piece) {
        for (int i = 0; i < pieces.size(); i++) if (pieces.get(i).piece().equals(piece)) return i;
        return -1;
    }

    /** Reads {@code file}; anything that is not a usable SentencePiece model is a TokenizerFormatException naming it. */
    public static SentencePieceModel read(Path file) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new TokenizerFormatException(file, "cannot read: " + e, e);
        }
        return parse(file, bytes);
    }

    /** Parses the bytes of a serialized ModelProto; {@code file} names it in errors. */
    public static SentencePieceModel parse(Path file, byte[] bytes) throws TokenizerFormatException {
        Builder b = new Builder();
        try {
            CodedInputStream in = CodedInputStream.newInstance(bytes);
            in.setSizeLimit(Integer.MAX_VALUE);
            b.model(in);
        } catch (IOException | RuntimeException e) {
            throw new TokenizerFormatException(file, "not a valid SentencePiece model (protobuf ModelProto): " + e.getMessage(), e);
        }
        if (b.pieces.isEmpty()) throw new TokenizerFormatException(file, "not a SentencePiece model: no pieces", null);
        if (b.unkId < 0 || b.unkId >= b.pieces.size()) {
            throw new TokenizerFormatException(file, "unk_id " + b.unkId + " is outside the " + b.pieces.size() + " pieces", null);
        }
        int unknown = 0;
        for (Piece p : b.pieces) if (p.type() == PieceType.UNKNOWN) unknown++;
        if (b.pieces.get(b.unkId).type() != PieceType.UNKNOWN || unknown != 1) {
            throw new TokenizerFormatException(file, "not a SentencePiece model: piece " + b.unkId + " (unk_id) is not its one "
                    + "UNKNOWN piece", null);
        }
        return new SentencePieceModel(file, b.pieces, b.modelType, b.byteFallback, b.unkId, b.unkPiece, b.normalizerName,
                b.charsmap, b.addDummyPrefix, b.removeExtraWhitespaces, b.suffix);
    }

    /** Field numbers are sentencepiece_model.proto's (ModelProto 1 pieces, 2 trainer_spec, 3 normalizer_spec). */
    private static final class Builder {
        final List<Piece> pieces = new ArrayList<>();
        ModelType modelType = ModelType.UNIGRAM;
        boolean byteFallback, suffix;
        int unkId = 0;
        String unkPiece = "<unk>", normalizerName = "";
        byte[] charsmap = new byte[0];
        boolean addDummyPrefix = true, removeExtraWhitespaces = true;

        interface Body { void read(CodedInputStream in) throws IOException; }

        static void sub(CodedInputStream in, int tag, Body body) throws IOException {
            if (WireFormat.getTagWireType(tag) != WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                throw new IOException("field " + WireFormat.getTagFieldNumber(tag) + " is not a message");
            }
            int len = in.readRawVarint32();
            if (len < 0) throw new IOException("negative length");
            int old = in.pushLimit(len);
            body.read(in);
            in.checkLastTagWas(0);
            in.popLimit(old);
        }

        static void expect(int tag, int wireType) throws IOException {
            if (WireFormat.getTagWireType(tag) != wireType) {
                throw new IOException("field " + WireFormat.getTagFieldNumber(tag) + " has wire type "
                        + WireFormat.getTagWireType(tag) + ", not " + wireType);
            }
        }

        void model(CodedInputStream in) throws IOException {
            for (int tag; (tag = in.readTag()) != 0; ) {
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case 1 -> sub(in, tag, this::piece);
                    case 2 -> sub(in, tag, this::trainer);
                    case 3 -> sub(in, tag, this::normalizer);
                    default -> in.skipField(tag);
                }
            }
        }

        void piece(CodedInputStream in) throws IOException {
            String piece = null;
            float score = 0;
            PieceType type = PieceType.NORMAL;
            for (int tag; (tag = in.readTag()) != 0; ) {
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case 1 -> { expect(tag, WireFormat.WIRETYPE_LENGTH_DELIMITED); piece = in.readStringRequireUtf8(); }
                    case 2 -> { expect(tag, WireFormat.WIRETYPE_FIXED32); score = in.readFloat(); }
                    case 3 -> { expect(tag, WireFormat.WIRETYPE_VARINT); type = PieceType.of(in.readEnum()); }
                    default -> in.skipField(tag);
                }
            }
            if (piece == null || piece.isEmpty()) throw new IOException("piece " + pieces.size() + " has no text");
            if (!Float.isFinite(score)) throw new IOException("piece " + pieces.size() + " has score " + score);
            pieces.add(new Piece(piece, score, type));
        }

        void trainer(CodedInputStream in) throws IOException {
            for (int tag; (tag = in.readTag()) != 0; ) {
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case 3 -> {
                        expect(tag, WireFormat.WIRETYPE_VARINT);
                        int t = in.readEnum();
                        if (t < 1 || t > 4) throw new IOException("trainer_spec.model_type " + t + " is none of UNIGRAM(1) .. CHAR(4)");
                        modelType = ModelType.values()[t - 1];
                    }
                    case 24 -> { expect(tag, WireFormat.WIRETYPE_VARINT); suffix = in.readBool(); }
                    case 35 -> { expect(tag, WireFormat.WIRETYPE_VARINT); byteFallback = in.readBool(); }
                    case 40 -> { expect(tag, WireFormat.WIRETYPE_VARINT); unkId = in.readInt32(); }
                    case 45 -> { expect(tag, WireFormat.WIRETYPE_LENGTH_DELIMITED); unkPiece = in.readStringRequireUtf8(); }
                    default -> in.skipField(tag);
                }
            }
        }

        void normalizer(CodedInputStream in) throws IOException {
            for (int tag; (tag = in.readTag()) != 0; ) {
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case 1 -> { expect(tag, WireFormat.WIRETYPE_LENGTH_DELIMITED); normalizerName = in.readStringRequireUtf8(); }
                    case 2 -> { expect(tag, WireFormat.WIRETYPE_LENGTH_DELIMITED); charsmap = in.readByteArray(); }
                    case 3 -> { expect(tag, WireFormat.WIRETYPE_VARINT); addDummyPrefix = in.readBool(); }
                    case 4 -> { expect(tag, WireFormat.WIRETYPE_VARINT); removeExtraWhitespaces = in.readBool(); }
                    default -> in.skipField(tag);
                }
            }
        }
    }
}
