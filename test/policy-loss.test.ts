/**
 * policyLoss against the float64 oracle and against central finite differences of the oracle's
 * loss value (h = 1e-6, float64), for every algorithm and reduction.
 *
 * Tolerances (native computes in float64 but returns grad as float32):
 * - loss, kl, ratioMean: abs 1e-6 + rel 1e-5;
 * - grad vs oracle and vs finite differences: abs 1e-6 + rel 1e-4;
 * - clip fractions: abs 1e-9 (they are counts / N).
 * Random cases keep every ratio at least 1e-5 away from the kinks (1 − εlow, 1 + εhigh, δ), so the
 * choice of branch is unambiguous; ties are exercised separately with ratio exactly 1.
 */
import { describe, expect, it } from 'vitest';
import { policyLoss, type PolicyAlgorithm, type PolicyLossConfig, type PolicyLossResult } from '../lib/index.js';
import {
  policyLossFiniteDiff,
  policyLossRef,
  type PolicyLossConfigRef,
  type PolicyLossRefResult,
} from './oracle/index.js';
import { expectAllClose, expectClose } from './helpers/assert.js';
import { makePolicyCase, makeSmoothPolicyCase, type PolicyCase, type PolicyCaseOptions } from './helpers/data.js';
import { expectMatchesOracle, FRAC_TOL, GRAD_TOL, LOSS_TOL } from './helpers/policy-loss.js';

const ALGOS: PolicyAlgorithm[] = ['grpo', 'bnpo', 'dr_grpo', 'dapo', 'gspo', 'sapo'];

function run(c: PolicyCase, cfg: PolicyLossConfig): { got: PolicyLossResult; ref: PolicyLossRefResult } {
  return { got: policyLoss(c, cfg), ref: policyLossRef(c, cfg as PolicyLossConfigRef) };
}

const zero = (x: number) => x === 0; // true for +0 and −0

describe('policyLoss: every algorithm × advantages layout × (oldLogp, refLogp) vs the oracle', () => {
  const combos = [
    { old: true, ref: true },
    { old: false, ref: true },
    { old: true, ref: false },
    { old: false, ref: false },
  ];
  for (const [ai, algorithm] of ALGOS.entries()) {
    for (const perTokenAdvantages of [false, true]) {
      for (const [ci, { old, ref }] of combos.entries()) {
        const name = `${algorithm}, ${perTokenAdvantages ? 'per-token' : 'per-sequence'} A, oldLogp ${old ? 'given' : 'default'}, refLogp ${ref ? 'given' : 'none'}`;
        it(name, () => {
          const cfg: PolicyLossConfig = { algorithm };
          const opts: PolicyCaseOptions = { batch: 6, steps: 9, perTokenAdvantages, old, ref, maskedRows: [4] };
          const c = makeSmoothPolicyCase(1000 + 100 * ai + 10 * ci + (perTokenAdvantages ? 1 : 0), opts, cfg, 1e-5);
          const { got, ref: r } = run(c, cfg);
          expectMatchesOracle(got, r, name);
          if (!ref) expect(got.kl).toBe(0);
          if (!old) expectClose(got.ratioMean, 1, { abs: 1e-12, rel: 0 }, 'ratioMean with default oldLogp');
          for (let i = 0; i < c.mask.length; i++) if (!c.mask[i]) expect(zero(got.grad[i]!), `grad[${i}] masked`).toBe(true);
        });
      }
    }
  }
});

