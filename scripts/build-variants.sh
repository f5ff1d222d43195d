#!/usr/bin/env bash
# Builds variants of the kernel addon here, for an A/B of kernel versions in one call on the GPU
# machine (scripts/gpu-check.sh's variants phase): each lands in .exp/<name>.node.xz (about
# 1.7 MiB: sm_90 only, debug sections stripped; git ignores .exp/ through .git/info/exclude), which
# the device tool then carries: `carry: [".device", ".exp"]`, command
# `source .device/env.sh && bash scripts/gpu-check.sh variants`.
#
#   bash scripts/build-variants.sh base 'attn2|-DDYCO_ATTENTION_MIN_BLOCKS=2' \
#     'carry||140ad89^ native/cuda/fisher_rao_adjacent.cu'
#
# (the README's "Prepared as an A/B" table lists the variants waiting for a GPU)
#
# A variant is NAME[|CUDA_FLAGS[|REV [PATH...]]]: CUDA_FLAGS go on nvcc's command line
# (CMAKE_CUDA_FLAGS; the kernels read DYCO_ATTENTION_MIN_BLOCKS and DYCO_ADJACENT_MIN_BLOCKS);
# REV is a git revision whose PATHs (default: all of native/cuda/) replace the working tree's.
# Everything else is the working tree's tracked files as they are now, uncommitted edits included.
# The variants build one after another in temporary copies of the tree, a couple of minutes each on
# 2 cores. nvcc here is the GPU machine's version (13.0): the prebuilt CUDA binary built here ran
# there.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
if (($# == 0)); then
  sed -n '2,/^set /p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'
  exit 1
fi
mkdir -p .exp .git/info
grep -qx '/.exp/' .git/info/exclude 2>/dev/null || echo '/.exp/' >> .git/info/exclude

for spec in "$@"; do
  IFS='|' read -r name flags from <<< "$spec"
  if [[ ! $name =~ ^[A-Za-z0-9_-]+$ ]]; then
    echo "build-variants: variant name '$name' must be letters, digits, '_' and '-' (it names a file the device tool brings back)" >&2
    exit 1
  fi
  work=$(mktemp -d "/tmp/dyco-variant-$name.XXXXXX")
  git ls-files -z | tar --null -cf - -T - | tar -xf - -C "$work"
  if [[ -n ${from:-} ]]; then
    read -r rev paths <<< "$from"
    paths=${paths:-native/cuda}
    # (a whole folder is replaced, so files the revision lacks do not linger)
    for path in $paths; do rm -rf "${work:?}/$path"; done
    # shellcheck disable=SC2086  # (the paths are separate words)
    git archive "$rev" $paths | tar -xf - -C "$work"
  fi
  ln -s "$root/node_modules" "$work/node_modules"
  echo "== $name: CUDA flags '${flags:-}'${from:+; from $from}"
  if ! (cd "$work" && npx cmake-js compile --CDCMAKE_CUDA_ARCHITECTURES=90-real --CDDYCO_CUDA=ON --CDDYCO_TORCH=OFF \
    --CDDYCO_BENCH_TORCH=OFF ${flags:+"--CDCMAKE_CUDA_FLAGS=$flags"} > build.log 2>&1); then
    tail -30 "$work/build.log"
    echo "build-variants: $name did not build (the tree is kept at $work)" >&2
    exit 1
  fi
  strip --strip-debug "$work/build/Release/dyco_rl.node"
  xz -T0 -6 -c "$work/build/Release/dyco_rl.node" > ".exp/$name.node.xz"
  echo "   .exp/$name.node.xz, $(du -k ".exp/$name.node.xz" | cut -f1) KiB"
  rm -rf "$work"
done
