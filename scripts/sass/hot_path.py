#!/usr/bin/env python3
"""How many machine instructions (SASS) a kernel's hot path holds, from the disassembly alone.

Without a GPU there is no profiler, but the instruction count of a step's straight-line code tells
whether a kernel can keep up with memory: an H100/H200 multiprocessor issues 4 warp-instructions
per clock and its share of HBM bandwidth is ~16 bytes per clock, so a kernel that spends more than
~16 instructions per bfloat16 entry (~31 per float32 entry) is bound by instructions, not memory.

Counts the instructions of one function in `nvdisasm -c -gi` output whose outermost source line in
FILE lies in [LO, HI] (the hot loop's body), leaving out:
  - instructions with any frame on an excluded line (EXCL: N, A-B, or other.cuh:A-B), for the
    rare paths inside the range (error checks, fallbacks);
  - calls to CUDA's out-of-line slow paths (sqrt/division special cases) and what follows a call
    up to the next label;
  - the divergent-warp fallbacks of shuffles (the code a BRA.DIV jumps to), which a converged warp
    never runs.
It is a static count: each instruction once, both sides of a branch included unless excluded, so
it bounds the work of one pass through the range from above when the range holds no loops.

usage: hot_path.py [--by-line N] SASS FUNCTION_SUBSTRING FILE LO HI [EXCL ...]
       (scripts/sass/disassemble.sh writes SASS with line information; --by-line N also lists the
       N source lines holding the most instructions; scripts/sass/counts.py runs the README's table)
"""
import argparse
import collections
import re
import sys

FRAME = re.compile(r'//## File "([^"]+)", line (\d+)(.*)')
INLINED = re.compile(r'inlined at "([^"]+)", line (\d+)')
INSTRUCTION = re.compile(r'/\*[0-9a-f]{4,}\*/\s+(@!?U?P\w+\s+)?([A-Z][A-Z0-9_.]*)([^;]*)')
TARGET = re.compile(r'`\((\.L_x_\d+)\)')

CATEGORIES = {
    'MUFU': {'MUFU'},
    'FP64': {'DADD', 'DMUL', 'DFMA', 'DSETP'},
    'convert': {'F2F', 'I2F', 'F2I', 'F2FP', 'I2FP', 'F2IP'},
    'shuffle': {'SHFL'},
    'memory': {'LDG', 'STG', 'LDS', 'STS', 'LDL', 'STL', 'LDC', 'ATOMG', 'RED', 'REDG'},
    'FP32': {'FADD', 'FMUL', 'FFMA', 'FSETP', 'FSEL', 'FMNMX', 'FCHK'},
}


def parse_exclusions(args, default_file):
    excluded = collections.defaultdict(set)
    for arg in args:
        file, _, lines = arg.rpartition(':')
        first, _, last = lines.partition('-')
        excluded[file or default_file].update(range(int(first), int(last or first) + 1))
    return excluded


def count_hot_path(text, function, file, lo, hi, excluded):
    """The instructions kept, as (opcode, innermost source frame (file, line)) pairs."""
    divergent_targets = set(re.findall(r'BRA\.DIV\s+\S+,\s*`\((\.L_x_\d+)\)', text))

    inside = collecting = skipping = divergent = False
    frames, seen_labels, kept = [], set(), []
    for line in text.splitlines():
        if line.startswith('.text.'):
            inside = function in line
            continue
        if not inside:
            continue
        if '.type' in line and '$__internal' in line:  # CUDA's out-of-line helpers start here
            inside = False
            continue
        if line.startswith('.L_x_'):
            label = line.strip().rstrip(':')
            seen_labels.add(label)
            divergent = divergent or label in divergent_targets
            skipping = skipping and divergent
            continue
        m = FRAME.search(line)
        if m:
            chain = [(m.group(1), int(m.group(2)))] + [(f, int(n)) for f, n in INLINED.findall(m.group(3))]
            if not collecting:
                frames = []
            frames.append(chain)
            collecting = True
            continue
        m = INSTRUCTION.search(line)
        if not m:
            continue
        collecting = False
        predicate, op, operands = m.groups()
        if divergent:  # ends with the unconditional branch back into the converged code
            t = TARGET.search(operands)
            if op == 'BRA' and not predicate and t and t.group(1) in seen_labels:
                divergent = False
            continue
        if skipping:
            continue
        if op.startswith('CALL'):
            if kept and kept[-1][1]:  # the MOV of the return address
                kept.pop()
            skipping = True
            continue
        outer = [chain[-1] for chain in frames if chain[-1][0].endswith(file)]
        if not outer or not any(lo <= n <= hi for _, n in outer):
            continue
        if any(n in excluded[f.rsplit('/', 1)[-1]] for chain in frames for f, n in chain):
            continue
        base = op.split('.')[0]
        kept.append((base, base == 'MOV' and re.search(r',\s*0x[0-9a-f]+\s*$', operands) is not None, frames[0][0]))
    return [(base, frame) for base, _, frame in kept]


def summary(kept):
    categories = collections.Counter()
    for base, _ in kept:
        categories[next((name for name, ops in CATEGORIES.items() if base in ops), 'integer/control')] += 1
    ops = collections.Counter(base for base, _ in kept)
    return (f'{len(kept)} instructions: ' + ' '.join(f'{k}={v}' for k, v in categories.most_common()) +
            '\n  most frequent: ' + ' '.join(f'{k}={v}' for k, v in ops.most_common(12)))


def by_line(kept, most):
    """The source lines (innermost frame: the code itself, not where it was inlined) holding most instructions."""
    lines = collections.Counter(f'{f.rsplit("/", 1)[-1]}:{n}' for _, (f, n) in kept)
    return '\n'.join(f'  {count:5d}  {where}' for where, count in lines.most_common(most))


def main(argv):
    parser = argparse.ArgumentParser(description='Counts the SASS instructions of a kernel\'s hot path.', epilog=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--by-line', type=int, default=0, metavar='N', help='also list the N source lines holding the most instructions')
    parser.add_argument('sass')
    parser.add_argument('function', help='a substring of the kernel\'s mangled name')
    parser.add_argument('file', help='the kernel\'s source file (its name)')
    parser.add_argument('lo', type=int)
    parser.add_argument('hi', type=int)
    parser.add_argument('excluded', nargs='*', help='N, A-B or other.cuh:A-B')
    args = parser.parse_args(argv[1:])
    with open(args.sass) as f:
        kept = count_hot_path(f.read(), args.function, args.file, args.lo, args.hi, parse_exclusions(args.excluded, args.file))
    print(summary(kept))
    if args.by_line:
        print(f'source lines with the most instructions:\n{by_line(kept, args.by_line)}')


if __name__ == '__main__':
    main(sys.argv)
