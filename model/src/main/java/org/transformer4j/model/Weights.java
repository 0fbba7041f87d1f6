// Weights — the parameters of one TransformerConfig, in the backend's memory: embeddings, the
// encoder and decoder stacks (one object for both under shareEncoderDecoderParams), output and task
// heads. Built from a seed (tests, benchmarks) or key-for-key from a Hugging Face map, in F32, F16 or BF16.
package org.transformer4j.model;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Int4;
import org.transformer4j.runtime.LinearOp;
import org.transformer4j.runtime.NormOp;
import org.transformer4j.runtime.Mxfp4;
import org.transformer4j.runtime.Tensor;
import org.transformer4j.runtime.Uploader;

/**
 * Every matrix is stored as torch.nn.Linear stores it, (out, in), and used with
 * {@code LinearOp.transW(true)}; vectors are (N). Config, weights and per-request state
 * ({@link KvState}) are separate objects: one Weights serves any number of requests, from any
 * number of threads (they are only read). Close them once no thread uses them; a Transformer over
 * closed Weights throws IllegalStateException.
 */
public final class Weights implements AutoCloseable {

    /** A norm's scale and shift (shift null for RMSNorm or bias-free models). */
    public record Norm(Tensor weight, Tensor bias) {}

    /**
     * One projection fused from row blocks (issue 19): {@code weight} (Σ N_i, C) and {@code bias} (Σ N_i) or
     * null, so that one GEMM computes all the blocks; the blocks' own tensors are row views of it.
     */
    public record Fused(Tensor weight, Tensor bias) {
        /** Rows [from, to) of the weight and the bias: a fused projection of its own. */
        public Fused rows(long from, long to) {
            return new Fused(weight.slice(0, from, to), bias == null ? null : bias.slice(0, from, to));
        }
    }

    /**
     * One attention: q (NH·HS, C), k and v (NKV·HS, C), o (C, NH·HS), biases or null; qNorm and kNorm
     * (HS) the per-head RMSNorms of Qwen3 (qkNorm), else null. {@code qkv}, when not null, is [q ; k ; v]
     * fused (self-attention: they share an input), and q, k, v (and their biases) are row views of it;
     * {@code kv}, when not null, is [k ; v] fused (a cross-attention's K/V read the memory; or the tail of
     * qkv, for memory K/V through the self-attention under step 1). Null where the loader kept the
     * projections apart ({@link Fusion#SEPARATE}, or Qwen3's qkNorm). {@code sinks}: GPT-OSS's per-head sink logits,
     * F32 (NH) in every compute dtype (the attention ops take them so), or null.
     */
    public record Attention(Tensor q, Tensor qb, Tensor k, Tensor kb, Tensor v, Tensor vb, Tensor o, Tensor ob,
                            Norm qNorm, Norm kNorm, Fused qkv, Fused kv, Tensor sinks, Mla mla, Packed4 packed) {
        public Attention(Tensor q, Tensor qb, Tensor k, Tensor kb, Tensor v, Tensor vb, Tensor o, Tensor ob,
                         Norm qNorm, Norm kNorm, Fused qkv, Fused kv, Tensor sinks, Mla mla) {
            this(q, qb, k, kb, v, vb, o, ob, qNorm, kNorm, qkv, kv, sinks, mla, null);
        }

        public Attention(Tensor q, Tensor qb, Tensor k, Tensor kb, Tensor v, Tensor vb, Tensor o, Tensor ob,
                         Norm qNorm, Norm kNorm, Fused qkv, Fused kv, Tensor sinks) {
            this(q, qb, k, kb, v, vb, o, ob, qNorm, kNorm, qkv, kv, sinks, null);
        }

        /** q's 4-bit weight ({@link Packed4}), or null where q is dense. */
        public Int4 q4() { return packed == null ? null : packed.q(); }

        public Int4 k4() { return packed == null ? null : packed.k(); }

        public Int4 v4() { return packed == null ? null : packed.v(); }

        public Int4 o4() { return packed == null ? null : packed.o(); }

        public Attention(Tensor q, Tensor qb, Tensor k, Tensor kb, Tensor v, Tensor vb, Tensor o, Tensor ob) {
            this(q, qb, k, kb, v, vb, o, ob, null, null, null, null, null);
        }

        public Attention(Tensor q, Tensor qb, Tensor k, Tensor kb, Tensor v, Tensor vb, Tensor o, Tensor ob,
                         Norm qNorm, Norm kNorm, Fused qkv, Fused kv) {
            this(q, qb, k, kb, v, vb, o, ob, qNorm, kNorm, qkv, kv, null);
        }
    }

    /**
     * The projections of an attention (q, k, v, o) or of a dense MLP (up, gate, down in the q, k, o slots) kept in 4 bits
     * as an AWQ or GPTQ folder stores them ({@link Int4}, decoded inside the GEMM), each in place of its dense field, which
     * is then null; a null slot is dense. 4-bit projections are never fused (each keeps its own GEMM).
     */
    public record Packed4(Int4 q, Int4 k, Int4 v, Int4 o) {
        /** Its packed tensors (codes, scales, zeros, g_idx), for the copies that must keep their dtypes. */
        List<Tensor> tensors() {
            List<Tensor> out = new ArrayList<>();
            for (Int4 w : new Int4[] {q, k, v, o}) if (w != null) out.addAll(w.parts());
            return out;
        }
    }

    /**
     * DeepSeek's latent projections ({@link TransformerConfig.Mla}), the rest of an MLA attention being the Attention's own
     * fields: {@code qA} (qLoraRank, C) and {@code qANorm} (q_a_proj, q_a_layernorm), or null where q = q_proj(x);
     * {@code kvA} (kvLoraRank + ropeDim, C) (kv_a_proj_with_mqa) and {@code kvANorm} (kvLoraRank) (kv_a_layernorm, over the
     * latent c only). The Attention's q is then q_b_proj / q_proj (NH·HS, qLoraRank or C) with each head's rows laid
     * [pe | nope], its {@code kv} [K ; V] (2·NH·HS, ropeDim + kvLoraRank) over the latent [k_pe ; RMSNorm(c)]: K's head rows
     * [k_pe (rows of the identity on k_pe) | k_nope (zero over k_pe)], V's [v (zero over k_pe) | zeros]; and o (C, NH·HS)
     * zero in each head's padded columns. {@code kT} (NH·(ropeDim + kvLoraRank), HS): each head's K rows transposed, the
     * absorbed query's projection (q_h · K_h as a (N, K) matrix, as every projection's) — made where the backend runs the
     * latent decode ({@link org.transformer4j.runtime.Backend#maxHeadSize}), else null.
     */
    public record Mla(Tensor qA, Norm qANorm, Tensor kvA, Norm kvANorm, Tensor kT) {
        public Mla(Tensor qA, Norm qANorm, Tensor kvA, Norm kvANorm) { this(qA, qANorm, kvA, kvANorm, null); }
    }

    /**
     * up and gate (F, C) (gate null unless gated), down (C, F), biases or null. {@code upGate}, when not
     * null, is [up ; gate] fused (2F, C), up and gate row views of it, for the gated op's one GEMM.
     */
    public record Mlp(Tensor up, Tensor upb, Tensor gate, Tensor gateb, Tensor down, Tensor downb, Fused upGate, Moe moe, Packed4 packed) {
        public Mlp(Tensor up, Tensor upb, Tensor gate, Tensor gateb, Tensor down, Tensor downb, Fused upGate, Moe moe) {
            this(up, upb, gate, gateb, down, downb, upGate, moe, null);
        }

        public Mlp(Tensor up, Tensor upb, Tensor gate, Tensor gateb, Tensor down, Tensor downb, Fused upGate) {
            this(up, upb, gate, gateb, down, downb, upGate, null);
        }

        /** up's 4-bit weight ({@link Packed4}: its q slot), or null where up is dense. */
        public Int4 up4() { return packed == null ? null : packed.q(); }

        /** gate's (the k slot). */
        public Int4 gate4() { return packed == null ? null : packed.k(); }

        /** down's (the o slot). */
        public Int4 down4() { return packed == null ? null : packed.o(); }

        /** Whether this MLP is gated (a gate matrix, dense or 4-bit). */
        boolean gated() { return gate != null || gate4() != null; }

        public Mlp(Tensor up, Tensor upb, Tensor gate, Tensor gateb, Tensor down, Tensor downb) {
            this(up, upb, gate, gateb, down, downb, null, null);
        }

        /** A mixture-of-experts MLP (the dense fields null). */
        static Mlp of(Moe moe) { return new Mlp(null, null, null, null, null, null, null, moe); }

        /** F: the hidden width (down is (C, F)). */
        long width() { return down != null ? down.shape(1) : down4().cols(); }
    }

