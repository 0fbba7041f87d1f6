// LoraAdapter — a PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors) merged into a decoder's
// weights while they load: W + scale · B · A, as PEFT's merge_and_unload computes it, one matrix at a time.
package org.transformer4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.SafetensorsFile;
import org.transformer4j.runtime.Tensor;

/**
 * A LoRA adapter as PEFT saves it: {@code adapter_config.json} ({@code peft_type} LORA; {@code r}, {@code lora_alpha},
 * {@code use_rslora}, {@code rank_pattern}, {@code alpha_pattern}) and {@code adapter_model.safetensors} with, per
 * adapted module M, {@code base_model.model.M.lora_A.weight} (r × in) and {@code ….lora_B.weight} (out × r); a module of
 * {@code modules_to_save} is stored whole ({@code base_model.model.M.weight}) and replaces the base's. {@link
 * Pretrained#load(Path, org.transformer4j.runtime.Backend, org.transformer4j.runtime.DType, LoraAdapter)} merges it into
 * a decoder folder's weights as they load: each adapted weight becomes W + s · B · A with s = lora_alpha / r (rsLoRA:
 * lora_alpha / √r; a module's rank and alpha from the patterns when they name it), computed in float32 from the stored
 * weight (dequantized first for FP8, AWQ and GPTQ folders) and then rounded to the compute dtype once — what PEFT's
 * {@code merge_and_unload} gives, without its rounding of the sum to the stored dtype. The merged model is the adapter's:
 * the base is not served beside it. Refused by name: DoRA, LoRA biases, fan_in_fan_out, embedding LoRA, other PEFT types,
 * a module the model does not have, shapes that do not fit.
 */
public final class LoraAdapter {

    /** One adapted (or replaced) weight, under the model's tensor name ("model.layers.0.self_attn.q_proj.weight"). */
    record Delta(String module, float[] a, float[] b, int rank, double scale, float[] whole, long[] wholeShape) {}

    private final Path dir;
    private final Map<String, Delta> byWeight;

    private LoraAdapter(Path dir, Map<String, Delta> byWeight) {
        this.dir = dir;
        this.byWeight = byWeight;
    }

    /** The folder it was read from. */
    public Path dir() { return dir; }

    /** The model tensors it changes ("….weight"), in the file's order. */
    public Set<String> weights() { return java.util.Collections.unmodifiableSet(byWeight.keySet()); }

    private static final String PREFIX = "base_model.model.";

    /** Reads an adapter folder; a CheckpointException names the file and what is wrong or not supported. */
    public static LoraAdapter read(Path dir) throws IOException {
        Path cfgFile = dir.resolve("adapter_config.json"), file = dir.resolve("adapter_model.safetensors");
        if (!Files.isRegularFile(cfgFile)) throw new CheckpointException(dir, "no adapter_config.json: not a PEFT adapter folder");
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException(dir, Files.isRegularFile(dir.resolve("adapter_model.bin"))
                    ? "adapter_model.bin (a PyTorch pickle) is not read as it is; convert it once: t4j convert " + dir
                        + " (writes adapter_model.safetensors), or save the adapter with safe_serialization"
                    : "no adapter_model.safetensors");
        }
        JsonNode c = new ObjectMapper().readTree(cfgFile.toFile());
        if (c == null || !c.isObject()) throw new CheckpointException(cfgFile, "is not a JSON object");
        String type = c.path("peft_type").asText("LORA");
        if (!type.equals("LORA")) throw new CheckpointException(cfgFile, "peft_type " + type + " is not supported; LORA is");
        if (c.path("use_dora").asBoolean(false)) throw new CheckpointException(cfgFile, "use_dora: DoRA adapters are not supported (plain LoRA is)");
        if (c.path("fan_in_fan_out").asBoolean(false)) throw new CheckpointException(cfgFile, "fan_in_fan_out (GPT-2's Conv1D layout) is not supported");
        String bias = c.path("bias").asText("none");
        if (!bias.equals("none") || c.path("lora_bias").asBoolean(false)) {
            throw new CheckpointException(cfgFile, "bias '" + bias + "' / lora_bias: adapters that train biases are not supported (bias \"none\" is)");
        }
        if (!c.path("r").canConvertToInt() || c.path("r").asInt() < 1) throw new CheckpointException(cfgFile, "r must be an integer ≥ 1, got " + c.path("r"));
        int r = c.path("r").asInt();
        double alpha = c.path("lora_alpha").asDouble(8);                        // PEFT's LoraConfig default
        boolean rs = c.path("use_rslora").asBoolean(false);
        Map<String, Double> rankPattern = numbers(c.path("rank_pattern")), alphaPattern = numbers(c.path("alpha_pattern"));

