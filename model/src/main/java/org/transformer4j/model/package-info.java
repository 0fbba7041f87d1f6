/**
 * The model layer: {@code TransformerConfig}, layers, the encoder-decoder, encoder-only,
 * decoder-only and prefix-LM architectures, weights, tokenizers, KV cache and generation.
 * It composes the ops of {@link org.transformer4j.runtime.Backend} and runs on any backend.
 */
package org.transformer4j.model;
