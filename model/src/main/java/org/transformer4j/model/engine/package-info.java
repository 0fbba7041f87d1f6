/**
 * The serving engine: {@link org.transformer4j.model.engine.Engine} runs many decoder-only requests
 * through one paged KV pool owned by {@link org.transformer4j.model.engine.BlockManager}, with
 * continuous batching, chunked prefill, preemption by recomputation and per-request failure; each
 * request's tokens equal {@link org.transformer4j.model.Generator} run on it alone. No HTTP here:
 * the server module puts an OpenAI-compatible API in front of it.
 */
package org.transformer4j.model.engine;
