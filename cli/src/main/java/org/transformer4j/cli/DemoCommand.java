// DemoCommand — `t4j demo`: the README's main job. Shows `info`, then runs this build's ops on the
// chosen backend (GEMM, LayerNorm and RMSNorm fused with the residual add, the fused linear with
// bias + GELU, greedy sampling over a GPT-2-sized vocabulary, causal GQA attention) in fp32 and bf16,
// checks each against the tests' float64 references (runtime's reference.Oracle / AttentionOracle), and times them. Then the model layer
// (DemoModels): MiniLM's similarity matrix, the four steps live, and the multi-turn chat cost table.
package org.transformer4j.cli;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import org.transformer4j.runtime.Activation;
import org.transformer4j.runtime.AttentionOp;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.Backends;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.GemmOp;
import org.transformer4j.runtime.LinearOp;
import org.transformer4j.runtime.NormOp;
import org.transformer4j.runtime.SampleOp;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.Tensor;
import org.transformer4j.runtime.Tolerance;
import org.transformer4j.runtime.reference.AttentionOracle;
import org.transformer4j.runtime.reference.Oracle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Show `info`, then run and check every op of this build on the chosen backend; then embed a few "
                + "sentences with all-MiniLM-L6-v2 (similarity matrix), show DESIGN.md's four steps live on a small random "
                + "encoder-decoder, and print the multi-turn chat cost of causal vs bidirectional models.",
                "Exit code 1 when any check fails."})
final class DemoCommand implements Callable<Integer> {

    @Option(names = "--seed", description = "Random seed (default: ${DEFAULT-VALUE}).", defaultValue = "42")
    long seed;

    @Override
    public Integer call() throws java.io.IOException {
        PrintStream out = System.out;
        InfoCommand.print(out);
        out.println();
        boolean ok = true;
        try (Backend backend = Backends.select()) {
            out.println("ops on " + backend.description() + ":");
            SplittableRandom rnd = new SplittableRandom(seed);
            for (DType dt : new DType[] {DType.F32, DType.BF16}) {
                ok &= gemm(out, backend, dt, 128, 768, 3072, rnd);
                ok &= norm(out, backend, dt, NormOp.Kind.LAYER, 256, 768, rnd);
                ok &= norm(out, backend, dt, NormOp.Kind.RMS, 256, 512, rnd);
                ok &= linear(out, backend, dt, 128, 512, 2048, rnd);
                ok &= greedy(out, backend, dt, 4, 50257, rnd);
                ok &= attention(out, backend, dt, 2, 256, 8, 2, 64, rnd);
            }
            out.println(ok ? "all ops match the float64 reference" : "SOME OPS DID NOT MATCH the float64 reference");
            out.println();
            ok &= DemoModels.miniLm(out, backend);
            out.println();
            ok &= DemoModels.fourSteps(out, backend, seed);
            out.println();
            ok &= DemoModels.chatCost(out, backend, seed);
        }
        return ok ? 0 : 1;
    }

    /** Relative error bound: fp32 per the design; bf16 allows its 8-bit mantissa (2^-8) with headroom. */
    private static double bound(DType dt) { return dt == DType.F32 ? Tolerance.F32_RELATIVE : 1e-2; }

    private static boolean gemm(PrintStream out, Backend b, DType dt, int m, int k, int n, SplittableRandom rnd) {
        float[] a = random(rnd, m * k);
        float[] w = random(rnd, k * n);
        try (Tensor ha = Tensor.of(dt, a, m, k); Tensor hw = Tensor.of(dt, w, k, n);
             Tensor da = b.upload(ha); Tensor dw = b.upload(hw); Tensor dc = b.empty(dt, m, n)) {
            b.gemm(GemmOp.of(da, dw, dc));
            float[] c;
            try (Tensor hc = b.toHost(dc)) {
                c = hc.toFloatArray();
            }
            double[] ref = Oracle.gemm(1, m, n, k, 1.0, ha.toFloatArray(), 0, 0, k, false, hw.toFloatArray(), 0, 0, n, false,
                    0.0, null, 0, 0, n);
            double err = relError(c, ref);
            long t0 = System.nanoTime();
            int reps = 5;
            for (int r = 0; r < reps; r++) b.gemm(GemmOp.of(da, dw, dc));
            b.synchronize();
            double sec = (System.nanoTime() - t0) / 1e9 / reps;
            out.printf("  gemm %-4s (%d x %d) . (%d x %d)        rel.err %.2e %s  %8.1f GFLOP/s%n", dt, m, k, k, n, err,
                    err <= bound(dt) ? "ok  " : "FAIL", 2.0 * m * n * k / sec / 1e9);
            return err <= bound(dt);
        }
    }

