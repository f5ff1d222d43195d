/**
 * Metrics chart (lib/chart.ts): the SVG from a synthetic run has the expected panels, axes,
 * legends and one line per series; missing metrics drop their panel; empty input still renders;
 * the JSONL reader writes `<name>.svg` and reports bad lines by file and line; huge runs are
 * downsampled (first and last points kept) so the SVG stays small.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MAX_POINTS_PER_SERIES,
  buildMetricsChartSpec,
  renderMetricsChart,
  writeMetricsChart,
  type MetricsRecord,
} from '../lib/chart.js';

/** A run of `rlSteps` RL steps with every per-step metric, plus an evaluation every `evalEvery` steps. */
function syntheticRun(rlSteps: number, evalEvery: number): MetricsRecord[] {
  const out: MetricsRecord[] = [];
  for (let step = 1; step <= rlSteps; step++) {
    const t = step / rlSteps;
    const vision = 0.2 + 0.2 * t;
    const text = 0.5 - 0.1 * t;
    out.push({
      step,
      phase: 'rl',
      reward: 0.3 + 0.5 * t + 0.05 * Math.sin(step),
      accuracy: 0.25 + 0.5 * t,
      kl: 0.01 * t + 0.002 * Math.cos(step),
      clipFraction: 0.05 + 0.02 * Math.sin(step / 7),
      visionShare: vision,
      textShare: text,
      neutralShare: 1 - vision - text,
    });
    if (step % evalEvery === 0) out.push({ step, phase: 'eval', heldOutAccuracy: 0.2 + 0.5 * t });
  }
  return out;
}

/** Text content of every `<text>` element, unescaped enough for plain labels. */
function texts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);
}

/** Number of drawn line-mark paths (one per plotted series; vega tags each with this role). */
function linePaths(svg: string): number {
  return svg.match(/<path[^>]*aria-roledescription="line mark"/g)?.length ?? 0;
}

/** Number of drawn point-mark symbols. */
function pointPaths(svg: string): number {
  return svg.match(/<path[^>]*aria-roledescription="point"/g)?.length ?? 0;
}

/** The `{step, value, series}` rows of the spec's panel named `name`, or undefined if absent. */
function panelValues(records: MetricsRecord[], name: string): { step: number; value: number; series: string }[] | undefined {
  const spec = buildMetricsChartSpec(records) as unknown as {
    concat?: { name: string; data: { values: { step: number; value: number; series: string }[] } }[];
  };
  return spec.concat?.find((p) => p.name === name)?.data.values;
}

function expectWellFormedSvg(svg: string): void {
  expect(svg.startsWith('<svg')).toBe(true);
  expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
  expect(svg.match(/<svg\b/g)?.length).toBe(1);
}

