// TorchConvert — a folder's torch.save files converted to safetensors, as Hugging Face's safetensors conversion does
// it (convert.py): pytorch_model.bin → model.safetensors, the shards of pytorch_model.bin.index.json → model-….safetensors
// and model.safetensors.index.json, adapter_model.bin → adapter_model.safetensors; metadata {"format": "pt"}; a tied
// parameter saved twice (one storage, the same elements) written once. Without PyTorch and without running the pickles.
package org.transformer4j.model.weights;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Converts the torch.save files of a model folder (and of its module subfolders) to safetensors. */
public final class TorchConvert {

    private TorchConvert() {}

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The single-file names converted, and what each becomes. */
    static final Map<String, String> SINGLES = Map.of("pytorch_model.bin", "model.safetensors", "adapter_model.bin", "adapter_model.safetensors");

    /**
     * The names a tied parameter goes by besides the one it is kept under (the transformers classes' _tied_weights_keys:
     * output heads and per-stack copies of a shared table); of a group of names for the same elements, one that matches
     * none of these is kept, else the first in sorted order.
     */
    static final List<String> TIED_COPIES = List.of("lm_head.", "embed_out.", "cls.predictions.decoder.", "encoder.embed_tokens.",
            "decoder.embed_tokens.", "generator_lm_head.");

    /** What one conversion wrote. */
    public record Converted(Path from, Path to, int tensors, List<String> droppedCopies) {}

    /**
     * Converts {@code dir}'s pytorch_model.bin (or the shards its pytorch_model.bin.index.json lists) and adapter_model.bin,
     * and those of its immediate subfolders (sentence-transformers' modules, e.g. 2_Dense), writing the safetensors files
     * beside them. A target that exists is an error unless {@code overwrite}; each file is written whole or not at all.
     */
    public static List<Converted> convertFolder(Path dir, boolean overwrite) throws IOException {
        if (!Files.isDirectory(dir)) throw new CheckpointException(dir, "is not a folder");
        List<Converted> out = new ArrayList<>();
        List<Path> folders = new ArrayList<>(List.of(dir));
        try (var sub = Files.list(dir)) {
            sub.filter(Files::isDirectory).sorted().forEach(folders::add);
        }
        for (Path d : folders) {
            Path index = d.resolve("pytorch_model.bin.index.json");
            if (Files.isRegularFile(index)) out.addAll(convertSharded(index, overwrite));
            for (var e : new TreeMap<>(SINGLES).entrySet()) {
                Path bin = d.resolve(e.getKey());
                if (Files.isRegularFile(bin)) out.add(convert(bin, d.resolve(e.getValue()), overwrite));
            }
        }
        if (out.isEmpty()) {
            throw new CheckpointException(dir, "has no pytorch_model.bin, pytorch_model.bin.index.json or adapter_model.bin (nor a"
                    + " subfolder with one) to convert");
        }
        return out;
    }

    /** One torch.save file → one safetensors file. */
    public static Converted convert(Path bin, Path target, boolean overwrite) throws IOException {
        if (Files.exists(target) && !overwrite) throw new CheckpointException(target, "exists (overwrite it explicitly)");
        try (TorchCheckpoint ck = TorchCheckpoint.open(bin); Arena copies = Arena.ofConfined()) {
            List<String> dropped = tiedCopies(ck);
            List<SafetensorsWriter.RawTensor> raw = new ArrayList<>();
            for (TorchCheckpoint.Entry e : ck.entries()) {
                if (dropped.contains(e.name())) continue;
                raw.add(new SafetensorsWriter.RawTensor(e.name(), e.dtype(), e.shape(), ck.bytes(e.name(), copies)));
            }
            SafetensorsWriter.writeRaw(target, raw, Map.of("format", "pt"));
            return new Converted(bin, target, raw.size(), dropped);
        }
    }

    /** The names to leave out: of each group naming the same elements, all but the one kept (see {@link #TIED_COPIES}). */
    static List<String> tiedCopies(TorchCheckpoint ck) {
        Map<String, List<String>> groups = new LinkedHashMap<>();
        for (TorchCheckpoint.Entry e : ck.entries()) {
            String id = e.storage() + "@" + e.offset() + ":" + java.util.Arrays.toString(e.shape()) + java.util.Arrays.toString(e.stride());
            groups.computeIfAbsent(id, k -> new ArrayList<>()).add(e.name());
        }
        List<String> dropped = new ArrayList<>();
        for (List<String> g : groups.values()) {
            if (g.size() < 2) continue;
            List<String> sorted = g.stream().sorted().toList();
            String keep = sorted.stream().filter(n -> TIED_COPIES.stream().noneMatch(n::contains)).findFirst().orElse(sorted.get(0));
            for (String n : sorted) if (!n.equals(keep) && ck.sameElements(n, keep)) dropped.add(n);
        }
        return dropped;
    }

    /** The shards of a pytorch_model.bin.index.json, each to its model-….safetensors, and the safetensors index. */
    static List<Converted> convertSharded(Path index, boolean overwrite) throws IOException {
        Path dir = index.toAbsolutePath().getParent();
        JsonNode root;
        try {
            root = JSON.readTree(index.toFile());
        } catch (IOException e) {
            throw new CheckpointException(index, "is not JSON: " + e.getMessage(), e);
        }
        JsonNode map = root.get("weight_map");
        if (map == null || !map.isObject()) throw new CheckpointException(index, "has no weight_map object");
        Map<String, String> shardOf = new LinkedHashMap<>();
        map.fields().forEachRemaining(e -> shardOf.put(e.getKey(), e.getValue().asText()));
        Path target = dir.resolve(SafetensorsCheckpoint.INDEX);
        if (Files.exists(target) && !overwrite) throw new CheckpointException(target, "exists (overwrite it explicitly)");
        List<Converted> out = new ArrayList<>();
        Map<String, String> weightMap = new TreeMap<>();
        long total = 0;
        for (String shard : new java.util.LinkedHashSet<>(shardOf.values())) {
            if (shard.contains("/") || shard.contains("\\") || !shard.endsWith(".bin")) {
                throw new CheckpointException(index, "lists the shard '" + shard + "', not a .bin file in its folder");
            }
            String name = shard.replaceFirst("^pytorch_model", "model").replaceFirst("\\.bin$", ".safetensors");
            Converted c = convert(dir.resolve(shard), dir.resolve(name), overwrite);
            out.add(c);
            try (SafetensorsCheckpoint written = SafetensorsCheckpoint.open(c.to())) {
                for (String t : written.names()) {
                    if (!shard.equals(shardOf.get(t))) {
                        throw new CheckpointException(index, "does not list tensor '" + t + "' of " + shard + " (or lists it in another shard)");
                    }
                    weightMap.put(t, name);
                    total += written.entry(t).byteSize();
                }
            }
        }
        for (String t : shardOf.keySet()) {
            boolean droppedCopy = out.stream().anyMatch(c -> c.droppedCopies().contains(t));
            if (!weightMap.containsKey(t) && !droppedCopy) throw new CheckpointException(index, "lists tensor '" + t + "', which its shard lacks");
        }
        ObjectNode idx = JSON.createObjectNode();
        idx.putObject("metadata").put("total_size", total);
        ObjectNode wm = idx.putObject("weight_map");
        weightMap.forEach(wm::put);
        Path tmp = Files.createTempFile(dir, SafetensorsCheckpoint.INDEX, ".tmp");
        try {
            JSON.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), idx);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
        return out;
    }
}
