// ServeLoad — the serving load benchmark: `t4j serve`'s server over a GPT-2-small-shaped model (random
// weights) on the selected backend, N concurrent streaming HTTP clients; throughput, p50/p99 time to
// first token and inter-token latency, continuous batching against one request at a time.
package org.transformer4j.bench;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.TransformerConfig;
import org.transformer4j.model.Weights;
import org.transformer4j.model.engine.Engine;
import org.transformer4j.model.tokenizer.Tokenizer;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.Backends;
import org.transformer4j.server.OpenAiServer;

/**
 * Usage: {@code java -cp benchmarks.jar:slf4j-api.jar:slf4j-simple.jar org.transformer4j.bench.ServeLoad [clients,…] [promptTokens] [newTokens] [modes] [sharedTokens] [rate]}
 * (defaults 1,8,32; 32; 32; batched,batched-wide,one-at-a-time; 0; inf; slf4j is left out of the shaded jar). rate: requests
 * per second, arriving as a Poisson process (exponential gaps, seeded per run: the same arrivals in every mode), vLLM's
 * benchmark_serving --request-rate; inf: every client at once. promptTokens may
 * be a range "lo-hi": each client's prompt length is drawn from it (uniform, seeded per client). With sharedTokens
 * every client's prompt begins with the same that many tokens (a system prompt; another one each round, so that no round
 * finds the previous round's in the prefix cache) before its own promptTokens. Each client sends one streaming /v1/completions request (token-id prompt,
 * greedy, max_tokens = newTokens) at the same moment; "batched" is the engine as served (up to 64
 * sequences per step, decoded in groups below the CPU's small-M limit — with the Vector API all 64 in one
 * group — so that every reply is bit-identical to a solo run), "batched-wide" the same with one group of
 * up to 64 (below the limit now the same as "batched"), "one-at-a-time" the same server with one running sequence (the rest queue),
 * which is how servers without continuous batching behave; "batched-no-groups" is "batched" with every prefill chunk its
 * own forward pass (Engine.Config.prefillGroupRows 1: what prompts of several lengths got before they were packed);
 * "speculative-K" is "batched" with n-gram speculative decoding (the running sequences' drafts checked in packed passes;
 * "speculative-K-no-groups": one verify pass per sequence, as before 2026-12-07); "batched-no-mixing" is "batched" with a
 * step's decode rows, prefill chunks and drafts in passes apart (Engine.Config.mixedSteps false: as before 2026-12-07's
 * mixed passes)
 * (K draft tokens, lookup 1..3 tokens, at any batch size). Throughput = all streamed tokens / wall
 * time from the first request to the last token; tokens per CPU-s divides them by the process's CPU time
 * instead (fairer on a machine shared with other work). A warm-up round runs first in each mode: the
 * largest client count, in full. Not a test.
 */
public final class ServeLoad {

    private ServeLoad() {}

    /** Token ids as text "[id]" pieces are not needed: prompts go as id arrays; replies are counted as SSE events. */
    static final class IdTokenizer implements Tokenizer {
        @Override public int[] encode(String text, boolean special) { throw new UnsupportedOperationException("id prompts only"); }
        @Override public String decode(int[] ids, boolean skip) {
            StringBuilder b = new StringBuilder();
            for (int id : ids) b.append('<').append(id).append('>');
            return b.toString();
        }
        @Override public Map<String, Integer> specialTokens() { return Map.of(); }
        @Override public String name() { return "ids"; }
        @Override public void close() {}
    }

    /** cpuSeconds: the process's CPU time over the run (server, engine and clients: one JVM). */
    record Run(double seconds, double cpuSeconds, int tokens, double[] ttft, double[] itl) {}