    /**
     * A sparse mixture of experts ({@link TransformerConfig.Moe}): {@code router} (E, C); {@code upGateRows} (E·2F, C),
     * each expert's [up ; gate] (up = transformers' gate_proj / w1, the activated branch); {@code downRows} (E·C, F);
     * {@code shared} Qwen2-MoE's shared expert or null, {@code sharedGate} its (1, C) gate or null; GPT-OSS's biases (else
     * null): {@code routerBias} (E), {@code upGateBiasRows} (2·E·F) the experts' up biases then their gate biases, {@code downBiasRows}
     * (E·C). The stacked tensors are kept as the (E·R, …) matrices the loader names; the accessors view them per expert.
     * gpt-oss's experts may instead stay in MXFP4 as stored ({@code upGateQ} (E, 2F, C) with transformers' gate and up rows
     * interleaved, {@code downQ} (E, C, F); the dense fields then null), decoded inside the grouped GEMM.
     */
    public record Moe(Tensor router, Tensor upGateRows, Tensor downRows, Mlp shared, Tensor sharedGate, Tensor routerBias,
                      Tensor upGateBiasRows, Tensor downBiasRows, Mxfp4 upGateQ, Mxfp4 downQ, Tensor correctionBias) {
        public Moe(Tensor router, Tensor upGateRows, Tensor downRows, Mlp shared, Tensor sharedGate, Tensor routerBias,
                   Tensor upGateBiasRows, Tensor downBiasRows, Mxfp4 upGateQ, Mxfp4 downQ) {
            this(router, upGateRows, downRows, shared, sharedGate, routerBias, upGateBiasRows, downBiasRows, upGateQ, downQ, null);
        }

        public Moe(Tensor router, Tensor upGateRows, Tensor downRows, Mlp shared, Tensor sharedGate) {
            this(router, upGateRows, downRows, shared, sharedGate, null, null, null, null, null);
        }

        /** Whether the experts are kept in MXFP4 (upGateQ, downQ) instead of dense (upGateRows, downRows). */
        boolean quantized() { return upGateQ != null; }

        /** gpt-oss's MXFP4 experts: transformers' gate rows (the activated branch, our up) are the even rows of gate_up. */
        Mxfp4 upQ() { return upGateQ.everyOtherRow(0); }

        /** Its up rows (our gate: the multiplied branch), the odd ones. */
        Mxfp4 gateQ() { return upGateQ.everyOtherRow(1); }

        int experts() { return (int) router.shape(0); }

        /** (E, 2F, C): each expert's [up ; gate]. */
        Tensor upGate() { return upGateRows.view(experts(), upGateRows.shape(0) / experts(), upGateRows.shape(1)); }

        Tensor up() { Tensor ug = upGate(); return ug.slice(1, 0, ug.shape(1) / 2); }

        Tensor gate() { Tensor ug = upGate(); return ug.slice(1, ug.shape(1) / 2, ug.shape(1)); }

        /** (E, C, F). */
        Tensor down() { return downRows.view(experts(), downRows.shape(0) / experts(), downRows.shape(1)); }

        /** The (E, F) biases of up and gate (halves of each expert's [up ; gate] biases), or null. */
        Tensor upBias() { return upGateBiasRows == null ? null : biasHalf(0); }

        Tensor gateBias() { return upGateBiasRows == null ? null : biasHalf(1); }

        /** (E, C), or null. */
        Tensor downBias() { return downBiasRows == null ? null : downBiasRows.view(experts(), downBiasRows.shape(0) / experts()); }

        /** upGateBiasRows is (2, E, F) flattened: every expert's up biases, then every expert's gate biases (each (E, F) dense). */
        private Tensor biasHalf(int half) {
            long f = upGateBiasRows.shape(0) / experts() / 2;
            return upGateBiasRows.view(2, experts(), f).select(0, half);
        }
    }

    /**
     * Whether projections that share an input are fused into one matrix at load ({@code -Dt4j.fuse=true|false},
     * default true, read when weights are built). FUSED: [q ; k ; v], a cross-attention's [k ; v] and a gated
     * MLP's [up ; gate] are each one matrix — taken as stored where the checkpoint fuses them (GPT-2's c_attn,
     * Phi-3's qkv_proj and gate_up_proj), else concatenated once at load. On the CPU backend a mapped
     * checkpoint in the compute dtype is otherwise used in place (no copy): the concatenated matrices are
     * then copies, (N_q + 2·N_kv + 2F)·C elements per layer of the process's own memory, and the mapped
     * pages they were copied from are dropped from the resident set (not held twice). SEPARATE: every
     * projection its own matrix and GEMM (the baseline the benchmarks and tests compare with).
     */
    public enum Fusion {
        FUSED, SEPARATE;

        static Fusion current() {
            String v = System.getProperty("t4j.fuse", "true").trim();
            return switch (v.toLowerCase(java.util.Locale.ROOT)) {
                case "true" -> FUSED;
                case "false" -> SEPARATE;
                default -> throw new IllegalArgumentException("-Dt4j.fuse=" + v + " is not true or false");
            };
        }
    }

    /**
     * One block. {@code cross} and {@code crossNorm} exist only in decoder layers of encoder-decoders
     * without shareCrossAndSelfAttention; {@code postAttnNorm} and {@code postMlpNorm} only with the config's
     * sandwichNorms (Gemma 2: the sublayers' outputs are normed before their residual adds).
     */
    public record Layer(Norm attnNorm, Attention self, Norm crossNorm, Attention cross, Norm mlpNorm, Mlp mlp,
                        Norm postAttnNorm, Norm postMlpNorm) {

        public Layer(Norm attnNorm, Attention self, Norm crossNorm, Attention cross, Norm mlpNorm, Mlp mlp) {
            this(attnNorm, self, crossNorm, cross, mlpNorm, mlp, null, null);
        }
    }

    /**
     * A stack of blocks; {@code finalNorm} for pre-LN models; {@code relativeBias} F32 (buckets, NH) for
     * T5 positions, shared by the stack's layers.
     */
    public record Stack(List<Layer> layers, Norm finalNorm, Tensor relativeBias, Relative relative) {
        public Stack(List<Layer> layers, Norm finalNorm, Tensor relativeBias) { this(layers, finalNorm, relativeBias, null); }
    }

    /**
     * DeBERTa's relative embeddings of an encoder stack ({@link TransformerConfig.Disentangled}): {@code table} (2·span, C)
     * as stored (rel_embeddings), its LayerNorm or null; {@code own} per layer {pos_key_proj weight, bias, pos_query_proj
     * weight, bias} (entries of an absent term null) without share_att_key, else null. {@code keys} and {@code queries}
     * hold per layer what transformers recomputes in every pass — the (normed) table through the layer's key projection
     * (2·span, NH·HS) for c2p and through its query projection for p2c (null lists for an absent term) — made once when
     * the weights are built ({@link #derive}) and owned by the weights.
     */
    public record Relative(Tensor table, Norm norm, List<Tensor[]> own, List<Tensor> keys, List<Tensor> queries) {

        /** This stack's relative embeddings with keys and queries computed on the backend from its layers' projections. */
        static Relative derive(Relative r, List<Layer> layers, TransformerConfig c, Backend backend) {
            TransformerConfig.Disentangled d = c.disentangled();
            if (r.table() == null || r.norm() != null && r.norm().weight() == null) return r;      // a loader's missing tensor
            int rows = 2 * d.span(), inner = c.innerWidth();
            Tensor pe = r.table().slice(0, 0, rows), normed = pe;
            List<Tensor> keys = d.c2p() ? new ArrayList<>() : null, queries = d.p2c() ? new ArrayList<>() : null;
            try {
                if (r.norm() != null) {
                    normed = backend.empty(pe.dtype(), rows, c.modelWidth());
                    backend.norm(NormOp.layer(pe, r.norm().weight(), r.norm().bias(), c.normEps(), normed));
                }
                for (int i = 0; i < layers.size(); i++) {
                    Attention a = layers.get(i).self();
                    Tensor[] w = r.own() == null ? new Tensor[] {a.k(), a.kb(), a.q(), a.qb()} : r.own().get(i);
                    for (int term = 0; term < 2; term++) {
                        List<Tensor> to = term == 0 ? keys : queries;
                        if (to == null) continue;
                        Tensor weight = w[2 * term];
                        if (weight == null) return new Relative(r.table(), r.norm(), r.own(), closeAll(keys), closeAll(queries));
                        Tensor out = backend.empty(pe.dtype(), rows, inner);
                        backend.linear(LinearOp.of(normed, weight, out).transW(true).bias(w[2 * term + 1]));
                        to.add(out);
                    }
                }
            } finally {
                if (normed != pe) normed.close();
            }
            return new Relative(r.table(), r.norm(), r.own(), keys == null ? null : List.copyOf(keys),
                    queries == null ? null : List.copyOf(queries));
        }

        private static List<Tensor> closeAll(List<Tensor> ts) {
            if (ts != null) ts.forEach(Tensor::close);
            return null;
        }

        void close() {
            if (keys != null) keys.forEach(Tensor::close);
            if (queries != null) queries.forEach(Tensor::close);
        }
    }

    /**
     * tokens (V, E); positions (P, E) or null; types (TV, E) or null; embeddingNorm for post-LN
     * models (BERT's embeddings.LayerNorm) or null; E = C except for ELECTRA's embedding_size, whose normed
     * embeddings {@code project} (C, E) + {@code projectBias} (C) takes to C (embeddings_project), null otherwise.
     */
    public record Embeddings(Tensor tokens, Tensor positions, Tensor types, Norm embeddingNorm, Tensor project, Tensor projectBias) {
        public Embeddings(Tensor tokens, Tensor positions, Tensor types, Norm embeddingNorm) {
            this(tokens, positions, types, embeddingNorm, null, null);
        }
    }

    /** BERT's pooler (C, C) + bias and an optional classifier (classes, C) + bias. */
    public record ClassifierHead(Tensor pooler, Tensor poolerBias, Tensor classifier, Tensor classifierBias, Norm norm) {
        public ClassifierHead(Tensor pooler, Tensor poolerBias, Tensor classifier, Tensor classifierBias) {
            this(pooler, poolerBias, classifier, classifierBias, null);
        }
    }

    /**
     * BERT's masked-LM transform: dense (C, C) + bias, GELU, LayerNorm; the decoder is {@link Weights#outputMatrix()} (the tied
     * table, or an untied DistilBERT vocab_projector) + bias (V).
     */
    public record MlmHead(Tensor dense, Tensor denseBias, Norm norm, Tensor outputBias) {}

    /** A linear head (out, C) + bias (out): a token classifier (labels, C) or BERT's next-sentence head (2, C). */
    public record LinearHead(Tensor weight, Tensor bias) {}

