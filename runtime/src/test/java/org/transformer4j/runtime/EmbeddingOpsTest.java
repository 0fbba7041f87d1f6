// EmbeddingOpsTest — the CPU twin of the embedding op against a float64 reference: token, position
// (with an offset) and token-type rows summed, for F32 and BF16.
package org.transformer4j.runtime;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class EmbeddingOpsTest {

    private final CpuBackend cpu = new CpuBackend();

    @Test
    void embeddingSumsTokenPositionAndTypeRows() {
        SplittableRandom rnd = new SplittableRandom(3);
        int v = 11, c = 6, p = 9, tv = 2;
        int[] ids = {3, 10, 0, 7, 7, 1};
        int[] types = {0, 0, 1, 1, 0, 1};
        for (DType dt : new DType[] {DType.F32, DType.BF16}) {
            try (Tensor tok = Tensor.of(dt, LinearOpTest.random(rnd, v * c, 1), v, c);
                 Tensor pos = Tensor.of(dt, LinearOpTest.random(rnd, p * c, 1), p, c);
                 Tensor typ = Tensor.of(dt, LinearOpTest.random(rnd, tv * c, 1), tv, c);
                 Tensor idT = Tensor.ofInts(ids, 2, 3); Tensor tyT = Tensor.ofInts(types, 2, 3);
                 Tensor out = Tensor.empty(dt, 2, 3, c)) {
                cpu.embedding(EmbeddingOp.of(idT, tok, pos, out).positionOffset(4).types(tyT, typ));
                float[] tf = tok.toFloatArray(), pf = pos.toFloatArray(), yf = typ.toFloatArray();
                double[] ref = new double[6 * c];
                for (int r = 0; r < 6; r++) {
                    for (int j = 0; j < c; j++) {
                        ref[r * c + j] = (double) tf[ids[r] * c + j] + pf[(4 + r % 3) * c + j] + yf[types[r] * c + j];
                    }
                }
                LinearOpTest.assertClose(dt, out.toFloatArray(), ref, "embedding " + dt);
            }
        }
    }
}
