/**
 * fisherRao / fisherRaoAdjacent against the float64 oracle.
 *
 * Accuracy criterion (the "FR criterion", helpers/assert.ts): relative error ≤ 1e-4 wherever the
 * oracle's FR ≥ 1e-3, absolute error ≤ 1e-7 below that. The oracle runs on the very float32
 * values the kernel receives (widened exactly to float64), so only the kernel's arithmetic is
 * measured. Special values: identical rows ≤ 1e-6 (should be 0), disjoint supports π ± 1e-6.
 */
import { describe, expect, it } from 'vitest';
import { fisherRao, fisherRaoAdjacent } from '../lib/index.js';
import { fisherRaoAdjacentRef, fisherRaoNaiveFloat32, fisherRaoRef } from './oracle/index.js';
import { Rng } from './helpers/prng.js';
import { expectAllClose, expectFrClose, frViolations } from './helpers/assert.js';
import { tinyShiftCase } from './helpers/data.js';

const PI_TOL = { abs: 1e-6, rel: 0 };

describe('fisherRao', () => {
  it('returns a Float32Array(rows) and matches the example in the TSDoc ([π, 0])', () => {
    const out = fisherRao(new Float32Array([1, 0, 0.5, 0.5]), new Float32Array([0, 1, 0.5, 0.5]), { rows: 2, cols: 2 });
    expect(out).toBeInstanceOf(Float32Array);
    expect(out.length).toBe(2);
    expectAllClose(out, [Math.PI, 0], PI_TOL);
  });

  it('random rows of several widths match the oracle (FR criterion)', () => {
    const rng = new Rng(11);
    for (const cols of [1, 2, 3, 7, 16, 31, 64, 257, 1000]) {
      const rows = 40;
      const p = rng.probRows(rows, cols, rng.range(0.3, 3));
      const q = rng.probRows(rows, cols, rng.range(0.3, 3));
      expectFrClose(fisherRao(p, q, { rows, cols }), fisherRaoRef(p, q, { rows, cols }), `cols=${cols}`);
    }
  });

  it('unnormalised rows are normalised first (scale invariance; FR criterion)', () => {
    const rng = new Rng(12);
    const rows = 30;
    const cols = 50;
    const p = rng.probRows(rows, cols);
    const q = rng.probRows(rows, cols);
    const p2 = new Float32Array(p.length);
    const q2 = new Float32Array(q.length);
    for (let r = 0; r < rows; r++) {
      const sp = 10 ** rng.range(-6, 6);
      const sq = 10 ** rng.range(-6, 6);
      for (let c = 0; c < cols; c++) {
        p2[r * cols + c] = p[r * cols + c]! * sp;
        q2[r * cols + c] = q[r * cols + c]! * sq;
      }
    }
    const got = fisherRao(p2, q2, { rows, cols });
    expectFrClose(got, fisherRaoRef(p2, q2, { rows, cols }));
    expectFrClose(got, fisherRaoRef(p, q, { rows, cols }), 'vs unscaled');
  });

  it('identical rows give 0 (≤ 1e-6), including unnormalised, one-hot and zero rows', () => {
    const rng = new Rng(13);
    const cols = 37;
    const p = rng.probRows(20, cols);
    for (let c = 0; c < cols; c++) {
      p[0 * cols + c] = c === 5 ? 1 : 0; // one-hot
      p[1 * cols + c] = 0; // zero row
      p[2 * cols + c] *= 1000; // unnormalised
    }
    const out = fisherRao(p, p.slice(), { rows: 20, cols });
    for (let i = 0; i < 20; i++) expect(out[i], `row ${i}`).toBeLessThanOrEqual(1e-6);
    for (let i = 0; i < 20; i++) expect(out[i], `row ${i}`).toBeGreaterThanOrEqual(0);
  });

  it('disjoint supports give π (± 1e-6)', () => {
    const rng = new Rng(14);
    const rows = 25;
    const cols = 40;
    const p = new Float32Array(rows * cols);
    const q = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const inP = rng.bool();
        const v = rng.range(0.01, 1);
        if (inP) p[r * cols + c] = v;
        else q[r * cols + c] = v;
      }
      // make sure both have some mass
      p[r * cols] = 0.5;
      q[r * cols] = 0;
      q[r * cols + 1] = 0.5;
      p[r * cols + 1] = 0;
    }
    const out = fisherRao(p, q, { rows, cols });
    expectAllClose(out, new Float64Array(rows).fill(Math.PI), PI_TOL);
  });

  it('one-hot vs one-hot, one-hot vs uniform, zero row vs uniform / one-hot (FR criterion)', () => {
    const cols = 10;
    const p = new Float32Array(5 * cols);
    const q = new Float32Array(5 * cols);
    // row 0: same one-hot → 0
    p[0 * cols + 3] = 1;
    q[0 * cols + 3] = 2;
    // row 1: different one-hots → π
    p[1 * cols + 0] = 1;
    q[1 * cols + 9] = 1;
    // row 2: one-hot vs uniform → 2·acos(1/√n)
    p[2 * cols + 4] = 1;
    for (let c = 0; c < cols; c++) q[2 * cols + c] = 0.1;
    // row 3: zero row (uniform) vs uniform → 0
    for (let c = 0; c < cols; c++) q[3 * cols + c] = 7;
    // row 4: zero row (uniform) vs one-hot → 2·acos(1/√n)
    q[4 * cols + 2] = 0.25;
    const out = fisherRao(p, q, { rows: 5, cols });
    const a = 2 * Math.acos(1 / Math.sqrt(cols));
    expectAllClose(out, [0, Math.PI, a, 0, a], { abs: 1e-6, rel: 1e-6 });
    expectFrClose(out, fisherRaoRef(p, q, { rows: 5, cols }));
  });

  it('both rows zero → both uniform → 0', () => {
    const out = fisherRao(new Float32Array(8), new Float32Array(8), { rows: 2, cols: 4 });
    expect(Array.from(out)).toEqual([0, 0]);
  });

  it('cols = 1: every row is the point mass, FR 0 (zero rows included)', () => {
    const out = fisherRao(new Float32Array([1, 0, 3]), new Float32Array([5, 2, 0]), { rows: 3, cols: 1 });
    expect(Array.from(out)).toEqual([0, 0, 0]);
  });

  it('negative zero entries are accepted (−0 is not negative) and act as 0', () => {
    const p = new Float32Array([-0, 0.5, 0.5, -0]);
    const q = new Float32Array([0, 0.5, 0.5, 0]);
    expect(Array.from(fisherRao(p, q, { rows: 1, cols: 4 }))[0]).toBeLessThanOrEqual(1e-6);
    const x = new Float32Array([-0, 1, 1, -0]);
    expect(fisherRaoAdjacent(x, { batch: 1, steps: 2, width: 2 })[1]).toBeCloseTo(Math.PI, 6);
  });

  it('rows = 0 gives an empty Float32Array', () => {
    const out = fisherRao(new Float32Array(0), new Float32Array(0), { rows: 0, cols: 5 });
    expect(out).toBeInstanceOf(Float32Array);
    expect(out.length).toBe(0);
  });

  it('tiny shifts: rel. error ≤ 1e-4 where FR ≥ 1e-3 (abs ≤ 1e-7 below), 400 rows × 64', () => {
    const { p, q } = tinyShiftCase(42, 400, 64);
    const exact = fisherRaoRef(p, q, { rows: 400, cols: 64 });
    expect(exact.filter((x) => x >= 1e-3).length, 'enough rows in the ≥ 1e-3 regime').toBeGreaterThan(100);
    expect(exact.filter((x) => x < 1e-3).length, 'some rows below 1e-3').toBeGreaterThan(50);
    expectFrClose(fisherRao(p, q, { rows: 400, cols: 64 }), exact);
  });

  it('the naive float32 arccos form FAILS the same tiny-shift criterion on the same data (the test has teeth)', () => {
    const { p, q } = tinyShiftCase(42, 400, 64);
    const exact = fisherRaoRef(p, q, { rows: 400, cols: 64 });
    const naive = fisherRaoNaiveFloat32(p, q, { rows: 400, cols: 64 });
    const bad = frViolations(naive, exact);
    expect(bad.length).toBeGreaterThan(40);
    // and among the rows with FR ≥ 1e-3 specifically
    expect(bad.filter((i) => exact[i]! >= 1e-3).length).toBeGreaterThan(10);
  });

  it('tiny shifts on wide rows (4096 cols; FR criterion)', () => {
    const { p, q } = tinyShiftCase(43, 60, 4096);
    expectFrClose(fisherRao(p, q, { rows: 60, cols: 4096 }), fisherRaoRef(p, q, { rows: 60, cols: 4096 }));
  });

  it('long rows (100k entries): random, tiny shift, one-hot vs uniform, sparse (FR criterion)', () => {
    const rng = new Rng(15);
    const cols = 100_000;
    const rows = 4;
    const p = rng.probRows(rows, cols);
    const q = rng.probRows(rows, cols);
    // row 1: tiny shift of p's row
    for (let c = 0; c < cols; c++) q[cols + c] = p[cols + c]! * Math.exp(3e-3 * rng.normal());
    // row 2: one-hot at the very end vs uniform
    for (let c = 0; c < cols; c++) {
      p[2 * cols + c] = c === cols - 1 ? 1 : 0;
      q[2 * cols + c] = 1e-5;
    }
    // row 3: sparse supports overlapping on a few entries
    for (let c = 0; c < cols; c++) {
      p[3 * cols + c] = c % 1000 === 0 ? 1 : 0;
      q[3 * cols + c] = c % 1500 === 0 ? 1 : 0;
    }
    const exact = fisherRaoRef(p, q, { rows, cols });
    expect(exact[1]).toBeGreaterThan(1e-3);
    expectFrClose(fisherRao(p, q, { rows, cols }), exact);
  });

  it('many rows (multi-threaded path: 3000 × 300) match the oracle (FR criterion)', () => {
    const rng = new Rng(16);
    const p = rng.probRows(3000, 300);
    const q = rng.probRows(3000, 300, 0.5);
    expectFrClose(fisherRao(p, q, { rows: 3000, cols: 300 }), fisherRaoRef(p, q, { rows: 3000, cols: 300 }));
  });

  it('extreme magnitudes (denormal-ish and huge entries) stay finite and accurate (FR criterion)', () => {
    const cols = 20;
    const rng = new Rng(17);
    const p = new Float32Array(3 * cols);
    const q = new Float32Array(3 * cols);
    for (let c = 0; c < cols; c++) {
      p[c] = rng.range(1, 2) * 1e-38;
      q[c] = rng.range(1, 2) * 1e-38;
      p[cols + c] = rng.range(1, 2) * 1e37;
      q[cols + c] = rng.range(1, 2) * 1e37;
      p[2 * cols + c] = c === 0 ? 3e38 : 1e-40;
      q[2 * cols + c] = 1;
    }
    const got = fisherRao(p, q, { rows: 3, cols });
    for (const v of got) expect(Number.isFinite(v)).toBe(true);
    expectFrClose(got, fisherRaoRef(p, q, { rows: 3, cols }));
  });

  it('does not modify its inputs', () => {
    const rng = new Rng(18);
    const p = rng.probRows(5, 9);
    const q = rng.probRows(5, 9);
    const p0 = p.slice();
    const q0 = q.slice();
    fisherRao(p, q, { rows: 5, cols: 9 });
    expect(p).toEqual(p0);
    expect(q).toEqual(q0);
  });

  it('works on subarray views with a byte offset', () => {
    const rng = new Rng(19);
    const bigP = rng.probRows(4, 10);
    const bigQ = rng.probRows(4, 10);
    const p = bigP.subarray(10, 30);
    const q = bigQ.subarray(20, 40);
    expectFrClose(fisherRao(p, q, { rows: 2, cols: 10 }), fisherRaoRef(p, q, { rows: 2, cols: 10 }));
  });
});

