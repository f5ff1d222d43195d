/**
 * Table and JSON output. One job: present the rows that run.ts measured.
 *
 * A plain aligned printer instead of a table library: the table is a dozen columns of short
 * strings, and the benchmark then needs nothing beyond the package's own dev dependencies.
 */
import type { Goals, Tier } from './cases.js';
import type { Timing } from './timing.js';
import { writeResultFile } from './result-file.js';

/** One measured row: a kernel at one size (or the Promise variant of one). */
export interface Row {
  kernel: string;
  size: string;
  tier: Tier;
  params: Record<string, unknown>;
  bytesRead: number;
  bytesWritten: number;
  native: Timing;
  /** (bytesRead + bytesWritten) / native median, in GB/s (10^9 bytes). */
  nativeGBps: number;
  ts: Timing;
  /** True when `ts` was measured for another row on the same inputs (the async row reuses the sync one). */
  tsShared: boolean;
  /** ts median / native median. */
  speedup: number;
  /** `copyMemory` over `bytesRead` bytes. */
  copy: Timing;
  /** copy median / native median: the achieved fraction of measured copy bandwidth. */
  copyFraction: number;
  goals: {
    speedup?: { target: number; value: number; met: boolean };
    copyFraction?: { target: number; value: number; met: boolean };
  };
  /** max |native − TypeScript| / max |TypeScript| over the main outputs, from one call each. */
  maxRelDiff: number;
  note?: string;
}

export interface Header {
  cpu: string;
  cores: number;
  totalMemoryBytes: number;
  platform: string;
  node: string;
  capabilities: Record<string, unknown>;
  numThreadsEnv: string | null;
  commit: string;
  date: string;
  quick: boolean;
  filter: string | null;
}

/** Evaluates the goals of a row. Goals apply only to large rows (they are declared only there). */
export function evaluateGoals(goals: Goals, speedup: number, copyFraction: number): Row['goals'] {
  const out: Row['goals'] = {};
  if (goals.minSpeedup !== undefined)
    out.speedup = { target: goals.minSpeedup, value: speedup, met: speedup >= goals.minSpeedup };
  if (goals.minCopyFraction !== undefined)
    out.copyFraction = { target: goals.minCopyFraction, value: copyFraction, met: copyFraction >= goals.minCopyFraction };
  return out;
}

// ---------------------------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------------------------

export function formatTime(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  if (ms < 1) return `${(ms * 1000).toFixed(ms < 0.01 ? 2 : 1)} µs`;
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1 << 20) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1 << 30) return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
  return `${(bytes / (1 << 30)).toFixed(2)} GiB`;
}

/** ✓ / ✗ for a goal, blank where none applies. */
export const mark = (g?: { met: boolean }): string => (g === undefined ? '' : g.met ? '✓' : '✗');

/** An aligned plain-text table (also used by the GPU benchmark, bench/cuda.ts). */
export function renderTable(head: string[], rightAligned: boolean[], body: string[][]): string {
  const widths = head.map((h, c) => Math.max(h.length, ...body.map((r) => r[c].length)));
  const line = (cells: string[]) =>
    cells.map((s, c) => (rightAligned[c] ? s.padStart(widths[c]) : s.padEnd(widths[c]))).join('  ').trimEnd();
  const rule = widths.map((w) => '─'.repeat(w)).join('──');
  return [line(head), rule, ...body.map(line)].join('\n');
}

export function formatHeader(h: Header): string {
  const caps = Object.entries(h.capabilities)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
  return [
    `dyco-rl CPU benchmark — ${h.date}`,
    `cpu:     ${h.cpu} × ${h.cores} cores, ${formatBytes(h.totalMemoryBytes)} RAM (${h.platform})`,
    `node:    ${h.node}`,
    `addon:   ${caps}${h.numThreadsEnv ? ` (DYCO_RL_NUM_THREADS=${h.numThreadsEnv})` : ''}`,
    `commit:  ${h.commit}`,
    `mode:    ${h.quick ? 'quick (small sizes only)' : 'full'}${h.filter ? `, filter "${h.filter}"` : ''}`,
  ].join('\n');
}

export function formatTable(rows: Row[]): string {
  const head = ['kernel', 'size', 'tier', 'moved', 'native', 'GB/s', 'TS loop', '×TS', 'copy', '%copy', '≥4×TS', '≥50%copy', 'reps n/ts'];
  const right = [false, false, false, true, true, true, true, true, true, true, false, false, true];
  const body = rows.map((r) => [
    r.kernel,
    r.size,
    r.tier,
    formatBytes(r.bytesRead + r.bytesWritten),
    formatTime(r.native.medianMs),
    r.nativeGBps.toFixed(2),
    formatTime(r.ts.medianMs) + (r.tsShared ? '*' : ''),
    `${r.speedup.toFixed(1)}×`,
    formatTime(r.copy.medianMs),
    `${(100 * r.copyFraction).toFixed(0)}%`,
    mark(r.goals.speedup),
    mark(r.goals.copyFraction),
    `${r.native.samples * r.native.batch}/${r.tsShared ? '–' : r.ts.samples * r.ts.batch}`,
  ]);
  return renderTable(head, right, body);
}

/** Lines under the table: the legend, the goal summary and any row notes. */
export function formatFooter(rows: Row[]): string {
  const lines = [
    'moved = compulsory bytes read + written per call; GB/s = moved / native time; native, TS loop, copy = median per call.',
    '×TS = TS loop time / native time; %copy = copyMemory time over the bytes read / native time (share of copy bandwidth).',
    'Goals are checked on large rows only. * = TS time of the sync row on the same inputs.',
  ];
  const checks = rows.flatMap((r) => Object.values(r.goals).filter((g) => g !== undefined));
  const missed = rows.filter((r) => Object.values(r.goals).some((g) => g !== undefined && !g.met));
  lines.push(`goals: ${checks.filter((g) => g.met).length}/${checks.length} met` +
    (missed.length ? ` — missed: ${missed.map((r) => `${r.kernel} ${r.size}`).join(', ')}` : ''));
  for (const r of rows) if (r.note) lines.push(`note: ${r.kernel} ${r.size}: ${r.note}`);
  return lines.join('\n');
}

export function writeJson(file: string, header: Header, rows: Row[]): void {
  const body = {
    ...header,
    units: { time: 'ms (median per call)', bandwidth: 'GB/s = 1e9 bytes/s', bytes: 'compulsory bytes per call' },
    rows,
  };
  writeResultFile(file, body);
}