    public static void main(String[] args) throws Exception {
        int[] clients = Arrays.stream((args.length > 0 ? args[0] : "1,8,32").split(",")).mapToInt(Integer::parseInt).toArray();
        String promptArg = args.length > 1 ? args[1] : "32";
        int dash = promptArg.indexOf('-');
        int[] prompt = dash < 0 ? new int[] {Integer.parseInt(promptArg), Integer.parseInt(promptArg)}
                : new int[] {Integer.parseInt(promptArg.substring(0, dash)), Integer.parseInt(promptArg.substring(dash + 1))};
        if (prompt[0] < 1 || prompt[1] < prompt[0]) throw new IllegalArgumentException("promptTokens: a count ≥ 1 or a range lo-hi, got " + promptArg);
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 32;
        String[] modes = (args.length > 3 ? args[3] : "batched,batched-wide,one-at-a-time").split(",");
        int shared = args.length > 4 ? Integer.parseInt(args[4]) : 0;
        double rate = args.length > 5 && !args[5].equals("inf") ? Double.parseDouble(args[5]) : Double.POSITIVE_INFINITY;
        if (!(rate > 0)) throw new IllegalArgumentException("rate: requests per second > 0, or inf, got " + args[5]);
        try (Backend backend = Backends.select()) {
            TransformerConfig c = TransformerConfig.gpt2Small();
            try (Weights w = Weights.random(c, backend, 1)) {
                Transformer m = new Transformer(w, backend);
                System.out.printf("backend: %s; GPT-2 small (random weights, f32); prompt %s tokens (%d of them shared by all clients), %d new tokens greedy per client; %s%n",
                        backend.description(), prompt[0] == prompt[1] ? Integer.toString(shared + prompt[0])
                                : (shared + prompt[0]) + "-" + (shared + prompt[1]), shared, steps,
                        rate == Double.POSITIVE_INFINITY ? "all clients at once" : rate + " requests/s (Poisson arrivals)");
                System.out.println("| mode | clients | tokens/s | tokens per CPU-s | TTFT p50 ms | TTFT p99 ms | ITL p50 ms | ITL p99 ms | wall s | CPU s | prefill rows | prefill passes | mixed passes | cached blocks | drafts kept |");
                System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
                for (String mode : modes) {
                    Engine.Config cfg = Engine.Config.defaults(m).kvBudget(512L << 20).limits(mode.equals("one-at-a-time") ? 1 : 64, 256);
                    if (mode.equals("batched-wide")) cfg = cfg.decodeGroup(64);      // one group of 64 (above the small-M limit: the packed GEMM path, not bit-identical to solo)
                    if (mode.endsWith("-no-groups")) cfg = cfg.prefillGroupRows(1);   // every prefill chunk and draft check its own pass
                    if (mode.endsWith("-no-mixing")) cfg = cfg.mixedSteps(false);     // decode rows, chunks and drafts in passes apart
                    if (mode.startsWith("speculative")) {                           // speculative-K: n-gram speculation, K draft tokens, lookup 1..3
                        String k = mode.substring("speculative-".length()).replace("-no-groups", "");
                        cfg = cfg.speculative(Engine.Speculation.ngram(Integer.parseInt(k), 1, 3).maxRunning(64));
                    }
                    try (Engine e = new Engine(m, cfg);
                         OpenAiServer s = OpenAiServer.decoder("gpt2-random", e, new IdTokenizer(), null, OpenAiServer.Limits.defaults())) {
                        int port = s.start("127.0.0.1", 0);
                        // warm-up: the largest load in full, so that the measured runs find the JIT done with the
                        // paths they take (after a 2-client warm-up the 32-client batched run, whose 32-row products and
                        // prefill groups it never ran, measured 25% below its later repeats; after one of a quarter of
                        // the tokens, still 18% below: 180 against 220 tokens/s, 2026-12-04)
                        load(port, Arrays.stream(clients).max().orElse(2), shared, prompt, steps, c.vocabSize(), 99, rate);
                        for (int n : clients) {
                            long rows0 = prefillRows(e), passes0 = e.prefillPasses(), hits0 = e.prefixHits(), drafts0 = drafts(e)[0], kept0 = drafts(e)[1];
                            long mixed0 = mixedPasses(e);
                            Run r = load(port, n, shared, prompt, steps, c.vocabSize(), n, rate);
                            long rows = prefillRows(e);
                            long[] d = drafts(e);
                            System.out.printf(java.util.Locale.ROOT, "| %s | %d | %.1f | %.1f | %.0f | %.0f | %.1f | %.1f | %.1f | %.1f | %s | %d | %s | %d | %s |%n", mode, n,
                                    r.tokens() / r.seconds(), r.tokens() / r.cpuSeconds(), pct(r.ttft(), 50), pct(r.ttft(), 99),
                                    pct(r.itl(), 50), pct(r.itl(), 99), r.seconds(), r.cpuSeconds(),
                                    rows < 0 ? "n/a" : Long.toString(rows - rows0), e.prefillPasses() - passes0,
                                    mixed0 < 0 ? "n/a" : Long.toString(mixedPasses(e) - mixed0), e.prefixHits() - hits0,
                                    d[0] < 0 ? "n/a" : (d[1] - kept0) + " of " + (d[0] - drafts0));
                        }
                    }
                }
            }
        }
    }

