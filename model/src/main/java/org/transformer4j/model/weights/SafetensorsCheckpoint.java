// SafetensorsCheckpoint — the weights of a Hugging Face model folder: one model.safetensors, or
// shards listed by model.safetensors.index.json (every listed tensor must be in its shard, and
// every shard's tensors must be listed, so a half-copied checkpoint is caught at open time).
package org.transformer4j.model.weights;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.transformer4j.runtime.Tensor;

/** One or more memory-mapped safetensors files seen as one name → tensor map. */
public final class SafetensorsCheckpoint implements AutoCloseable {

    public static final String SINGLE = "model.safetensors";
    public static final String INDEX = "model.safetensors.index.json";

    private final List<SafetensorsFile> files;
    private final Map<String, SafetensorsFile> byName;

    private SafetensorsCheckpoint(List<SafetensorsFile> files, Map<String, SafetensorsFile> byName) {
        this.files = List.copyOf(files);
        this.byName = Collections.unmodifiableMap(byName);
    }

    /**
     * Opens {@code path}: a model folder (model.safetensors, else model.safetensors.index.json), an
     * index file, or a single .safetensors file.
     */
    public static SafetensorsCheckpoint open(Path path) throws IOException {
        try {
            path.toRealPath();                          // a symlink loop or a missing target, said as such
        } catch (IOException e) {
            String why = e instanceof java.nio.file.NoSuchFileException ? "no such file or folder" : "cannot resolve: " + e;
            if (Files.isSymbolicLink(path)) why = linkProblem(path, why);
            throw new CheckpointException(path, why, e);
        }
        if (Files.isDirectory(path)) {
            if (Files.exists(path.resolve(SINGLE))) return single(path.resolve(SINGLE));
            if (Files.exists(path.resolve(INDEX))) return sharded(path.resolve(INDEX));
            if (Files.exists(path.resolve("pytorch_model.bin")) || Files.exists(path.resolve("pytorch_model.bin.index.json"))) {
                throw new SafetensorsFormatException(path, "folder has PyTorch pickles (pytorch_model.bin) but neither " + SINGLE + " nor "
                        + INDEX + "; convert them once, without PyTorch and without running them: t4j convert " + path
                        + " (or TorchConvert.convertFolder)");
            }
            throw new SafetensorsFormatException(path, "folder has neither " + SINGLE + " nor " + INDEX);
        }
        if (path.getFileName().toString().endsWith(".json")) return sharded(path);
        return single(path);
    }

    /** Follows {@code link}'s chain of symbolic links: "a loop of symbolic links …" or "a symbolic link to a missing …". */
    private static String linkProblem(Path link, String otherwise) {
        java.util.Set<Path> seen = new java.util.HashSet<>();
        Path p = link.toAbsolutePath().normalize();
        try {
            while (Files.isSymbolicLink(p)) {
                if (!seen.add(p)) return "a loop of symbolic links through " + p;
                p = p.resolveSibling(Files.readSymbolicLink(p)).normalize();
            }
            return Files.exists(p) ? otherwise : "a symbolic link to a missing file or folder (" + p + ")";
        } catch (IOException e) {
            return otherwise;
        }
    }

    private static SafetensorsCheckpoint single(Path file) throws IOException {
        SafetensorsFile f = SafetensorsFile.open(file);
        Map<String, SafetensorsFile> m = new LinkedHashMap<>();
        for (String n : f.names()) m.put(n, f);
        return new SafetensorsCheckpoint(List.of(f), m);
    }

    private static SafetensorsCheckpoint sharded(Path index) throws IOException {
        JsonNode root = StrictJson.parseFile(index, "index");
        if (!root.isObject()) throw new SafetensorsFormatException(index, "index is not a JSON object");
        JsonNode map = root.get("weight_map");
        if (map == null || !map.isObject()) throw new SafetensorsFormatException(index, "index has no 'weight_map' object");
        Map<String, String> weightMap = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            JsonNode v = e.getValue();
            if (!v.isTextual()) throw new SafetensorsFormatException(index, "weight_map entry '" + e.getKey() + "' is not a file name");
            String shard = v.textValue();
            if (shard.isEmpty() || shard.contains("/") || shard.contains("\\") || shard.equals("..") || shard.equals(".")) {
                throw new SafetensorsFormatException(index, "weight_map entry '" + e.getKey() + "' names '" + shard
                        + "', not a file in the index's folder");
            }
            weightMap.put(e.getKey(), shard);
        }
        Path dir = index.toAbsolutePath().getParent();
        Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
        List<SafetensorsFile> opened = new ArrayList<>();
        boolean ok = false;
        try {
            for (String shard : new TreeSet<>(weightMap.values())) {
                Path p = dir.resolve(shard);
                if (!Files.isRegularFile(p)) {
                    throw new SafetensorsFormatException(index, "shard '" + shard + "' listed in weight_map does not exist");
                }
                SafetensorsFile f = SafetensorsFile.open(p);
                opened.add(f);
                shards.put(shard, f);
            }
            Map<String, SafetensorsFile> byName = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : weightMap.entrySet()) {
                SafetensorsFile f = shards.get(e.getValue());
                if (!f.contains(e.getKey())) {
                    throw new SafetensorsFormatException(index, "tensor '" + e.getKey() + "' is listed in shard '" + e.getValue()
                            + "' but that file does not hold it");
                }
                byName.put(e.getKey(), f);
            }
            for (SafetensorsFile f : opened) {
                for (String n : f.names()) {
                    if (byName.get(n) != f) {
                        throw new SafetensorsFormatException(index, "shard '" + f.path().getFileName() + "' holds tensor '" + n
                                + "' that weight_map " + (byName.containsKey(n) ? "places in another shard" : "does not list"));
                    }
                }
            }
            ok = true;
            return new SafetensorsCheckpoint(opened, byName);
        } finally {
            if (!ok) for (SafetensorsFile f : opened) f.close();
        }
    }

    public Set<String> names() { return byName.keySet(); }

    public boolean contains(String name) { return byName.containsKey(name); }

    public List<SafetensorsFile> files() { return files; }

    public TensorEntry entry(String name) { return file(name).entry(name); }

    /** See {@link SafetensorsFile#tensor}: a view valid until this checkpoint is closed. */
    public Tensor tensor(String name) { return file(name).tensor(name); }

    /** See {@link SafetensorsFile#segment}: the raw bytes of {@code name} (any dtype, e.g. U8 MXFP4 blocks), read-only. */
    public java.lang.foreign.MemorySegment segment(String name) { return file(name).segment(name); }

    private SafetensorsFile file(String name) {
        SafetensorsFile f = byName.get(name);
        if (f == null) throw new IllegalArgumentException("checkpoint has no tensor '" + name + "'");
        return f;
    }

    @Override
    public void close() {
        for (SafetensorsFile f : files) f.close();
    }
}
