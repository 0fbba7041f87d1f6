// Backend — the operations of transformer4j's kernel families, implemented by CudaBackend (custom
// kernels + cuBLAS) and CpuBackend (plain Java, every CUDA op's twin and the reference).
package org.transformer4j.runtime;

/**
 * A place to run ops. Tensors passed to a backend must live in its memory ({@link #device()});
 * {@link #upload} and {@link #toHost} move data between host and backend. Every op validates its
 * arguments (throwing IllegalArgumentException that names the tensor and the shapes) before any
 * native call. CUDA ops are asynchronous on the backend's stream; {@link #synchronize} waits.
 *
 * <p><b>Threads.</b> {@code CpuBackend} may be shared by any number of threads. {@code CudaBackend}'s
 * ops may be called from several threads (they queue on its one stream in call order, its allocator is
 * locked); {@link #capture} holds that stream exclusively for the capture's duration, and ops of other
 * threads wait until it ends (on a capturing stream they would be recorded into the graph instead of
 * running). Never run on a GPU yet. After {@link #close} every call throws IllegalStateException.
 */
public interface Backend extends AutoCloseable {

    /** "cpu" or "cuda". */
    String kind();

    /** Human-readable description, e.g. "cuda:0 NVIDIA H100 80GB HBM3 (sm_90, 132 SMs)". */
    String description();

    Device device();

    /** An uninitialised tensor in this backend's memory. */
    Tensor empty(DType dtype, long... shape);

    /** A copy of a host tensor in this backend's memory (a fresh host copy on the CPU backend). */
    Tensor upload(Tensor host);

    /**
     * An {@link Uploader}: host tensors of any strides into this backend, dtype-converted on the way,
     * without Java arrays (how checkpoints are loaded). The default converts on the host into the
     * tensor itself (host-memory backends) or into a native host copy that {@link #upload} moves.
     */
    default Uploader uploader() { return new HostUploader(this); }

    /**
     * The largest attention head size this backend's {@link #attention} and {@link #decode} run: 256 (CUDA's kernels),
     * {@link AttentionOp#MAX_HEAD_SIZE} on the CPU.
     */
    default int maxHeadSize() { return 256; }

    /** A contiguous host copy of a tensor of this backend; waits for queued work that writes it. */
    Tensor toHost(Tensor t);

    /** Copies {@code src} into {@code dst}: same dtype and shape, both contiguous, both in this backend. */
    void copy(Tensor src, Tensor dst);

    /**
     * Copies a host tensor into {@code dst}, an existing tensor of this backend (same dtype and
     * shape, both contiguous): how a replayed {@link Graph}'s inputs are set. {@code host} may be
     * reused as soon as this returns.
     */
    void copyFromHost(Tensor host, Tensor dst);

    /**
     * Records the ops that {@code work} queues on this backend as a {@link Graph}, without running
     * them; {@link Graph#replay} runs them all again (on CUDA: one graph launch instead of one
     * launch per op). Each op is validated when it is recorded. What the op arguments hold on the
     * host — sizes, scalars, block tables, packed offsets — is frozen into the graph; what tensors
     * hold is read at every replay, so per-replay inputs (token ids, positions, cache lengths) must
     * be tensors written with {@link #copyFromHost} before each replay. KvAppendOp and DecodeOp
     * with host cache lengths are refused while recording (frozen lengths would silently be wrong),
     * and so is everything that must wait for or read back results: {@link #upload},
     * {@link #toHost}, {@link #copyFromHost}, {@link #synchronize}, {@link #crossEntropy}. The
     * tensors the recorded ops use must stay open until the graph is closed; the backend's own
     * temporaries are kept by the graph. If {@code work} throws, nothing is recorded and the
     * backend is as before. One capture at a time per backend, from the calling thread: on CUDA a
     * capture started by another thread waits its turn, on the CPU it is an IllegalStateException.
     */
    Graph capture(Runnable work);

    /** C = alpha · op(A) · op(B) + beta · C (see {@link GemmOp}). */
    void gemm(GemmOp op);

    /** LayerNorm / RMSNorm with an optional fused residual add (see {@link NormOp}). */
    void norm(NormOp op);

    /** A projection with the fused MLP epilogue: act(alpha·x·W + bias) [⊙ gate] [+ residual] (see {@link LinearOp}). */
    void linear(LinearOp op);

    /** Token (+ position, + token type) embeddings, summed (see {@link EmbeddingOp}). */
    void embedding(EmbeddingOp op);

    /** Softmax or log-softmax over the last dimension (see {@link SoftmaxOp}). */
    void softmax(SoftmaxOp op);

    /** Per-position cross-entropy into {@code op.losses()}; returns the mean loss and perplexity (see {@link CrossEntropyOp}). */
    CrossEntropyOp.Result crossEntropy(CrossEntropyOp op);

    /** One token id (and its log-probability) per row of logits (see {@link SampleOp}). */
    void sample(SampleOp op);

    /** Repetition / presence / frequency penalties and logit bias in place on rows of logits (see {@link PenaltyOp}). */
    void penalty(PenaltyOp op);

    /** Scaled dot-product attention: masks, key padding, packed batches, GQA, T5 bias (see {@link AttentionOp}). */
    void attention(AttentionOp op);

    /** Appends new key/value rows to a paged KV cache (see {@link KvAppendOp}). */
    void kvAppend(KvAppendOp op);

    /** Attention of new queries per sequence against a paged KV cache: split-KV decode or paged prefill (see {@link DecodeOp}). */
    void decode(DecodeOp op);

    /** Rotary position embedding in place on queries or keys, positions from a tensor (see {@link RopeOp}). */
    void rope(RopeOp op);

    /** Soft-capping in place, x ← cap · tanh(x / cap) (Gemma 2's final logits; see {@link SoftcapOp}). */
    void softcap(SoftcapOp op);

    /** Logits a bitset does not allow become −∞, in place (structured outputs' token mask; see {@link MaskOp}). */
    void mask(MaskOp op);

    /** A mixture-of-experts router: top-k experts and weights per token, and the choices sorted by expert ({@link MoeRouteOp}). */
    void moeRoute(MoeRouteOp op);

    /** out[r] = x[rows[r]], or x's own rows widened to F32 ({@link GatherRowsOp}). */
    void gatherRows(GatherRowsOp op);

    /** A projection per group of rows with the group's own weights; group sizes on the device ({@link GroupedLinearOp}). */
    void groupedLinear(GroupedLinearOp op);

    /** out = act(x) [⊙ gate] [+ residual] over rows already computed: the linear op's epilogue alone ({@link ActivationOp}). */
    void activation(ActivationOp op);

    /** Each token's weighted sum of its experts' outputs (+ shared expert) (+ residual) ({@link MoeCombineOp}). */
    void moeCombine(MoeCombineOp op);

    /** Waits until all queued work of this backend is done. */
    void synchronize();

    /** Releases the backend's own resources (streams, handles, cached memory). */
    @Override
    void close();
}