describe('policyLoss: gradient vs central finite differences of the float64 oracle (h = 1e-6; abs 1e-6 + rel 1e-4)', () => {
  for (const [ai, algorithm] of ALGOS.entries()) {
    for (const perTokenAdvantages of [false, true]) {
      it(`${algorithm}, ${perTokenAdvantages ? 'per-token' : 'per-sequence'} advantages`, () => {
        const cfg: PolicyLossConfig = { algorithm, beta: 0.1 };
        const opts: PolicyCaseOptions = {
          batch: 5,
          steps: 8,
          perTokenAdvantages,
          maskedRows: [3],
          // GSPO's clip range is tiny; put some sequences inside it and some outside.
          logRatio:
            algorithm === 'gspo'
              ? (rng, b) => (b % 3 === 0 ? 1e-4 : b % 3 === 1 ? -1.5e-4 : 0.3 * rng.normal())
              : undefined,
        };
        const c = makeSmoothPolicyCase(2000 + 10 * ai + (perTokenAdvantages ? 1 : 0), opts, cfg, algorithm === 'gspo' ? 5e-5 : 1e-4);
        const got = policyLoss(c, cfg);
        const fd = policyLossFiniteDiff(c, cfg as PolicyLossConfigRef, 1e-6);
        expectAllClose(got.grad, fd, GRAD_TOL, 'grad vs FD');
        // the FD gradient is not trivially zero
        expect(fd.some((g) => Math.abs(g) > 1e-3)).toBe(true);
      });
    }
  }

  it('with δ, custom eps and sequence-level importance for the PPO family', () => {
    for (const [k, cfg] of (
      [
        { algorithm: 'grpo', delta: 1.3 },
        { algorithm: 'dapo', delta: 1.6, epsLow: 0.1, epsHigh: 0.4 },
        { algorithm: 'bnpo', importanceLevel: 'sequence' },
        { algorithm: 'dr_grpo', importanceLevel: 'sequence', maxCompletionLength: 20 },
        { algorithm: 'sapo', tauPos: 2, tauNeg: 0.5 },
      ] as PolicyLossConfig[]
    ).entries()) {
      const c = makeSmoothPolicyCase(2100 + k, { batch: 4, steps: 10, perTokenAdvantages: k % 2 === 0 }, cfg, 1e-4);
      expectAllClose(policyLoss(c, cfg).grad, policyLossFiniteDiff(c, cfg as PolicyLossConfigRef), GRAD_TOL, JSON.stringify(cfg));
    }
  });
});

/** Two sequences with hand-placed ratios and advantages (per token), ℓ_old = ℓ − ln r. */
function handCase(ratios: number[], adv: number[], steps: number): PolicyCase {
  const n = ratios.length;
  const logp = new Float32Array(n);
  const oldLogp = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    logp[i] = -1 - 0.01 * i;
    oldLogp[i] = logp[i]! - Math.log(ratios[i]!);
  }
  return {
    logp,
    oldLogp,
    advantages: new Float32Array(adv),
    mask: new Uint8Array(n).fill(1),
    batch: n / steps,
    steps,
  };
}

