import { describe, expect, it } from 'vitest';
import { compareVersions, parseProcVersion, probeNvidiaDriver, type DriverProbe, type DriverProbeFs } from '../lib/loader/driver.js';
import { BUILD_FROM_SOURCE, buildCommandFor, planBinary, type LoaderInputs, type PrebuiltVariant } from '../lib/loader/select-binary.js';

const cpu: PrebuiltVariant = { name: 'cpu', path: '/pkg/prebuilds/linux-x64/node.napi.glibc.node' };
const cuda13: PrebuiltVariant = {
  name: 'cuda13',
  path: '/pkg/prebuilds/linux-x64-cuda13/node.napi.glibc.node',
  cuda: { version: '13.0', minDriver: '580.65.06', architectures: '80-real;90-real;90-virtual' },
};
const cuda12: PrebuiltVariant = {
  name: 'cuda12',
  path: '/pkg/prebuilds/linux-x64-cuda12/node.napi.glibc.node',
  cuda: { version: '12.8', minDriver: '525.60.13', architectures: '80-real;90-real' },
};
const noDriver: DriverProbe = { present: false, detail: 'no /proc/driver/nvidia/version and no libcuda.so' };
const driver = (version?: string): DriverProbe => ({ present: true, version, detail: '/proc/driver/nvidia/version' });

const inputs = (over: Partial<LoaderInputs>): LoaderInputs => ({ platform: 'linux', arch: 'x64', variants: [cpu, cuda13], driver: noDriver, ...over });
const paths = (input: LoaderInputs) => planBinary(input).candidates.map((c) => c.variant);

describe('loader decision table (faked environments)', () => {
  it('no driver: the CPU variant, and the skip says why', () => {
    const plan = planBinary(inputs({}));
    expect(plan.candidates).toEqual([{ path: cpu.path, variant: 'cpu', origin: 'prebuilt' }]);
    expect(plan.skipped).toEqual([`cuda13: no NVIDIA driver (${noDriver.detail})`]);
  });

  it('a driver new enough: the CUDA variant first, the CPU one as the fallback if it does not load', () => {
    expect(paths(inputs({ driver: driver('580.82.07') }))).toEqual(['cuda13', 'cpu']);
    expect(planBinary(inputs({ driver: driver('580.82.07') })).skipped).toEqual([]);
  });

  it('an old driver: the CPU variant, naming the driver and the version CUDA needs', () => {
    const plan = planBinary(inputs({ driver: driver('535.104.05') }));
    expect(plan.candidates.map((c) => c.variant)).toEqual(['cpu']);
    expect(plan.skipped[0]).toBe('cuda13: NVIDIA driver 535.104.05 is older than the 580.65.06 that CUDA 13.0 needs');
  });

  it('several CUDA majors: the newest the driver runs, then older ones, then the CPU', () => {
    expect(paths(inputs({ variants: [cpu, cuda12, cuda13], driver: driver('590.1') }))).toEqual(['cuda13', 'cuda12', 'cpu']);
    const plan = planBinary(inputs({ variants: [cuda12, cpu, cuda13], driver: driver('550.54.14') }));
    expect(plan.candidates.map((c) => c.variant)).toEqual(['cuda12', 'cpu']);
    expect(plan.skipped).toHaveLength(1);
  });

  it('a driver of unknown version (libcuda.so.1 only): the CUDA variant is tried', () => {
    expect(paths(inputs({ driver: driver(undefined) }))).toEqual(['cuda13', 'cpu']);
  });

  it('DYCO_RL_VARIANT picks a variant whatever the driver; an unknown one names those installed', () => {
    expect(planBinary(inputs({ variantOverride: 'cpu', driver: driver('590.1') })).candidates).toEqual([{ path: cpu.path, variant: 'cpu', origin: 'DYCO_RL_VARIANT' }]);
    expect(paths(inputs({ variantOverride: 'cuda13' }))).toEqual(['cuda13']);
    expect(() => planBinary(inputs({ variantOverride: 'cuda11' }))).toThrow(RangeError);
    expect(() => planBinary(inputs({ variantOverride: 'cuda11' }))).toThrow('DYCO_RL_VARIANT=cuda11: no such prebuilt binary for linux-x64 (installed: cpu, cuda13');
    expect(() => planBinary(inputs({ variantOverride: 'local' }))).toThrow(/no local build in build\/Release/);
  });

  it('DYCO_RL_BINARY wins over everything', () => {
    const plan = planBinary(inputs({ binaryOverride: '/opt/dyco/custom.node', variantOverride: 'cpu', localBuild: '/pkg/build/Release/dyco_rl.node' }));
    expect(plan.candidates).toEqual([{ path: '/opt/dyco/custom.node', variant: 'DYCO_RL_BINARY', origin: 'DYCO_RL_BINARY' }]);
  });

  it('a local build wins over prebuilds (developers), but not over an explicit variant', () => {
    const local = '/pkg/build/Release/dyco_rl.node';
    expect(planBinary(inputs({ localBuild: local, driver: driver('590.1') })).candidates).toEqual([{ path: local, variant: 'local', origin: 'local build' }]);
    expect(paths(inputs({ localBuild: local, variantOverride: 'cpu' }))).toEqual(['cpu']);
    expect(paths(inputs({ localBuild: local, variantOverride: 'local' }))).toEqual(['local']);
  });

  it('nothing fits: the error names the platform, what is there and the one command that builds from source', () => {
    const attempt = () => planBinary(inputs({ platform: 'darwin', arch: 'arm64', variants: [] }));
    expect(attempt).toThrow(/no native binary fits darwin-arm64/);
    expect(attempt).toThrow(/prebuilt here: none/);
    expect(attempt).toThrow(BUILD_FROM_SOURCE);
    // Only a CUDA variant and no driver: the reason it was skipped is part of the error.
    expect(() => planBinary(inputs({ variants: [cuda13] }))).toThrow(/cuda13: no NVIDIA driver/);
    // In a clone the command is the clone's own script.
    expect(() => planBinary(inputs({ variants: [], buildCommand: 'npm run build:native' }))).toThrow(/compiler\): npm run build:native$/);
  });

  it('tells an installed package to build through npm explore, a clone through its own script', () => {
    expect(buildCommandFor('/home/me/app/node_modules/dyco-rl')).toBe(BUILD_FROM_SOURCE);
    expect(buildCommandFor('/home/me/app/node_modules/dyco-rl/')).toBe(BUILD_FROM_SOURCE);
    expect(buildCommandFor('/home/me/src/dyco-rl')).toBe('npm run build:native');
  });
});

