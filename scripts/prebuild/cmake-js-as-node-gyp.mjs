#!/usr/bin/env node
/**
 * prebuildify drives node-gyp (`<node-gyp> rebuild --target=… --devdir=… --arch=… --release`);
 * this stands in for node-gyp and runs our cmake-js build instead, for the variant named in
 * DYCO_PREBUILD_VARIANT ('cpu' or 'cuda<major>'). prebuildify runs it in a staging folder and
 * then takes the addon from that folder's build/Release/, so the developer's own build/ is never
 * touched. The runner (LibTorch) is never part of a prebuild: it must match the user's LibTorch.
 * --target and --devdir are ignored: the addon uses N-API only, whose headers come with cmake-js.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
if (args[0] !== 'rebuild') {
  console.error(`cmake-js-as-node-gyp: only 'rebuild' is supported (got: ${args.join(' ')})`);
  process.exit(2);
}
const variant = process.env.DYCO_PREBUILD_VARIANT ?? 'cpu';
const source = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const arch = args.find((a) => a.startsWith('--arch='))?.slice('--arch='.length) ?? process.arch;
const debug = args.includes('--debug');

const cmakeArgs = ['--CDDYCO_TORCH=OFF', `--CDDYCO_CUDA=${variant === 'cpu' ? 'OFF' : 'ON'}`];
if (variant !== 'cpu' && process.env.DYCO_PREBUILD_CUDA_ARCHITECTURES) {
  cmakeArgs.push(`--CDCMAKE_CUDA_ARCHITECTURES=${process.env.DYCO_PREBUILD_CUDA_ARCHITECTURES}`);
}
const cmakeJs = createRequire(join(source, 'package.json')).resolve('cmake-js/bin/cmake-js');
const result = spawnSync(
  process.execPath,
  [cmakeJs, 'rebuild', '-d', source, '-O', join(process.cwd(), 'build'), '-T', 'dyco_rl', '-a', arch, ...(debug ? ['-D'] : []), ...cmakeArgs],
  { stdio: 'inherit', env: { ...process.env, CMAKE_BUILD_PARALLEL_LEVEL: process.env.CMAKE_BUILD_PARALLEL_LEVEL ?? '2' } },
);
process.exit(result.status ?? 1);
