/**
 * Training-run charts: a trainer's metrics JSONL rendered as one SVG file a person can open.
 *
 * The chart is a vega-lite spec (a 2-column `concat` of small panels) compiled to vega and
 * rendered headless with `renderer: 'none'`, so no canvas or browser is needed; the SVG is
 * produced by vega's own string renderer.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** One line of the trainer's metrics JSONL (fields may be missing on some lines). */
export interface MetricsRecord {
  /** RL step (the x axis). */
  step: number;
  /** Training phase of the line; a missing phase counts as `'rl'`. */
  phase?: 'sft' | 'rl' | 'eval';
  /** Which evaluation an `'eval'` line is; `'initial'` (before the warm start) is not plotted. */
  evaluation?: 'initial' | 'beforeRl' | 'during' | 'final';
  /** Mean total reward of the step's rollouts. */
  reward?: number;
  /** Mean accuracy reward of the step's rollouts (train). */
  accuracy?: number;
  /** Accuracy on the held-out set; present on evaluation lines. */
  heldOutAccuracy?: number;
  /** KL divergence to the reference policy. */
  kl?: number;
  /** Share of tokens whose ratio was clipped (`clipFractionLow + clipFractionHigh`). */
  clipFraction?: number;
  /** Share of active tokens whose DyCo role is vision (0..1). */
  visionShare?: number;
  /** Share of active tokens whose DyCo role is text (0..1). */
  textShare?: number;
  /** Share of active tokens whose DyCo role is neutral (0..1). */
  neutralShare?: number;
}

/** Layout options for {@link renderMetricsChart} / {@link writeMetricsChart}. */
export interface ChartOptions {
  /** Overall title; defaults to `'Training metrics'`. */
  title?: string;
  /** Width of one panel's plot area in pixels; a positive number, default 320. */
  width?: number;
  /** Height of one panel's plot area in pixels; a positive number, default 160. */
  height?: number;
}

/**
 * Most points drawn per series. Beyond this a line gains no visible detail at panel widths of a
 * few hundred pixels, while the SVG (and render time) keeps growing linearly with the run.
 */
export const MAX_POINTS_PER_SERIES = 2000;

const DEFAULT_TITLE = 'Training metrics';
const DEFAULT_WIDTH = 320;
const DEFAULT_HEIGHT = 160;

/** The numeric fields of a record that can be plotted. */
type MetricKey = Exclude<keyof MetricsRecord, 'step' | 'phase'>;

interface SeriesDef {
  key: MetricKey;
  /** Legend label. */
  label: string;
  /** Fixed colour, so a series keeps its colour whichever other series are present. */
  color: string;
}

interface PanelDef {
  /** vega-lite view name; shows up in the SVG's mark classes (`<name>_…_marks`). */
  name: string;
  title: string;
  yTitle: string;
  /** `'train'`: RL-step lines; `'eval'`: held-out evaluations. */
  source: 'train' | 'eval';
  series: SeriesDef[];
  /** Draw points over the line (sparse series such as evaluations). */
  points?: boolean;
  /** Whether the y scale must include 0 (shares, fractions) or may zoom to the data. */
  yZero: boolean;
}

