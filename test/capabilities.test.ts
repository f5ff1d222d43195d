import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { capabilities } from '../lib/index.js';

describe('capabilities', () => {
  it('has the documented shape: {version, threads, cuda, cudaDevices, cudaKernels, cudaReason?, torch, simd, binary}', () => {
    const c = capabilities();
    expect(typeof c.version).toBe('string');
    expect(c.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(Number.isInteger(c.threads)).toBe(true);
    expect(c.threads).toBeGreaterThanOrEqual(1);
    expect(typeof c.cuda).toBe('boolean');
    expect(typeof c.cudaDevices).toBe('number');
    expect(Number.isInteger(c.cudaDevices)).toBe(true);
    expect(c.cudaDevices).toBeGreaterThanOrEqual(0);
    expect(typeof c.cudaKernels).toBe('boolean');
    // Without CUDA there is always a reason; with it there is none.
    if (c.cuda) expect(c.cudaReason).toBeUndefined();
    else expect(c.cudaReason).toMatch(/\w/);
    expect(typeof c.torch.available).toBe('boolean');
    expect(typeof c.binary.variant).toBe('string');
    expect(typeof c.binary.path).toBe('string');
  });

  it('torch: version and CUDA devices when the runner is built, else a reason with the command that enables it', () => {
    const { torch } = capabilities();
    if (torch.available) {
      expect(torch.version).toMatch(/^\d+\.\d+\.\d+$/);
      expect(torch.cudaDevices).toBe(torch.cuda ? torch.cudaDevices : 0);
    } else {
      expect(torch.reason).toMatch(/libtorch-dev/);
      expect(torch.reason).toMatch(/npm run build:native/);
    }
  });

  it('reports the package version it was built from', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(capabilities().version).toBe(pkg.version);
  });

  it('cudaDevices is 0 when CUDA is not usable, ≥ 1 when it is', () => {
    const c = capabilities();
    if (c.cuda) expect(c.cudaDevices).toBeGreaterThanOrEqual(1);
    else expect(c.cudaDevices).toBe(0);
  });

  it('simd is a non-empty string', () => {
    const c = capabilities();
    expect(typeof c.simd).toBe('string');
    expect(c.simd.length).toBeGreaterThan(0);
  });

  it('is consistent across calls', () => {
    expect(capabilities()).toEqual(capabilities());
  });

  it('DYCO_RL_NUM_THREADS sets the thread count (checked in a child process)', () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const script = "const a = require('node-gyp-build')(process.cwd()); process.stdout.write(JSON.stringify(a.capabilities()));";
    for (const n of [1, 3]) {
      const child = spawnSync(process.execPath, ['-e', script], {
        cwd: root,
        env: { ...process.env, DYCO_RL_NUM_THREADS: String(n) },
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(child.status, child.stderr).toBe(0);
      expect((JSON.parse(child.stdout) as { threads: number }).threads).toBe(n);
    }
  });

  it("simd names a compiled level; DYCO_RL_SIMD lowers it but never raises it (child processes)", () => {
    const levels = ['baseline', 'avx2', 'avx512'];
    expect(levels).toContain(capabilities().simd);
    const root = fileURLToPath(new URL('..', import.meta.url));
    const script = "const a = require('node-gyp-build')(process.cwd()); process.stdout.write(a.capabilities().simd);";
    const simdWith = (wanted: string | undefined): string => {
      const env = { ...process.env };
      delete env.DYCO_RL_SIMD; // this process may itself run lowered (CI does)
      if (wanted) env.DYCO_RL_SIMD = wanted;
      const child = spawnSync(process.execPath, ['-e', script], { cwd: root, env, encoding: 'utf8', timeout: 20_000 });
      expect(child.status, child.stderr).toBe(0);
      return child.stdout;
    };
    const best = simdWith(undefined);
    expect(levels).toContain(best);
    for (const wanted of levels) {
      const expected = levels.indexOf(wanted) <= levels.indexOf(best) ? wanted : best;
      expect(simdWith(wanted)).toBe(expected);
    }
  });
});
