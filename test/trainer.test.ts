// (first: LibTorch on one thread before the runner loads; see the helper)
import './helpers/single-thread-torch.js';
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtInTask, capabilities, presets, resolveTrainerConfig, train, type StepMetrics } from '../lib/index.js';

const torch = capabilities().torch;
if (!torch.available) console.warn(`[skip] trainer tests: ${torch.reason}`);
const describeTorch = torch.available ? describe : describe.skip;
const repo = fileURLToPath(new URL('..', import.meta.url));

function readMetrics(dir: string): StepMetrics[] {
  return readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as StepMetrics);
}
// Everything but wall-clock time must match between an interrupted-and-resumed run and a straight one.
const withoutTime = (m: StepMetrics[]) => m.map(({ seconds: _s, ...rest }) => rest);

describe('trainer config', () => {
  it('fills the per-algorithm defaults and names bad fields', () => {
    const dapo = resolveTrainerConfig({ algorithm: 'dapo' });
    expect(dapo.dynamicSamplingRounds).toBe(4);
    expect(dapo.maskTruncated).toBe(true);
    expect(resolveTrainerConfig({}).dyco).toBe('sequence');
    expect(() => resolveTrainerConfig({ groupSize: 1 })).toThrow(/config\.groupSize must be an integer ≥ 2/);
    expect(() => resolveTrainerConfig({ algorithm: 'ppo' as 'grpo' })).toThrow(/config\.algorithm must be one of/);
    expect(() => resolveTrainerConfig({ dyco: 'token', algorithm: 'gspo' })).toThrow(/gspo/);
    expect(() => resolveTrainerConfig({ stepz: 3 } as never)).toThrow(/config\.stepz is not a trainer setting/);
    expect(() => resolveTrainerConfig({ temperature: 0 })).toThrow(RangeError);
    expect(resolveTrainerConfig({ builtInTask: { families: ['color-at'] } }).builtInTask).toEqual({ families: ['color-at'] });
    expect(() => resolveTrainerConfig({ builtInTask: { families: ['colour-at' as 'color-at'] } })).toThrow(/config\.builtInTask: families\[0\] must be one of/);
    expect(() => resolveTrainerConfig({ builtInTask: { rows: 0 } })).toThrow(RangeError);
    expect(() => resolveTrainerConfig({ builtInTask: { seed: 1 } as never })).toThrow(/config\.seed/);
  });
});

