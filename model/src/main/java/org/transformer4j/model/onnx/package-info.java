/**
 * ONNX import: {@link org.transformer4j.model.onnx.OnnxModel} reads a ModelProto with protobuf-java's
 * generic wire-format reader, and {@link org.transformer4j.model.onnx.BertOnnxImporter} names a BERT
 * export's weights as Hugging Face's BertModel does (key for key, MatMul weights transposed).
 *
 * <p>Status: the import is verified in the tests by a naive float64 BERT forward pass in the test
 * sources ({@code BertReference}) against ONNX Runtime's hidden states and langchain4j's
 * all-MiniLM-L6-v2 embeddings. Running these weights through the library's own layers (the CPU
 * backend, then CUDA) is the model layer's part of issue 6, with the same bounds: last hidden state
 * within 2e-5 × max|reference| of ONNX Runtime, normalised embeddings within 1e-5 of langchain4j.
 */
package org.transformer4j.model.onnx;
