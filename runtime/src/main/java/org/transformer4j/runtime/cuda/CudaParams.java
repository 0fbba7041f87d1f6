// CudaParams — per-family packing of the C params structs (t4j.h) from validated ops: one method
// per family fills its struct field by field from the op and its Shape, so CudaBackend reads as
// validate → pack → launch.
package org.transformer4j.runtime.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.transformer4j.bindings.t4j_attention_params;
import org.transformer4j.bindings.t4j_bias_act_params;
import org.transformer4j.bindings.t4j_cross_entropy_params;
import org.transformer4j.bindings.t4j_decode_params;
import org.transformer4j.bindings.t4j_embedding_params;
import org.transformer4j.bindings.t4j_h;
import org.transformer4j.bindings.t4j_kv_append_params;
import org.transformer4j.bindings.t4j_rope_params;
import org.transformer4j.bindings.t4j_linear_params;
import org.transformer4j.bindings.t4j_norm_params;
import org.transformer4j.bindings.t4j_penalty_params;
import org.transformer4j.bindings.t4j_sample_params;
import org.transformer4j.bindings.t4j_sample_row;
import org.transformer4j.bindings.t4j_softmax_params;
import org.transformer4j.runtime.AttentionOp;
import org.transformer4j.runtime.CrossEntropyOp;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.DecodeOp;
import org.transformer4j.runtime.DisentangledBias;
import org.transformer4j.runtime.EmbeddingOp;
import org.transformer4j.runtime.KvAppendOp;
import org.transformer4j.runtime.RopeOp;
import org.transformer4j.runtime.LinearOp;
import org.transformer4j.runtime.NormOp;
import org.transformer4j.runtime.PagedKvCache;
import org.transformer4j.runtime.RelativeBias;
import org.transformer4j.runtime.PenaltyOp;
import org.transformer4j.runtime.SampleOp;
import org.transformer4j.runtime.SoftmaxOp;
import org.transformer4j.runtime.Tensor;

final class CudaParams {

    private CudaParams() {}

    /** t4j_linear_params for the op, allocated in arena; the split-K workspace fields are left to the caller. */
    static MemorySegment linear(Arena arena, LinearOp op, LinearOp.Shape s) {
        MemorySegment p = t4j_linear_params.allocate(arena);
        t4j_linear_params.c(p, address(op.out()));
        t4j_linear_params.a(p, address(op.x()));
        t4j_linear_params.b(p, address(op.w()));
        t4j_linear_params.b_gate(p, address(op.wGate()));
        t4j_linear_params.bias(p, address(op.bias()));
        t4j_linear_params.bias_gate(p, address(op.biasGate()));
        t4j_linear_params.residual(p, address(op.residual()));
        t4j_linear_params.m(p, s.m());
        t4j_linear_params.n(p, s.n());
        t4j_linear_params.k(p, s.k());
        t4j_linear_params.batch(p, 1);
        t4j_linear_params.lda(p, s.xRowStride());
        t4j_linear_params.ldb(p, s.wRowStride());
        t4j_linear_params.ldc(p, s.outRowStride());
        t4j_linear_params.ld_residual(p, op.residual() == null ? 0 : s.residualRowStride());
        t4j_linear_params.alpha(p, op.alpha());
        t4j_linear_params.activation(p, op.activation().code());
        t4j_linear_params.act_limit(p, op.limit());
        t4j_linear_params.gated(p, op.gated() ? 1 : 0);
        t4j_linear_params.trans_b(p, op.transW() ? 1 : 0);
        t4j_linear_params.dtype(p, op.x().dtype().code());
        if (op.wq() != null) {                                          // ABI 21: 4-bit weights as GPTQ packs them
            org.transformer4j.runtime.Int4 q = op.wq(), g = op.wGateQ();
            t4j_linear_params.b(p, address(q.codes()));
            t4j_linear_params.b_scale(p, address(q.scales()));
            t4j_linear_params.b_zero(p, address(q.zeros()));
            if (g != null) {
                t4j_linear_params.b_gate(p, address(g.codes()));
                t4j_linear_params.b_gate_scale(p, address(g.scales()));
                t4j_linear_params.b_gate_zero(p, address(g.zeros()));
                t4j_linear_params.b_gate_gidx(p, address(g.gidx()));
            }
            t4j_linear_params.b_gidx(p, address(q.gidx()));
            t4j_linear_params.b_group_size(p, q.groupSize());
            t4j_linear_params.b_groups(p, Math.toIntExact(q.groups()));
            t4j_linear_params.b_format(p, org.transformer4j.bindings.t4j_h.T4J_WEIGHTS_INT4);
        }
        return p;
    }