describe('NVIDIA driver probe (faked file system)', () => {
  const fakeFs = (files: Record<string, string>, dirs: Record<string, string[]>): DriverProbeFs => ({
    readText: (path) => files[path],
    list: (dir) => dirs[dir] ?? [],
  });

  it('reads the kernel module version from /proc', () => {
    const text = 'NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.82.07  Wed Jul 23 21:40:45 UTC 2025\nGCC version:  gcc version 13.3.0\n';
    expect(parseProcVersion(text)).toBe('580.82.07');
    expect(parseProcVersion('NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  570.86.15  Release Build')).toBe('570.86.15');
    expect(probeNvidiaDriver('linux', {}, fakeFs({ '/proc/driver/nvidia/version': text }, {}))).toEqual({ present: true, version: '580.82.07', detail: '/proc/driver/nvidia/version' });
  });

  it('falls back to a versioned libcuda (containers, WSL), LD_LIBRARY_PATH first', () => {
    const probe = probeNvidiaDriver('linux', { LD_LIBRARY_PATH: '/opt/drv' }, fakeFs({}, { '/opt/drv': ['libcuda.so.1', 'libcuda.so.575.51.03'], '/usr/lib/wsl/lib': ['libcuda.so.1'] }));
    expect(probe).toEqual({ present: true, version: '575.51.03', detail: '/opt/drv/libcuda.so.1' });
    expect(probeNvidiaDriver('linux', {}, fakeFs({}, { '/usr/lib/wsl/lib': ['libcuda.so.1'] }))).toEqual({ present: true, version: undefined, detail: '/usr/lib/wsl/lib/libcuda.so.1' });
  });

  it("WSL's libcuda.so.1.1 is an ABI name, not driver 1.1 (which would pass over every CUDA variant)", () => {
    const wsl = probeNvidiaDriver('linux', {}, fakeFs({}, { '/usr/lib/wsl/lib': ['libcuda.so', 'libcuda.so.1', 'libcuda.so.1.1'] }));
    expect(wsl).toEqual({ present: true, version: undefined, detail: '/usr/lib/wsl/lib/libcuda.so' });
    const withDriver = probeNvidiaDriver('linux', {}, fakeFs({}, { '/usr/lib/x86_64-linux-gnu': ['libcuda.so.1.1', 'libcuda.so.580.82.07'] }));
    expect(withDriver.version).toBe('580.82.07');
  });

  it('no driver: absent, saying where it looked; other platforms: absent', () => {
    const probe = probeNvidiaDriver('linux', {}, fakeFs({}, {}));
    expect(probe.present).toBe(false);
    expect(probe.detail).toMatch(/no \/proc\/driver\/nvidia\/version and no libcuda\.so in/);
    expect(probeNvidiaDriver('darwin', {}, fakeFs({}, {})).present).toBe(false);
  });

  it('compares versions numerically, not as strings', () => {
    expect(compareVersions('580.65.06', '580.9')).toBeGreaterThan(0);
    expect(compareVersions('535.104.05', '580.65.06')).toBeLessThan(0);
    expect(compareVersions('580', '580.0.0')).toBe(0);
  });
});
