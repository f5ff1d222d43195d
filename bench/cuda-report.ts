/**
 * The GPU benchmark's result (what bench/cuda.ts writes as JSON) and its presentation: the console
 * table at the end of a run, and the same result again from its JSON file (`npm run bench:cuda --
 * --report <file.json> [--markdown]`), as text or as the Markdown table the README quotes. One job:
 * present rows; nothing here measures.
 */
import type { CudaDeviceInfo } from '../lib/index.js';
import type { Tier } from './cases.js';
import { formatBytes, formatTime, mark, renderTable } from './report.js';

export type Dtype = 'float32' | 'float16' | 'bfloat16';

export interface Stats {
  medianMs: number;
  minMs: number;
  samples: number;
}

/** A goal checked on one row: its target, the measured value (null: not measured) and the verdict. */
export interface GoalCheck {
  target: number;
  value: number | null;
  met: boolean;
}

export interface GpuRow {
  kernel: string;
  size: string;
  dtype: Dtype;
  tier: Tier;
  params: Record<string, unknown>;
  bytesRead: number;
  bytesWritten: number;
  cuda: Stats;
  gbps: number;
  copy: Stats;
  copyFraction: number;
  torch: Stats | null;
  torchSpeedup: number | null;
  goals: { copyFraction?: GoalCheck; torchSpeedup?: GoalCheck; memoryRatio?: GoalCheck };
  /** Peak extra device bytes of one call: the kernel's (pool high-water mark) and LibTorch's (caching allocator's reservation). */
  memory?: { kernel: number; torch: number | null; ratio: number | null };
  maxRelDiffVsCpu: number;
  note?: string;
}

/** A case that threw instead of giving a row: what it was and why. */
export interface FailedCase {
  kernel: string;
  size: string;
  dtype: Dtype;
  error: string;
}

/** The JSON file: the header, the rows, the failures, and whether every planned case ran. */
export interface GpuResult {
  gpu: CudaDeviceInfo;
  cpu: string;
  node: string;
  libtorch: { version: string } | { unavailable: string };
  commit: string;
  date: string;
  quick: boolean;
  filter: string | null;
  complete: boolean;
  casesPlanned: number;
  rows: GpuRow[];
  failures: FailedCase[];
}

/**
 * A GPU result read back from its JSON text, after checking that it is one (a CPU benchmark's JSON,
 * or anything else, gets an error that says what is missing, not a TypeError deep in the formatting).
 */
export function parseGpuResult(text: string, file: string): GpuResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file} is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const v = value as Partial<GpuResult> | null;
  const missing = [
    typeof v?.gpu?.name !== 'string' && 'gpu.name',
    !Array.isArray(v?.rows) && 'rows',
    !Array.isArray(v?.failures) && 'failures',
    typeof v?.complete !== 'boolean' && 'complete',
  ].filter(Boolean);
  if (missing.length) throw new Error(`${file} is not a GPU benchmark result (bench:cuda's JSON): no ${missing.join(', ')}`);
  return v as GpuResult;
}

const caseName = (r: { kernel: string; size: string; dtype: string }): string => `${r.kernel} ${r.size} ${r.dtype}`;

/** The goal summary line: how many checks passed, and which rows missed one. */
function goalLine(rows: GpuRow[]): string {
  const checks = rows.flatMap((r) => Object.values(r.goals));
  const missed = rows.filter((r) => Object.values(r.goals).some((g) => !g.met));
  return `goals: ${checks.filter((g) => g.met).length}/${checks.length} met${missed.length ? ` — missed: ${missed.map(caseName).join(', ')}` : ''}`;
}

/** The rows with a peak-memory measurement (the logits loss): speed, bandwidth and memory against their goals. */
function memoryLines(rows: GpuRow[]): string[] {
  return rows
    .filter((r) => r.memory)
    .map((r) => {
      const m = r.memory!;
      const g = r.goals;
      const copyGoal = g.copyFraction ? ` (goal ≥${(100 * g.copyFraction.target).toFixed(0)}%)` : '';
      return (
        `${caseName(r)}: ${r.torchSpeedup === null ? 'no LibTorch baseline' : `${r.torchSpeedup.toFixed(1)}× faster than LibTorch`}` +
        `${g.torchSpeedup ? ` (goal ≥${g.torchSpeedup.target}×)` : ''}, ${(100 * r.copyFraction).toFixed(0)}% of copy bandwidth${copyGoal}, ` +
        `peak extra memory ${formatBytes(m.kernel)} vs LibTorch ${m.torch === null ? '–' : formatBytes(m.torch)} = ` +
        `${m.ratio === null ? '–' : `${m.ratio.toFixed(0)}×`} less${g.memoryRatio ? ` (goal ≥${g.memoryRatio.target}×) ${mark(g.memoryRatio)}` : ''}`
      );
    });
}

/** The rows' notes (a LibTorch composite that failed, CUDA and CPU outputs that differ, …). */
function noteLines(rows: GpuRow[]): string[] {
  return rows.filter((r) => r.note).map((r) => `note: ${caseName(r)}: ${r.note}`);
}

