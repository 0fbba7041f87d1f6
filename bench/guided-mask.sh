#!/usr/bin/env bash
# guided-mask.sh — times structured-output token masks (GuidedMaskBenchmark) on the Qwen3 (151,669 ids) and
# Gemma 3 (262,144 ids) vocabularies from the model tests' resources; 3 forks, prints the CPU and load beside.
# Arguments replace the benchmark pattern and JMH options (e.g. GuidedMaskBenchmark.uncached -f 1 -p vocab=qwen3).
# Build first (no install needed): mvn -B -o -q -pl model,bench -DskipTests -Dmaven.javadoc.skip=true package
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${T4J_BENCH_TOKENIZERS:-/tmp/t4j-guided-bench}
mkdir -p "$dir"
for m in qwen3 gemma3; do
  [ -s "$dir/$m.json" ] || xz -dc "$root/model/src/test/resources/chat/$m/tokenizer.json.xz" > "$dir/$m.json"
done
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
java=${JAVA_HOME:+$JAVA_HOME/bin/}java
"$java" -Dt4j.bench.tokenizers="$dir" -DOPT_OUT_TRACKING=true -cp "$root/bench/target/classes:$root/bench/target/lib/*" \
  org.openjdk.jmh.Main ${*:-GuidedMaskBenchmark -f 3 -wi 3 -w 1s -i 5 -r 1s}
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