describe('policyLoss: clipping', () => {
  // r:  0.5  0.5  0.7  1.5  1.5  1.25 1.0  0.9
  // A:  -1   +1   -2   +1   -1   +1   +1   -1
  // grpo (ε 0.2/0.2): low-clipped (r<0.8, A<0): idx 0, 2 → 2/8; high-clipped (r>1.2, A>0): idx 3, 5 → 2/8
  // dapo (ε 0.2/0.28): high-clipped: idx 3 only (1.25 < 1.28) → 1/8
  const ratios = [0.5, 0.5, 0.7, 1.5, 1.5, 1.25, 1.0, 0.9];
  const adv = [-1, 1, -2, 1, -1, 1, 1, -1];

  it('both clip sides are counted and their gradients vanish (grpo: low 2/8, high 2/8)', () => {
    const c = handCase(ratios, adv, 4);
    const cfg: PolicyLossConfig = { algorithm: 'grpo', beta: 0 };
    const { got, ref } = run(c, cfg);
    expectMatchesOracle(got, ref);
    expectClose(got.clipFractionLow, 2 / 8, FRAC_TOL);
    expectClose(got.clipFractionHigh, 2 / 8, FRAC_TOL);
    for (const i of [0, 2, 3, 5]) expect(zero(got.grad[i]!), `clipped token ${i}`).toBe(true);
    for (const i of [1, 4, 6, 7]) expect(Math.abs(got.grad[i]!), `unclipped token ${i}`).toBeGreaterThan(1e-3);
    // unclipped token i: grad = −A·r / (B·L) with B = 2, L = 4
    for (const i of [1, 4, 6, 7]) expectClose(got.grad[i]!, (-adv[i]! * ratios[i]!) / 8, GRAD_TOL, `grad[${i}]`);
  });

  it('asymmetric DAPO clip (εhigh 0.28): high 1/8; custom epsLow/epsHigh', () => {
    const c = handCase(ratios, adv, 4);
    const { got, ref } = run(c, { algorithm: 'dapo' });
    expectMatchesOracle(got, ref);
    expectClose(got.clipFractionLow, 2 / 8, FRAC_TOL);
    expectClose(got.clipFractionHigh, 1 / 8, FRAC_TOL);
    expect(Math.abs(got.grad[5]!)).toBeGreaterThan(1e-3);
    const custom = run(c, { algorithm: 'dapo', epsLow: 0.45, epsHigh: 0.6 });
    expectMatchesOracle(custom.got, custom.ref);
    expectClose(custom.got.clipFractionLow, 1 / 8, FRAC_TOL); // r=0.5 < 0.55 with A<0: idx 0 only
    expectClose(custom.got.clipFractionHigh, 0, FRAC_TOL);
  });

  it('two-sided clip δ: the unclipped branch uses min(r, δ) (loss and grad change, match the oracle)', () => {
    // r = 2.5 with A < 0: without δ the loss is −2.5·A with gradient; with δ = 1.5 it is −1.5·A, gradient 0.
    const r2 = [2.5, 3.0, 1.4, 0.5, 2.5, 1.0, 0.95, 1.1];
    const a2 = [-1, -0.5, -1, -1, 1, 1, -1, 1];
    const c = handCase(r2, a2, 4);
    const plain = run(c, { algorithm: 'bnpo', beta: 0 });
    const withDelta = run(c, { algorithm: 'bnpo', beta: 0, delta: 1.5 });
    expectMatchesOracle(plain.got, plain.ref, 'no δ');
    expectMatchesOracle(withDelta.got, withDelta.ref, 'δ = 1.5');
    expect(Math.abs(plain.got.grad[0]!)).toBeGreaterThan(1e-3);
    expect(zero(withDelta.got.grad[0]!)).toBe(true);
    expect(zero(withDelta.got.grad[1]!)).toBe(true);
    expect(Math.abs(withDelta.got.grad[2]!)).toBeGreaterThan(1e-3); // r = 1.4 < δ keeps its gradient
    expect(withDelta.got.loss).toBeLessThan(plain.got.loss);
    // loss with δ: Σ −min(min(r,δ)A, clip(r)A) / 8
    let expected = 0;
    for (let i = 0; i < 8; i++) {
      const r = r2[i]!;
      const A = a2[i]!;
      expected += -Math.min(Math.min(r, 1.5) * A, Math.min(Math.max(r, 0.8), 1.2) * A);
    }
    expectClose(withDelta.got.loss, expected / 8, { abs: 1e-6, rel: 1e-5 });
  });

  it('tie at r = 1 (default oldLogp): unclipped gradient −A·r/(B·L_b) for grpo; sapo factor 4σ(1−σ) = 1', () => {
    const c = makePolicyCase(3001, { batch: 4, steps: 6, old: false, ref: false });
    const g = policyLoss(c, { algorithm: 'grpo' });
    const s = policyLoss(c, { algorithm: 'sapo' });
    for (let b = 0; b < 4; b++) {
      let L = 0;
      for (let t = 0; t < 6; t++) L += c.mask[b * 6 + t]!;
      for (let t = 0; t < 6; t++) {
        const i = b * 6 + t;
        const expected = c.mask[i] ? -c.advantages[b]! / (4 * L) : 0;
        expectClose(g.grad[i]!, expected, GRAD_TOL, `grpo grad[${i}]`);
        expectClose(s.grad[i]!, expected, GRAD_TOL, `sapo grad[${i}]`);
      }
    }
    expect(g.clipFractionLow).toBe(0);
    expect(g.clipFractionHigh).toBe(0);
    expect(g.ratioMean).toBe(1);
  });
});

