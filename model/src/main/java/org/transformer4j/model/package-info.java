/**
 * The model layer. {@code TransformerConfig} (structure, including the four switches between an
 * encoder-decoder and a decoder-only model), {@code Weights} (parameters: random, or loaded by
 * {@code Pretrained} / {@code Weights.fromHfBert} / {@code fromHfGpt2}), {@code Transformer} (one
 * block and one set of passes for every architecture), {@code KvState} (per-request cache state),
 * {@code Generator}, {@code ChatSession}; checkpoints, tokenizers and ONNX import in the sub-packages.
 * Config, weights and per-request state are separate objects. It composes the ops of
 * {@link org.transformer4j.runtime.Backend} and runs on any backend.
 */
package org.transformer4j.model;
