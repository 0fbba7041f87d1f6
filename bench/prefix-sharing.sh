#!/bin/bash
# Two builds side by side under one serving load (bench/results/prefix-sharing-cpu.md): ServeLoad's clients all send a
# prompt that begins with the same system prompt, in three JVMs per build, alternating.
#   JARS=DIR    holds before.jar and after.jar: bench/target/benchmarks.jar built at the two commits (copy this
#               ServeLoad.java into the older tree first: it reads the engine's prefill rows where there are any)
#   ARGS=...    ServeLoad's arguments (default: 8 clients, 32 own tokens each, 16 new tokens, batched, 512 shared tokens)
# Usage: JARS=/tmp/jars bench/prefix-sharing.sh
set -euo pipefail
java=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
lib=$(cd "$(dirname "$0")" && pwd)/target/lib
: "${JARS:?set JARS to the folder with before.jar and after.jar}"
grep -m1 "model name" /proc/cpuinfo
for fork in 1 2 3; do
  for v in before after; do
    echo "== $v fork $fork $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
    "$java" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -cp "$JARS/$v.jar:$lib/*" \
      org.transformer4j.bench.ServeLoad ${ARGS:-8 32 16 batched 512} 2>&1 | grep -E '^(\||backend)' || true
  done
done