describe('policyLoss: reductions and defaults', () => {
  it('grpo / bnpo / dr_grpo reductions differ as specified on unequal lengths', () => {
    const c = makeSmoothPolicyCase(3101, { batch: 5, steps: 12, ref: true }, { algorithm: 'grpo' }, 1e-5);
    for (const algorithm of ['grpo', 'bnpo', 'dr_grpo'] as const) {
      const { got, ref } = run(c, { algorithm });
      expectMatchesOracle(got, ref, algorithm);
    }
    // bnpo and dr_grpo only differ by the normaliser: Σm vs B·steps
    let total = 0;
    for (const m of c.mask) total += m;
    const bn = policyLoss(c, { algorithm: 'bnpo' }).loss;
    const dr = policyLoss(c, { algorithm: 'dr_grpo' }).loss;
    expectClose(dr, (bn * total) / (5 * 12), LOSS_TOL, 'dr_grpo = bnpo·Σm/(B·T)');
  });

  it('dr_grpo maxCompletionLength replaces steps in the normaliser', () => {
    const c = makeSmoothPolicyCase(3102, { batch: 3, steps: 7 }, { algorithm: 'dr_grpo' }, 1e-5);
    const a = run(c, { algorithm: 'dr_grpo', maxCompletionLength: 32 });
    expectMatchesOracle(a.got, a.ref);
    const d = policyLoss(c, { algorithm: 'dr_grpo' });
    expectClose(a.got.loss, (d.loss * 7) / 32, LOSS_TOL);
    expectAllClose(a.got.grad, Array.from(d.grad, (g) => (g * 7) / 32), GRAD_TOL);
  });

  const explicitDefaults: Record<PolicyAlgorithm, Omit<PolicyLossConfig, 'algorithm'>> = {
    grpo: { epsLow: 0.2, epsHigh: 0.2, beta: 0.04, importanceLevel: 'token' },
    bnpo: { epsLow: 0.2, epsHigh: 0.2, beta: 0.04, importanceLevel: 'token' },
    dr_grpo: { epsLow: 0.2, epsHigh: 0.2, beta: 0.04, importanceLevel: 'token', maxCompletionLength: 9 },
    dapo: { epsLow: 0.2, epsHigh: 0.28, beta: 0, importanceLevel: 'token' },
    gspo: { epsLow: 3e-4, epsHigh: 4e-4, beta: 0.005, importanceLevel: 'sequence' },
    sapo: { beta: 0.04, tauPos: 1.0, tauNeg: 1.05, importanceLevel: 'token' },
  };
  for (const algorithm of ALGOS) {
    it(`${algorithm}: unset fields equal the table's defaults (bit-identical)`, () => {
      const c = makePolicyCase(3200 + ALGOS.indexOf(algorithm), {
        batch: 4,
        steps: 9,
        perTokenAdvantages: true,
        logRatio: (rng) => (rng.bool(0.5) ? 0.5 * rng.normal() : 2e-4 * rng.normal()),
      });
      const a = policyLoss(c, { algorithm });
      const b = policyLoss(c, { algorithm, ...explicitDefaults[algorithm] });
      expect(a.loss).toBe(b.loss);
      expect(Buffer.from(a.grad.buffer, a.grad.byteOffset, a.grad.byteLength).equals(Buffer.from(b.grad.buffer, b.grad.byteOffset, b.grad.byteLength))).toBe(true);
      expect([a.clipFractionLow, a.clipFractionHigh, a.kl, a.ratioMean]).toEqual([b.clipFractionLow, b.clipFractionHigh, b.kl, b.ratioMean]);
    });
  }
});

describe('policyLoss: sequence-level importance ratios', () => {
  it('gspo: s_b = exp(mean masked log-ratio) for every token, gradient through the mean (vs oracle)', () => {
    const cfg: PolicyLossConfig = { algorithm: 'gspo' };
    const c = makeSmoothPolicyCase(
      3301,
      { batch: 6, steps: 10, logRatio: (rng, b) => (b % 3 === 0 ? 1e-4 : b % 3 === 1 ? -1.5e-4 : 0.3 * rng.normal()), maskedRows: [5] },
      cfg,
      5e-5,
    );
    const { got, ref } = run(c, cfg);
    expectMatchesOracle(got, ref);
    // within a sequence whose s_b is inside the clip range, the policy part of the gradient is the
    // same for every unmasked token (β·KL part aside) → check with β = 0 and per-sequence A
    const g0 = policyLoss(c, { algorithm: 'gspo', beta: 0 }).grad;
    for (const b of [0, 1]) {
      const vals = Array.from(g0.subarray(b * 10, b * 10 + 10)).filter((_, t) => c.mask[b * 10 + t] === 1);
      for (const v of vals) expectClose(v, vals[0]!, { abs: 1e-9, rel: 1e-6 }, `equal grads in sequence ${b}`);
      expect(Math.abs(vals[0]!)).toBeGreaterThan(1e-4);
    }
  });

  it("gspo equals grpo with importanceLevel 'sequence' and gspo's eps/beta (abs 1e-6 + rel 1e-5)", () => {
    const c = makeSmoothPolicyCase(3302, { batch: 5, steps: 8, logRatio: (rng) => 3e-4 * rng.normal() }, { algorithm: 'gspo' }, 3e-5);
    const a = policyLoss(c, { algorithm: 'gspo' });
    const b = policyLoss(c, { algorithm: 'grpo', importanceLevel: 'sequence', epsLow: 3e-4, epsHigh: 4e-4, beta: 0.005 });
    expectClose(a.loss, b.loss, LOSS_TOL);
    expectAllClose(a.grad, b.grad, GRAD_TOL);
    expectClose(a.ratioMean, b.ratioMean, LOSS_TOL);
    expectClose(a.clipFractionLow, b.clipFractionLow, FRAC_TOL);
    expectClose(a.clipFractionHigh, b.clipFractionHigh, FRAC_TOL);
  });

  it("'sequence' importance with dapo / bnpo reductions and per-token advantages (vs oracle)", () => {
    for (const [k, algorithm] of (['dapo', 'bnpo', 'dr_grpo', 'grpo'] as const).entries()) {
      const cfg: PolicyLossConfig = { algorithm, importanceLevel: 'sequence' };
      const c = makeSmoothPolicyCase(3310 + k, { batch: 5, steps: 9, perTokenAdvantages: true, maskedRows: [0] }, cfg, 1e-5);
      const { got, ref } = run(c, cfg);
      expectMatchesOracle(got, ref, algorithm);
    }
  });
});

