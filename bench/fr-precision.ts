/**
 * Fisher–Rao accuracy against a float64 reference, on the CPU and, when one can be used, on CUDA (a
 * GPU, or the emulator of test/emulator/ through DYCO_RL_BINARY=build-emulated/Release/dyco_rl.node
 * after npm run test:cuda-emulated, which runs the kernels' own arithmetic and rounds the GPU's
 * approximate square roots and reciprocals off by up to 2 ulp, twice what the hardware does):
 * - nearly proportional rows (q = fround(3·p)), where the true distance is ~5e-8 and the way a
 *   row's mass is summed decides the answer: the largest absolute error;
 * - random rows (distances ~0.1–2): the largest relative error, where the GPU's approximate
 *   denominators (row_math.cuh: RatioTerm) show.
 *
 *   npx tsx bench/fr-precision.ts
 */
import { capabilities, fisherRao } from '../lib/index.js';
import { Rng } from '../test/helpers/prng.js';
import { fisherRaoRef } from '../test/oracle/fisher-rao.js';

const caps = capabilities();
const devices = caps.cuda ? (['cpu', 'cuda'] as const) : (['cpu'] as const);
console.log(`CUDA: ${caps.cuda ? caps.cudaDevice!.name : `not used (${caps.cudaReason})`}`);
const rng = new Rng(12345);
const rows = 4000;
for (const cols of [4, 8, 16, 64, 1024]) {
  const p = new Float32Array(rows * cols);
  const q = new Float32Array(rows * cols);
  for (let i = 0; i < p.length; i++) {
    p[i] = rng.range(0.1, 1.1);
    q[i] = 3 * p[i]!;
  }
  const exact = fisherRaoRef(p, q, { rows, cols });
  const errors = devices.map((device) => {
    const got = fisherRao(p, q, { rows, cols }, { device });
    let max = 0;
    for (let r = 0; r < rows; r++) max = Math.max(max, Math.abs(got[r]! - exact[r]!));
    return `${device} ${max.toExponential(2)}`;
  });
  console.log(`cols ${cols}: true distance up to ${Math.max(...exact).toExponential(2)}; largest |error|: ${errors.join(', ')}`);
}
for (const cols of [4, 64, 1024]) {
  const p = new Float32Array(rows * cols);
  const q = new Float32Array(rows * cols);
  for (let i = 0; i < p.length; i++) {
    p[i] = rng.range(0, 1) ** 2;
    q[i] = rng.range(0, 1) ** 2;
  }
  const exact = fisherRaoRef(p, q, { rows, cols });
  const errors = devices.map((device) => {
    const got = fisherRao(p, q, { rows, cols }, { device });
    let max = 0;
    for (let r = 0; r < rows; r++) max = Math.max(max, Math.abs(got[r]! - exact[r]!) / exact[r]!);
    return `${device} ${max.toExponential(2)}`;
  });
  console.log(`random rows, cols ${cols}: distances ${Math.min(...exact).toFixed(3)}–${Math.max(...exact).toFixed(3)}; largest relative error: ${errors.join(', ')}`);
}
