// InspectCommand — `t4j inspect`: per token the probability and rank the model gave it, the top-5
// alternatives and the loss; mean loss and perplexity; `--html FILE` writes the page with masks and
// attention heatmaps. Input: `--model DIR "text"` runs a decoder-only or prefix-LM model from the model
// layer; `--logits FILE` takes logits a model produced elsewhere (safetensors).
package org.transformer4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.IntFunction;
import org.transformer4j.cli.inspect.HtmlReport;
import org.transformer4j.cli.inspect.Inspection;
import org.transformer4j.cli.inspect.LogitsInspector;
import org.transformer4j.cli.inspect.TextReport;
import org.transformer4j.model.Pretrained;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.TransformerConfig;
import org.transformer4j.model.Weights;
import org.transformer4j.model.tokenizer.Tokenizer;
import org.transformer4j.model.tokenizer.Tokenizers;
import org.transformer4j.model.weights.SafetensorsFile;
import org.transformer4j.model.weights.StrictJson;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.Backends;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Tensor;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = {"Show, for every token of a text, the probability and rank the model gave it, its top-5 "
                + "alternatives and its loss; the mean loss and perplexity at the end.",
                "",
                "--logits FILE reads a safetensors file with 'logits' F32/F16/BF16 [T, V] (row t: the distribution for "
                + "the token after position t) and 'ids' I32/I64 [T]; optionally 'attention' [L, H, T, T], [H, T, T] or "
                + "[T, T] (weights, rows summing to 1) and metadata 't4j.vocab', a JSON array of token texts by id.",
                "--model DIR \"text\" runs the model in DIR (a Hugging Face GPT-2 folder, or any decoder-only or prefix-LM "
                + "folder the model layer loads) on the text, with its tokenizer."},
        footer = {"", "Exit codes: 0 success, 1 bad input or failure (one line on stderr), 2 bad usage."})
final class InspectCommand implements Callable<Integer> {

    /** Exactly one source of logits. */
    static final class Source {
        @Option(names = "--logits", paramLabel = "FILE", description = "Safetensors file with 'logits' and 'ids' (see above).")
        Path logits;

        @Option(names = "--model", paramLabel = "DIR", description = "Model folder (Hugging Face layout) to run on TEXT.")
        Path model;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    @Parameters(arity = "0..1", paramLabel = "TEXT", description = "The text to inspect (with --model).")
    String text;

    @Option(names = "--tokenizer", paramLabel = "DIR",
            description = "Model folder whose tokenizer names the ids of --logits (tokenizer.json, a SentencePiece model, or GPT-2's config.json).")
    Path tokenizer;

    @Option(names = "--html", paramLabel = "FILE", description = "Also write a self-contained HTML page to FILE.")
    Path html;

    @Option(names = "--prefix", paramLabel = "N",
            description = "Tokens that form the input part of the prefix and cross masks (default: half, rounded down).")
    Integer prefix;

    @Option(names = "--layer", paramLabel = "L", defaultValue = "0", description = "Layer of the attention weights (default: ${DEFAULT-VALUE}).")
    int layer;

    @Option(names = "--head", paramLabel = "H", defaultValue = "0", description = "Head of the attention weights (default: ${DEFAULT-VALUE}).")
    int head;

    @Option(names = "--progress", description = "Show progress bars even when stderr is not a terminal.")
    boolean progress;

    @Override
    public Integer call() throws IOException {
        if (html != null) checkWritable(html);
        if (source.model != null) return fromModel();
        if (text != null) throw new IllegalArgumentException("TEXT goes with --model; --logits files carry their own ids");
        Path file = source.logits;
        if (!Files.exists(file)) throw new IllegalArgumentException(file + ": no such file");
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException(file + ": not a regular file");
        Inspection in;
        try (SafetensorsFile f = SafetensorsFile.open(file);
             Tokenizer tok = tokenizer == null ? null : Tokenizers.forModel(tokenizer)) {
            int[] ids = ids(f);
            Tensor logits = f.tensor(require(f, "logits"));
            LogitsInspector.check(logits, ids);   // before any id is looked up by name
            int t = ids.length;
            int p = prefix == null ? t / 2 : prefix;
            if (p < 0 || p > t) throw new IllegalArgumentException("--prefix " + p + " must be in 0.." + t);
            IntFunction<String> names = tok != null ? id -> decode(tok, id)
                    : names(f, (int) logits.shape(1));
            List<String> texts = new ArrayList<>(t);
            for (int id : ids) texts.add(names.apply(id));
            Optional<Inspection.Matrix> attention = attention(f, texts);
            try (Backend backend = Backends.select();
                 Progress bar = Progress.start("inspect", t, progress)) {
                in = LogitsInspector.inspect(backend, logits, ids, names, p, attention, file.getFileName().toString(), bar);
            }
        }
        return report(in);
    }