describe('policyLoss: per-token advantages', () => {
  it('per-token advantages constant within each sequence equal the per-sequence result', () => {
    for (const algorithm of ALGOS) {
      const c = makeSmoothPolicyCase(3401, { batch: 4, steps: 6 }, { algorithm }, 1e-5);
      const tok = new Float32Array(24);
      for (let i = 0; i < 24; i++) tok[i] = c.advantages[Math.floor(i / 6)]!;
      const a = policyLoss(c, { algorithm });
      const b = policyLoss({ ...c, advantages: tok }, { algorithm });
      expectClose(a.loss, b.loss, LOSS_TOL, algorithm);
      expectAllClose(a.grad, b.grad, GRAD_TOL, algorithm);
    }
  });

  it('SAPO picks τ per token from the sign of its own advantage', () => {
    const c = makeSmoothPolicyCase(3402, { batch: 3, steps: 8, perTokenAdvantages: true }, { algorithm: 'sapo' });
    const cfg: PolicyLossConfig = { algorithm: 'sapo', tauPos: 3, tauNeg: 0.3 };
    const { got, ref } = run(c, cfg);
    expectMatchesOracle(got, ref);
  });
});

describe('policyLoss: masking', () => {
  it('fully masked rows contribute 0 and get zero gradient; their (NaN) entries are never read', () => {
    for (const algorithm of ALGOS) {
      const cfg: PolicyLossConfig = { algorithm };
      const opts: PolicyCaseOptions = { batch: 5, steps: 7, perTokenAdvantages: true, maskedRows: [0, 3] };
      const clean = makeSmoothPolicyCase(3501, opts, cfg, 1e-5);
      const dirty = makeSmoothPolicyCase(3501, { ...opts, nanInMasked: true }, cfg, 1e-5);
      const a = policyLoss(clean, cfg);
      const b = policyLoss(dirty, cfg);
      expectMatchesOracle(b, policyLossRef(clean, cfg as PolicyLossConfigRef), algorithm);
      expect(b.loss, algorithm).toBe(a.loss);
      expectAllClose(b.grad, a.grad, { abs: 0, rel: 0 }, `${algorithm} grad, NaN vs finite masked entries`);
      for (const row of [0, 3]) for (let t = 0; t < 7; t++) expect(zero(b.grad[row * 7 + t]!)).toBe(true);
    }
  });

  it('per-sequence advantage of a fully masked row is never read (NaN accepted)', () => {
    const c = makeSmoothPolicyCase(3502, { batch: 4, steps: 5, maskedRows: [2] }, { algorithm: 'grpo' }, 1e-5);
    const adv = c.advantages.slice();
    adv[2] = NaN;
    const a = policyLoss(c, { algorithm: 'grpo' });
    const b = policyLoss({ ...c, advantages: adv }, { algorithm: 'grpo' });
    expect(b.loss).toBe(a.loss);
  });

  it('everything masked: loss 0, zero gradient, every metric 0, for every algorithm', () => {
    for (const algorithm of ALGOS) {
      const c = makePolicyCase(3503, { batch: 3, steps: 4, maskedRows: [0, 1, 2], nanInMasked: true });
      const r = policyLoss(c, { algorithm });
      expect(zero(r.loss), `${algorithm} loss ${r.loss}`).toBe(true);
      expect(Array.from(r.grad).every(zero), algorithm).toBe(true);
      const metrics = [r.clipFractionLow, r.clipFractionHigh, r.kl, r.ratioMean];
      expect(metrics.every(zero), `${algorithm} metrics ${metrics.join(', ')}`).toBe(true);
    }
  });

  it('steps = 1 (advantages of length batch = batch·steps) matches the oracle for every algorithm', () => {
    for (const [k, algorithm] of ALGOS.entries()) {
      const cfg: PolicyLossConfig = { algorithm };
      const c = makeSmoothPolicyCase(3504 + k, { batch: 6, steps: 1 }, cfg, 1e-5);
      const { got, ref } = run(c, cfg);
      expectMatchesOracle(got, ref, algorithm);
    }
  });

  it('batch = 0 gives loss 0 and an empty gradient', () => {
    const r = policyLoss(
      { logp: new Float32Array(0), advantages: new Float32Array(0), mask: new Uint8Array(0), batch: 0, steps: 5 },
      { algorithm: 'grpo' },
    );
    expect(zero(r.loss), `loss ${r.loss}`).toBe(true);
    expect(r.grad).toBeInstanceOf(Float32Array);
    expect(r.grad.length).toBe(0);
  });
});