describeTorch('trainer (LibTorch runner, CPU)', () => {
  it('a run stopped by its AbortSignal and resumed gives the metrics of an uninterrupted run', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dyco-train-'));
    try {
      const config = { ...presets.smoke, device: 'cpu' as const, seed: 3, steps: 5, evalEvery: 2, checkpointEvery: 2, dyco: 'token' as const };
      const straight = await train(builtInTask({ seed: 3 }), config, { outDir: join(dir, 'straight') });
      expect(straight.interrupted).toBe(false);
      expect(straight.rlSteps).toBe(5);

      const controller = new AbortController();
      const first = await train(builtInTask({ seed: 3 }), config, {
        outDir: join(dir, 'resumed'),
        signal: controller.signal,
        onEvent: (e) => {
          if (e.type === 'rl' && e.metrics.step === 3) controller.abort();
        },
      });
      expect(first.interrupted).toBe(true);
      expect(first.rlSteps).toBe(3);
      const second = await train(builtInTask({ seed: 3 }), {}, { outDir: join(dir, 'resumed'), resume: true });
      expect(second.interrupted).toBe(false);
      expect(withoutTime(readMetrics(join(dir, 'resumed')))).toEqual(withoutTime(readMetrics(join(dir, 'straight'))));
      expect(second.accuracyAfterRl).toBe(straight.accuracyAfterRl);
      await expect(train(builtInTask({ seed: 3 }), config, { outDir: join(dir, 'straight') })).rejects.toThrow(/already holds a run/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('RL from a shared warm start (warmStart) gives the metrics of a run that did its own; mismatches are refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dyco-warm-'));
    try {
      const config = { ...presets.smoke, device: 'cpu' as const, seed: 2, steps: 4, evalEvery: 2, builtInTask: { families: ['color-at' as const, 'count' as const] } };
      const task = () => builtInTask({ ...config.builtInTask, seed: 2 });
      const straight = await train(task(), config, { outDir: join(dir, 'straight') });
      const warm = await train(task(), { ...config, steps: 0 }, { outDir: join(dir, 'warm') });
      expect(warm.accuracyBeforeRl).toBe(straight.accuracyBeforeRl);
      const shared = await train(task(), config, { outDir: join(dir, 'shared'), warmStart: join(dir, 'warm') });
      expect(withoutTime(readMetrics(join(dir, 'shared')))).toEqual(withoutTime(readMetrics(join(dir, 'straight'))));
      expect(shared.accuracyAfterRl).toBe(straight.accuracyAfterRl);
      await expect(train(task(), { ...config, sftSteps: 3 }, { outDir: join(dir, 'other'), warmStart: join(dir, 'warm') })).rejects.toThrow(/config\.sftSteps/);
      await expect(train(task(), config, { outDir: join(dir, 'late'), warmStart: join(dir, 'straight') })).rejects.toThrow(/not at the end of its warm start/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('metrics carry the loop: rewards, KL, clip fraction, DyCo role shares; dapo refills groups', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dyco-train-'));
    try {
      await train(builtInTask({ seed: 1 }), { ...presets.smoke, device: 'cpu', algorithm: 'dapo', steps: 3 }, { outDir: dir });
      const rl = readMetrics(dir).filter((m) => m.phase === 'rl');
      expect(rl).toHaveLength(3);
      for (const m of rl) {
        expect(m.rewards).toHaveProperty('accuracy');
        expect(m.rewards).toHaveProperty('format');
        expect(m.generateCalls).toBeGreaterThanOrEqual(1);
        if (m.groups! > 0) {
          expect(m.visionShare! + m.textShare! + m.neutralShare!).toBeCloseTo(1, 6);
          expect(m.clipFraction).toBeGreaterThanOrEqual(0);
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('Ctrl-C (SIGINT) in the CLI writes a checkpoint and exits 130; --resume finishes as an uninterrupted run', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dyco-sigint-'));
    const cli = (...args: string[]) => [process.execPath, ['--import', 'tsx', join(repo, 'lib/cli/main.ts'), ...args]] as const;
    const trainArgs = (out: string) => ['train', '--preset', 'smoke', '--steps', '40', '--out', out, '--device', 'cpu', '--no-progress', '--no-chart'];
    try {
      const stopped = join(dir, 'stopped');
      const child = spawn(...cli(...trainArgs(stopped)), { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      // Interrupt as soon as RL is under way (the plain log prints "RL 1: ...").
      child.stdout.on('data', (chunk: Buffer) => {
        const first = !/^RL \d+:/m.test(stdout);
        stdout += chunk.toString();
        if (first && /^RL \d+:/m.test(stdout)) child.kill('SIGINT');
      });
      const code = await exited;
      expect(code, stderr).toBe(130);
      expect(stdout).toMatch(/interrupted: finishing the current step and writing a checkpoint/);
      expect(stdout).toMatch(/stopped: checkpoint written; continue with --resume/);
      const state = JSON.parse(readFileSync(join(stopped, 'checkpoint', 'state.json'), 'utf8')) as { rlStep: number; policyFile: string };
      expect(state.rlStep).toBeGreaterThanOrEqual(1);
      expect(state.rlStep).toBeLessThan(40);
      expect(existsSync(join(stopped, 'checkpoint', state.policyFile))).toBe(true);

      const resumed = spawnSync(...cli('train', '--resume', stopped, '--no-progress', '--no-chart'), { cwd: repo, encoding: 'utf8', timeout: 110_000 });
      expect(resumed.status, resumed.stderr).toBe(0);
      expect(resumed.stdout).toMatch(/^resuming: /m);
      const straight = join(dir, 'straight');
      const uninterrupted = spawnSync(...cli(...trainArgs(straight)), { cwd: repo, encoding: 'utf8', timeout: 110_000 });
      expect(uninterrupted.status, uninterrupted.stderr).toBe(0);
      expect(withoutTime(readMetrics(stopped))).toEqual(withoutTime(readMetrics(straight)));
      expect(readMetrics(stopped).filter((m) => m.phase === 'rl')).toHaveLength(40);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 240_000);

  it('the smoke preset runs end to end through the real CLI: accuracies, metrics, chart, checkpoint', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dyco-cli-'));
    try {
      const out = join(dir, 'run');
      const result = spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'lib/cli/main.ts'), 'train', '--preset', 'smoke', '--out', out, '--device', 'cpu'], {
        cwd: repo, // --import tsx resolves from here
        encoding: 'utf8',
        timeout: 110_000,
      });
      expect(result.status, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/held-out accuracy: initial [\d.]+%, after warm start \(before RL\) [\d.]+%, after RL [\d.]+%/);
      expect(existsSync(join(out, 'chart.svg'))).toBe(true);
      expect(readFileSync(join(out, 'chart.svg'), 'utf8')).toMatch(/^<svg/);
      expect(existsSync(join(out, 'checkpoint', 'state.json'))).toBe(true);
      expect(readMetrics(out).filter((m) => m.phase === 'rl')).toHaveLength(presets.smoke.steps);
      const evaluation = spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'lib/cli/main.ts'), 'eval', out, '--size', '16'], { cwd: repo, encoding: 'utf8' });
      expect(evaluation.status, evaluation.stderr).toBe(0);
      expect(JSON.parse(evaluation.stdout).examples).toBe(16);
      const bad = spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'lib/cli/main.ts'), 'train', '--preset', 'nope'], { cwd: repo, encoding: 'utf8' });
      expect(bad.status).not.toBe(0);
      expect(bad.stderr).toMatch(/--preset/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
