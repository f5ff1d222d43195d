/**
 * The prebuilt binaries shipped in `prebuilds/`: the CPU variant in `<platform>-<arch>/` (the folder
 * node-gyp-build reads) and CUDA variants in `<platform>-<arch>-cuda<major>/`, each with a
 * `variant.json` written by `npm run prebuild` (toolkit version, architectures, oldest driver).
 * node-gyp-build ignores folders with a third dash-part, so the CUDA folders never confuse it.
 * @packageDocumentation
 */
import { createRequire } from 'node:module';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { PrebuiltVariant } from './select-binary.js';

/** `prebuilds/<dir>/variant.json`. */
export interface VariantManifest {
  variant: string;
  platform: string;
  arch: string;
  cuda?: { version: string; minDriver: string; architectures: string };
  /** The commit and date it was built from (for release notes). */
  commit?: string;
  built?: string;
}

interface Tags {
  file: string;
}
interface NodeGypBuild {
  parseTags(file: string): Tags | undefined;
  matchTags(runtime: string, abi: string): (tags: Tags | undefined) => boolean;
  compareTags(runtime: string): (a: Tags, b: Tags) => number;
}

const nodeGypBuild = createRequire(import.meta.url)('node-gyp-build') as NodeGypBuild;

/** The `.node` file of `dir` that node-gyp-build's tag rules pick for this Node (runtime, N-API, libc). */
function pickBinary(dir: string): string | undefined {
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return undefined;
  }
  const runtime = 'node';
  const candidates = files.map((f) => nodeGypBuild.parseTags(f)).filter(nodeGypBuild.matchTags(runtime, process.versions.modules!)) as Tags[];
  const winner = candidates.sort(nodeGypBuild.compareTags(runtime))[0];
  return winner ? join(dir, winner.file) : undefined;
}

/**
 * The variants under `packageRoot/prebuilds` for `platform`-`arch`.
 * @throws Error when a CUDA folder's `variant.json` is missing or unreadable (a broken package).
 */
export function findPrebuiltVariants(packageRoot: string, platform: string, arch: string): PrebuiltVariant[] {
  const root = join(packageRoot, 'prebuilds');
  if (!existsSync(root)) return [];
  const variants: PrebuiltVariant[] = [];
  const cpu = pickBinary(join(root, `${platform}-${arch}`));
  if (cpu) variants.push({ name: 'cpu', path: cpu });
  for (const dir of readdirSync(root)) {
    const match = new RegExp(`^${platform}-${arch}-(cuda\\d+)$`).exec(dir);
    if (!match) continue;
    const manifestPath = join(root, dir, 'variant.json');
    let manifest: VariantManifest;
    try {
      manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as VariantManifest;
    } catch (error) {
      throw new Error(`dyco-rl: ${manifestPath} is missing or unreadable (${(error as Error).message}); the package's prebuilds are broken`);
    }
    const binary = pickBinary(join(root, dir));
    if (!binary || !manifest.cuda) continue;
    variants.push({ name: match[1]!, path: binary, cuda: manifest.cuda });
  }
  return variants;
}
