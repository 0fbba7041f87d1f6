// MoeValidationNativeTest — the mixture-of-experts entry points (ABI 9) and the grouped t4j_linear trust
// nothing they are given: malformed params come back as T4J_ERROR_INVALID_ARGUMENT before any driver
// call, and empty problems succeed without one, so these run without a GPU.
package org.transformer4j.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.function.Consumer;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class MoeValidationNativeTest {

    private static final MemorySegment FAKE = MemorySegment.ofAddress(0x10000);  // 16-byte aligned, never dereferenced
    private static final int BAD = t4j_h.T4J_ERROR_INVALID_ARGUMENT;

    private static int call(Function<Arena, MemorySegment> make, Consumer<MemorySegment> change, Function<MemorySegment, Integer> fn) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = make.apply(arena);
            change.accept(p);
            return fn.apply(p);
        }
    }

    /** A well-formed router of E 64, top 8 (it launches even for T = 0: the offsets must be written). */
    private static int routeWith(Consumer<MemorySegment> change) {
        return call(a -> {
            MemorySegment p = t4j_moe_route_params.allocate(a);
            for (var set : java.util.List.<java.util.function.BiConsumer<MemorySegment, MemorySegment>>of(t4j_moe_route_params::logits,
                    t4j_moe_route_params::topk_ids, t4j_moe_route_params::topk_weights, t4j_moe_route_params::expert_offsets,
                    t4j_moe_route_params::sorted_tokens, t4j_moe_route_params::slots)) {
                set.accept(p, FAKE);
            }
            t4j_moe_route_params.tokens(p, 3);
            t4j_moe_route_params.logits_row_stride(p, 64);
            t4j_moe_route_params.experts(p, 64);
            t4j_moe_route_params.top_k(p, 8);
            t4j_moe_route_params.dtype(p, t4j_h.T4J_DTYPE_BF16);
            return p;
        }, change, p -> t4j_h.t4j_moe_route(p, MemorySegment.NULL));
    }

    /** A well-formed gather of no rows. */
    private static int gatherWith(Consumer<MemorySegment> change) {
        return call(a -> {
            MemorySegment p = t4j_gather_rows_params.allocate(a);
            t4j_gather_rows_params.out(p, FAKE);
            t4j_gather_rows_params.x(p, FAKE);
            t4j_gather_rows_params.rows(p, FAKE);
            t4j_gather_rows_params.x_rows(p, 4);
            t4j_gather_rows_params.cols(p, 16);
            t4j_gather_rows_params.out_row_stride(p, 16);
            t4j_gather_rows_params.x_row_stride(p, 16);
            t4j_gather_rows_params.dtype(p, t4j_h.T4J_DTYPE_F16);
            return p;
        }, change, p -> t4j_h.t4j_gather_rows(p, MemorySegment.NULL));
    }

    /** A well-formed combine of no tokens. */
    private static int combineWith(Consumer<MemorySegment> change) {
        return call(a -> {
            MemorySegment p = t4j_moe_combine_params.allocate(a);
            t4j_moe_combine_params.out(p, FAKE);
            t4j_moe_combine_params.y(p, FAKE);
            t4j_moe_combine_params.slots(p, FAKE);
            t4j_moe_combine_params.weights(p, FAKE);
            t4j_moe_combine_params.cols(p, 16);
            t4j_moe_combine_params.slot_rows(p, 8);
            t4j_moe_combine_params.out_row_stride(p, 16);
            t4j_moe_combine_params.y_row_stride(p, 16);
            t4j_moe_combine_params.top_k(p, 2);
            t4j_moe_combine_params.dtype(p, t4j_h.T4J_DTYPE_BF16);
            return p;
        }, change, p -> t4j_h.t4j_moe_combine(p, MemorySegment.NULL));
    }

    /** A well-formed grouped GEMM of capacity 0 (validated, then nothing to launch). */
    private static int groupedWith(Consumer<MemorySegment> change) {
        return call(a -> {
            MemorySegment p = t4j_linear_params.allocate(a);
            t4j_linear_params.c(p, FAKE);
            t4j_linear_params.a(p, FAKE);
            t4j_linear_params.b(p, FAKE);
            t4j_linear_params.group_offsets(p, FAKE);
            t4j_linear_params.n(p, 64);
            t4j_linear_params.k(p, 32);
            t4j_linear_params.batch(p, 8);
            t4j_linear_params.lda(p, 32);
            t4j_linear_params.ldb(p, 64);
            t4j_linear_params.ldc(p, 64);
            t4j_linear_params.stride_b(p, 32 * 64);
            t4j_linear_params.alpha(p, 1f);
            t4j_linear_params.dtype(p, t4j_h.T4J_DTYPE_BF16);
            return p;
        }, change, p -> t4j_h.t4j_linear(p, MemorySegment.NULL));
    }

    @Test
    void layoutSizes() {
        assertEquals(104, t4j_moe_route_params.sizeof());
        assertEquals(72, t4j_gather_rows_params.sizeof());
        assertEquals(128, t4j_moe_combine_params.sizeof());
    }

    @Test
    void malformedRouteParamsAreRejected() {
        assertEquals(BAD, t4j_h.t4j_moe_route(MemorySegment.NULL, MemorySegment.NULL), "null params");
        assertEquals(BAD, routeWith(p -> t4j_moe_route_params.slots(p, MemorySegment.NULL)), "null slots");
        assertEquals(BAD, routeWith(p -> t4j_moe_route_params.experts(p, 1025)), "E 1025");
        assertEquals(BAD, routeWith(p -> t4j_moe_route_params.experts(p, 0)), "E 0");
        assertEquals(BAD, routeWith(p -> t4j_moe_route_params.top_k(p, 33)), "k 33");
        assertEquals(BAD, routeWith(p -> t4j_moe_route_params.top_k(p, 0)), "k 0");
        assertEquals(BAD, routeWith(p -> t4j_moe_route_params.top_k(p, 65)), "k > E");
        assertEquals(BAD, routeWith(p -> t4j_moe_route_params.tokens(p, -1)), "negative T");
        assertEquals(BAD, routeWith(p -> t4j_moe_route_params.logits_row_stride(p, 63)), "row stride < E");
        assertEquals(BAD, routeWith(p -> t4j_moe_route_params.renormalize(p, 2)), "renormalize 2");
        assertEquals(BAD, routeWith(p -> t4j_moe_route_params.dtype(p, 7)), "dtype 7");
        assertEquals(BAD, routeWith(p -> t4j_moe_route_params.tokens(p, 1L << 30)), "T·k past 2^31-1");
    }

    /** DeepSeek's fields (ABI 18) on the E 64, top 8 router: each malformed one alone is refused before any launch. */
    @Test
    void malformedDeepSeekRouteParamsAreRejected() {
        // DeepSeek-V3's router (E 256, k 8, 8 groups keeping 4, bias, scale 2.5) passes validation: what comes back
        // is the launch's own status (no driver here), not an argument error.
        assertNotEquals(BAD, routeWith(p -> {
            t4j_moe_route_params.top_k(p, 8);
            t4j_moe_route_params.logits_row_stride(p, 256);
            t4j_moe_route_params.scoring(p, t4j_h.T4J_MOE_SIGMOID);
            t4j_moe_route_params.correction_bias(p, FAKE);
            t4j_moe_route_params.scale(p, 2.5f);
            groups(p, 256, 8, 4);
        }), "DeepSeek-V3");
        assertEquals(BAD, routeWith(p -> t4j_moe_route_params.scoring(p, 2)), "scoring 2");
        assertEquals(BAD, routeWith(p -> t4j_moe_route_params.scoring(p, -1)), "scoring -1");
        // ERNIE 4.5's router (softmax + bias, E 64, k 6) passes since ABI 18's rule was relaxed: the launch's own status.
        assertNotEquals(BAD, routeWith(p -> {
            t4j_moe_route_params.top_k(p, 6);
            t4j_moe_route_params.correction_bias(p, FAKE);
        }), "a bias with softmax (ERNIE 4.5)");
        assertEquals(BAD, routeWith(p -> t4j_moe_route_params.correction_bias(p, MemorySegment.ofAddress(0x10002))),
                "a misaligned bias with softmax");
        assertEquals(BAD, routeWith(p -> {
            t4j_moe_route_params.scoring(p, t4j_h.T4J_MOE_SIGMOID);
            t4j_moe_route_params.correction_bias(p, MemorySegment.ofAddress(0x10002));
        }), "a misaligned bias");
        assertEquals(BAD, routeWith(p -> t4j_moe_route_params.scale(p, -1f)), "scale -1");
        assertEquals(BAD, routeWith(p -> t4j_moe_route_params.scale(p, Float.NaN)), "scale NaN");
        assertEquals(BAD, routeWith(p -> t4j_moe_route_params.scale(p, Float.POSITIVE_INFINITY)), "scale ∞");
        assertEquals(BAD, routeWith(p -> t4j_moe_route_params.n_group(p, -1)), "n_group -1");
        assertEquals(BAD, routeWith(p -> t4j_moe_route_params.topk_group(p, 2)), "topk_group 2 without groups");
        assertEquals(BAD, routeWith(p -> groups(p, 64, 64, 1)), "n_group 64 past the limit 32");
        assertEquals(BAD, routeWith(p -> groups(p, 64, 3, 1)), "n_group 3 does not divide E 64");
        assertEquals(BAD, routeWith(p -> groups(p, 64, 8, 0)), "topk_group 0");
        assertEquals(BAD, routeWith(p -> groups(p, 64, 8, 9)), "topk_group 9 > n_group 8");
        assertEquals(BAD, routeWith(p -> groups(p, 64, 16, 1)), "top_k 8 > the 4 experts of one kept group");
        assertEquals(BAD, routeWith(p -> {
            t4j_moe_route_params.scoring(p, t4j_h.T4J_MOE_SIGMOID);
            t4j_moe_route_params.top_k(p, 4);
            groups(p, 32, 32, 32);
        }), "sigmoid groups of one expert (no top-2)");
    }

    private static void groups(MemorySegment p, int experts, int nGroup, int topkGroup) {
        t4j_moe_route_params.experts(p, experts);
        t4j_moe_route_params.n_group(p, nGroup);
        t4j_moe_route_params.topk_group(p, topkGroup);
    }

    @Test
    void malformedGatherParamsAreRejected() {
        assertEquals(t4j_h.T4J_SUCCESS, gatherWith(p -> { }), "well formed, n 0");
        assertEquals(BAD, t4j_h.t4j_gather_rows(MemorySegment.NULL, MemorySegment.NULL), "null params");
        assertEquals(t4j_h.T4J_SUCCESS, gatherWith(p -> t4j_gather_rows_params.rows(p, MemorySegment.NULL)), "null rows: identity (ABI 20)");
        assertEquals(BAD, gatherWith(p -> {
            t4j_gather_rows_params.rows(p, MemorySegment.NULL);
            t4j_gather_rows_params.n(p, 5);
        }), "identity rows past x's 4");
        assertEquals(t4j_h.T4J_SUCCESS, gatherWith(p -> t4j_gather_rows_params.widen(p, 1)), "F16 widened to F32");
        assertEquals(BAD, gatherWith(p -> t4j_gather_rows_params.widen(p, 2)), "widen 2");
        assertEquals(BAD, gatherWith(p -> {
            t4j_gather_rows_params.widen(p, 1);
            t4j_gather_rows_params.dtype(p, t4j_h.T4J_DTYPE_F32);
        }), "F32 widened");
        assertEquals(BAD, gatherWith(p -> {
            t4j_gather_rows_params.widen(p, 1);
            t4j_gather_rows_params.out(p, MemorySegment.ofAddress(0x10002));
        }), "an F32 out on a 2-byte address");
        assertEquals(BAD, gatherWith(p -> t4j_gather_rows_params.n(p, -1)), "negative n");
        assertEquals(BAD, gatherWith(p -> t4j_gather_rows_params.x_rows(p, 0)), "no x rows");
        assertEquals(BAD, gatherWith(p -> t4j_gather_rows_params.x_row_stride(p, 15)), "x row stride < cols");
        assertEquals(BAD, gatherWith(p -> t4j_gather_rows_params.out(p, MemorySegment.ofAddress(0x10001))), "F16 out on an odd address");
    }

    @Test
    void malformedCombineParamsAreRejected() {
        assertEquals(t4j_h.T4J_SUCCESS, combineWith(p -> { }), "well formed, T 0");
        assertEquals(t4j_h.T4J_SUCCESS, combineWith(p -> {
            t4j_moe_combine_params.residual(p, FAKE);
            t4j_moe_combine_params.residual_row_stride(p, 16);
        }), "residual aliasing out exactly");
        assertEquals(BAD, t4j_h.t4j_moe_combine(MemorySegment.NULL, MemorySegment.NULL), "null params");
        assertEquals(BAD, combineWith(p -> t4j_moe_combine_params.weights(p, MemorySegment.NULL)), "null weights");
        assertEquals(BAD, combineWith(p -> t4j_moe_combine_params.top_k(p, 33)), "k 33");
        assertEquals(BAD, combineWith(p -> t4j_moe_combine_params.slot_rows(p, 0)), "no slot rows");
        assertEquals(BAD, combineWith(p -> {
            t4j_moe_combine_params.residual(p, FAKE);
            t4j_moe_combine_params.residual_row_stride(p, 32);
        }), "residual aliasing out with another stride");
        assertEquals(BAD, combineWith(p -> t4j_moe_combine_params.shared_gate(p, FAKE)), "a gate without shared");
    }

    @Test
    void groupedLinearTakesF32() {
        assertEquals(t4j_h.T4J_SUCCESS, groupedWith(p -> { }), "well formed, capacity 0");
        assertEquals(t4j_h.T4J_SUCCESS, groupedWith(p -> t4j_linear_params.dtype(p, t4j_h.T4J_DTYPE_F32)), "F32 grouped");
    }

    /**
     * ABI 15, a residual on the grouped GEMM (LoRA's expand adds into its base projection's output): c itself with c's
     * stride, or apart from c's rows; ld_residual ≥ N; dense weights only. The refusals come before any driver call
     * (capacity 4: the overlap rule needs rows), the accepted forms are checked at capacity 0.
     */
    @Test
    void groupedLinearTakesAResidualThatIsCOrApartFromIt() {
        Consumer<MemorySegment> inPlace = p -> {
            t4j_linear_params.residual(p, FAKE);                       // c itself
            t4j_linear_params.ld_residual(p, 64);
        };
        Function<Long, Consumer<MemorySegment>> at = bytes -> p -> {   // 4 rows of c; a residual `bytes` past c's start
            t4j_linear_params.m(p, 4);
            t4j_linear_params.residual(p, MemorySegment.ofAddress(FAKE.address() + bytes));
            t4j_linear_params.ld_residual(p, 64);
        };
        assertEquals(t4j_h.T4J_SUCCESS, groupedWith(inPlace), "residual = c, same stride");
        assertEquals(t4j_h.T4J_SUCCESS, groupedWith(inPlace.andThen(p -> t4j_linear_params.dtype(p, t4j_h.T4J_DTYPE_F32))), "F32 in place");
        assertEquals(t4j_h.T4J_SUCCESS, groupedWith(inPlace.andThen(p -> {
            t4j_linear_params.gated(p, 1);
            t4j_linear_params.b_gate(p, FAKE);
            t4j_linear_params.activation(p, t4j_h.T4J_ACT_SILU);
        })), "gated, in place");
        assertEquals(t4j_h.T4J_SUCCESS, groupedWith(p -> {
            t4j_linear_params.residual(p, MemorySegment.ofAddress(0x40000));
            t4j_linear_params.ld_residual(p, 72);
            t4j_linear_params.stride_residual(p, 5);                   // ignored with groups
        }), "a separate residual with its own stride");
        assertEquals(BAD, groupedWith(inPlace.andThen(p -> t4j_linear_params.ld_residual(p, 80))), "residual = c with another stride");
        assertEquals(BAD, groupedWith(p -> {
            t4j_linear_params.residual(p, MemorySegment.ofAddress(0x40000));
            t4j_linear_params.ld_residual(p, 63);
        }), "ld_residual < N");
        // BF16 c of 4 rows, ldc 64: bytes [0, 512) past FAKE
        assertEquals(BAD, groupedWith(at.apply(128L)), "residual one row into c");
        assertEquals(BAD, groupedWith(at.apply(510L)), "residual from c's last element");
        assertEquals(BAD, groupedWith(at.apply(2L - 512)), "residual ending at c's first element");
        assertEquals(BAD, groupedWith(at.apply(1020L).andThen(p -> t4j_linear_params.dtype(p, t4j_h.T4J_DTYPE_F32))),
                "F32: residual from c's last element (4-byte elements)");
        Consumer<MemorySegment> mxfp4 = p -> {
            t4j_linear_params.b_format(p, t4j_h.T4J_WEIGHTS_MXFP4);
            t4j_linear_params.b_scale(p, FAKE);
            t4j_linear_params.trans_b(p, 1);
            t4j_linear_params.stride_b(p, 64 * 32);
        };
        assertEquals(t4j_h.T4J_SUCCESS, groupedWith(mxfp4), "MXFP4 without a residual");
        assertEquals(BAD, groupedWith(inPlace.andThen(mxfp4)), "a residual with MXFP4 weights");
    }

    /** ABI 11, GPT-OSS's experts: per-group biases (stride_bias) and the clamped SwiGLU, gated only. */
    @Test
    void groupedLinearTakesPerGroupBiasesAndTheClampedSwigluWhenGated() {
        Consumer<MemorySegment> experts = p -> {
            t4j_linear_params.gated(p, 1);
            t4j_linear_params.b_gate(p, FAKE);
            t4j_linear_params.bias(p, FAKE);
            t4j_linear_params.bias_gate(p, FAKE);
            t4j_linear_params.stride_bias(p, 64);
            t4j_linear_params.activation(p, t4j_h.T4J_ACT_SWIGLU_OAI);
        };
        assertEquals(t4j_h.T4J_SUCCESS, groupedWith(experts), "GPT-OSS's experts");
        assertEquals(t4j_h.T4J_SUCCESS, groupedWith(experts.andThen(p -> t4j_linear_params.dtype(p, t4j_h.T4J_DTYPE_F32))), "F32");
        assertEquals(BAD, groupedWith(experts.andThen(p -> t4j_linear_params.stride_bias(p, -64))), "negative stride_bias");
        assertEquals(BAD, groupedWith(experts.andThen(p -> {
            t4j_linear_params.gated(p, 0);
            t4j_linear_params.b_gate(p, MemorySegment.NULL);
            t4j_linear_params.bias_gate(p, MemorySegment.NULL);
        })), "SWIGLU_OAI ungated");
        assertEquals(8 * 25, t4j_linear_params.layout().byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement("stride_bias")),
                "stride_bias appended after group_offsets");
    }

    /**
     * ABI 13, MXFP4 weights (b_format): grouped, BF16, (N, K) weights with K, ldb and stride_b in whole blocks of 32,
     * scales exactly where the format needs them, 8-byte aligned codes. Each rule is checked before the empty problem
     * (capacity 0) succeeds, so these run without a GPU.
     */
    @Test
    void groupedLinearTakesMxfp4WeightsOnlyInTheShapeItsInstancesRead() {
        Consumer<MemorySegment> mxfp4 = p -> {
            t4j_linear_params.b_format(p, t4j_h.T4J_WEIGHTS_MXFP4);
            t4j_linear_params.b_scale(p, FAKE);
            t4j_linear_params.trans_b(p, 1);
            t4j_linear_params.ldb(p, 64);          // values between rows (2K: gpt-oss's interleaved gate and up rows)
            t4j_linear_params.stride_b(p, 64 * 64);
        };
        Consumer<MemorySegment> gatedUp = mxfp4.andThen(p -> {
            t4j_linear_params.gated(p, 1);
            t4j_linear_params.b_gate(p, MemorySegment.ofAddress(0x10000 + 16));  // one row further: K / 2 bytes
            t4j_linear_params.b_gate_scale(p, MemorySegment.ofAddress(0x20001));  // scales are bytes: any address
            t4j_linear_params.bias(p, FAKE);
            t4j_linear_params.bias_gate(p, FAKE);
            t4j_linear_params.stride_bias(p, 64);
            t4j_linear_params.activation(p, t4j_h.T4J_ACT_SWIGLU_OAI);
        });
        assertEquals(t4j_h.T4J_SUCCESS, groupedWith(mxfp4), "gpt-oss's down");
        assertEquals(t4j_h.T4J_SUCCESS, groupedWith(gatedUp), "gpt-oss's gated up");
        assertEquals(BAD, groupedWith(mxfp4.andThen(p -> t4j_linear_params.b_format(p, 3))), "an unknown format");
        assertEquals(BAD, groupedWith(mxfp4.andThen(p -> t4j_linear_params.b_format(p, t4j_h.T4J_WEIGHTS_INT4))), "INT4 grouped");
        assertEquals(BAD, groupedWith(mxfp4.andThen(p -> t4j_linear_params.b_zero(p, FAKE))), "INT4's zero points with MXFP4");
        assertEquals(BAD, groupedWith(p -> t4j_linear_params.b_scale(p, FAKE)), "scales with dense weights");
        assertEquals(BAD, groupedWith(mxfp4.andThen(p -> t4j_linear_params.b_scale(p, MemorySegment.NULL))), "no scales");
        assertEquals(BAD, groupedWith(gatedUp.andThen(p -> t4j_linear_params.b_gate_scale(p, MemorySegment.NULL))), "gated without the gate's scales");
        assertEquals(BAD, groupedWith(mxfp4.andThen(p -> t4j_linear_params.b_gate_scale(p, FAKE))), "the gate's scales ungated");
        assertEquals(BAD, groupedWith(mxfp4.andThen(p -> t4j_linear_params.dtype(p, t4j_h.T4J_DTYPE_F16))), "F16 activations");
        assertEquals(BAD, groupedWith(mxfp4.andThen(p -> t4j_linear_params.dtype(p, t4j_h.T4J_DTYPE_F32))), "F32 activations");
        assertEquals(BAD, groupedWith(mxfp4.andThen(p -> t4j_linear_params.trans_b(p, 0))), "(K, N) weights");
        assertEquals(BAD, groupedWith(mxfp4.andThen(p -> {
            t4j_linear_params.k(p, 48);
            t4j_linear_params.lda(p, 48);
        })), "K % 32 != 0");
        assertEquals(BAD, groupedWith(mxfp4.andThen(p -> t4j_linear_params.ldb(p, 48))), "ldb % 32 != 0");
        assertEquals(BAD, groupedWith(mxfp4.andThen(p -> t4j_linear_params.stride_b(p, 64 * 64 + 16))), "stride_b % 32 != 0");
        assertEquals(BAD, groupedWith(mxfp4.andThen(p -> t4j_linear_params.b(p, MemorySegment.ofAddress(0x10004)))), "codes 4-byte aligned");
        assertEquals(BAD, groupedWith(gatedUp.andThen(p -> t4j_linear_params.b_gate(p, MemorySegment.ofAddress(0x10012)))),
                "the gate's codes misaligned");
        assertEquals(BAD, groupedWith(mxfp4.andThen(p -> t4j_linear_params.group_offsets(p, MemorySegment.NULL))), "ungrouped");
        assertEquals(BAD, groupedWith(mxfp4.andThen(p -> t4j_linear_params.reserved2(p, 1))), "reserved2");
        assertEquals(8 * 25 + 8 + 8 + 8 + 4 + 4 + 8 + 8 + 8 + 8 + 4 + 4, t4j_linear_params.sizeof(),
                "b_scale, b_gate_scale, b_format, reserved2 appended (ABI 13); b_zero, b_gate_zero, b_gidx, b_gate_gidx, b_group_size, b_groups (ABI 21)");
    }

    /** A well-formed plain (not grouped) GEMM over INT4 weights (ABI 21): M 0, N 64, K 32, one group of 32 (succeeds unlaunched). */
    private static int int4With(Consumer<MemorySegment> change) {
        return call(a -> {
            MemorySegment p = t4j_linear_params.allocate(a);
            t4j_linear_params.c(p, FAKE);
            t4j_linear_params.a(p, FAKE);
            t4j_linear_params.b(p, FAKE);
            t4j_linear_params.b_scale(p, FAKE);
            t4j_linear_params.b_zero(p, MemorySegment.ofAddress(0x30001));  // bytes: any address
            t4j_linear_params.b_format(p, t4j_h.T4J_WEIGHTS_INT4);
            t4j_linear_params.b_group_size(p, 32);
            t4j_linear_params.b_groups(p, 1);
            t4j_linear_params.n(p, 64);
            t4j_linear_params.k(p, 32);
            t4j_linear_params.batch(p, 1);
            t4j_linear_params.lda(p, 32);
            t4j_linear_params.ldb(p, 64);  // words between the code rows, elements between the scales' rows: ≥ N, not K
            t4j_linear_params.ldc(p, 64);
            t4j_linear_params.trans_b(p, 1);
            t4j_linear_params.alpha(p, 1f);
            t4j_linear_params.dtype(p, t4j_h.T4J_DTYPE_BF16);
            return p;
        }, change, p -> t4j_h.t4j_linear(p, MemorySegment.NULL));
    }

    @Test
    void linearTakesInt4WeightsOnlyInTheShapeItsInstancesRead() {
        Consumer<MemorySegment> gated = p -> {
            t4j_linear_params.gated(p, 1);
            t4j_linear_params.ldb(p, 128);  // [up | gate] side by side
            t4j_linear_params.b_gate(p, MemorySegment.ofAddress(0x10000 + 64 * 4));
            t4j_linear_params.b_gate_scale(p, MemorySegment.ofAddress(0x10000 + 64 * 2));
            t4j_linear_params.b_gate_zero(p, MemorySegment.ofAddress(0x30001 + 64));
            t4j_linear_params.activation(p, t4j_h.T4J_ACT_SILU);
        };
        Consumer<MemorySegment> actOrder = p -> {
            t4j_linear_params.b_gidx(p, FAKE);
            t4j_linear_params.b_group_size(p, 0);
            t4j_linear_params.b_groups(p, 4);
        };
        assertEquals(t4j_h.T4J_SUCCESS, int4With(p -> { }), "AWQ / GPTQ 4-bit, BF16");
        assertEquals(t4j_h.T4J_SUCCESS, int4With(p -> t4j_linear_params.dtype(p, t4j_h.T4J_DTYPE_F16)), "F16");
        assertEquals(t4j_h.T4J_SUCCESS, int4With(gated), "gated");
        assertEquals(t4j_h.T4J_SUCCESS, int4With(actOrder), "act-order g_idx");
        assertEquals(t4j_h.T4J_SUCCESS, int4With(gated.andThen(actOrder).andThen(p -> t4j_linear_params.b_gate_gidx(p, FAKE))),
                "gated, act-order: the gate's own g_idx");
        assertEquals(BAD, int4With(gated.andThen(actOrder)), "gated act-order without the gate's g_idx");
        assertEquals(BAD, int4With(gated.andThen(p -> t4j_linear_params.b_gate_gidx(p, FAKE))), "the gate's g_idx without W's");
        assertEquals(BAD, int4With(actOrder.andThen(p -> t4j_linear_params.b_gate_gidx(p, FAKE))), "the gate's g_idx ungated");
        assertEquals(t4j_h.T4J_SUCCESS, int4With(p -> {
            t4j_linear_params.b_group_size(p, 8);
            t4j_linear_params.b_groups(p, 4);
        }), "groups of 8");
        assertEquals(BAD, int4With(p -> t4j_linear_params.dtype(p, t4j_h.T4J_DTYPE_F32)), "F32 activations");
        assertEquals(BAD, int4With(p -> t4j_linear_params.trans_b(p, 0)), "(K, N) weights");
        assertEquals(BAD, int4With(p -> t4j_linear_params.group_offsets(p, FAKE)), "grouped");
        assertEquals(BAD, int4With(p -> t4j_linear_params.stride_b(p, 64)), "weights per batch item");
        assertEquals(BAD, int4With(p -> t4j_linear_params.b_scale(p, MemorySegment.NULL)), "no scales");
        assertEquals(BAD, int4With(p -> t4j_linear_params.b_zero(p, MemorySegment.NULL)), "no zero points");
        assertEquals(BAD, int4With(gated.andThen(p -> t4j_linear_params.b_gate_zero(p, MemorySegment.NULL))), "gated without the gate's zero points");
        assertEquals(BAD, int4With(gated.andThen(p -> t4j_linear_params.b_gate_scale(p, MemorySegment.NULL))), "gated without the gate's scales");
        assertEquals(BAD, int4With(p -> t4j_linear_params.b_gate_zero(p, FAKE)), "the gate's zero points ungated");
        assertEquals(BAD, int4With(p -> {
            t4j_linear_params.k(p, 36);
            t4j_linear_params.lda(p, 36);
            t4j_linear_params.b_group_size(p, 40);
        }), "K % 8 != 0");
        assertEquals(BAD, int4With(p -> t4j_linear_params.ldb(p, 63)), "ldb < N");
        assertEquals(BAD, int4With(p -> t4j_linear_params.b_groups(p, 0)), "no groups");
        assertEquals(BAD, int4With(p -> t4j_linear_params.b_group_size(p, 12)), "a group size not a multiple of 8");
        assertEquals(BAD, int4With(p -> t4j_linear_params.b_group_size(p, 0)), "no group size and no g_idx");
        assertEquals(BAD, int4With(actOrder.andThen(p -> t4j_linear_params.b_group_size(p, 32))), "g_idx with a group size");
        assertEquals(BAD, int4With(p -> t4j_linear_params.b_group_size(p, 8)), "one group of 8 for K 32");
        assertEquals(BAD, int4With(p -> t4j_linear_params.b(p, MemorySegment.ofAddress(0x10002))), "codes not 4-byte aligned");
        assertEquals(BAD, int4With(gated.andThen(p -> t4j_linear_params.b_gate(p, MemorySegment.ofAddress(0x10102)))), "the gate's codes misaligned");
        assertEquals(BAD, int4With(p -> t4j_linear_params.b_scale(p, MemorySegment.ofAddress(0x10001))), "F16 scales misaligned");
        assertEquals(BAD, int4With(p -> t4j_linear_params.b_format(p, t4j_h.T4J_WEIGHTS_DENSE)), "INT4 fields with dense weights");
        assertEquals(BAD, int4With(p -> t4j_linear_params.reserved2(p, 1)), "reserved2");
    }
}
