// LinearOpValidationTest — malformed linear, embedding, softmax, cross-entropy and sampling
// arguments are rejected before any work, with messages naming the tensors, shapes or values.
package org.transformer4j.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class LinearOpValidationTest {

    private final Backend cpu = new CpuBackend();

    private static void rejects(Executable op, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, op);
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "'" + f + "' in: " + e.getMessage());
    }

    @Test
    void linearMismatches() {
        try (Tensor x = Tensor.empty(DType.F32, 2, 4, 8); Tensor w = Tensor.empty(DType.F32, 8, 6);
             Tensor w7 = Tensor.empty(DType.F32, 7, 6); Tensor out = Tensor.empty(DType.F32, 2, 4, 6).fill(3f);
             Tensor outBad = Tensor.empty(DType.F32, 2, 4, 5); Tensor b5 = Tensor.empty(DType.F32, 5);
             Tensor wh = Tensor.empty(DType.BF16, 8, 6); Tensor wg = Tensor.empty(DType.F32, 6, 8);
             Tensor b = Tensor.empty(DType.F32, 6); Tensor r = Tensor.empty(DType.F32, 2, 4, 5);
             Tensor ints = Tensor.empty(DType.I32, 2, 4, 8)) {
            float[] before = out.toFloatArray();
            rejects(() -> cpu.linear(LinearOp.of(x, w7, out)), "x (2, 4, 8) has K=8", "w (7, 6)", "K=7");
            rejects(() -> cpu.linear(LinearOp.of(x, w, out).transW(true)), "K=8", "(N, K)", "K=6");
            rejects(() -> cpu.linear(LinearOp.of(x, w, outBad)), "out has shape (2, 4, 5)", "(2, 4, 6)");
            rejects(() -> cpu.linear(LinearOp.of(x, w, out).bias(b5)), "bias has shape (5)", "N=6");
            rejects(() -> cpu.linear(LinearOp.of(x, wh, out)), "w has dtype BF16", "x has F32");
            rejects(() -> cpu.linear(LinearOp.of(x, w, out).gate(wg, null)), "wGate has shape (6, 8)", "w has shape (8, 6)");
            rejects(() -> cpu.linear(new LinearOp(x, w, false, null, null, b, Activation.NONE, null, 1f, out, 0f)),
                    "biasGate", "without wGate");
            rejects(() -> cpu.linear(LinearOp.of(x, w, out).residual(r)), "residual has shape (2, 4, 5)", "(2, 4, 6)");
            rejects(() -> cpu.linear(LinearOp.of(ints, w, out)), "x must be F32, F16 or BF16", "I32");
            rejects(() -> cpu.linear(LinearOp.of(x, w, out).activation(null)), "activation is null");
            // clip_qkv's CLAMP: a finite bound > 0 on a plain op; no other activation takes one; not on grouped GEMMs
            rejects(() -> cpu.linear(LinearOp.of(x, w, out).activation(Activation.CLAMP)), "CLAMP's limit must be finite and > 0, got 0.0");
            rejects(() -> cpu.linear(LinearOp.of(x, w, out).clamp(-1f)), "CLAMP's limit must be finite and > 0, got -1.0");
            rejects(() -> cpu.linear(LinearOp.of(x, w, out).clamp(8f).gate(w, null)), "CLAMP clamps one product: it takes no gate");
            rejects(() -> cpu.linear(new LinearOp(x, w, false, null, null, null, Activation.GELU, null, 1f, out, 8f)),
                    "activation GELU takes no limit, got 8.0");
            try (Tensor rows = Tensor.empty(DType.F32, 4, 8); Tensor off = Tensor.ofInts(new int[] {0, 4}, 2);
                 Tensor w3 = Tensor.empty(DType.F32, 1, 8, 6); Tensor o2 = Tensor.empty(DType.F32, 4, 6)) {
                rejects(() -> cpu.groupedLinear(GroupedLinearOp.of(rows, w3, off, o2).activation(Activation.CLAMP)),
                        "activation CLAMP is not offered on grouped GEMMs");
            }
            assertArrayEquals(before, out.toFloatArray(), "nothing was written");
        }
    }

    @Test
    void splitNeedsEqualParts() {
        try (Tensor t = Tensor.empty(DType.F32, 3, 10)) {
            rejects(() -> LinearOp.split(t, 3), "cannot split", "(3, 10)", "3 equal parts");
        }
    }

    @Test
    void embeddingIdsOutOfRangeNameThePosition() {
        try (Tensor ids = Tensor.ofInts(new int[] {1, 2, 3, 4, 50, 0}, 2, 3);
             Tensor tok = Tensor.empty(DType.F32, 10, 4).fill(1f); Tensor pos = Tensor.empty(DType.F32, 8, 4).fill(1f);
             Tensor out = Tensor.empty(DType.F32, 2, 3, 4);
             Tensor types = Tensor.ofInts(new int[] {0, 1, 0, 2, 0, 0}, 2, 3); Tensor typeTable = Tensor.empty(DType.F32, 2, 4)) {
            rejects(() -> cpu.embedding(EmbeddingOp.of(ids, tok, pos, out)), "token id 50", "(b=1, t=1)", "[0, 10)");
            try (Tensor ok = Tensor.ofInts(new int[] {1, 2, 3, 4, 5, 0}, 2, 3)) {
                rejects(() -> cpu.embedding(EmbeddingOp.of(ok, tok, pos, out).types(types, typeTable)),
                        "token type id 2", "(b=1, t=0)", "[0, 2)");
                rejects(() -> cpu.embedding(EmbeddingOp.of(ok, tok, pos, out).positionOffset(6)), "positions 6..8", "(8, 4)");
                rejects(() -> cpu.embedding(EmbeddingOp.of(ok, tok, pos, out).types(types, null)), "typeIds and typeTable");
            }
            try (Tensor f = Tensor.empty(DType.F32, 2, 3)) {
                rejects(() -> cpu.embedding(EmbeddingOp.of(f, tok, pos, out)), "ids must be I32", "F32");
            }
        }
    }

    @Test
    void crossEntropyTargetsOutOfRangeNameTheRow() {
        try (Tensor logits = Tensor.empty(DType.F32, 4, 5).fill(0f); Tensor t = Tensor.ofInts(new int[] {0, -100, 7, 1}, 4);
             Tensor losses = Tensor.empty(DType.F32, 4); Tensor lossesBad = Tensor.empty(DType.F32, 3)) {
            rejects(() -> cpu.crossEntropy(CrossEntropyOp.of(logits, t, losses)), "target 7", "row 2", "[0, 5)", "-100");
            rejects(() -> cpu.crossEntropy(CrossEntropyOp.of(logits, t, lossesBad)), "losses has shape (3)", "(4)");
            try (Tensor l16 = Tensor.empty(DType.BF16, 4)) {
                rejects(() -> cpu.crossEntropy(CrossEntropyOp.of(logits, t, l16)), "losses must be F32");
            }
        }
    }

    @Test
    void samplingOptionsOutOfRange() {
        try (Tensor logits = Tensor.empty(DType.F32, 2, 6).fill(0f); Tensor ids = Tensor.empty(DType.I32, 2);
             Tensor ids3 = Tensor.empty(DType.I32, 3); Tensor fids = Tensor.empty(DType.F32, 2)) {
            SampleOp base = SampleOp.sample(logits, 1f, 1, ids);
            rejects(() -> base.topP(0f), "top-p must be in (0, 1]", "0.0");
            rejects(() -> base.topP(1.5f), "top-p must be in (0, 1]", "1.5");
            rejects(() -> base.topP(Float.NaN), "top-p", "NaN");
            rejects(() -> base.topK(0), "top-k must be ≥ 1", "0");
            rejects(() -> base.topK(-3), "top-k must be ≥ 1", "-3");
            rejects(() -> SampleOp.sample(logits, -1f, 1, ids), "temperature", "-1.0");
            rejects(() -> cpu.sample(new SampleOp(logits, 1f, 0, 0.5f, 1, 0, ids, null).topP(2f)), "top-p");
            rejects(() -> cpu.sample(new SampleOp(logits, 1f, -1, 1f, 1, 0, ids, null)), "top-k must be ≥ 1 (or 0", "-1");
            rejects(() -> cpu.sample(new SampleOp(logits, 1f, 0, 0f, 1, 0, ids, null)), "top-p must be in (0, 1]");
            rejects(() -> cpu.sample(SampleOp.greedy(logits, ids3)), "ids must be a contiguous (2)", "(3)");
            rejects(() -> cpu.sample(SampleOp.greedy(logits, fids)), "ids must be I32");
        }
    }

    @Test
    void softmaxMismatches() {
        try (Tensor x = Tensor.empty(DType.F32, 2, 6); Tensor o = Tensor.empty(DType.F32, 2, 5); Tensor oh = Tensor.empty(DType.F16, 2, 6)) {
            rejects(() -> cpu.softmax(SoftmaxOp.softmax(x, o)), "out has shape (2, 5)", "x has shape (2, 6)");
            rejects(() -> cpu.softmax(SoftmaxOp.softmax(x, oh)), "out has dtype F16");
            rejects(() -> cpu.softmax(SoftmaxOp.softmax(x, x).scale(Float.POSITIVE_INFINITY)), "scale must be finite");
        }
    }
}
