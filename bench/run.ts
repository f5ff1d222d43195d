/**
 * `npm run bench`: the CLI and the order of work. One job: run each case's three measurements
 * (native kernel, TypeScript oracle, copy roofline) in the same process, then hand the rows to
 * report.ts.
 *
 *   --quick            small sizes only, short budgets (CI smoke test)
 *   --filter <text>    only cases whose "kernel size" contains <text> (case-insensitive)
 *   --out <file>       JSON path (default bench/results/cpu-<cpu-slug>-<YYYY-MM-DD>.json)
 *   --device cuda      the GPU benchmark instead (bench/cuda.ts, which takes its own flags)
 */
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { capabilities } from '../lib/index.js';
import { addon } from '../lib/native.js';
import { allCases, type BenchCase } from './cases.js';
import { evaluateGoals, formatFooter, formatHeader, formatTable, formatTime, writeJson, type Header, type Row } from './report.js';
import { cpuModel, gitCommit, machineSlug as slug } from './machine.js';
import { defaultResultPath } from './result-file.js';
import { timeAsync, timeSync, timeSyncInterleaved, type TimingOptions } from './timing.js';

// `--device cuda` hands over to the GPU benchmark, which reads the rest of the flags itself.
const deviceFlag = process.argv.indexOf('--device');
if (deviceFlag >= 0 && process.argv[deviceFlag + 1] === 'cuda') {
  await import('./cuda.js');
  process.exit(0);
}

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    filter: { type: 'string' },
    out: { type: 'string' },
    device: { type: 'string', default: 'cpu' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});

if (args.help) {
  console.log('usage: npm run bench -- [--quick] [--filter <text>] [--out <file.json>] [--device cpu|cuda]');
  process.exit(0);
}
if (args.device !== 'cpu') {
  console.error(`--device must be 'cpu' (this benchmark) or 'cuda' (bench/cuda.ts), got '${args.device}'`);
  process.exit(1);
}

// Budgets per row. The native kernel gets many samples; the TypeScript loop at least 3 (its
// large sizes take a few hundred ms a call); the copy is the cheapest. A full run is 33 rows, about a minute on 2 cores.
const scale = args.quick ? 0.2 : 1;
const NATIVE: TimingOptions = { budgetMs: 500 * scale, minReps: 5, maxReps: 2000, warmupMs: 50 * scale };
const TS: TimingOptions = { budgetMs: 500 * scale, minReps: 3, maxReps: 1000, warmupMs: 100 * scale };
const COPY: TimingOptions = { budgetMs: 200 * scale, minReps: 5, maxReps: 2000, warmupMs: 20 * scale };

const now = new Date();
const outFile = args.out ?? defaultResultPath(`cpu-${slug}`, now, args.quick);

const header: Header = {
  cpu: cpuModel,
  cores: cpus().length,
  totalMemoryBytes: totalmem(),
  platform: `${process.platform}-${process.arch}`,
  node: process.version,
  capabilities: { ...capabilities() },
  numThreadsEnv: process.env.DYCO_RL_NUM_THREADS ?? null,
  commit: gitCommit(),
  date: now.toISOString(),
  quick: args.quick,
  filter: args.filter ?? null,
};

// The copy roofline reuses one pair of buffers, grown to the largest size seen, so a row's copy
// timing does not include allocating (and faulting in) hundreds of MiB.
let copySrc = new Float32Array(0);
let copyDst = new Float32Array(0);
function copyOf(bytes: number): () => void {
  const n = Math.max(1, Math.ceil(bytes / 4));
  if (copySrc.length < n) {
    copySrc = new Float32Array(0); // drop the old pair before allocating the new one
    copyDst = new Float32Array(0);
    copySrc = new Float32Array(n).fill(0.5);
    copyDst = new Float32Array(n);
  }
  const src = copySrc.subarray(0, n);
  const dst = copyDst.subarray(0, n);
  return () => addon.copyMemory(src, dst);
}

async function measure(c: BenchCase): Promise<Row[]> {
  const p = c.prepare();
  // One call each before timing: the outputs are compared so a fast but wrong kernel shows up.
  const maxRelDiff = p.relDiff(p.native(), p.ts());
  // Kernel and copy samples alternate (see timing.ts); the single-threaded TS loop runs on its own.
  const [native, copy] = await timeSyncInterleaved([p.native, copyOf(p.bytesRead)], [NATIVE, COPY]);
  const ts = await timeSync(p.ts, TS);
  const row = (kernel: string, nat: typeof native, tsShared: boolean, note?: string): Row => {
    const speedup = ts.medianMs / nat.medianMs;
    const copyFraction = copy.medianMs / nat.medianMs;
    return {
      kernel,
      size: c.size,
      tier: c.tier,
      params: c.params,
      bytesRead: p.bytesRead,
      bytesWritten: p.bytesWritten,
      native: nat,
      nativeGBps: (p.bytesRead + p.bytesWritten) / (nat.medianMs * 1e6),
      ts,
      tsShared,
      speedup,
      copy,
      copyFraction,
      goals: evaluateGoals(c.goals, speedup, copyFraction),
      maxRelDiff,
      note,
    };
  };
  const rows = [row(c.kernel, native, false, !(maxRelDiff <= 1e-3) ? `native and TS outputs differ by up to ${maxRelDiff.toExponential(1)} of their scale` : undefined)];
  if (p.async) {
    const asyncTiming = await timeAsync(p.async.fn, NATIVE);
    const ratio = asyncTiming.medianMs / native.medianMs;
    rows.push(row(p.async.kernel, asyncTiming, true, `async / sync time = ${ratio.toFixed(2)} (one awaited call at a time)`));
  }
  return rows;
}

async function main(): Promise<void> {
  const filter = args.filter?.toLowerCase();
  const cases = allCases().filter(
    (c) => (!args.quick || c.tier === 'small') && (!filter || `${c.kernel} ${c.size}`.toLowerCase().includes(filter)),
  );
  if (cases.length === 0) {
    console.error(`no case matches${filter ? ` filter "${args.filter}"` : ''}`);
    process.exit(1);
  }
  console.log(formatHeader(header));
  console.log('');

  const rows: Row[] = [];
  const t0 = performance.now();
  for (const [i, c] of cases.entries()) {
    process.stderr.write(`[${i + 1}/${cases.length}] ${c.kernel} ${c.size} … `);
    const caseRows = await measure(c);
    rows.push(...caseRows);
    process.stderr.write(
      caseRows.map((r) => `${formatTime(r.native.medianMs)} (${r.speedup.toFixed(1)}× TS, ${(100 * r.copyFraction).toFixed(0)}% copy)`).join('; ') + '\n',
    );
  }
  process.stderr.write(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n\n`);

  console.log(formatTable(rows));
  console.log('');
  console.log(formatFooter(rows));
  writeJson(outFile, header, rows);
  console.log(`\nJSON: ${outFile}`);
}

await main();