    /** t4j_bias_act_params for the op, allocated in arena ({@code limit}: CLAMP's bound, else 0). */
    static MemorySegment biasAct(Arena arena, Tensor out, Tensor x, Tensor gate, Tensor bias, Tensor biasGate, Tensor residual, int act,
                                 float limit, DType dt) {
        MemorySegment p = t4j_bias_act_params.allocate(arena);
        t4j_bias_act_params.out(p, address(out));
        t4j_bias_act_params.x(p, address(x));
        t4j_bias_act_params.gate(p, address(gate));
        t4j_bias_act_params.bias(p, address(bias));
        t4j_bias_act_params.bias_gate(p, address(biasGate));
        t4j_bias_act_params.residual(p, address(residual));
        t4j_bias_act_params.rows(p, out.shape(0));
        t4j_bias_act_params.cols(p, out.shape(1));
        t4j_bias_act_params.out_row_stride(p, Math.max(out.stride(0), out.shape(1)));
        t4j_bias_act_params.x_row_stride(p, Math.max(x.stride(0), x.shape(1)));
        t4j_bias_act_params.gate_row_stride(p, gate == null ? 0 : Math.max(gate.stride(0), gate.shape(1)));
        t4j_bias_act_params.residual_row_stride(p, residual == null ? 0 : Math.max(residual.stride(0), residual.shape(1)));
        t4j_bias_act_params.activation(p, act);
        t4j_bias_act_params.act_limit(p, limit);
        t4j_bias_act_params.dtype(p, dt.code());
        return p;
    }

    /** t4j_embedding_params for the op, allocated in arena. */
    static MemorySegment embedding(Arena arena, EmbeddingOp op, EmbeddingOp.Shape s, Tensor flags) {
        MemorySegment p = t4j_embedding_params.allocate(arena);
        t4j_embedding_params.out(p, address(op.out()));
        t4j_embedding_params.ids(p, address(op.ids()));
        t4j_embedding_params.token_table(p, address(op.tokenTable()));
        t4j_embedding_params.position_table(p, address(op.positionTable()));
        t4j_embedding_params.type_ids(p, address(op.typeIds()));
        t4j_embedding_params.type_table(p, address(op.typeTable()));
        t4j_embedding_params.error_row(p, address(flags));
        t4j_embedding_params.positions(p, address(op.positions()));
        t4j_embedding_params.rows(p, s.rows());
        t4j_embedding_params.cols(p, s.cols());
        t4j_embedding_params.seq_len(p, s.seqLen());
        t4j_embedding_params.position_offset(p, op.positionOffset());
        t4j_embedding_params.vocab(p, s.vocab());
        t4j_embedding_params.max_positions(p, s.maxPositions());
        t4j_embedding_params.type_vocab(p, s.typeVocab());
        t4j_embedding_params.out_row_stride(p, s.outRowStride());
        t4j_embedding_params.dtype(p, op.tokenTable().dtype().code());
        t4j_embedding_params.token_scale(p, op.tokenScale());
        return p;
    }

    /** t4j_softmax_params for the op, allocated in arena. */
    static MemorySegment softmax(Arena arena, SoftmaxOp op, SoftmaxOp.Shape s) {
        MemorySegment p = t4j_softmax_params.allocate(arena);
        t4j_softmax_params.out(p, address(op.out()));
        t4j_softmax_params.x(p, address(op.x()));
        t4j_softmax_params.rows(p, s.rows());
        t4j_softmax_params.cols(p, s.cols());
        t4j_softmax_params.x_row_stride(p, s.xRowStride());
        t4j_softmax_params.out_row_stride(p, s.outRowStride());
        t4j_softmax_params.scale(p, op.scale());
        t4j_softmax_params.kind(p, op.log() ? t4j_h.T4J_LOG_SOFTMAX : t4j_h.T4J_SOFTMAX);
        t4j_softmax_params.dtype(p, op.x().dtype().code());
        return p;
    }

