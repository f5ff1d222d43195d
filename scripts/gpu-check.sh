#!/usr/bin/env bash
# The GPU check in one call, for the GPU machine (no npm there; see /work/shared/device/README.md):
#
#   source .device/env.sh && bash scripts/gpu-check.sh [phase ...]
#
# Phases, in this order by default: variant (below), build (clean, sm_90, DYCO_CUDA=ON, no runner:
# the kernel addon; then, in the background, the benchmark's LibTorch baseline as its own target, so
# that it cannot stop the rest, followed by the LibTorch runner against the machine's CUDA LibTorch),
# test (vitest run test/cuda), bench (the GPU benchmark, JSON included; it waits for the baseline),
# then memcheck, racecheck (compute-sanitizer over test/cuda), runner (waits for the runner's build;
# then its tests, the "Policy on CUDA" ones on the GPU) and variant-test at the same time: phases
# joined by '+' run concurrently, each summarised on its own lines, since a lease is short and the
# sanitizers are slow. Optional: runner-bench (the runner's quick benchmark on CUDA: run it alone,
# its timings are worth nothing beside the sanitizers), profile (Nsight Compute on the kernels that
# miss a bandwidth goal; see its case below), variants (A/B of kernel builds carried in .exp/; see
# its case below), logits (issue 7 alone: the logitsPolicyLoss CUDA tests and its benchmark cases,
# so one call checks them), suite (the whole suite with DYCO_RL_DEVICE=cuda), synccheck, initcheck.
# variant: which prebuilt CUDA variant the loader itself picks, as an installed package gets it
# (there is no npm here to pack and install it): it needs prebuilds/ carried (built where the device
# tool runs with `DYCO_PREBUILD_CUDA_ARCHITECTURES=90-real npm run prebuild`) and no local build
# yet, since a local build wins; so it comes first, and is passed over with a line saying why
# otherwise. variant-test then runs a few CUDA suites on that prebuilt binary
# (DYCO_RL_VARIANT names it, so the local build made meanwhile does not win). Each phase logs to
# <phase>.log and adds lines to $OUT/summary.md; a phase that fails does not stop the next.
# The device tool brings back at most 8 files from $OUT, so the logs (one per phase, one per
# sanitized process) are written to a scratch folder and come back as one $OUT/logs.tar.gz, packed
# again after every phase (a call stopped early still brings back the logs so far); $OUT itself
# holds only summary.md, capabilities.json, logs.tar.gz and the benchmarks' JSON. The phases share
# one time budget (GPU_CHECK_SECONDS, default 560: the device tool stops a command at 600 s), so a
# slow sanitizer run is cut short rather than the whole call; run the phases left in a second call.
# The commit measured: .device/commit when there (write it when packing .device: the device tool's
# copy of the tree can hold a .git of an older commit than its files), else git.
set -uo pipefail
cd "$(dirname "$0")/.."
results=${OUT:-/tmp/gpu-check}
out=$(mktemp -d /tmp/gpu-check-logs.XXXXXX)
mkdir -p "$results"
budget=${GPU_CHECK_SECONDS:-560}
summary="$results/summary.md"
phases=("$@")
((${#phases[@]})) || phases=(variant build test bench memcheck+racecheck+runner+variant-test)

export DYCO_RL_COMMIT=${DYCO_RL_COMMIT:-$(cat .device/commit 2>/dev/null || git rev-parse --short HEAD 2>/dev/null || echo unknown)}
vitest=(node node_modules/vitest/vitest.mjs)
tsx=(node node_modules/tsx/dist/cli.mjs)  # (called through node, as vitest is: nothing relies on PATH)
sanitizer=(compute-sanitizer --target-processes all --error-exitcode 99)

{
  echo "# GPU check, $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $DYCO_RL_COMMIT"
  echo
  echo "- GPU: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo 'nvidia-smi failed')"
  echo "- $(nvcc --version 2>/dev/null | tail -1), $(cmake --version | head -1), node $(node --version), $(compute-sanitizer --version 2>/dev/null | grep -i version | head -1)"
  echo "- phases: ${phases[*]} (budget ${budget} s)"
  echo
} > "$summary"

# run_phase NAME COMMAND...: runs within what is left of the budget, logs, and summarises.
run_phase() {
  local name=$1
  shift
  local left=$((budget - SECONDS))
  if ((left < 30)); then
    echo "- **$name**: not run, the time budget is spent" >> "$summary"
    return 1
  fi
  local t0=$SECONDS
  timeout --kill-after=15 "$left" "$@" > "$out/$name.log" 2>&1
  local rc=$?
  local verdict="rc $rc"
  ((rc == 124 || rc == 137)) && verdict="cut off by the time budget (rc $rc)"
  echo "- **$name**: $verdict, $((SECONDS - t0)) s" >> "$summary"
  return $rc
}

built() { [[ -f build/Release/dyco_rl.node ]]; }
# (a string, not an array, so that the exported functions below see it in the phases' own shells)
export GPU_CHECK_CUDA_FLAGS="--CDCMAKE_CUDA_ARCHITECTURES=90-real --CDDYCO_CUDA=ON"
# The kernel addon alone first, so that nothing about the machine's LibTorch (its CMake config, its
# headers) can keep the CUDA tests from running: LibTorch is looked for at configure time (for the
# baseline), and only when that configure fails is it configured again without LibTorch.
# `cmake-js configure` + `cmake-js build`, never `compile`: compile answers any failure with a clean
# rebuild of everything (twice the time for nothing), and on an existing build it only builds,
# keeping the old configuration whatever the flags say.
build_addon() {
  rm -rf build
  if ! cmake-js configure $GPU_CHECK_CUDA_FLAGS --CDDYCO_TORCH=OFF --CDDYCO_BENCH_TORCH=AUTO; then
    echo "-- dyco-rl gpu-check: configuring with the LibTorch baseline failed; configuring again without it"
    rm -rf build
    cmake-js configure $GPU_CHECK_CUDA_FLAGS --CDDYCO_TORCH=OFF --CDDYCO_BENCH_TORCH=OFF || return 1
  fi
  cmake-js build --target dyco_rl
}
# Then the LibTorch baseline of the benchmark, its own target (the benchmark runs without it).
build_baseline() { cmake-js build --target dyco_bench_torch; }
# The runner: the same build tree configured again with it (the kernel addon is not rebuilt, so
# the GPU phases can use it meanwhile). At most GPU_CHECK_RUNNER_JOBS compiler processes when set.
build_runner() {
  cmake-js configure $GPU_CHECK_CUDA_FLAGS --CDDYCO_TORCH=ON --CDDYCO_BENCH_TORCH=AUTO &&
    cmake-js build --target dyco_runner ${GPU_CHECK_RUNNER_JOBS:+--parallel $GPU_CHECK_RUNNER_JOBS}
}
export -f build_addon build_baseline build_runner  # (run_phase runs them under timeout, in a child bash)
# The baseline's and the runner's builds take minutes of CPU and no GPU: they run one after the
# other (they share the build tree) in the background while the GPU phases run; the phases that need
# them wait for <name>.rc ("rc seconds started-at"), so that concurrent phases can wait too. The
# runner's build gets half the cores (the benchmark's timing needs a free core, its CPU reference
# check some more). Logged as baseline-build.log and runner-build.log.
background_builds=" "
start_background_builds() {
  local with_baseline=$1 with_runner=$2
  ((with_baseline)) && background_builds+="baseline-build "
  ((with_runner)) && background_builds+="runner-build "
  (
    background_build() {  # NAME FUNCTION [JOBS]
      local t0=$SECONDS left=$((budget - SECONDS))
      if ((left < 10)); then echo "124 0 $t0" > "$out/$1.rc"; return; fi
      GPU_CHECK_RUNNER_JOBS=${3:-} timeout --kill-after=15 "$left" bash -c "$2" > "$out/$1.log" 2>&1
      echo "$? $((SECONDS - t0)) $t0" > "$out/$1.rc"
    }
    ((with_baseline)) && background_build baseline-build build_baseline
    ((with_runner)) && background_build runner-build build_runner $(( ($(nproc) + 1) / 2 ))
  ) &
}
# await_background NAME: waits, within the budget, for a background build; summarises it.
await_background() {
  local name=$1 t0=$SECONDS rc took started
  while [[ ! -f $out/$name.rc ]] && ((SECONDS < budget)); do sleep 2; done
  if [[ ! -f $out/$name.rc ]]; then
    echo "- **$name**: not finished within the time budget" >> "$summary"
    return 1
  fi
  read -r rc took started < "$out/$name.rc"
  echo "- **$name**: rc $rc, $took s, in the background from $started s (waited $((SECONDS - t0)) s for it here)" >> "$summary"
  return "$rc"
}
build_phases() {
  build_tried=1
  run_phase build bash -c build_addon
  grep -aE "dyco-rl .*: (CUDA kernels|GPU benchmark)|dyco-rl gpu-check" "$out/build.log" | sed 's/^-- /  - /' | awk '!seen[$0]++' >> "$summary"
  built || return 0
  local with_baseline=0 with_runner=0
  grep -aq "GPU benchmark's LibTorch baseline ON" "$out/build.log" && with_baseline=1
  wants runner && with_runner=1
  ((with_baseline || with_runner)) && start_background_builds $with_baseline $with_runner
  return 0
}
# (phases joined by '+' count one by one)
wants() { [[ " ${phases[*]//+/ } " == *" $1 "* ]]; }
ensure_built() { built || [[ -n ${build_tried:-} ]] || build_phases; }  # (a failed build is not tried again)

# vitest output lines worth keeping in the summary.
test_counts() { sed -e 's/\x1b\[[0-9;]*m//g' "$1" | grep -aE "^ *(Test Files|Tests|Duration) " | sed 's/^ */  - /'; }
# A benchmark's result as the Markdown table the README quotes (bench/cuda-report.ts), into the
# summary, so the numbers come back readable even if the JSON is cut short (it is saved per case).
bench_markdown() {
  [[ -f $1 ]] || return 0
  { echo; timeout 60 "${tsx[@]}" bench/cuda.ts --report "$1" --markdown 2>&1; echo; } >> "$summary"
}
# compute-sanitizer's own verdict lines, one per process that used CUDA.
sanitizer_lines() { grep -ahE "(ERROR|RACECHECK|SYNCCHECK|INITCHECK) SUMMARY" "$@" | sort | uniq -c | sed 's/^ */  - /'; }

# run_one PHASE: one phase (a function, so that phases joined by '+' can run in subshells).
run_one() {
  local phase=$1 t0 rc extra chosen
  case $phase in
    variant)
      if built; then
        echo "- **variant**: not run: a local build exists, and the loader would take it" >> "$summary"
      elif ! compgen -G "prebuilds/*-cuda*/variant.json" > /dev/null; then
        echo "- **variant**: not run: no prebuilds/<platform>-cuda*/ was carried" >> "$summary"
      else
        run_phase variant-info "${tsx[@]}" lib/cli/main.ts info
        # (the JSON follows any loader line; variant-test runs the variant picked here)
        node -e "const t = require('fs').readFileSync(process.argv[1], 'utf8');
          const b = JSON.parse(t.slice(t.indexOf('{'), t.lastIndexOf('}') + 1)).binary;
          require('fs').writeFileSync(process.argv[2], b.variant);
          console.log('  - loaded: ' + b.variant + ' ' + b.path + ' ' + JSON.stringify(b.skipped))" \
          "$out/variant-info.log" "$out/variant.chosen" >> "$summary" 2>&1
      fi
      ;;
    variant-test)
      chosen=$(cat "$out/variant.chosen" 2>/dev/null)
      if [[ -z $chosen || $chosen == local ]]; then
        echo "- **variant-test**: not run: the variant phase picked no prebuilt binary (${chosen:-none})" >> "$summary"
      else
        run_phase variant-test env DYCO_RL_VARIANT="$chosen" "${vitest[@]}" run test/capabilities.test.ts test/cuda/fisher-rao.test.ts test/cuda/logits-policy-loss.test.ts
        echo "  - on the prebuilt variant $chosen (DYCO_RL_VARIANT)" >> "$summary"
        test_counts "$out/variant-test.log" >> "$summary"
      fi
      ;;
    build)
      build_phases
      ;;
    test)
      ensure_built
      node -e "console.log(JSON.stringify(require('./build/Release/dyco_rl.node').capabilities(), null, 2))" > "$results/capabilities.json" 2>&1
      # Without a usable GPU every CUDA suite skips and the phase still passes: say so up front.
      node -e "const c = JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8'));
        console.log(c.cuda ? '  - CUDA usable: ' + c.cudaDevice.name + ', sm ' + c.cudaDevice.computeCapability + ', kernels for ' + c.cudaDevice.architectures
                           : '  - **CUDA NOT usable** (the CUDA suites skip): ' + c.cudaReason)" "$results/capabilities.json" >> "$summary" 2>&1
      run_phase test "${vitest[@]}" run test/cuda
      test_counts "$out/test.log" >> "$summary"
      ;;
    bench)
      ensure_built
      [[ $background_builds == *" baseline-build "* ]] && await_background baseline-build
      run_phase bench "${tsx[@]}" bench/cuda.ts --require --out "$results/bench-cuda.json"
      bench_markdown "$results/bench-cuda.json"
      ;;
    logits)
      ensure_built
      run_phase logits-test "${vitest[@]}" run test/cuda/logits-policy-loss.test.ts
      test_counts "$out/logits-test.log" >> "$summary"
      run_phase logits-bench "${tsx[@]}" bench/cuda.ts --require --filter logitsPolicyLoss --out "$results/bench-logits.json"
      bench_markdown "$results/bench-logits.json"
      ;;
    runner)
      # The LibTorch runner against the machine's CUDA LibTorch (PyTorch's), which the kernel build
      # leaves out: its tests, whose 'Policy on CUDA' block checks trainStep's gradients through the
      # CUDA logits kernel there (the rest of them run on the CPU).
      ensure_built
      if [[ $background_builds == *" runner-build "* ]]; then
        await_background runner-build
      else
        run_phase runner-build bash -c build_runner
      fi
      grep -aE "dyco-rl .*: (runner|LibTorch)" "$out/runner-build.log" | sed 's/^-- /  - /' >> "$summary"
      # Which CUDA runtime the runner's kernels bound to: the static one linked into dyco_cuda, or
      # LibTorch's shared libcudart (GNU ld takes the first definition it sees on the link line).
      {
        echo "NEEDED:"; readelf -d build/Release/dyco_runner.node | grep NEEDED
        echo "undefined cuda* symbols (resolved at load time, i.e. by a shared runtime):"
        nm -D --undefined-only build/Release/dyco_runner.node | grep -E ' U (cuda|__cuda)' | head -40
      } > "$out/runner-linkage.log" 2>&1
      echo "  - runner linkage: $(grep -c libcudart "$out/runner-linkage.log") libcudart NEEDED entries, $(grep -cE ' U (cuda|__cuda)' "$out/runner-linkage.log") undefined cuda symbols (runner-linkage.log)" >> "$summary"
      run_phase runner-test "${vitest[@]}" run test/policy.test.ts test/trainer.test.ts
      test_counts "$out/runner-test.log" >> "$summary"
      ;;
    runner-bench)
      [[ -f build/Release/dyco_runner.node ]] || run_one runner
      run_phase runner-bench "${tsx[@]}" bench/runner.ts --quick --device cuda --out "$results/bench-runner.json"
      ;;
    memcheck | racecheck | synccheck | initcheck)
      ensure_built
      extra=()
      [[ $phase == racecheck ]] && extra=(--racecheck-report analysis)
      rm -f "$out/$phase".*.log
      # (DYCO_RL_UNDER_SANITIZER: the test that makes an allocation fail on purpose stays out)
      run_phase "$phase" env DYCO_RL_UNDER_SANITIZER=1 "${sanitizer[@]}" --tool "$phase" "${extra[@]}" \
        --log-file "$out/$phase.%p.log" "${vitest[@]}" run test/cuda --pool=forks
      test_counts "$out/$phase.log" >> "$summary"
      sanitizer_lines "$out/$phase".*.log >> "$summary" 2>/dev/null || echo "  - no sanitizer summary found" >> "$summary"
      ;;
    profile)
      # Nsight Compute on the cases that miss their bandwidth goal, and on float32 FR adjacent (which
      # meets it) to compare with: the benchmark runs one case with one rep, and the first launch of
      # the kernel (its check against the CPU) is profiled. Per case: profile.<n>.log; all of them
      # come back in $OUT/profile.txt too. Cases: GPU_CHECK_PROFILE, "filter|kernel regex;…".
      ensure_built
      local cases=${GPU_CHECK_PROFILE:-"attentionStats 64×4096×1024 float32|AttentionStatsKernel;attentionStats 64×512×1024 bfloat16|AttentionStatsKernel;fisherRaoAdjacent 64×4096×1024 bfloat16|FisherRaoAdjacentKernel;fisherRaoAdjacent 64×4096×1024 float32|FisherRaoAdjacentKernel"}
      local n=0 item filter kernel
      local -a items
      IFS=';' read -ra items <<< "$cases"
      : > "$results/profile.txt"
      for item in "${items[@]}"; do
        n=$((n + 1))
        filter=${item%%|*}
        kernel=${item#*|}
        run_phase "profile.$n" ncu --clock-control none --target-processes all -k "regex:$kernel" --launch-count 1 \
          --section SpeedOfLight --section LaunchStats --section Occupancy --section WarpStateStats \
          --section SchedulerStats --section ComputeWorkloadAnalysis --section MemoryWorkloadAnalysis \
          --section InstructionStats --section SourceCounters \
          "${tsx[@]}" bench/cuda.ts --require --reps 1 --filter "$filter" --out "$out/profile.$n.json"
        echo "  - $filter ($kernel)" >> "$summary"
        { echo "=== $filter ($kernel)"; grep -av '^\[' "$out/profile.$n.log"; } >> "$results/profile.txt"
      done
      ;;
    variants)
      # A/B of kernel builds made on another machine (nvcc there is the same 13.0; the prebuilt
      # variant shows such binaries run here): each $GPU_CHECK_VARIANTS/<name>.node[.xz] (default
      # .exp/, carried) is loaded through DYCO_RL_BINARY, checked by the CUDA suites named in
      # GPU_CHECK_VARIANT_TESTS, and benchmarked on the cases of each filter in
      # GPU_CHECK_VARIANT_FILTERS (';'-separated); each run's table goes into the summary. No
      # local build is needed.
      local dir=${GPU_CHECK_VARIANTS:-.exp} file name binary k filter table
      local -a filters tests
      # (unpacked outside the logs' folder: six ~16 MB binaries in logs.tar.gz would take it past
      # what the device tool brings back, 16 MiB a file)
      local unpacked
      unpacked=$(mktemp -d /tmp/gpu-check-variants.XXXXXX)
      IFS=';' read -ra filters <<< "${GPU_CHECK_VARIANT_FILTERS:-attentionStats;fisherRaoAdjacent 64×}"
      read -ra tests <<< "${GPU_CHECK_VARIANT_TESTS:-test/cuda/attention-stats.test.ts test/cuda/fisher-rao.test.ts}"
      for file in "$dir"/*.node.xz "$dir"/*.node; do
        [[ -f $file ]] || continue
        name=$(basename "$file")
        name=${name%%.node*}
        binary=$unpacked/$name.node
        if [[ $file == *.xz ]]; then xz -dc "$file" > "$binary"; else cp "$file" "$binary"; fi
        run_phase "variant-$name-test" env DYCO_RL_BINARY="$binary" "${vitest[@]}" run "${tests[@]}"
        test_counts "$out/variant-$name-test.log" >> "$summary"
        k=0
        for filter in "${filters[@]}"; do
          k=$((k + 1))
          run_phase "variant-$name-bench-$k" env DYCO_RL_BINARY="$binary" "${tsx[@]}" bench/cuda.ts --require \
            --filter "$filter" --out "$out/variant-$name-bench-$k.json"
          table=$(sed -n '/^kernel /,/^moved/p' "$out/variant-$name-bench-$k.log" | grep -v '^moved')
          if [[ -n $table ]]; then
            printf '```\n%s\n```\n' "$table" >> "$summary"
          else
            echo "  - $(tail -1 "$out/variant-$name-bench-$k.log")" >> "$summary"
          fi
        done
        rm -f "$binary"
      done
      rmdir "$unpacked"
      ;;
    suite)
      ensure_built
      run_phase suite env DYCO_RL_DEVICE=cuda "${vitest[@]}" run
      test_counts "$out/suite.log" >> "$summary"
      ;;
    *)
      echo "- unknown phase '$phase' (variant, build, test, bench, profile, variants, logits, runner, runner-bench, memcheck, racecheck, suite, synccheck, initcheck, variant-test; '+' joins phases that run at once)" >> "$summary"
      ;;
  esac
}

# The logs so far, packed again after every phase: what a call stopped early brings back.
pack_logs() { tar -czf "$results/logs.tar.gz.part" -C "$out" . 2>/dev/null; mv -f "$results/logs.tar.gz.part" "$results/logs.tar.gz"; }

# run_together PHASE...: the phases at once, each summarising into its own file, appended in order.
run_together() {
  local p pids=()
  ensure_built  # (once, here, not in each of them)
  for p in "$@"; do
    (summary="$out/summary.$p.md"; : > "$summary"; run_one "$p") &
    pids+=($!)
  done
  wait "${pids[@]}"
  echo "- at the same time: $*" >> "$summary"
  for p in "$@"; do cat "$out/summary.$p.md" >> "$summary"; done
}

for phase in "${phases[@]}"; do
  if [[ $phase == *+* ]]; then
    IFS=+ read -ra together <<< "$phase"
    run_together "${together[@]}"
  else
    run_one "$phase"
  fi
  pack_logs
done

if grep -q '^kernel ' "$out/bench.log" 2>/dev/null; then
  { echo; echo '## GPU benchmark'; echo; echo '```'; sed -n '/^kernel /,/^JSON:/p' "$out/bench.log"; echo '```'; } >> "$summary"
fi
pack_logs && echo "- every log: logs.tar.gz ($(ls "$out" | wc -l) files)" >> "$summary"
cat "$summary"
