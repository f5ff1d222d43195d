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

# Two passes over the suites:
# - 2 multiprocessors, warps in lockstep: small grids, so the grid-stride and run-walking loops
#   take several turns;
# - 132 multiprocessors (an H100/H200's count: the grids and run lengths the GPU check will use),
#   each warp running ahead to its next barrier: a missing barrier between shared-memory writes and
#   reads then gives wrong results (removing Team::Sum's second barrier fails 65 tests here).
# Node itself is not instrumented: the sanitizer runtime is preloaded for the addon.
export LD_PRELOAD="$(gcc -print-file-name=libubsan.so)" DYCO_RL_BINARY="$PWD/build-emulated/Release/dyco_rl.node"
echo "== test/cuda on the emulator: 2 multiprocessors, lockstep warps"
DYCO_RL_CUDA_EMULATOR_SMS=2 DYCO_RL_CUDA_EMULATOR_SCHEDULE=lockstep npx vitest run test/cuda "$@"
echo "== test/cuda on the emulator: 132 multiprocessors, warps running ahead"
DYCO_RL_CUDA_EMULATOR_SMS=132 DYCO_RL_CUDA_EMULATOR_SCHEDULE=warps-ahead npx vitest run test/cuda "$@"
