#!/usr/bin/env bash
# build.sh — builds the native half of the native jar: t4j.fatbin (device code, nvcc, one cubin
# per target arch plus PTX for compute_90) and libt4j.so (host launchers, C++ compiler).
# Maven calls it in the native module's compile phase; it can run alone too.
#
#   native/build.sh OUT_DIR BUILD_DIR [ARCHS]
#
# ARCHS: "all" (default: sm_80 sm_86 sm_89 sm_90a + compute_90 PTX) or a comma/space list such as
# "90a" or "80,90a" for quick local builds (Maven: -Dt4j.cuda.archs=90a). CI and releases use all.
# NVCC (a path, or "none") and CXX may be set; without nvcc the build still produces libt4j.so, which then reports
# that it has no kernels.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUT_DIR BUILD_DIR [ARCHS]}
build=${2:?usage: build.sh OUT_DIR BUILD_DIR [ARCHS]}
archs=${3:-all}
mkdir -p "$out" "$build"

CXX=${CXX:-g++}
command -v "$CXX" >/dev/null || { echo "build.sh: no C++ compiler ($CXX) found; install g++" >&2; exit 1; }
nvcc=${NVCC:-}
if [ "$nvcc" = none ]; then
  nvcc=""   # NVCC=none builds without kernels on purpose (tests the no-nvcc path)
elif [ -n "$nvcc" ] && [ ! -x "$nvcc" ]; then
  echo "build.sh: NVCC=$nvcc is not an executable; building without CUDA kernels" >&2
  nvcc=""
elif [ -z "$nvcc" ]; then
  nvcc=$(command -v nvcc || true)
  [ -n "$nvcc" ] || { [ -x /usr/local/cuda/bin/nvcc ] && nvcc=/usr/local/cuda/bin/nvcc; } || true
fi

case "$archs" in
  all|"") targets="sm_80 sm_86 sm_89 sm_90a compute_90" ;;
  *) targets=""
     for a in ${archs//,/ }; do
       case "$a" in
         80|86|89|90a) targets="$targets sm_$a" ;;
         *) echo "build.sh: unknown arch '$a' (choose from 80 86 89 90a)" >&2; exit 1 ;;
       esac
     done
     case "$targets" in *sm_90a*) targets="$targets compute_90" ;; esac
     targets=${targets# } ;;
esac

defines=()
stale() {  # true when $1 is missing or older than any native source or this script
  [ ! -e "$1" ] || [ -n "$(find "$here/src" "$here/include" "$here/build.sh" -newer "$1" -print -quit)" ]
}

fatbin="$build/t4j.fatbin"
if [ -n "$nvcc" ]; then
  nvcc_version=$("$nvcc" --version | sed -n 's/.*release [0-9.]*, V\([0-9.]*\).*/\1/p')
  cuda_major=${nvcc_version%%.*}; rest=${nvcc_version#*.}; cuda_minor=${rest%%.*}
  cuda_version=$((cuda_major * 1000 + cuda_minor * 10))
  if stale "$fatbin" || [ "$(cat "$build/targets" 2>/dev/null)" != "$targets" ]; then
    echo "build.sh: nvcc $nvcc_version compiling kernels for: $targets"
    flags=(-std=c++17 -O3 -I"$here/include" -Xptxas -v -lineinfo)
    # One nvcc per target, in parallel; each keeps its own ptxas log for the manifest.
    printf '%s\n' $targets | xargs -P "$(nproc)" -I{} sh -c '
      t={}; case $t in sm_*) kind=-cubin; arch=${t#sm_}; g="arch=compute_${arch},code=sm_${arch}";;
                       compute_*) kind=-ptx; arch=${t#compute_}; g="arch=compute_${arch},code=compute_${arch}";; esac
      "$0" $kind '"${flags[*]}"' -gencode "$g" -o "'"$build"'/t4j.$t" "'"$here"'/src/t4j_kernels.cu" \
        > "'"$build"'/ptxas.$t.log" 2>&1 || { cat "'"$build"'/ptxas.$t.log" >&2; exit 255; }' "$nvcc"
    images=()
    for t in $targets; do
      case $t in
        sm_*) images+=(--image3=kind=elf,sm=${t#sm_},file="$build/t4j.$t") ;;
        compute_*) images+=(--image3=kind=ptx,sm=${t#compute_},file="$build/t4j.$t") ;;
      esac
    done
    "$(dirname "$nvcc")/fatbinary" -64 --create="$fatbin.tmp" "${images[@]}"
    mv "$fatbin.tmp" "$fatbin"
    echo "$targets" > "$build/targets"
    # Manifest: one line per kernel and arch with registers, spill bytes, shared memory.
    {
      printf 'kernel\tarch\tregisters\tspill_stores\tspill_loads\tstack\tsmem\n'
      for t in $targets; do
        case $t in sm_*) ;; *) continue ;; esac
        awk -v arch="$t" '
          /Compiling entry function/ { match($0, /function .[^'"'"']*/); name=substr($0, RSTART+10, RLENGTH-10) }
          /bytes stack frame/ { stack=$1; spill_st=$5; spill_ld=$9 }
          /Used [0-9]+ registers/ { for (i=1;i<=NF;i++) { if ($i=="registers,") regs=$(i-1); if ($i ~ /^smem,?$/) smem=$(i-2) }
                                    if (name!="") print name "\t" arch "\t" regs "\t" spill_st "\t" spill_ld "\t" stack "\t" (smem==""?0:smem); name=""; smem="" }
        ' "$build/ptxas.$t.log"
      done
    } > "$build/t4j.kernels"
    echo "build.sh: kernels (registers, spill stores/loads per arch):"
    column -t "$build/t4j.kernels" 2>/dev/null || cat "$build/t4j.kernels"
  fi
  cp "$fatbin" "$out/t4j.fatbin"
  cp "$build/t4j.kernels" "$out/t4j.kernels"
  defines+=(-DT4J_HAVE_KERNELS=1 "-DT4J_ARCHS=\"$targets\"" "-DT4J_NVCC_VERSION=\"$nvcc_version\"" -DT4J_CUDA_VERSION=$cuda_version)
else
  echo "build.sh: nvcc not found: building libt4j.so without CUDA kernels" >&2
  rm -f "$out/t4j.fatbin" "$out/t4j.kernels"
  defines+=(-DT4J_HAVE_KERNELS=0)
fi

lib="$build/libt4j.so"
if stale "$lib" || [ "$(cat "$build/defines" 2>/dev/null)" != "${defines[*]}" ]; then
  echo "build.sh: $CXX building libt4j.so"
  mapfile -t sources < <(find "$here/src" -name '*.cpp' | sort)
  "$CXX" -std=c++17 -O2 -fPIC -shared -fvisibility=hidden -Wall -Wextra -Werror \
    -I"$here/include" "${defines[@]}" "${sources[@]}" \
    -static-libstdc++ -static-libgcc -ldl -Wl,--no-undefined -Wl,-soname,libt4j.so -o "$lib.tmp"
  mv "$lib.tmp" "$lib"
  echo "${defines[*]}" > "$build/defines"
fi
cp "$lib" "$out/libt4j.so"