describe('fisherRaoAdjacent', () => {
  it('returns Float32Array(batch*steps) with (b,0) = 0; the TSDoc example', () => {
    const x = new Float32Array([1, 0, 0, 0.5, 0.5, 0, 0.2, 0.3, 0.5]);
    const lengths = new Int32Array([1, 2, 3]);
    const out = fisherRaoAdjacent(x, { batch: 1, steps: 3, width: 3, lengths });
    expect(out).toBeInstanceOf(Float32Array);
    expect(out.length).toBe(3);
    expect(out[0]).toBe(0);
    expectFrClose(out, fisherRaoAdjacentRef(x, { batch: 1, steps: 3, width: 3, lengths }));
  });

  it('without lengths: random sequences match the oracle (FR criterion)', () => {
    const rng = new Rng(21);
    const batch = 6;
    const steps = 9;
    const width = 45;
    const x = rng.probRows(batch * steps, width);
    const out = fisherRaoAdjacent(x, { batch, steps, width });
    for (let b = 0; b < batch; b++) expect(out[b * steps]).toBe(0);
    expectFrClose(out, fisherRaoAdjacentRef(x, { batch, steps, width }));
  });

  it('growing prefixes (lengths + 1 per step) with garbage past each length (FR criterion)', () => {
    const rng = new Rng(22);
    const batch = 5;
    const steps = 30;
    const start = 10;
    const width = start + steps;
    const x = rng.probRows(batch * steps, width);
    const lengths = new Int32Array(batch * steps);
    for (let b = 0; b < batch; b++) for (let t = 0; t < steps; t++) lengths[b * steps + t] = start + t;
    // entries past the length must not matter: fill them with large finite garbage
    for (let i = 0; i < batch * steps; i++) for (let k = lengths[i]!; k < width; k++) x[i * width + k] = 1e6 * rng.uniform();
    expectFrClose(fisherRaoAdjacent(x, { batch, steps, width, lengths }), fisherRaoAdjacentRef(x, { batch, steps, width, lengths }));
  });

  it('random lengths (incl. 0, shrinking and growing) match the oracle; m = 0 gives 0', () => {
    const rng = new Rng(23);
    const batch = 7;
    const steps = 12;
    const width = 20;
    const x = rng.probRows(batch * steps, width, 2);
    const lengths = new Int32Array(batch * steps);
    for (let i = 0; i < lengths.length; i++) lengths[i] = rng.bool(0.15) ? 0 : rng.int(1, width);
    const out = fisherRaoAdjacent(x, { batch, steps, width, lengths });
    const ref = fisherRaoAdjacentRef(x, { batch, steps, width, lengths });
    expectFrClose(out, ref);
    for (let b = 0; b < batch; b++)
      for (let t = 1; t < steps; t++) {
        const i = b * steps + t;
        if (lengths[i] === 0 || lengths[i - 1] === 0) expect(out[i]).toBe(0);
      }
  });

  it('prefix renormalisation: mass beyond the common prefix is ignored; zero-mass prefix is uniform', () => {
    // width 4; row0 len 2 = [0.5, 0.5 | …], row1 len 4 = [1, 1, 100, 100] → prefix [1,1] ≡ [0.5,0.5] → 0
    // row2 len 4 = [0, 0, 1, 1] → prefix with row1 (m=4): FR([1,1,100,100],[0,0,1,1]) > 0
    // row3 len 2 = [0, 0, …] → zero prefix (uniform) vs row2's prefix [0,0] (uniform) → 0
    const x = new Float32Array([0.5, 0.5, 9, 9, 1, 1, 100, 100, 0, 0, 1, 1, 0, 0, 5, 5]);
    const lengths = new Int32Array([2, 4, 4, 2]);
    const out = fisherRaoAdjacent(x, { batch: 1, steps: 4, width: 4, lengths });
    expect(out[0]).toBe(0);
    expect(out[1]).toBeLessThanOrEqual(1e-6);
    expect(out[3]).toBeLessThanOrEqual(1e-6);
    expectFrClose(out, fisherRaoAdjacentRef(x, { batch: 1, steps: 4, width: 4, lengths }));
  });

  it('identical consecutive rows → 0; one-hot jumps → π', () => {
    const width = 5;
    const x = new Float32Array(4 * width);
    x[0 * width + 1] = 1;
    x[1 * width + 1] = 3; // same one-hot
    x[2 * width + 4] = 1; // different one-hot
    x[3 * width + 4] = 1;
    const out = fisherRaoAdjacent(x, { batch: 1, steps: 4, width });
    expectAllClose(out, [0, 0, Math.PI, 0], PI_TOL);
  });

  it('entries past a row length are never read (NaN there is accepted and ignored)', () => {
    const rng = new Rng(24);
    const batch = 2;
    const steps = 6;
    const width = 12;
    const x = rng.probRows(batch * steps, width);
    const lengths = new Int32Array(batch * steps);
    for (let i = 0; i < lengths.length; i++) lengths[i] = rng.int(0, width);
    const clean = x.slice();
    for (let i = 0; i < batch * steps; i++) for (let k = lengths[i]!; k < width; k++) x[i * width + k] = NaN;
    const out = fisherRaoAdjacent(x, { batch, steps, width, lengths });
    expectFrClose(out, fisherRaoAdjacentRef(clean, { batch, steps, width, lengths }));
  });

  it('steps = 1 and batch = 0 edge shapes', () => {
    const out1 = fisherRaoAdjacent(new Float32Array([0.3, 0.7, 0.1, 0.9]), { batch: 2, steps: 1, width: 2 });
    expect(Array.from(out1)).toEqual([0, 0]);
    const out0 = fisherRaoAdjacent(new Float32Array(0), { batch: 0, steps: 3, width: 4 });
    expect(out0).toBeInstanceOf(Float32Array);
    expect(out0.length).toBe(0);
  });

  it('long rows (100k width, 3 steps, tiny shifts; FR criterion)', () => {
    const rng = new Rng(25);
    const width = 100_000;
    const x = rng.probRows(3, width);
    for (let k = 0; k < width; k++) {
      x[width + k] = x[k]! * Math.exp(2e-3 * rng.normal());
      x[2 * width + k] = x[width + k]! * Math.exp(0.2 * rng.normal());
    }
    const lengths = new Int32Array([width, width - 1, width]);
    const ref = fisherRaoAdjacentRef(x, { batch: 1, steps: 3, width, lengths });
    expect(ref[1]).toBeGreaterThan(1e-3);
    expectFrClose(fisherRaoAdjacent(x, { batch: 1, steps: 3, width, lengths }), ref);
  });
});
