// NativeValidationTest — libt4j trusts nothing it is given: malformed params come back as
// T4J_ERROR_INVALID_ARGUMENT before any driver call, so these run without a GPU.
package org.transformer4j.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class NativeValidationTest {

    /** A well-formed params struct with placeholder (never dereferenced) pointers. */
    private static MemorySegment valid(Arena arena) {
        MemorySegment p = t4j_norm_params.allocate(arena);
        MemorySegment fake = MemorySegment.ofAddress(0x1000);
        t4j_norm_params.out(p, fake);
        t4j_norm_params.x(p, fake);
        t4j_norm_params.weight(p, fake);
        t4j_norm_params.rows(p, 0);                      // no rows: validated, then nothing to launch
        t4j_norm_params.cols(p, 64);
        t4j_norm_params.x_row_stride(p, 64);
        t4j_norm_params.out_row_stride(p, 64);
        t4j_norm_params.eps(p, 1e-5f);
        t4j_norm_params.kind(p, t4j_h.T4J_NORM_LAYER);
        t4j_norm_params.dtype(p, t4j_h.T4J_DTYPE_F32);
        return p;
    }

    private static int normWith(Consumer<MemorySegment> change) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = valid(arena);
            change.accept(p);
            return t4j_h.t4j_norm(p, MemorySegment.NULL);
        }
    }

    @Test
    void wellFormedEmptyLaunchSucceedsWithoutTouchingTheDevice() {
        assertEquals(t4j_h.T4J_SUCCESS, normWith(p -> { }));
    }

    @Test
    void malformedNormParamsAreRejected() {
        int bad = t4j_h.T4J_ERROR_INVALID_ARGUMENT;
        assertEquals(bad, t4j_h.t4j_norm(MemorySegment.NULL, MemorySegment.NULL), "null params");
        assertEquals(bad, normWith(p -> t4j_norm_params.x(p, MemorySegment.NULL)), "null x");
        assertEquals(bad, normWith(p -> t4j_norm_params.weight(p, MemorySegment.NULL)), "null weight");
        assertEquals(bad, normWith(p -> t4j_norm_params.cols(p, 0)), "no columns");
        assertEquals(bad, normWith(p -> t4j_norm_params.rows(p, -1)), "negative rows");
        assertEquals(bad, normWith(p -> t4j_norm_params.x_row_stride(p, 63)), "overlapping rows");
        assertEquals(bad, normWith(p -> {
            t4j_norm_params.residual(p, MemorySegment.ofAddress(0x2000));
            t4j_norm_params.residual_row_stride(p, 10);
        }), "residual rows overlap");
        assertEquals(bad, normWith(p -> t4j_norm_params.kind(p, 7)), "unknown kind");
        assertEquals(bad, normWith(p -> t4j_norm_params.dtype(p, t4j_h.T4J_DTYPE_I32)), "integer dtype");
        assertEquals(bad, normWith(p -> t4j_norm_params.eps(p, Float.NaN)), "NaN eps");
        assertEquals(bad, normWith(p -> t4j_norm_params.eps(p, -1f)), "negative eps");
        assertEquals(bad, normWith(p -> t4j_norm_params.reserved(p, 1)), "reserved field set");
    }

    @Test
    void withoutADriverALaunchSaysSo() {
        org.junit.jupiter.api.Assumptions.assumeTrue(CudaLibraries.driverProblem().isPresent(), "a driver is installed");
        int status = normWith(p -> t4j_norm_params.rows(p, 1));
        assertEquals(t4j_h.T4J_ERROR_NO_DRIVER, status, T4jLibrary.statusString(status));
    }

    @Test
    void fatbinMustBeNonEmpty() {
        assertEquals(t4j_h.T4J_ERROR_INVALID_ARGUMENT, t4j_h.t4j_set_fatbin(MemorySegment.NULL, 0));
    }

    // ---- the MLP, embedding and vocabulary families ------------------------------------------

    private static final MemorySegment FAKE = MemorySegment.ofAddress(0x1000);

    private static int gemmWith(Consumer<MemorySegment> change) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = t4j_linear_params.allocate(arena);
            t4j_linear_params.c(p, FAKE);
            t4j_linear_params.a(p, FAKE);
            t4j_linear_params.b(p, FAKE);
            t4j_linear_params.m(p, 0);                         // validated, then nothing to launch
            t4j_linear_params.n(p, 64);
            t4j_linear_params.k(p, 32);
            t4j_linear_params.batch(p, 1);
            t4j_linear_params.lda(p, 32);
            t4j_linear_params.ldb(p, 64);
            t4j_linear_params.ldc(p, 64);
            t4j_linear_params.alpha(p, 1f);
            t4j_linear_params.activation(p, t4j_h.T4J_ACT_GELU);
            t4j_linear_params.dtype(p, t4j_h.T4J_DTYPE_BF16);
            change.accept(p);
            return t4j_h.t4j_linear(p, MemorySegment.NULL);
        }
    }

    @Test
    void malformedGemmParamsAreRejected() {
        int bad = t4j_h.T4J_ERROR_INVALID_ARGUMENT;
        assertEquals(t4j_h.T4J_SUCCESS, gemmWith(p -> { }));
        assertEquals(t4j_h.T4J_SUCCESS, gemmWith(p -> {
            t4j_linear_params.gated(p, 1);
            t4j_linear_params.b_gate(p, FAKE);
        }), "gated with a gate matrix");
        assertEquals(bad, t4j_h.t4j_linear(MemorySegment.NULL, MemorySegment.NULL), "null params");
        assertEquals(bad, gemmWith(p -> t4j_linear_params.a(p, MemorySegment.NULL)), "null A");
        assertEquals(bad, gemmWith(p -> t4j_linear_params.gated(p, 1)), "gated without b_gate");
        assertEquals(bad, gemmWith(p -> t4j_linear_params.b_gate(p, FAKE)), "b_gate without gated");
        assertEquals(bad, gemmWith(p -> t4j_linear_params.bias_gate(p, FAKE)), "bias_gate without gated");
        assertEquals(bad, gemmWith(p -> t4j_linear_params.activation(p, 9)), "unknown activation");
        assertEquals(bad, gemmWith(p -> t4j_linear_params.dtype(p, t4j_h.T4J_DTYPE_I32)), "integer dtype");
        assertEquals(bad, gemmWith(p -> t4j_linear_params.lda(p, 31)), "A rows overlap");
        assertEquals(bad, gemmWith(p -> t4j_linear_params.ldb(p, 63)), "B rows overlap");
        assertEquals(bad, gemmWith(p -> {
            t4j_linear_params.trans_b(p, 1);
            t4j_linear_params.ldb(p, 31);
        }), "transposed B rows shorter than K");
        assertEquals(bad, gemmWith(p -> t4j_linear_params.batch(p, 0)), "no batch");
        assertEquals(bad, gemmWith(p -> t4j_linear_params.act_limit(p, 1f)), "act_limit set without T4J_ACT_CLAMP");
        assertEquals(bad, gemmWith(p -> {
            t4j_linear_params.residual(p, FAKE);
            t4j_linear_params.ld_residual(p, 80);
        }), "residual aliasing C with another stride");
        assertEquals(t4j_h.T4J_ERROR_UNSUPPORTED, gemmWith(p -> t4j_linear_params.dtype(p, t4j_h.T4J_DTYPE_F32)),
                "no fp32 tensor-core path");
    }

    /** ABI 11: GPT-OSS's clamped SwiGLU combines the two products (gated only); per-group biases belong to grouped GEMMs. */
    @Test
    void theClampedSwigluNeedsAGateAndBiasStridesNeedGroups() {
        int bad = t4j_h.T4J_ERROR_INVALID_ARGUMENT;
        Consumer<MemorySegment> swiglu = p -> t4j_linear_params.activation(p, t4j_h.T4J_ACT_SWIGLU_OAI);
        assertEquals(bad, gemmWith(swiglu), "SWIGLU_OAI without a gate");
        assertEquals(t4j_h.T4J_SUCCESS, gemmWith(swiglu.andThen(p -> {
            t4j_linear_params.gated(p, 1);
            t4j_linear_params.b_gate(p, FAKE);
            t4j_linear_params.bias(p, FAKE);
            t4j_linear_params.bias_gate(p, FAKE);
        })), "SWIGLU_OAI gated, with both biases");
        assertEquals(bad, gemmWith(p -> t4j_linear_params.activation(p, t4j_h.T4J_ACT_RELU2 + 1)), "activation 8");
        assertEquals(t4j_h.T4J_SUCCESS, gemmWith(p -> t4j_linear_params.activation(p, t4j_h.T4J_ACT_RELU2)), "RELU2 (ABI 19)");
        assertEquals(t4j_h.T4J_SUCCESS, gemmWith(p -> {
            t4j_linear_params.activation(p, t4j_h.T4J_ACT_RELU2);
            t4j_linear_params.gated(p, 1);
            t4j_linear_params.b_gate(p, FAKE);
        }), "RELU2 gated");
        assertEquals(bad, gemmWith(p -> {
            t4j_linear_params.activation(p, t4j_h.T4J_ACT_RELU2);
            t4j_linear_params.act_limit(p, 1f);
        }), "RELU2 with an act_limit");
        assertEquals(bad, gemmWith(p -> {
            t4j_linear_params.bias(p, FAKE);
            t4j_linear_params.stride_bias(p, 64);
        }), "stride_bias without group_offsets");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = biasAct(arena, t4j_h.T4J_ACT_SWIGLU_OAI);
            assertEquals(bad, t4j_h.t4j_bias_act(p, MemorySegment.NULL), "bias_act SWIGLU_OAI without a gate");
            t4j_bias_act_params.gate(p, FAKE);
            t4j_bias_act_params.gate_row_stride(p, 8);
            assertEquals(t4j_h.T4J_SUCCESS, t4j_h.t4j_bias_act(p, MemorySegment.NULL), "bias_act SWIGLU_OAI with its gate");
        }
    }

    /** t4j_bias_act's params over 8 columns of fake pointers with {@code activation}. */
    private static MemorySegment biasAct(Arena arena, int activation) {
        MemorySegment p = t4j_bias_act_params.allocate(arena);
        t4j_bias_act_params.out(p, FAKE);
        t4j_bias_act_params.x(p, FAKE);
        t4j_bias_act_params.cols(p, 8);
        t4j_bias_act_params.out_row_stride(p, 8);
        t4j_bias_act_params.x_row_stride(p, 8);
        t4j_bias_act_params.activation(p, activation);
        return p;
    }

    /** ABI 16: clip_qkv's clamp takes one product (never gated) and a finite limit > 0, which no other activation sets. */
    @Test
    void theClampNeedsAPositiveFiniteLimitAndNoGate() {
        int bad = t4j_h.T4J_ERROR_INVALID_ARGUMENT;
        Consumer<MemorySegment> clamp = p -> t4j_linear_params.activation(p, t4j_h.T4J_ACT_CLAMP);
        assertEquals(t4j_h.T4J_SUCCESS, gemmWith(clamp.andThen(p -> t4j_linear_params.act_limit(p, 8f))), "CLAMP at 8");
        assertEquals(bad, gemmWith(clamp), "CLAMP at 0");
        assertEquals(bad, gemmWith(clamp.andThen(p -> t4j_linear_params.act_limit(p, -1f))), "CLAMP at -1");
        assertEquals(bad, gemmWith(clamp.andThen(p -> t4j_linear_params.act_limit(p, Float.NaN))), "CLAMP at NaN");
        assertEquals(bad, gemmWith(clamp.andThen(p -> t4j_linear_params.act_limit(p, Float.POSITIVE_INFINITY))), "CLAMP at inf");
        assertEquals(bad, gemmWith(clamp.andThen(p -> {
            t4j_linear_params.act_limit(p, 8f);
            t4j_linear_params.gated(p, 1);
            t4j_linear_params.b_gate(p, FAKE);
        })), "CLAMP gated");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = biasAct(arena, t4j_h.T4J_ACT_CLAMP);
            assertEquals(bad, t4j_h.t4j_bias_act(p, MemorySegment.NULL), "bias_act CLAMP without a limit");
            t4j_bias_act_params.act_limit(p, 8f);
            assertEquals(t4j_h.T4J_SUCCESS, t4j_h.t4j_bias_act(p, MemorySegment.NULL), "bias_act CLAMP at 8");
            t4j_bias_act_params.reserved(p, 1);
            assertEquals(bad, t4j_h.t4j_bias_act(p, MemorySegment.NULL), "bias_act reserved set");
            t4j_bias_act_params.reserved(p, 0);
            t4j_bias_act_params.activation(p, t4j_h.T4J_ACT_SILU);
            assertEquals(bad, t4j_h.t4j_bias_act(p, MemorySegment.NULL), "bias_act SILU with a limit");
        }
    }

    @Test
    void gemmWorkspaceSizeNeedsNothingForEmptyProblemsAndSaysWhenThereIsNoDriver() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = t4j_linear_params.allocate(arena);
            MemorySegment bytes = arena.allocate(java.lang.foreign.ValueLayout.JAVA_LONG);
            bytes.set(java.lang.foreign.ValueLayout.JAVA_LONG, 0, 99);
            t4j_linear_params.batch(p, 1);
            t4j_linear_params.dtype(p, t4j_h.T4J_DTYPE_BF16);
            assertEquals(t4j_h.T4J_SUCCESS, t4j_h.t4j_linear_workspace_size(p, bytes));
            assertEquals(0, bytes.get(java.lang.foreign.ValueLayout.JAVA_LONG, 0), "M = N = K = 0 needs no workspace");
            assertEquals(t4j_h.T4J_ERROR_INVALID_ARGUMENT, t4j_h.t4j_linear_workspace_size(p, MemorySegment.NULL));
            org.junit.jupiter.api.Assumptions.assumeTrue(CudaLibraries.driverProblem().isPresent(), "a driver is installed");
            t4j_linear_params.m(p, 128);
            t4j_linear_params.n(p, 768);
            t4j_linear_params.k(p, 3072);
            assertEquals(t4j_h.T4J_ERROR_NO_DRIVER, t4j_h.t4j_linear_workspace_size(p, bytes), "the SM count needs a driver");
        }
    }

    @Test
    void malformedEpilogueEmbeddingAndVocabParamsAreRejected() {
        int bad = t4j_h.T4J_ERROR_INVALID_ARGUMENT;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = biasAct(arena, t4j_h.T4J_ACT_NONE);
            assertEquals(t4j_h.T4J_SUCCESS, t4j_h.t4j_bias_act(p, MemorySegment.NULL));
            t4j_bias_act_params.bias_gate(p, FAKE);
            assertEquals(bad, t4j_h.t4j_bias_act(p, MemorySegment.NULL), "bias_gate without gate");

            MemorySegment e = t4j_embedding_params.allocate(arena);
            t4j_embedding_params.out(e, FAKE);
            t4j_embedding_params.ids(e, FAKE);
            t4j_embedding_params.token_table(e, FAKE);
            t4j_embedding_params.error_row(e, FAKE);
            t4j_embedding_params.rows(e, 0);
            t4j_embedding_params.cols(e, 16);
            t4j_embedding_params.vocab(e, 100);
            t4j_embedding_params.out_row_stride(e, 16);
            assertEquals(t4j_h.T4J_SUCCESS, t4j_h.t4j_embedding(e, MemorySegment.NULL));
            t4j_embedding_params.position_table(e, FAKE);
            t4j_embedding_params.seq_len(e, 8);
            t4j_embedding_params.max_positions(e, 8);
            t4j_embedding_params.position_offset(e, 1);
            t4j_embedding_params.rows(e, 8);
            assertEquals(bad, t4j_h.t4j_embedding(e, MemorySegment.NULL), "positions past the table");
            t4j_embedding_params.rows(e, 0);
            t4j_embedding_params.positions(e, FAKE);          // per-row positions: the offset check is the kernel's clamp
            t4j_embedding_params.error_row(e, MemorySegment.NULL);   // no flags (graph capture)
            t4j_embedding_params.position_offset(e, 0);
            assertEquals(t4j_h.T4J_SUCCESS, t4j_h.t4j_embedding(e, MemorySegment.NULL), "device positions, no error flags");
            t4j_embedding_params.position_table(e, MemorySegment.NULL);
            assertEquals(bad, t4j_h.t4j_embedding(e, MemorySegment.NULL), "positions without a position table");
            t4j_embedding_params.positions(e, MemorySegment.NULL);
            t4j_embedding_params.error_row(e, FAKE);
            t4j_embedding_params.rows(e, 8);
            t4j_embedding_params.type_ids(e, FAKE);
            assertEquals(bad, t4j_h.t4j_embedding(e, MemorySegment.NULL), "type ids without a type table");

            MemorySegment s = t4j_sample_params.allocate(arena);
            t4j_sample_params.ids(s, FAKE);
            t4j_sample_params.logits(s, FAKE);
            t4j_sample_params.cols(s, 50257);
            t4j_sample_params.logits_row_stride(s, 50257);
            t4j_sample_params.temperature(s, 1f);
            t4j_sample_params.top_p(s, 1f);
            assertEquals(t4j_h.T4J_SUCCESS, t4j_h.t4j_sample(s, MemorySegment.NULL));
            t4j_sample_params.top_p(s, 0f);
            assertEquals(bad, t4j_h.t4j_sample(s, MemorySegment.NULL), "top-p 0");
            t4j_sample_params.top_p(s, 1.01f);
            assertEquals(bad, t4j_h.t4j_sample(s, MemorySegment.NULL), "top-p above 1");
            t4j_sample_params.top_p(s, 0.9f);
            t4j_sample_params.top_k(s, -1);
            assertEquals(bad, t4j_h.t4j_sample(s, MemorySegment.NULL), "negative top-k");
            t4j_sample_params.top_k(s, 0);
            t4j_sample_params.temperature(s, -0.5f);
            assertEquals(bad, t4j_h.t4j_sample(s, MemorySegment.NULL), "negative temperature");
            t4j_sample_params.temperature(s, 1f);
            for (float minP : new float[] {0f, 0.05f, 1f}) {
                t4j_sample_params.min_p(s, minP);
                assertEquals(t4j_h.T4J_SUCCESS, t4j_h.t4j_sample(s, MemorySegment.NULL), "min_p " + minP);
            }
            for (float minP : new float[] {-0.01f, 1.01f, Float.NaN, Float.POSITIVE_INFINITY}) {
                t4j_sample_params.min_p(s, minP);
                assertEquals(bad, t4j_h.t4j_sample(s, MemorySegment.NULL), "min_p " + minP);
            }
            t4j_sample_params.min_p(s, 0f);
            t4j_sample_params.reserved(s, 1);
            assertEquals(bad, t4j_h.t4j_sample(s, MemorySegment.NULL), "reserved not 0");
            t4j_sample_params.reserved(s, 0);
            // ABI 13: with per-row parameters the scalars are not read (nor checked); the array must be 8-byte aligned
            assertEquals(32, t4j_sample_row.sizeof());
            t4j_sample_params.row_params(s, FAKE);
            t4j_sample_params.temperature(s, -0.5f);
            t4j_sample_params.top_p(s, 0f);
            t4j_sample_params.top_k(s, -1);
            t4j_sample_params.min_p(s, Float.NaN);
            assertEquals(t4j_h.T4J_SUCCESS, t4j_h.t4j_sample(s, MemorySegment.NULL), "per-row params, scalars not read");
            t4j_sample_params.row_params(s, MemorySegment.ofAddress(0x10004));
            assertEquals(bad, t4j_h.t4j_sample(s, MemorySegment.NULL), "row_params not 8-byte aligned");
            t4j_sample_params.row_params(s, FAKE);
            t4j_sample_params.reserved(s, 1);
            assertEquals(bad, t4j_h.t4j_sample(s, MemorySegment.NULL), "reserved not 0 with per-row params");
            t4j_sample_params.rows(s, 1L << 33);
            t4j_sample_params.reserved(s, 0);
            assertEquals(t4j_h.T4J_ERROR_UNSUPPORTED, t4j_h.t4j_sample(s, MemorySegment.NULL), "more than 2^32 rows with per-row params");

            MemorySegment x = t4j_softmax_params.allocate(arena);
            t4j_softmax_params.out(x, FAKE);
            t4j_softmax_params.x(x, FAKE);
            t4j_softmax_params.cols(x, 10);
            t4j_softmax_params.x_row_stride(x, 10);
            t4j_softmax_params.out_row_stride(x, 10);
            t4j_softmax_params.scale(x, 1f);
            assertEquals(t4j_h.T4J_SUCCESS, t4j_h.t4j_softmax(x, MemorySegment.NULL));
            t4j_softmax_params.kind(x, 2);
            assertEquals(bad, t4j_h.t4j_softmax(x, MemorySegment.NULL), "unknown softmax kind");

            MemorySegment c = t4j_cross_entropy_params.allocate(arena);
            t4j_cross_entropy_params.losses(c, FAKE);
            t4j_cross_entropy_params.logits(c, FAKE);
            t4j_cross_entropy_params.targets(c, FAKE);
            t4j_cross_entropy_params.cols(c, 10);
            t4j_cross_entropy_params.logits_row_stride(c, 10);
            assertEquals(bad, t4j_h.t4j_cross_entropy(c, MemorySegment.NULL), "no error flag");
        }
    }
}