/** The panels, in reading order (left to right, top to bottom). */
const PANELS: readonly PanelDef[] = [
  {
    name: 'reward',
    title: 'Reward',
    yTitle: 'Mean over rollouts',
    source: 'train',
    series: [
      { key: 'reward', label: 'reward', color: '#4c78a8' },
      { key: 'accuracy', label: 'train accuracy', color: '#f58518' },
    ],
    yZero: false,
  },
  {
    name: 'heldout',
    title: 'Held-out accuracy',
    yTitle: 'Accuracy',
    source: 'eval',
    series: [{ key: 'heldOutAccuracy', label: 'held-out accuracy', color: '#54a24b' }],
    points: true,
    yZero: false,
  },
  {
    name: 'kl',
    title: 'KL',
    yTitle: 'KL divergence',
    source: 'train',
    series: [{ key: 'kl', label: 'KL', color: '#e45756' }],
    yZero: false,
  },
  {
    name: 'clip',
    title: 'Clip fraction',
    yTitle: 'Fraction of tokens clipped',
    source: 'train',
    series: [{ key: 'clipFraction', label: 'clip fraction', color: '#b279a2' }],
    yZero: true,
  },
  {
    name: 'roles',
    title: 'DyCo token roles',
    yTitle: 'Share of active tokens',
    source: 'train',
    // Three lines rather than a stacked area: the shares need not sum to exactly 1 (rounding,
    // roles left unassigned), and separate lines keep each share readable on its own.
    series: [
      { key: 'visionShare', label: 'vision', color: '#4c78a8' },
      { key: 'textShare', label: 'text', color: '#f58518' },
      { key: 'neutralShare', label: 'neutral', color: '#9d9d9d' },
    ],
    yZero: true,
  },
];

/** One plotted point, in the long format the panels' data uses. */
interface Point {
  step: number;
  value: number;
  series: string;
}

type ConcatSpec = Extract<TopLevelSpec, { concat: unknown }>;
type PanelSpec = ConcatSpec['concat'][number];

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function checkSize(name: string, v: number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (!isFiniteNumber(v) || v <= 0) throw new RangeError(`ChartOptions.${name} must be a positive number, got ${String(v)}`);
  return v;
}

/**
 * Largest-triangle-three-buckets downsampling of points sorted by step.
 *
 * Unlike taking every k-th point, LTTB keeps the spikes and dips a reader looks for (a reward
 * collapse, a KL blow-up), and it always keeps the first and last points so the line spans the
 * whole run. Areas are computed in data units; an affine rescaling of either axis scales every
 * area by the same factor, so the choice does not depend on the plot's aspect ratio.
 */
function downsample(points: Point[], max: number): Point[] {
  const n = points.length;
  if (n <= max) return points;
  const out: Point[] = [points[0]!];
  // n - 2 interior points into max - 2 buckets; n > max ≥ 3 makes every bucket non-empty.
  const every = (n - 2) / (max - 2);
  let a = points[0]!;
  for (let i = 0; i < max - 2; i++) {
    const nextStart = Math.floor((i + 1) * every) + 1;
    const nextEnd = Math.min(Math.floor((i + 2) * every) + 1, n);
    let avgStep = 0;
    let avgValue = 0;
    for (let j = nextStart; j < nextEnd; j++) {
      avgStep += points[j]!.step;
      avgValue += points[j]!.value;
    }
    const len = nextEnd - nextStart;
    avgStep /= len;
    avgValue /= len;
    const start = Math.floor(i * every) + 1;
    const end = Math.floor((i + 1) * every) + 1;
    let best = points[start]!;
    let bestArea = -1;
    for (let j = start; j < end; j++) {
      const p = points[j]!;
      const area = Math.abs((a.step - avgStep) * (p.value - a.value) - (a.step - p.step) * (avgValue - a.value));
      if (area > bestArea) {
        bestArea = area;
        best = p;
      }
    }
    out.push(best);
    a = best;
  }
  out.push(points[n - 1]!);
  return out;
}

/** Whether a record feeds the per-step (train) panels: phase `'rl'` or no phase. */
function isTrainRecord(r: MetricsRecord): boolean {
  return r.phase === undefined || r.phase === 'rl';
}

/**
 * Whether a record feeds the held-out panel. `heldOutAccuracy` is itself the mark of an
 * evaluation, so a phase-less or `'rl'` line that carries it counts too (some trainers log the
 * evaluation inline); SFT lines are left out because their step counter is not the RL one.
 */
function isEvalRecord(r: MetricsRecord): boolean {
  // The evaluation before the warm start is not at an RL step (its step 0 is the warm start's start).
  return r.phase !== 'sft' && r.evaluation !== 'initial';
}

