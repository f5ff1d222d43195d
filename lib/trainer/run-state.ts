/**
 * Where a run is, written next to the policy checkpoint so that `--resume` continues exactly: the
 * phase and step, the dynamic-sampling cursor, how many bytes of metrics belong to the checkpoint
 * (later lines are dropped on resume), and the accuracies measured so far. The state file names
 * the policy file it belongs to and is renamed into place after it, so the pair is always
 * consistent: a crash leaves the previous checkpoint or the new one, never a mix.
 * @packageDocumentation
 */
import { mkdir, readFile, rename, rm, writeFile, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResolvedTrainerConfig } from './config.js';

export interface RunState {
  formatVersion: 1;
  config: ResolvedTrainerConfig;
  task: string;
  /** Supervised steps done. */
  sftStep: number;
  /** RL steps done. */
  rlStep: number;
  /** Next training-example index for dynamic-sampling refills. */
  refillCursor: number;
  /** Bytes of metrics.jsonl written up to this checkpoint. */
  metricsBytes: number;
  /** Held-out accuracy at initialisation, after the warm start (= before RL), and the latest. */
  accuracy: { initial?: number; beforeRl?: number; latest?: number };
  /** The policy checkpoint file, relative to the checkpoint directory. */
  policyFile: string;
  /** Seconds of training so far (for ETA across resumes). */
  elapsedSeconds: number;
}

export const checkpointDir = (outDir: string) => join(outDir, 'checkpoint');

export async function readRunState(outDir: string): Promise<RunState | undefined> {
  let text: string;
  try {
    text = await readFile(join(checkpointDir(outDir), 'state.json'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const state = JSON.parse(text) as RunState;
  if (state.formatVersion !== 1) throw new Error(`${join(checkpointDir(outDir), 'state.json')}: unknown format version ${state.formatVersion}`);
  return state;
}

/**
 * Writes `state` after the policy file it names exists; removes the policy file of `previous`.
 * `savePolicy` writes the policy to the path it is given.
 */
export async function writeRunState(outDir: string, state: RunState, savePolicy: (path: string) => Promise<void>, previous?: RunState): Promise<void> {
  const dir = checkpointDir(outDir);
  await mkdir(dir, { recursive: true });
  await savePolicy(join(dir, state.policyFile));
  const path = join(dir, 'state.json');
  const temp = `${path}.tmp-${process.pid}`;
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(JSON.stringify(state, null, 2) + '\n');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
  if (previous && previous.policyFile !== state.policyFile) await rm(join(dir, previous.policyFile), { force: true });
}

/** Drops metrics lines written after the checkpoint (they will be produced again). */
export async function truncateMetrics(path: string, bytes: number): Promise<void> {
  try {
    const handle = await open(path, 'r+');
    try {
      await handle.truncate(bytes);
    } finally {
      await handle.close();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await writeFile(path, '');
  }
}
