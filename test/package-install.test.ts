/**
 * The package as a user gets it: `npm pack`, then install the tarball into an empty project with
 * install scripts disabled (npm 11's default for dependencies), import it and run a kernel. The
 * import runs with a PATH that holds only `node`, so no compiler could have been invoked, and the
 * installed package must have no build/ folder: the binary is the prebuilt one.
 *
 * Needs the CPU prebuild (`npm run prebuild`, which CI runs); skipped with that reason otherwise.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fisherRaoRef } from './oracle/fisher-rao.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const cpuPrebuild = join(repo, 'prebuilds', `${process.platform}-${process.arch}`);
const hasPrebuild = existsSync(cpuPrebuild) && readdirSync(cpuPrebuild).some((f) => f.endsWith('.node'));
if (!hasPrebuild) console.warn(`[skip] package install test: no CPU prebuild in ${cpuPrebuild} (run \`npm run prebuild\` first)`);

describe.skipIf(!hasPrebuild)('npm pack → install without scripts → import → run a kernel', () => {
  it('loads the prebuilt CPU binary with no compiler reachable and computes Fisher–Rao distances', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dyco-pack-'));
    try {
      const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })) as { filename: string; files: { path: string }[] }[];
      const files = packed[0]!.files.map((f) => f.path);
      expect(files).toContain('dist/index.js');
      expect(files.some((f) => f.startsWith(`prebuilds/${process.platform}-${process.arch}/`) && f.endsWith('.node'))).toBe(true);
      expect(files.some((f) => f.startsWith('build/'))).toBe(false);

      const project = join(dir, 'project');
      mkdirSync(project);
      writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
      const install = spawnSync('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', join(dir, packed[0]!.filename)], { cwd: project, encoding: 'utf8' });
      expect(install.status, install.stderr).toBe(0);
      const installed = join(project, 'node_modules', 'dyco-rl');
      expect(existsSync(join(installed, 'build'))).toBe(false);

      // PATH: a folder with only `node` in it (no cmake, make, g++, nvcc).
      const bin = join(dir, 'bin');
      mkdirSync(bin);
      symlinkSync(process.execPath, join(bin, 'node'));
      const script = `
        import { fisherRao, capabilities } from 'dyco-rl';
        const p = Float32Array.from([0.5, 0.25, 0.25, 0, 1, 0]);
        const q = Float32Array.from([0.25, 0.25, 0.5, 1, 0, 0]);
        const d = fisherRao(p, q, { rows: 2, cols: 3 });
        console.log(JSON.stringify({ d: Array.from(d), binary: capabilities().binary }));`;
      const run = spawnSync('node', ['--input-type=module', '-e', script], { cwd: project, encoding: 'utf8', env: { PATH: bin, HOME: dir } });
      expect(run.status, run.stderr).toBe(0);
      const out = JSON.parse(run.stdout) as { d: number[]; binary: { variant: string; origin: string; path: string } };
      expect(out.binary.variant).toBe('cpu');
      expect(out.binary.origin).toBe('prebuilt');
      expect(out.binary.path.startsWith(join(installed, 'prebuilds'))).toBe(true);
      const expected = fisherRaoRef([0.5, 0.25, 0.25, 0, 1, 0], [0.25, 0.25, 0.5, 1, 0, 0], { rows: 2, cols: 3 });
      out.d.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
      expect(existsSync(join(installed, 'build'))).toBe(false);

      // A bad override is a clear error, not a crash.
      const bad = spawnSync('node', ['--input-type=module', '-e', "import('dyco-rl')"], { cwd: project, encoding: 'utf8', env: { PATH: bin, HOME: dir, DYCO_RL_VARIANT: 'cuda99' } });
      expect(bad.status).not.toBe(0);
      expect(bad.stderr).toMatch(/DYCO_RL_VARIANT=cuda99: no such prebuilt binary for linux-x64 \(installed: cpu/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
