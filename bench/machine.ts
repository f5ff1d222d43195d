/**
 * What every benchmark records about where and what it measured: the repository root, the commit
 * (marked `+dirty` when the working tree differs), the CPU model and a file-name slug for it.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

export const cpuModel = cpus()[0]?.model.trim() ?? 'unknown cpu';

/** e.g. `amd-epyc-9r14-2c`. */
export const machineSlug = `${cpuModel
  .toLowerCase()
  .replace(/\(r\)|\(tm\)|cpu|processor|@.*$/g, '')
  .replace(/[^a-z0-9]+/g, '-')
  .replace(/^-+|-+$/g, '')}-${cpus().length}c`;

/** The commit measured; DYCO_RL_COMMIT names it where the tree is a copy without git (the GPU machine). */
export function gitCommit(): string {
  if (process.env.DYCO_RL_COMMIT) return process.env.DYCO_RL_COMMIT;
  try {
    const opts = { cwd: repoRoot, stdio: ['ignore', 'pipe', 'ignore'] as ('ignore' | 'pipe')[], encoding: 'utf8' as const };
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], opts).trim();
    // Earlier result files are outputs, not code: a rerun over them still measures HEAD.
    const status = ['status', '--porcelain', '--untracked-files=no', '--', '.', ':(exclude)bench/results'];
    const dirty = execFileSync('git', status, opts).trim() !== '';
    return dirty ? `${sha}+dirty` : sha;
  } catch {
    return 'unknown';
  }
}
