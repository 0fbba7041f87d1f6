// Engine — continuous batching over one paged KV pool: requests join the running decode batch at
// every step, prompts are prefilled in chunks under a per-step token budget (chunks of several prompts
// in one pass, packed, and with the step's decode rows and speculative drafts where they fit: vLLM's
// mixed batch), and a sequence that cannot grow when blocks run out is preempted and recomputed later.
package org.transformer4j.model.engine;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.transformer4j.model.Generator;
import org.transformer4j.model.LoraSlots;
import org.transformer4j.model.PagedBatch;
import org.transformer4j.model.Sampling;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.TransformerConfig;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Tensor;
import org.transformer4j.runtime.cpu.CpuKernels;

/**
 * One thread (the engine's loop) runs the model; {@link #submit} may be called from any thread and
 * the listener is called on the loop's thread (keep it short: hand the token to your own thread).
 *
 * <p><b>Same tokens as alone.</b> Each request's tokens equal {@link Generator#generate} of its
 * prompt alone with the same {@link Generator.Options} (greedy, and seeded sampling at counter offset = the
 * token's index, as the generator does; penalties, min_p, logit bias, min_new_tokens, min_length and no_repeat_ngram_size through
 * {@link org.transformer4j.model.Sampling}, from the sequence's own history). A decode step chooses the tokens of
 * all its sequences at once: one mask op over the rows (guides and bans; rows without either whole), one penalty op with per-row
 * penalties on a copy, one sample op with per-row parameters, one copy of the ids to the host (see
 * {@link #sampleOps()}); per-row parameters draw with the row's own seed and offset and counter row word 0, so each
 * row gets the bits of the generator's solo row 0 (t4j.h, ABI 13). On the CPU
 * backend this holds bit for bit because every op is row-wise except the matrix products, whose
 * rows keep their bits while M stays on the same side of {@link CpuKernels#smallMRows()}: decode
 * batches are cut into groups below it; the prefill chunks of a prompt at least that long are 16-row
 * aligned and never shorter than it (a short tail is merged into the chunk before), while a shorter
 * prompt's chunks may be any size (its solo prefill is below the limit too); and a preempted sequence
 * is recomputed as it was first computed — its prompt by prefill, its generated tokens fed back one
 * per decode step. Chunks of several prompts run as one pass of at most smallMRows − 1 rows (every other op of the pass
 * is row-wise or per sequence: each prompt's attention is its own call, as in its solo prefill). On
 * CUDA, cuBLAS may choose other kernels for other M, so equality there is up to float rounding.
 *
 * <p><b>Failure is per sequence.</b> Bad input is refused at {@link #submit}; a sequence whose
 * logits are not finite (the sample op flags its row), whose stop-string
 * decoder throws, or whose listener throws, ends alone with its own error; a decode batch that
 * throws, or whose batched sampling throws, is rerun one sequence at a time so that only the failing one ends.
 */
public final class Engine implements AutoCloseable {

    /**
     * @param kvBudgetBytes  KV memory for the pool (blocks = budget / bytes per block, capped by what
     *                       maxRunning sequences of the model's full length use)
     * @param maxRunning     sequences in the running batch at most
     * @param maxWaiting     requests waiting at most; {@link #submit} refuses more
     * @param stepTokens     tokens per step (decode rows + prefill rows): the prefill budget
     * @param prefillChunk   rows per prefill chunk at most (rounded to whole blocks)
     * @param decodeGroup    sequences per decode forward pass at most
     * @param minChunkRows   fewest rows of a prefill chunk that is not a whole prompt, for prompts of at
     *                       least this many tokens (shorter prompts' chunks may be any size)
     * @param decodeBuckets  batch sizes whose decode step is captured once and replayed (ascending; a
     *                       step runs at the smallest bucket ≥ its sequences, padded; see
     *                       {@link PagedBatch.Decoder}); empty: every step op by op at its own size
     * @param cacheGenerated whether full blocks of generated rows join the prefix cache as prompt blocks do, so that a
     *                       later prompt that repeats a reply (the next turn of a chat) takes them instead of computing
     *                       them (vLLM's automatic prefix caching); their K/V come from decode steps, so on the CPU
     *                       backend such a prompt's tokens are its solo tokens up to float rounding only (off there by
     *                       default; on for CUDA, where equality is up to rounding anyway)
     * @param speculation    n-gram speculative decoding of greedy sequences (see {@link Speculation}); null: none
     * @param prefillGroupRows rows of one pass over several prompts' prefill chunks (or several sequences' speculative
     *                       drafts) at most, packed one after another (vLLM's flattened batch): their products read the
     *                       weights once for all of them. On the CPU below the small-M limit by default, so that each row
     *                       keeps its solo bits (above it a row's bits differ from its solo run's, as for decodeGroup); on
     *                       CUDA no bound but the step's own (its chunks are at most stepTokens rows, as vLLM's
     *                       max_num_batched_tokens), where a pass of more rows differs from the solo one by rounding only.
     *                       1: no groups. Prefix-LM models never group (a first chunk attends bidirectionally)
     * @param loraPassOvers  steps a waiting request may be passed over because every LoRA slot runs other adapters'
     *                       sequences, while later requests whose adapters hold slots are admitted ahead of it (vLLM's
     *                       order, which keeps slots busy); past that, later requests with adapters wait behind it until
     *                       a slot frees (the base model's requests still go ahead: they hold no slot), so steady traffic
     *                       to the adapters in the slots cannot keep it waiting for ever. Default 16; 0: arrival order
     * @param prefixCaching  whether a prompt takes the whole blocks it shares with an earlier prompt from the prefix cache
     *                       (vLLM's automatic prefix caching; default true); false computes every prompt in full (vLLM's
     *                       --no-enable-prefix-caching, for measuring prefill as it is)
     * @param mixedSteps     whether a step's decode rows, prefill chunks and speculative drafts go through ONE packed pass
     *                       where at least two kinds are there and they fit {@code prefillGroupRows} (vLLM's mixed batch: the
     *                       weights read once; each sequence's attention in one varlen launch for all of them, t4j.h ABI 17);
     *                       default true; false runs them apart (a decode step, prefill passes, verify passes), for measuring
     */
    public record Config(long kvBudgetBytes, int maxRunning, int maxWaiting, int stepTokens, int prefillChunk,
                         int decodeGroup, int minChunkRows, int[] decodeBuckets, boolean cacheGenerated, Speculation speculation,
                         int prefillGroupRows, int loraPassOvers, boolean prefixCaching, boolean mixedSteps) {
        public Config {
            if (kvBudgetBytes <= 0) throw new IllegalArgumentException("kvBudgetBytes must be > 0, got " + kvBudgetBytes);
            if (maxRunning < 1 || maxWaiting < 0 || stepTokens < 1 || prefillChunk < 1 || decodeGroup < 1 || minChunkRows < 1
                    || prefillGroupRows < 1 || loraPassOvers < 0) {
                throw new IllegalArgumentException("engine limits must be ≥ 1 (maxWaiting ≥ 0): kvBudgetBytes=" + kvBudgetBytes
                        + " maxRunning=" + maxRunning + " maxWaiting=" + maxWaiting + " stepTokens=" + stepTokens + " prefillChunk="
                        + prefillChunk + " decodeGroup=" + decodeGroup + " minChunkRows=" + minChunkRows + " prefillGroupRows=" + prefillGroupRows
                        + " loraPassOvers=" + loraPassOvers);
            }
            decodeBuckets = decodeBuckets == null ? new int[0] : decodeBuckets.clone();
            PagedBatch.Decoder.checkBuckets(decodeBuckets);
        }

        @Override
        public int[] decodeBuckets() { return decodeBuckets.clone(); }

        /**
         * Defaults for the model's backend: 256 MiB of KV, 64 running, 256 waiting, 512 tokens a step;
         * on the CPU, decode groups as large as the small-M limit allows (with the Vector API: all 64
         * running sequences in one forward pass, each row bit-identical to a solo run) and no decode
         * buckets (padding rows would cost their full arithmetic there, and launches cost nothing); on
         * CUDA, captured decode steps for 1, 2, 4, 8, 16, 24, 32, 48 and 64 sequences. Generated blocks are cached on
         * CUDA only; prefill groups of at most smallMRows − 1 rows on the CPU, a whole step's on CUDA (see the record's parameters).
         */
        public static Config defaults(Transformer m) {
            boolean cpu = !m.backend.device().isCuda();
            int small = CpuKernels.smallMRows();
            return new Config(256L << 20, 64, 256, 512, 256, cpu ? small - 1 : 64, cpu ? small : 1,
                    cpu ? new int[0] : new int[] {1, 2, 4, 8, 16, 24, 32, 48, 64}, !cpu, null, cpu ? small - 1 : Integer.MAX_VALUE, 16, true, true);
        }

        public Config kvBudget(long bytes) {
            return new Config(bytes, maxRunning, maxWaiting, stepTokens, prefillChunk, decodeGroup, minChunkRows, decodeBuckets, cacheGenerated, speculation, prefillGroupRows, loraPassOvers, prefixCaching, mixedSteps);
        }

        public Config limits(int running, int waiting) {
            return new Config(kvBudgetBytes, running, waiting, stepTokens, prefillChunk, decodeGroup, minChunkRows, decodeBuckets, cacheGenerated, speculation, prefillGroupRows, loraPassOvers, prefixCaching, mixedSteps);
        }

        /** Batch sizes whose decode step is captured (see the record's parameters); none: op by op. */
        public Config decodeBuckets(int... sizes) {
            return new Config(kvBudgetBytes, maxRunning, maxWaiting, stepTokens, prefillChunk, decodeGroup, minChunkRows, sizes, cacheGenerated, speculation, prefillGroupRows, loraPassOvers, prefixCaching, mixedSteps);
        }

        /**
         * Sequences per decode forward pass. Above the CPU's small-M limit the matrix products take the
         * packed path, faster per token for many sequences, but a row's bits then differ from a solo run's
         * (equal up to float rounding, so a near tie may pick another token).
         */
        public Config decodeGroup(int g) {
            return new Config(kvBudgetBytes, maxRunning, maxWaiting, stepTokens, prefillChunk, g, minChunkRows, decodeBuckets, cacheGenerated, speculation, prefillGroupRows, loraPassOvers, prefixCaching, mixedSteps);
        }

        /** Whether generated blocks join the prefix cache (see the record's parameters). */
        public Config cacheGenerated(boolean on) {
            return new Config(kvBudgetBytes, maxRunning, maxWaiting, stepTokens, prefillChunk, decodeGroup, minChunkRows, decodeBuckets, on, speculation, prefillGroupRows, loraPassOvers, prefixCaching, mixedSteps);
        }

        /** N-gram speculative decoding as {@code s} says (null: none). */
        public Config speculative(Speculation s) {
            return new Config(kvBudgetBytes, maxRunning, maxWaiting, stepTokens, prefillChunk, decodeGroup, minChunkRows, decodeBuckets, cacheGenerated, s, prefillGroupRows, loraPassOvers, prefixCaching, mixedSteps);
        }

        /**
         * Rows of one prefill pass over several prompts' chunks at most (see the record's parameters); 1: every chunk its
         * own pass.
         */
        public Config prefillGroupRows(int rows) {
            return new Config(kvBudgetBytes, maxRunning, maxWaiting, stepTokens, prefillChunk, decodeGroup, minChunkRows, decodeBuckets, cacheGenerated,
                    speculation, rows, loraPassOvers, prefixCaching, mixedSteps);
        }

        /**
         * Steps a request may be passed over for a LoRA slot before later requests with adapters wait behind it (see the
         * record's parameters); 0: adapters' requests are admitted in arrival order.
         */
        public Config loraPassOvers(int steps) {
            return new Config(kvBudgetBytes, maxRunning, maxWaiting, stepTokens, prefillChunk, decodeGroup, minChunkRows, decodeBuckets, cacheGenerated,
                    speculation, prefillGroupRows, steps, prefixCaching, mixedSteps);
        }

        /** Whether prompts take their blocks from the prefix cache (see the record's parameters); vLLM's --no-enable-prefix-caching: false. */
        public Config prefixCaching(boolean on) {
            return new Config(kvBudgetBytes, maxRunning, maxWaiting, stepTokens, prefillChunk, decodeGroup, minChunkRows, decodeBuckets, cacheGenerated,
                    speculation, prefillGroupRows, loraPassOvers, on, mixedSteps);
        }

        /** Whether a step's decode rows, prefill chunks and drafts share one pass (see the record's parameters); false: apart. */
        public Config mixedSteps(boolean on) {
            return new Config(kvBudgetBytes, maxRunning, maxWaiting, stepTokens, prefillChunk, decodeGroup, minChunkRows, decodeBuckets, cacheGenerated,
                    speculation, prefillGroupRows, loraPassOvers, prefixCaching, on);
        }

        public Config steps(int tokens, int chunk) {
            return new Config(kvBudgetBytes, maxRunning, maxWaiting, tokens, chunk, decodeGroup, minChunkRows, decodeBuckets, cacheGenerated, speculation, prefillGroupRows, loraPassOvers, prefixCaching, mixedSteps);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Config c && kvBudgetBytes == c.kvBudgetBytes && maxRunning == c.maxRunning && maxWaiting == c.maxWaiting
                    && stepTokens == c.stepTokens && prefillChunk == c.prefillChunk && decodeGroup == c.decodeGroup
                    && minChunkRows == c.minChunkRows && Arrays.equals(decodeBuckets, c.decodeBuckets) && cacheGenerated == c.cacheGenerated
                    && java.util.Objects.equals(speculation, c.speculation) && prefillGroupRows == c.prefillGroupRows
                    && loraPassOvers == c.loraPassOvers && prefixCaching == c.prefixCaching && mixedSteps == c.mixedSteps;
        }

        @Override
        public int hashCode() {
            return java.util.Objects.hash(kvBudgetBytes, maxRunning, maxWaiting, stepTokens, prefillChunk, decodeGroup, minChunkRows, cacheGenerated, speculation,
                    prefillGroupRows, loraPassOvers, prefixCaching, mixedSteps)
                    * 31 + Arrays.hashCode(decodeBuckets);
        }

        @Override
        public String toString() {
            return "Config[kvBudgetBytes=" + kvBudgetBytes + ", maxRunning=" + maxRunning + ", maxWaiting=" + maxWaiting + ", stepTokens="
                    + stepTokens + ", prefillChunk=" + prefillChunk + ", decodeGroup=" + decodeGroup + ", minChunkRows=" + minChunkRows
                    + ", decodeBuckets=" + Arrays.toString(decodeBuckets) + ", cacheGenerated=" + cacheGenerated + ", speculation=" + speculation
                    + ", prefillGroupRows=" + prefillGroupRows + ", loraPassOvers=" + loraPassOvers + ", prefixCaching=" + prefixCaching + ", mixedSteps=" + mixedSteps + "]";
        }
    }