describe('renderMetricsChart', () => {
  const run = syntheticRun(200, 20); // 200 RL steps + 10 eval records
  let svg = '';
  beforeAll(async () => {
    svg = await renderMetricsChart(run, { title: 'Run 42' });
  });

  it('is well-formed SVG with the overall title', () => {
    expectWellFormedSvg(svg);
    expect(texts(svg)).toContain('Run 42');
  });

  it('has every panel title and its axis titles', () => {
    const t = texts(svg);
    for (const title of ['Reward', 'Held-out accuracy', 'KL', 'Clip fraction', 'DyCo token roles']) {
      expect(t).toContain(title);
    }
    for (const axis of ['Mean over rollouts', 'Accuracy', 'KL divergence', 'Fraction of tokens clipped', 'Share of active tokens']) {
      expect(t).toContain(axis);
    }
    // One x title per panel.
    expect(t.filter((s) => s === 'RL step').length).toBe(5);
  });

  it('draws one line per series and a point per evaluation', () => {
    // reward + train accuracy, held-out, KL, clip fraction, vision/text/neutral
    expect(linePaths(svg)).toBe(2 + 1 + 1 + 1 + 3);
    expect(pointPaths(svg)).toBe(10);
  });

  it('labels the series of multi-series panels in a legend', () => {
    const t = texts(svg);
    for (const label of ['reward', 'train accuracy', 'vision', 'text', 'neutral']) expect(t).toContain(label);
    // Single-series panels get no legend.
    expect(t).not.toContain('clip fraction');
    expect(t).not.toContain('held-out accuracy');
  });

  it('leaves out panels whose metric never appears', async () => {
    const partial = run.map(({ step, phase, reward, kl }) => ({ step, phase, reward, kl }));
    const out = await renderMetricsChart(partial);
    expectWellFormedSvg(out);
    const t = texts(out);
    expect(t).toContain('Reward');
    expect(t).toContain('KL');
    for (const gone of ['Held-out accuracy', 'Clip fraction', 'DyCo token roles', 'train accuracy']) {
      expect(t).not.toContain(gone);
    }
    expect(linePaths(out)).toBe(2); // reward, KL
    expect(t.filter((s) => s === 'RL step').length).toBe(2);
    expect(t).toContain('Training metrics'); // default title
  });

  it('feeds per-step panels from rl/phase-less records only, and held-out from evaluations', () => {
    const records: MetricsRecord[] = [
      { step: 0, phase: 'sft', reward: 99, heldOutAccuracy: 99 },
      { step: 1, reward: 0.1 },
      { step: 2, phase: 'rl', reward: 0.2 },
      { step: 2, phase: 'eval', reward: 77, heldOutAccuracy: 0.4 },
    ];
    expect(panelValues(records, 'reward')).toEqual([
      { step: 1, value: 0.1, series: 'reward' },
      { step: 2, value: 0.2, series: 'reward' },
    ]);
    expect(panelValues(records, 'heldout')).toEqual([{ step: 2, value: 0.4, series: 'held-out accuracy' }]);
  });

  it("leaves out the evaluation before the warm start (its step 0 is not RL step 0)", () => {
    const records: MetricsRecord[] = [
      { step: 0, phase: 'eval', evaluation: 'initial', heldOutAccuracy: 0 },
      { step: 0, phase: 'eval', evaluation: 'beforeRl', heldOutAccuracy: 0.56 },
      { step: 5, phase: 'eval', evaluation: 'final', heldOutAccuracy: 0.74 },
    ];
    expect(panelValues(records, 'heldout')).toEqual([
      { step: 0, value: 0.56, series: 'held-out accuracy' },
      { step: 5, value: 0.74, series: 'held-out accuracy' },
    ]);
  });

  it('skips non-finite values and sorts by step', () => {
    const records = [
      { step: 3, kl: 0.3 },
      { step: 1, kl: Number.NaN },
      { step: 2, kl: 0.2 },
      { step: 4, kl: null },
    ] as unknown as MetricsRecord[];
    expect(panelValues(records, 'kl')?.map((p) => [p.step, p.value])).toEqual([
      [2, 0.2],
      [3, 0.3],
    ]);
  });

  it('renders the title and "no metrics yet" for empty input', async () => {
    for (const records of [[], [{ step: 1, phase: 'sft', reward: 1 }] as MetricsRecord[]]) {
      const out = await renderMetricsChart(records, { title: 'Fresh run' });
      expectWellFormedSvg(out);
      const t = texts(out);
      expect(t).toContain('Fresh run');
      expect(t).toContain('no metrics yet');
      expect(linePaths(out)).toBe(0);
    }
  });

  it('escapes the title and honours the panel size', async () => {
    const out = await renderMetricsChart([{ step: 1, kl: 0.1 }, { step: 2, kl: 0.2 }], { title: 'a<b & c', width: 500, height: 90 });
    expectWellFormedSvg(out);
    expect(out).toContain('a&lt;b &amp; c');
    expect(out).toContain('h500v90h-500Z'); // the panel's background rectangle
  });

  it('rejects a non-positive panel size', async () => {
    await expect(renderMetricsChart([], { width: 0 })).rejects.toThrow(RangeError);
    await expect(renderMetricsChart([], { height: Number.NaN })).rejects.toThrow(/height/);
  });
});