    /**
     * What an encoder folder says beyond its tensors: its family ({@code bert}, {@code roberta},
     * {@code xlm-roberta}, {@code distilbert}, or {@code random}), where positions start
     * ({@code positionFrom} ≥ 0: RoBERTa's padding_idx + 1, counted over the non-padding tokens, padding
     * at padding_idx; -1: 0, 1, 2, … as BERT), its class labels (id2label in id order) and the pooled
     * classifier's activation ({@code tanh}: BERT's pooler and RoBERTa's head; {@code relu}: DistilBERT's
     * pre_classifier), and config.json's {@code problem_type} ({@code regression}, {@code single_label_classification},
     * {@code multi_label_classification}, or null), which says how a sequence classifier's logits become scores.
     */
    public record EncoderInfo(String family, int positionFrom, java.util.List<String> labels, String poolerActivation, String pooling,
                              boolean headBias, String problemType) {
        public static final EncoderInfo BERT = new EncoderInfo("bert", -1, java.util.List.of(), "tanh");

        public EncoderInfo(String family, int positionFrom, java.util.List<String> labels, String poolerActivation) {
            this(family, positionFrom, labels, poolerActivation, "first", true, null);
        }

        /** The same with config.json's problem_type. */
        public EncoderInfo withProblemType(String type) {
            return new EncoderInfo(family, positionFrom, labels, poolerActivation, pooling, headBias, type);
        }

        /** ModernBERT's heads: dense (bias as classifier_bias), classifier_activation, LayerNorm; pooling "cls" or "mean". */
        boolean modernBert() { return family.equals("modernbert"); }
    }

    public final TransformerConfig config;
    /** The token (and position, type) tables; an encoder-decoder's decoder embeds with them, its encoder too unless {@link #encoderEmbeddings}. */
    public final Embeddings embeddings;
    /**
     * The encoder's own embeddings (the BART family's per-stack position table and embedding norm; the token table is
     * {@link #embeddings}'), or null: {@link #embeddings} serves both stacks.
     */
    public final Embeddings encoderEmbeddings;
    /** The logits' bias (V) (the BART family's final_logits_bias), or null. */
    public final Tensor outputBias;
    /** Null for decoder-only models. */
    public final Stack encoder;
    /** Null for encoder-only models; the same object as {@link #encoder} under shareEncoderDecoderParams. */
    public final Stack decoder;
    /** (V, C) when the output matrix is not tied to the token table, else null. */
    public final Tensor lmHead;
    public final ClassifierHead classifierHead;
    public final MlmHead mlmHead;
    /** Per-token classifier (…ForTokenClassification), or null. */
    public final LinearHead tokenClassifier;
    /** BERT's next-sentence head on the pooled output (BertForPreTraining), or null. */
    public final LinearHead nextSentence;
    /** The encoder folder's family, positions and labels ({@link EncoderInfo#BERT} for random and ONNX weights). */
    public final EncoderInfo encoderInfo;
    /** The backend whose memory holds the tensors (where {@link #to} puts its copies). */
    public final Backend backend;
    /** RoPE's inverse frequencies F32 (R/2) for ROPE positions (a buffer, not a parameter), else null. */
    public final Tensor ropeInvFreq;
    /** The sliding layers' inverse frequencies F32 (R/2) when the config has a slidingRope (Gemma 3), else null. */
    public final Tensor ropeSlidingInvFreq;
    /** ALiBi's slopes F32 (NH) for ALIBI positions (computed from the config, not a parameter), else null. */
    public final Tensor alibiSlopes;
    private final Map<String, Tensor> named;
    private final boolean owner;
    /** Closed after the tensors: the memory-mapped checkpoint that tensors shared by {@link Pretrained#load} view, or null. */
    private volatile AutoCloseable keepAlive;

    private Weights(TransformerConfig config, Embeddings embeddings, Stack encoder, Stack decoder, Tensor lmHead,
                    ClassifierHead classifierHead, MlmHead mlmHead, Map<String, Tensor> named, Backend backend) {
        this(config, embeddings, encoder, decoder, lmHead, classifierHead, mlmHead, null, null, EncoderInfo.BERT, named, backend);
    }

    private Weights(TransformerConfig config, Embeddings embeddings, Stack encoder, Stack decoder, Tensor lmHead,
                    ClassifierHead classifierHead, MlmHead mlmHead, LinearHead tokenClassifier, LinearHead nextSentence,
                    EncoderInfo encoderInfo, Map<String, Tensor> named, Backend backend) {
        this(config, embeddings, encoder, decoder, lmHead, classifierHead, mlmHead, tokenClassifier, nextSentence, encoderInfo,
                named, backend, null, null);
    }

    private Weights(TransformerConfig config, Embeddings embeddings, Stack encoder, Stack decoder, Tensor lmHead,
                    ClassifierHead classifierHead, MlmHead mlmHead, LinearHead tokenClassifier, LinearHead nextSentence,
                    EncoderInfo encoderInfo, Map<String, Tensor> named, Backend backend, Embeddings encoderEmbeddings,
                    Tensor outputBias) {
        this.encoderEmbeddings = encoderEmbeddings;
        this.outputBias = outputBias;
        this.tokenClassifier = tokenClassifier;
        this.nextSentence = nextSentence;
        this.encoderInfo = encoderInfo;
        this.config = config;
        this.backend = backend;
        this.embeddings = embeddings;
        this.encoder = encoder;
        this.decoder = decoder;
        this.lmHead = lmHead;
        this.classifierHead = classifierHead;
        this.mlmHead = mlmHead;
        this.named = named;
        this.owner = true;
        this.ropeInvFreq = ropeTable(config, backend);
        this.ropeSlidingInvFreq = config.slidingRope() == null ? null : upload(config.slidingRope().invFreq(), backend);
        this.alibiSlopes = config.alibiSlopes() == null ? null : upload(config.alibiSlopeArray(), backend);
    }

    private static Tensor upload(float[] inv, Backend backend) {
        try (Tensor h = Tensor.ofFloats(inv, inv.length)) {
            return backend.upload(h);
        }
    }

    private static Tensor ropeTable(TransformerConfig c, Backend backend) {
        if (c.rope() == null) return null;
        boolean two = c.rope().scaling() == TransformerConfig.Rope.Scaling.LONGROPE;   // (2, R/2): short, then long
        float[] inv = two ? c.rope().longRopeTables() : c.rope().invFreq();
        try (Tensor h = two ? Tensor.ofFloats(inv, 2, inv.length / 2) : Tensor.ofFloats(inv, inv.length)) {
            return backend.upload(h);
        }
    }

    private Weights(Weights from, TransformerConfig config) {
        this.config = config;
        this.backend = from.backend;
        this.embeddings = from.embeddings;
        this.encoderEmbeddings = from.encoderEmbeddings;
        this.outputBias = from.outputBias;
        this.encoder = config.encoderLayers() > 0 ? from.encoder : null;
        this.decoder = config.decoderLayers() > 0 ? from.decoder : null;
        this.lmHead = from.lmHead;
        this.classifierHead = from.classifierHead;
        this.mlmHead = from.mlmHead;
        this.tokenClassifier = from.tokenClassifier;
        this.nextSentence = from.nextSentence;
        this.encoderInfo = from.encoderInfo;
        this.named = from.named;
        this.owner = false;
        this.ropeInvFreq = from.ropeInvFreq;
        this.ropeSlidingInvFreq = from.ropeSlidingInvFreq;
        this.alibiSlopes = from.alibiSlopes;
    }

    /**
     * The same tensors read under another config (e.g. an encoder-decoder's shared stack as a
     * decoder-only model); the view does not own them, so closing it frees nothing. The caller
     * keeps the two configs' structures compatible; {@link Transformer} checks the shapes it uses.
     */
    public Weights viewAs(TransformerConfig other) {
        if (other.decoderLayers() > 0 && decoder == null || other.encoderLayers() > 0 && encoder == null) {
            throw new IllegalArgumentException("these weights have no " + (decoder == null ? "decoder" : "encoder")
                    + " stack for " + other.architecture());
        }
        return new Weights(this, other);
    }

    /** Every distinct parameter by a canonical name (shared tensors appear once). */
    public Map<String, Tensor> parameters() { return java.util.Collections.unmodifiableMap(named); }

    /**
     * Total number of scalar parameters: a 4-bit projection counts its (N, K) weights, as its dequantized matrix would,
     * not its codes, scales and zero points.
     */
    public long parameterCount() {
        Set<Tensor> packedParts = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        long n = 0;
        for (Int4 q : packed()) {
            n += q.rows() * q.cols();
            packedParts.addAll(q.parts());
        }
        for (Tensor t : named.values()) if (!packedParts.contains(t)) n += t.numel();
        return n;
    }

    /** The projections kept in 4 bits ({@link Packed4}: an AWQ / GPTQ folder's, on CUDA by default), in layer order. */
    public List<Int4> packed() {
        List<Int4> out = new ArrayList<>();
        for (Stack st : new Stack[] {encoder, decoder == encoder ? null : decoder}) {
            if (st == null) continue;
            for (Layer l : st.layers()) {
                for (Packed4 p : packed(l)) {
                    for (Int4 q : new Int4[] {p.q(), p.k(), p.v(), p.o()}) if (q != null) out.add(q);
                }
            }
        }
        return out;
    }

    /** A layer's 4-bit projections: its self-attention's, its dense MLP's, a mixture of experts' shared expert's. */
    private static List<Packed4> packed(Layer l) {
        List<Packed4> out = new ArrayList<>();
        if (l.self() != null && l.self().packed() != null) out.add(l.self().packed());
        Mlp m = l.mlp();
        if (m != null && m.packed() != null) out.add(m.packed());
        if (m != null && m.moe() != null && m.moe().shared() != null && m.moe().shared().packed() != null) out.add(m.moe().shared().packed());
        return out;
    }