    /**
     * N-gram speculative decoding (vLLM's {@code --speculative-config '{"method": "ngram", …}'}, prompt lookup): for a greedy
     * sequence, the longest suffix of its tokens of {@code minNgram}..{@code maxNgram} tokens that occurred before (its
     * earliest occurrence, as vLLM's proposer picks it) proposes the up to {@code tokens} tokens that followed it; one
     * forward pass over the last token and the draft checks them all, the longest prefix the model's own greedy choices
     * agree with is kept, and the token after it comes from the same pass — 1 to tokens + 1 tokens a step instead of 1.
     * Only while at most {@code maxRunning} sequences run (the running sequences' drafts are checked in one packed pass,
     * whose rows cost more as sequences are added: with few drafts kept a batched decode step does more per pass), and only
     * for sequences that choose greedily with nothing that reads the
     * history or reshapes the row (no penalties, logit bias, bans, guides or log-probabilities). The kept tokens are the
     * model's greedy choices; their rows come from the prefill path, so on the CPU backend they equal a solo run's up to
     * float rounding (a near tie may go the other way), not bit for bit.
     */
    public record Speculation(int tokens, int minNgram, int maxNgram, int maxRunning) {
        public Speculation {
            if (tokens < 1 || minNgram < 1 || maxNgram < minNgram || maxRunning < 1) {
                throw new IllegalArgumentException("speculation needs tokens ≥ 1, 1 ≤ minNgram ≤ maxNgram and maxRunning ≥ 1; got tokens="
                        + tokens + " minNgram=" + minNgram + " maxNgram=" + maxNgram + " maxRunning=" + maxRunning);
            }
        }

        /**
         * vLLM's ngram settings: {@code num_speculative_tokens}, {@code prompt_lookup_min} / {@code prompt_lookup_max} (null:
         * the other's value; both null: 5 and 5, vLLM's defaults), speculating while at most 2 sequences run (on the 2-CPU
         * Xeon with GPT-2 small and 93% of drafts kept: 3.1× the tokens per second with one sequence, 2.6× with two, 1.7×
         * with four, 1.33× with eight; with two sequences a check pays from about 1.45 tokens kept per check —
         * bench/results/speculative-ngram-cpu.md).
         */
        public static Speculation ngram(int tokens, Integer minNgram, Integer maxNgram) {
            int lo = minNgram != null ? minNgram : maxNgram != null ? maxNgram : 5;
            int hi = maxNgram != null ? maxNgram : lo;
            return new Speculation(tokens, lo, hi, 2);
        }

        /** This speculation while at most {@code n} sequences run (vLLM's {@code disable_by_batch_size}). */
        public Speculation maxRunning(int n) { return new Speculation(tokens, minNgram, maxNgram, n); }

        /**
         * The draft for {@code t[0, n)} (prompt and generated tokens, the last not yet fed), at most {@code limit} tokens:
         * after the earliest earlier occurrence of the longest suffix of minNgram..maxNgram tokens; empty where none occurred.
         */
        public int[] propose(int[] t, int n, int limit) {
            int k = Math.min(tokens, limit);
            if (k <= 0) return new int[0];
            for (int g = Math.min(maxNgram, n - 1); g >= minNgram; g--) {
                for (int j = 0; j + g < n; j++) {                  // j + g < n: an occurrence before the suffix itself ends
                    if (Arrays.equals(t, j, j + g, t, n - g, n)) {
                        int from = j + g;
                        return Arrays.copyOfRange(t, from, Math.min(n, from + k));
                    }
                }
            }
            return new int[0];
        }
    }

    /**
     * A request: its prompt (include BOS yourself), the generator's options, how many alternatives to report per token
     * ({@code topLogprobs}: -1 no log-probabilities, 0 the chosen token's only), the same for the prompt's own tokens
     * ({@code promptLogprobs}: each prompt token's log-probability under the rows before it, reported once through
     * {@link Listener#onPromptLogprobs} when the prefill is done; vLLM's prompt_logprobs), and whether to generate at all
     * ({@code generate} false: the prompt's log-probabilities only, then {@link Finish#LENGTH} with no token — scoring), and
     * {@code cacheSalt} (vLLM's cache_salt; null: none): prompt blocks are shared only between requests of one salt, so
     * that a tenant cannot learn from timing whether another tenant's prompt began as its own, and {@code adapter}: the
     * name of one of the engine's LoRA adapters ({@link LoraSlots}) the request runs through, or null for the base model.
     */
    public record Request(int[] prompt, Generator.Options options, int topLogprobs, int promptLogprobs, boolean generate, String cacheSalt,
                          String adapter) {
        public Request {
            if (options == null) throw new IllegalArgumentException("no options");
            if (topLogprobs < -1) throw new IllegalArgumentException("topLogprobs must be ≥ -1, got " + topLogprobs);
            if (promptLogprobs < -1) throw new IllegalArgumentException("promptLogprobs must be ≥ -1, got " + promptLogprobs);
            if (!generate && promptLogprobs < 0) {
                throw new IllegalArgumentException("a request that generates nothing must ask for the prompt's log-probabilities");
            }
        }

        public Request(int[] prompt, Generator.Options options, int topLogprobs, int promptLogprobs, boolean generate, String cacheSalt) {
            this(prompt, options, topLogprobs, promptLogprobs, generate, cacheSalt, null);
        }

        public Request(int[] prompt, Generator.Options options, int topLogprobs, int promptLogprobs, boolean generate) {
            this(prompt, options, topLogprobs, promptLogprobs, generate, null);
        }

        public Request(int[] prompt, Generator.Options options, int topLogprobs) { this(prompt, options, topLogprobs, -1, true); }

        public Request(int[] prompt, Generator.Options options) { this(prompt, options, -1); }

        /** This request, also reporting its prompt tokens' log-probabilities with {@code top} alternatives each (0: none). */
        public Request withPromptLogprobs(int top) { return new Request(prompt, options, topLogprobs, top, generate, cacheSalt, adapter); }

        /** This request with prefix-cache salt {@code salt} (null: none). */
        public Request withCacheSalt(String salt) { return new Request(prompt, options, topLogprobs, promptLogprobs, generate, salt, adapter); }

        /** This request through the engine's LoRA adapter {@code name} (null: the base model). */
        public Request withAdapter(String name) { return new Request(prompt, options, topLogprobs, promptLogprobs, generate, cacheSalt, name); }

        /** This request scoring its prompt only: the prompt's log-probabilities (as asked, else the tokens' own), no new token. */
        public Request promptOnly() { return new Request(prompt, options, topLogprobs, Math.max(promptLogprobs, 0), false, cacheSalt, adapter); }
    }

