/**
 * Finds the NVIDIA driver without loading anything: the kernel module's version from
 * `/proc/driver/nvidia/version`, or failing that (containers, WSL) a `libcuda.so.<version>` in the
 * usual library folders. The loader compares the version with what a CUDA variant needs before it
 * tries that variant, so a machine without a driver (or with an old one) gets the CPU binary and one
 * line saying why, instead of a binary whose every CUDA call would fail.
 * @packageDocumentation
 */
import { readFileSync, readdirSync } from 'node:fs';

/** What {@link probeNvidiaDriver} found. */
export interface DriverProbe {
  /** Whether an NVIDIA driver (kernel module or libcuda) is present. */
  present: boolean;
  /** Its version, e.g. `'580.82.07'`, when it could be read. */
  version?: string;
  /** Where the answer came from (a file or folder), or why there is none. */
  detail: string;
}

/** The file system reads the probe needs (replaced in tests). */
export interface DriverProbeFs {
  readText(path: string): string | undefined;
  list(dir: string): string[];
}

const realFs: DriverProbeFs = {
  readText(path) {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  },
  list(dir) {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  },
};

/** Folders where distributions, NVIDIA's installers, containers and WSL put libcuda. */
const LIBCUDA_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/nvidia/lib64', '/usr/lib/wsl/lib'];

/** The driver version in `/proc/driver/nvidia/version`'s first line, e.g. `…Kernel Module  580.82.07  Wed …`. */
export function parseProcVersion(text: string): string | undefined {
  return /Kernel Module(?: for [\w-]+)?\s+(\d+\.\d+(?:\.\d+)?)/.exec(text)?.[1];
}

/**
 * Looks for the NVIDIA driver on Linux. Elsewhere reports it absent (the CUDA variants are built
 * for Linux only).
 * @param platform - `process.platform`.
 * @param env - For `LD_LIBRARY_PATH`, searched before the usual folders.
 */
export function probeNvidiaDriver(platform: string = process.platform, env: NodeJS.ProcessEnv = process.env, fs: DriverProbeFs = realFs): DriverProbe {
  if (platform !== 'linux') return { present: false, detail: `CUDA variants are built for Linux only (this is ${platform})` };
  const proc = fs.readText('/proc/driver/nvidia/version');
  const fromProc = proc === undefined ? undefined : parseProcVersion(proc);
  if (fromProc) return { present: true, version: fromProc, detail: '/proc/driver/nvidia/version' };
  const dirs = [...(env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), ...LIBCUDA_DIRS];
  for (const dir of dirs) {
    const names = fs.list(dir).filter((name) => name.startsWith('libcuda.so'));
    if (names.length === 0) continue;
    // libcuda.so.580.82.07 carries the driver version (a major of three digits or more); the ABI
    // names libcuda.so.1 and WSL's libcuda.so.1.1 do not.
    const versioned = names.map((name) => /^libcuda\.so\.(\d{3,}\.\d+(?:\.\d+)?)$/.exec(name)?.[1]).find(Boolean);
    return { present: true, version: versioned, detail: `${dir}/${names[0]}` };
  }
  return { present: false, detail: 'no /proc/driver/nvidia/version and no libcuda.so in ' + dirs.join(', ') };
}

/** Compares dotted versions numerically: negative when `a < b`. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
