// The GPU benchmark's report (bench/cuda-report.ts), run on a result written by hand: every row and
// failure shows, each goal's verdict follows its `met` flag, and a cut-short run says so. (The
// numbers themselves are only formatted here; bench/cuda.ts measures them.)
import { describe, expect, it } from 'vitest';
import { formatGpuMarkdown, formatGpuTable, parseGpuResult, type GpuResult, type GpuRow } from '../bench/cuda-report.js';

function row(kernel: string, copyFraction: number, torchSpeedup: number | null, extra: Partial<GpuRow> = {}): GpuRow {
  const stats = (ms: number) => ({ medianMs: ms, minMs: ms, samples: 20 });
  return {
    kernel,
    size: '64×512×1024',
    dtype: 'float32',
    tier: 'large',
    params: {},
    bytesRead: 2 ** 27,
    bytesWritten: 2 ** 17,
    cuda: stats(0.1),
    gbps: 1343,
    copy: stats(0.1 * copyFraction),
    copyFraction,
    torch: torchSpeedup === null ? null : stats(0.1 * torchSpeedup),
    torchSpeedup,
    goals: {
      copyFraction: { target: 0.8, value: copyFraction, met: copyFraction >= 0.8 },
      torchSpeedup: { target: 5, value: torchSpeedup, met: torchSpeedup !== null && torchSpeedup >= 5 },
    },
    maxRelDiffVsCpu: 1e-7,
    ...extra,
  };
}

const result: GpuResult = {
  gpu: {
    name: 'NVIDIA H200',
    computeCapability: '9.0',
    memoryBytes: 150 * 2 ** 30,
    multiprocessors: 132,
    driver: '13.0',
    runtime: '13.0',
    architectures: '90-real',
  },
  cpu: 'Some CPU × 16',
  node: 'v20.20.2',
  libtorch: { version: '2.11.0' },
  commit: 'abc1234',
  date: '2026-12-03T00:00:00.000Z',
  quick: false,
  filter: null,
  complete: false,
  casesPlanned: 5,
  rows: [row('fisherRaoAdjacent', 0.91, 12.5), row('attentionStats', 0.62, 7.1, { note: 'a note' })],
  failures: [{ kernel: 'policyLoss/grpo', size: '64×4096', dtype: 'float32', error: 'CUDA error: out of memory' }],
};

describe('GPU benchmark report', () => {
  it('heads the Markdown with the hardware and commit, and gives one table line per row', () => {
    const md = formatGpuMarkdown(result).split('\n');
    expect(md[0]).toMatch(/^Measured on NVIDIA H200 \(compute 9\.0, .*132 SMs.*LibTorch 2\.11\.0; commit abc1234/);
    const tableRows = md.filter((l) => l.startsWith('| ') && !l.startsWith('| kernel'));
    expect(tableRows).toHaveLength(2);
    expect(tableRows[0]).toContain('| fisherRaoAdjacent |');
    expect(tableRows[0]).toContain('91% ✓ (≥80%)');
    expect(tableRows[0]).toContain('12.5× ✓ (≥5.0×)');
    expect(tableRows[1]).toContain('62% ✗ (≥80%)');
    expect(tableRows[1]).toContain('7.1× ✓ (≥5.0×)');
  });

  it('counts the goals met, names the rows that missed one, and lists notes, failures and the cut-short run', () => {
    for (const text of [formatGpuMarkdown(result), formatGpuTable(result)]) {
      expect(text).toContain('goals: 3/4 met — missed: attentionStats 64×512×1024 float32');
      expect(text).toContain('attentionStats 64×512×1024 float32: a note');
      expect(text).toContain('FAILED: policyLoss/grpo 64×4096 float32: CUDA error: out of memory');
      expect(text).toContain('INCOMPLETE: the run stopped after 3 of 5 cases');
    }
    const complete = { ...result, complete: true, casesPlanned: 3 };
    expect(formatGpuMarkdown(complete)).not.toContain('INCOMPLETE');
  });

  it('shows a missing LibTorch baseline as a missed goal, not as a speed-up', () => {
    const noTorch = { ...result, rows: [row('fisherRaoAdjacent', 0.9, null)], failures: [], complete: true, casesPlanned: 1 };
    const line = formatGpuMarkdown(noTorch).split('\n').find((l) => l.startsWith('| fisherRaoAdjacent'))!;
    expect(line).toContain('– ✗ (≥5.0×)');
    expect(formatGpuTable(noTorch)).toContain('goals: 1/2 met');
  });

  it('reads a result back from its JSON, and says what is missing from a file that is not one', () => {
    expect(parseGpuResult(JSON.stringify(result), 'gpu.json')).toEqual(result);
    const cpuResult = JSON.stringify({ cpu: 'AMD EPYC', rows: [] });
    expect(() => parseGpuResult(cpuResult, 'cpu.json')).toThrow('cpu.json is not a GPU benchmark result (bench:cuda\'s JSON): no gpu.name, failures, complete');
    expect(() => parseGpuResult('# not json', 'README.md')).toThrow(/^README\.md is not JSON/);
  });
});