    /**
     * A prompt's log-probabilities: entry i is prompt token i's log softmax (at temperature 1) in the row of token i − 1,
     * its rank there (1 + the ids with a larger log-probability, as vLLM ranks it), and that row's {@code top} most likely
     * ids and theirs (Logprobs' order); entry 0 has none (NaN, 0, null, null).
     */
    public record PromptLogprobs(double[] logprobs, int[] ranks, int[][] topIds, double[][] topLogprobs) {}

    /**
     * One new token: its index among the request's new tokens, and with log-probabilities asked for,
     * log softmax(logits)[id] at temperature 1 and the {@code topLogprobs} most likely ids with theirs.
     */
    public record Token(int index, int id, double logprob, int[] topIds, double[] topLogprobs) {}

    /** Why a request ended: a stop id or string, the token limit, a cancel, or an error. */
    public enum Finish { STOP, LENGTH, CANCELLED, ERROR }

    /** Called on the engine's thread. */
    public interface Listener {
        /**
         * The request joined the running batch with its first {@code cachedPromptTokens} prompt tokens taken from the
         * prefix cache (0: none); called again if it is admitted again after a preemption.
         */
        default void onAdmitted(int cachedPromptTokens) {}

        /** The prompt's log-probabilities, once, before the first token, where the request asked for them. */
        default void onPromptLogprobs(PromptLogprobs logprobs) {}

        void onToken(Token token);

        /** The last call; {@code error} is null unless {@code reason} is ERROR. */
        void onFinish(Finish reason, String error);
    }

    /** A submitted request; {@link #cancel} ends it (its blocks are freed at the next step). */
    public static final class Handle {
        private final Seq seq;

        Handle(Seq seq) { this.seq = seq; }

        public void cancel() { seq.cancelled = true; seq.engine.wake(); }

        public long id() { return seq.id; }
    }

    /** {@link #submit} refuses a request when the waiting queue is full. */
    public static final class QueueFullException extends RejectedExecutionException {
        QueueFullException(String m) { super(m); }
    }

    private final Transformer model;
    private final Config config;
    private final BlockManager blocks;
    private final int vocab;
    private final ConcurrentLinkedQueue<Seq> incoming = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();   // run on the loop between steps
    private final ArrayDeque<Seq> waiting = new ArrayDeque<>();
    private final List<Seq> running = new ArrayList<>();
    private final AtomicInteger queued = new AtomicInteger();
    private final AtomicLong ids = new AtomicLong();
    private final AtomicLong tokensOut = new AtomicLong(), preemptions = new AtomicLong(), steps = new AtomicLong();
    private final AtomicLong loraWaits = new AtomicLong();   // admissions put off: every LoRA slot held by other adapters
    private final AtomicLong draftTokens = new AtomicLong(), acceptedTokens = new AtomicLong(), verifyPasses = new AtomicLong();
    private final AtomicLong mixedPasses = new AtomicLong();   // passes of decode rows and prefill chunks together
    private final AtomicLong prefillPasses = new AtomicLong(), prefillRows = new AtomicLong(), sampleOps = new AtomicLong(), logprobCopies = new AtomicLong();
    private static final Generator.Options GREEDY = Generator.Options.greedy(1);   // rows not chosen this step
    private volatile int runningCount, blocksInUse;
    private final Object lock = new Object();
    private volatile boolean stopping;
    private final Thread loop;
    /** Most rows of one prefill pass over several sequences' chunks ({@link Config#prefillGroupRows}; 1 for prefix-LM models). */
    private final int groupRows;
    /** Whether chunks of different lengths or starts may share a pass ({@link Transformer#packsPrefill}); else only equal ones. */
    private final boolean packs;
    /** The captured decode steps (null without decode buckets) and the pool block their padding rows write to (-1: none). */
    private final PagedBatch.Decoder decoder;
    private final LoraSlots adapters;                       // per-request LoRA adapters, or null
    private final int padBlock;

    public Engine(Transformer model, Config config) { this(model, config, null); }

    /**
     * An engine whose requests may each run through one of {@code adapters} ({@link Request#adapter}; null: none). The
     * adapters stay the caller's: close them after the engine.
     */
    public Engine(Transformer model, Config config, LoraSlots adapters) {
        PagedBatch.requireDecoderOnly(model);
        this.adapters = adapters;
        this.model = model;
        this.config = config;
        this.vocab = model.config.vocabSize();
        this.groupRows = model.config.prefixLm() ? 1 : config.prefillGroupRows();
        this.packs = model.packsPrefill();
        this.blocks = new BlockManager(model, config.kvBudgetBytes(), config.maxRunning());
        int[] buckets = config.decodeBuckets();
        if (buckets.length > 0) {
            // one block held for the engine's life: padding rows append their K/V there, never into a sequence's blocks
            if (blocks.numBlocks() < 2) {
                blocks.close();
                throw new IllegalArgumentException("decode buckets need a KV pool of ≥ 2 blocks (one is kept for padding rows); "
                        + "this budget holds " + blocks.numBlocks() + " (Config.kvBudget, or no buckets: Config.decodeBuckets())");
            }
            padBlock = blocks.allocate();
            int width = blocks.numBlocks() - 1;                  // the most blocks a sequence can hold: the pool's, or its positions'
            if (model.config.contextPositions() > 0) width = Math.min(width, BlockManager.blocksFor(model.config.contextPositions()));
            decoder = new PagedBatch.Decoder(model, buckets, width, padBlock, adapters);
        } else {
            padBlock = -1;
            decoder = null;
        }
        this.loop = Thread.ofPlatform().daemon().name("t4j-engine").unstarted(this::run);
        loop.start();
    }

    /** Blocks a sequence may hold: the pool's, less the one kept for padding rows when decode steps are captured. */
    private int usableBlocks() { return blocks.numBlocks() - (padBlock >= 0 ? 1 : 0); }

    /**
     * The most rows (prompt + new tokens) one sequence may take: the model's context positions
     * ({@link TransformerConfig#contextPositions}: max_position_embeddings with RoPE scaling's extension, as vLLM derives
     * max_model_len; past them RoPE extrapolates beyond what the model was trained for, and the captured decode steps'
     * block tables are that wide), and what the KV pool holds for one sequence. {@link #submit} refuses
     * a request beyond it; a server's context length (vLLM's max_model_len) is at most this.
     */
    public int maxSequenceRows() {
        long pool = (long) usableBlocks() * BlockManager.BLOCK_SIZE;
        int positions = model.config.contextPositions();
        return (int) Math.min(Integer.MAX_VALUE, positions > 0 ? Math.min(pool, positions) : pool);
    }

    /**
     * What sets {@link #maxSequenceRows}, in words for an error message: "the model's N positions", or "what the KV pool
     * holds for one sequence (N tokens; a larger KV budget holds more)".
     */
    public String sequenceBound() {
        int rows = maxSequenceRows(), positions = model.config.contextPositions();
        return positions > 0 && positions <= rows ? "the model's " + positions + " positions"
                : "what the KV pool holds for one sequence (" + rows + " tokens; a larger KV budget holds more)";
    }

    /** Blocks the sequences hold (the padding rows' block not counted). */
    private int sequenceBlocks() { return blocks.blocksInUse() - (padBlock >= 0 ? 1 : 0); }

    public Transformer model() { return model; }

    /** The LoRA adapters requests may name ({@link Request#adapter}), or null. */
    public LoraSlots adapters() { return adapters; }