    private static boolean norm(PrintStream out, Backend b, DType dt, NormOp.Kind kind, int rows, int cols,
                                SplittableRandom rnd) {
        float[] x = random(rnd, rows * cols);
        float[] r = random(rnd, rows * cols);
        float[] w = random(rnd, cols);
        float[] bias = random(rnd, cols);
        try (Tensor hx = Tensor.of(dt, x, rows, cols); Tensor hr = Tensor.of(dt, r, rows, cols);
             Tensor hw = Tensor.of(dt, w, cols); Tensor hb = Tensor.of(dt, bias, cols);
             Tensor dx = b.upload(hx); Tensor dr = b.upload(hr); Tensor dw = b.upload(hw); Tensor db = b.upload(hb);
             Tensor dout = b.empty(dt, rows, cols); Tensor dsum = b.empty(dt, rows, cols)) {
            float eps = 1e-5f;
            NormOp op = (kind == NormOp.Kind.LAYER ? NormOp.layer(dx, dw, db, eps, dout) : NormOp.rms(dx, dw, eps, dout))
                    .withResidual(dr, dsum);
            b.norm(op);
            float[] got;
            float[] sum;
            try (Tensor ho = b.toHost(dout); Tensor hs = b.toHost(dsum)) {
                got = ho.toFloatArray();
                sum = hs.toFloatArray();
            }
            // the tests' float64 oracle, on h = x + r stored in this dtype (the residual stream's value)
            double[] refSum = Oracle.hidden(rows, cols, hx.toFloatArray(), 0, cols, hr.toFloatArray(), 0, cols, CpuBackend.rounding(dt));
            float[] ws = hw.toFloatArray();
            double[] ref = kind == NormOp.Kind.LAYER ? Oracle.layerNorm(rows, cols, refSum, ws, 0, hb.toFloatArray(), 0, eps)
                    : Oracle.rmsNorm(rows, cols, refSum, ws, 0, null, 0, eps);
            double err = Math.max(relError(got, ref), relError(sum, refSum));
            long t0 = System.nanoTime();
            int reps = 20;
            for (int rep = 0; rep < reps; rep++) b.norm(op);
            b.synchronize();
            double sec = (System.nanoTime() - t0) / 1e9 / reps;
            double bytes = 5.0 * rows * cols * dt.byteSize();
            out.printf("  %-9s %-4s + residual (%d x %d)       rel.err %.2e %s  %8.2f GB/s%n",
                    kind == NormOp.Kind.LAYER ? "layernorm" : "rmsnorm", dt, rows, cols, err,
                    err <= bound(dt) ? "ok  " : "FAIL", bytes / sec / 1e9);
            return err <= bound(dt);
        }
    }

    /** y = gelu_tanh(x · Wᵀ + b), W stored (F, C) as nn.Linear keeps it. */
    private static boolean linear(PrintStream out, Backend b, DType dt, int m, int k, int n, SplittableRandom rnd) {
        try (Tensor hx = Tensor.of(dt, random(rnd, m * k), m, k); Tensor hw = Tensor.of(dt, random(rnd, n * k), n, k);
             Tensor hb = Tensor.of(dt, random(rnd, n), n);
             Tensor dx = b.upload(hx); Tensor dw = b.upload(hw); Tensor db = b.upload(hb); Tensor dy = b.empty(dt, m, n)) {
            LinearOp op = LinearOp.of(dx, dw, dy).transW(true).bias(db).activation(Activation.GELU_TANH);
            b.linear(op);
            float[] y;
            try (Tensor hy = b.toHost(dy)) {
                y = hy.toFloatArray();
            }
            double[] ref = Oracle.linear(m, n, k, hx.toFloatArray(), hw.toFloatArray(), true, hb.toFloatArray(), null, null, null,
                    1.0, Activation.GELU_TANH.code());
            double err = relError(y, ref);
            long t0 = System.nanoTime();
            int reps = 5;
            for (int r = 0; r < reps; r++) b.linear(op);
            b.synchronize();
            double sec = (System.nanoTime() - t0) / 1e9 / reps;
            out.printf("  linear+gelu %-4s (%d x %d) . (%d x %d)ᵀ rel.err %.2e %s  %8.1f GFLOP/s%n", dt, m, k, n, k, err,
                    err <= bound(dt) ? "ok  " : "FAIL", 2.0 * m * n * k / sec / 1e9);
            return err <= bound(dt);
        }
    }

