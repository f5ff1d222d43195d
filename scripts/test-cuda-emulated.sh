#!/usr/bin/env bash
# Runs the CUDA tests (test/cuda) without a GPU: the kernels' own source, compiled as C++ over the
# CPU emulator of test/emulator/ (DYCO_CUDA=EMULATE), in its own build tree (build-emulated/), with
# UndefinedBehaviorSanitizer on (a misaligned vector load, an out-of-range shift or a signed
# overflow in a kernel aborts the run). The emulator checks itself first. Extra arguments go to
# vitest after test/cuda (-t <pattern> picks tests by name).
set -euo pipefail
cd "$(dirname "$0")/.."

flags="-O2 -g -fsanitize=undefined -fno-sanitize-recover=all"
npx cmake-js compile --out build-emulated --CDDYCO_CUDA=EMULATE --CDDYCO_TORCH=OFF --CDDYCO_BENCH_TORCH=OFF \
  --CDCMAKE_CXX_FLAGS_RELEASE="$flags" --CDCMAKE_MODULE_LINKER_FLAGS=-fsanitize=undefined \
  --CDCMAKE_EXE_LINKER_FLAGS=-fsanitize=undefined >/dev/null

export UBSAN_OPTIONS=print_stacktrace=1
build-emulated/dyco_cuda_emulator_self_test

# Node itself is not instrumented: the sanitizer runtime is preloaded for the addon.
LD_PRELOAD="$(gcc -print-file-name=libubsan.so)" DYCO_RL_BINARY="$PWD/build-emulated/Release/dyco_rl.node" \
  npx vitest run test/cuda "$@"
