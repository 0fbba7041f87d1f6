// TransformerConfig — everything that defines a transformer's structure: widths, depth, norm,
// activation, positions, biases, embeddings, special ids, and the four structural switches that
// turn an encoder-decoder into a decoder-only model (DESIGN.md's table). Validated on construction.
package org.transformer4j.model;

import java.util.ArrayList;
import java.util.List;

/**
 * An architecture is a configuration: encoder-decoder (both layer counts > 0), encoder-only
 * ({@code decoderLayers == 0}), decoder-only ({@code encoderLayers == 0}, causal) or prefix-LM
 * (decoder-only whose input part attends bidirectionally, {@link #prefixLm}).
 *
 * <p>The four switches apply to encoder-decoders, each on its own:
 * <ol>
 *   <li>{@code shareCrossAndSelfAttention}: the decoder's self- and cross-attention become one
 *       attention (one set of projections, one softmax) over [encoder states ; decoder states so far];
 *   <li>{@code shareEncoderDecoderParams}: one stack of parameters serves encoder and decoder;
 *   <li>{@code withinLayerCrossAttention}: decoder layer i attends to the states encoder layer i
 *       works on (its input) instead of the encoder's final output;
 *   <li>{@code causalInput}: the encoder's self-attention becomes causal.
 * </ol>
 * With all four on, the model is the decoder-only model on [input ; target]; with 1–3 on and the
 * input bidirectional, it is the prefix-LM. Once the decoder attends to the input through its own
 * attention (step 1), target positions continue after the input's.
 *
 * @param vocabSize       V
 * @param modelWidth      C
 * @param mlpWidth        F
 * @param headSize        HS (NH·HS need not equal C: T5 v1.1 small has C=512, NH=6, HS=64)
 * @param heads           NH
 * @param kvHeads         NKV, dividing NH (NH: multi-head, 1: multi-query, else grouped-query)
 * @param encoderLayers   0 for decoder-only models
 * @param decoderLayers   0 for encoder-only models
 * @param attentionScale  softmax scale: 1/sqrt(HS) for most models, 1.0 for T5
 * @param outputScale     logits scale: 1.0, or C^-0.5 for T5 v1.0's tied output
 * @param typeVocabSize   BERT token types (0: none)
 * @param relativeBuckets T5 relative-position buckets (0 unless positions is T5_RELATIVE, or an encoder's learned
 *                        positions carry MPNet's relative bias as well)
 * @param relativeMaxDistance T5 relative-position max distance
 * @param rope            RoPE settings when positions is ROPE, else null
 * @param windows         per decoder layer, its sliding window (keys a query sees, itself included; 0: full
 *                        causal attention); empty when no layer slides
 * @param linearBiases    which projections carry biases when they differ from {@code biases} (Llama's
 *                        attention_bias / mlp_bias, Qwen2's q/k/v only), else null
 * @param qkNorm          RMSNorm over each head of q and k before RoPE (Qwen3)
 * @param embeddingScale  multiplies the token embeddings (Gemma: sqrt(C), rounded to the compute dtype as
 *                        transformers' normalizer tensor is); 1 for the others
 * @param attentionSoftcap Gemma 2's attn_logit_softcapping: each scaled score z becomes cap · tanh(z / cap)
 *                        before the mask (0: none)
 * @param logitSoftcap    Gemma 2's final_logit_softcapping on the output logits (0: none)
 * @param qkNormWide      with qkNorm: one RMSNorm over the whole q (NH·HS) and k (NKV·HS) projection instead of one per
 *                        head (OLMo 2)
 * @param inputNorms      the sublayers' input norms (false: OLMo 2, whose sandwichNorms' output norms are its only ones)
 * @param embeddingWidth  the token, position and type tables' width E when it differs from C (ELECTRA's embedding_size:
 *                        the normed embeddings are projected to C by {@code embeddings_project}); 0: C
 * @param bidirectional   a decoder-only model's attention without the causal mask (EmbeddingGemma's
 *                        use_bidirectional_attention: full layers see every key, sliding ones |q − k| &lt; window): it gives
 *                        hidden states ({@code Transformer.lastHiddenStates}), not causal logits or generation
 * @param firstAttnNorm   the first layer's attention input norm (false: ModernBERT, whose layer 0 takes the normed embeddings as
 *                        they are)
 * @param moe             a sparse mixture of experts in place of the decoder layers' MLPs (see {@link Moe}), or null
 * @param nopeLayers      decoder layers without RoPE (SmolLM3's no_rope_layers zeros); empty: every layer rotates
 * @param residualScale   multiplies each sublayer's output before its residual add (Granite's residual_multiplier); 1
 * @param slidingRope     the RoPE of the layers with a sliding window when it differs from {@code rope} (Gemma 3's
 *                        local layers: rope_local_base_freq, no scaling); null: {@code rope} for every layer
 * @param disentangled    DeBERTa's disentangled attention ({@link Disentangled}), or null
 * @param attentionSinks  GPT-OSS's attention sinks: each self-attention layer has one learned logit per head
 *                        ({@code sinks}, F32 (NH)) that joins every row's softmax denominator (AttentionOp.sinks)
 * @param sandwichNorms   Gemma 2's extra norms: the attention's and the MLP's outputs are normed before their
 *                        residual adds (post_attention_layernorm, post_feedforward_layernorm; the MLP's input
 *                        norm is then pre_feedforward_layernorm)
 * @param bart            the BART family's per-stack position tables, embedding norm and output bias ({@link BartEmbeddings}),
 *                        or null
 * @param parallel        how a decoder layer adds attention and MLP ({@link ParallelBlock}; NONE: one after the other)
 * @param headBias        a decoder-only model's logits gain a bias (V) (Phi's lm_head.bias)
 * @param alibiSlopes     ALiBi's slope per query head (NH) with {@link Positions#ALIBI} (BLOOM, MPT, Falcon-RW), else null
 * @param embedNorm       a pre-LN decoder-only model norms its token embeddings before the first layer (BLOOM's
 *                        word_embeddings_layernorm); post-LN models and the BART family have their own rule ({@link #embeddingNorm})
 * @param clipQkv         the self-attention's q, k and v clamped to [−clipQkv, clipQkv] right after their projections, before
 *                        RoPE (OLMo's and MPT's clip_qkv; the projection's epilogue, Activation.CLAMP); 0: none
 * @param mla             DeepSeek's multi-head latent attention ({@link Mla}) in place of the q, k and v projections, or null
 * @param rawEmbeddings   a post-LN decoder-only model adds its embeddings without norming them (OPT-350m's
 *                        do_layer_norm_before false: post-LN layers, no embedding norm, no final norm)
 */
