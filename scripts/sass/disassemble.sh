#!/usr/bin/env bash
# Compiles one kernel file of native/cuda/ for sm_90 and writes its SASS with source lines, for
# scripts/sass/hot_path.py:
#
#   bash scripts/sass/disassemble.sh native/cuda/attention_stats.cu > /tmp/attention_stats.sass
#
# nvdisasm: $NVDISASM, else the one next to nvcc (CUDA toolkits that ship it, as on the GPU
# machine). A disassembler older than the compiler (say Debian's nvidia-cuda-toolkit 11.8 beside
# nvcc 13.0, which ships none) rejects the cubin's newer ELF header; DYCO_SASS_RETAG=1 rewrites the
# header to the old encoding first (the machine code itself is the same). Nothing here runs a GPU.
set -euo pipefail
source_file=${1:?usage: disassemble.sh native/cuda/<kernel>.cu}
root="$(cd "$(dirname "$0")/../.." && pwd)"
nvdisasm=${NVDISASM:-"$(dirname "$(command -v nvcc)")/nvdisasm"}
[[ -x $nvdisasm ]] || { echo "no nvdisasm at $nvdisasm (set NVDISASM)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
nvcc -O3 -std=c++17 -cubin -arch=sm_90 -lineinfo -I"$root/native" -o "$work/kernel.cubin" "$source_file"
if [[ ${DYCO_SASS_RETAG:-0} == 1 ]]; then
  python3 - "$work/kernel.cubin" <<'EOF'
import struct, sys
path = sys.argv[1]
b = bytearray(open(path, 'rb').read())
flags = struct.unpack_from('<I', b, 0x30)[0]
sm = (flags >> 8) & 0xff               # CUDA 12.x+: the architecture in bits 8-15
b[7], b[8] = 0x33, 7                   # the OS/ABI and ABI version older disassemblers expect
struct.pack_into("<I", b, 0x30, (sm << 16) | 0x500 | sm)  # SM, texmode unified + 64-bit, virtual SM
open(path, 'wb').write(b)
EOF
fi
"$nvdisasm" -c -gi "$work/kernel.cubin"