    /** t4j_cross_entropy_params for the op, allocated in arena. */
    static MemorySegment crossEntropy(Arena arena, CrossEntropyOp op, CrossEntropyOp.Shape s, Tensor flags) {
        MemorySegment p = t4j_cross_entropy_params.allocate(arena);
        t4j_cross_entropy_params.losses(p, address(op.losses()));
        t4j_cross_entropy_params.logits(p, address(op.logits()));
        t4j_cross_entropy_params.targets(p, address(op.targets()));
        t4j_cross_entropy_params.error_row(p, address(flags));
        t4j_cross_entropy_params.rows(p, s.rows());
        t4j_cross_entropy_params.cols(p, s.cols());
        t4j_cross_entropy_params.logits_row_stride(p, s.logitsRowStride());
        t4j_cross_entropy_params.ignore_index(p, op.ignoreIndex());
        t4j_cross_entropy_params.dtype(p, op.logits().dtype().code());
        return p;
    }

    /**
     * The op's per-row penalties (ABI 13) as one (3, rows) array of fp32 bits: repetition, presence, frequency, a row
     * of each (the scalar where the op gives no array), or null when it gives none; uploaded once, read through
     * three pointers.
     */
    static int[] penaltyRows(PenaltyOp op, long rows) {
        if (!op.perRow() || rows == 0) return null;
        int n = Math.toIntExact(rows);
        int[] bits = new int[3 * n];
        for (int r = 0; r < n; r++) {
            bits[r] = Float.floatToRawIntBits(op.repetitionRows() != null ? op.repetitionRows()[r] : op.repetition());
            bits[n + r] = Float.floatToRawIntBits(op.presenceRows() != null ? op.presenceRows()[r] : op.presence());
            bits[2 * n + r] = Float.floatToRawIntBits(op.frequencyRows() != null ? op.frequencyRows()[r] : op.frequency());
        }
        return bits;
    }

    /** t4j_penalty_params for the op, allocated in arena; perRow: {@link #penaltyRows} on the device, or null. */
    static MemorySegment penalty(Arena arena, PenaltyOp op, PenaltyOp.Shape s, Tensor perRow) {
        MemorySegment p = t4j_penalty_params.allocate(arena);
        t4j_penalty_params.logits(p, address(op.logits()));
        t4j_penalty_params.ids(p, address(op.ids()));
        t4j_penalty_params.counts(p, address(op.counts()));
        t4j_penalty_params.bias(p, address(op.bias()));
        t4j_penalty_params.rows(p, s.rows());
        t4j_penalty_params.cols(p, s.cols());
        t4j_penalty_params.logits_row_stride(p, s.logitsRowStride());
        t4j_penalty_params.width(p, s.width());
        t4j_penalty_params.repetition(p, op.repetition());
        t4j_penalty_params.presence(p, op.presence());
        t4j_penalty_params.frequency(p, op.frequency());
        t4j_penalty_params.dtype(p, op.logits().dtype().code());
        if (perRow != null) {
            long base = perRow.deviceAddress();
            t4j_penalty_params.repetition_rows(p, MemorySegment.ofAddress(base));
            t4j_penalty_params.presence_rows(p, MemorySegment.ofAddress(base + 4 * s.rows()));
            t4j_penalty_params.frequency_rows(p, MemorySegment.ofAddress(base + 8 * s.rows()));
        }
        return p;
    }

    /** The op's per-row parameters (ABI 13) as an array of t4j_sample_row in 32-bit words, or null in scalar mode. */
    static int[] sampleRows(SampleOp op) {
        if (op.rows() == null || op.rows().isEmpty()) return null;   // no rows: nothing is launched
        int words = (int) (t4j_sample_row.sizeof() / 4);
        MemorySegment rows = MemorySegment.ofArray(new int[op.rows().size() * words]);
        for (int r = 0; r < op.rows().size(); r++) {
            SampleOp.Row row = op.rows().get(r);
            MemorySegment e = t4j_sample_row.asSlice(rows, r);
            t4j_sample_row.seed(e, row.seed());
            t4j_sample_row.offset(e, row.offset());
            t4j_sample_row.temperature(e, row.temperature());
            t4j_sample_row.top_p(e, row.topP());
            t4j_sample_row.top_k(e, row.topK());
            t4j_sample_row.min_p(e, row.minP());
        }
        return rows.toArray(java.lang.foreign.ValueLayout.JAVA_INT);
    }