    /** Greedy next-token ids for a few rows of logits: exactly the argmax. */
    private static boolean greedy(PrintStream out, Backend b, DType dt, int rows, int v, SplittableRandom rnd) {
        try (Tensor hl = Tensor.of(dt, random(rnd, rows * v), rows, v); Tensor dl = b.upload(hl);
             Tensor ids = b.empty(DType.I32, rows)) {
            SampleOp op = SampleOp.greedy(dl, ids);
            b.sample(op);
            int[] got;
            try (Tensor h = b.toHost(ids)) {
                got = h.toIntArray();
            }
            float[] l = hl.toFloatArray();
            boolean same = true;
            for (int r = 0; r < rows; r++) {
                int best = 0;
                for (int i = 1; i < v; i++) if (l[r * v + i] > l[r * v + best]) best = i;
                same &= got[r] == best;
            }
            long t0 = System.nanoTime();
            int reps = 20;
            for (int r = 0; r < reps; r++) b.sample(op);
            b.synchronize();
            double us = (System.nanoTime() - t0) / 1e3 / reps;
            out.printf("  argmax %-4s (%d x %d)                   %-13s %s  %8.1f µs%n", dt, rows, v, same ? "exact" : "differs",
                    same ? "ok  " : "FAIL", us);
            return same;
        }
    }

    /** Causal self-attention, q (B, T, NH, HS), k and v (B, T, NKV, HS), scale 1/sqrt(HS). */
    private static boolean attention(PrintStream out, Backend b, DType dt, int batch, int t, int nh, int nkv, int hs,
                                     SplittableRandom rnd) {
        try (Tensor hq = Tensor.of(dt, random(rnd, batch * t * nh * hs), batch, t, nh, hs);
             Tensor hk = Tensor.of(dt, random(rnd, batch * t * nkv * hs), batch, t, nkv, hs);
             Tensor hv = Tensor.of(dt, random(rnd, batch * t * nkv * hs), batch, t, nkv, hs);
             Tensor dq = b.upload(hq); Tensor dk = b.upload(hk); Tensor dv = b.upload(hv);
             Tensor dout = b.empty(dt, batch, t, nh, hs)) {
            AttentionOp op = AttentionOp.of(dq, dk, dv, dout).causal();
            b.attention(op);
            float[] got;
            try (Tensor ho = b.toHost(dout)) {
                got = ho.toFloatArray();
            }
            float[] q = hq.toFloatArray();
            float[] k = hk.toFloatArray();
            float[] v = hv.toFloatArray();
            double[] ref = new double[got.length];
            int qRows = t * nh * hs, kvRows = t * nkv * hs;                    // one sequence of q and of k, v
            for (int bi = 0; bi < batch; bi++) {
                double[] one = AttentionOracle.attention(Arrays.copyOfRange(q, bi * qRows, (bi + 1) * qRows),
                        Arrays.copyOfRange(k, bi * kvRows, (bi + 1) * kvRows), Arrays.copyOfRange(v, bi * kvRows, (bi + 1) * kvRows),
                        t, nh, nkv, hs, t, "CAUSAL", 0, 1 / Math.sqrt(hs), null, 0, 0, false).out();
                System.arraycopy(one, 0, ref, bi * qRows, qRows);
            }
            double err = relError(got, ref);
            long t0 = System.nanoTime();
            int reps = 5;
            for (int r = 0; r < reps; r++) b.attention(op);
            b.synchronize();
            double sec = (System.nanoTime() - t0) / 1e9 / reps;
            double flops = 4.0 * batch * nh * t * t * hs / 2;   // causal: half of 4·B·NH·T²·HS
            out.printf("  attention %-4s causal (%d x %d, %d/%d heads of %d) rel.err %.2e %s  %8.1f GFLOP/s%n", dt, batch, t,
                    nh, nkv, hs, err, err <= bound(dt) ? "ok  " : "FAIL", flops / sec / 1e9);
            return err <= bound(dt);
        }
    }

    private static float[] random(SplittableRandom rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (rnd.nextDouble() * 2 - 1);
        return v;
    }

    /** ‖got − ref‖ / ‖ref‖. */
    private static double relError(float[] got, double[] ref) { return Tolerance.relativeError(got, ref); }
}
