/**
 * Batch inference on Apache Spark: {@link org.transformer4j.spark.T4jSpark#embed} adds the embeddings of a
 * text column, {@link org.transformer4j.spark.T4jSpark#generate} the continuation of a prompt column. Each
 * executor JVM loads a model once ({@link org.transformer4j.spark.ExecutorModels}) and packs its partitions'
 * rows into batches.
 */
package org.transformer4j.spark;
