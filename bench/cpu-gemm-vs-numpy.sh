#!/usr/bin/env bash
# cpu-gemm-vs-numpy.sh — fp32 GEMM on this machine's CPU, side by side in one run: numpy's OpenBLAS
# sgemm (bench/numpy_sgemm.py), the CPU backend's kernel (JMH CpuGemmBenchmark, 3 forks), numpy
# again; then per CPU-second on one thread (GemmCpuSeconds between two numpy --cpu-time runs), the
# comparison that a busy shared machine disturbs least; the CPU model and the load average before
# and after. Prints everything to stdout.
#
#   bench/cpu-gemm-vs-numpy.sh [SIZES] [JMH args...]
# after `mvn -pl bench -am package -DskipTests` (it runs bench/target/benchmarks.jar).
#
# OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE may be set on the build machines (older OpenBLAS builds
# need them); they slow a current numpy, so they are unset for the numpy command alone, which
# prints the core type OpenBLAS then runs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
sizes=${1:-512,1024,2048}
shift || true
java=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
jar="$root/bench/target/benchmarks.jar"
[ -f "$jar" ] || { echo "no $jar: build it first (mvn -pl bench -am package -DskipTests)" >&2; exit 1; }

echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
echo "cpu: $(lscpu | sed -n 's/^Model name: *//p') ($(nproc) CPUs; $(lscpu | sed -n 's/^Flags:.*\(avx512f\).*/AVX-512/p'))"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
numpy() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 "$root/bench/numpy_sgemm.py" --sizes "$sizes" --repeats 3 --seconds 2; }
numpy
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
"$java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -jar "$jar" \
  CpuGemmBenchmark -p n="$sizes" -f 3 -wi 3 -w 2s -i 3 -r 2s "$@" 2>&1 | grep -v -i "^WARNING"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
numpy
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
# Per CPU-second on one thread each: what the code does with a core, little moved by a busy machine.
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 python3 "$root/bench/numpy_sgemm.py" --sizes "$sizes" --cpu-time
"$java" --add-modules jdk.incubator.vector -XX:ActiveProcessorCount=1 -cp "$jar" org.transformer4j.bench.GemmCpuSeconds "$sizes" 2>&1 | grep -v -i "^WARNING"
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 python3 "$root/bench/numpy_sgemm.py" --sizes "$sizes" --cpu-time
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
