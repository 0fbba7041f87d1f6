// ChatCost — the multi-turn chat cost of DESIGN.md's last paragraph, as numbers: a 10-turn chat on
// each architecture at GPT-2-small size (random weights), tokens encoded and milliseconds per turn.
// A plain script (not JMH: each turn is a different amount of work, and the point is the table).
package org.transformer4j.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.transformer4j.model.ChatSession;
import org.transformer4j.model.Generator;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.TransformerConfig;
import org.transformer4j.model.Weights;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.Backends;

/**
 * Usage: {@code java -cp benchmarks.jar org.transformer4j.bench.ChatCost [turns] [messageTokens] [replyTokens] [layers]}
 * (defaults 10, 16, 16, 12). Decoder-only and prefix-LM use GPT-2 small (12 layers); the
 * encoder-decoder splits the same depth into 6 + 6 so all three hold about the same parameters. The
 * encoder-decoder with all four steps shares one 12-layer stack between encoder and decoder (the
 * decoder-only model's parameters): its chat is incremental, but each reply is re-encoded once as
 * input in the next turn, since during its own turn it followed the decoder-start id.
 * Greedy replies without stop ids, so every reply has replyTokens tokens and the token counts
 * depend on the architecture alone. Prints a Markdown table on the backend -Dt4j.backend selects.
 */
public final class ChatCost {

    private ChatCost() {}

    public static void main(String[] args) {
        int turns = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        int message = args.length > 1 ? Integer.parseInt(args[1]) : 16;
        int reply = args.length > 2 ? Integer.parseInt(args[2]) : 16;
        int layers = args.length > 3 ? Integer.parseInt(args[3]) : 12;
        Backend backend = Backends.select();
        TransformerConfig gpt2 = TransformerConfig.gpt2Small().toBuilder().decoderLayers(layers).build();
        List<String[]> rows = new ArrayList<>();
        Map<String, TransformerConfig> archs = new LinkedHashMap<>();
        archs.put("DECODER_ONLY", gpt2);
        archs.put("PREFIX_LM", gpt2.toBuilder().prefixLm(true).build());
        archs.put("ENCODER_DECODER", gpt2.toBuilder().encoderLayers(layers / 2).decoderLayers(layers - layers / 2).build());
        archs.put("ENCODER_DECODER, all four steps",
                gpt2.toBuilder().encoderLayers(layers).decoderLayers(layers).build().withSteps(true, true, true, true));
        System.out.printf("backend: %s; %d turns, %d-token messages, %d-token replies, GPT-2 small widths, %d layers%n%n",
                backend.description(), turns, message, reply, layers);
        StringBuilder table = new StringBuilder("| architecture | re-encodes history |");
        for (int t = 1; t <= turns; t++) table.append(" turn ").append(t).append(" |");
        table.append(" total tokens | total ms |\n|---|---|").append("---|".repeat(turns + 2)).append('\n');
        for (Map.Entry<String, TransformerConfig> arch : archs.entrySet()) {
            TransformerConfig c = arch.getValue();
            try (Weights w = Weights.random(c, backend, 1)) {
                Transformer m = new Transformer(w, backend);
                SplittableRandom rnd = new SplittableRandom(2);
                long totalMs = 0;
                StringBuilder cells = new StringBuilder();
                try (ChatSession chat = new ChatSession(m, Generator.Options.greedy(reply), turns * (message + reply) + 1)) {
                    for (int t = 0; t < turns; t++) {
                        int[] msg = new int[message];
                        for (int i = 0; i < message; i++) msg[i] = rnd.nextInt(c.vocabSize());
                        long t0 = System.nanoTime();
                        chat.send(msg);
                        backend.synchronize();
                        long ms = (System.nanoTime() - t0) / 1_000_000;
                        totalMs += ms;
                        cells.append(' ').append(chat.tokensEncodedPerTurn().get(t)).append(" tok / ").append(ms).append(" ms |");
                        System.out.printf("%s turn %d: %d tokens encoded, %d ms%n", arch.getKey(), t + 1,
                                chat.tokensEncodedPerTurn().get(t), ms);
                    }
                    long tokens = chat.tokensEncodedPerTurn().stream().mapToLong(Long::longValue).sum();
                    table.append("| ").append(arch.getKey()).append(" | ").append(chat.incremental() ? "no" : "yes").append(" |")
                            .append(cells).append(' ').append(tokens).append(" | ").append(totalMs).append(" |\n");
                }
            }
        }
        System.out.println();
        System.out.print(table);
        backend.close();
    }
}