    /**
     * Registers adapter {@code a} as {@code name} with the engine's {@link LoraSlots}, on the engine's thread between two
     * steps (the captured decode steps read the slots' tensors as they are then), loading it into a free slot if one is
     * free (the future's value: that slot, or −1: swapped in when a request needs it); vLLM's /v1/load_lora_adapter. The
     * future fails with what {@link LoraSlots#add} refuses.
     */
    public java.util.concurrent.CompletableFuture<Integer> loadAdapter(String name, org.transformer4j.model.LoraAdapter a) {
        return onLoop(() -> {
            try {
                return requireAdapters().add(name, a);
            } catch (org.transformer4j.model.weights.CheckpointException e) {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
        });
    }

    /**
     * Unloads adapter {@code name} between two steps; refused (IllegalStateException) while a request submitted for it
     * has not finished. A request for it submitted meanwhile ends with an error naming the unload.
     */
    public java.util.concurrent.CompletableFuture<Void> unloadAdapter(String name) {
        return onLoop(() -> {
            LoraSlots slots = requireAdapters();
            long id = slots.registration(name);
            if (id == 0) throw new IllegalArgumentException("no LoRA adapter named '" + name + "' is loaded; loaded: " + slots.names());
            long busy = java.util.stream.Stream.concat(java.util.stream.Stream.concat(running.stream(), waiting.stream()), incoming.stream())
                    .filter(s -> !s.done && name.equals(s.adapter) && s.adapterRegistration == id).count();
            if (busy > 0) throw new IllegalStateException("LoRA adapter '" + name + "' is in use by " + busy + " request(s); unload it when they are done");
            slots.remove(name);
            return null;
        });
    }

    private LoraSlots requireAdapters() {
        if (adapters == null) throw new IllegalStateException("this engine serves no LoRA adapters (give it LoraSlots)");
        return adapters;
    }

    /** Runs work on the engine's loop between two steps; its result or exception completes the future. */
    private <T> java.util.concurrent.CompletableFuture<T> onLoop(java.util.function.Supplier<T> work) {
        java.util.concurrent.CompletableFuture<T> f = new java.util.concurrent.CompletableFuture<>();
        if (stopping) {
            f.completeExceptionally(new IllegalStateException("the engine is closed"));
            return f;
        }
        tasks.add(() -> {
            if (stopping) { f.completeExceptionally(new IllegalStateException("the engine is closed")); return; }
            try {
                f.complete(work.get());
            } catch (RuntimeException e) {
                f.completeExceptionally(e);
            }
        });
        wake();
        return f;
    }

    public Config config() { return config; }

    /** Requests waiting to be admitted. */
    public int queued() { return queued.get(); }

    /** Sequences in the running batch. */
    public int running() { return runningCount; }

    /** KV blocks the sequences hold (with decode buckets the pool holds one more, for padding rows). */
    public int blocksInUse() { return blocksInUse; }

    public int numBlocks() { return blocks.numBlocks(); }

    /** Whether decode steps of this batch bucket replay a captured graph now (false without buckets; see Config.decodeBuckets). */
    public boolean decodeGraphed(int bucket) { return decoder != null && decoder.graphed(bucket); }

    /** Why capturing the bucket's decode step failed (it then runs op by op), or null. */
    public String decodeGraphFailure(int bucket) { return decoder == null ? null : decoder.graphFailure(bucket); }

    public long tokensGenerated() { return tokensOut.get(); }

    public long preemptions() { return preemptions.get(); }

    /** How many times a waiting request was passed over because every LoRA slot ran other adapters' sequences. */
    public long loraWaits() { return loraWaits.get(); }

    public long prefixHits() { return blocks.prefixHits(); }

    public long steps() { return steps.get(); }

    /** Forward passes run for prompts (one per prefill chunk, or per group of chunks run together). */
    public long prefillPasses() { return prefillPasses.get(); }

    /** Prompt rows run through the model (rows taken from the prefix cache not counted; a preempted prompt's recomputed rows counted again). */
    public long prefillRows() { return prefillRows.get(); }

    /**
     * Passes that ran two or three kinds of a step's rows together: decode rows, prefill chunks, speculative drafts (one
     * with chunks also counts as a prefill pass, one with drafts as a verify pass).
     */
    public long mixedPasses() { return mixedPasses.get(); }

    /** Draft tokens proposed by n-gram speculation so far (see {@link Speculation}). */
    public long draftTokens() { return draftTokens.get(); }

    /** Draft tokens the model's greedy choices agreed with (kept) so far. */
    public long acceptedTokens() { return acceptedTokens.get(); }

    /** Forward passes run to check drafts so far: one per speculating sequence, or per group of them checked together. */
    public long verifyPasses() { return verifyPasses.get(); }

    /** Sample ops run so far: one per decode pass for all its sequences, one per step for the first tokens of the prompts it finished. */
    public long sampleOps() { return sampleOps.get(); }

    /** Device-to-host copies of logits rows for log-probabilities so far (CUDA: at most one per choice of a step's tokens; 0 on the CPU). */
    public long logprobCopies() { return logprobCopies.get(); }

    /**
     * Queues a request. Throws IllegalArgumentException for bad input (empty prompt, an id outside the
     * vocabulary, a prompt plus maxNewTokens beyond the model's positions or the KV pool: {@link #maxSequenceRows}) and
     * {@link QueueFullException} when {@code maxWaiting} requests wait already.
     */
    public Handle submit(Request r, Listener listener) {
        if (r == null || listener == null) throw new IllegalArgumentException("request and listener are required");
        if (stopping) throw new IllegalStateException("the engine is closed");
        int[] p = r.prompt();
        if (p == null || p.length == 0) throw new IllegalArgumentException("the prompt is empty");
        for (int i = 0; i < p.length; i++) {
            if (p[i] < 0 || p[i] >= vocab) {
                throw new IllegalArgumentException("prompt token " + i + " is " + p[i] + ", outside the vocabulary [0, " + vocab + ")");
            }
        }
        Sampling.checkBias(r.options(), vocab);
        long rows = (long) p.length + (r.generate() ? r.options().maxNewTokens() : 0);
        TransformerConfig c = model.config;
        if (c.contextPositions() > 0 && rows > c.contextPositions()) {
            throw new IllegalArgumentException("the prompt has " + p.length + " tokens; with " + (r.generate() ? r.options().maxNewTokens() : 0)
                    + " new tokens that exceeds the model's " + c.contextPositions() + " positions");
        }
        if (BlockManager.blocksFor(rows) > usableBlocks()) {
            throw new IllegalArgumentException(rows + " rows (prompt + new tokens) need " + BlockManager.blocksFor(rows)
                    + " KV blocks but the pool has " + usableBlocks() + (padBlock >= 0 ? " for sequences (one more is kept for padding rows)" : ""));
        }
        long load = 0;
        if (r.adapter() != null) {
            load = adapters == null ? 0 : adapters.registration(r.adapter());   // its slot is taken when it is admitted
            if (load == 0) {
                throw new IllegalArgumentException("no LoRA adapter named '" + r.adapter() + "' is served"
                        + (adapters == null ? " (this engine serves none)" : "; the engine serves " + adapters.names()));
            }
        }
        if (queued.incrementAndGet() > config.maxWaiting()) {
            queued.decrementAndGet();
            throw new QueueFullException(config.maxWaiting() + " requests are waiting already");
        }
        Seq s = new Seq(this, ids.incrementAndGet(), p.clone(), r.options(), r.topLogprobs(), listener);
        s.adapter = r.adapter();
        s.adapterRegistration = load;
        s.promptTop = r.promptLogprobs();
        s.generate = r.generate();
        // an adapter's K/V rows are its own: its prompt blocks are shared only with requests of the same adapter (and salt)
        // (its load's: an adapter unloaded and loaded again under one name may be another)
        s.salt = r.adapter() == null ? r.cacheSalt()
                : "\u0000lora:" + r.adapter() + "#" + s.adapterRegistration + (r.cacheSalt() == null ? "" : "\u0000" + r.cacheSalt());
        s.root = s.salt == null ? BlockManager.ROOT : blocks.saltKey(s.salt);
        s.key = s.root;
        incoming.add(s);
        wake();
        return new Handle(s);
    }

    void wake() {
        synchronized (lock) { lock.notifyAll(); }
    }

    // ---- the loop -----------------------------------------------------------------------------------

    static final class Seq {
        final Engine engine;
        final long id;
        final int[] prompt;
        final Generator.Options o;
        final int topLogprobs;
        final Listener listener;
        final org.transformer4j.model.guided.TokenConstraint guide;    // structured outputs, or null
        final List<Integer> gen = new ArrayList<>();
        final Sampling.History history;                  // the tokens the penalties read, or null (none asked for)
        final Sampling.Bans bans;                        // ids banned or forced (min_new_tokens, min_length, n-grams, TokenRules), or null
        final List<Integer> held = new ArrayList<>();   // block ids, in row order
        int len;                                         // cached rows
        int published;                                   // blocks published (or taken from the cache), in row order
        long key = BlockManager.ROOT;                    // the prefix-cache key of the last of them
        long root = BlockManager.ROOT;                   // the key before its first block: its cache salt's, or ROOT
        String salt;                                     // its cache salt, or null
        int slot = -1;                                   // its LoRA adapter's slot while it runs (LoraSlots#acquire), else -1
        String adapter;                                  // its LoRA adapter's name, or null
        long adapterRegistration;                                // the registration of that adapter it was submitted under
        int passedOver;                                  // steps it waited because every LoRA slot ran other adapters
        int promptTop = -1;                              // the prompt's log-probabilities: -1 not asked, else alternatives
        boolean generate = true;                         // false: the prompt's log-probabilities only
        PromptLogprobs promptLps;                        // being filled while the prompt is prefilled; null once reported
        int[] draft;                                     // this step's speculated tokens, or null
        boolean promptReported;
        volatile boolean cancelled;
        boolean done;

        Seq(Engine engine, long id, int[] prompt, Generator.Options o, int topLogprobs, Listener listener) {
            this.engine = engine; this.id = id; this.prompt = prompt; this.o = o; this.topLogprobs = topLogprobs; this.listener = listener;
            this.history = Sampling.History.of(o, prompt);
            this.bans = Sampling.Bans.of(o, prompt);
            this.guide = o.guide() == null ? null : o.guide().start();
        }

        int token(int i) { return i < prompt.length ? prompt[i] : gen.get(i - prompt.length); }

        boolean prefilling() { return len < prompt.length; }

        /** Whether every prompt row's logits are still wanted (its prompt's log-probabilities not reported yet). */
        boolean wantsPromptRows() { return promptTop >= 0 && !promptReported; }
    }

    private void run() {
        while (!stopping) {
            try {
                if (!stepOnce()) {
                    synchronized (lock) {
                        if (incoming.isEmpty() && tasks.isEmpty() && !stopping) lock.wait(50);
                    }
                }
            } catch (InterruptedException e) {
                break;
            } catch (RuntimeException | Error e) {               // a bug in the loop: end every sequence, keep serving
                for (Seq s : new ArrayList<>(running)) fail(s, "engine step failed: " + e);
            }
        }
        List<Seq> all = new ArrayList<>(running);
        all.addAll(waiting);
        for (Seq s; (s = incoming.poll()) != null; ) all.add(s);
        for (Runnable t; (t = tasks.poll()) != null; ) t.run();        // their futures fail: the engine is closed
        for (Seq s : all) if (!s.done) fail(s, "the engine was closed");
        if (decoder != null) decoder.close();
        blocks.close();
    }

    /** One step; false when there was nothing to do. */
    private boolean stepOnce() {
        for (Runnable t; (t = tasks.poll()) != null; ) t.run();   // adapter loads and unloads, between passes
        for (Seq s; (s = incoming.poll()) != null; ) {
            if (s.adapter != null && adapters.registration(s.adapter) != s.adapterRegistration) {       // unloaded after it was submitted
                queued.decrementAndGet();
                finishQuiet(s, Finish.ERROR, "LoRA adapter '" + s.adapter + "' was unloaded");
                continue;
            }
            waiting.add(s);
        }
        for (Seq s : new ArrayList<>(running)) if (s.cancelled) finish(s, Finish.CANCELLED, null);
        for (var it = waiting.iterator(); it.hasNext(); ) {
            Seq s = it.next();
            if (s.cancelled) { it.remove(); queued.decrementAndGet(); finishQuiet(s, Finish.CANCELLED, null); }
        }
        // in line, except a prompt whose shared blocks a running prefill is computing: it waits for them (awaitsPrefix)
        boolean slotsOwed = false;                       // a request passed over for a slot too often: adapters' requests queue behind it
        for (var it = waiting.iterator(); it.hasNext() && running.size() < config.maxRunning(); ) {
            Seq s = it.next();
            if (awaitsPrefix(s)) continue;
            if (s.adapter != null) {
                if (slotsOwed) continue;                     // admitted, it would keep a slot busy that the earlier one waits for
                int slot;
                try {
                    slot = adapters.acquire(s.adapter);          // its adapter into a slot (swapped in if need be), held while it runs
                } catch (RuntimeException e) {                   // unloaded meanwhile, or its folder could not be read again
                    it.remove();
                    queued.decrementAndGet();
                    finishQuiet(s, Finish.ERROR, e.getMessage());
                    continue;
                }
                if (slot < 0) {                              // every slot runs another adapter: others go first (vLLM), for a while
                    loraWaits.incrementAndGet();
                    if (++s.passedOver > config.loraPassOvers()) slotsOwed = true;
                    continue;
                }
                s.slot = slot;
            }
            it.remove();
            queued.decrementAndGet();
            running.add(s);
            sharePrefix(s);
            try {
                s.listener.onAdmitted(s.len);
            } catch (RuntimeException e) {
                fail(s, "the listener failed: " + e);
            }
        }
        if (running.isEmpty()) { publish(); return false; }
        steps.incrementAndGet();
        // decode rows first: each needs room for one more row
        List<Seq> decoding = new ArrayList<>();
        for (Seq s : new ArrayList<>(running)) {
            if (s.done || s.prefilling() || !running.contains(s)) continue;
            if (room(s, s.len + 1, true)) decoding.add(s);
        }
        decoding.removeIf(s -> !running.contains(s));   // preempted to make room for a later one
        List<Seq> speculating = speculate(decoding);
        decoding.removeAll(speculating);
        int budget = config.stepTokens() - decoding.size();
        for (Seq s : speculating) budget -= s.draft.length + 1;
        boolean progressed = false;
        List<Chunk> chunks = new ArrayList<>();
        for (Seq s : new ArrayList<>(running)) {
            if (!s.prefilling() || s.done || !running.contains(s)) continue;
            if (budget < minChunk(s) && (progressed || !decoding.isEmpty())) break;
            int take = chunk(s, Math.max(budget, minChunk(s)));
            if (!room(s, s.len + take, decoding.isEmpty() && !progressed)) break;
            chunks.add(new Chunk(s, s.len, take));
            budget -= take;
            progressed = true;
        }
        if (!mixed(decoding, chunks, speculating)) {
            prefillChunks(chunks);
            for (int from = 0; from < decoding.size(); from += config.decodeGroup()) {
                decode(decoding.subList(from, Math.min(decoding.size(), from + config.decodeGroup())));
            }
            verify(speculating);
        }
        publish();
        return true;
    }

    private void publish() {
        runningCount = running.size();
        blocksInUse = sequenceBlocks();
        if (adapters != null) {
            runningAdapters = adapterNames(running);
            waitingAdapters = adapterNames(waiting);
        }
    }

    private static List<String> adapterNames(java.util.Collection<Seq> seqs) {
        return seqs.stream().map(s -> s.adapter).filter(java.util.Objects::nonNull).distinct().sorted().toList();
    }

    private volatile List<String> runningAdapters = List.of(), waitingAdapters = List.of();

    /** The LoRA adapters of the running sequences, sorted (as of the last step; vLLM's running_lora_adapters). */
    public List<String> runningAdapters() { return runningAdapters; }

    /** The LoRA adapters of the requests waiting to run, sorted (as of the last step). */
    public List<String> waitingAdapters() { return waitingAdapters; }

    /**
     * The decoding sequences that speculate this step (see {@link Speculation}), each with its draft and the blocks for it;
     * the others decode as usual. None unless speculation is on and few sequences run.
     */
    private List<Seq> speculate(List<Seq> decoding) {
        Speculation sp = config.speculation();
        if (sp == null || running.size() > sp.maxRunning() || model.config.prefixLm()) return List.of();
        List<Seq> out = new ArrayList<>();
        for (Seq s : decoding) {
            Generator.Options o = s.o;
            boolean plain = o.temperature() == 0f && s.guide == null && s.bans == null && s.history == null && s.topLogprobs < 0
                    && o.logitBias().isEmpty() && !s.gen.isEmpty() && s.len == s.prompt.length + s.gen.size() - 1;
            if (!plain) continue;
            int n = s.prompt.length + s.gen.size();
            int[] t = Arrays.copyOf(s.prompt, n);
            for (int i = 0; i < s.gen.size(); i++) t[s.prompt.length + i] = s.gen.get(i);
            // the draft and the token after it must fit the request's new tokens and the model's positions
            int limit = o.maxNewTokens() - s.gen.size() - 1;
            if (model.config.contextPositions() > 0) limit = Math.min(limit, model.config.contextPositions() - n - 1);
            int[] d = sp.propose(t, n, limit);
            if (d.length == 0 || !room(s, s.len + 1 + d.length, false)) continue;
            s.draft = d;
            out.add(s);
        }
        return out;
    }

    /**
     * Runs each speculating sequence's last token and its draft through the model and reports the draft's longest prefix
     * that the model's greedy choices agree with, then the model's own next token (each through {@link #report}, which
     * may end s). Where the model {@link #packs}, the sequences' drafts go through one packed pass (in groups of at most
     * {@link #groupRows} rows) instead of one pass each; a group that fails is rerun one sequence at a time.
     */
    private void verify(List<Seq> speculating) {
        List<Seq> left = new ArrayList<>();
        for (Seq s : speculating) {
            if (s.done || !running.contains(s)) s.draft = null;           // preempted by a later sequence's room, or ended
            else left.add(s);
        }
        while (!left.isEmpty()) {
            List<Seq> group = new ArrayList<>(List.of(left.remove(0)));
            int rows = group.get(0).draft.length + 1;
            for (var it = left.iterator(); packs && it.hasNext(); ) {
                Seq s = it.next();
                if (rows + s.draft.length + 1 <= groupRows) {
                    group.add(s);
                    rows += s.draft.length + 1;
                    it.remove();
                }
            }
            if (group.size() == 1) {
                verifyAlone(group.get(0));
                continue;
            }
            if (adapters != null) group.sort(BY_ADAPTER);
            int b = group.size();
            int[] starts = new int[b];
            int[][] fed = new int[b][];
            boolean[] all = new boolean[b];
            for (int i = 0; i < b; i++) {
                Seq s = group.get(i);
                starts[i] = s.len;
                fed[i] = fed(s);
                all[i] = true;
            }
            float[][][] out;
            try {
                out = pass(group, starts, fed, all);
                verifyPasses.incrementAndGet();
            } catch (RuntimeException e) {
                for (Seq s : group) verifyAlone(s);                        // only the failing sequence ends
                continue;
            }
            for (int i = 0; i < b; i++) accept(group.get(i), out[i]);
        }
    }

    /**
     * One forward pass over {@code seqs} (ordered by adapter, the base model's last): sequence i's {@code tokens[i]} after
     * its {@code starts[i]} cached rows, returning every row's logits for the sequences with {@code allRows[i]} and the
     * last row's for the others. Chunks of one start and one length, none wanting every row, run as one (B, T) batch
     * ({@link PagedBatch#prefillAll}); the others packed ({@link PagedBatch#prefillPackedRows}).
     */
    private float[][][] pass(List<Seq> seqs, int[] starts, int[][] tokens, boolean[] allRows) {
        int b = seqs.size(), maxBlocks = maxBlocks(seqs);
        int[] tables = tables(seqs, maxBlocks);
        boolean batch = true;
        for (int i = 0; i < b; i++) batch &= !allRows[i] && starts[i] == starts[0] && tokens[i].length == tokens[0].length;
        if (!batch) return PagedBatch.prefillPackedRows(model, blocks.caches(), tables, maxBlocks, starts, tokens, allRows, adapters, slots(seqs));
        float[][] last = PagedBatch.prefillAll(model, blocks.caches(), tables, maxBlocks, starts[0], tokens, adapters, slots(seqs));
        float[][][] out = new float[b][][];
        for (int i = 0; i < b; i++) out[i] = new float[][] {last[i]};
        return out;
    }

    /** s's last token, then its draft: what a verify pass feeds. */
    private static int[] fed(Seq s) {
        int[] fed = new int[s.draft.length + 1];
        fed[0] = s.token(s.len);
        System.arraycopy(s.draft, 0, fed, 1, s.draft.length);
        return fed;
    }

    /** One sequence's verify pass of its own. */
    private void verifyAlone(Seq s) {
        if (s.done || !running.contains(s)) { s.draft = null; return; }
        float[][] rows;
        try {
            rows = PagedBatch.prefillRows(model, blocks.caches(), table(s), s.len, fed(s), adapters, s.slot);
            verifyPasses.incrementAndGet();
        } catch (RuntimeException e) {
            s.draft = null;
            fail(s, "speculative verify pass failed: " + e.getMessage());
            return;
        }
        accept(s, rows);
    }

    /** Keeps the draft's prefix that the model's greedy choices in {@code rows} (one per fed token) agree with, and the token after it. */
    private void accept(Seq s, float[][] rows) {
        int[] d = s.draft;
        s.draft = null;
        draftTokens.addAndGet(d.length);
        for (int i = 0; i <= d.length && !s.done; i++) {
            int id = greedyId(rows[i]);                        // the model's choice after fed[0..i]
            s.len++;                                           // fed[i]'s row is kept
            if (config.cacheGenerated() && s.len % BlockManager.BLOCK_SIZE == 0) publishBlocks(s);
            report(s, Math.max(id, 0), id < 0 ? 1 : 0, null);
            if (i == d.length || id != d[i]) break;            // the draft ends here: the model chose otherwise (or it ran out)
            acceptedTokens.incrementAndGet();
        }
    }

    /** The greedy sample op's choice for a host row: the lowest id of the largest logit; -1 for a NaN, +∞ or no finite value. */
    static int greedyId(float[] row) {
        int best = -1;
        float bv = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < row.length; i++) {
            float v = row[i];
            if (Float.isNaN(v) || v == Float.POSITIVE_INFINITY) return -1;
            if (v > bv) { bv = v; best = i; }
        }
        return best;
    }

