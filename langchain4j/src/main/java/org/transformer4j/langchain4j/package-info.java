/**
 * transformer4j models for langchain4j: {@link org.transformer4j.langchain4j.T4jEmbeddingModel} (an encoder
 * folder or the built-in {@code minilm}; sentences packed into padding-free batches) and
 * {@link org.transformer4j.langchain4j.T4jDecoder}, whose {@code chatModel()} and {@code streamingChatModel()}
 * answer langchain4j's {@code ChatModel} and {@code StreamingChatModel} from a decoder folder. Both run on
 * {@code Backends.select()}: CUDA where usable, else the CPU backend.
 */
package org.transformer4j.langchain4j;
