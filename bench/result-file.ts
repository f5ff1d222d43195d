/**
 * Where a benchmark's JSON result goes and how it is written, the same for every benchmark.
 *
 * Results are written atomically (a temporary file renamed over the target) so that a run killed
 * mid-write (the GPU machine's time limit, Ctrl-C) never leaves a truncated JSON over a good one.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { repoRoot } from './machine.js';

/**
 * `bench/results/<stem>-<YYYY-MM-DD>.json`. Quick runs are smoke tests: they go to a git-ignored
 * `…-quick.local.json` instead, never over a real result.
 */
export function defaultResultPath(stem: string, date: Date, quick: boolean): string {
  return join(repoRoot, 'bench', 'results', `${stem}-${date.toISOString().slice(0, 10)}${quick ? '-quick.local' : ''}.json`);
}

/** Writes `body` as indented JSON to `file` (creating its folder), atomically. */
export function writeResultFile(file: string, body: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  const partial = `${file}.partial`;
  writeFileSync(partial, `${JSON.stringify(body, null, 2)}\n`);
  renameSync(partial, file);
}