    /** t4j_sample_params for the op, allocated in arena; rowParams: {@link #sampleRows} on the device, or null. */
    static MemorySegment sample(Arena arena, SampleOp op, SampleOp.Shape s, Tensor rowParams) {
        MemorySegment p = t4j_sample_params.allocate(arena);
        t4j_sample_params.ids(p, address(op.ids()));
        t4j_sample_params.logprobs(p, address(op.logprobs()));
        t4j_sample_params.nonfinite(p, address(op.nonFinite()));
        t4j_sample_params.logits(p, address(op.logits()));
        t4j_sample_params.rows(p, s.rows());
        t4j_sample_params.cols(p, s.cols());
        t4j_sample_params.logits_row_stride(p, s.logitsRowStride());
        t4j_sample_params.seed(p, op.seed());
        t4j_sample_params.offset(p, op.offset());
        t4j_sample_params.temperature(p, op.temperature());
        t4j_sample_params.top_p(p, op.topP());
        t4j_sample_params.top_k(p, op.topK());
        t4j_sample_params.dtype(p, op.logits().dtype().code());
        t4j_sample_params.min_p(p, op.minP());
        t4j_sample_params.row_params(p, address(rowParams));
        return p;
    }

    /** t4j_norm_params for the op, allocated in arena. */
    static MemorySegment norm(Arena arena, NormOp op, NormOp.Shape s) {
        MemorySegment p = t4j_norm_params.allocate(arena);
        t4j_norm_params.out(p, address(op.out()));
        t4j_norm_params.residual_out(p, address(op.residualOut()));
        t4j_norm_params.x(p, address(op.x()));
        t4j_norm_params.residual(p, address(op.residual()));
        t4j_norm_params.weight(p, address(op.weight()));
        t4j_norm_params.bias(p, address(op.bias()));
        t4j_norm_params.rows(p, s.rows());
        t4j_norm_params.cols(p, s.cols());
        t4j_norm_params.x_row_stride(p, s.xRowStride());
        t4j_norm_params.residual_row_stride(p, s.residualRowStride());
        t4j_norm_params.out_row_stride(p, s.outRowStride());
        t4j_norm_params.residual_out_row_stride(p, s.residualOutRowStride());
        t4j_norm_params.eps(p, op.eps());
        t4j_norm_params.kind(p, op.kind() == NormOp.Kind.RMS ? t4j_h.T4J_NORM_RMS : t4j_h.T4J_NORM_LAYER);
        t4j_norm_params.dtype(p, op.x().dtype().code());
        t4j_norm_params.reserved(p, 0);
        return p;
    }

    /** t4j_attention_params for the op, allocated in arena. */
    static MemorySegment attention(Arena arena, AttentionOp op, AttentionOp.Shape s, Tensor cuQ, Tensor cuK, Tensor keyLengths, Tensor prefix) {
        MemorySegment p = t4j_attention_params.allocate(arena);
        t4j_attention_params.out(p, address(op.out()));
        t4j_attention_params.lse(p, address(op.lse()));
        t4j_attention_params.q(p, address(op.q()));
        t4j_attention_params.k(p, address(op.k()));
        t4j_attention_params.v(p, address(op.v()));
        t4j_attention_params.cu_seqlens_q(p, address(cuQ));
        t4j_attention_params.cu_seqlens_k(p, address(cuK));
        t4j_attention_params.key_lengths(p, address(keyLengths));
        t4j_attention_params.prefix_lengths(p, address(prefix));
        t4j_attention_params.rel_bias(p, address(op.bias() == null ? null : op.bias().table()));
        t4j_attention_params.q_batch_stride(p, s.qBatchStride());
        t4j_attention_params.q_row_stride(p, s.qRowStride());
        t4j_attention_params.q_head_stride(p, s.qHeadStride());
        t4j_attention_params.k_batch_stride(p, s.kBatchStride());
        t4j_attention_params.k_row_stride(p, s.kRowStride());
        t4j_attention_params.k_head_stride(p, s.kHeadStride());
        t4j_attention_params.v_batch_stride(p, s.vBatchStride());
        t4j_attention_params.v_row_stride(p, s.vRowStride());
        t4j_attention_params.v_head_stride(p, s.vHeadStride());
        t4j_attention_params.out_batch_stride(p, s.outBatchStride());
        t4j_attention_params.out_row_stride(p, s.outRowStride());
        t4j_attention_params.out_head_stride(p, s.outHeadStride());
        t4j_attention_params.B(p, s.batch());
        t4j_attention_params.NH(p, s.nh());
        t4j_attention_params.NKV(p, s.nkv());
        t4j_attention_params.Tq(p, s.tq());
        t4j_attention_params.Tk(p, s.tk());
        t4j_attention_params.HS(p, s.hs());
        t4j_attention_params.mask(p, op.mask().ordinal());
        t4j_attention_params.scale(p, op.scale());
        setBias(op.bias(), p, t4j_attention_params::num_buckets, t4j_attention_params::max_distance,
                t4j_attention_params::bias_bidirectional);
        t4j_attention_params.dtype(p, op.q().dtype().code());
        t4j_attention_params.window(p, op.window());
        t4j_attention_params.softcap(p, op.softcap());
        DisentangledBias d = op.disentangled();
        if (d != null) {                                     // DeBERTa (ABI 10): the tables' rows are q's and k's
            t4j_attention_params.c2p(p, address(d.c2p()));
            t4j_attention_params.p2c(p, address(d.p2c()));
            t4j_attention_params.c2p_rows(p, d.c2p() == null ? 0 : d.c2p().shape(1));
            t4j_attention_params.p2c_rows(p, d.p2c() == null ? 0 : d.p2c().shape(1));
            t4j_attention_params.dis_span(p, d.span());
            t4j_attention_params.dis_buckets(p, d.buckets());
            t4j_attention_params.dis_max_position(p, d.maxPosition());
        }
        t4j_attention_params.sinks(p, address(op.sinks()));          // ABI 11: GPT-OSS's attention sinks, F32 (NH), or NULL
        t4j_attention_params.alibi_slopes(p, address(op.alibi()));   // ABI 14: ALiBi slopes, F32 (NH), or NULL
        return p;
    }