/** The points of one series, sorted by step and downsampled. Non-finite values are skipped. */
function collectSeries(records: readonly MetricsRecord[], panel: PanelDef, s: SeriesDef): Point[] {
  const keep = panel.source === 'train' ? isTrainRecord : isEvalRecord;
  const pts: Point[] = [];
  for (const r of records) {
    if (!isFiniteNumber(r.step) || !keep(r)) continue;
    const v = r[s.key];
    if (isFiniteNumber(v)) pts.push({ step: r.step, value: v, series: s.label });
  }
  // Stable sort: a resumed run may log steps out of order; ties keep log order.
  pts.sort((p, q) => p.step - q.step);
  return downsample(pts, MAX_POINTS_PER_SERIES);
}

/**
 * The vega-lite spec behind {@link renderMetricsChart}: a 2-column `concat` with one view per
 * panel that has data, each carrying its own inline, downsampled data in long format
 * (`{ step, value, series }`, at most {@link MAX_POINTS_PER_SERIES} points per series, first and
 * last kept). Useful for opening the same chart interactively in a vega-lite editor.
 *
 * @throws RangeError when `options.width`/`options.height` is not a positive number.
 */
export function buildMetricsChartSpec(records: readonly MetricsRecord[], options: ChartOptions = {}): TopLevelSpec {
  const title = options.title ?? DEFAULT_TITLE;
  const width = checkSize('width', options.width, DEFAULT_WIDTH);
  const height = checkSize('height', options.height, DEFAULT_HEIGHT);

  const panels: { def: PanelDef; series: SeriesDef[]; values: Point[] }[] = [];
  for (const def of PANELS) {
    const series: SeriesDef[] = [];
    const values: Point[] = [];
    for (const s of def.series) {
      const pts = collectSeries(records, def, s);
      if (pts.length === 0) continue;
      series.push(s);
      values.push(...pts);
    }
    if (series.length > 0) panels.push({ def, series, values });
  }

  if (panels.length === 0) {
    // Still a valid, titled image: a dashboard polling the file early in a run shows this
    // instead of a broken picture.
    return {
      title,
      width,
      height,
      data: { values: [{}] },
      mark: { type: 'text', fontSize: 14, color: '#666' },
      encoding: { text: { value: 'no metrics yet' } },
    };
  }

  // Every panel gets the same x domain so a given step sits at the same horizontal position in
  // every column, and events line up by eye across panels. `nice` must be asked for explicitly:
  // vega-lite drops it for a given domain, and round ends (0..200, not 1..200) read better.
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of panels) {
    for (const v of p.values) {
      if (v.step < lo) lo = v.step;
      if (v.step > hi) hi = v.step;
    }
  }
  const xScale = lo < hi ? { domain: [lo, hi], nice: true, zero: false } : { zero: false };

  const concat: PanelSpec[] = panels.map(({ def, series, values }) => {
    const several = def.series.length > 1;
    const encoding = {
      x: { field: 'step', type: 'quantitative' as const, title: 'RL step', scale: xScale },
      y: { field: 'value', type: 'quantitative' as const, title: def.yTitle, scale: { zero: def.yZero } },
      // Panels meant for several series always get a legend (even if only one is present yet),
      // so the reader can tell which one they are looking at.
      ...(several
        ? {
            color: {
              field: 'series',
              type: 'nominal' as const,
              scale: { domain: series.map((s) => s.label), range: series.map((s) => s.color) },
              legend: { title: null, orient: 'bottom' as const, direction: 'horizontal' as const },
            },
          }
        : {}),
    };
    const color = several ? undefined : def.series[0]!.color;
    const line = { type: 'line' as const, strokeWidth: 1.5, ...(color ? { color } : {}) };
    const base = { name: def.name, title: def.title, width, height, data: { values } };
    if (def.points) {
      return {
        ...base,
        encoding,
        layer: [{ mark: line }, { mark: { type: 'point' as const, filled: true, size: 30, ...(color ? { color } : {}) } }],
      };
    }
    return { ...base, encoding, mark: line };
  });

  return {
    title: { text: title, anchor: 'start', fontSize: 16 },
    columns: 2,
    concat,
    // Each panel has its own series, so colour scales and legends must not be merged.
    resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } },
    config: { view: { stroke: '#ddd' } },
  };
}