    /** The table on stdout, and the page when --html asks for it. */
    private int report(Inspection in) throws IOException {
        TextReport.print(in, System.out);
        if (html != null) {
            try {
                HtmlReport.write(in, html);
            } catch (IOException e) {
                throw new IOException("cannot write " + html + ": " + e.getMessage(), e);
            }
            System.out.println("wrote " + html);
        }
        return 0;
    }

    /**
     * Runs the model in {@code --model DIR} on TEXT: its tokenizer, its logits at every position, and the
     * chosen layer and head's attention weights. Next-token probabilities need a decoder-only or prefix-LM
     * model (for a prefix-LM the first --prefix tokens are its bidirectional input).
     */
    private int fromModel() throws IOException {
        if (text == null) throw new IllegalArgumentException("--model needs the TEXT to inspect");
        ModelInputs.checkText("text to inspect", text);
        Path dir = source.model;
        ModelInputs.checkModelFolder(dir);
        Inspection in;
        try (Backend backend = Backends.select();
             Tokenizer tok = Tokenizers.forModel(dir)) {
            int[] ids = tok.encode(text);
            if (ids.length == 0) throw new IllegalArgumentException("the text has no tokens under " + tok.name());
            int t = ids.length;
            int p = prefix == null ? t / 2 : prefix;
            if (p < 0 || p > t) throw new IllegalArgumentException("--prefix " + p + " must be in 0.." + t);
            // steps: loading, logits, attention weights, then one per row of the report
            try (Progress bar = Progress.start("inspect", 3L + t, progress);
                 Weights weights = Pretrained.load(dir, backend)) {
                TransformerConfig c = weights.config;
                TransformerConfig.Architecture arch = c.architecture();
                if (arch != TransformerConfig.Architecture.DECODER_ONLY && arch != TransformerConfig.Architecture.PREFIX_LM) {
                    throw new IllegalArgumentException(dir + " is an " + arch.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-')
                            + " model; inspect needs next-token predictions, from a decoder-only or prefix-LM model");
                }
                if (c.positions() == TransformerConfig.Positions.LEARNED_ABSOLUTE && t > c.maxPositions()) {
                    throw new IllegalArgumentException("the text is " + t + " tokens; " + dir + " takes at most " + c.maxPositions());
                }
                bar.update(1);
                Transformer model = new Transformer(weights, backend);
                float[][] rows = arch == TransformerConfig.Architecture.PREFIX_LM
                        ? model.logits(new int[][] {ids}, new int[] {p})[0] : model.logits(new int[][] {ids})[0];   // (T, V)
                int v = c.vocabSize();
                float[] flat = new float[t * v];
                for (int i = 0; i < t; i++) System.arraycopy(rows[i], 0, flat, i * v, v);
                bar.update(2);
                IntFunction<String> names = id -> decode(tok, id);
                List<String> texts = new ArrayList<>(t);
                for (int id : ids) texts.add(names.apply(id));
                int layers = c.decoderLayers();
                if (layer < 0 || layer >= layers) throw new IllegalArgumentException("--layer " + layer + " must be in 0.." + (layers - 1));
                if (head < 0 || head >= c.heads()) throw new IllegalArgumentException("--head " + head + " must be in 0.." + (c.heads() - 1));
                float[][] w = model.attentionWeights(ids, p, layer, head);                                 // (T, T)
                Inspection.Matrix attention = new Inspection.Matrix("layer " + layer + ", head " + head,
                        "attention weights: row i is how query i spread its attention over the keys", texts, texts, w);
                bar.update(3);
                try (Tensor logits = Tensor.ofFloats(flat, t, v)) {
                    in = LogitsInspector.inspect(backend, logits, ids, names, p, Optional.of(attention),
                            dir.getFileName() + " on " + org.transformer4j.cli.inspect.TextReport.quote(text), n -> bar.update(3 + n));
                }
            }
        }
        return report(in);
    }

