#!/usr/bin/env python3
"""The README's table of hot-path instruction counts, measured again from the sources as they are.

For each Fisher–Rao kernel: compiles its file for sm_90 (scripts/sass/disassemble.sh), then counts
(hot_path.py) the SASS of one step of the warp-team kernel on 1024-entry rows (32 entries per lane)
in the common case: full rows, chunks of a single region, ordinary masses (the ratio form), no bad
values. The code for everything else is left out of the count, found in the sources by the patterns
below rather than by line numbers, so the table follows edits (a pattern that no longer matches
stops the script):
  - the chunks past what the registers cache (the second read from memory),
  - chunks holding the prefix end m or a row's length, and chunks mixing regions,
  - the exact checks after the sign screen, and failure recording,
  - rows that shrink (the previous row summed again),
  - the float64 forms for zero-mass or extreme rows, the float64 sum of a chunk whose float32 sum
    overflowed, and FR's float64 fallback near π.
Two counts per kernel and type where the compiler shares code between whole chunks and the chunks
holding m (or mixing regions): with and without those chunks' lines (the true count lies between).
The MUFU column checks which count to believe: the ratio form takes 3 MUFU operations per entry,
~96 a step, so a count with far fewer left out lines the compiler shares with the common path.

usage: counts.py [--by-line N]   (NVDISASM and DYCO_SASS_RETAG as for disassemble.sh)
"""
import argparse
import collections
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hot_path import by_line, count_hot_path  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
ENTRIES_PER_LANE = 32  # a 1024-entry row over a warp's 32 lanes

# Code outside the common case shared by every kernel (common.cuh, row_math.cuh).
SHARED_RARE = [
    ('common.cuh', 'each', 'for (std::size_t c = lane + static_cast<std::size_t>(kCache) * kTeamSize; c < chunks; c += kTeamSize)', 2),  # VisitRow, VisitPair
    ('common.cuh', 'block', 'if (length < 0 || static_cast<std::size_t>(length) > width) {'),
    ('common.cuh', 'block', 'if (isinf(s)) {'),  # SumChunk's float64 sum after a float32 overflow
    ('row_math.cuh', 'lines', 'const double half = 0.5 * sqrt(d2);', 2),
]

KERNELS = [
    {
        'name': 'attentionStats',
        'source': 'attention_stats.cu',
        'functions': {'float32': 'AttentionStatsKernelIfLi4ELi1ELi8E', 'bfloat16': 'AttentionStatsKernelI13__nv_bfloat16Li8ELi1ELi4E'},
        'step': 'for (std::size_t t = t0; t < t1; ++t) {',
        'rare': [
            ('attention_stats.cu', 'block', 'for (std::size_t c = lane + static_cast<std::size_t>(kCache) * kTeamSize; c < chunks; c += kTeamSize) {'),
            ('attention_stats.cu', 'block', '} else if (oneRange) {'),  # mixed chunks and the chunks holding m or the length
            ('attention_stats.cu', 'line', 'CheckRegionKeys<T, TeamT>(row, length, modality'),
            ('attention_stats.cu', 'block', 'if (m < prevLength) {'),
            ('attention_stats.cu', 'else', 'if (RatioFormApplies(massPrev[0], massCur[0])'),
        ],
        'boundary': [('attention_stats.cu', 'block', '} else if (l.vision | l.text) {')],  # mixed chunks and the chunk holding m
    },
    {
        'name': 'fisherRaoAdjacent',
        'source': 'fisher_rao_adjacent.cu',
        'functions': {'float32': 'FisherRaoAdjacentKernelIfLi4ELi1ELi8E', 'bfloat16': 'FisherRaoAdjacentKernelI13__nv_bfloat16Li8ELi1ELi4E'},
        'step': 'for (std::size_t t = t0; t < t1; ++t) {',
        'rare': [
            ('fisher_rao_adjacent.cu', 'block', 'if (m < prevLength) {'),
            ('fisher_rao_adjacent.cu', 'lines', 'TeamT::Any(RecordBadPair(prevRow, row', 2),
            ('fisher_rao_adjacent.cu', 'else', 'if (RatioFormApplies(massPrev, massCur)) {'),
        ],
        'boundary': [
            ('fisher_rao_adjacent.cu', 'block', '} else {  // the chunks holding m or the length'),
            ('fisher_rao_adjacent.cu', 'block', '} else {  // the chunk holding m'),
        ],
    },
    {
        'name': 'fisherRao',
        'source': 'fisher_rao.cu',
        'functions': {'float32': 'FisherRaoKernelIfLi4ELi1ELi8E', 'bfloat16': 'FisherRaoKernelI13__nv_bfloat16Li8ELi1ELi4E'},
        'step': 'for (std::size_t row = TeamT::Global(); row < rows; row += TeamT::Count()) {',
        'rare': [
            ('fisher_rao.cu', 'lines', 'for (std::size_t c = lane + static_cast<std::size_t>(kCache) * TeamT::kSize; c < chunks; c += TeamT::kSize)', 2),
            ('fisher_rao.cu', 'lines', 'TeamT::Any(RecordBadPair(a, b, cols', 4),
            ('fisher_rao.cu', 'else', 'if (RatioFormApplies(sums[0], sums[1])) {'),
        ],
        'boundary': [],
    },
]


