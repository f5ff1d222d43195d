#!/usr/bin/env bash
# Fetches a disassembler for scripts/sass/ on a machine whose CUDA toolkit ships none (nvcc 13.0
# here has no nvdisasm): Debian's nvidia-cuda-toolkit 11.8 from bookworm's non-free component,
# downloaded and unpacked under a scratch folder (default /tmp/dyco-nvdisasm) with a private apt
# source list, so the system's sources and packages are left as they are. Prints the export line
# for counts.py and disassemble.sh (the 11.8 disassembler needs the cubin's header retagged).
#
#   eval "$(bash scripts/sass/fetch-nvdisasm.sh)" && python3 scripts/sass/counts.py
set -euo pipefail
dir=${1:-/tmp/dyco-nvdisasm}
if [[ ! -x $dir/root/usr/bin/nvdisasm ]]; then
  mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
  echo 'deb http://deb.debian.org/debian bookworm non-free' > "$dir/sources.list"
  apt=(apt-get -q -o "Dir::Etc::sourcelist=$dir/sources.list" -o Dir::Etc::sourceparts=- -o "Dir::State::Lists=$dir/lists"
    -o "Dir::Cache=$dir/cache")
  "${apt[@]}" update >&2
  (cd "$dir" && "${apt[@]}" download nvidia-cuda-toolkit >&2)
  dpkg -x "$dir"/nvidia-cuda-toolkit_*.deb "$dir/root"
fi
echo "export NVDISASM=$dir/root/usr/bin/nvdisasm DYCO_SASS_RETAG=1"