    /**
     * Fewest rows of a prefill chunk of s that is not the rest of its prompt: minChunkRows, so that the
     * chunk's products take the path the solo prefill of the whole prompt takes; 1 for a prompt shorter
     * than that, whose solo prefill is on the small-M path as every chunk of it is.
     */
    private int minChunk(Seq s) {
        return s.prompt.length < config.minChunkRows() ? 1 : config.minChunkRows();
    }

    /** Rows of the next prefill chunk of s: whole blocks, never a short tail (merged into this chunk instead). */
    private int chunk(Seq s, int budget) {
        int rest = s.prompt.length - s.len;
        int min = minChunk(s);
        int cap = Math.max(BlockManager.BLOCK_SIZE, Math.min(config.prefillChunk(), budget) / BlockManager.BLOCK_SIZE * BlockManager.BLOCK_SIZE);
        cap = Math.max(cap, (min + BlockManager.BLOCK_SIZE - 1) / BlockManager.BLOCK_SIZE * BlockManager.BLOCK_SIZE);
        int take = Math.min(rest, cap);
        if (rest - take > 0 && rest - take < min) take = rest;
        return take;
    }

    /** Takes the longest run of published prompt blocks, leaving a tail the prefill may run alone. */
    private void sharePrefix(Seq s) {
        for (int i = 0, n = shareable(s); i < n; i++) {
            BlockManager.Cached c = blocks.lookup(s.key, s.prompt, i * BlockManager.BLOCK_SIZE);
            if (c == null) break;
            s.held.add(c.block());
            s.key = c.key();
        }
        s.len = s.held.size() * BlockManager.BLOCK_SIZE;
        s.published = s.held.size();
    }