/** The cases that threw, and whether the run stopped before its last case. */
function failureLines(result: Pick<GpuResult, 'rows' | 'failures' | 'complete' | 'casesPlanned'>): string[] {
  const lines = result.failures.map((f) => `FAILED: ${caseName(f)}: ${f.error}`);
  if (!result.complete) lines.push(`INCOMPLETE: the run stopped after ${result.rows.length + result.failures.length} of ${result.casesPlanned} cases`);
  return lines;
}

/** What stands under the console table: legend, goals, notes, memory lines, failures, completeness. */
function footerLines(result: Pick<GpuResult, 'rows' | 'failures' | 'complete' | 'casesPlanned'>): string[] {
  const { rows } = result;
  const lines = [
    'moved = compulsory bytes read + written per call; CUDA, copy, LibTorch = median of the reps (CUDA events).',
    '%copy = time of a device-to-device copy of the bytes the kernel reads / kernel time (a copy also writes them, so a',
    'read-and-reduce kernel at full bandwidth shows ~200%); ×LibTorch = LibTorch composite time / kernel time.',
    goalLine(rows),
    ...noteLines(rows),
    ...memoryLines(rows),
  ];
  if (rows.some((r) => r.memory)) {
    lines.push(
      'peak extra memory: kernel = high-water mark of the stream-ordered pool over one call minus its use before (cudaMemPoolAttrUsedMemHigh);',
      'LibTorch = growth of used device memory (cudaMemGetInfo) over one run after emptying its caching allocator.',
    );
  }
  return [...lines, ...failureLines(result)];
}

/** The aligned console table and its footer, as printed at the end of a run. */
export function formatGpuTable(result: Pick<GpuResult, 'rows' | 'failures' | 'complete' | 'casesPlanned'>): string {
  const head = ['kernel', 'size', 'dtype', 'moved', 'CUDA', 'GB/s', 'copy', '%copy', 'LibTorch', '×LibTorch', '≥80%copy', '≥5×LibTorch'];
  const body = result.rows.map((r) => [
    r.kernel,
    r.size,
    r.dtype,
    formatBytes(r.bytesRead + r.bytesWritten),
    formatTime(r.cuda.medianMs),
    r.gbps.toFixed(0),
    formatTime(r.copy.medianMs),
    `${(100 * r.copyFraction).toFixed(0)}%`,
    r.torch ? formatTime(r.torch.medianMs) : '–',
    r.torchSpeedup ? `${r.torchSpeedup.toFixed(1)}×` : '–',
    mark(r.goals.copyFraction),
    mark(r.goals.torchSpeedup),
  ]);
  const table = renderTable(head, [false, false, false, true, true, true, true, true, true, true, false, false], body);
  return [table, '', ...footerLines(result)].join('\n');
}

/** The line that names where and what was measured; every table of numbers carries it. */
export function describeRun(result: GpuResult): string {
  const g = result.gpu;
  const torch = 'version' in result.libtorch ? `LibTorch ${result.libtorch.version}` : `no LibTorch baseline (${result.libtorch.unavailable})`;
  return (
    `${g.name} (compute ${g.computeCapability}, ${formatBytes(g.memoryBytes)}, ${g.multiprocessors} SMs; driver CUDA ${g.driver}, runtime ${g.runtime}; ` +
    `kernels built for ${g.architectures}), host ${result.cpu}, Node ${result.node}, ${torch}; commit ${result.commit}, ${result.date}` +
    `${result.quick ? ', quick run' : ''}${result.filter ? `, filter "${result.filter}"` : ''}`
  );
}

/** A goal cell: the measured value, the target and ✓/✗ (blank where the row has no such goal). */
function goalCell(check: GoalCheck | undefined, format: (v: number) => string): string {
  if (!check) return '';
  return `${check.value === null ? '–' : format(check.value)} ${mark(check)} (≥${format(check.target)})`;
}

/** The result as a Markdown table, headed by the hardware it was measured on (for the README and notes). */
export function formatGpuMarkdown(result: GpuResult): string {
  const percent = (v: number) => `${(100 * v).toFixed(0)}%`;
  const times = (v: number) => `${v.toFixed(1)}×`;
  const lines = [
    `Measured on ${describeRun(result)}.`,
    '',
    '| kernel | size | dtype | CUDA | GB/s | share of copy bandwidth | × LibTorch | peak extra memory (kernel / LibTorch) |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of result.rows) {
    const copy = goalCell(r.goals.copyFraction, percent) || percent(r.copyFraction);
    const torch = goalCell(r.goals.torchSpeedup, times) || (r.torchSpeedup === null ? '–' : times(r.torchSpeedup));
    const memory = r.memory
      ? `${formatBytes(r.memory.kernel)} / ${r.memory.torch === null ? '–' : formatBytes(r.memory.torch)}${r.goals.memoryRatio ? ` ${goalCell(r.goals.memoryRatio, times)}` : ''}`
      : '';
    lines.push(`| ${r.kernel} | ${r.size} | ${r.dtype} | ${formatTime(r.cuda.medianMs)} | ${r.gbps.toFixed(0)} | ${copy} | ${torch} | ${memory} |`);
  }
  lines.push('', goalLine(result.rows), ...[...noteLines(result.rows), ...failureLines(result)].map((line) => `- ${line}`));
  return lines.join('\n');
}
