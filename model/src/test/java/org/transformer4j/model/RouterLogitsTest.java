// RouterLogitsTest — the routers transformers runs in fp32 (F.linear(x.float(), w.float()): DeepSeek-V2 / V3, GLM-4.5,
// ERNIE 4.5 MoE, dots.llm1) take fp32 logits in a BF16 model too: the hidden states widened exactly, an F32 router matrix equal to the
// checkpoint's, logits equal to float64 dot products within fp32 accumulation; the other routers (Mixtral, Qwen-MoE,
// OLMoE) keep the model dtype's logits, as transformers does.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.GatherRowsOp;
import org.transformer4j.runtime.LinearOp;
import org.transformer4j.runtime.MoeRouteOp;
import org.transformer4j.runtime.Tensor;

class RouterLogitsTest {

    /** What one router call saw: the hidden states before widening (if any), the GEMM's x, w and logits, as floats. */
    record Call(DType sourceDType, float[] source, DType xDType, float[] x, DType wDType, float[] w, DType logitsDType, float[] logits,
                long rows, long cols, long experts) {}

    /** A CPU backend that records, for each router call, the GEMM that made its logits and the widening before it. */
    static final class Spy {
        final CpuBackend cpu = new CpuBackend();
        final Map<Tensor, float[][]> widened = new IdentityHashMap<>();     // widened out → {source values, dtype code}
        final Map<Tensor, Object[]> made = new IdentityHashMap<>();         // a linear's out → its x, w and values
        final List<Call> calls = new ArrayList<>();
        final Backend backend = (Backend) java.lang.reflect.Proxy.newProxyInstance(Backend.class.getClassLoader(),
                new Class<?>[] {Backend.class}, (proxy, method, args) -> {
                    Object r;
                    try {
                        r = method.invoke(cpu, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                    if (args != null && args.length == 1 && args[0] instanceof GatherRowsOp g && g.rows() == null) {
                        widened.put(g.out(), new float[][] {g.x().toFloatArray(), {g.x().dtype().ordinal()}});
                    } else if (args != null && args.length == 1 && args[0] instanceof LinearOp l) {
                        made.put(l.out(), new Object[] {l.x(), l.x().toFloatArray(), l.w(), l.out().toFloatArray()});
                    } else if (args != null && args.length == 1 && args[0] instanceof MoeRouteOp m) {
                        Object[] lin = made.get(m.logits());
                        assertTrue(lin != null, "the router's logits come from a linear op");
                        Tensor x = (Tensor) lin[0], w = (Tensor) lin[2];
                        float[][] src = widened.get(x);
                        calls.add(new Call(src == null ? null : DType.values()[(int) src[1][0]], src == null ? null : src[0], x.dtype(),
                                (float[]) lin[1], w.dtype(), w.toFloatArray(), m.logits().dtype(), (float[]) lin[3], x.shape(0), x.shape(1),
                                w.shape(0)));
                    }
                    return r;
                });
    }

    @ParameterizedTest
    @ValueSource(strings = {"deepseek-v2-lite", "deepseek-v3", "glm4-moe", "ernie4_5-moe", "dots1"})
    void bf16ModelsRouteOnFp32LogitsOfTheWidenedHiddenStates(String fixture) throws Exception {
        ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open(fixture);
        Spy spy = new Spy();
        try (spy.cpu; Weights w = Pretrained.load(f.dir(), spy.backend); Weights b = w.to(DType.BF16)) {
            assertTrue(b.config.moe().routing().fp32Logits(), fixture + " routes on fp32 logits");
            new Transformer(b, spy.backend).logits(new int[][] {f.ids("input_ids")[0]});
            assertTrue(!spy.calls.isEmpty(), "no router ran");
            for (Call c : spy.calls) {
                String what = fixture + " router over " + c.rows() + " rows";
                assertEquals(DType.BF16, c.sourceDType(), what + ": widened from the BF16 hidden states");
                assertEquals(DType.F32, c.xDType(), what);
                assertArrayEquals(c.source(), java.util.Arrays.copyOf(c.x(), (int) (c.rows() * c.cols())), what + ": widened exactly");
                assertEquals(DType.F32, c.wDType(), what + ": the router matrix stays F32");
                assertEquals(DType.F32, c.logitsDType(), what);
                double worst = 0;
                for (int t = 0; t < c.rows(); t++) {
                    for (int e = 0; e < c.experts(); e++) {
                        double dot = 0, mag = 0;
                        for (int k = 0; k < c.cols(); k++) {
                            double p = (double) c.x()[(int) (t * c.cols() + k)] * c.w()[(int) (e * c.cols() + k)];
                            dot += p;
                            mag += Math.abs(p);
                        }
                        double err = Math.abs(c.logits()[(int) (t * c.experts() + e)] - dot) / Math.max(mag, 1e-30);
                        worst = Math.max(worst, err);
                    }
                }
                // fp32 accumulation over C products: far below a BF16 rounding of the logits (2^-9 relative)
                assertTrue(worst < 1e-5, what + ": logits off the float64 dot products by " + worst + " of Σ|x·w|");
            }
        }
        // the router matrix is the checkpoint's, not a BF16 rounding of it
        Spy f32 = new Spy();
        try (f32.cpu; Weights w = Pretrained.load(f.dir(), f32.backend)) {
            new Transformer(w, f32.backend).logits(new int[][] {f.ids("input_ids")[0]});
            assertArrayEquals(f32.calls.get(0).w(), spy.calls.get(0).w(), fixture + ": the BF16 model's router matrix is the F32 model's");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"mixtral", "qwen3-moe", "olmoe", "granitemoe"})
    void otherRoutersKeepTheModelDtype(String fixture) throws Exception {
        ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open(fixture);
        Spy spy = new Spy();
        try (spy.cpu; Weights w = Pretrained.load(f.dir(), spy.backend); Weights b = w.to(DType.BF16)) {
            assertTrue(!b.config.moe().routing().fp32Logits(), fixture);
            new Transformer(b, spy.backend).logits(new int[][] {f.ids("input_ids")[0]});
            assertTrue(!spy.calls.isEmpty(), "no router ran");
            for (Call c : spy.calls) {
                assertSame(null, c.sourceDType(), fixture + ": nothing widened");
                assertEquals(DType.BF16, c.logitsDType(), fixture);
                assertEquals(DType.BF16, c.wDType(), fixture);
            }
        }
    }
}
