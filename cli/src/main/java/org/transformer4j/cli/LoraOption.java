// LoraOption — `--lora DIR`, which `t4j generate`, `t4j chat` and `t4j serve` share: a PEFT LoRA adapter merged into the
// decoder's weights as they load (LoraAdapter), read before the model so that a bad folder fails first.
package org.transformer4j.cli;

import java.io.IOException;
import java.nio.file.Path;
import org.transformer4j.model.LoraAdapter;
import picocli.CommandLine.Option;

final class LoraOption {

    @Option(names = "--lora", paramLabel = "DIR", description = "A PEFT LoRA adapter folder (adapter_config.json,"
            + " adapter_model.safetensors) merged into the decoder's weights as they load: the merged model is what runs.")
    Path dir;

    /** The adapter the option names, read (null without the option). */
    LoraAdapter read() throws IOException {
        return dir == null ? null : LoraAdapter.read(dir);
    }
}
