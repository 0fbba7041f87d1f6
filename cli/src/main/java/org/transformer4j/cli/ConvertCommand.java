// ConvertCommand — `t4j convert DIR`: a model folder's PyTorch pickles (pytorch_model.bin, its shards, adapter_model.bin,
// module subfolders) rewritten as safetensors beside them, without PyTorch and without running the pickles.
package org.transformer4j.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.transformer4j.model.weights.TorchConvert;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "convert", mixinStandardHelpOptions = true,
        description = {"Convert a folder's PyTorch weights (pytorch_model.bin, pytorch_model-*.bin with their index, adapter_model.bin,"
                + " and those of its module subfolders) to safetensors, written beside them as Hugging Face's conversion names them.",
                "The pickles are read, never run: any global other than the tensors' and OrderedDict is refused by name."})
final class ConvertCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "DIR", description = "The model (or adapter) folder.")
    Path dir;

    @Option(names = "--overwrite", description = "Replace safetensors files that exist (default: refuse).")
    boolean overwrite;

    @Override
    public Integer call() throws java.io.IOException {
        List<TorchConvert.Converted> done = TorchConvert.convertFolder(dir, overwrite);
        for (TorchConvert.Converted c : done) {
            System.out.println(dir.relativize(c.from()) + " -> " + dir.relativize(c.to()) + ": " + c.tensors() + " tensors"
                    + (c.droppedCopies().isEmpty() ? "" : ", tied copies written once: " + String.join(", ", c.droppedCopies())));
        }
        return 0;
    }
}