    /** The most prompt blocks s may take from the prefix cache: whole blocks that leave at least minChunk rows to prefill. */
    private int shareable(Seq s) {
        int p = s.prompt.length;
        if (s.wantsPromptRows() || !config.prefixCaching()) return 0;   // every row's logits are wanted, or no prefix caching
        return p < minChunk(s) ? 0 : (p - minChunk(s)) / BlockManager.BLOCK_SIZE;
    }

    /**
     * Whether s, waiting, should wait for a running prompt's prefill: one that shares more whole blocks with s's prompt
     * than it has published yet, and that s could take from the cache once published. Admitted now, s would compute
     * those rows again (n choices of one prompt, or a burst of requests with one system prompt, each prefilling it);
     * admitted after, it prefills only its tail. A prompt that is preempted, cancelled or done no longer holds s back.
     */
    private boolean awaitsPrefix(Seq s) {
        int n = shareable(s);
        if (n == 0) return false;
        for (Seq r : running) {
            if (r.done || !r.prefilling() || !java.util.Objects.equals(s.salt, r.salt)) continue;   // blocks of another salt are not shared
            int common = Arrays.mismatch(s.prompt, r.prompt);
            if (common < 0) common = s.prompt.length;
            int blocksToCome = Math.min(Math.min(common, r.prompt.length) / BlockManager.BLOCK_SIZE, n);
            if (blocksToCome > r.published) return true;
        }
        return false;
    }

    /**
     * Gives s blocks for {@code rows} rows; when none are left, preempts the latest-admitted other
     * sequence (if {@code mayPreempt}) or s itself. Returns whether s has the room now.
     */
    private boolean room(Seq s, int rows, boolean mayPreempt) {
        int need = BlockManager.blocksFor(rows) - s.held.size();
        while (need > 0) {
            if (blocks.available() >= need) {
                for (int i = 0; i < need; i++) s.held.add(blocks.allocate());
                return true;
            }
            if (!mayPreempt) return false;
            Seq victim = null;
            for (int i = running.size() - 1; i >= 0; i--) {
                if (running.get(i) != s && !running.get(i).held.isEmpty()) { victim = running.get(i); break; }
            }
            if (victim == null) { preempt(s); return false; }
            preempt(victim);
        }
        return true;
    }

    /** Frees s's blocks and puts it first in line; it is recomputed when admitted again. */
    private void preempt(Seq s) {
        releaseBlocks(s);
        s.len = 0;
        s.published = 0;
        s.key = s.root;
        running.remove(s);
        releaseSlot(s);
        waiting.addFirst(s);
        queued.incrementAndGet();
        preemptions.incrementAndGet();
    }

    /** Gives back the LoRA slot s held while it ran. */
    private void releaseSlot(Seq s) {
        if (s.slot >= 0) adapters.release(s.slot);
        s.slot = -1;
    }

    /** Releases s's blocks last first: a cached prompt's later blocks are evicted before the prefix they extend (as vLLM frees them). */
    private void releaseBlocks(Seq s) {
        for (int i = s.held.size() - 1; i >= 0; i--) blocks.release(s.held.get(i));
        s.held.clear();
    }

    private int[] table(Seq s) { return s.held.stream().mapToInt(Integer::intValue).toArray(); }

    /** Most blocks any of the sequences holds: the width of their block tables together. */
    private static int maxBlocks(List<Seq> seqs) { return seqs.stream().mapToInt(s -> s.held.size()).max().orElseThrow(); }

    /** The sequences' block tables, one row of maxBlocks each, a short row padded with its last block. */
    private static int[] tables(List<Seq> seqs, int maxBlocks) {
        int[] tables = new int[seqs.size() * maxBlocks];
        for (int i = 0; i < seqs.size(); i++) {
            List<Integer> held = seqs.get(i).held;
            for (int j = 0; j < maxBlocks; j++) tables[i * maxBlocks + j] = held.get(Math.min(j, held.size() - 1));
        }
        return tables;
    }

    /** A prefill chunk planned for this step: {@code take} prompt rows of s from row {@code start}. */
    private record Chunk(Seq s, int start, int take) {
        /** Whether the plan still holds: s not preempted (or ended) by a later sequence's room since. */
        boolean live(List<Seq> running) { return !s.done && running.contains(s) && s.len == start; }
    }

    /**
     * Runs this step's prefill chunks: chunks of several prompts go through the model together in groups of at most
     * {@link #groupRows} rows (several prompts in one pass: the products read the weights once for all their rows). Chunks
     * of one start and length run as one (B, T) batch; others packed, each prompt's rows after the one before
     * ({@link PagedBatch#prefillPackedRows}), where the model {@link #packs}, every row's logits kept for the prompts that
     * want their log-probabilities (where it does not pack, such a chunk runs alone); a group that fails is rerun one
     * chunk at a time so that only the failing sequence ends.
     */
    private void prefillChunks(List<Chunk> chunks) {
        try {
            prefillGroups(chunks);
        } finally {
            chooseFirstTokens();
        }
    }

    /** Prompts whose prefill finished this step and the host copies of their last rows' logits, chosen together. */
    private final List<Seq> firstSeqs = new ArrayList<>();
    private final List<float[]> firstRows = new ArrayList<>();

    /**
     * The first tokens of the prompts whose prefill finished this step, in one batched choice (one mask, penalty and
     * sample op and one copy back, as a decode pass has) instead of one per prompt; each row as it would be alone.
     */
    private void chooseFirstTokens() {
        if (firstSeqs.isEmpty()) return;
        List<Seq> seqs = new ArrayList<>(firstSeqs);
        float[] all = new float[seqs.size() * vocab];
        for (int i = 0; i < seqs.size(); i++) System.arraycopy(firstRows.get(i), 0, all, i * vocab, vocab);
        firstSeqs.clear();
        firstRows.clear();
        try (Tensor h = Tensor.of(DType.F32, all, seqs.size(), vocab); Tensor rows = model.backend.upload(h)) {
            choose(seqs, rows);
        } catch (RuntimeException e) {
            for (Seq s : seqs) fail(s, "sampling failed: " + e.getMessage());
        }
    }

    /** One sequence's rows in a mixed pass: a decode row (its last token), a prefill chunk, or a speculative draft's check. */
    private record Part(Seq s, int start, int[] tokens, Chunk chunk, boolean draft) {
        boolean decodeRow() { return chunk == null && !draft; }
    }

