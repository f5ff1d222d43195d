/**
 * Which native binary to load, as a pure decision over what is installed and what the machine has,
 * so that every row of the table is testable with a faked environment:
 *
 * | situation | binaries tried, in order |
 * |---|---|
 * | `DYCO_RL_BINARY=<file>` | that file only |
 * | `DYCO_RL_VARIANT=cpu` or `=cuda13` | that prebuilt variant only (an error names the ones there are) |
 * | a local build in `build/Release/` | the local build (developers win over prebuilds) |
 * | prebuilt CUDA variants, a driver new enough | newest CUDA variant first, then the CPU variant |
 * | a CUDA variant but no driver / an old one | the CPU variant, with one log line saying why |
 * | nothing fits | an error naming the platform and the command that builds from source |
 *
 * Within a variant's folder the file is chosen by node-gyp-build's own tag rules (runtime, N-API,
 * libc), so the CPU folder `prebuilds/<platform>-<arch>/` is exactly what node-gyp-build would load.
 * @packageDocumentation
 */
import { basename, dirname, resolve } from 'node:path';
import { compareVersions, type DriverProbe } from './driver.js';

/** A prebuilt binary for this platform and architecture. */
export interface PrebuiltVariant {
  /** `'cpu'`, or `'cuda<major>'` (e.g. `'cuda13'`). */
  name: string;
  /** The `.node` file. */
  path: string;
  /** For CUDA variants, from the folder's `variant.json`. */
  cuda?: {
    /** Toolkit version it was built with, e.g. `'13.0'`. */
    version: string;
    /** Oldest NVIDIA driver that runs it, e.g. `'580.65.06'`. */
    minDriver: string;
    /** `CMAKE_CUDA_ARCHITECTURES` it was built for. */
    architectures: string;
  };
}

/** Everything the decision depends on. */
export interface LoaderInputs {
  platform: string;
  arch: string;
  /** `DYCO_RL_VARIANT`. */
  variantOverride?: string;
  /** `DYCO_RL_BINARY`. */
  binaryOverride?: string;
  /** `build/Release/dyco_rl.node` when it exists. */
  localBuild?: string;
  /** The prebuilt variants for this platform and architecture. */
  variants: PrebuiltVariant[];
  driver: DriverProbe;
  /** The command errors give for building from source (default {@link BUILD_FROM_SOURCE}; see {@link buildCommandFor}). */
  buildCommand?: string;
}

/** One binary to try. */
export interface Candidate {
  path: string;
  variant: string;
  origin: 'DYCO_RL_BINARY' | 'DYCO_RL_VARIANT' | 'local build' | 'prebuilt';
}

/** The binaries to try in order (the first that loads wins) and why CUDA variants were passed over. */
export interface LoadPlan {
  candidates: Candidate[];
  /** One entry per CUDA variant that was not tried, saying why. */
  skipped: string[];
}

/** The one command that builds the addon from source inside a project that installed dyco-rl. */
export const BUILD_FROM_SOURCE = 'npm explore dyco-rl -- npm run build:native';

/**
 * The build command to tell a user: {@link BUILD_FROM_SOURCE} where the package was installed as a
 * dependency (its folder sits in a `node_modules`), `npm run build:native` in a clone.
 * @param packageRoot - The dyco-rl package folder.
 */
export function buildCommandFor(packageRoot: string): string {
  return basename(dirname(resolve(packageRoot))) === 'node_modules' ? BUILD_FROM_SOURCE : 'npm run build:native';
}

/** CUDA majors first, newest first; the CPU variant last. */
function byPreference(a: PrebuiltVariant, b: PrebuiltVariant): number {
  if (!a.cuda !== !b.cuda) return a.cuda ? -1 : 1;
  return a.cuda && b.cuda ? compareVersions(b.cuda.version, a.cuda.version) : 0;
}

/**
 * Plans which binary to load.
 * @throws RangeError for a `DYCO_RL_VARIANT` that is not installed; Error when nothing fits.
 */
export function planBinary(inputs: LoaderInputs): LoadPlan {
  const platform = `${inputs.platform}-${inputs.arch}`;
  const buildCommand = inputs.buildCommand ?? BUILD_FROM_SOURCE;
  const installed = () => (inputs.variants.length === 0 ? 'none' : inputs.variants.map((v) => v.name).join(', '));
  if (inputs.binaryOverride) return { candidates: [{ path: inputs.binaryOverride, variant: 'DYCO_RL_BINARY', origin: 'DYCO_RL_BINARY' }], skipped: [] };
  if (inputs.variantOverride) {
    const wanted = inputs.variantOverride;
    if (wanted === 'local') {
      if (!inputs.localBuild) throw new RangeError(`DYCO_RL_VARIANT=local, but there is no local build in build/Release/ (build it with: ${buildCommand})`);
      return { candidates: [{ path: inputs.localBuild, variant: 'local', origin: 'DYCO_RL_VARIANT' }], skipped: [] };
    }
    const variant = inputs.variants.find((v) => v.name === wanted);
    if (!variant) throw new RangeError(`DYCO_RL_VARIANT=${wanted}: no such prebuilt binary for ${platform} (installed: ${installed()}; or 'local' for build/Release/)`);
    return { candidates: [{ path: variant.path, variant: variant.name, origin: 'DYCO_RL_VARIANT' }], skipped: [] };
  }
  if (inputs.localBuild) return { candidates: [{ path: inputs.localBuild, variant: 'local', origin: 'local build' }], skipped: [] };

  const candidates: Candidate[] = [];
  const skipped: string[] = [];
  const driver = inputs.driver;
  for (const variant of [...inputs.variants].sort(byPreference)) {
    if (variant.cuda) {
      if (!driver.present) {
        skipped.push(`${variant.name}: no NVIDIA driver (${driver.detail})`);
        continue;
      }
      if (driver.version && compareVersions(driver.version, variant.cuda.minDriver) < 0) {
        skipped.push(`${variant.name}: NVIDIA driver ${driver.version} is older than the ${variant.cuda.minDriver} that CUDA ${variant.cuda.version} needs`);
        continue;
      }
    }
    candidates.push({ path: variant.path, variant: variant.name, origin: 'prebuilt' });
  }
  if (candidates.length === 0) {
    throw new Error(
      `dyco-rl: no native binary fits ${platform} (Node ${process.versions.node}, N-API ${process.versions.napi}; prebuilt here: ${installed()}` +
        `${skipped.length ? `; ${skipped.join('; ')}` : ''}). Build it from source (needs cmake and a C++17 compiler): ${buildCommand}`,
    );
  }
  return { candidates, skipped };
}