/**
 * Builds the SVG text: a grid of panels (2 columns) — "Reward" (reward and train accuracy
 * lines), "Held-out accuracy" (points and line), "KL", "Clip fraction", "DyCo token roles"
 * (vision/text/neutral share lines) — each with titled axes ("RL step" and a y title), a legend
 * where a panel has several series, and the overall title.
 *
 * Panels whose metric never appears are left out. Only records with phase `'rl'` (or no phase)
 * feed the per-step panels; held-out accuracy comes from `'eval'` records (and from any non-SFT
 * record carrying `heldOutAccuracy`). Non-finite values are skipped. Each series is downsampled
 * to at most {@link MAX_POINTS_PER_SERIES} points (first and last kept), so huge runs stay small.
 * With nothing to plot the SVG still has the title and the note "no metrics yet".
 *
 * @throws RangeError when `options.width`/`options.height` is not a positive number.
 * @example
 * ```ts
 * const svg = await renderMetricsChart([{ step: 1, reward: 0.2 }, { step: 2, reward: 0.5 }], { title: 'run 7' });
 * ```
 */
export async function renderMetricsChart(records: MetricsRecord[], options?: ChartOptions): Promise<string> {
  const vgSpec = compile(buildMetricsChartSpec(records, options)).spec;
  // renderer 'none': no canvas/DOM; toSVG() uses vega's headless string renderer.
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    // Releases the dataflow's timers and listeners, so callers in long-lived trainers don't leak.
    view.finalize();
  }
}

/** Parses one JSONL line into a record, or explains why it is not one. */
function parseRecord(line: string): MetricsRecord | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return `invalid JSON (${(err as Error).message})`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'expected a JSON object';
  const step = (value as { step?: unknown }).step;
  if (!isFiniteNumber(step)) return `"step" must be a finite number, got ${JSON.stringify(step) ?? 'nothing'}`;
  return value as MetricsRecord;
}

/**
 * Reads a metrics JSONL file and writes its chart as SVG.
 *
 * Blank lines are skipped. Every other line must be a JSON object with a numeric `step`.
 * The SVG goes to `out` when given, else next to the metrics file with its extension replaced
 * (`run/metrics.jsonl` → `run/metrics.svg`). It is written to a temporary file and renamed into
 * place, so a viewer refreshing the image during training never reads a half-written file.
 *
 * @returns The path of the SVG written.
 * @throws Error naming the file and the 1-based line number when a line is not a valid record;
 *   the file-system error when the file cannot be read or the SVG cannot be written.
 * @example
 * ```ts
 * const svgPath = await writeMetricsChart('runs/7/metrics.jsonl'); // 'runs/7/metrics.svg'
 * ```
 */
export async function writeMetricsChart(metricsPath: string, out?: string, options?: ChartOptions): Promise<string> {
  const text = await readFile(metricsPath, 'utf8');
  const records: MetricsRecord[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim(); // also drops the '\r' of CRLF files
    if (line === '') continue;
    const rec = parseRecord(line);
    if (typeof rec === 'string') throw new Error(`${metricsPath}:${i + 1}: bad metrics line: ${rec}`);
    records.push(rec);
  }
  const svg = await renderMetricsChart(records, options);
  const target = out ?? join(dirname(metricsPath), `${basename(metricsPath, extname(metricsPath))}.svg`);
  await mkdir(dirname(target), { recursive: true });
  const tmp = `${target}.${process.pid}.tmp`;
  await writeFile(tmp, svg, 'utf8');
  await rename(tmp, target);
  return target;
}