    /**
     * This step's decode rows, prefill chunks and speculative drafts in ONE packed pass (vLLM's mixed batch: the products
     * read the weights once for all of them, and a decode step no longer waits for a prefill pass of its own), where the
     * model {@link #packs}, at least two of the three kinds are there and all their rows fit one group of {@link #groupRows}
     * (on the CPU below the small-M limit, so that every row keeps its solo bits; on CUDA a step's rows). A decode row is its
     * sequence's last token after its cached rows; its logits stay on the backend for the step's batched choice, as a
     * decode step's do; the chunks' and drafts' kept rows come to the host as their own passes' do. Returns false, having
     * done nothing, where it does not apply or the pass fails (the step then runs them the separate way, which also finds
     * the failing sequence; no sequence's length moved).
     */
    private boolean mixed(List<Seq> decoding, List<Chunk> chunks, List<Seq> speculating) {
        int kinds = (decoding.isEmpty() ? 0 : 1) + (chunks.isEmpty() ? 0 : 1) + (speculating.isEmpty() ? 0 : 1);
        if (!packs || !config.mixedSteps() || kinds < 2) return false;
        List<Part> parts = new ArrayList<>();
        int rows = 0;
        for (Seq s : decoding) {
            if (s.done || !running.contains(s)) return false;
            parts.add(new Part(s, s.len, new int[] {s.token(s.len)}, null, false));
        }
        for (Chunk c : chunks) {
            if (!c.live(running)) return false;
            parts.add(new Part(c.s(), c.start(), Arrays.copyOfRange(c.s().prompt, c.start(), c.start() + c.take()), c, false));
        }
        for (Seq s : speculating) {
            if (s.done || !running.contains(s)) return false;
            parts.add(new Part(s, s.len, fed(s), null, true));
        }
        for (Part p : parts) rows += p.tokens().length;
        if (rows > groupRows) return false;
        if (adapters != null) parts.sort(java.util.Comparator.comparing(Part::s, BY_ADAPTER));   // by adapter, the base model's last
        int b = parts.size();
        List<Seq> seqs = parts.stream().map(Part::s).toList();
        int[] starts = new int[b];
        int[][] tokens = new int[b][];
        boolean[] all = new boolean[b];
        for (int i = 0; i < b; i++) {
            Part p = parts.get(i);
            starts[i] = p.start();
            tokens[i] = p.tokens();
            all[i] = p.draft() || p.chunk() != null && p.s().wantsPromptRows();
        }
        int maxBlocks = maxBlocks(seqs);
        PagedBatch.Pass pass;
        try {
            pass = PagedBatch.prefillPackedOnDevice(model, blocks.caches(), tables(seqs, maxBlocks), maxBlocks, starts, tokens, all,
                    adapters, slots(seqs));
        } catch (RuntimeException e) {
            return false;
        }
        mixedPasses.incrementAndGet();
        if (!chunks.isEmpty()) prefillPasses.incrementAndGet();
        if (!speculating.isEmpty()) verifyPasses.incrementAndGet();
        // reported in the separate way's order: the chunks' first tokens, the decode rows' tokens, the drafts' tokens
        try (pass) {
            Transformer.PackedLogits lg = pass.logits();
            int lastDecodeRow = -1;
            try {
                for (int i = 0; i < b; i++) {
                    Part p = parts.get(i);
                    if (p.decodeRow()) lastDecodeRow = lg.from(i);
                    if (p.chunk() == null) continue;
                    float[][] r;
                    try {
                        r = lg.host(i);
                    } catch (RuntimeException ex) {
                        fail(p.s(), "prefill failed: " + ex.getMessage());
                        continue;
                    }
                    if (all[i]) promptLogprobs(p.s(), starts[i], r);
                    prefilled(p.s(), p.chunk().take(), r[r.length - 1]);
                }
            } finally {
                chooseFirstTokens();
            }
            List<Seq> choosing = new ArrayList<>(java.util.Collections.nCopies(lastDecodeRow + 1, (Seq) null));
            for (int i = 0; i < b; i++) {
                Part p = parts.get(i);
                if (!p.decodeRow()) continue;
                choosing.set(lg.from(i), decoded(p.s()));
            }
            if (choosing.stream().anyMatch(java.util.Objects::nonNull)) {
                try (Tensor decodeRows = lg.logits().slice(0, 0, lastDecodeRow + 1)) {
                    choose(choosing, decodeRows);
                }
            }
            for (int i = 0; i < b; i++) {
                Part p = parts.get(i);
                if (!p.draft()) continue;
                if (p.s().done || !running.contains(p.s())) { p.s().draft = null; continue; }
                float[][] r;
                try {
                    r = lg.host(i);
                } catch (RuntimeException ex) {
                    p.s().draft = null;
                    fail(p.s(), "speculative verify pass failed: " + ex.getMessage());
                    continue;
                }
                accept(p.s(), r);
            }
        }
        return true;
    }

    private void prefillGroups(List<Chunk> chunks) {
        List<Chunk> left = new ArrayList<>(chunks);
        while (!left.isEmpty()) {
            Chunk first = left.remove(0);
            if (!first.live(running)) continue;
            List<Chunk> group = new ArrayList<>(List.of(first));
            int rows = first.take();
            for (var it = left.iterator(); it.hasNext() && (packs || !first.s().wantsPromptRows()); ) {
                Chunk c = it.next();
                // packed: any chunks (every row's logits kept for the prompts that want their log-probabilities); else equal ones
                boolean fits = rows + c.take() <= groupRows
                        && (packs || c.start() == first.start() && c.take() == first.take() && !c.s().wantsPromptRows());
                if (fits && c.live(running)) {
                    group.add(c);
                    rows += c.take();
                    it.remove();
                }
            }
            if (group.size() == 1) {
                prefill(first.s(), first.take());
                continue;
            }
            int b = group.size();
            group.sort(BY_ADAPTER_CHUNK);                          // rows ordered by adapter, the base model's last
            int[][] tokens = new int[b][];
            int[] starts = new int[b];
            boolean[] allRows = new boolean[b];
            for (int i = 0; i < b; i++) {
                Chunk c = group.get(i);
                starts[i] = c.start();
                tokens[i] = Arrays.copyOfRange(c.s().prompt, c.start(), c.start() + c.take());
                allRows[i] = c.s().wantsPromptRows();
            }
            float[][][] rowsOut;
            try {
                rowsOut = pass(group.stream().map(Chunk::s).toList(), starts, tokens, allRows);
                prefillPasses.incrementAndGet();
            } catch (RuntimeException e) {
                for (Chunk c : group) if (c.live(running)) prefill(c.s(), c.take());   // only the failing sequence ends
                continue;
            }
            for (int i = 0; i < b; i++) {
                Seq s = group.get(i).s();
                float[][] r = rowsOut[i];
                if (allRows[i]) promptLogprobs(s, starts[i], r);
                prefilled(s, group.get(i).take(), r[r.length - 1]);
            }
        }
    }

    private void prefill(Seq s, int take) {
        float[] logits;
        try {
            int[] chunk = Arrays.copyOfRange(s.prompt, s.len, s.len + take);
            if (s.wantsPromptRows()) {
                float[][] rows = PagedBatch.prefillRows(model, blocks.caches(), table(s), s.len, chunk, adapters, s.slot);
                promptLogprobs(s, s.len, rows);
                logits = rows[rows.length - 1];
            } else {
                logits = PagedBatch.prefill(model, blocks.caches(), table(s), s.len, chunk, adapters, s.slot);
            }
            prefillPasses.incrementAndGet();
        } catch (RuntimeException e) {
            fail(s, "prefill failed: " + e.getMessage());
            return;
        }
        prefilled(s, take, logits);
    }

    /**
     * The prompt log-probabilities that chunk rows {@code rows} (from prompt row {@code start}) give: row r scores prompt
     * token start + r + 1; computed in parallel and kept (top ids and the tokens' own), the rows themselves dropped.
     */
    private void promptLogprobs(Seq s, int start, float[][] rows) {
        int p = s.prompt.length;
        if (s.promptLps == null) {
            double[] lps = new double[p];
            lps[0] = Double.NaN;
            s.promptLps = new PromptLogprobs(lps, new int[p], new int[p][], new double[p][]);
        }
        PromptLogprobs out = s.promptLps;
        IntStream.range(0, rows.length).parallel().forEach(r -> {
            int at = start + r + 1;                             // the prompt token row r predicts
            if (at >= p) return;
            double[] ls = Logprobs.logSoftmax(rows[r]);
            double own = ls[s.prompt[at]];
            out.logprobs()[at] = own;
            int above = 0;
            for (double v : ls) if (v > own) above++;
            out.ranks()[at] = above + 1;
            int[] top = Logprobs.top(ls, s.promptTop);
            out.topIds()[at] = top;
            out.topLogprobs()[at] = at(ls, top);
        });
    }

    /** After s's chunk of {@code take} rows ran: its length, its published prompt blocks, and its first token when the prompt is done. */
    private void prefilled(Seq s, int take, float[] logits) {
        s.len += take;
        prefillRows.addAndGet(take);
        publishBlocks(s);
        if (s.len == s.prompt.length && s.wantsPromptRows()) {
            PromptLogprobs lps = s.promptLps;
            s.promptLps = null;
            s.promptReported = true;                               // a recomputation after a preemption reports nothing again
            try {
                s.listener.onPromptLogprobs(lps);
            } catch (RuntimeException e) {
                fail(s, "the listener failed: " + e);
                return;
            }
            if (!s.generate) { finish(s, Finish.LENGTH, null); return; }
        }
        if (s.len == s.prompt.length && s.gen.isEmpty()) {        // its first token: chosen with the step's others
            firstSeqs.add(s);
            firstRows.add(logits);
        }
    }

    /**
     * Publishes s's full blocks of prompt rows, and with {@link Config#cacheGenerated} of generated rows too (their K/V
     * cached: a token's row is written when it is fed back), each chained to the one before it.
     */
    private void publishBlocks(Seq s) {
        int full = (config.cacheGenerated() ? s.len : Math.min(s.len, s.prompt.length)) / BlockManager.BLOCK_SIZE;
        for (; s.published < full; s.published++) {
            int from = s.published * BlockManager.BLOCK_SIZE;
            int[] ids = s.prompt;
            if (from + BlockManager.BLOCK_SIZE > s.prompt.length) {          // a block that holds generated rows
                ids = new int[BlockManager.BLOCK_SIZE];
                for (int i = 0; i < ids.length; i++) ids[i] = s.token(from + i);
                from = 0;
            }
            s.key = blocks.publish(s.key, ids, from, s.held.get(s.published));
        }
    }

    /** Sequences by adapter slot, the base model's (−1) last: the order a pass's grouped LoRA products take rows in. */
    private static final java.util.Comparator<Seq> BY_ADAPTER = java.util.Comparator.comparingInt(s -> s.slot < 0 ? Integer.MAX_VALUE : s.slot);
    private static final java.util.Comparator<Chunk> BY_ADAPTER_CHUNK = java.util.Comparator.comparing(Chunk::s, BY_ADAPTER);

    /** Each sequence's adapter slot, or null where the engine serves no adapters. */
    private int[] slots(List<Seq> seqs) {
        return adapters == null ? null : seqs.stream().mapToInt(s -> s.slot).toArray();
    }

    /**
     * After s's decode row ran: its length and, with {@link Config#cacheGenerated}, a generated block published; returns s
     * where these logits choose its next token, null where it is recomputing after a preemption and has it already (its row
     * is sampled with the others, its result unread).
     */
    private Seq decoded(Seq s) {
        s.len++;
        if (config.cacheGenerated() && s.len % BlockManager.BLOCK_SIZE == 0) publishBlocks(s);
        return s.len - s.prompt.length < s.gen.size() ? null : s;
    }