    /** t4j_kv_append_params for the op, allocated in arena. */
    static MemorySegment kvAppend(Arena arena, KvAppendOp op, KvAppendOp.Shape s, PagedKvCache c, Tensor table, Tensor lengths,
                                  Tensor cuSeqlens) {
        MemorySegment p = t4j_kv_append_params.allocate(arena);
        t4j_kv_append_params.k_cache(p, address(c.kCache()));
        t4j_kv_append_params.v_cache(p, address(c.vCache()));
        t4j_kv_append_params.k(p, address(op.k()));
        t4j_kv_append_params.v(p, address(op.v()));
        t4j_kv_append_params.block_table(p, address(table));
        t4j_kv_append_params.cache_lengths(p, address(lengths));
        t4j_kv_append_params.k_batch_stride(p, s.kBatchStride());
        t4j_kv_append_params.k_row_stride(p, s.kRowStride());
        t4j_kv_append_params.k_head_stride(p, s.kHeadStride());
        t4j_kv_append_params.v_batch_stride(p, s.vBatchStride());
        t4j_kv_append_params.v_row_stride(p, s.vRowStride());
        t4j_kv_append_params.v_head_stride(p, s.vHeadStride());
        t4j_kv_append_params.B(p, s.batch());
        t4j_kv_append_params.Tnew(p, s.tnew());
        t4j_kv_append_params.NKV(p, s.nkv());
        t4j_kv_append_params.HS(p, s.hs());
        t4j_kv_append_params.block_size(p, c.blockSize());
        t4j_kv_append_params.max_blocks_per_seq(p, c.maxBlocksPerSeq());
        t4j_kv_append_params.num_blocks(p, c.numBlocks());
        t4j_kv_append_params.dtype(p, op.k().dtype().code());
        t4j_kv_append_params.cu_seqlens(p, address(cuSeqlens));      // ABI 17: packed rows per sequence, or NULL
        return p;
    }