describe('downsampling', () => {
  it('keeps at most MAX_POINTS_PER_SERIES points per series, including the first and last', () => {
    const n = 50_000;
    const records: MetricsRecord[] = [];
    for (let step = 0; step < n; step++) records.push({ step, reward: Math.sin(step / 100), kl: step === 31_337 ? 5 : 0.01 });
    const reward = panelValues(records, 'reward')!;
    expect(reward.length).toBe(MAX_POINTS_PER_SERIES);
    expect(reward[0]).toEqual({ step: 0, value: 0, series: 'reward' });
    expect(reward.at(-1)).toEqual({ step: n - 1, value: Math.sin((n - 1) / 100), series: 'reward' });
    // Steps stay increasing, and a lone spike survives (LTTB keeps extremes).
    expect(reward.every((p, i) => i === 0 || p.step > reward[i - 1]!.step)).toBe(true);
    expect(panelValues(records, 'kl')!.some((p) => p.step === 31_337 && p.value === 5)).toBe(true);
  });

  it('leaves short series untouched', () => {
    const records = syntheticRun(300, 1000);
    expect(panelValues(records, 'reward')!.length).toBe(600); // reward + train accuracy
  });

  it('renders 100k records quickly into a small SVG', async () => {
    const records = syntheticRun(100_000, 100); // 100k RL + 1k eval records
    const t0 = performance.now();
    const svg = await renderMetricsChart(records);
    const ms = performance.now() - t0;
    expectWellFormedSvg(svg);
    expect(linePaths(svg)).toBe(8);
    expect(svg.length).toBeLessThan(2_000_000);
    expect(ms).toBeLessThan(5000);
    // Every panel's x axis spans the whole run, niced to round ends (compared on the axes' aria
    // labels, so a failure does not print the whole SVG).
    const xAxes = [...svg.matchAll(/aria-label="(X-axis titled 'RL step'[^"]*)"/g)].map((m) => m[1]);
    expect(new Set(xAxes)).toEqual(new Set(["X-axis titled 'RL step' for a linear scale with values from 0 to 100,000"]));
  });
});

describe('writeMetricsChart', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dyco-chart-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads JSONL (blank lines and CRLF allowed) and writes <name>.svg next to it', async () => {
    const file = join(dir, 'metrics.jsonl');
    const lines = syntheticRun(50, 10).map((r) => JSON.stringify(r));
    await writeFile(file, `${lines.slice(0, 20).join('\n')}\n\n   \r\n${lines.slice(20).join('\r\n')}\n`);
    const svgPath = await writeMetricsChart(file, undefined, { title: 'From file' });
    expect(svgPath).toBe(join(dir, 'metrics.svg'));
    const svg = await readFile(svgPath, 'utf8');
    expectWellFormedSvg(svg);
    expect(texts(svg)).toContain('From file');
    expect(linePaths(svg)).toBe(8);
    expect(pointPaths(svg)).toBe(5);
  });

  it('writes to `out` when given, creating its folder', async () => {
    const file = join(dir, 'run.jsonl');
    await writeFile(file, '{"step":1,"kl":0.1}\n{"step":2,"kl":0.2}\n');
    const out = join(dir, 'charts', 'deep', 'kl.svg');
    expect(await writeMetricsChart(file, out)).toBe(out);
    expect(texts(await readFile(out, 'utf8'))).toContain('KL');
  });

  it('writes the "no metrics yet" chart for an empty file', async () => {
    const file = join(dir, 'empty.jsonl');
    await writeFile(file, '\n');
    const svg = await readFile(await writeMetricsChart(file), 'utf8');
    expect(texts(svg)).toContain('no metrics yet');
  });

  it('rejects a malformed line naming the file and 1-based line number', async () => {
    const file = join(dir, 'bad.jsonl');
    await writeFile(file, '{"step":1,"reward":0.5}\n\n{"step":2,"reward":\n');
    await expect(writeMetricsChart(file)).rejects.toThrow(`${file}:3:`);
  });

  it('rejects a line without a numeric step', async () => {
    const file = join(dir, 'nostep.jsonl');
    await writeFile(file, '{"step":1}\n[1,2]\n');
    await expect(writeMetricsChart(file)).rejects.toThrow(`${file}:2:`);
    await writeFile(file, '{"step":1}\n{"reward":0.5}\n');
    await expect(writeMetricsChart(file)).rejects.toThrow(new RegExp(`nostep\\.jsonl:2: .*step`));
  });

  it('rejects a missing file', async () => {
    await expect(writeMetricsChart(join(dir, 'nope.jsonl'))).rejects.toThrow(/ENOENT/);
  });
});