    /** A missing folder, a folder, or a read-only file or folder fails before any work. */
    static void checkWritable(Path file) {
        Path abs = file.toAbsolutePath();
        Path dir = abs.getParent();
        if (Files.isDirectory(abs)) throw new IllegalArgumentException("cannot write " + file + ": it is a folder");
        if (dir == null || !Files.isDirectory(dir)) throw new IllegalArgumentException("cannot write " + file + ": no folder " + dir);
        if (Files.exists(abs) ? !Files.isWritable(abs) : !Files.isWritable(dir)) {
            throw new IllegalArgumentException("cannot write " + file + ": permission denied");
        }
    }

    private static String require(SafetensorsFile f, String name) {
        if (!f.contains(name)) throw new IllegalArgumentException(f.path() + ": no tensor '" + name + "' (has " + f.names() + ")");
        return name;
    }

    /** 'ids' [T], I32 or I64 within int range. */
    private static int[] ids(SafetensorsFile f) {
        Tensor ids = f.tensor(require(f, "ids"));
        if (ids.rank() != 1) throw new IllegalArgumentException(f.path() + ": 'ids' must be [T], got " + ids.shapeString());
        if (ids.dtype() == DType.I32) return ids.toIntArray();
        if (ids.dtype() != DType.I64) throw new IllegalArgumentException(f.path() + ": 'ids' must be I32 or I64, got " + ids.dtype());
        int[] out = new int[(int) ids.shape(0)];
        var seg = ids.hostSegment();
        for (int i = 0; i < out.length; i++) {
            long v = seg.getAtIndex(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, i);
            if (v < 0 || v > Integer.MAX_VALUE) throw new IllegalArgumentException(f.path() + ": id " + v + " at " + i + " is out of range");
            out[i] = (int) v;
        }
        return out;
    }

    /** One id's text; ids the tokenizer lacks (a vocabulary padded for the GPU, say) show as "#id". */
    private static String decode(Tokenizer tok, int id) {
        try {
            return tok.decode(new int[] {id});
        } catch (RuntimeException e) {
            return "#" + id;
        }
    }

    /** Token text by id from the file's 't4j.vocab', else "#id". */
    private static IntFunction<String> names(SafetensorsFile f, int vocab) {
        String meta = f.metadata().get("t4j.vocab");
        if (meta == null) return id -> "#" + id;
        JsonNode arr;
        try {
            arr = StrictJson.parse(meta);
        } catch (StrictJson.ParseError e) {
            throw new IllegalArgumentException(f.path() + ": metadata 't4j.vocab' is not JSON: " + e.getMessage());
        }
        if (!arr.isArray() || arr.size() != vocab) {
            throw new IllegalArgumentException(f.path() + ": metadata 't4j.vocab' must be a JSON array of " + vocab
                    + " token texts");
        }
        String[] texts = new String[vocab];
        for (int i = 0; i < vocab; i++) {
            if (!arr.get(i).isTextual()) throw new IllegalArgumentException(f.path() + ": 't4j.vocab' entry " + i + " is not a string");
            texts[i] = arr.get(i).textValue();
        }
        return id -> texts[id];
    }

    /** The chosen layer and head of 'attention' ([L, H, T, T], [H, T, T] or [T, T]), if the file has it. */
    private Optional<Inspection.Matrix> attention(SafetensorsFile f, List<String> texts) {
        if (!f.contains("attention")) return Optional.empty();
        Tensor a = f.tensor("attention");
        int t = texts.size();
        int r = a.rank();
        if (r < 2 || r > 4 || a.shape(-1) != t || a.shape(-2) != t || !a.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException(f.path() + ": 'attention' must be floating [L, H, T, T], [H, T, T] or [T, T] with T = "
                    + t + ", got " + a.dtype() + " " + a.shapeString());
        }
        long layers = r == 4 ? a.shape(0) : 1;
        long heads = r >= 3 ? a.shape(r - 3) : 1;
        if (layer < 0 || layer >= layers) throw new IllegalArgumentException("--layer " + layer + " must be in 0.." + (layers - 1));
        if (head < 0 || head >= heads) throw new IllegalArgumentException("--head " + head + " must be in 0.." + (heads - 1));
        float[] all = a.toFloatArray();
        int base = (int) ((layer * heads + head) * t * t);
        float[][] w = new float[t][t];
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < t; j++) {
                float v = all[base + i * t + j];
                if (!(v >= 0 && v <= 1.0001f)) {
                    throw new IllegalArgumentException(f.path() + ": attention weight " + v + " at (" + i + ", " + j
                            + ") is not in [0, 1]");
                }
                w[i][j] = v;
            }
        }
        return Optional.of(new Inspection.Matrix("layer " + layer + ", head " + head,
                "attention weights: row i is how query i spread its attention over the keys", texts, texts, w));
    }
}