    /** t4j_decode_params for the op, allocated in arena. */
    static MemorySegment decode(Arena arena, DecodeOp op, DecodeOp.Shape s, PagedKvCache c, int splits, int splitKeys, Tensor table,
                                Tensor lengths, Tensor wsO, Tensor wsLse, Tensor cuSeqlensQ) {
        MemorySegment p = t4j_decode_params.allocate(arena);
        t4j_decode_params.out(p, address(op.out()));
        t4j_decode_params.lse(p, address(op.lse()));
        t4j_decode_params.q(p, address(op.q()));
        t4j_decode_params.k_cache(p, address(c.kCache()));
        t4j_decode_params.v_cache(p, address(c.vCache()));
        t4j_decode_params.block_table(p, address(table));
        t4j_decode_params.cache_lengths(p, address(lengths));
        t4j_decode_params.workspace_o(p, address(wsO));
        t4j_decode_params.workspace_lse(p, address(wsLse));
        t4j_decode_params.rel_bias(p, address(op.bias() == null ? null : op.bias().table()));
        t4j_decode_params.q_batch_stride(p, s.qBatchStride());
        t4j_decode_params.q_row_stride(p, s.qRowStride());
        t4j_decode_params.q_head_stride(p, s.qHeadStride());
        t4j_decode_params.out_batch_stride(p, s.outBatchStride());
        t4j_decode_params.out_row_stride(p, s.outRowStride());
        t4j_decode_params.out_head_stride(p, s.outHeadStride());
        t4j_decode_params.B(p, s.batch());
        t4j_decode_params.NH(p, s.nh());
        t4j_decode_params.NKV(p, s.nkv());
        t4j_decode_params.Tq(p, s.tq());
        t4j_decode_params.HS(p, s.hs());
        t4j_decode_params.block_size(p, c.blockSize());
        t4j_decode_params.max_blocks_per_seq(p, c.maxBlocksPerSeq());
        t4j_decode_params.num_blocks(p, c.numBlocks());
        t4j_decode_params.num_splits(p, splits);
        t4j_decode_params.split_keys(p, splitKeys);
        t4j_decode_params.causal(p, op.causal() ? 1 : 0);
        t4j_decode_params.scale(p, op.scale());
        setBias(op.bias(), p, t4j_decode_params::num_buckets, t4j_decode_params::max_distance,
                t4j_decode_params::bias_bidirectional);
        t4j_decode_params.dtype(p, op.q().dtype().code());
        t4j_decode_params.window(p, op.window());
        t4j_decode_params.softcap(p, op.softcap());
        t4j_decode_params.sinks(p, address(op.sinks()));             // ABI 11: added once per row after the splits
        t4j_decode_params.alibi_slopes(p, address(op.alibi()));      // ABI 14: ALiBi slopes, F32 (NH), or NULL
        t4j_decode_params.cu_seqlens_q(p, address(cuSeqlensQ));      // ABI 17: packed queries per sequence, or NULL
        return p;
    }

    private interface IntField {
        void set(MemorySegment s, int v);
    }

    private static void setBias(RelativeBias bias, MemorySegment p, IntField buckets, IntField distance, IntField bidirectional) {
        buckets.set(p, bias == null ? 0 : bias.numBuckets());
        distance.set(p, bias == null ? 0 : bias.maxDistance());
        bidirectional.set(p, bias != null && bias.bidirectional() ? 1 : 0);
    }

    /** A tensor's device address, or NULL for null. */
    static MemorySegment address(Tensor t) {
        return t == null ? MemorySegment.NULL : MemorySegment.ofAddress(t.deviceAddress());
    }

    /** t4j_rope_params for the op, allocated in arena. */
    static MemorySegment rope(Arena arena, RopeOp op, RopeOp.Shape s) {
        MemorySegment p = t4j_rope_params.allocate(arena);
        t4j_rope_params.x(p, address(op.x()));
        t4j_rope_params.positions(p, address(op.positions()));
        t4j_rope_params.inv_freq(p, address(op.invFreq()));
        t4j_rope_params.seq_lens(p, address(op.seqLens()));
        t4j_rope_params.x_batch_stride(p, s.xBatchStride());
        t4j_rope_params.x_row_stride(p, s.xRowStride());
        t4j_rope_params.x_head_stride(p, s.xHeadStride());
        t4j_rope_params.B(p, s.batch());
        t4j_rope_params.T(p, s.t());
        t4j_rope_params.H(p, s.heads());
        t4j_rope_params.HS(p, s.hs());
        t4j_rope_params.rotary_dim(p, op.rotaryDim());
        RopeOp.Dynamic d = op.dynamic();
        t4j_rope_params.dynamic(p, d != null ? 1 : op.isLongRope() ? 2 : 0);
        t4j_rope_params.base(p, d == null ? 0f : d.base());
        t4j_rope_params.factor(p, d == null ? 0f : d.factor());
        t4j_rope_params.max_positions(p, d != null ? d.maxPositions() : op.longAfter());
        t4j_rope_params.attention_scaling(p, op.attentionScaling());
        t4j_rope_params.dtype(p, op.x().dtype().code());
        return p;
    }

