// BertReference — a naive BERT encoder forward pass in plain loops with float64 accumulation, used
// only as the test oracle for imported weights until the model layer exists (the model-layer
// issue runs the same weights through the library's own layers and compares with this and ORT).
package org.transformer4j.model.onnx;

import java.util.HashMap;
import java.util.Map;
import org.transformer4j.runtime.Tensor;

/**
 * Hugging Face BertModel semantics: embeddings (word + position + token type 0) → LayerNorm; per
 * layer: self-attention (bidirectional, no mask: one unpadded sequence) → dense → +x → LayerNorm;
 * dense → exact GELU → dense → +x → LayerNorm (post-LN, eps {@code eps}). Weights in HF layout
 * ([out, in] for Linear).
 */
final class BertReference {

    private final Map<String, float[]> w = new HashMap<>();
    private final int layers, c, f, heads;
    private final double eps;

    BertReference(Map<String, Tensor> weights, int layers, int heads, double eps) {
        weights.forEach((k, t) -> w.put(k, t.toFloatArray()));
        this.layers = layers;
        this.heads = heads;
        this.eps = eps;
        this.c = (int) weights.get("embeddings.LayerNorm.weight").shape(0);
        this.f = (int) weights.get("encoder.layer.0.intermediate.dense.bias").shape(0);
    }

    /** The last hidden state (T, C) for one unpadded sequence of ids. */
    double[][] forward(int[] ids) {
        int t = ids.length;
        double[][] x = new double[t][c];                                   // (T, C)
        float[] word = w.get("embeddings.word_embeddings.weight");
        float[] pos = w.get("embeddings.position_embeddings.weight");
        float[] typ = w.get("embeddings.token_type_embeddings.weight");
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < c; j++) {
                x[i][j] = (double) word[ids[i] * c + j] + pos[i * c + j] + typ[j];
            }
        }
        layerNorm(x, "embeddings.LayerNorm");
        for (int l = 0; l < layers; l++) {
            String p = "encoder.layer." + l + ".";
            double[][] q = linear(x, p + "attention.self.query");          // (T, C)
            double[][] k = linear(x, p + "attention.self.key");
            double[][] v = linear(x, p + "attention.self.value");
            double[][] ctx = attention(q, k, v);                           // (T, C)
            double[][] a = linear(ctx, p + "attention.output.dense");
            add(a, x);
            layerNorm(a, p + "attention.output.LayerNorm");
            double[][] h = linear(a, p + "intermediate.dense");            // (T, F)
            for (double[] row : h) for (int j = 0; j < f; j++) row[j] = gelu(row[j]);
            double[][] o = linear(h, p + "output.dense");                  // (T, C)
            add(o, a);
            layerNorm(o, p + "output.LayerNorm");
            x = o;
        }
        return x;
    }

    /** Mean over tokens, then L2 normalisation (sentence-transformers' pooling for all-MiniLM-L6-v2). */
    static double[] meanPoolNormalize(double[][] hidden) {
        double[] m = new double[hidden[0].length];
        for (double[] row : hidden) for (int j = 0; j < m.length; j++) m[j] += row[j] / hidden.length;
        double n = 0;
        for (double v : m) n += v * v;
        n = Math.sqrt(n);
        for (int j = 0; j < m.length; j++) m[j] /= n;
        return m;
    }

    private double[][] linear(double[][] x, String name) {
        float[] wt = w.get(name + ".weight");                             // (OUT, IN)
        float[] b = w.get(name + ".bias");                                // (OUT)
        int out = b.length;
        int in = x[0].length;
        double[][] y = new double[x.length][out];
        for (int i = 0; i < x.length; i++) {
            double[] xi = x[i];
            for (int o = 0; o < out; o++) {
                double s = b[o];
                int base = o * in;
                for (int j = 0; j < in; j++) s += xi[j] * wt[base + j];
                y[i][o] = s;
            }
        }
        return y;
    }

    private double[][] attention(double[][] q, double[][] k, double[][] v) {
        int t = q.length;
        int hs = c / heads;
        double scale = 1 / Math.sqrt(hs);
        double[][] out = new double[t][c];
        double[] p = new double[t];
        for (int h = 0; h < heads; h++) {
            int o = h * hs;
            for (int i = 0; i < t; i++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int s = 0; s < t; s++) {
                    double d = 0;
                    for (int j = 0; j < hs; j++) d += q[i][o + j] * k[s][o + j];
                    p[s] = d * scale;
                    max = Math.max(max, p[s]);
                }
                double sum = 0;
                for (int s = 0; s < t; s++) sum += p[s] = Math.exp(p[s] - max);
                for (int s = 0; s < t; s++) {
                    double ps = p[s] / sum;
                    for (int j = 0; j < hs; j++) out[i][o + j] += ps * v[s][o + j];
                }
            }
        }
        return out;
    }

    private void layerNorm(double[][] x, String name) {
        float[] g = w.get(name + ".weight");
        float[] b = w.get(name + ".bias");
        for (double[] row : x) {
            double mean = 0;
            for (double v : row) mean += v;
            mean /= row.length;
            double var = 0;
            for (double v : row) var += (v - mean) * (v - mean);
            var /= row.length;
            double inv = 1 / Math.sqrt(var + eps);
            for (int j = 0; j < row.length; j++) row[j] = (row[j] - mean) * inv * g[j] + b[j];
        }
    }

    private static void add(double[][] y, double[][] x) {
        for (int i = 0; i < y.length; i++) for (int j = 0; j < y[i].length; j++) y[i][j] += x[i][j];
    }

    /** Exact GELU: x/2 · (1 + erf(x/√2)). */
    static double gelu(double x) { return 0.5 * x * (1 + erf(x / Math.sqrt(2))); }

    /** erf to ~1e-14: its Maclaurin series below 3, the continued fraction of erfc above. */
    static double erf(double x) {
        double a = Math.abs(x);
        double r;
        if (a < 3) {
            double term = a;
            double sum = a;
            for (int n = 1; n < 100 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
                term *= -a * a / n;
                sum += term / (2 * n + 1);
            }
            r = 2 / Math.sqrt(Math.PI) * sum;
        } else {
            double fr = a;
            for (int k = 60; k >= 1; k--) fr = a + (k / 2.0) / fr;
            r = 1 - Math.exp(-a * a) / (Math.sqrt(Math.PI) * fr);
        }
        return x < 0 ? -r : r;
    }
}