public record TransformerConfig(
        int vocabSize, int modelWidth, int mlpWidth, int headSize, int heads, int kvHeads,
        int encoderLayers, int decoderLayers,
        NormKind norm, NormPlacement normPlacement, float normEps,
        Activation activation, boolean gatedMlp,
        Positions positions, int maxPositions, int relativeBuckets, int relativeMaxDistance,
        boolean biases, boolean tiedEmbeddings, float attentionScale, float outputScale, int typeVocabSize,
        SpecialIds specialIds,
        boolean prefixLm,
        boolean shareCrossAndSelfAttention, boolean shareEncoderDecoderParams,
        boolean withinLayerCrossAttention, boolean causalInput,
        Rope rope, List<Integer> windows, Biases linearBiases, boolean qkNorm, float embeddingScale,
        float attentionSoftcap, float logitSoftcap, boolean sandwichNorms, Rope slidingRope, float residualScale,
        List<Integer> nopeLayers, boolean qkNormWide, boolean inputNorms, Moe moe, boolean firstAttnNorm, int embeddingWidth,
        boolean bidirectional, Disentangled disentangled, boolean attentionSinks, BartEmbeddings bart,
        ParallelBlock parallel, boolean headBias, List<Float> alibiSlopes, boolean embedNorm, float clipQkv, boolean rawEmbeddings,
        Mla mla) {

    /**
     * How a decoder layer adds its two sublayers. {@code NONE}: one after the other (x += attn(N1 x), then x += mlp(N2 x)).
     * {@code TWO_NORMS}: both read the layer's input, each through its own norm, x += attn(N1 x) + mlp(N2 x) (GPT-NeoX's
     * use_parallel_residual: Pythia, GPT-NeoX-20B). {@code SHARED_NORM}: both read one norm's output, x += attn(N x) + mlp(N x)
     * (Phi's PhiDecoderLayer, GPT-J).
     */
    public enum ParallelBlock { NONE, TWO_NORMS, SHARED_NORM }

    /**
     * The BART family's embeddings and output (BART, mBART, Marian, Pegasus; {@code HfSeq2Seq} reads their folders), null for
     * every other model. {@code perStack}: the encoder and the decoder each add their own learned position table (BART's and
     * mBART's {@code encoder.embed_positions} / {@code decoder.embed_positions}, rows from the offset 2 on) and norm the sum
     * with their own {@code layernorm_embedding}; false: one table serves both (Marian's and Pegasus' sinusoids, which the
     * loader computes). {@code norm}: the summed embeddings are normed (layernorm_embedding) whatever the norm placement
     * (pre-LN mBART has one, post-LN Marian none). {@code outputBias}: the logits gain a bias (V) (final_logits_bias).
     */
    public record BartEmbeddings(boolean perStack, boolean norm, boolean outputBias) {}

    /** Whether the summed embeddings are normed: {@link BartEmbeddings#norm} for the BART family, else post-LN models. */
    public boolean embeddingNorm() {
        return bart != null ? bart.norm() : normPlacement == NormPlacement.POST && !rawEmbeddings || embedNorm;
    }

    /**
     * DeBERTa's disentangled attention (DebertaV2Config with relative_attention): relative embeddings of 2·{@code span} rows
     * (pos_ebd_size: position_buckets when &gt; 0, else max_relative_positions), normed by the encoder's LayerNorm when
     * {@code normEmbeddings} (norm_rel_ebd "layer_norm"), projected per layer by the layer's own key and query projections
     * ({@code shareKey}: share_att_key) or by its pos_key_proj / pos_query_proj; each score gains the content→position term
     * ({@code c2p}) and the position→content term ({@code p2c}) at the column of the distance's log bucket
     * ({@code buckets} position_buckets, ≤ 0: none; {@code maxPosition} max_relative_positions). The attention scale is
     * then 1/sqrt(HS · (1 + the number of terms)).
     */
    public record Disentangled(int span, int buckets, int maxPosition, boolean c2p, boolean p2c, boolean shareKey,
                               boolean normEmbeddings) {}

    /**
     * A sparse mixture-of-experts MLP (Mixtral, Qwen2-MoE, Qwen3-MoE, OLMoE) in the decoder layers not listed in
     * {@code denseLayers} (those keep the dense gated MLP of width {@link #mlpWidth}): a router (E, C) picks each
     * token's {@code topK} of {@code experts} gated MLPs of width {@code expertWidth} by softmax probability,
     * renormalized over the k when {@code renormalize}; their outputs are summed by weight. {@code sharedWidth} &gt; 0:
     * Qwen2-MoE's shared expert, a gated MLP of that width added to every token, times sigmoid(x · w) of its
     * one-row gate when {@code sharedGate}. With a {@link TransformerConfig#residualScale} ≠ 1 (Granite MoE) the experts' weighted sum and the
     * shared expert are scaled by it before the residual add. {@code biases}: GPT-OSS's router bias (E) and the experts' biases on both
     * products of the gated projection (E, 2F) and on the down projection (E, C); its top-k of the router logits then
     * softmaxed over the k is the same choice and weights as the renormalized top-k of the softmax.
     */
    public record Moe(int experts, int topK, boolean renormalize, int expertWidth, int sharedWidth, boolean sharedGate,
                      List<Integer> denseLayers, boolean biases, Routing routing) {
        public Moe {
            denseLayers = denseLayers == null ? List.of() : List.copyOf(denseLayers);
            routing = routing == null ? Routing.SOFTMAX : routing;
        }

        public Moe(int experts, int topK, boolean renormalize, int expertWidth, int sharedWidth, boolean sharedGate,
                   List<Integer> denseLayers, boolean biases) {
            this(experts, topK, renormalize, expertWidth, sharedWidth, sharedGate, denseLayers, biases, Routing.SOFTMAX);
        }

        public Moe(int experts, int topK, boolean renormalize, int expertWidth, int sharedWidth, boolean sharedGate,
                   List<Integer> denseLayers) {
            this(experts, topK, renormalize, expertWidth, sharedWidth, sharedGate, denseLayers, false);
        }
    }

    /**
     * How a router scores and picks its experts beyond the plain softmax top-k. {@code sigmoid}: DeepSeek-V3's scores are
     * sigmoid(logits); else softmax. {@code correctionBias} (an F32 (E) per-expert bias: DeepSeek-V3's e_score_correction_bias
     * with sigmoid, ERNIE 4.5's moe_statics.e_score_correction_bias with softmax) is added to the scores for the choice only
     * (the weights are the unbiased scores). {@code groups} &gt; 1: the experts form that many contiguous
     * groups and only the {@code topkGroups} best groups' experts may be chosen (DeepSeek's group-limited routing: a group
     * scores its best expert under softmax, the sum of its two best biased scores under sigmoid). {@code scale}: the weights
     * times routed_scaling_factor, after any renormalization. {@code fp32Logits}: the router's logits are an fp32 product of
     * the hidden states widened to fp32 and an F32 router matrix (transformers' F.linear(x.float(), w.float()) in DeepSeek-V2 /
     * V3, GLM-4.5 and ERNIE 4.5 MoE, whose gate ERNIE keeps in fp32); else they are the model dtype's, as Mixtral's,
     * Qwen-MoE's, OLMoE's and GPT-OSS's. The same in an F32 model; in F16 / BF16 it keeps near-tied experts apart that a
     * rounding of the logits would tie or swap.
     */
    public record Routing(boolean sigmoid, boolean correctionBias, int groups, int topkGroups, float scale, boolean fp32Logits) {
        /** Softmax, no groups, no scale: Mixtral's, Qwen-MoE's, OLMoE's, GPT-OSS's. */
        public static final Routing SOFTMAX = new Routing(false, false, 1, 1, 1f, false);

        /** Logits in the model dtype. */
        public Routing(boolean sigmoid, boolean correctionBias, int groups, int topkGroups, float scale) {
            this(sigmoid, correctionBias, groups, topkGroups, scale, false);
        }

        /** This routing with fp32 logits (see the record's description). */
        public Routing withFp32Logits() { return new Routing(sigmoid, correctionBias, groups, topkGroups, scale, true); }
    }

    /**
     * DeepSeek's multi-head latent attention (MLA; DeepSeek-V2 / V3, transformers' DeepseekV2Attention). q = q_proj(x), or
     * with {@code qLoraRank} &gt; 0 q_b_proj(RMSNorm(q_a_proj(x))); [c ; k_pe] = kv_a_proj_with_mqa(x) (kvLoraRank + ropeDim);
     * per head [k_nope | v] = kv_b_proj(RMSNorm(c)); k_pe, rotated, is every head's. This library runs it as plain
     * multi-head attention of head size {@code headSize} = nopeDim + ropeDim over K and V that it materializes: each head's
     * q and k are laid [pe | nope] (the same order on both, so every q·k is the model's), the pe part turned by RoPE over
     * its first ropeDim dims, and v is padded with zeros to the head size (the output projection's extra columns are zero),
     * as transformers' flash path pads it; where the backend runs a head of ropeDim + kvLoraRank, the KV cache holds the
     * latent rows instead and cached passes attend there absorbed (Transformer's latentMla). {@code normEps}: the two latent
     * RMSNorms' epsilon (1e-6 in transformers).
     */
    public record Mla(int qLoraRank, int kvLoraRank, int nopeDim, int ropeDim, int vDim, float normEps) {}

    /** Whether decoder layer i's MLP is the mixture of experts. */
    public boolean moeAt(int layer) { return moe != null && !moe.denseLayers().contains(layer); }

    public enum NormKind { LAYER_NORM, RMS_NORM }

    /** Pre-LN (GPT-2, T5: x + f(norm(x))) or post-LN (BERT, original Transformer: norm(x + f(x))). */
    public enum NormPlacement { PRE, POST }

    /** The MLP activation; SWIGLU_OAI (GPT-OSS's experts: clamped at 7, sigmoid gain 1.702, up + 1) needs the gated MLP. */
    public enum Activation { GELU, GELU_TANH, RELU, SILU, SWIGLU_OAI, /** max(x, 0)² (transformers' relu2: NVIDIA Nemotron). */ RELU2 }

    /**
     * How a model knows positions. ALIBI (Press et al. 2022; BLOOM, MPT, Falcon-RW): no position embedding; each
     * self-attention score gains −{@link #alibiSlopes}[h] · |key position − query position| (AttentionOp.alibi).
     */
    public enum Positions { LEARNED_ABSOLUTE, T5_RELATIVE, NONE, ROPE, ALIBI }

    /** The ALiBi slopes as an array (NH), or null without ALIBI positions. */
    public float[] alibiSlopeArray() {
        if (alibiSlopes == null) return null;
        float[] a = new float[alibiSlopes.size()];
        for (int i = 0; i < a.length; i++) a[i] = alibiSlopes.get(i);
        return a;
    }

    /**
     * Rotary position embeddings as transformers' modeling_rope_utils computes them: {@code theta}
     * (rope_theta), {@code rotaryDim} dimensions of each head rotated (HS × partial_rotary_factor), and
     * the scaling kind with its fields (factor; llama3's low/high frequency factors; the original max
     * positions of llama3, yarn and LongRoPE; dynamic NTK's max positions in {@code originalMaxPositions});
     * {@code attentionFactor} multiplies cos and sin (yarn, LongRoPE; 1 for the others), resolved from the
     * config when it is read; {@code yarn} and {@code longRope} hold those kinds' own fields (else null).
     */
    public record Rope(double theta, int rotaryDim, Scaling scaling, double factor, double lowFreqFactor,
                       double highFreqFactor, int originalMaxPositions, double attentionFactor, Yarn yarn, LongRope longRope) {

        public enum Scaling { DEFAULT, LINEAR, DYNAMIC, LLAMA3, YARN, LONGROPE }

        /** yarn's ramp: beta_fast / beta_slow rotations (32 / 1 by default) and whether its bounds are floored / ceiled. */
        public record Yarn(double betaFast, double betaSlow, boolean truncate) {}

        /** LongRoPE's per-frequency divisors (rotaryDim / 2 each): short up to the original max positions, long past them. */
        public record LongRope(double[] shortFactor, double[] longFactor) {}

        /** The kinds without an attention factor: default, linear, dynamic, llama3. */
        public Rope(double theta, int rotaryDim, Scaling scaling, double factor, double lowFreqFactor, double highFreqFactor,
                    int originalMaxPositions) {
            this(theta, rotaryDim, scaling, factor, lowFreqFactor, highFreqFactor, originalMaxPositions, 1, null, null);
        }

        public static Rope plain(double theta, int rotaryDim) { return new Rope(theta, rotaryDim, Scaling.DEFAULT, 1, 0, 0, 0); }

        /** yarn (_compute_yarn_parameters) with its resolved attention factor. */
        public static Rope yarn(double theta, int rotaryDim, double factor, int originalMaxPositions, double attentionFactor,
                                Yarn yarn) {
            return new Rope(theta, rotaryDim, Scaling.YARN, factor, 0, 0, originalMaxPositions, attentionFactor, yarn, null);
        }

        /** LongRoPE (_compute_longrope_parameters) with its resolved factor and attention factor. */
        public static Rope longRope(double theta, int rotaryDim, double factor, int originalMaxPositions, double attentionFactor,
                                    LongRope factors) {
            return new Rope(theta, rotaryDim, Scaling.LONGROPE, factor, 0, 0, originalMaxPositions, attentionFactor, null, factors);
        }

        /**
         * inv_freq (rotaryDim / 2) of the table kinds (DYNAMIC: the unscaled one; LONGROPE: the short
         * factors' one), computed in double and rounded once: _compute_default_rope_parameters
         * (1 / theta^(2i / R)), linear (÷ factor), _compute_llama3_parameters (wavelengths above
         * original/low_freq_factor ÷ factor, below original/high_freq_factor kept, smoothly interpolated
         * between), _compute_yarn_parameters (interpolated 1 / (factor · theta^(2i/R)) and extrapolated
         * 1 / theta^(2i/R) mixed by a linear ramp between the correction dims of beta_fast and beta_slow
         * rotations), _compute_longrope_parameters (1 / (short_factor[i] · theta^(2i/R))).
         */
        public float[] invFreq() {
            return scaling == Scaling.LONGROPE ? longRopeTable(longRope.shortFactor()) : table();
        }

        /** LongRoPE's two tables, (2, rotaryDim / 2) row-major: the short factors' frequencies, then the long factors'. */
        public float[] longRopeTables() {
            int half = rotaryDim / 2;
            float[] out = new float[2 * half];
            System.arraycopy(longRopeTable(longRope.shortFactor()), 0, out, 0, half);
            System.arraycopy(longRopeTable(longRope.longFactor()), 0, out, half, half);
            return out;
        }

        private float[] longRopeTable(double[] ext) {
            float[] out = new float[rotaryDim / 2];
            for (int i = 0; i < out.length; i++) out[i] = (float) (1.0 / (ext[i] * Math.pow(theta, (double) (2 * i) / rotaryDim)));
            return out;
        }

        private float[] table() {
            int half = rotaryDim / 2;
            float[] out = new float[half];
            double low = 0, high = 0;
            if (scaling == Scaling.YARN) {
                low = yarnCorrectionDim(yarn.betaFast());
                high = yarnCorrectionDim(yarn.betaSlow());
                if (yarn.truncate()) {
                    low = Math.floor(low);
                    high = Math.ceil(high);
                }
                low = Math.max(low, 0);
                high = Math.min(high, rotaryDim - 1);
                if (low == high) high += 0.001;                                  // transformers' guard against a zero-width ramp
            }
            for (int i = 0; i < half; i++) {
                double inv = 1.0 / Math.pow(theta, (double) (2 * i) / rotaryDim);
                if (scaling == Scaling.LINEAR) inv /= factor;
                if (scaling == Scaling.LLAMA3) {
                    double lowWavelen = originalMaxPositions / lowFreqFactor, highWavelen = originalMaxPositions / highFreqFactor;
                    double wavelen = 2 * Math.PI / inv;
                    double scaled = wavelen > lowWavelen ? inv / factor : inv;
                    if (!(wavelen < highWavelen) && !(wavelen > lowWavelen)) {
                        double smooth = (originalMaxPositions / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                        scaled = (1 - smooth) * scaled / factor + smooth * scaled;
                    }
                    inv = scaled;
                }
                if (scaling == Scaling.YARN) {
                    // the ramp runs over the pair index i although its bounds are in dimensions, as transformers has it
                    double ramp = Math.min(1, Math.max(0, (i - low) / (high - low)));
                    double extrapolation = 1 - ramp;
                    inv = inv / factor * (1 - extrapolation) + inv * extrapolation;
                }
                out[i] = (float) inv;
            }
            return out;
        }

        /** yarn's find_correction_dim: the dimension whose wavelength fits {@code rotations} turns in the original max positions. */
        private double yarnCorrectionDim(double rotations) {
            return rotaryDim * Math.log(originalMaxPositions / (rotations * 2 * Math.PI)) / (2 * Math.log(theta));
        }
    }

    /** Which projections carry biases: q/k/v, the attention output, the MLP's. */
    public record Biases(boolean qkv, boolean out, boolean mlp) {}

    /** Token ids with a role; -1 where the vocabulary has none. */
    public record SpecialIds(int pad, int bos, int eos, int decoderStart, int cls) {
        public static final SpecialIds NONE = new SpecialIds(-1, -1, -1, -1, -1);
    }

    public enum Architecture { ENCODER_DECODER, ENCODER_ONLY, DECODER_ONLY, PREFIX_LM }

    public TransformerConfig {
        List<String> problems = new ArrayList<>();
        positive(problems, "vocabSize", vocabSize);
        positive(problems, "modelWidth (C)", modelWidth);
        positive(problems, "mlpWidth (F)", mlpWidth);
        positive(problems, "headSize (HS)", headSize);
        positive(problems, "heads (NH)", heads);
        positive(problems, "kvHeads (NKV)", kvHeads);
        if (kvHeads > 0 && heads > 0 && heads % kvHeads != 0) {
            problems.add("kvHeads (NKV=" + kvHeads + ") must divide heads (NH=" + heads + ")");
        }
        if (encoderLayers < 0 || decoderLayers < 0) problems.add("layer counts must be ≥ 0");
        if (encoderLayers == 0 && decoderLayers == 0) problems.add("a model needs encoder or decoder layers");
        if (norm == null || normPlacement == null || activation == null || positions == null || specialIds == null) {
            problems.add("norm, normPlacement, activation, positions and specialIds must be set");
        }
        if (!(normEps > 0) || Float.isInfinite(normEps)) problems.add("normEps must be finite and > 0, got " + normEps);
        if (!(attentionScale > 0) || Float.isInfinite(attentionScale)) problems.add("attentionScale must be finite and > 0");
        if (!(outputScale > 0) || Float.isInfinite(outputScale)) problems.add("outputScale must be finite and > 0");
        if (typeVocabSize < 0) problems.add("typeVocabSize must be ≥ 0");
        if (embeddingWidth < 0) problems.add("embeddingWidth must be ≥ 0, got " + embeddingWidth);
        if (bidirectional && (encoderLayers != 0 || decoderLayers == 0 || prefixLm)) {
            problems.add("bidirectional is for decoder-only stacks (EmbeddingGemma); encoders are bidirectional already");
        }
        if (disentangled != null) {
            if (encoderLayers == 0 || decoderLayers != 0 || causalInput || normPlacement != NormPlacement.POST) {
                problems.add("disentangled attention (DeBERTa) is for post-LN encoder-only models");
            }
            if (positions != Positions.LEARNED_ABSOLUTE && positions != Positions.NONE || relativeBuckets != 0) {
                problems.add("disentangled attention (DeBERTa) goes with learned absolute positions or none, without a T5 bias");
            }
            if (disentangled.span() < 1 || !disentangled.c2p() && !disentangled.p2c()) {
                problems.add("disentangled attention needs a span ≥ 1 and at least one of c2p, p2c, got " + disentangled);
            }
            if (disentangled.buckets() > 0 && disentangled.maxPosition() > 0
                    && (disentangled.buckets() < 4 || disentangled.maxPosition() - 1 <= disentangled.buckets() / 2)) {
                problems.add("disentangled attention's log buckets need position_buckets ≥ 4 and max_relative_positions − 1 > "
                        + "position_buckets / 2, got " + disentangled);
            }
        }
        if (embeddingWidth > 0 && (decoderLayers != 0 || normPlacement != NormPlacement.POST)) {
            problems.add("an embedding width other than C (ELECTRA's projected embeddings) is for post-LN encoder-only models");
        }
        if (positions == Positions.LEARNED_ABSOLUTE && maxPositions < 1) {
            problems.add("learned absolute positions need maxPositions ≥ 1");
        }
        if (positions == Positions.T5_RELATIVE) {
            if (relativeBuckets < 2) problems.add("T5 relative positions need relativeBuckets ≥ 2");
            if (relativeMaxDistance < relativeBuckets / 2) {
                problems.add("relativeMaxDistance (" + relativeMaxDistance + ") must be ≥ relativeBuckets/2 (" + relativeBuckets / 2 + ")");
            }
        } else if (relativeBuckets != 0 || relativeMaxDistance != 0) {
            // MPNet: learned absolute positions and a T5-bucketed bias (bidirectional) in an encoder-only model
            if (positions != Positions.LEARNED_ABSOLUTE || decoderLayers != 0 || causalInput) {
                problems.add("relativeBuckets/relativeMaxDistance are for T5_RELATIVE positions, or a bidirectional"
                        + " encoder-only model's learned positions (MPNet)");
            } else if (relativeBuckets < 4 || relativeMaxDistance <= relativeBuckets / 4) {
                problems.add("a relative bias beside learned positions needs relativeBuckets ≥ 4 and relativeMaxDistance ("
                        + relativeMaxDistance + ") > relativeBuckets/4 (" + relativeBuckets / 4 + ")");
            }
        }
        if (specialIds != null) {
            for (int id : new int[] {specialIds.pad(), specialIds.bos(), specialIds.eos(), specialIds.decoderStart(), specialIds.cls()}) {
                if (id < -1 || id >= vocabSize) problems.add("special id " + id + " is outside the vocabulary [0, " + vocabSize + ")");
            }
        }
        boolean encDec = encoderLayers > 0 && decoderLayers > 0;
        if (prefixLm && encoderLayers > 0) problems.add("prefixLm is a decoder-only model (encoderLayers must be 0)");
        String needsEncDec = " applies to encoder-decoder models (both layer counts > 0)";
        if (shareCrossAndSelfAttention && !encDec) problems.add("shareCrossAndSelfAttention" + needsEncDec);
        if (shareEncoderDecoderParams && !encDec) problems.add("shareEncoderDecoderParams" + needsEncDec);
        if (withinLayerCrossAttention && !encDec) problems.add("withinLayerCrossAttention" + needsEncDec);
        if (causalInput && !encDec) problems.add("causalInput" + needsEncDec);
        if (shareEncoderDecoderParams && encoderLayers != decoderLayers) {
            problems.add("shareEncoderDecoderParams needs as many encoder as decoder layers (" + encoderLayers + " vs "
                    + decoderLayers + ")");
        }
        if (withinLayerCrossAttention && encoderLayers != decoderLayers) {
            problems.add("withinLayerCrossAttention pairs decoder layer i with encoder layer i, so it needs as many encoder"
                    + " as decoder layers (" + encoderLayers + " vs " + decoderLayers + ")");
        }
        if ((positions == Positions.ROPE) != (rope != null)) problems.add("rope settings go with ROPE positions (and only with them)");
        if (rope != null) {
            if (encoderLayers > 0 && decoderLayers > 0) {
                problems.add("ROPE positions are implemented for decoder-only and encoder-only models and prefix-LMs, not encoder-decoder ones");
            }
            if (rope.rotaryDim() < 2 || rope.rotaryDim() % 2 != 0 || rope.rotaryDim() > headSize) {
                problems.add("rope rotaryDim must be even and in [2, HS = " + headSize + "], got " + rope.rotaryDim());
            }
            if (!(rope.theta() > 0) || Double.isInfinite(rope.theta())) problems.add("rope theta must be finite and > 0");
            if (rope.scaling() == null) problems.add("rope scaling kind is null");
            else if (rope.scaling() == Rope.Scaling.YARN || rope.scaling() == Rope.Scaling.LONGROPE) {
                if (!(rope.factor() > 0) || Double.isInfinite(rope.factor())) problems.add("rope scaling factor must be finite and > 0");
            } else if (rope.scaling() != Rope.Scaling.DEFAULT && !(rope.factor() >= 1)) problems.add("rope scaling factor must be ≥ 1");
            if (!(rope.attentionFactor() > 0) || Double.isInfinite(rope.attentionFactor())) {
                problems.add("rope attention factor must be finite and > 0, got " + rope.attentionFactor());
            }
            if (rope.scaling() == Rope.Scaling.YARN && (rope.yarn() == null || rope.originalMaxPositions() < 1
                    || !Double.isFinite(rope.yarn().betaFast()) || !Double.isFinite(rope.yarn().betaSlow())
                    || !(rope.yarn().betaFast() > 0) || !(rope.yarn().betaSlow() > 0))) {
                problems.add("yarn rope scaling needs finite beta_fast, beta_slow > 0 and original max positions ≥ 1");
            }
            if (rope.scaling() == Rope.Scaling.LONGROPE) {
                Rope.LongRope lr = rope.longRope();
                if (lr == null || rope.originalMaxPositions() < 1) {
                    problems.add("longrope needs short and long factors and original max positions ≥ 1");
                } else {
                    for (double[] f : new double[][] {lr.shortFactor(), lr.longFactor()}) {
                        if (f == null || f.length != rope.rotaryDim() / 2 || !java.util.Arrays.stream(f).allMatch(v -> v > 0 && Double.isFinite(v))) {
                            problems.add("longrope short_factor and long_factor must each hold rotaryDim / 2 = " + rope.rotaryDim() / 2
                                    + " finite numbers > 0");
                            break;
                        }
                    }
                }
            }
            if (rope.scaling() == Rope.Scaling.LLAMA3 && (!(rope.highFreqFactor() > rope.lowFreqFactor()) || !(rope.lowFreqFactor() > 0)
                    || rope.originalMaxPositions() < 1)) {
                problems.add("llama3 rope scaling needs 0 < low_freq_factor < high_freq_factor and original max positions ≥ 1");
            }
            if (rope.scaling() == Rope.Scaling.DYNAMIC && (rope.originalMaxPositions() < 1 || rope.rotaryDim() < 4)) {
                problems.add("dynamic rope scaling needs max positions ≥ 1 and rotaryDim ≥ 4");
            }
        }
        if (windows == null) problems.add("windows is null (empty: no sliding layers)");
        else if (!windows.isEmpty()) {
            boolean decoderOnly = encoderLayers == 0 && !prefixLm, encoderOnly = decoderLayers == 0;
            int stack = decoderOnly ? decoderLayers : encoderLayers;
            if (!(decoderOnly || encoderOnly) || windows.size() != stack) {
                problems.add("sliding windows are for decoder-only models (causal) and encoder-only ones (both sides: ModernBERT's local"
                        + " layers), one per layer (" + stack + "), got " + windows.size());
            }
            for (Integer w : windows) if (w == null || w < 0) problems.add("a sliding window must be ≥ 0 (0: none), got " + w);
        }
        if (!(embeddingScale > 0) || Float.isInfinite(embeddingScale)) problems.add("embeddingScale must be finite and > 0");
        if (!(attentionSoftcap >= 0) || Float.isInfinite(attentionSoftcap)) problems.add("attentionSoftcap must be finite and ≥ 0 (0: none)");
        if (!(logitSoftcap >= 0) || Float.isInfinite(logitSoftcap)) problems.add("logitSoftcap must be finite and ≥ 0 (0: none)");
        if (slidingRope != null && (rope == null || slidingRope.scaling() != Rope.Scaling.DEFAULT
                && slidingRope.scaling() != Rope.Scaling.LINEAR || slidingRope.rotaryDim() != rope.rotaryDim())) {
            problems.add("slidingRope needs rope, the same rotaryDim, and a table kind (default or linear)");
        }
        if (qkNormWide && !qkNorm) problems.add("qkNormWide needs qkNorm");
        if (!inputNorms && !sandwichNorms) problems.add("a model without input norms needs sandwichNorms (its output norms)");
        if (nopeLayers == null) problems.add("nopeLayers is null (empty: every layer rotates)");
        else if (!nopeLayers.isEmpty() && (rope == null || nopeLayers.stream().anyMatch(l -> l == null || l < 0 || l >= decoderLayers))) {
            problems.add("nopeLayers must name decoder layers (0 .. " + (decoderLayers - 1) + ") of a RoPE model, got " + nopeLayers);
        }
        if (!(residualScale > 0) || Float.isInfinite(residualScale)) problems.add("residualScale must be finite and > 0");
        else if (residualScale != 1f && (biases || linearBiases != null && (linearBiases.out() || linearBiases.mlp()))) {
            // the scale is the output projections' alpha, which leaves their bias unscaled; Granite's are bias-free
            problems.add("residualScale ≠ 1 needs bias-free output projections (attention out and MLP down)");
        }
        if (sandwichNorms && (normPlacement != NormPlacement.PRE || encoderLayers > 0)) {
            problems.add("sandwich norms are for pre-norm decoder-only models");
        }
        if (moe != null) {
            if (moe.experts() < 1 || moe.experts() > 1024) problems.add("moe.experts must be in 1..1024, got " + moe.experts());
            if (moe.topK() < 1 || moe.topK() > Math.min(moe.experts(), 32)) {
                problems.add("moe.topK must be in 1..min(experts, 32), got " + moe.topK());
            }
            if (moe.expertWidth() < 1 || moe.sharedWidth() < 0) problems.add("moe widths must be ≥ 1 (shared: ≥ 0)");
            if (moe.sharedGate() && moe.sharedWidth() == 0) problems.add("moe.sharedGate needs a shared expert (sharedWidth > 0)");
            if (!gatedMlp || encoderLayers > 0 || decoderLayers == 0) problems.add("a mixture of experts is for decoder-only models with gated MLPs");
            if (mlpBias()) problems.add("a mixture of experts has bias-free experts");
            if (moe.denseLayers().stream().anyMatch(l -> l == null || l < 0 || l >= decoderLayers)) {
                problems.add("moe.denseLayers must name decoder layers (0 .. " + (decoderLayers - 1) + "), got " + moe.denseLayers());
            }
        }
        if (activation == Activation.SWIGLU_OAI && !gatedMlp) problems.add("activation SWIGLU_OAI needs the gated MLP");
        if (attentionSinks && (encoderLayers > 0 || decoderLayers == 0 || disentangled != null)) {
            problems.add("attentionSinks are for decoder-only models (GPT-OSS)");
        }
        if (bart != null && (!encDec || positions != Positions.LEARNED_ABSOLUTE || relativeBuckets != 0 || shareCrossAndSelfAttention
                || shareEncoderDecoderParams || withinLayerCrossAttention || causalInput || typeVocabSize != 0 || embeddingWidth != 0)) {
            problems.add("the BART family's embeddings are for plain encoder-decoder models with position tables (no structural"
                    + " steps, token types or projected embeddings)");
        }
        if (parallel == null) problems.add("parallel is null (NONE: sublayers one after the other)");
        else if (parallel != ParallelBlock.NONE && (encoderLayers > 0 || decoderLayers == 0 || prefixLm || normPlacement != NormPlacement.PRE
                || sandwichNorms || !inputNorms)) {
            problems.add("a parallel block is for pre-norm decoder-only models with input norms (GPT-NeoX, Phi)");
        }
        if (headBias && (encoderLayers > 0 || decoderLayers == 0 || bart != null)) problems.add("headBias is for decoder-only models (Phi)");
        if (rawEmbeddings && (encoderLayers > 0 || decoderLayers == 0 || normPlacement != NormPlacement.POST || bart != null)) {
            problems.add("rawEmbeddings is for post-LN decoder-only models (OPT-350m); pre-LN models leave their embeddings unnormed already");
        }
        if (embedNorm && (encoderLayers > 0 || decoderLayers == 0 || normPlacement != NormPlacement.PRE || bart != null)) {
            problems.add("embedNorm is for pre-LN decoder-only models (BLOOM); post-LN models norm their embeddings already");
        }
        if ((positions == Positions.ALIBI) != (alibiSlopes != null)) problems.add("alibiSlopes go with ALIBI positions (and only with them)");
        if (alibiSlopes != null) {
            if (alibiSlopes.size() != heads) problems.add("alibiSlopes has " + alibiSlopes.size() + " slopes for " + heads + " heads");
            for (Float x : alibiSlopes) {
                if (x == null || !Float.isFinite(x)) {
                    problems.add("alibiSlopes must be finite, got " + alibiSlopes);
                    break;
                }
            }
            if (encoderLayers > 0 || decoderLayers == 0 || prefixLm || bidirectional) {
                problems.add("ALIBI positions are implemented for causal decoder-only models (BLOOM, MPT, Falcon-RW)");
            }
        }
        if (!(clipQkv >= 0) || !Float.isFinite(clipQkv)) problems.add("clipQkv must be finite and >= 0 (0: none), got " + clipQkv);
        if (clipQkv > 0 && qkNorm) problems.add("clipQkv with q/k norms is not supported (OLMoE clamps after its norms, the projection epilogue before)");
        if (moe != null) {
            Routing r = moe.routing();
            if (r.groups() < 1 || moe.experts() % r.groups() != 0 || r.topkGroups() < 1 || r.topkGroups() > r.groups()) {
                problems.add("moe routing groups must divide the experts (" + moe.experts() + ") with 1 ≤ topkGroups ≤ groups, got "
                        + r.groups() + " / " + r.topkGroups());
            } else if (moe.topK() > (long) r.topkGroups() * (moe.experts() / r.groups())) {
                problems.add("moe.topK " + moe.topK() + " exceeds the experts of the kept groups (" + r.topkGroups() + " × "
                        + moe.experts() / r.groups() + ")");
            }
            if (!(r.scale() > 0) || !Float.isFinite(r.scale())) problems.add("moe routing scale must be finite and > 0, got " + r.scale());
            if (moe.biases() && !r.equals(Routing.SOFTMAX)) problems.add("GPT-OSS's biased router takes the plain softmax routing (logits in the model dtype)");
        }
        if (mla != null) {
            if (encoderLayers > 0 || decoderLayers == 0 || prefixLm || bidirectional || rope == null || heads != kvHeads) {
                problems.add("multi-head latent attention is for causal decoder-only RoPE models with as many K/V heads as heads");
            }
            if (mla.kvLoraRank() < 1 || mla.qLoraRank() < 0 || mla.nopeDim() < 0 || mla.ropeDim() < 2 || mla.ropeDim() % 2 != 0
                    || mla.vDim() < 1 || !(mla.normEps() > 0)) {
                problems.add("mla needs kvLoraRank ≥ 1, qLoraRank ≥ 0, nopeDim ≥ 0, an even ropeDim ≥ 2, vDim ≥ 1 and normEps > 0, got " + mla);
            } else {
                if (headSize != mla.nopeDim() + mla.ropeDim()) {
                    problems.add("mla's head size is nopeDim + ropeDim = " + (mla.nopeDim() + mla.ropeDim()) + ", got headSize " + headSize);
                }
                if (mla.vDim() > headSize) problems.add("mla's vDim " + mla.vDim() + " exceeds the q/k head size " + headSize + " (V is padded to it)");
                if (rope != null && rope.rotaryDim() != mla.ropeDim()) {
                    problems.add("mla rotates ropeDim " + mla.ropeDim() + " dims of each head, but rope.rotaryDim is " + rope.rotaryDim());
                }
            }
            if (qkNorm || clipQkv > 0 || attentionSinks || disentangled != null || positions != Positions.ROPE) {
                problems.add("mla does not combine with q/k norms, clip_qkv, attention sinks or non-RoPE positions");
            }
        }
        if (!problems.isEmpty()) throw new IllegalArgumentException("invalid TransformerConfig: " + String.join("; ", problems));
    }

    /** Whether q, k and v carry biases. */
    public boolean qkvBias() { return linearBiases == null ? biases : linearBiases.qkv(); }

    /** Whether the attention's output projection carries a bias. */
    public boolean outBias() { return linearBiases == null ? biases : linearBiases.out(); }

    /** Whether the MLP's projections carry biases. */
    public boolean mlpBias() { return linearBiases == null ? biases : linearBiases.mlp(); }

    /** Whether decoder layer i rotates q and k (RoPE models; false for SmolLM3's NoPE layers). */
    public boolean ropeAt(int layer) { return rope != null && !nopeLayers.contains(layer); }

    /** The embedding tables' width: {@link #embeddingWidth} where set, else C. */
    public int embeddingTableWidth() { return embeddingWidth > 0 ? embeddingWidth : modelWidth; }

    /** Decoder layer i's sliding window (0: it attends to every earlier key). */
    public int window(int layer) { return windows.isEmpty() ? 0 : windows.get(layer); }

    private static void positive(List<String> problems, String name, int v) {
        if (v < 1) problems.add(name + " must be ≥ 1, got " + v);
    }

    /**
     * The longest sequence this model is meant to run (vLLM's derived max_model_len; 0: no limit known): maxPositions
     * (max_position_embeddings), times the factor of linear and dynamic RoPE scaling, yarn's original positions times
     * its factor, and llama3's and LongRoPE's as given (their max_position_embeddings counts the extension already).
     * One departure from vLLM: a config with a RoPE per layer type (Gemma 3) states its scaled positions already, so its
     * linear factor is not applied again (vLLM's double scaling, its issue #33911: 131072 → 1048576).
     */
    public int contextPositions() {
        if (maxPositions <= 0 || positions != Positions.ROPE || rope == null) return Math.max(maxPositions, 0);
        double n = switch (rope.scaling()) {
            case LINEAR -> slidingRope != null ? maxPositions : maxPositions * rope.factor();
            case DYNAMIC -> maxPositions * rope.factor();
            case YARN -> rope.originalMaxPositions() * rope.factor();
            default -> maxPositions;
        };
        return (int) Math.min(Integer.MAX_VALUE, Math.max(1, (long) n));
    }

    public Architecture architecture() {
        if (encoderLayers > 0 && decoderLayers > 0) return Architecture.ENCODER_DECODER;
        if (decoderLayers == 0) return Architecture.ENCODER_ONLY;
        return prefixLm ? Architecture.PREFIX_LM : Architecture.DECODER_ONLY;
    }

    /** NH·HS: the width of the attention's inner projections. */
    public int innerWidth() { return heads * headSize; }

    /** A builder with no defaults for widths; see the presets below for real models. */
    public static Builder builder() { return new Builder(); }

    /** This config with the four structural switches set as given (null keeps the current value). */
    public TransformerConfig withSteps(Boolean shareCrossAndSelf, Boolean shareParams, Boolean withinLayer, Boolean causal) {
        return toBuilder()
                .shareCrossAndSelfAttention(shareCrossAndSelf == null ? shareCrossAndSelfAttention : shareCrossAndSelf)
                .shareEncoderDecoderParams(shareParams == null ? shareEncoderDecoderParams : shareParams)
                .withinLayerCrossAttention(withinLayer == null ? withinLayerCrossAttention : withinLayer)
                .causalInput(causal == null ? causalInput : causal)
                .build();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.vocabSize = vocabSize; b.modelWidth = modelWidth; b.mlpWidth = mlpWidth; b.headSize = headSize;
        b.heads = heads; b.kvHeads = kvHeads; b.encoderLayers = encoderLayers; b.decoderLayers = decoderLayers;
        b.norm = norm; b.normPlacement = normPlacement; b.normEps = normEps; b.activation = activation;
        b.gatedMlp = gatedMlp; b.positions = positions; b.maxPositions = maxPositions;
        b.relativeBuckets = relativeBuckets; b.relativeMaxDistance = relativeMaxDistance; b.biases = biases;
        b.tiedEmbeddings = tiedEmbeddings; b.attentionScale = attentionScale; b.outputScale = outputScale;
        b.typeVocabSize = typeVocabSize; b.specialIds = specialIds; b.prefixLm = prefixLm;
        b.shareCrossAndSelfAttention = shareCrossAndSelfAttention; b.shareEncoderDecoderParams = shareEncoderDecoderParams;
        b.withinLayerCrossAttention = withinLayerCrossAttention; b.causalInput = causalInput;
        b.rope = rope; b.windows = windows; b.linearBiases = linearBiases; b.qkNorm = qkNorm; b.embeddingScale = embeddingScale;
        b.attentionSoftcap = attentionSoftcap; b.logitSoftcap = logitSoftcap; b.sandwichNorms = sandwichNorms;
        b.slidingRope = slidingRope; b.residualScale = residualScale; b.nopeLayers = nopeLayers;
        b.qkNormWide = qkNormWide; b.inputNorms = inputNorms; b.moe = moe; b.firstAttnNorm = firstAttnNorm;
        b.embeddingWidth = embeddingWidth; b.bidirectional = bidirectional; b.disentangled = disentangled;
        b.attentionSinks = attentionSinks; b.bart = bart; b.parallel = parallel; b.headBias = headBias;
        b.alibiSlopes = alibiSlopes; b.embedNorm = embedNorm; b.clipQkv = clipQkv; b.rawEmbeddings = rawEmbeddings; b.mla = mla;
        return b;
    }

    // ---- presets: the shapes of well-known checkpoints (weights come from loaders) ---------------

    /** GPT-2 small: C=768, 12 layers, 12 heads, learned positions (1024), pre-LN, GELU-tanh, tied. */
    public static TransformerConfig gpt2Small() {
        return builder().vocabSize(50257).widths(768, 3072, 12).decoderLayers(12)
                .norm(NormKind.LAYER_NORM, NormPlacement.PRE, 1e-5f).activation(Activation.GELU_TANH, false)
                .learnedPositions(1024).biases(true).tiedEmbeddings(true, 1f)
                .specialIds(new SpecialIds(-1, 50256, 50256, -1, -1)).build();
    }

    /** BERT base: C=768, 12 layers, 12 heads, post-LN eps 1e-12, exact GELU, 512 positions, 2 token types. */
    public static TransformerConfig bertBase() {
        return builder().vocabSize(30522).widths(768, 3072, 12).encoderLayers(12)
                .norm(NormKind.LAYER_NORM, NormPlacement.POST, 1e-12f).activation(Activation.GELU, false)
                .learnedPositions(512).typeVocabSize(2).biases(true).tiedEmbeddings(true, 1f)
                .specialIds(new SpecialIds(0, -1, -1, -1, 101)).build();
    }

    /**
     * sentence-transformers/all-MiniLM-L6-v2 (BERT): C=384, F=1536, 6 layers, 12 heads, post-LN eps 1e-12, exact
     * GELU, 512 positions, 2 token types; pad 0, CLS 101. The model langchain4j ships as ONNX.
     */
    public static TransformerConfig allMiniLmL6V2() {
        return builder().vocabSize(30522).widths(384, 1536, 12).encoderLayers(6)
                .norm(NormKind.LAYER_NORM, NormPlacement.POST, 1e-12f).activation(Activation.GELU, false)
                .learnedPositions(512).typeVocabSize(2).biases(true).tiedEmbeddings(true, 1f)
                .specialIds(new SpecialIds(0, -1, -1, -1, 101)).build();
    }

    /** T5 small (v1.0): C=512, F=2048, 6+6 layers, 8 heads, RMSNorm, ReLU, 32 buckets / 128, scale 1, tied × C^-0.5. */
    public static TransformerConfig t5Small() {
        return builder().vocabSize(32128).widths(512, 2048, 8).encoderLayers(6).decoderLayers(6)
                .norm(NormKind.RMS_NORM, NormPlacement.PRE, 1e-6f).activation(Activation.RELU, false)
                .t5RelativePositions(32, 128).biases(false).attentionScale(1f)
                .tiedEmbeddings(true, (float) (1 / Math.sqrt(512)))
                .specialIds(new SpecialIds(0, -1, 1, 0, -1)).build();
    }

    /** Builder for {@link TransformerConfig}; {@link #build()} validates. */
    public static final class Builder {
        private int vocabSize;
        private int modelWidth;
        private int mlpWidth;
        private int headSize;
        private int heads;
        private int kvHeads;
        private int encoderLayers;
        private int decoderLayers;
        private NormKind norm = NormKind.LAYER_NORM;
        private NormPlacement normPlacement = NormPlacement.PRE;
        private float normEps = 1e-5f;
        private Activation activation = Activation.GELU;
        private boolean gatedMlp;
        private Positions positions = Positions.NONE;
        private int maxPositions;
        private int relativeBuckets;
        private int relativeMaxDistance;
        private boolean biases = true;
        private boolean tiedEmbeddings = true;
        private float attentionScale = Float.NaN;   // NaN: 1/sqrt(HS) at build()
        private float outputScale = 1f;
        private int typeVocabSize;
        private SpecialIds specialIds = SpecialIds.NONE;
        private boolean prefixLm;
        private boolean shareCrossAndSelfAttention;
        private boolean shareEncoderDecoderParams;
        private boolean withinLayerCrossAttention;
        private boolean causalInput;
        private Rope rope;
        private List<Integer> windows = List.of();
        private Biases linearBiases;
        private boolean qkNorm;
        private float embeddingScale = 1f;
        private float attentionSoftcap, logitSoftcap;
        private boolean sandwichNorms;
        private Rope slidingRope;
        private boolean attentionSinks;
        private float residualScale = 1f;
        private List<Integer> nopeLayers = List.of();
        private Moe moe;
        private boolean qkNormWide, inputNorms = true, firstAttnNorm = true;
        private int embeddingWidth;
        private boolean bidirectional;
        private Disentangled disentangled;
        private BartEmbeddings bart;
        private ParallelBlock parallel = ParallelBlock.NONE;
        private boolean headBias;
        private List<Float> alibiSlopes;
        private boolean embedNorm;
        private float clipQkv;
        private boolean rawEmbeddings;
        private Mla mla;

        private Builder() {}

        public Builder vocabSize(int v) { vocabSize = v; return this; }

        /** C, F and NH, with HS = C / NH (which must divide) and NKV = NH. */
        public Builder widths(int c, int f, int nh) {
            if (nh < 1 || c % nh != 0) {
                throw new IllegalArgumentException("heads (NH=" + nh + ") must divide the model width (C=" + c
                        + "); give headSize explicitly with heads(nh, nkv, hs) for models where NH·HS ≠ C");
            }
            modelWidth = c;
            mlpWidth = f;
            return heads(nh, nh, c / nh);
        }

        public Builder modelWidth(int c) { modelWidth = c; return this; }

        public Builder mlpWidth(int f) { mlpWidth = f; return this; }

        public Builder heads(int nh, int nkv, int hs) { heads = nh; kvHeads = nkv; headSize = hs; return this; }

        public Builder encoderLayers(int n) { encoderLayers = n; return this; }

        public Builder decoderLayers(int n) { decoderLayers = n; return this; }

        public Builder norm(NormKind kind, NormPlacement placement, float eps) {
            norm = kind; normPlacement = placement; normEps = eps; return this;
        }

        public Builder activation(Activation a, boolean gated) { activation = a; gatedMlp = gated; return this; }

        public Builder learnedPositions(int max) { positions = Positions.LEARNED_ABSOLUTE; maxPositions = max; return this; }

        public Builder t5RelativePositions(int buckets, int maxDistance) {
            positions = Positions.T5_RELATIVE; relativeBuckets = buckets; relativeMaxDistance = maxDistance; return this;
        }

        /**
         * MPNet's relative-position bias beside learned positions: T5's bidirectional buckets ({@code buckets} of
         * them, up to {@code maxDistance}) index a (buckets, NH) table added to every layer's scores. Call after
         * {@link #learnedPositions}; encoder-only, bidirectional models only.
         */
        public Builder relativeBias(int buckets, int maxDistance) {
            relativeBuckets = buckets; relativeMaxDistance = maxDistance; return this;
        }

        public Builder noPositions() { positions = Positions.NONE; rope = null; return this; }

        /** Rotary positions (RoPE) applied to q and k in every attention. */
        public Builder rope(Rope r) { positions = Positions.ROPE; rope = r; return this; }

        /** Per decoder layer its sliding window (0: none); an empty list: no sliding layers. */
        public Builder windows(List<Integer> w) { windows = w == null ? null : List.copyOf(w); return this; }

        public Builder linearBiases(Biases b) { linearBiases = b; return this; }

        public Builder qkNorm(boolean on) { qkNorm = on; return this; }

        public Builder embeddingScale(float s) { embeddingScale = s; return this; }

        /** Gemma 2's soft-capping of attention scores and of the output logits (0: none). */
        public Builder softcaps(float attention, float logits) { attentionSoftcap = attention; logitSoftcap = logits; return this; }

        /** Gemma 2's norms after the attention and the MLP, before their residual adds. */
        public Builder sandwichNorms(boolean on) { sandwichNorms = on; return this; }

        /** Gemma 3: the RoPE of the sliding-window layers (null: {@link #rope}'s for every layer). */
        public Builder slidingRope(Rope r) { slidingRope = r; return this; }

        /** GPT-OSS's attention sinks (see {@link TransformerConfig#attentionSinks}). */
        public Builder attentionSinks(boolean s) { attentionSinks = s; return this; }

        /** Granite: each sublayer's output × s before its residual add (the output projections' alpha). */
        public Builder residualScale(float s) { residualScale = s; return this; }

        /** OLMo 2: q/k norms over the whole projections (with {@link #qkNorm}). */
        public Builder qkNormWide(boolean on) { qkNormWide = on; return this; }

        /** OLMo 2: no input norms (needs {@link #sandwichNorms}: the output norms are the only ones). */
        public Builder inputNorms(boolean on) { inputNorms = on; return this; }

        /** ModernBERT: no attention input norm in layer 0 (its input is the normed embeddings). */
        public Builder firstAttnNorm(boolean on) { firstAttnNorm = on; return this; }

        /** A decoder-only model whose attention has no causal mask (EmbeddingGemma): hidden states only. */
        public Builder bidirectional(boolean on) { bidirectional = on; return this; }

        /** ELECTRA's embedding_size E: the embedding tables are (…, E), projected to C after their norm (0 or C: none). */
        public Builder embeddingWidth(int e) { embeddingWidth = e; return this; }

        /** The BART family's embeddings and output bias (see {@link BartEmbeddings}); null: none. */
        public Builder bart(BartEmbeddings b) { bart = b; return this; }

        /** How a decoder layer adds attention and MLP (see {@link ParallelBlock}); NONE by default. */
        public Builder parallel(ParallelBlock p) { parallel = p; return this; }

        /** A decoder-only model's logits gain a bias (Phi's lm_head.bias). */
        public Builder headBias(boolean on) { headBias = on; return this; }

        /** A pre-LN decoder-only model norms its token embeddings first (BLOOM's word_embeddings_layernorm). */
        public Builder embedNorm(boolean on) { embedNorm = on; return this; }

        /** q, k and v clamped to ±limit after their projections (OLMo's, MPT's clip_qkv); 0: none. */
        public Builder clipQkv(float limit) { clipQkv = limit; return this; }
        public Builder rawEmbeddings(boolean on) { rawEmbeddings = on; return this; }

        /** DeepSeek's multi-head latent attention (see {@link Mla}); null: q, k and v projections. */
        public Builder mla(Mla m) { mla = m; return this; }

        /** ALiBi positions with one slope per query head (see {@link Positions#ALIBI}); clears any RoPE. */
        public Builder alibi(float[] slopes) {
            positions = Positions.ALIBI;
            rope = null;
            List<Float> l = new ArrayList<>(slopes.length);
            for (float x : slopes) l.add(x);
            alibiSlopes = List.copyOf(l);
            return this;
        }

        /** DeBERTa's disentangled attention (see {@link Disentangled}); null: none. */
        public Builder disentangled(Disentangled d) { disentangled = d; return this; }

        /** SmolLM3: the decoder layers that apply no RoPE (empty: none). */
        /** A sparse mixture of experts in the decoder layers (see {@link Moe}); null: dense MLPs everywhere. */
        public Builder moe(Moe m) { moe = m; return this; }

        public Builder nopeLayers(List<Integer> layers) { nopeLayers = layers == null ? null : List.copyOf(layers); return this; }

        public Builder maxPositions(int max) { maxPositions = max; return this; }

        public Builder biases(boolean b) { biases = b; return this; }

        public Builder tiedEmbeddings(boolean tied, float scale) { tiedEmbeddings = tied; outputScale = scale; return this; }

        public Builder attentionScale(float s) { attentionScale = s; return this; }

        public Builder typeVocabSize(int n) { typeVocabSize = n; return this; }

        public Builder specialIds(SpecialIds ids) { specialIds = ids; return this; }

        public Builder prefixLm(boolean p) { prefixLm = p; return this; }

        public Builder shareCrossAndSelfAttention(boolean s) { shareCrossAndSelfAttention = s; return this; }

        public Builder shareEncoderDecoderParams(boolean s) { shareEncoderDecoderParams = s; return this; }

        public Builder withinLayerCrossAttention(boolean s) { withinLayerCrossAttention = s; return this; }

        public Builder causalInput(boolean s) { causalInput = s; return this; }

        public TransformerConfig build() {
            float scale = Float.isNaN(attentionScale) ? (headSize > 0 ? (float) (1 / Math.sqrt(headSize)) : 1f) : attentionScale;
            return new TransformerConfig(vocabSize, modelWidth, mlpWidth, headSize, heads, kvHeads, encoderLayers,
                    decoderLayers, norm, normPlacement, normEps, activation, gatedMlp, positions, maxPositions,
                    relativeBuckets, relativeMaxDistance, biases, tiedEmbeddings, scale, outputScale, typeVocabSize,
                    specialIds, prefixLm, shareCrossAndSelfAttention, shareEncoderDecoderParams,
                    withinLayerCrossAttention, causalInput, rope, windows, linearBiases, qkNorm, embeddingScale,
                    attentionSoftcap, logitSoftcap, sandwichNorms, slidingRope, residualScale, nopeLayers, qkNormWide, inputNorms, moe, firstAttnNorm,
                    embeddingWidth == modelWidth ? 0 : embeddingWidth, bidirectional, disentangled, attentionSinks, bart, parallel, headBias,
                    positions == Positions.ALIBI ? alibiSlopes : null, embedNorm, clipQkv, rawEmbeddings, mla);
        }
    }
}
