#!/usr/bin/env bash
# Rebuilds the addon with AddressSanitizer + UndefinedBehaviorSanitizer, runs the test suite at
# every instruction-set level of the hot loops, then puts the normal build back. Any sanitizer
# report aborts the test worker (-fno-sanitize-recover=all), so the run fails.
set -euo pipefail
cd "$(dirname "$0")/.."

# The normal build is set aside and moved back afterwards (rebuilding it would compile the CUDA
# kernels for every architecture again); without one, it is rebuilt.
saved=build.before-sanitizers
rm -rf "$saved"
[[ -d build ]] && mv build "$saved"
restore() {
  rm -rf build
  if [[ -d $saved ]]; then mv "$saved" build; else npx cmake-js rebuild >/dev/null; fi
}
trap restore EXIT

# cmake-js sets CMAKE_CXX_FLAGS itself, so the flags travel in the Release flags. The CUDA kernels
# (device code, not instrumented) are built for one architecture only: there is no GPU here anyway,
# and the host code around them (staging, bindings) is instrumented all the same.
flags="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined,float-cast-overflow,float-divide-by-zero -fno-sanitize-recover=all"
npx cmake-js rebuild --CDCMAKE_CXX_FLAGS_RELEASE="$flags" --CDCMAKE_MODULE_LINKER_FLAGS="-fsanitize=address,undefined" \
  --CDCMAKE_CUDA_ARCHITECTURES=90-real --CDDYCO_BENCH_TORCH=OFF >/dev/null

# Node itself is not instrumented: the runtimes are preloaded, and vitest's forked workers inherit them.
export LD_PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)"
export ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1
for level in native baseline avx2; do
  echo "== sanitizers, hot loops: $level"
  if [[ $level == native ]]; then unset DYCO_RL_SIMD; else export DYCO_RL_SIMD=$level; fi
  # The package test is left out: its child process loads the prebuilt (uninstrumented) binary
  # with a clean environment, so it would only repeat itself.
  npx vitest run --pool=forks --exclude test/package-install.test.ts
done