    private void decode(List<Seq> group) {
        if (adapters != null) {
            group = new ArrayList<>(group);
            group.sort(BY_ADAPTER);
        }
        int b = group.size();
        int maxBlocks = maxBlocks(group);
        int[] tables = tables(group, maxBlocks);
        int[] lengths = new int[b], tokens = new int[b];
        for (int i = 0; i < b; i++) {
            Seq s = group.get(i);
            lengths[i] = s.len;
            tokens[i] = s.token(s.len);
        }
        PagedBatch.Step step;
        try {
            step = decoder != null ? decoder.decode(blocks.caches(), tables, maxBlocks, lengths, tokens, slots(group))
                    : PagedBatch.decode(model, blocks.caches(), tables, maxBlocks, lengths, tokens, adapters, slots(group));
        } catch (RuntimeException e) {
            if (b == 1) { fail(group.get(0), "decode step failed: " + e.getMessage()); return; }
            for (Seq s : group) decode(List.of(s));   // only the failing sequence ends
            return;
        }
        try (step) {
            List<Seq> choosing = new ArrayList<>(b);
            for (int i = 0; i < b; i++) choosing.add(decoded(group.get(i)));
            if (choosing.stream().allMatch(java.util.Objects::isNull)) return;
            try (Tensor rows = step.logits().slice(0, 0, b)) {  // a bucketed step has padding rows past b
                choose(choosing, rows);
            }
        }
    }

    /**
     * Chooses the next token of each sequence of {@code seqs} (null: a row not to choose) from its row of logits
     * (seqs.size(), V) as Generator.sample does, in one op each for the whole batch: the guides' mask in place (rows
     * without a guide whole), the penalties on a copy (per-row values), one sample op with per-row parameters (each row
     * as it would be alone, see SampleOp), one copy of (2, B) ints to the host. Then, per sequence, the token is checked
     * and reported; log-probabilities come from the (masked) row, not the penalized copy. If the batched ops throw, each
     * sequence is tried alone so that only the failing one ends.
     */
    private void choose(List<Seq> seqs, Tensor logits) {
        int b = seqs.size();
        int[] got;
        try {
            got = sampleRows(seqs, logits);
        } catch (RuntimeException e) {
            if (seqs.stream().filter(java.util.Objects::nonNull).count() <= 1) {
                for (Seq s : seqs) if (s != null) fail(s, "sampling failed: " + e.getMessage());
                return;
            }
            for (int i = 0; i < b; i++) {
                if (seqs.get(i) == null) continue;
                try (Tensor row = logits.slice(0, i, i + 1)) {
                    choose(java.util.Collections.singletonList(seqs.get(i)), row);
                }
            }
            return;
        }
        Chosen[] lps;
        try {
            lps = logprobs(seqs, logits, got);
        } catch (RuntimeException e) {
            for (int i = 0; i < b; i++) if (seqs.get(i) != null && seqs.get(i).topLogprobs >= 0) fail(seqs.get(i), "log-probabilities failed: " + e.getMessage());
            lps = new Chosen[b];
        }
        for (int i = 0; i < b; i++) {
            Seq s = seqs.get(i);
            if (s == null || s.done) continue;
            try {
                report(s, got[i], got[b + i], lps[i]);
            } catch (RuntimeException e) {
                fail(s, "sampling failed: " + e.getMessage());
            }
        }
    }

    /** A chosen token's log-probability at temperature 1 and its row's top ids with theirs. */
    private record Chosen(double logprob, int[] topIds, double[] topLogprobs) {}

    /**
     * The log-probabilities of the rows whose sequences ask for them (the others null), from the (masked) logits: the rows
     * come to the host together — on CUDA one gather of those rows and one copy (or one copy when every row asks), where
     * each row was copied and synchronized alone — and their log softmax and top ids are computed in parallel.
     */
    private Chosen[] logprobs(List<Seq> seqs, Tensor logits, int[] got) {
        int b = seqs.size();
        Chosen[] out = new Chosen[b];
        int[] want = IntStream.range(0, b).filter(i -> {
            Seq s = seqs.get(i);
            return s != null && !s.done && s.topLogprobs >= 0 && got[b + i] == 0 && got[i] >= 0 && got[i] < vocab;
        }).toArray();
        if (want.length == 0) return out;
        int[] at = logits.isCuda() ? IntStream.range(0, want.length).toArray() : want;   // each wanted row in `from`
        try (Tensor host = logits.isCuda() ? hostRows(logits, want) : null) {
            Tensor from = host != null ? host : logits;                 // the CPU's rows are read where they are
            IntStream.range(0, want.length).parallel().forEach(r -> rowLogprobs(seqs.get(want[r]), from, at[r], got[want[r]], out, want[r]));
        }
        return out;
    }

    /** CUDA rows {@code want} of {@code logits} on the host, in that order: one copy of them all, or one gather and one copy. */
    private Tensor hostRows(Tensor logits, int[] want) {
        logprobCopies.incrementAndGet();
        if (want.length == logits.shape(0) && logits.isContiguous()) return model.backend.toHost(logits);   // want is every row
        try (Tensor idx = model.backend.upload(Tensor.ofInts(want, want.length));
             Tensor rows = model.backend.empty(logits.dtype(), want.length, vocab)) {
            model.backend.gatherRows(new org.transformer4j.runtime.GatherRowsOp(logits, idx, rows));
            return model.backend.toHost(rows);
        }
    }

    /** {@code ls} at {@code ids}: the log-probabilities of a row's top ids. */
    private static double[] at(double[] ls, int[] ids) {
        double[] out = new double[ids.length];
        for (int j = 0; j < ids.length; j++) out[j] = ls[ids[j]];
        return out;
    }

    /** Row {@code row} of {@code logits}' log softmax, its top ids, and chosen id {@code id}'s, into out[i]. */
    private static void rowLogprobs(Seq s, Tensor logits, int row, int id, Chosen[] out, int i) {
        float[] values;
        try (Tensor r = logits.slice(0, row, row + 1)) { values = r.toFloatArray(); }
        double[] ls = Logprobs.logSoftmax(values);
        int[] top = Logprobs.top(ls, s.topLogprobs);
        out[i] = new Chosen(ls[id], top, at(ls, top));
    }

    /** The batched mask, penalties and sample op of {@link #choose}: the ids (B) then the non-finite flags (B). */
    private int[] sampleRows(List<Seq> seqs, Tensor logits) {
        int b = seqs.size();
        var guides = new org.transformer4j.model.guided.TokenConstraint[b];
        Generator.Options[] opts = new Generator.Options[b];
        Sampling.History[] histories = new Sampling.History[b];
        Sampling.Bans[] bans = new Sampling.Bans[b];
        long[] offsets = new long[b];
        boolean masked = false;                               // a row with a guide or bans
        for (int i = 0; i < b; i++) {
            Seq s = seqs.get(i);
            opts[i] = s == null ? GREEDY : s.o;
            if (s == null) continue;
            guides[i] = s.guide;
            masked |= s.guide != null || s.bans != null;
            histories[i] = s.history;
            bans[i] = s.bans;
            offsets[i] = s.gen.size();                        // the counter offset: the new token's index
        }
        if (masked) Sampling.mask(model.backend, logits, guides, bans);
        try (Tensor ids = model.backend.empty(DType.I32, 2L * b);   // the ids, then the sampler's non-finite flags
             Tensor penalized = Sampling.penalized(model.backend, logits, opts, histories)) {
            model.backend.sample(Sampling.op(opts, penalized != null ? penalized : logits, ids.slice(0, 0, b), offsets)
                    .nonFinite(ids.slice(0, b, 2L * b)));
            sampleOps.incrementAndGet();
            if (!ids.isCuda()) return ids.toIntArray();
            try (Tensor h = model.backend.toHost(ids)) { return h.toIntArray(); }
        }
    }

    /** Checks and reports s's token {@code id} chosen from its (masked) logits row, with its log-probabilities where asked. */
    private void report(Seq s, int id, int nonFinite, Chosen lp) {
        int index = s.gen.size();
        Generator.Options o = s.o;
        if (nonFinite != 0 || id < 0 || id >= vocab) {
            fail(s, "non-finite logits at new token " + index + " of request " + s.id + " (a NaN or infinity in the row the sampler read)");
            return;
        }
        if (s.guide != null && !o.stopIds().contains(id)) {
            try {
                s.guide.advance(id);
            } catch (RuntimeException e) {
                fail(s, "structured output: " + e.getMessage());
                return;
            }
        }
        if (s.topLogprobs >= 0 && lp == null) {
            fail(s, "no log-probabilities for new token " + index + " of request " + s.id);
            return;
        }
        double logprob = lp == null ? Double.NaN : lp.logprob();
        int[] topIds = lp == null ? null : lp.topIds();
        double[] topLps = lp == null ? null : lp.topLogprobs();
        s.gen.add(id);
        if (s.history != null) s.history.add(id);
        if (s.bans != null) s.bans.add(id);
        tokensOut.incrementAndGet();
        try {
            s.listener.onToken(new Token(index, id, logprob, topIds, topLps));
        } catch (RuntimeException e) {
            fail(s, "the listener failed: " + e);
            return;
        }
        boolean stop = o.stopIds().contains(id);
        if (!stop && !o.stopStrings().isEmpty()) {
            try {
                stop = o.stopsAt(s.gen);                            // the generator's rule, min_new_tokens included
            } catch (RuntimeException e) {
                fail(s, "decoding the new tokens for the stop strings failed: " + e);
                return;
            }
        }
        if (stop) finish(s, Finish.STOP, null);
        else if (s.gen.size() >= o.maxNewTokens()) finish(s, Finish.LENGTH, null);
    }

    private void fail(Seq s, String error) {
        if (s.done) return;
        if (waiting.remove(s)) queued.decrementAndGet();
        finish(s, Finish.ERROR, error);
    }

    private void finish(Seq s, Finish reason, String error) {
        if (s.done) return;
        running.remove(s);
        releaseBlocks(s);
        releaseSlot(s);
        blocksInUse = sequenceBlocks();       // the snapshot callers read is current before they hear of the end
        finishQuiet(s, reason, error);
    }

    private void finishQuiet(Seq s, Finish reason, String error) {
        s.done = true;
        try {
            s.listener.onFinish(reason, error);
        } catch (RuntimeException ignored) {
            // the request is over either way
        }
    }

    /** Stops the loop, ends every request still queued or running with an error, and frees the pool. */
    @Override
    public void close() {
        stopping = true;
        wake();
        try {
            loop.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
