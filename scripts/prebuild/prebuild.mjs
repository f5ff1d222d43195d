#!/usr/bin/env node
/**
 * `npm run prebuild`: builds every variant of the kernel addon this machine can build into
 * prebuilds/ (which `npm pack` ships): the CPU variant in prebuilds/<platform>-<arch>/ and, when nvcc
 * is found, a CUDA variant in prebuilds/<platform>-<arch>-cuda<major>/ with the variant.json the
 * loader reads (toolkit version, architectures, oldest driver). prebuildify does the packaging and
 * naming; it drives our cmake-js build through cmake-js-as-node-gyp.mjs.
 *
 *   npm run prebuild                          # every variant this machine can build
 *   npm run prebuild -- --variants cpu        # only some (cpu, cuda)
 *   DYCO_PREBUILD_CUDA_ARCHITECTURES="80-real;90-real;90-virtual" npm run prebuild -- --variants cuda
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const wrapper = join(root, 'scripts', 'prebuild', 'cmake-js-as-node-gyp.mjs');
const { values } = parseArgs({ options: { variants: { type: 'string' } } });

/**
 * Oldest Linux driver for each CUDA major, from NVIDIA's CUDA toolkit release notes (table
 * "CUDA Toolkit and Minimum Required Driver Version for CUDA Minor Version Compatibility").
 */
const MIN_DRIVER = { 12: '525.60.13', 13: '580.65.06' };

/** The CUDA architectures a staging build was configured with, from its CMake cache (the truth, whatever set them). */
function builtArchitectures(staging) {
  const cache = readFileSync(join(staging, 'build', 'CMakeCache.txt'), 'utf8');
  const line = /^CMAKE_CUDA_ARCHITECTURES(?::\w+)?=(.*)$/m.exec(cache);
  if (!line || !line[1]) throw new Error(`no CMAKE_CUDA_ARCHITECTURES in ${join(staging, 'build', 'CMakeCache.txt')}`);
  return line[1].trim();
}

function findNvcc() {
  const candidates = [process.env.CUDACXX, 'nvcc', process.env.CUDA_HOME && join(process.env.CUDA_HOME, 'bin', 'nvcc'), '/usr/local/cuda/bin/nvcc'].filter(Boolean);
  for (const nvcc of candidates) {
    try {
      const text = execFileSync(nvcc, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      const version = /release (\d+)\.(\d+)/.exec(text);
      if (version) return { nvcc, major: Number(version[1]), version: `${version[1]}.${version[2]}` };
    } catch {
      // not this one
    }
  }
  return undefined;
}

const nvcc = findNvcc();
// A CUDA variant needs the toolkit and the CUDA kernels (native/cuda/*.cu).
const cudaDir = join(root, 'native', 'cuda');
const hasCudaKernels = existsSync(cudaDir) && readdirSync(cudaDir).some((f) => f.endsWith('.cu'));
const wanted = values.variants ? values.variants.split(',') : ['cpu', ...(nvcc && hasCudaKernels ? ['cuda'] : [])];
for (const v of wanted) if (v !== 'cpu' && v !== 'cuda') throw new Error(`--variants: unknown variant '${v}' (cpu, cuda)`);
if (wanted.includes('cuda') && !nvcc) throw new Error('--variants cuda: no nvcc found (PATH, CUDACXX, CUDA_HOME, /usr/local/cuda)');
if (wanted.includes('cuda') && !hasCudaKernels) throw new Error('--variants cuda: native/cuda/ has no CUDA kernels in this checkout');
if (nvcc && !MIN_DRIVER[nvcc.major]) throw new Error(`CUDA ${nvcc.version}: add its minimum driver to MIN_DRIVER in ${fileURLToPath(import.meta.url)}`);

const prebuildify = createRequire(join(root, 'package.json')).resolve('prebuildify/bin.js');
const tuple = `${process.platform}-${process.arch}`;
let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
} catch {
  // not a git checkout
}
chmodSync(wrapper, 0o755); // prebuildify spawns it directly

for (const kind of wanted) {
  const variant = kind === 'cpu' ? 'cpu' : `cuda${nvcc.major}`;
  const staging = join(root, 'build-prebuild', variant);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  console.log(`== prebuild ${variant} (${tuple}) in ${staging}`);
  const result = spawnSync(
    process.execPath,
    [prebuildify, '--napi', '--strip', '--tag-libc', '--name', 'node.napi', '--node-gyp', wrapper, '--out', join(staging, 'out'), staging],
    { stdio: 'inherit', env: { ...process.env, DYCO_PREBUILD_VARIANT: variant, ...(nvcc ? { CUDACXX: nvcc.nvcc } : {}) } },
  );
  if (result.status !== 0) throw new Error(`prebuildify failed for ${variant} (exit ${result.status})`);
  const built = join(staging, 'out', 'prebuilds', tuple);
  const dest = join(root, 'prebuilds', variant === 'cpu' ? tuple : `${tuple}-${variant}`);
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  for (const file of readdirSync(built)) cpSync(join(built, file), join(dest, file));
  if (variant !== 'cpu') {
    const manifest = {
      variant,
      platform: process.platform,
      arch: process.arch,
      cuda: { version: nvcc.version, minDriver: MIN_DRIVER[nvcc.major], architectures: builtArchitectures(staging) },
      commit,
      built: new Date().toISOString(),
    };
    writeFileSync(join(dest, 'variant.json'), JSON.stringify(manifest, null, 2) + '\n');
  }
  console.log(`== ${variant}: ${readdirSync(dest).map((f) => join(dest, f)).join(', ')}`);
}
if (!existsSync(join(root, 'prebuilds'))) throw new Error('nothing was built');