    /** t4j_moe_route_params for the op (ABI 9; scoring, bias, groups, scale ABI 18), allocated in arena. */
    static MemorySegment moeRoute(Arena arena, org.transformer4j.runtime.MoeRouteOp op, org.transformer4j.runtime.MoeRouteOp.Shape s) {
        MemorySegment p = org.transformer4j.bindings.t4j_moe_route_params.allocate(arena);
        org.transformer4j.runtime.MoeRouting r = op.out();
        org.transformer4j.bindings.t4j_moe_route_params.logits(p, address(op.logits()));
        org.transformer4j.bindings.t4j_moe_route_params.topk_ids(p, address(r.ids()));
        org.transformer4j.bindings.t4j_moe_route_params.topk_weights(p, address(r.weights()));
        org.transformer4j.bindings.t4j_moe_route_params.expert_offsets(p, address(r.offsets()));
        org.transformer4j.bindings.t4j_moe_route_params.sorted_tokens(p, address(r.sortedTokens()));
        org.transformer4j.bindings.t4j_moe_route_params.slots(p, address(r.slots()));
        org.transformer4j.bindings.t4j_moe_route_params.tokens(p, s.tokens());
        org.transformer4j.bindings.t4j_moe_route_params.logits_row_stride(p, s.logitsRowStride());
        org.transformer4j.bindings.t4j_moe_route_params.experts(p, s.experts());
        org.transformer4j.bindings.t4j_moe_route_params.top_k(p, op.topK());
        org.transformer4j.bindings.t4j_moe_route_params.renormalize(p, op.renormalize() ? 1 : 0);
        org.transformer4j.bindings.t4j_moe_route_params.dtype(p, op.logits().dtype().code());
        org.transformer4j.bindings.t4j_moe_route_params.correction_bias(p, address(op.correctionBias()));
        org.transformer4j.bindings.t4j_moe_route_params.scoring(p, op.scoring() == org.transformer4j.runtime.MoeRouteOp.Scoring.SIGMOID
                ? t4j_h.T4J_MOE_SIGMOID : t4j_h.T4J_MOE_SOFTMAX);
        org.transformer4j.bindings.t4j_moe_route_params.n_group(p, op.groups());
        org.transformer4j.bindings.t4j_moe_route_params.topk_group(p, op.topkGroups());
        org.transformer4j.bindings.t4j_moe_route_params.scale(p, op.scale());
        return p;
    }

    /** t4j_gather_rows_params for the op (ABI 9), allocated in arena. */
    static MemorySegment gatherRows(Arena arena, org.transformer4j.runtime.GatherRowsOp op, org.transformer4j.runtime.GatherRowsOp.Shape s) {
        MemorySegment p = org.transformer4j.bindings.t4j_gather_rows_params.allocate(arena);
        org.transformer4j.bindings.t4j_gather_rows_params.out(p, address(op.out()));
        org.transformer4j.bindings.t4j_gather_rows_params.x(p, address(op.x()));
        org.transformer4j.bindings.t4j_gather_rows_params.rows(p, address(op.rows()));
        org.transformer4j.bindings.t4j_gather_rows_params.n(p, s.n());
        org.transformer4j.bindings.t4j_gather_rows_params.x_rows(p, s.xRows());
        org.transformer4j.bindings.t4j_gather_rows_params.cols(p, s.cols());
        org.transformer4j.bindings.t4j_gather_rows_params.out_row_stride(p, s.outRowStride());
        org.transformer4j.bindings.t4j_gather_rows_params.x_row_stride(p, s.xRowStride());
        org.transformer4j.bindings.t4j_gather_rows_params.dtype(p, op.x().dtype().code());
        org.transformer4j.bindings.t4j_gather_rows_params.widen(p, op.widens() ? 1 : 0);   // ABI 20: F16 / BF16 → F32
        return p;
    }

