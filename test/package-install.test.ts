/**
 * The package as a user gets it: `npm pack`, then install the tarball into an empty project with
 * install scripts disabled (npm 11's default for dependencies), import it and run a kernel. The
 * import runs with a PATH that holds only `node`, so no compiler could have been invoked, and the
 * installed package must have no build/ folder: the binary is the prebuilt one.
 *
 * Needs the CPU prebuild (`npm run prebuild`, which CI runs); skipped with that reason otherwise.
 * When a CUDA variant was prebuilt too (nvcc was found), it must ship with its variant.json and the
 * loader must choose as its decision table says for this machine's driver: with no driver (CI), the
 * CPU binary and exactly one line saying why the CUDA one was passed over; the CUDA variant, forced
 * with DYCO_RL_VARIANT, must still load and compute on the CPU.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fisherRaoRef } from './oracle/fisher-rao.js';
import { probeNvidiaDriver } from '../lib/loader/driver.js';
import { findPrebuiltVariants } from '../lib/loader/prebuilt-variants.js';
import { planBinary } from '../lib/loader/select-binary.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const cpuPrebuild = join(repo, 'prebuilds', `${process.platform}-${process.arch}`);
const hasPrebuild = existsSync(cpuPrebuild) && readdirSync(cpuPrebuild).some((f) => f.endsWith('.node'));
if (!hasPrebuild) console.warn(`[skip] package install test: no CPU prebuild in ${cpuPrebuild} (run \`npm run prebuild\` first)`);
/** The CUDA variants prebuilt here (e.g. `cuda13`), newest first. */
const cudaVariants = hasPrebuild ? findPrebuiltVariants(repo, process.platform, process.arch).filter((v) => v.cuda).map((v) => v.name) : [];
/** What the loader should pick in the installed package on this machine, by its own decision table. */
const expectedVariant = cudaVariants.length
  ? planBinary({ platform: process.platform, arch: process.arch, variants: findPrebuiltVariants(repo, process.platform, process.arch), driver: probeNvidiaDriver() }).candidates[0]!.variant
  : 'cpu';

interface RunOutput {
  d: number[];
  binary: { variant: string; origin: string; path: string; skipped: string[] };
  cudaKernels: boolean;
  torch: { available: boolean; reason?: string };
}

describe.skipIf(!hasPrebuild)('npm pack → install without scripts → import → run a kernel', () => {
  it('loads the prebuilt CPU binary with no compiler reachable and computes Fisher–Rao distances', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dyco-pack-'));
    try {
      const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })) as { filename: string; files: { path: string }[] }[];
      const files = packed[0]!.files.map((f) => f.path);
      expect(files).toContain('dist/index.js');
      expect(files.some((f) => f.startsWith(`prebuilds/${process.platform}-${process.arch}/`) && f.endsWith('.node'))).toBe(true);
      expect(files.some((f) => f.startsWith('build/'))).toBe(false);
      for (const variant of cudaVariants) {
        const folder = `prebuilds/${process.platform}-${process.arch}-${variant}/`;
        expect(files).toContain(`${folder}variant.json`);
        expect(files.some((f) => f.startsWith(folder) && f.endsWith('.node'))).toBe(true);
      }

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
        const caps = capabilities();
        console.log(JSON.stringify({ d: Array.from(d), binary: caps.binary, cudaKernels: caps.cudaKernels, torch: caps.torch }));`;
      const runWith = (env: Record<string, string>) => {
        const run = spawnSync('node', ['--input-type=module', '-e', script], { cwd: project, encoding: 'utf8', env: { PATH: bin, HOME: dir, ...env } });
        expect(run.status, run.stderr).toBe(0);
        return { out: JSON.parse(run.stdout) as RunOutput, stderr: run.stderr };
      };
      const expected = fisherRaoRef([0.5, 0.25, 0.25, 0, 1, 0], [0.25, 0.25, 0.5, 1, 0, 0], { rows: 2, cols: 3 });

      const { out, stderr } = runWith({});
      expect(out.binary.variant).toBe(expectedVariant);
      expect(out.binary.origin).toBe('prebuilt');
      expect(out.binary.path.startsWith(join(installed, 'prebuilds'))).toBe(true);
      out.d.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
      expect(existsSync(join(installed, 'build'))).toBe(false);
      // The runner is never prebuilt: it says so, with the command that builds it inside this project.
      expect(out.torch.available).toBe(false);
      expect(out.torch.reason).toContain('npm explore dyco-rl -- npm run build:native');
      const loaderLines = stderr.split('\n').filter((line) => line.startsWith('dyco-rl:'));
      if (cudaVariants.length && expectedVariant === 'cpu') {
        // No usable driver here: one line, naming the CUDA variant and why it was passed over.
        expect(loaderLines).toHaveLength(1);
        expect(loaderLines[0]).toMatch(new RegExp(`^dyco-rl: using the CPU binary \\(${cudaVariants[0]}: .*driver`));
        expect(out.binary.skipped.length).toBeGreaterThan(0);
      } else {
        expect(loaderLines).toEqual([]);
      }

      for (const variant of cudaVariants) {
        // Forced: the CUDA binary loads without a driver (static CUDA runtime) and computes (on the CPU where no GPU is usable).
        const forced = runWith({ DYCO_RL_VARIANT: variant });
        expect(forced.out.binary.variant).toBe(variant);
        expect(forced.out.cudaKernels).toBe(true);
        forced.out.d.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
        expect(forced.stderr.split('\n').filter((line) => line.startsWith('dyco-rl:'))).toEqual([]);
      }

      // A bad override is a clear error, not a crash.
      const bad = spawnSync('node', ['--input-type=module', '-e', "import('dyco-rl')"], { cwd: project, encoding: 'utf8', env: { PATH: bin, HOME: dir, DYCO_RL_VARIANT: 'cuda99' } });
      expect(bad.status).not.toBe(0);
      expect(bad.stderr).toMatch(/DYCO_RL_VARIANT=cuda99: no such prebuilt binary for linux-x64 \(installed: /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
