// MlaLatentCacheTest — DeepSeek's MLA with a latent KV cache on the CPU (Transformer.latentMla): the cache holds one row of
// ropeDim + kvLoraRank per token and layer instead of K and V of every head, and decoding through it gives the logits and
// greedy tokens of the materialized cache (the path CUDA takes, whose kernels stop at head size 256 below DeepSeek's 576:
// forced here by a backend that says it runs heads narrower than the tiny folders' latent row of 24)
// and of the full pass, in F32 and BF16.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.DType;

class MlaLatentCacheTest {

    /** The CPU backend as a device whose attention kernels stop below the latent row sees it: MLA keeps the materialized cache. */
    static Backend narrowHeads(CpuBackend cpu) {
        return (Backend) java.lang.reflect.Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("maxHeadSize")) return 16;
                    try {
                        return method.invoke(cpu, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    /**
     * Logits within fp32 noise (F32) or BF16's (2e-2 of the largest), every step. Not deepseek-v3 in BF16: its folder's
     * sigmoid router is built to have choices a bias turns, and two BF16 roundings of the same attention may pick another
     * expert there some steps in (either is a faithful BF16 run); its greedy tokens agree below.
     */
    @ParameterizedTest
    @CsvSource({"deepseek-v2-lite, F32", "deepseek-v2, F32", "deepseek-v3, F32", "deepseek-v2-lite, BF16", "deepseek-v2, BF16"})
    void theLatentCacheDecodesAsTheMaterializedOneInAnEighthOfTheBytes(String fixture, DType dtype) throws Exception {
        ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open(fixture);
        CpuBackend cpu = new CpuBackend();
        Backend narrow = narrowHeads(cpu);
        try (cpu; Weights wl = Pretrained.load(f.dir(), cpu); Weights wm = Pretrained.load(f.dir(), narrow);
             Weights l = wl.to(dtype); Weights m = wm.to(dtype)) {
            Transformer latent = new Transformer(l, cpu), materialized = new Transformer(m, narrow);
            assertTrue(latent.latentMla, "the CPU runs a latent head of " + Transformer.latentWidth(l.config));
            assertFalse(materialized.latentMla, "heads to 16 cannot");
            assertNotNull(l.decoder.layers().get(0).self().mla().kT());
            assertNull(m.decoder.layers().get(0).self().mla().kT(), "no absorbed projection where it would not run");
            TransformerConfig c = l.config;
            int width = c.mla().ropeDim() + c.mla().kvLoraRank(), layers = c.decoderLayers(), bytes = dtype.byteSize();
            assertEquals((long) layers * PagedBatch.BLOCK_SIZE * width * bytes, PagedBatch.bytesPerBlock(latent), "one latent row a token");
            assertEquals((long) layers * PagedBatch.BLOCK_SIZE * 2 * c.kvHeads() * c.headSize() * bytes, PagedBatch.bytesPerBlock(materialized));

            int[] prompt = f.ids("input_ids")[0];
            int steps = 12, n = prompt.length + steps;
            float[][] full = null;
            int[] seq = Arrays.copyOf(prompt, n);
            try (KvState sl = latent.newState(1, n); KvState sm = materialized.newState(1, n)) {
                float[][] a = latent.prefill(sl, 0, prompt), b = materialized.prefill(sm, 0, prompt);
                double tol = (dtype == DType.F32 ? 2e-5 : 2e-2) * DecoderCacheTest.maxAbs(b);
                assertTrue(Tiny.maxDiff(a, b, 0) <= tol, fixture + " " + dtype + ": prefill differs by " + Tiny.maxDiff(a, b, 0));
                float[] last = a[a.length - 1];
                for (int t = prompt.length; t < n; t++) {
                    int next = argmax(last);
                    seq[t] = next;
                    float[][] x = latent.step(sl, new int[] {next}), y = materialized.step(sm, new int[] {next});
                    double d = Tiny.maxDiff(x, y, 0);
                    assertTrue(d <= tol, fixture + " " + dtype + ": step " + t + " differs by " + d + " (tolerance " + tol + ")");
                    last = x[0];
                }
            }
            if (dtype == DType.F32) {                                                      // and the full pass over the same tokens
                full = latent.logits(new int[][] {Arrays.copyOf(seq, n - 1)})[0];
                try (KvState again = latent.newState(1, n)) {
                    float[][] p = latent.prefill(again, 0, Arrays.copyOf(seq, n - 1));
                    assertTrue(Tiny.maxDiff(p, full, 0) <= 2e-5 * DecoderCacheTest.maxAbs(full), fixture + ": latent prefill vs full pass");
                }
            }
        }
    }

    /** The greedy tokens through the latent cache are the materialized cache's (DeepSeek-V3's folder, BF16). */
    @ParameterizedTest
    @CsvSource({"deepseek-v3, BF16", "deepseek-v2, F32"})
    void greedyTokensAgree(String fixture, DType dtype) throws Exception {
        ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open(fixture);
        CpuBackend cpu = new CpuBackend();
        try (cpu; Weights wl = Pretrained.load(f.dir(), cpu); Weights wm = Pretrained.load(f.dir(), narrowHeads(cpu));
             Weights l = wl.to(dtype); Weights m = wm.to(dtype)) {
            int[] prompt = f.ids("input_ids")[0];
            assertArrayEquals(greedy(new Transformer(m, narrowHeads(cpu)), prompt, 10), greedy(new Transformer(l, cpu), prompt, 10),
                    fixture + " " + dtype);
        }
    }

    private static int[] greedy(Transformer t, int[] prompt, int steps) {
        int[] out = new int[steps];
        try (KvState st = t.newState(1, prompt.length + steps)) {
            float[][] p = t.prefill(st, 0, prompt);
            float[] last = p[p.length - 1];
            for (int i = 0; i < steps; i++) {
                out[i] = argmax(last);
                last = t.step(st, new int[] {out[i]})[0];
            }
        }
        return out;
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