    /** t4j_linear_params of a grouped GEMM (group_offsets, ABI 9), allocated in arena. */
    static MemorySegment groupedLinear(Arena arena, org.transformer4j.runtime.GroupedLinearOp op, org.transformer4j.runtime.GroupedLinearOp.Shape s) {
        MemorySegment p = t4j_linear_params.allocate(arena);
        t4j_linear_params.c(p, address(op.out()));
        t4j_linear_params.a(p, address(op.x()));
        t4j_linear_params.b(p, address(op.w()));
        t4j_linear_params.b_gate(p, address(op.wGate()));
        t4j_linear_params.bias(p, address(op.bias()));                 // ABI 11: (G, N) dense, group g's row at g·N
        t4j_linear_params.bias_gate(p, address(op.biasGate()));
        t4j_linear_params.stride_bias(p, op.bias() == null && op.biasGate() == null ? 0 : s.n());
        t4j_linear_params.m(p, s.rows());
        t4j_linear_params.n(p, s.n());
        t4j_linear_params.k(p, s.k());
        t4j_linear_params.batch(p, s.groups());
        t4j_linear_params.lda(p, s.xRowStride());
        t4j_linear_params.ldb(p, s.wRowStride());
        t4j_linear_params.ldc(p, s.outRowStride());
        t4j_linear_params.stride_b(p, s.wGroupStride());
        t4j_linear_params.alpha(p, op.alpha());
        t4j_linear_params.activation(p, op.activation().code());
        t4j_linear_params.gated(p, op.wGate() != null ? 1 : 0);
        t4j_linear_params.trans_b(p, op.transW() ? 1 : 0);
        t4j_linear_params.dtype(p, op.x().dtype().code());
        t4j_linear_params.group_offsets(p, address(op.offsets()));
        t4j_linear_params.residual(p, address(op.residual()));          // ABI 15: group rows' residual, row r at r·ld_residual
        t4j_linear_params.ld_residual(p, s.residualRowStride());
        if (op.wq() != null) {                                          // ABI 13: MXFP4 blocks and scales as stored
            t4j_linear_params.b(p, address(op.wq().blocks()));
            t4j_linear_params.b_gate(p, address(op.wGateQ() == null ? null : op.wGateQ().blocks()));
            t4j_linear_params.b_scale(p, address(op.wq().scales()));
            t4j_linear_params.b_gate_scale(p, address(op.wGateQ() == null ? null : op.wGateQ().scales()));
            t4j_linear_params.b_format(p, org.transformer4j.bindings.t4j_h.T4J_WEIGHTS_MXFP4);
            t4j_linear_params.gated(p, op.wGateQ() != null ? 1 : 0);
            t4j_linear_params.ldb(p, 32 * s.wRowStride());              // the Shape's strides count blocks of 32 values
            t4j_linear_params.stride_b(p, 32 * s.wGroupStride());
        }
        return p;
    }

    /** t4j_moe_combine_params for the op (ABI 9), allocated in arena. */
    static MemorySegment moeCombine(Arena arena, org.transformer4j.runtime.MoeCombineOp op, org.transformer4j.runtime.MoeCombineOp.Shape s) {
        MemorySegment p = org.transformer4j.bindings.t4j_moe_combine_params.allocate(arena);
        org.transformer4j.bindings.t4j_moe_combine_params.out(p, address(op.out()));
        org.transformer4j.bindings.t4j_moe_combine_params.y(p, address(op.y()));
        org.transformer4j.bindings.t4j_moe_combine_params.slots(p, address(op.slots()));
        org.transformer4j.bindings.t4j_moe_combine_params.weights(p, address(op.weights()));
        org.transformer4j.bindings.t4j_moe_combine_params.residual(p, address(op.residual()));
        org.transformer4j.bindings.t4j_moe_combine_params.shared(p, address(op.shared()));
        org.transformer4j.bindings.t4j_moe_combine_params.shared_gate(p, address(op.sharedGate()));
        org.transformer4j.bindings.t4j_moe_combine_params.tokens(p, s.tokens());
        org.transformer4j.bindings.t4j_moe_combine_params.cols(p, s.cols());
        org.transformer4j.bindings.t4j_moe_combine_params.slot_rows(p, s.slotRows());
        org.transformer4j.bindings.t4j_moe_combine_params.out_row_stride(p, s.outRowStride());
        org.transformer4j.bindings.t4j_moe_combine_params.y_row_stride(p, s.yRowStride());
        org.transformer4j.bindings.t4j_moe_combine_params.residual_row_stride(p, s.residualRowStride());
        org.transformer4j.bindings.t4j_moe_combine_params.shared_row_stride(p, s.sharedRowStride());
        org.transformer4j.bindings.t4j_moe_combine_params.shared_gate_stride(p, s.sharedGateStride());
        org.transformer4j.bindings.t4j_moe_combine_params.top_k(p, s.topK());
        org.transformer4j.bindings.t4j_moe_combine_params.dtype(p, op.out().dtype().code());
        return p;
    }
}