    /**
     * The output matrix (V, C): lmHead, or the token table when tied.
     *
     * @throws IllegalStateException for an untied model loaded without its output matrix ({@link Pretrained#loadEncoder}
     *         on a decoder folder: hidden states only)
     */
    public Tensor outputMatrix() {
        if (lmHead == null && !config.tiedEmbeddings()) {
            throw new IllegalStateException("these weights hold no output matrix: the model is untied and was loaded without its"
                    + " lm_head (Pretrained.loadEncoder); load it with Pretrained.load for logits");
        }
        return lmHead != null ? lmHead : embeddings.tokens;
    }

    /**
     * The bytes these weights' tensors take (each tensor once, a tied or shared one too; views of a mapped checkpoint
     * included): 4-bit projections count their codes, scales and zero points.
     */
    public long bytes() {
        Set<Tensor> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        long total = 0;
        for (Tensor t : named.values()) if (seen.add(t)) total += t.numel() * t.dtype().byteSize();
        return total;
    }

    /** The dtype the weights are stored in, and the one a {@link Transformer} on them computes in. */
    public DType dtype() { return embeddings.tokens.dtype(); }

    /**
     * A copy of these weights in {@code dtype} (F32, F16 or BF16) on the same backend, for a
     * {@link Transformer} that computes in it: every matrix, bias and norm parameter is rounded to
     * {@code dtype} once (to nearest, ties to even), because the ops take them in the activations' dtype;
     * the T5 relative-bias tables and GPT-OSS's sinks stay F32, as the attention ops take them. Tensors shared here (a tied
     * output matrix, a stack shared under step 2) stay shared in the copy. The copy owns its tensors:
     * close both. Each tensor goes through native host memory (never a Java array), so the device holds
     * one extra tensor at a time.
     */
    public Weights to(DType dtype) {
        checkFloating(dtype);
        Set<Tensor> keepF32 = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        Set<Tensor> asStored = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());   // 4-bit codes, scales, zeros
        for (Stack st : new Stack[] {encoder, decoder}) {
            if (st == null) continue;
            if (st.relativeBias() != null) keepF32.add(st.relativeBias());
            for (Layer l : st.layers()) {
                for (Packed4 p : packed(l)) asStored.addAll(p.tensors());
                if (dtype == DType.F32 && backend.device().isCuda() && !packed(l).isEmpty()) {
                    throw new IllegalArgumentException("these weights keep 4-bit projections (an AWQ / GPTQ folder), which CUDA computes"
                            + " in F16 or BF16 only; load the folder with -Dt4j.quant=dequantize to compute in F32");
                }
                if (l.self() != null && l.self().sinks() != null) keepF32.add(l.self().sinks());
                Moe moe = l.mlp() == null ? null : l.mlp().moe();
                if (moe != null && moe.correctionBias() != null) keepF32.add(moe.correctionBias());
                if (moe != null && config.moe().routing().fp32Logits()) keepF32.add(moe.router());   // an fp32 router's matrix
            }
        }
        Map<Tensor, Tensor> copies = new java.util.IdentityHashMap<>();
        try (Uploader up = backend.uploader()) {
            Map<String, Tensor> named2 = new LinkedHashMap<>();
            for (Map.Entry<String, Tensor> e : named.entrySet()) {
                Tensor t = e.getValue();
                Tensor c = copies.get(t);
                if (c == null) {
                    c = convert(t, keepF32.contains(t) ? DType.F32 : t.dtype() == DType.U8 || asStored.contains(t) ? t.dtype() : dtype, up);   // MXFP4 bytes, 4-bit parts stay
                    copies.put(t, c);
                }
                named2.put(e.getKey(), c);
            }
            java.util.function.UnaryOperator<Tensor> m = t -> {
                if (t == null) return null;
                Tensor c = copies.get(t);
                if (c == null) throw new IllegalStateException("a tensor of the weights has no name: " + t);
                return c;
            };
            Embeddings emb = map(embeddings, m), encEmb = encoderEmbeddings == null ? null : map(encoderEmbeddings, m);
            Stack enc = map(encoder, m);
            if (enc != null && enc.relative() != null) {
                enc = new Stack(enc.layers(), enc.finalNorm(), enc.relativeBias(), Relative.derive(enc.relative(), enc.layers(), config, backend));
            }
            Stack dec = decoder == encoder ? enc : map(decoder, m);
            ClassifierHead ch = classifierHead;
            ClassifierHead cls = ch == null ? null : new ClassifierHead(m.apply(ch.pooler()), m.apply(ch.poolerBias()),
                    m.apply(ch.classifier()), m.apply(ch.classifierBias()), map(ch.norm(), m));
            MlmHead mh = mlmHead;
            MlmHead mlm = mh == null ? null : new MlmHead(m.apply(mh.dense()), m.apply(mh.denseBias()), map(mh.norm(), m),
                    m.apply(mh.outputBias()));
            LinearHead tok = tokenClassifier == null ? null : new LinearHead(m.apply(tokenClassifier.weight()), m.apply(tokenClassifier.bias()));
            LinearHead nsp = nextSentence == null ? null : new LinearHead(m.apply(nextSentence.weight()), m.apply(nextSentence.bias()));
            return new Weights(config, emb, enc, dec, m.apply(lmHead), cls, mlm, tok, nsp, encoderInfo, named2, backend, encEmb,
                    m.apply(outputBias));
        } catch (RuntimeException ex) {
            copies.values().forEach(Tensor::close);
            throw ex;
        }
    }

    private static Embeddings map(Embeddings e, java.util.function.UnaryOperator<Tensor> m) {
        return new Embeddings(m.apply(e.tokens()), m.apply(e.positions()), m.apply(e.types()), map(e.embeddingNorm(), m),
                m.apply(e.project()), m.apply(e.projectBias()));
    }

    /** Through native host memory only: a device tensor comes back to the host once, never as a Java array. */
    private Tensor convert(Tensor t, DType dtype, Uploader up) {
        if (!t.isCuda()) return up.upload(t, dtype);
        try (Tensor h = backend.toHost(t)) {
            return up.upload(h, dtype);
        }
    }

    /**
     * Makes {@link #close} also close {@code resource}, after the tensors: how {@link Pretrained#load}
     * keeps a memory-mapped checkpoint open while tensors of these weights view it.
     */
    Weights keepOpen(AutoCloseable resource) {
        if (!owner) throw new IllegalStateException("a view of weights cannot own a resource");
        keepAlive = resource;
        return this;
    }

    /** Whether some tensor here is a view of memory these weights do not own (a mapped checkpoint). */
    boolean viewsHostMemory() {
        for (Tensor t : named.values()) if (Uploader.isView(t)) return true;
        return false;
    }

    private static Norm map(Norm n, java.util.function.UnaryOperator<Tensor> m) {
        return n == null ? null : new Norm(m.apply(n.weight()), m.apply(n.bias()));
    }

    private static Attention map(Attention a, java.util.function.UnaryOperator<Tensor> m) {
        if (a == null) return null;
        Tensor o = m.apply(a.o()), ob = m.apply(a.ob());
        Norm qn = map(a.qNorm(), m), kn = map(a.kNorm(), m);
        if (a.packed() != null) {                                 // 4-bit projections: never fused
            return new Attention(m.apply(a.q()), m.apply(a.qb()), m.apply(a.k()), m.apply(a.kb()), m.apply(a.v()), m.apply(a.vb()),
                    o, ob, qn, kn, null, null, m.apply(a.sinks()), null, map(a.packed(), m));
        }
        long nq = a.q().shape(0), nkv = a.k().shape(0);
        if (a.qkv() != null) {                                    // the views follow their fused matrix's copy
            Fused f = map(a.qkv(), m);
            Fused q = f.rows(0, nq), k = f.rows(nq, nq + nkv), v = f.rows(nq + nkv, nq + 2 * nkv);
            return new Attention(q.weight(), q.bias(), k.weight(), k.bias(), v.weight(), v.bias(), o, ob, qn, kn, f,
                    f.rows(nq, nq + 2 * nkv), m.apply(a.sinks()));
        }
        if (a.kv() != null) {
            Fused f = map(a.kv(), m);
            Fused k = f.rows(0, nkv), v = f.rows(nkv, 2 * nkv);
            Mla mla = a.mla() == null ? null : new Mla(m.apply(a.mla().qA()), map(a.mla().qANorm(), m), m.apply(a.mla().kvA()),
                    map(a.mla().kvANorm(), m), m.apply(a.mla().kT()));
            return new Attention(m.apply(a.q()), m.apply(a.qb()), k.weight(), k.bias(), v.weight(), v.bias(), o, ob, qn, kn, null, f,
                    m.apply(a.sinks()), mla);
        }
        return new Attention(m.apply(a.q()), m.apply(a.qb()), m.apply(a.k()), m.apply(a.kb()), m.apply(a.v()), m.apply(a.vb()),
                o, ob, qn, kn, null, null, m.apply(a.sinks()));
    }

    private static Moe map(Moe e, java.util.function.UnaryOperator<Tensor> m) {
        return new Moe(m.apply(e.router()), m.apply(e.upGateRows()), m.apply(e.downRows()), e.shared() == null ? null : map(e.shared(), m),
                m.apply(e.sharedGate()), m.apply(e.routerBias()), m.apply(e.upGateBiasRows()), m.apply(e.downBiasRows()),
                map(e.upGateQ(), m), map(e.downQ(), m), m.apply(e.correctionBias()));
    }

    private static Packed4 map(Packed4 p, java.util.function.UnaryOperator<Tensor> m) {
        java.util.function.UnaryOperator<Int4> f = w -> w == null ? null
                : new Int4(m.apply(w.codes()), m.apply(w.scales()), m.apply(w.zeros()), m.apply(w.gidx()), w.groupSize());
        return p == null ? null : new Packed4(f.apply(p.q()), f.apply(p.k()), f.apply(p.v()), f.apply(p.o()));
    }

    private static Mxfp4 map(Mxfp4 q, java.util.function.UnaryOperator<Tensor> m) {
        return q == null ? null : new Mxfp4(m.apply(q.blocks()), m.apply(q.scales()));
    }

    private static Fused map(Fused f, java.util.function.UnaryOperator<Tensor> m) {
        return new Fused(m.apply(f.weight()), m.apply(f.bias()));
    }

    private static Mlp map(Mlp p, java.util.function.UnaryOperator<Tensor> m) {
        if (p.moe() != null) return Mlp.of(map(p.moe(), m));
        if (p.upGate() == null) {
            return new Mlp(m.apply(p.up()), m.apply(p.upb()), m.apply(p.gate()), m.apply(p.gateb()), m.apply(p.down()), m.apply(p.downb()),
                    null, null, map(p.packed(), m));
        }
        Fused f = map(p.upGate(), m);
        long n = p.up().shape(0);
        Fused up = f.rows(0, n), gate = f.rows(n, 2 * n);
        return new Mlp(up.weight(), up.bias(), gate.weight(), gate.bias(), m.apply(p.down()), m.apply(p.downb()), f);
    }

    private static Stack map(Stack st, java.util.function.UnaryOperator<Tensor> m) {
        if (st == null) return null;
        List<Layer> layers = new ArrayList<>();
        for (Layer l : st.layers()) {
            layers.add(new Layer(map(l.attnNorm(), m), map(l.self(), m), map(l.crossNorm(), m), map(l.cross(), m),
                    map(l.mlpNorm(), m), map(l.mlp(), m), map(l.postAttnNorm(), m), map(l.postMlpNorm(), m)));
        }
        Relative r = st.relative();
        Relative rel = null;
        if (r != null) {
            List<Tensor[]> own = null;
            if (r.own() != null) {
                own = new ArrayList<>();
                for (Tensor[] w : r.own()) own.add(java.util.Arrays.stream(w).map(m).toArray(Tensor[]::new));
            }
            rel = new Relative(m.apply(r.table()), map(r.norm(), m), own, null, null);   // keys and queries: Relative.derive
        }
        return new Stack(List.copyOf(layers), map(st.finalNorm(), m), m.apply(st.relativeBias()), rel);
    }

    static void checkFloating(DType dtype) {
        if (dtype == null || !dtype.isFloatingPoint()) {
            throw new IllegalArgumentException("a model computes in F32, F16 or BF16, not " + dtype);
        }
    }

    private volatile boolean closed;

    /** Whether {@link #close} was called; a Transformer over closed weights throws IllegalStateException. */
    public boolean isClosed() { return closed; }

    void checkOpen() {
        if (closed) throw new IllegalStateException("these Weights are closed (Weights.close was called): load or make them again");
    }

    @Override
    public void close() {
        closed = true;
        if (!owner) return;
        Set<Tensor> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (Tensor t : named.values()) if (seen.add(t)) t.close();
        for (Stack st : new Stack[] {encoder, decoder}) if (st != null && st.relative() != null) st.relative().close();
        if (ropeInvFreq != null) ropeInvFreq.close();
        if (ropeSlidingInvFreq != null) ropeSlidingInvFreq.close();
        if (alibiSlopes != null) alibiSlopes.close();
        AutoCloseable r = keepAlive;
        keepAlive = null;
        if (r != null) {
            try {
                r.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing the checkpoint these weights viewed: " + e.getMessage(), e);
            }
        }
    }

    // ---- random initialisation ------------------------------------------------------------------

    /**
     * Random weights for {@code config} from {@code seed}: matrices N(0, std²) with std = 0.5/sqrt(in)
     * (large enough that attention is far from uniform), norm scales 1 + N(0, 0.1²), biases
     * N(0, 0.02²). {@code classes} > 0 adds a classifier head; encoder-only models get an MLM head.
     */
    public static Weights random(TransformerConfig config, Backend backend, long seed, int classes) {
        return random(config, backend, seed, classes, Fusion.current());
    }

    /**
     * Random weights built under {@code fusion} instead of {@code -Dt4j.fuse} (benchmarks and tests compare fused
     * and separate projections: the values are the same either way, drawn in the same order).
     */
    public static Weights random(TransformerConfig config, Backend backend, long seed, int classes, Fusion fusion) {
        if (classes < 0 || classes > 0 && config.architecture() != TransformerConfig.Architecture.ENCODER_ONLY) {
            throw new IllegalArgumentException("a classifier head (" + classes + " classes) is for encoder-only models with"
                    + " classes ≥ 1; this config is " + config.architecture());
        }
        Init init = new Init(backend, new SplittableRandom(seed), fusion);
        return build(config, init, classes);
    }

    /** Random weights without a classifier head. */
    public static Weights random(TransformerConfig config, Backend backend, long seed) {
        return random(config, backend, seed, 0);
    }

    /**
     * Makes or looks up each named tensor; random init and loaders share the structure below. Matrices and
     * vectors come in the weights' dtype, T5 relative-bias tables in F32 (the attention ops take them so).
     */
    interface Source {
        Tensor matrix(String name, int out, int in);
        Tensor vector(String name, int n, float mean, float std);
        /** A T5 relative-position table (buckets, NH), F32. */
        Tensor biasTable(String name, int buckets, int heads);

        /** GPT-OSS's attention sinks (NH), F32 in every compute dtype. */
        Tensor sinks(String name, int heads);

        /** DeepSeek-V3's router correction bias (E), F32 in every compute dtype (the router takes it so). */
        default Tensor vectorF32(String name, int n) { return sinks(name, n); }

        /**
         * An fp32 router's matrix (out, in), F32 in every compute dtype ({@link TransformerConfig.Routing#fp32Logits}): taken as
         * a T5 table is, an F32 matrix whatever the weights' dtype.
         */
        default Tensor matrixF32(String name, int out, int in) { return biasTable(name, out, in); }

        /**
         * MLA's fused [K ; V] (2·NH·HS, ropeDim + kvLoraRank) over the latent [k_pe ; c]: a loader's is built from kv_b_proj
         * (HfDeepseek.kv: each head's pe rows the identity on k_pe, every other row zero over k_pe, which the latent decode
         * relies on).
         */
        default Tensor mlaKv(String name, TransformerConfig c) {
            return matrix(name, 2 * c.innerWidth(), c.mla().ropeDim() + c.mla().kvLoraRank());
        }

        /**
         * A stack of {@code groups} (rows, cols) matrices kept in MXFP4 under {@code name}.blocks / .scales, or null where the
         * source holds them dense (random weights; a dequantized folder; gpt-oss on a backend that decodes them at load).
         */
        default Mxfp4 mxfp4(String name, int groups, int rows, int cols) { return null; }

        /**
         * Whether the projection {@code name} (out, in) can be kept in 4 bits ({@link #int4}): an AWQ or GPTQ folder's 4-bit
         * projection, loaded for F16 or BF16 compute, unless -Dt4j.quant=dequantize. False for random weights.
         */
        default boolean packs(String name) { return false; }

        /** The projection {@code name} (out, in) in 4 bits on the backend; only where {@link #packs}. */
        default Int4 int4(String name, int out, int in) { throw new UnsupportedOperationException(name + " is not kept in 4 bits"); }
        Map<String, Tensor> named();
        Backend backend();

        /** The fusion policy these weights are built under. */
        default Fusion fusion() { return Fusion.current(); }

        /**
         * The row blocks {@code parts[i]} (outs[i], in), each followed by its bias {@code parts[i].bias}
         * (outs[i]) when {@code bias}, in that order (random weights draw them so, fused or not); when
         * {@code fuse}, concatenated into one matrix {@code name} (+ {@code name.bias}) whose row views
         * they become. Null entries: a part the loader reported missing.
         */
        default Projection projection(String name, String[] parts, int[] outs, int in, boolean bias, boolean fuse) {
            Tensor[] w = new Tensor[parts.length], b = new Tensor[parts.length];
            for (int i = 0; i < parts.length; i++) {
                w[i] = matrix(parts[i], outs[i], in);
                if (bias) b[i] = vector(parts[i] + ".bias", outs[i], 0f, 0.02f);
            }
            if (!fuse || fusion() == Fusion.SEPARATE) return new Projection(null, w, b);
            Tensor fw = concat(name, parts, w);
            if (fw == null) return new Projection(null, w, b);
            String[] biasNames = java.util.Arrays.stream(parts).map(x -> x + ".bias").toArray(String[]::new);
            Tensor fb = bias ? concat(name + ".bias", biasNames, b) : null;
            return Projection.of(new Fused(fw, fb), outs);
        }

        /**
         * The experts' matrices {@code parts} (rows each, in), in order, as one tensor {@code name}
         * (parts·rows, in) — always, whatever the fusion policy (the grouped expert GEMMs need them
         * stacked); null when a part is missing. A checkpoint that stores them stacked (transformers 5.x's
         * gate_up_proj / down_proj) is taken whole by the loader's override.
         */
        default Tensor stacked(String name, String[] parts, int rows, int in) {
            Tensor[] w = new Tensor[parts.length];
            for (int i = 0; i < parts.length; i++) w[i] = matrix(parts[i], rows, in);
            return concat(name, parts, w);
        }

        /**
         * One tensor {@code name} (Σ rows, …) holding {@code rows} one after another, which it replaces among
         * the named tensors (they are closed: nothing stays resident twice); null when a part is missing or
         * when this source keeps the parts apart. Costs one device (or host) copy of each part, at load.
         */
        default Tensor concat(String name, String[] partNames, Tensor[] rows) {
            for (Tensor t : rows) if (t == null) return null;
            long total = 0;
            for (Tensor t : rows) total += t.shape(0);
            long[] shape = rows[0].shape();
            shape[0] = total;
            Tensor out = backend().empty(rows[0].dtype(), shape);
            long at = 0;
            for (Tensor t : rows) {
                backend().copy(t, out.slice(0, at, at + t.shape(0)));
                at += t.shape(0);
            }
            named().put(name, out);
            for (int i = 0; i < rows.length; i++) {
                named().remove(partNames[i]);
                rows[i].close();                                     // a device part goes back to the pool in stream order
            }
            return out;
        }
    }

    /** The blocks of one projection: {@code fused} and the parts' row views of it, or the parts alone (fused null). */
    record Projection(Fused fused, Tensor[] weights, Tensor[] biases) {
        static Projection of(Fused f, int[] outs) {
            Tensor[] w = new Tensor[outs.length], b = new Tensor[outs.length];
            long at = 0;
            for (int i = 0; i < outs.length; i++) {
                Fused r = f.rows(at, at + outs[i]);
                w[i] = r.weight();
                b[i] = r.bias();
                at += outs[i];
            }
            return new Projection(f, w, b);
        }
    }

    private static final class Init implements Source {
        final Backend backend;
        final SplittableRandom rnd;
        final Map<String, Tensor> named = new LinkedHashMap<>();
        final Fusion fusion;

        Init(Backend backend, SplittableRandom rnd, Fusion fusion) { this.backend = backend; this.rnd = rnd; this.fusion = fusion; }

        @Override
        public Fusion fusion() { return fusion; }

        @Override
        public Tensor matrix(String name, int out, int in) {
            return put(name, gaussian(out * in, 0f, (float) (0.5 / Math.sqrt(in))), out, in);
        }

        @Override
        public Tensor vector(String name, int n, float mean, float std) { return put(name, gaussian(n, mean, std), n); }

        @Override
        public Tensor biasTable(String name, int buckets, int heads) { return matrix(name, buckets, heads); }

        @Override
        public Tensor sinks(String name, int heads) { return vector(name, heads, 0f, 1f); }

        @Override
        public Tensor vectorF32(String name, int n) { return vector(name, n, 0f, 0.1f); }

        /** Random, in a real MLA's form (see {@link Source#mlaKv}): the pe rows the identity on k_pe, the others zero there. */
        @Override
        public Tensor mlaKv(String name, TransformerConfig c) {
            int nh = c.heads(), hs = c.headSize(), rope = c.mla().ropeDim(), in = rope + c.mla().kvLoraRank(), rows = 2 * nh * hs;
            float[] a = gaussian(rows * in, 0f, (float) (0.5 / Math.sqrt(in)));
            for (int r = 0; r < rows; r++) {
                boolean pe = r < nh * hs && r % hs < rope;                                     // a K row of a head's pe dims
                for (int x = 0; x < rope; x++) a[r * in + x] = pe && x == r % hs ? 1f : 0f;
                if (pe) java.util.Arrays.fill(a, r * in + rope, (r + 1) * in, 0f);
            }
            return put(name, a, rows, in);
        }

        @Override
        public Backend backend() { return backend; }

        private float[] gaussian(int n, float mean, float std) {
            float[] a = new float[n];
            for (int i = 0; i < n; i++) {
                // Box–Muller from the seeded stream (SplittableRandom has no nextGaussian before Java 17's RandomGenerator).
                double u = 1 - rnd.nextDouble(), w = rnd.nextDouble();
                a[i] = mean + std * (float) (Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * w));
            }
            return a;
        }

        private Tensor put(String name, float[] data, long... shape) {
            try (Tensor host = Tensor.ofFloats(data, shape)) {
                Tensor t = backend.upload(host);
                named.put(name, t);
                return t;
            }
        }

        @Override
        public Map<String, Tensor> named() { return named; }
    }

    static Weights build(TransformerConfig c, Source s, int classes) { return build(c, s, classes, true); }

    /** The same; {@code head} false builds no output matrix for an untied model (hidden states only). */
    static Weights build(TransformerConfig c, Source s, int classes, boolean head) {
        return build(c, s, classes, head, EncoderInfo.BERT);
    }

    /** The same with the folder's {@code info} (an encoder-decoder classifier's labels and problem type). */
    static Weights build(TransformerConfig c, Source s, int classes, boolean head, EncoderInfo info) {
        int cw = c.modelWidth(), inner = c.innerWidth(), kv = c.kvHeads() * c.headSize(), f = c.mlpWidth();
        Tensor tokens = s.matrix("embeddings.tokens", c.vocabSize(), cw);
        Tensor positions = c.positions() == TransformerConfig.Positions.LEARNED_ABSOLUTE
                ? s.matrix("embeddings.positions", c.maxPositions(), cw) : null;
        Tensor types = c.typeVocabSize() > 0 ? s.matrix("embeddings.types", c.typeVocabSize(), cw) : null;
        Norm embNorm = c.embeddingNorm() ? norm(s, c, "embeddings.norm") : null;
        Embeddings emb = new Embeddings(tokens, positions, types, embNorm);
        TransformerConfig.BartEmbeddings bart = c.bart();
        Embeddings encEmb = bart == null || !bart.perStack() ? null                     // BART, mBART: the encoder's own table and norm
                : new Embeddings(tokens, s.matrix("encoder.embeddings.positions", c.maxPositions(), cw), null,
                        bart.norm() ? norm(s, c, "encoder.embeddings.norm") : null);

        // Decoder layers of an encoder-decoder carry cross-attention unless step 1 merged it into self-attention;
        // under step 2 the one shared stack carries it, and only the decoder role uses it.
        boolean cross = c.architecture() == TransformerConfig.Architecture.ENCODER_DECODER && !c.shareCrossAndSelfAttention();
        Stack encoder, decoder;
        if (c.shareEncoderDecoderParams()) {
            encoder = decoder = stack(s, c, "stack", c.encoderLayers(), cross);
        } else {
            encoder = c.encoderLayers() > 0 ? stack(s, c, "encoder", c.encoderLayers(), false) : null;
            decoder = c.decoderLayers() > 0 ? stack(s, c, "decoder", c.decoderLayers(), cross) : null;
        }
        Tensor lmHead = c.tiedEmbeddings() || !head ? null : s.matrix("lm_head", c.vocabSize(), cw);
        ClassifierHead cls = null;
        MlmHead mlm = null;
        if (c.architecture() == TransformerConfig.Architecture.ENCODER_ONLY) {
            Tensor pooler = s.matrix("pooler.dense", cw, cw);
            Tensor poolerBias = s.vector("pooler.dense.bias", cw, 0f, 0.02f);
            Tensor classifier = classes > 0 ? s.matrix("classifier", classes, cw) : null;
            Tensor classifierBias = classes > 0 ? s.vector("classifier.bias", classes, 0f, 0.02f) : null;
            cls = new ClassifierHead(pooler, poolerBias, classifier, classifierBias);
            mlm = new MlmHead(s.matrix("mlm.dense", cw, cw), s.vector("mlm.dense.bias", cw, 0f, 0.02f),
                    new Norm(s.vector("mlm.norm.weight", cw, 1f, 0.1f), s.vector("mlm.norm.bias", cw, 0f, 0.02f)),
                    s.vector("mlm.output.bias", c.vocabSize(), 0f, 0.02f));
        } else if (classes > 0) {     // BartForSequenceClassification's classification_head: dense, tanh, out_proj
            cls = new ClassifierHead(s.matrix("pooler.dense", cw, cw), s.vector("pooler.dense.bias", cw, 0f, 0.02f),
                    s.matrix("classifier", classes, cw), s.vector("classifier.bias", classes, 0f, 0.02f));
        }
        Tensor outBias = (bart != null && bart.outputBias() || c.headBias()) && head ? s.vector("output.bias", c.vocabSize(), 0f, 0.02f) : null;
        return new Weights(c, emb, encoder, decoder, lmHead, cls, mlm, null, null, info, s.named(), s.backend(), encEmb, outBias);
    }

    /** A dense MLP of width f under the names p.up, p.gate, p.down (+ .bias); gated: [up ; gate] fused where allowed. */
    private static Mlp mlp(Source s, TransformerConfig c, String p, int f) {
        int cw = c.modelWidth();
        boolean b = c.mlpBias();
        if (s.packs(p + ".up") && (!c.gatedMlp() || s.packs(p + ".gate")) && s.packs(p + ".down")) {   // AWQ / GPTQ: kept in 4 bits
            Int4 up = s.int4(p + ".up", f, cw);
            Tensor upb = b ? s.vector(p + ".up.bias", f, 0f, 0.02f) : null;
            Int4 gate = c.gatedMlp() ? s.int4(p + ".gate", f, cw) : null;
            Tensor gateb = c.gatedMlp() && b ? s.vector(p + ".gate.bias", f, 0f, 0.02f) : null;
            Int4 down = s.int4(p + ".down", cw, f);
            Tensor downb = b ? s.vector(p + ".down.bias", cw, 0f, 0.02f) : null;
            return new Mlp(null, upb, null, gateb, null, downb, null, null, new Packed4(up, gate, null, down));
        }
        // gated: [up ; gate] fused, the gated op's two products from one matrix (T5 v1.1, the Llama family)
        Projection ug = c.gatedMlp()
                ? s.projection(p + ".up_gate", new String[] {p + ".up", p + ".gate"}, new int[] {f, f}, cw, b, true)
                : s.projection(p + ".up", new String[] {p + ".up"}, new int[] {f}, cw, b, false);
        Tensor down = s.matrix(p + ".down", cw, f), downb = b ? s.vector(p + ".down.bias", cw, 0f, 0.02f) : null;
        return c.gatedMlp()
                ? new Mlp(ug.weights()[0], ug.biases()[0], ug.weights()[1], ug.biases()[1], down, downb, ug.fused())
                : new Mlp(ug.weights()[0], ug.biases()[0], null, null, down, downb);
    }

    /**
     * A layer's experts under p.router (E, C), p.expert.e.{up, gate} (F, C) stacked as p.up_gate (E·2F, C) and
     * p.expert.e.down (C, F) stacked as p.down (E·C, F); Qwen2-MoE's shared expert under p.shared.* and p.shared_gate.
     */
    private static Moe moe(Source s, TransformerConfig c, String p) {
        TransformerConfig.Moe m = c.moe();
        int cw = c.modelWidth(), f = m.expertWidth(), e = m.experts();
        Tensor router = m.routing().fp32Logits() ? s.matrixF32(p + ".router", e, cw) : s.matrix(p + ".router", e, cw);
        String[] ug = new String[2 * e], dn = new String[e];
        for (int x = 0; x < e; x++) {
            ug[2 * x] = p + ".expert." + x + ".up";
            ug[2 * x + 1] = p + ".expert." + x + ".gate";
            dn[x] = p + ".expert." + x + ".down";
        }
        Mxfp4 upGateQ = s.mxfp4(p + ".up_gate.q", e, 2 * f, cw), downQ = upGateQ == null ? null : s.mxfp4(p + ".down.q", e, cw, f);
        Tensor upGate = upGateQ != null ? null : s.stacked(p + ".up_gate", ug, f, cw);
        Tensor down = upGateQ != null ? null : s.stacked(p + ".down", dn, cw, f);
        Mlp shared = m.sharedWidth() > 0 ? mlp(s, c, p + ".shared", m.sharedWidth()) : null;
        Tensor sharedGate = m.sharedGate() ? s.matrix(p + ".shared_gate", 1, cw) : null;
        Tensor routerBias = null, upGateBias = null, downBias = null;
        if (m.biases()) {                                                                    // GPT-OSS
            routerBias = s.vector(p + ".router.bias", e, 0f, 0.1f);
            upGateBias = s.vector(p + ".up_gate.bias", 2 * e * f, 0f, 0.1f);
            downBias = s.vector(p + ".down.bias", e * cw, 0f, 0.1f);
        }
        Tensor correction = m.routing().correctionBias() ? s.vectorF32(p + ".router.correction_bias", e) : null;
        return new Moe(router, upGate, down, shared, sharedGate, routerBias, upGateBias, downBias, upGateQ, downQ, correction);
    }

    private static Norm norm(Source s, TransformerConfig c, String name) {
        boolean bias = c.norm() == TransformerConfig.NormKind.LAYER_NORM && c.biases();
        return new Norm(s.vector(name + ".weight", c.modelWidth(), 1f, 0.1f),
                bias ? s.vector(name + ".bias", c.modelWidth(), 0f, 0.02f) : null);
    }

    /**
     * A self-attention fuses [q ; k ; v] (one input), a cross-attention [k ; v] (the memory's; q reads the
     * decoder). Qwen3's qkNorm keeps them apart: its per-head norms take q and k as rows of one stride each.
     */
    private static Attention attention(Source s, TransformerConfig c, String p, boolean self) {
        if (self && c.mla() != null) return mla(s, c, p);
        int cw = c.modelWidth(), inner = c.innerWidth(), kv = c.kvHeads() * c.headSize();
        boolean b = c.qkvBias(), ob = c.outBias();
        if (self && s.packs(p + ".q") && s.packs(p + ".k") && s.packs(p + ".v") && s.packs(p + ".o")) {   // AWQ / GPTQ: in 4 bits
            Int4 q = s.int4(p + ".q", inner, cw);
            Tensor qb = b ? s.vector(p + ".q.bias", inner, 0f, 0.02f) : null;
            Int4 k = s.int4(p + ".k", kv, cw);
            Tensor kb = b ? s.vector(p + ".k.bias", kv, 0f, 0.02f) : null;
            Int4 v = s.int4(p + ".v", kv, cw);
            Tensor vb = b ? s.vector(p + ".v.bias", kv, 0f, 0.02f) : null;
            Int4 o = s.int4(p + ".o", cw, inner);
            Tensor obias = ob ? s.vector(p + ".o.bias", cw, 0f, 0.02f) : null;
            Norm qn = c.qkNorm() ? new Norm(s.vector(p + ".q_norm.weight", c.qkNormWide() ? inner : c.headSize(), 1f, 0.1f), null) : null;
            Norm kn = c.qkNorm() ? new Norm(s.vector(p + ".k_norm.weight", c.qkNormWide() ? kv : c.headSize(), 1f, 0.1f), null) : null;
            return new Attention(null, qb, null, kb, null, vb, null, obias, qn, kn, null, null,
                    c.attentionSinks() ? s.sinks(p + ".sinks", c.heads()) : null, null, new Packed4(q, k, v, o));
        }
        Projection qkv, kvp;
        Tensor q, qb;
        if (self) {
            qkv = s.projection(p + ".qkv", new String[] {p + ".q", p + ".k", p + ".v"}, new int[] {inner, kv, kv}, cw, b, !c.qkNorm());
            q = qkv.weights()[0];
            qb = qkv.biases()[0];
            kvp = qkv.fused() == null ? null : Projection.of(qkv.fused().rows(inner, inner + 2L * kv), new int[] {kv, kv});
        } else {
            qkv = null;
            q = s.matrix(p + ".q", inner, cw);
            qb = b ? s.vector(p + ".q.bias", inner, 0f, 0.02f) : null;
            kvp = s.projection(p + ".kv", new String[] {p + ".k", p + ".v"}, new int[] {kv, kv}, cw, b, !c.qkNorm());
        }
        Tensor[] kvw = kvp != null ? kvp.weights() : new Tensor[] {qkv.weights()[1], qkv.weights()[2]};
        Tensor[] kvb = kvp != null ? kvp.biases() : new Tensor[] {qkv.biases()[1], qkv.biases()[2]};
        Tensor o = s.matrix(p + ".o", cw, inner), obias = ob ? s.vector(p + ".o.bias", cw, 0f, 0.02f) : null;
        Norm qn = c.qkNorm() ? new Norm(s.vector(p + ".q_norm.weight", c.qkNormWide() ? inner : c.headSize(), 1f, 0.1f), null) : null;
        Norm kn = c.qkNorm() ? new Norm(s.vector(p + ".k_norm.weight", c.qkNormWide() ? kv : c.headSize(), 1f, 0.1f), null) : null;
        return new Attention(q, qb, kvw[0], kvb[0], kvw[1], kvb[1], o, obias, qn, kn,
                qkv == null ? null : qkv.fused(), kvp == null ? null : kvp.fused(), self && c.attentionSinks() ? s.sinks(p + ".sinks", c.heads()) : null);
    }

    /** An MLA self-attention ({@link Mla}): its kv is one fused [K ; V] over the latent, K and V row views of it. */
    private static Attention mla(Source s, TransformerConfig c, String p) {
        TransformerConfig.Mla m = c.mla();
        int cw = c.modelWidth(), inner = c.innerWidth(), in = m.kvLoraRank() + m.ropeDim();
        Tensor qA = m.qLoraRank() > 0 ? s.matrix(p + ".q_a", m.qLoraRank(), cw) : null;
        Norm qANorm = qA == null ? null : new Norm(s.vector(p + ".q_a_norm.weight", m.qLoraRank(), 1f, 0.1f), null);
        Tensor q = s.matrix(p + ".q", inner, qA == null ? cw : m.qLoraRank());
        Tensor kvA = s.matrix(p + ".kv_a", in, cw);
        Norm kvANorm = new Norm(s.vector(p + ".kv_a_norm.weight", m.kvLoraRank(), 1f, 0.1f), null);
        Fused kv = new Fused(s.mlaKv(p + ".kv", c), null);
        Tensor o = s.matrix(p + ".o", cw, inner);
        Tensor k = kv.rows(0, inner).weight();
        return new Attention(q, null, k, null, kv.rows(inner, 2L * inner).weight(), null, o, null, null, null,
                null, kv, null, new Mla(qA, qANorm, kvA, kvANorm, Transformer.latentRuns(s.backend(), in) ? headsTransposed(s, p + ".kv_t", k, c) : null));
    }

    /** K's head rows (NH·HS, W) as (NH·W, HS), head h's block its K_hᵀ; named, so that it converts and closes with the rest. */
    private static Tensor headsTransposed(Source s, String name, Tensor k, TransformerConfig c) {
        if (k == null) return null;                                                             // missing: the loader reports it
        int nh = c.heads(), hs = c.headSize(), w = (int) k.shape(1);
        Backend b = s.backend();
        float[] a;
        if (k.isCuda()) {
            try (Tensor h = b.toHost(k)) { a = h.toFloatArray(); }
        } else {
            a = k.toFloatArray();
        }
        float[] t = new float[a.length];
        for (int h = 0; h < nh; h++) {
            for (int j = 0; j < hs; j++) for (int x = 0; x < w; x++) t[((h * w) + x) * hs + j] = a[((h * hs) + j) * w + x];
        }
        try (Tensor host = Tensor.of(k.dtype(), t, (long) nh * w, hs)) {
            Tensor up = b.upload(host);
            s.named().put(name, up);
            return up;
        }
    }

    private static Stack stack(Source s, TransformerConfig c, String name, int n, boolean cross) {
        List<Layer> layers = new ArrayList<>();
        int f = c.mlpWidth();
        for (int i = 0; i < n; i++) {
            String p = name + "." + i;
            Norm attnNorm = c.inputNorms() && (i > 0 || c.firstAttnNorm()) ? norm(s, c, p + ".attn_norm") : null;
            Attention self = attention(s, c, p + ".self", true);
            Norm crossNorm = cross ? norm(s, c, p + ".cross_norm") : null;
            Attention crossAttn = cross ? attention(s, c, p + ".cross", false) : null;
            // Phi's one input norm feeds attention and MLP alike (ParallelBlock.SHARED_NORM): no norm of the MLP's own
            Norm mlpNorm = c.inputNorms() && c.parallel() != TransformerConfig.ParallelBlock.SHARED_NORM ? norm(s, c, p + ".mlp_norm") : null;
            Mlp mlp = c.moeAt(i) ? Mlp.of(moe(s, c, p + ".moe")) : mlp(s, c, p + ".mlp", f);
            Norm postAttn = c.sandwichNorms() ? norm(s, c, p + ".post_attn_norm") : null;
            Norm postMlp = c.sandwichNorms() ? norm(s, c, p + ".post_mlp_norm") : null;
            layers.add(new Layer(attnNorm, self, crossNorm, crossAttn, mlpNorm, mlp, postAttn, postMlp));
        }
        Norm fin = c.normPlacement() == TransformerConfig.NormPlacement.PRE ? norm(s, c, name + ".final_norm") : null;
        Tensor rel = c.relativeBuckets() > 0 ? s.biasTable(name + ".relative_bias", c.relativeBuckets(), c.heads()) : null;   // T5, MPNet
        Relative dis = null;
        TransformerConfig.Disentangled d = c.disentangled();
        if (d != null && !cross) {                                                           // DeBERTa
            int cw = c.modelWidth(), inner = c.innerWidth();
            Tensor table = s.matrix(name + ".rel_embeddings", 2 * d.span(), cw);
            Norm relNorm = d.normEmbeddings() ? norm(s, c, name + ".rel_norm") : null;
            List<Tensor[]> own = null;
            if (!d.shareKey()) {
                own = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    String p = name + "." + i + ".self.";
                    own.add(new Tensor[] {d.c2p() ? s.matrix(p + "pos_k", inner, cw) : null, d.c2p() ? s.vector(p + "pos_k.bias", inner, 0f, 0.02f) : null,
                            d.p2c() ? s.matrix(p + "pos_q", inner, cw) : null, d.p2c() ? s.vector(p + "pos_q.bias", inner, 0f, 0.02f) : null});
                }
            }
            dis = Relative.derive(new Relative(table, relNorm, own, null, null), layers, c, s.backend());
        }
        return new Stack(List.copyOf(layers), fin, rel, dis);
    }

    // ---- Hugging Face checkpoints (the loaders are in HfWeights) ----------------------------------

    /**
     * BERT weights from a Hugging Face BertModel map (names as {@code HfLayout.bert} lists them, without
     * the {@code bert.} prefix; matrices (out, in) as nn.Linear stores them — BertOnnxImporter's output),
     * copied key for key onto the backend. Every key the model uses must be present with its shape;
     * a key left over (other than the optional pooler) is an error listing it. {@code config} must be
     * an encoder-only, post-LN LayerNorm config with learned positions and token types.
     */
    public static Weights fromHfBert(TransformerConfig config, Map<String, Tensor> hf, Backend backend) {
        return fromHfBert(config, hf, backend, DType.F32);
    }

    /** The same, with every tensor rounded to {@code dtype} on the host before it is uploaded (see {@link #to}). */
    public static Weights fromHfBert(TransformerConfig config, Map<String, Tensor> hf, Backend backend, DType dtype) {
        return HfWeights.bert(config, hf, backend, dtype);
    }

    /**
     * GPT-2 weights from a Hugging Face GPT2Model / GPT2LMHeadModel map (names as {@code HfLayout.gpt2}
     * lists them, without the {@code transformer.} prefix). The Conv1D weights are stored [in, out] and
     * transposed here; the fused c_attn (C, 3C) is split into q, k and v. {@code lm_head.weight}, when
     * present, is accepted as the tied copy (tiedEmbeddings) or used as the output matrix (untied).
     */
    public static Weights fromHfGpt2(TransformerConfig config, Map<String, Tensor> hf, Backend backend) {
        return fromHfGpt2(config, hf, backend, DType.F32);
    }

    /** The same, with every tensor rounded to {@code dtype} on the host before it is uploaded (see {@link #to}). */
    public static Weights fromHfGpt2(TransformerConfig config, Map<String, Tensor> hf, Backend backend, DType dtype) {
        return HfWeights.gpt2(config, hf, backend, dtype);
    }

    /**
     * T5 weights (v1.0: ReLU, tied output; v1.1 / Flan-T5: gated, untied lm_head) from a Hugging Face
     * T5Model / T5ForConditionalGeneration map (names as {@code HfLayout.t5} lists them). All matrices are
     * nn.Linear (out, in); the relative-position table lives in block 0 of each stack and serves the
     * stack; the token table is {@code shared.weight} (or an {@code embed_tokens} copy of it).
     */
    public static Weights fromHfT5(TransformerConfig config, Map<String, Tensor> hf, Backend backend) {
        return fromHfT5(config, hf, backend, DType.F32);
    }

    /** The same, with every tensor rounded to {@code dtype} on the host before it is uploaded (see {@link #to}). */
    public static Weights fromHfT5(TransformerConfig config, Map<String, Tensor> hf, Backend backend, DType dtype) {
        return HfWeights.t5(config, hf, backend, dtype);
    }

    /**
     * The encoder families' structure (BERT, RoBERTa, XLM-RoBERTa, DistilBERT) with the heads the folder
     * carries: {@code heads} names which of "pooler", "classifier", "tokens", "mlm", "nsp" to build.
     */
    static Weights buildEncoder(TransformerConfig c, Source s, Set<String> heads, int labels, EncoderInfo info) {
        int cw = c.modelWidth();
        boolean learned = c.positions() == TransformerConfig.Positions.LEARNED_ABSOLUTE;     // ModernBERT: rotary, no table
        int ew = c.embeddingTableWidth();                                                     // ELECTRA's, ALBERT's embedding_size
        boolean project = ew != cw || info.family().equals("albert");                       // ALBERT projects at any width
        Norm embNorm = ew == cw ? norm(s, c, "embeddings.norm")
                : new Norm(s.vector("embeddings.norm.weight", ew, 1f, 0.1f), s.vector("embeddings.norm.bias", ew, 0f, 0.02f));
        Embeddings emb = new Embeddings(s.matrix("embeddings.tokens", c.vocabSize(), ew),
                learned ? s.matrix("embeddings.positions", c.maxPositions(), ew) : null,
                c.typeVocabSize() > 0 ? s.matrix("embeddings.types", c.typeVocabSize(), ew) : null,
                embNorm, project ? s.matrix("embeddings.project", cw, ew) : null,
                project ? s.vector("embeddings.project.bias", cw, 0f, 0.02f) : null);
        Stack enc = stack(s, c, "encoder", c.encoderLayers(), false);
        boolean pooler = heads.contains("pooler"), classifier = heads.contains("classifier"), modern = info.modernBert();
        boolean hb = info.headBias();
        ClassifierHead cls = pooler ? new ClassifierHead(s.matrix("pooler.dense", cw, cw), hb ? s.vector("pooler.dense.bias", cw, 0, 0) : null,
                classifier ? s.matrix("classifier", labels, cw) : null, classifier ? s.vector("classifier.bias", labels, 0, 0) : null,
                modern ? norm(s, c, "pooler.norm") : null)
                : null;
        LinearHead tok = heads.contains("tokens")
                ? new LinearHead(s.matrix("tokens.classifier", labels, cw), s.vector("tokens.classifier.bias", labels, 0, 0)) : null;
        // the masked-LM head works at the token table's width (ALBERT's dense to embedding_size; BERT's: hidden_size)
        MlmHead mlm = heads.contains("mlm") ? new MlmHead(s.matrix("mlm.dense", ew, cw), hb ? s.vector("mlm.dense.bias", ew, 0, 0) : null,
                modern ? norm(s, c, "mlm.norm") : new Norm(s.vector("mlm.norm.weight", ew, 1, 0), s.vector("mlm.norm.bias", ew, 0, 0)),
                s.vector("mlm.output.bias", c.vocabSize(), 0, 0)) : null;
        LinearHead nsp = heads.contains("nsp") ? new LinearHead(s.matrix("nsp", 2, cw), s.vector("nsp.bias", 2, 0, 0)) : null;
        Tensor lmHead = mlm != null && !c.tiedEmbeddings() ? s.matrix("lm_head", c.vocabSize(), ew) : null;   // (V, E)
        return new Weights(c, emb, enc, null, lmHead, cls, mlm, tok, nsp, info, s.named(), s.backend());
    }

    static Weights buildBert(TransformerConfig c, Source s, boolean pooler) {
        int cw = c.modelWidth();
        Embeddings emb = new Embeddings(s.matrix("embeddings.tokens", c.vocabSize(), cw),
                s.matrix("embeddings.positions", c.maxPositions(), cw),
                c.typeVocabSize() > 0 ? s.matrix("embeddings.types", c.typeVocabSize(), cw) : null,
                norm(s, c, "embeddings.norm"));
        Stack enc = stack(s, c, "encoder", c.encoderLayers(), false);
        ClassifierHead cls = pooler ? new ClassifierHead(s.matrix("pooler.dense", cw, cw), s.vector("pooler.dense.bias", cw, 0, 0),
                null, null) : null;
        return new Weights(c, emb, enc, null, null, cls, null, s.named(), s.backend());
    }
}