        Map<String, Delta> out = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Map<String, Tensor> a = new LinkedHashMap<>(), b = new LinkedHashMap<>();
            for (String key : f.names()) {
                String k = key.replace(".default.", ".");                         // an adapter saved with its name kept
                if (k.contains("lora_embedding_")) throw new CheckpointException(file, key + ": LoRA on embeddings is not supported");
                if (!k.startsWith(PREFIX)) throw new CheckpointException(file, key + " is not under " + PREFIX + " (PEFT's prefix)");
                String name = k.substring(PREFIX.length());
                if (name.endsWith(".lora_A.weight")) a.put(name.substring(0, name.length() - ".lora_A.weight".length()), f.tensor(key));
                else if (name.endsWith(".lora_B.weight")) b.put(name.substring(0, name.length() - ".lora_B.weight".length()), f.tensor(key));
                else if (name.contains("lora_")) throw new CheckpointException(file, key + ": not a lora_A / lora_B weight");
                else out.put(name, new Delta(name, null, null, 0, 0, f.tensor(key).toFloatArray(), f.tensor(key).shape()));   // modules_to_save, whole
            }
            for (String module : a.keySet()) if (!b.containsKey(module)) throw new CheckpointException(file, module + " has lora_A but no lora_B");
            for (String module : b.keySet()) if (!a.containsKey(module)) throw new CheckpointException(file, module + " has lora_B but no lora_A");
            for (var e : a.entrySet()) {
                String module = e.getKey();
                Tensor ta = e.getValue(), tb = b.get(module);
                if (ta.rank() != 2 || tb.rank() != 2 || ta.shape()[0] != tb.shape()[1]) {
                    throw new CheckpointException(file, module + ": lora_A " + Arrays.toString(ta.shape()) + " and lora_B " + Arrays.toString(tb.shape())
                            + " are not r × in and out × r");
                }
                int rank = (int) ta.shape()[0];
                double mr = pattern(rankPattern, module, r), ma = pattern(alphaPattern, module, alpha);
                if (rank != (int) mr) {
                    throw new CheckpointException(file, module + ": lora_A has rank " + rank + " but adapter_config.json says " + (int) mr);
                }
                double scale = rs ? ma / Math.sqrt(mr) : ma / mr;
                out.put(module + ".weight", new Delta(module, ta.toFloatArray(), tb.toFloatArray(), rank, scale, null, null));
            }
        }
        if (out.isEmpty()) throw new CheckpointException(file, "holds no LoRA weights");
        return new LoraAdapter(dir, out);
    }

    private static Map<String, Double> numbers(JsonNode n) {
        Map<String, Double> m = new LinkedHashMap<>();
        if (n != null && n.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                var e = it.next();
                m.put(e.getKey(), e.getValue().asDouble());
            }
        }
        return m;
    }

    /** PEFT's get_pattern_key: the first pattern key P with {@code (.*\.)?(P)$} matching the module's name; else the default. */
    private static double pattern(Map<String, Double> patterns, String module, double dflt) {
        for (var e : patterns.entrySet()) {
            if (Pattern.compile("(.*\\.)?(" + e.getKey() + ")$").matcher(module).matches()) return e.getValue();
        }
        return dflt;
    }

    /** The adapted weights by model tensor name, in the file's order (for {@link LoraSlots}). */
    Map<String, Delta> deltas() { return java.util.Collections.unmodifiableMap(byWeight); }

    /** Whether the loader's tensor {@code name} is changed by the adapter. */
    boolean changes(String name) { return byWeight.containsKey(name); }

    /**
     * The adapter's weights that name no tensor of {@code loaded} (the loader's names); a CheckpointException lists them:
     * an adapter for another architecture, or for a module this model ties or does not load.
     */
    void checkAllUsed(Set<String> loaded) throws CheckpointException {
        List<String> missing = new ArrayList<>();
        for (String w : byWeight.keySet()) if (!loaded.contains(w)) missing.add(w);
        if (!missing.isEmpty()) {
            throw new CheckpointException(dir, "adapts " + missing + ", which the model has no such weight for (its weights include e.g. "
                    + new TreeSet<>(loaded).stream().filter(n -> n.contains("layers.0.")).limit(4).toList() + ")");
        }
    }

    /**
     * {@code base} (the stored weight, out × in) with the adapter merged: a new float32 tensor W + s · B · A, or the
     * adapter's whole weight for a module of modules_to_save. {@code owned}: base is closed here (a dequantized tensor).
     */
    Tensor merge(String name, Tensor base, boolean owned) {
        Delta d = byWeight.get(name);
        long[] shape = base.shape();
        try {
            if (d.whole() != null) {
                if (!Arrays.equals(d.wholeShape(), shape)) {
                    throw new IllegalArgumentException(dir + ": " + name + " is " + Arrays.toString(d.wholeShape()) + " in the adapter but "
                            + Arrays.toString(shape) + " in the model");
                }
                return Tensor.ofFloats(d.whole(), shape);
            }
            if (shape.length != 2 || d.a().length != (long) d.rank() * shape[1] || d.b().length != shape[0] * d.rank()) {
                throw new IllegalArgumentException(dir + ": " + d.module() + "'s lora_A (" + d.rank() + " × " + d.a().length / d.rank() + ") and lora_B ("
                        + d.b().length / d.rank() + " × " + d.rank() + ") do not fit the model's weight " + Arrays.toString(shape));
            }
            int out = (int) shape[0], in = (int) shape[1], r = d.rank();
            float[] w = base.toFloatArray(), a = d.a(), b = d.b();
            float[] row = new float[in];
            for (int o = 0; o < out; o++) {
                Arrays.fill(row, 0f);
                for (int k = 0; k < r; k++) {
                    float bk = b[o * r + k];
                    int ak = k * in;
                    for (int i = 0; i < in; i++) row[i] += bk * a[ak + i];
                }
                int wo = o * in;
                for (int i = 0; i < in; i++) w[wo + i] += (float) (d.scale() * row[i]);
            }
            return Tensor.ofFloats(w, shape);
        } finally {
            if (owned) base.close();
        }
    }
}
