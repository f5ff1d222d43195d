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

# cmake-js sets CMAKE_CXX_FLAGS itself, so the flags travel in the Release flags. Built without the
# CUDA kernels: the .cu files (device code and the runtime wrapper) take CMAKE_CUDA_FLAGS, so they
# would not be instrumented anyway, and no GPU runs them here; the plain C++ around them (staging in
# native/cuda/calls.cpp, the bindings) is built and instrumented all the same, over the stand-in
# runtime. On a GPU, compute-sanitizer is the tool (scripts/gpu-check.sh).
flags="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined,float-cast-overflow,float-divide-by-zero -fno-sanitize-recover=all"
npx cmake-js rebuild --CDCMAKE_CXX_FLAGS_RELEASE="$flags" --CDCMAKE_MODULE_LINKER_FLAGS="-fsanitize=address,undefined" \
  --CDDYCO_CUDA=OFF --CDDYCO_BENCH_TORCH=OFF >/dev/null

# Node itself is not instrumented: the runtimes are preloaded, and vitest's forked workers inherit them.
export LD_PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)"
export ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1
# The whole suite at the level this CPU picks; at the levels below it, the kernel suites only
# (npm run test:kernels): the levels differ in the hot loops alone, and the rest (the runner's
# training tests above all) is what makes a sanitized pass slow.
for level in native baseline avx2; do
  echo "== sanitizers, hot loops: $level"
  if [[ $level == native ]]; then
    unset DYCO_RL_SIMD
    # The package test is left out: its child process loads the prebuilt (uninstrumented) binary
    # with a clean environment, so it would only repeat itself.
    npx vitest run --pool=forks --exclude test/package-install.test.ts
  else
    DYCO_RL_SIMD=$level npm run test:kernels -- --pool=forks
  fi
done
