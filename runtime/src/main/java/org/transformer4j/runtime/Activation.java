// Activation — the MLP activations that the GEMM epilogue applies, with their libt4j codes.
package org.transformer4j.runtime;

import org.transformer4j.bindings.t4j_h;

/** Activations of {@link LinearOp}'s epilogue; the formulas are those of t4j.h's T4J_ACT_*. */
public enum Activation {
    /** Identity. */
    NONE(t4j_h.T4J_ACT_NONE),
    /** Exact GELU, 0.5 x (1 + erf(x / √2)) (BERT, PyTorch's default F.gelu). */
    GELU(t4j_h.T4J_ACT_GELU),
    /** The tanh approximation, 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))) (GPT-2, T5 v1.1 "gelu_new"). */
    GELU_TANH(t4j_h.T4J_ACT_GELU_TANH),
    /** max(x, 0) (T5 v1.0). */
    RELU(t4j_h.T4J_ACT_RELU),
    /** x · sigmoid(x) (Llama-style gated MLPs). */
    SILU(t4j_h.T4J_ACT_SILU),
    /**
     * GPT-OSS's clamped SwiGLU, gated ops only (the gated form's two products a = x·W + bias, the activated branch,
     * transformers' gate; g = x·W_gate + biasGate, its up): {@code a' = min(a, 7)}, out = a' · sigmoid(1.702 · a') ·
     * (clamp(g, −7, 7) + 1) (transformers' GptOssExperts with swiglu_alpha 1.702 and swiglu_limit 7, the values of every
     * published gpt-oss checkpoint). On CUDA (ABI 11: T4J_ACT_SWIGLU_OAI) in the custom GEMM's epilogue, t4j_bias_act after
     * cuBLAS and the grouped GEMM; emulated, never run on a GPU.
     */
    SWIGLU_OAI(t4j_h.T4J_ACT_SWIGLU_OAI),
    /**
     * clamp(y, −limit, limit), plain ops only, with the op's own limit ({@link LinearOp#clamp}, {@link ActivationOp#clamp}): the
     * clip_qkv of OLMo and MPT (transformers' query_states.clamp_(min=−clip_qkv, max=clip_qkv) on the projection's output).
     * NaN stays NaN. On CUDA (ABI 16: T4J_ACT_CLAMP with act_limit) in the custom GEMM's epilogue and t4j_bias_act after
     * cuBLAS; emulated, never run on a GPU.
     */
    CLAMP(t4j_h.T4J_ACT_CLAMP),
    /**
     * Squared ReLU, max(x, 0)² in fp32 with one rounding, NaN kept: transformers' "relu2" (ReLUSquaredActivation), the
     * plain up → relu² → down MLP of NVIDIA Nemotron. Plain or gated. On CUDA (ABI 19: T4J_ACT_RELU2) in the custom GEMM's
     * epilogue, the grouped GEMM and t4j_bias_act after cuBLAS; emulated, never run on a GPU.
     */
    RELU2(t4j_h.T4J_ACT_RELU2);

    /** SWIGLU_OAI's sigmoid gain (swiglu_alpha). */
    public static final float SWIGLU_ALPHA = 1.702f;
    /** SWIGLU_OAI's clamp (swiglu_limit). */
    public static final float SWIGLU_LIMIT = 7f;

    private final int code;

    Activation(int code) { this.code = code; }

    /** Whether the activation takes a limit of the op's ({@link #CLAMP}); the others take none (0). */
    public boolean limited() { return this == CLAMP; }

    /** Whether the activation needs the gated form (the second product enters the formula, not only multiplies). */
    public boolean gatedOnly() { return this == SWIGLU_OAI; }

    /** The T4J_ACT_* value of t4j.h. */
    public int code() { return code; }
}
