// Metrics — the server's Prometheus text exposition: gauges read from the engine, request counters,
// and time-to-first-token / inter-token-latency histograms.
package org.transformer4j.server;

import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.transformer4j.model.engine.Engine;

/** Thread-safe; rendered in the Prometheus text format 0.0.4. */
final class Metrics {

    /** A cumulative histogram with fixed bounds in seconds. */
    static final class Histogram {
        final double[] bounds;
        final LongAdder[] counts;
        final LongAdder count = new LongAdder();
        final java.util.concurrent.atomic.DoubleAdder sum = new java.util.concurrent.atomic.DoubleAdder();

        Histogram(double... bounds) {
            this.bounds = bounds;
            this.counts = new LongAdder[bounds.length];
            for (int i = 0; i < bounds.length; i++) counts[i] = new LongAdder();
        }

        void observe(double seconds) {
            for (int i = 0; i < bounds.length; i++) if (seconds <= bounds[i]) counts[i].increment();
            count.increment();
            sum.add(seconds);
        }

        void render(StringBuilder b, String name, String help) {
            b.append("# HELP ").append(name).append(' ').append(help).append('\n');
            b.append("# TYPE ").append(name).append(" histogram\n");
            for (int i = 0; i < bounds.length; i++) {
                b.append(name).append("_bucket{le=\"").append(fmt(bounds[i])).append("\"} ").append(counts[i].sum()).append('\n');
            }
            b.append(name).append("_bucket{le=\"+Inf\"} ").append(count.sum()).append('\n');
            b.append(name).append("_sum ").append(fmt(sum.sum())).append('\n');
            b.append(name).append("_count ").append(count.sum()).append('\n');
        }
    }

    final Histogram ttft = new Histogram(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30);
    final Histogram itl = new Histogram(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5);
    final ConcurrentHashMap<String, LongAdder> requests = new ConcurrentHashMap<>();
    private final long startNanos = System.nanoTime();
    private long lastNanos = startNanos, lastTokens;
    private double lastRate;

    void request(String endpoint, int status) {
        requests.computeIfAbsent(endpoint + "\u0000" + status, k -> new LongAdder()).increment();
    }

    synchronized String render(Engine engine) {
        StringBuilder b = new StringBuilder();
        if (engine != null) {
            long now = System.nanoTime(), tokens = engine.tokensGenerated();
            if (now - lastNanos > 1_000_000_000L || lastNanos == startNanos) {      // the rate since the previous scrape (≥ 1 s)
                lastRate = (tokens - lastTokens) / ((now - lastNanos) / 1e9);
                lastNanos = now;
                lastTokens = tokens;
            }
            gauge(b, "t4j_queue_length", "Requests waiting to join the running batch.", engine.queued());
            gauge(b, "t4j_running_sequences", "Sequences in the running batch.", engine.running());
            gauge(b, "t4j_kv_blocks_in_use", "KV-cache blocks held by sequences.", engine.blocksInUse());
            gauge(b, "t4j_kv_blocks_total", "KV-cache blocks in the pool.", engine.numBlocks());
            gauge(b, "t4j_tokens_per_second", "Generated tokens per second since the previous scrape.", lastRate);
            counter(b, "t4j_generated_tokens_total", "Tokens generated.", engine.tokensGenerated());
            counter(b, "t4j_preemptions_total", "Sequences preempted for lack of KV blocks (recomputed later).", engine.preemptions());
            counter(b, "t4j_prefix_cache_hits_total", "Prompt blocks reused from the prefix cache.", engine.prefixHits());
            counter(b, "t4j_spec_decode_draft_tokens_total", "Draft tokens proposed by n-gram speculative decoding.", engine.draftTokens());
            counter(b, "t4j_spec_decode_accepted_tokens_total", "Draft tokens the model's greedy choices agreed with.", engine.acceptedTokens());
            counter(b, "t4j_prefill_rows_total", "Prompt rows run through the model (rows reused from the prefix cache not counted).", engine.prefillRows());
            counter(b, "t4j_mixed_passes_total", "Forward passes that ran a step's decode rows, prompt chunks and speculative drafts together"
                    + " (two kinds or three).", engine.mixedPasses());
            if (engine.adapters() != null) {       // vLLM's lora_requests_info: the adapters in labels, the scrape's time as the value
                b.append("# HELP t4j_lora_requests_info LoRA adapters of the running and waiting requests and the slots (vLLM's"
                        + " lora_requests_info); the value is the scrape's Unix time.\n# TYPE t4j_lora_requests_info gauge\n")
                        .append("t4j_lora_requests_info{running_lora_adapters=\"").append(label(String.join(",", engine.runningAdapters())))
                        .append("\",waiting_lora_adapters=\"").append(label(String.join(",", engine.waitingAdapters())))
                        .append("\",max_lora=\"").append(engine.adapters().size()).append("\"} ")
                        .append(fmt(System.currentTimeMillis() / 1000.0)).append('\n');
                counter(b, "t4j_lora_swaps_total", "LoRA adapters loaded into a device slot while serving (more adapters than --max-loras).",
                        engine.adapters().swaps());
                counter(b, "t4j_lora_waits_total", "Admissions put off because every LoRA slot ran other adapters' requests.", engine.loraWaits());
            }
            ttft.render(b, "t4j_time_to_first_token_seconds", "Time from a request's arrival to its first token.");
            itl.render(b, "t4j_inter_token_latency_seconds", "Time between consecutive tokens of a request.");
        }
        b.append("# HELP t4j_requests_total HTTP requests by endpoint and status.\n# TYPE t4j_requests_total counter\n");
        requests.forEach((k, v) -> {
            String[] p = k.split("\u0000");
            b.append("t4j_requests_total{endpoint=\"").append(p[0]).append("\",status=\"").append(p[1]).append("\"} ").append(v.sum()).append('\n');
        });
        return b.toString();
    }

    /** A Prometheus label value: backslash, double quote and newline escaped. */
    private static String label(String v) {
        return v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    private static void gauge(StringBuilder b, String name, String help, double v) {
        b.append("# HELP ").append(name).append(' ').append(help).append("\n# TYPE ").append(name).append(" gauge\n")
                .append(name).append(' ').append(fmt(v)).append('\n');
    }

    private static void counter(StringBuilder b, String name, String help, double v) {
        b.append("# HELP ").append(name).append(' ').append(help).append("\n# TYPE ").append(name).append(" counter\n")
                .append(name).append(' ').append(fmt(v)).append('\n');
    }

    static String fmt(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : String.format(Locale.ROOT, "%.6g", v);
    }
}
