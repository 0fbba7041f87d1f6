/**
 * Checkpoints: {@link org.transformer4j.model.weights.SafetensorsFile} (memory-mapped, validated like
 * the reference implementation), {@link org.transformer4j.model.weights.SafetensorsCheckpoint} (one file
 * or shards through model.safetensors.index.json), {@link org.transformer4j.model.weights.SafetensorsWriter},
 * {@link org.transformer4j.model.weights.HfConfig} (config.json) and
 * {@link org.transformer4j.model.weights.HfLayout} (the tensors GPT-2, BERT and T5 checkpoints must hold,
 * checked key for key). Every malformed file is a checked
 * {@link org.transformer4j.model.weights.CheckpointException} naming the file and the problem.
 */
package org.transformer4j.model.weights;