describe('policyLoss: adversarial magnitudes', () => {
  it('extreme log-ratios (|ℓ − ℓ_old| up to 20) and far-off reference log-probs stay finite and match the oracle', () => {
    for (const [k, algorithm] of ALGOS.entries()) {
      const cfg: PolicyLossConfig = { algorithm, beta: 0.01 };
      const c = makeSmoothPolicyCase(
        3700 + k,
        { batch: 4, steps: 6, perTokenAdvantages: true, logRatio: (rng) => rng.range(-20, 20) },
        cfg,
        1e-4,
      );
      for (let i = 0; i < c.refLogp!.length; i++) c.refLogp![i] = c.logp[i]! + (i % 2 ? 15 : -15);
      const { got, ref } = run(c, cfg);
      expect(Number.isFinite(got.loss), algorithm).toBe(true);
      expect(Array.from(got.grad).every(Number.isFinite), algorithm).toBe(true);
      expectMatchesOracle(got, ref, algorithm);
    }
  });
});

describe('policyLoss: metrics', () => {
  it('kl is the mean k3 over unmasked tokens; 0 without refLogp even with β > 0', () => {
    const c = makeSmoothPolicyCase(3601, { batch: 4, steps: 6, ref: true }, { algorithm: 'grpo' });
    let sum = 0;
    let n = 0;
    for (let i = 0; i < 24; i++) {
      if (!c.mask[i]) continue;
      const d = c.refLogp![i]! - c.logp[i]!;
      sum += Math.exp(d) - d - 1;
      n++;
    }
    expectClose(policyLoss(c, { algorithm: 'grpo', beta: 0 }).kl, sum / n, LOSS_TOL, 'kl with β = 0 still reported');
    const noRef = { ...c, refLogp: undefined };
    expect(policyLoss(noRef, { algorithm: 'grpo', beta: 0.5 }).kl).toBe(0);
  });

  it('ratioMean is the mean importance ratio over unmasked tokens (token and sequence level)', () => {
    const c = makeSmoothPolicyCase(3602, { batch: 4, steps: 6 }, { algorithm: 'grpo' });
    for (const importanceLevel of ['token', 'sequence'] as const) {
      const { got, ref } = run(c, { algorithm: 'grpo', importanceLevel });
      expectClose(got.ratioMean, ref.ratioMean, LOSS_TOL, importanceLevel);
    }
  });

  it('does not modify its inputs', () => {
    const c = makeSmoothPolicyCase(3603, { batch: 3, steps: 5 }, { algorithm: 'grpo' });
    const copy = { logp: c.logp.slice(), old: c.oldLogp!.slice(), ref: c.refLogp!.slice(), adv: c.advantages.slice(), mask: c.mask.slice() };
    policyLoss(c, { algorithm: 'gspo' });
    expect(c.logp).toEqual(copy.logp);
    expect(c.oldLogp).toEqual(copy.old);
    expect(c.refLogp).toEqual(copy.ref);
    expect(c.advantages).toEqual(copy.adv);
    expect(c.mask).toEqual(copy.mask);
  });
});