def source_lines(name):
    with open(os.path.join(ROOT, 'native', 'cuda', name)) as f:
        return f.read().split('\n')


def find_all(lines, pattern, name):
    hits = [i for i, line in enumerate(lines) if pattern in line]
    if not hits:
        sys.exit(f'counts.py: no line of {name} holds {pattern!r}: update the pattern')
    return hits


def find(lines, pattern, name):
    hits = find_all(lines, pattern, name)
    if len(hits) != 1:
        sys.exit(f'counts.py: {len(hits)} lines of {name} hold {pattern!r} (want exactly one): update the pattern')
    return hits[0]


def block_close(lines, start, through_else=True):
    """The line closing the brace opened on line `start`: after any `} else {` chain, or with
    through_else=False where that brace itself closes (the line of the `} else {` that follows)."""
    depth = 0
    for i in range(start, len(lines)):
        code = re.sub(r'//.*', '', lines[i])
        if i == start:
            code = re.sub(r'^\s*\}', '', code)  # (a `} else {` line opens its block)
        for ch in code:
            depth += (ch == '{') - (ch == '}')
            if depth == 0 and ch == '}' and not through_else:
                return i
        if depth == 0:
            return i
    sys.exit(f'counts.py: no closing brace for line {start + 1}')


def locate(locator):
    """The 1-based (file, first, last) line ranges of a locator."""
    name, kind, pattern = locator[:3]
    lines = source_lines(name)
    if kind == 'each':  # every line holding the pattern, and the lines after it
        return [(name, i + 1, i + locator[3]) for i in find_all(lines, pattern, name)]
    start = find(lines, pattern, name)
    if kind == 'line':
        return [(name, start + 1, start + 1)]
    if kind == 'lines':
        return [(name, start + 1, start + locator[3])]
    if kind == 'block':
        return [(name, start + 1, block_close(lines, start) + 1)]
    if kind == 'else':  # the else part of the if statement opened at the pattern
        closing = block_close(lines, start, through_else=False)
        if not re.search(r'\}\s*else\b', lines[closing]):
            sys.exit(f'counts.py: the if at {name}:{start + 1} has no else')
        return [(name, closing + 1, block_close(lines, closing) + 1)]
    sys.exit(f'counts.py: unknown locator {locator}')


def exclusions(locators):
    excluded = collections.defaultdict(set)  # (hot_path looks up every file an instruction came from)
    for locator in locators:
        for name, first, last in locate(locator):
            excluded[name].update(range(first, last + 1))
    return excluded


def disassemble(source):
    return subprocess.run(['bash', os.path.join(ROOT, 'scripts', 'sass', 'disassemble.sh'), os.path.join(ROOT, 'native', 'cuda', source)],
                          check=True, capture_output=True, text=True).stdout


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0], epilog=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--by-line', type=int, default=0, metavar='N', help='also list the N source lines holding the most instructions')
    most = parser.parse_args(argv[1:]).by_line
    print(f'{"kernel":<20} {"type":<9} {"per 1024-entry step":>20} {"per entry":>10} {"MUFU":>10}')
    for k in KERNELS:
        text = disassemble(k['source'])
        lines = source_lines(k['source'])
        first = find(lines, k['step'], k['source'])
        step = (first + 1, block_close(lines, first) + 1)
        rare = exclusions(SHARED_RARE + k['rare'])
        with_boundary = exclusions(SHARED_RARE + k['rare'] + k['boundary'])
        for dtype, function in k['functions'].items():
            counts, mufu = [], []
            for excluded in ([with_boundary, rare] if k['boundary'] else [rare]):
                kept = count_hot_path(text, function, k['source'], step[0], step[1], excluded)
                if not kept:
                    sys.exit(f'counts.py: nothing counted for {function} in {k["source"]}: was it renamed?')
                counts.append(len(kept))
                mufu.append(sum(op == 'MUFU' for op, _ in kept))
            total = '–'.join(str(c) for c in counts)
            per_entry = '–'.join(f'{c / ENTRIES_PER_LANE:.0f}' for c in counts)
            print(f'{k["name"]:<20} {dtype:<9} {total:>20} {per_entry:>10} {"–".join(map(str, mufu)):>10}')
            if most:
                print(by_line(kept, most))


if __name__ == '__main__':
    main(sys.argv)
