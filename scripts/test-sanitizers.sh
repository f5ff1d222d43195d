#!/usr/bin/env bash
# Rebuilds the addon with AddressSanitizer + UndefinedBehaviorSanitizer, runs the test suite at
# every instruction-set level of the hot loops, then restores the normal build. Any sanitizer
# report aborts the test worker (-fno-sanitize-recover=all), so the run fails.
set -euo pipefail
cd "$(dirname "$0")/.."

restore() { npx cmake-js rebuild >/dev/null; }
trap restore EXIT

# cmake-js sets CMAKE_CXX_FLAGS itself, so the flags travel in the Release flags.
flags="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined,float-cast-overflow,float-divide-by-zero -fno-sanitize-recover=all"
npx cmake-js rebuild --CDCMAKE_CXX_FLAGS_RELEASE="$flags" --CDCMAKE_MODULE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null

# Node itself is not instrumented: the runtimes are preloaded, and vitest's forked workers inherit them.
export LD_PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)"
export ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1
for level in native baseline avx2; do
  echo "== sanitizers, hot loops: $level"
  if [[ $level == native ]]; then unset DYCO_RL_SIMD; else export DYCO_RL_SIMD=$level; fi
  npx vitest run --pool=forks
done