    /** The engine's prefill rows so far, or -1 on an engine built before it counted them (ServeLoad runs against older builds too). */
    static long prefillRows(Engine e) {
        try {
            return e.prefillRows();
        } catch (NoSuchMethodError old) {
            return -1;
        }
    }

    /** The engine's mixed passes so far, or -1 on an engine built before it mixed a step's rows. */
    static long mixedPasses(Engine e) {
        try {
            return e.mixedPasses();
        } catch (NoSuchMethodError old) {
            return -1;
        }
    }

    /** The engine's draft tokens proposed and kept so far, or {-1, -1} on an engine built before it speculated. */
    static long[] drafts(Engine e) {
        try {
            return new long[] {e.draftTokens(), e.acceptedTokens()};
        } catch (NoSuchMethodError old) {
            return new long[] {-1, -1};
        }
    }

    private static final com.sun.management.OperatingSystemMXBean CPU =
            (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();

    static double pct(double[] xs, double p) {
        if (xs.length == 0) return Double.NaN;
        double[] s = xs.clone();
        Arrays.sort(s);
        int i = (int) Math.ceil(p / 100.0 * s.length) - 1;
        return s[Math.max(0, Math.min(s.length - 1, i))] * 1e3;
    }

    static Run load(int port, int n, int shared, int[] prompt, int steps, int vocab, long seed, double rate) throws Exception {
        HttpClient http = HttpClient.newBuilder().executor(Executors.newVirtualThreadPerTaskExecutor()).build();
        List<Future<double[]>> fs = new ArrayList<>();
        long cpu0 = CPU.getProcessCpuTime();
        long t0 = System.nanoTime();
        SplittableRandom arrivals = new SplittableRandom(seed * 7919 + 13);
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < n; i++) {
                if (i > 0 && rate != Double.POSITIVE_INFINITY) {                 // an exponential gap: Poisson arrivals
                    Thread.sleep(Math.round(-Math.log(1 - arrivals.nextDouble()) / rate * 1000));
                }
                SplittableRandom common = new SplittableRandom(-seed), r = new SplittableRandom(seed * 1000 + i);
                StringBuilder ids = new StringBuilder();
                int own = prompt[0] == prompt[1] ? prompt[0] : prompt[0] + r.nextInt(prompt[1] - prompt[0] + 1);   // a fixed length draws nothing (the prompts of earlier runs)
                for (int k = 0; k < shared + own; k++) ids.append(k == 0 ? "" : ",").append((k < shared ? common : r).nextInt(vocab));
                String body = "{\"model\":\"gpt2-random\",\"prompt\":[" + ids + "],\"max_tokens\":" + steps
                        + ",\"temperature\":0,\"stream\":true}";
                fs.add(pool.submit(() -> stream(http, port, body)));
            }
            List<Double> ttft = new ArrayList<>(), itl = new ArrayList<>();
            int tokens = 0;
            for (Future<double[]> f : fs) {
                double[] times = f.get();                  // seconds after the request was sent, per token
                tokens += times.length;
                if (times.length > 0) ttft.add(times[0]);
                for (int k = 1; k < times.length; k++) itl.add(times[k] - times[k - 1]);
            }
            double wall = (System.nanoTime() - t0) / 1e9;
            double cpu = (CPU.getProcessCpuTime() - cpu0) / 1e9;
            return new Run(wall, cpu, tokens, ttft.stream().mapToDouble(Double::doubleValue).toArray(), itl.stream().mapToDouble(Double::doubleValue).toArray());
        }
    }

    static double[] stream(HttpClient http, int port, String body) throws Exception {
        long t0 = System.nanoTime();
        HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        if (r.statusCode() != 200) throw new IllegalStateException("HTTP " + r.statusCode() + ": " + new String(r.body().readAllBytes(), StandardCharsets.UTF_8));
        List<Double> times = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                if (!line.startsWith("data: ") || line.equals("data: [DONE]")) continue;
                if (line.contains("\"text\":\"<")) times.add((System.nanoTime() - t0) / 1e9);   // a chunk with a token
                if (line.contains("\"error\"")) throw new IllegalStateException(line);
            }
        }
        return times.stream().mapToDouble(Double::doubleValue).toArray();
    }
}
