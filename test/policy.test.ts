import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attentionStats, capabilities, Policy, type GradientsResult, type PolicyLossConfig, type Rollout } from '../lib/index.js';
import { Rng } from './helpers/prng.js';
import { closeReport, expectAllClose, expectBitEqual, expectRejectsNamed } from './helpers/assert.js';
import { eosId, makeImages, makePrompts, testConfig } from './helpers/policy-data.js';

const torch = capabilities().torch;
if (!torch.available) console.warn(`[skip] Policy tests: ${torch.reason}`);
const describeTorch = torch.available ? describe : describe.skip;

describeTorch('Policy (LibTorch runner, CPU)', () => {
  let policy: Policy;
  let dir: string;
  const rng = new Rng(20261125);
  const prompts = makePrompts(rng, 3);
  const images = makeImages(rng, 3);
  const request = { images, prompts, groupSize: 2, maxNewTokens: 12, eosId, temperature: 1 };

  beforeAll(async () => {
    policy = await Policy.create(testConfig, { device: 'cpu', seed: 7, learningRate: 1e-3 });
    dir = await mkdtemp(join(tmpdir(), 'dyco-policy-'));
  });
  afterAll(async () => {
    await policy?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('reports its config, device and parameter count', () => {
    const info = policy.info();
    expect(info.device).toBe('cpu');
    expect(info.config.hidden).toBe(32);
    expect(info.config.attentionLayer).toBe(-1);
    expect(info.parameters).toBeGreaterThan(10_000);
    expect(info.optimizer.learningRate).toBe(1e-3);
  });

  it('generate: shapes, masks that end at EOS, padding after it, zeros where masked', async () => {
    const r = await policy.generate({ ...request, padId: 0 });
    const B = 6;
    const T = 12;
    expect(r.batch).toBe(B);
    expect(r.steps).toBe(T);
    for (const a of [r.tokens, r.mask, r.logprobs, r.ratioVis, r.ratioTxt, r.frVis, r.frTxt]) expect(a.length).toBe(B * T);
    let sawEos = false;
    for (let b = 0; b < B; b++) {
      let ended = false;
      let count = 0;
      for (let t = 0; t < T; t++) {
        const i = b * T + t;
        if (ended) {
          expect(r.mask[i], `mask after EOS (b=${b}, t=${t})`).toBe(0);
          expect(r.tokens[i]).toBe(0);
          for (const a of [r.logprobs, r.ratioVis, r.ratioTxt, r.frVis, r.frTxt]) expect(a[i]).toBe(0);
        } else {
          expect(r.mask[i]).toBe(1);
          count++;
          expect(r.logprobs[i]).toBeLessThanOrEqual(0);
          expect(r.ratioVis[i] + r.ratioTxt[i]).toBeCloseTo(1, 5); // no "other" keys get mass here? see below
          if (r.tokens[i] === eosId) {
            ended = true;
            sawEos = true;
          }
        }
      }
      expect(r.lengths[b]).toBe(count);
      expect(r.truncated[b]).toBe(ended ? 0 : 1);
      expect(r.frVis[b * T]).toBe(0);
      expect(r.frTxt[b * T]).toBe(0);
    }
    // With 48 tokens and 72 draws an EOS is all but certain; it is part of the test's point.
    expect(sawEos).toBe(true);
  });

  it('same seed → same rollout; another seed → another', async () => {
    const a = await Policy.create(testConfig, { device: 'cpu', seed: 11 });
    const b = await Policy.create(testConfig, { device: 'cpu', seed: 11 });
    const c = await Policy.create(testConfig, { device: 'cpu', seed: 12 });
    const [ra, rb, rc] = await Promise.all([a.generate(request), b.generate(request), c.generate(request)]);
    expectBitEqual(ra.tokens, rb.tokens, 'tokens');
    expectBitEqual(ra.logprobs, rb.logprobs, 'logprobs');
    expectBitEqual(ra.frVis, rb.frVis, 'frVis');
    expect(Buffer.from(rc.logprobs.buffer).equals(Buffer.from(ra.logprobs.buffer))).toBe(false);
    await Promise.all([a.dispose(), b.dispose(), c.dispose()]);
  });

  it('streamed statistics equal attentionStats on the full attention maps of the same rollout', async () => {
    const r = await policy.generate({ ...request, returnAttention: true });
    const maps = r.attention!;
    const T = r.steps;
    for (let b = 0; b < r.batch; b++) {
      const rows = maps.rows.subarray(b * T * maps.keys, (b + 1) * T * maps.keys);
      // Rows past the end of a sequence have length 0: attentionStats gives them 0 ratios, as the stream does.
      const stats = attentionStats(rows, {
        batch: 1,
        steps: T,
        keys: maps.keys,
        modality: maps.modality.subarray(b * maps.keys, (b + 1) * maps.keys),
        lengths: maps.lengths.subarray(b * T, (b + 1) * T),
      });
      const slice = (a: Float32Array) => a.subarray(b * T, (b + 1) * T);
      const tol = { abs: 2e-6, rel: 2e-6 };
      expectAllClose(slice(r.ratioVis), stats.ratioVis, tol, `ratioVis b=${b}`);
      expectAllClose(slice(r.ratioTxt), stats.ratioTxt, tol, `ratioTxt b=${b}`);
      // FR after EOS: the stream stops; attentionStats of an empty row after a full one is 0 as well.
      expectAllClose(slice(r.frVis), stats.frVis, tol, `frVis b=${b}`);
      expectAllClose(slice(r.frTxt), stats.frTxt, tol, `frTxt b=${b}`);
    }
  });

  it('the KV-cached attention rows equal those of a teacher-forced pass over the whole sequence', async () => {
    const r = await policy.generate({ ...request, returnAttention: true });
    const { attention } = await policy.logprobsWithAttention(r);
    expect(attention.keys).toBe(r.attention!.keys);
    expect(Array.from(attention.lengths)).toEqual(Array.from(r.attention!.lengths));
    expect(Array.from(attention.modality)).toEqual(Array.from(r.attention!.modality));
    expectAllClose(r.attention!.rows, attention.rows, { abs: 1e-5, rel: 1e-4 }, 'attention rows');
  });

  it('at temperature 1 the sampling log-probs equal logprobs() of the same tokens; also at 0.7', async () => {
    for (const temperature of [1, 0.7]) {
      const r = await policy.generate({ ...request, temperature });
      expect(r.temperature).toBe(temperature);
      const lp = await policy.logprobs(r);
      expectAllClose(lp, r.logprobs, { abs: 2e-5, rel: 2e-5 }, `logprobs at T=${temperature}`);
    }
  });

  it('top-p sampling only emits tokens inside the nucleus of a greedy-ish distribution; greedy is deterministic', async () => {
    const greedyA = await policy.generate({ ...request, temperature: 0 });
    const greedyB = await policy.generate({ ...request, temperature: 0 });
    expectBitEqual(greedyA.tokens, greedyB.tokens, 'greedy tokens');
    // topP tiny keeps only the most likely token: same tokens as greedy.
    const nucleus = await policy.generate({ ...request, temperature: 1, topP: 1e-6 });
    expectBitEqual(nucleus.tokens, greedyA.tokens, 'topP→0 equals greedy');
  });

  const algorithms: PolicyLossConfig[] = [
    { algorithm: 'grpo' },
    { algorithm: 'bnpo' },
    { algorithm: 'dr_grpo', maxCompletionLength: 16 },
    { algorithm: 'dapo' },
    { algorithm: 'gspo' },
    { algorithm: 'sapo' },
    { algorithm: 'grpo', delta: 1.5, epsLow: 0.1, epsHigh: 0.1 },
  ];
  for (const loss of algorithms) {
    it(`trainStep's gradients (logits kernel node, and log-prob kernel node) equal LibTorch autograd through the reference loss: ${JSON.stringify(loss)}`, async () => {
      const r = await policy.generate(request);
      const options = perturbedLossOptions(r, loss, new Rng(99));
      const reference = await policy.gradients(r, { ...options, implementation: 'reference' });
      const byDefault = await policy.gradients(r, options);
      for (const implementation of ['logits', 'fused'] as const) {
        const fused = await policy.gradients(r, { ...options, implementation });
        if (implementation === 'logits') expect(byDefault).toEqual(fused); // the default is what trainStep uses
        expectGradientsClose(fused, reference, implementation);
      }
    });
  }

  it("temperature 0.7 and a 3000-token vocabulary (several blocks per row): 'logits' gradients equal the reference's", async () => {
    const big = await Policy.create({ ...testConfig, vocabSize: 3000 }, { device: 'cpu', seed: 13 });
    const r = await big.generate({ ...request, temperature: 0.7 });
    expect(r.temperature).toBe(0.7);
    const local = new Rng(5);
    const { oldLogp, refLogp } = perturbedLogps(r, local);
    for (const loss of [{ algorithm: 'dapo' }, { algorithm: 'gspo' }] as PolicyLossConfig[]) {
      const advantages = Float32Array.from({ length: r.batch }, () => local.range(-1.5, 1.5));
      const options = { advantages, oldLogp, refLogp, loss };
      const reference = await big.gradients(r, { ...options, implementation: 'reference' });
      expectGradientsClose(await big.gradients(r, { ...options, implementation: 'logits' }), reference, `logits ${loss.algorithm}`);
    }
    await big.dispose();
  });

  it("trainStep through 'logits' and through 'fused' takes the same step (weights abs 1e-6 + rel 1e-4)", async () => {
    await expectSameStepThroughBothNodes('cpu', request);
  });

  it('trainStep applies clipped AdamW to those gradients (first step: Δp = −lr·g/(|g|+ε))', async () => {
    const p = await Policy.create(testConfig, { device: 'cpu', seed: 3, learningRate: 1e-3, maxGradNorm: 0 });
    const r = await p.generate(request);
    const advantages = Float32Array.from({ length: r.batch }, (_, b) => (b % 2 ? 1 : -1));
    const before = await exportWeights(p);
    const { gradients } = await p.gradients(r, { advantages, oldLogp: r.logprobs, implementation: 'reference' });
    const step = await p.trainStep(r, { advantages, oldLogp: r.logprobs });
    expect(step.step).toBe(1);
    expect(step.learningRate).toBe(1e-3);
    const after = await exportWeights(p);
    for (const [name, g] of Object.entries(gradients)) {
      const delta = after.get(name)!.map((v, i) => v - before.get(name)![i]!);
      const expected = g.map((gi) => (-1e-3 * gi) / (Math.abs(gi) + 1e-8));
      expectAllClose(delta, expected, { abs: 2e-6, rel: 2e-2 }, name);
    }
    await p.dispose();
  });

  it('sftStep drives the cross-entropy down on a tiny dataset', async () => {
    const p = await Policy.create(testConfig, { device: 'cpu', seed: 5, learningRate: 1e-2 });
    const steps = 6;
    const targets = new Int32Array(3 * steps);
    for (let i = 0; i < targets.length; i++) targets[i] = 3 + ((i * 7) % 40);
    const batch = { images, prompts, groupSize: 1, tokens: targets, mask: new Uint8Array(targets.length).fill(1), steps };
    const first = await p.sftStep(batch);
    let last = first;
    for (let i = 0; i < 40; i++) last = await p.sftStep(batch);
    expect(first.loss).toBeGreaterThan(3); // ≈ ln 48 at initialisation
    expect(last.loss).toBeLessThan(first.loss * 0.25);
    expect(last.step).toBe(41);
    await p.dispose();
  });

  it('save → load gives identical outputs, and training continues exactly', async () => {
    const a = await Policy.create(testConfig, { device: 'cpu', seed: 21, learningRate: 5e-3 });
    const r0 = await a.generate(request);
    const advantages = Float32Array.from({ length: r0.batch }, (_, b) => (b % 3) - 1);
    await a.trainStep(r0, { advantages, oldLogp: r0.logprobs });
    const path = join(dir, 'policy.safetensors');
    await a.save(path);
    expect((await readdir(dir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const b = await Policy.load(path, { device: 'cpu' });
    expect(b.info()).toEqual(a.info());
    // Same sampler state and weights: the same next rollout, bit for bit.
    const [ra, rb] = [await a.generate(request), await b.generate(request)];
    expectBitEqual(ra.tokens, rb.tokens, 'tokens');
    expectBitEqual(ra.logprobs, rb.logprobs, 'logprobs');
    // Same AdamW moments and step count: the same update.
    const ref = await a.logprobs(ra, { model: 'reference' });
    expectBitEqual(ref, await b.logprobs(ra, { model: 'reference' }), 'reference logprobs');
    const sa = await a.trainStep(ra, { advantages, oldLogp: ra.logprobs, refLogp: ref });
    const sb = await b.trainStep(ra, { advantages, oldLogp: ra.logprobs, refLogp: ref });
    expect(sb).toEqual(sa);
    expectBitEqual(await a.logprobs(ra), await b.logprobs(ra), 'logprobs after a step');
    await Promise.all([a.dispose(), b.dispose()]);
  });

  it('syncReference copies the weights into the reference model', async () => {
    const p = await Policy.create(testConfig, { device: 'cpu', seed: 4, learningRate: 1e-2 });
    const r = await p.generate(request);
    await p.sftStep(r);
    const lp = await p.logprobs(r);
    expect(closeReport(await p.logprobs(r, { model: 'reference' }), lp, { abs: 1e-6, rel: 0 }).ok).toBe(false);
    await p.syncReference();
    expectBitEqual(await p.logprobs(r, { model: 'reference' }), lp, 'reference after sync');
    await p.dispose();
  });

  it('calls made without awaiting are queued and give the results of sequential calls', async () => {
    const a = await Policy.create(testConfig, { device: 'cpu', seed: 8 });
    const b = await Policy.create(testConfig, { device: 'cpu', seed: 8 });
    const advantages = new Float32Array(6).fill(0.5);
    const ra = a.generate(request);
    const first = await ra;
    const pending = [a.trainStep(first, { advantages }), a.logprobs(first), a.generate(request)] as const;
    const [, lpA, nextA] = await Promise.all(pending);
    const rb = await b.generate(request);
    await b.trainStep(rb, { advantages });
    expectBitEqual(lpA, await b.logprobs(rb), 'logprobs');
    expectBitEqual(nextA.tokens, (await b.generate(request)).tokens, 'next rollout');
    await Promise.all([a.dispose(), b.dispose()]);
  });

  describe('bad input is rejected with the argument named', () => {
    it('config', async () => {
      await expectRejectsNamed(() => Policy.create({ ...testConfig, heads: 5 }), RangeError, /config\.heads must be a divisor of hidden/);
      await expectRejectsNamed(() => Policy.create({ ...testConfig, kvHeads: 3 }), RangeError, /config\.kvHeads/);
      await expectRejectsNamed(() => Policy.create({ ...testConfig, imageHeight: 10 }), RangeError, /config\.imageHeight must be a positive multiple of patchSize/);
      await expectRejectsNamed(() => Policy.create({ ...testConfig, hidden: 'wide' as unknown as number }), TypeError, /config\.hidden must be a number/);
      await expectRejectsNamed(() => Policy.create({ ...testConfig, attentionLayer: 9 }), RangeError, /config\.attentionLayer/);
      await expectRejectsNamed(() => Policy.create({ ...testConfig, vocabSize: 1 }), RangeError, /config\.vocabSize/);
      await expectRejectsNamed(() => Policy.create(testConfig, { device: 'tpu' as 'cpu' }), RangeError, /options\.device must be one of/);
      await expectRejectsNamed(() => Policy.create(testConfig, { learningRate: -1 }), RangeError, /options\.learningRate/);
      if (!torch.available || !torch.cuda)
        await expectRejectsNamed(() => Policy.create(testConfig, { device: 'cuda' }), Error, /options\.device is 'cuda' but LibTorch sees no CUDA device/);
    });

    it('generate', async () => {
      await expectRejectsNamed(() => policy.generate({ ...request, prompts: [Int32Array.from([5, 6])] , images: makeImages(rng, 1) }), RangeError, /request\.prompts\[0\] must contain the image token \(id 1\) exactly once/);
      await expectRejectsNamed(() => policy.generate({ ...request, prompts: [Int32Array.from([1, 48])], images: makeImages(rng, 1) }), RangeError, /request\.prompts\[0\]\[1\] must be a token id in \[0, 48\)/);
      await expectRejectsNamed(() => policy.generate({ ...request, images: new Float32Array(5) }), RangeError, /request\.images has 5 elements/);
      await expectRejectsNamed(() => policy.generate({ ...request, images: new Float64Array(3 * 192) as unknown as Float32Array }), TypeError, /request\.images must be a Float32Array or Uint8Array/);
      const nan = images.slice();
      nan[17] = Number.NaN;
      await expectRejectsNamed(() => policy.generate({ ...request, images: nan }), RangeError, /request\.images\[17\] must be a finite number/);
      await expectRejectsNamed(() => policy.generate({ ...request, maxNewTokens: 500 }), RangeError, /exceeds config\.maxContext \(96\)/);
      await expectRejectsNamed(() => policy.generate({ ...request, maxNewTokens: 0 }), RangeError, /request\.maxNewTokens must be an integer ≥ 1/);
      await expectRejectsNamed(() => policy.generate({ ...request, topP: 0 }), RangeError, /request\.topP must be in \(0, 1\]/);
      await expectRejectsNamed(() => policy.generate({ ...request, temperature: -1 }), RangeError, /request\.temperature/);
      await expectRejectsNamed(() => policy.generate({ ...request, eosId: 99 }), RangeError, /request\.eosId must be an integer in \[-1, 47\]/);
      await expectRejectsNamed(() => policy.generate({ ...request, prompts: 'abc' as unknown as Int32Array[] }), TypeError, /request\.prompts must be an Array/);
      await expectRejectsNamed(() => policy.generate({ ...request, prompts: [] }), RangeError, /request\.prompts must hold at least one prompt/);
    });

    it('training batches and options', async () => {
      const r: Rollout = await policy.generate(request);
      const advantages = new Float32Array(r.batch);
      const badMask = r.mask.slice();
      badMask[3] = 2;
      await expectRejectsNamed(() => policy.trainStep({ ...r, mask: badMask }, { advantages }), RangeError, /batch\.mask\[3\] must be 0 or 1/);
      const badTokens = r.tokens.slice();
      badTokens[5] = -1;
      await expectRejectsNamed(() => policy.logprobs({ ...r, tokens: badTokens }), RangeError, /batch\.tokens\[5\] must be a token id/);
      await expectRejectsNamed(() => policy.trainStep(r, { advantages: new Float32Array(5) }), RangeError, /options\.advantages has 5 elements/);
      await expectRejectsNamed(() => policy.trainStep(r, { advantages, oldLogp: new Float32Array(3) }), RangeError, /options\.oldLogp has 3 elements/);
      await expectRejectsNamed(() => policy.trainStep(r, { advantages, loss: { algorithm: 'ppo' as 'grpo' } }), RangeError, /options\.loss\.algorithm must be one of/);
      await expectRejectsNamed(() => policy.trainStep(r, { advantages, implementation: 'reference' as 'fused' }), RangeError, /options\.implementation must be one of 'logits', 'fused'/);
      await expectRejectsNamed(() => policy.gradients(r, { advantages, implementation: 'composite' as 'fused' }), RangeError, /options\.implementation must be one of 'logits', 'fused', 'reference'/);
      const nanOld = r.logprobs.slice();
      const firstUnmasked = r.mask.indexOf(1);
      nanOld[firstUnmasked] = Number.NaN;
      await expectRejectsNamed(() => policy.trainStep(r, { advantages, oldLogp: nanOld }), RangeError, new RegExp(`oldLogp\\[${firstUnmasked}\\] must be a finite number`));
      await expectRejectsNamed(() => policy.logprobs({ ...r, steps: 100 }), RangeError, /batch\.tokens has/);
      await expectRejectsNamed(() => policy.logprobs({ ...r, temperature: 0 }), RangeError, /batch\.temperature must be > 0/);
      await expectRejectsNamed(() => policy.logprobs(r, { model: 'old' as 'policy' }), RangeError, /options\.model must be one of 'policy', 'reference'/);
    });

    it('checkpoints: not a checkpoint, missing file; disposed policies', async () => {
      const junk = join(dir, 'junk.safetensors');
      await writeFile(junk, 'not a safetensors file at all');
      await expectRejectsNamed(() => Policy.load(junk), Error, /junk\.safetensors/);
      await expectRejectsNamed(() => Policy.load(join(dir, 'missing.safetensors')), Error, /ENOENT/);
      const p = await Policy.create(testConfig, { device: 'cpu' });
      await p.dispose();
      await expectRejectsNamed(() => p.generate(request), Error, /disposed/);
      expect(() => p.info()).toThrow(/disposed/);
    });
  });
});

// On a GPU machine (a CUDA LibTorch that sees a device): the runner's default loss path on CUDA
// tensors is the CUDA logits kernel as the autograd node (native/runner/logits_policy_loss_autograd.cpp),
// checked against LibTorch autograd through the reference loss on the same device.
const torchCuda = torch.available && torch.cuda;
if (torch.available && !torch.cuda) console.warn(`[skip] Policy on CUDA: LibTorch ${torch.version ?? ''} sees no CUDA device`);
describe.skipIf(!torchCuda)('Policy on CUDA (the CUDA logits kernel as the autograd node)', () => {
  const rng = new Rng(20261204);
  const request = { images: makeImages(rng, 3), prompts: makePrompts(rng, 3), groupSize: 2, maxNewTokens: 12, eosId, temperature: 1 };

  for (const [vocabSize, temperature, losses] of [
    [testConfig.vocabSize, 1, [{ algorithm: 'grpo' }, { algorithm: 'dapo' }, { algorithm: 'gspo' }, { algorithm: 'sapo' }]],
    [3000, 0.7, [{ algorithm: 'bnpo' }, { algorithm: 'grpo', delta: 1.5, epsLow: 0.1, epsHigh: 0.1 }]],
  ] as [number, number, PolicyLossConfig[]][]) {
    it(`gradients through 'logits' and 'fused' equal the reference's: vocabulary ${vocabSize}, temperature ${temperature}`, async () => {
      const policy = await Policy.create({ ...testConfig, vocabSize }, { device: 'cuda', seed: 31 });
      expect(policy.info().device).toMatch(/^cuda/);
      const r = await policy.generate({ ...request, temperature });
      const local = new Rng(7);
      for (const loss of losses) {
        const options = perturbedLossOptions(r, loss, local);
        const reference = await policy.gradients(r, { ...options, implementation: 'reference' });
        for (const implementation of ['logits', 'fused'] as const)
          expectGradientsClose(await policy.gradients(r, { ...options, implementation }), reference, `cuda ${implementation} ${JSON.stringify(loss)}`);
      }
      await policy.dispose();
    });
  }

  it("trainStep through 'logits' and through 'fused' takes the same step on CUDA (weights abs 1e-6 + rel 1e-4)", async () => {
    await expectSameStepThroughBothNodes('cuda', request);
  });
});

/** Old and reference log-probs perturbed from the sampling ones: ratios away from 1 (some clipped), a non-zero KL. */
function perturbedLogps(r: Rollout, rng: Rng) {
  const oldLogp = r.logprobs.map((v) => v + (rng.uniform() - 0.5) * 0.6);
  const refLogp = r.logprobs.map((v) => v + (rng.uniform() - 0.5) * 0.4);
  return { oldLogp, refLogp };
}

/**
 * Loss inputs for a rollout: {@link perturbedLogps} and random advantages, per token, or per
 * sequence for the algorithms that take only those (gspo, sapo).
 */
function perturbedLossOptions(r: Rollout, loss: PolicyLossConfig, rng: Rng) {
  const { oldLogp, refLogp } = perturbedLogps(r, rng);
  const perToken = loss.algorithm !== 'gspo' && loss.algorithm !== 'sapo';
  const advantages = Float32Array.from({ length: perToken ? r.batch * r.steps : r.batch }, () => rng.range(-1.5, 1.5));
  return { advantages, oldLogp, refLogp, loss };
}

/** Parameter gradients within abs 1e-6 + 1e-4·(largest |g| of the tensor) + rel 1e-3 of the reference's; losses to 5 digits. */
function expectGradientsClose(got: GradientsResult, reference: GradientsResult, label: string): void {
  expect(got.loss, `${label} loss`).toBeCloseTo(reference.loss, 5);
  const names = Object.keys(reference.gradients);
  expect(Object.keys(got.gradients).sort()).toEqual([...names].sort());
  let total = 0;
  for (const name of names) {
    const g = got.gradients[name]!;
    const ref = reference.gradients[name]!;
    const scale = Math.max(...Array.from(ref, Math.abs));
    total += scale;
    const report = closeReport(g, ref, { abs: 1e-6 + 1e-4 * scale, rel: 1e-3 });
    expect(report.ok, `${label} ${name}: worst index ${report.index}: ${report.got} vs ${report.expected}`).toBe(true);
  }
  expect(total).toBeGreaterThan(0);
}

/**
 * Two policies from one seed on `device`, one trainStep each on the same rollout, through the logits
 * kernel node ('logits') and through log_softmax + the log-prob kernel node ('fused'): the same
 * loss, KL and gradient norm, and weights within abs 1e-6 + rel 1e-4.
 */
async function expectSameStepThroughBothNodes(device: 'cpu' | 'cuda', request: Parameters<Policy['generate']>[0]): Promise<void> {
  const a = await Policy.create(testConfig, { device, seed: 17, learningRate: 1e-3 });
  const b = await Policy.create(testConfig, { device, seed: 17, learningRate: 1e-3 });
  const r = await a.generate(request);
  const advantages = Float32Array.from({ length: r.batch }, (_, k) => (k % 3) - 1);
  const ref = await a.logprobs(r, { model: 'reference' });
  const sa = await a.trainStep(r, { advantages, oldLogp: r.logprobs, refLogp: ref, implementation: 'logits' });
  const sb = await b.trainStep(r, { advantages, oldLogp: r.logprobs, refLogp: ref, implementation: 'fused' });
  expect(sa.loss).toBeCloseTo(sb.loss, 6);
  expect(sa.kl).toBeCloseTo(sb.kl, 6);
  expect(sa.gradNorm).toBeCloseTo(sb.gradNorm, 5);
  const [wa, wb] = [await exportWeights(a), await exportWeights(b)];
  for (const [name, w] of wa) expectAllClose(w, wb.get(name)!, { abs: 1e-6, rel: 1e-4 }, `${device} ${name}`);
  await Promise.all([a.dispose(), b.dispose()]);
}

async function exportWeights(policy: Policy): Promise<Map<string, Float32Array>> {
  // Through a checkpoint: the public way to read the weights.
  const { readSafetensorsFile } = await import('../lib/index.js');
  const dir = await mkdtemp(join(tmpdir(), 'dyco-weights-'));
  const path = join(dir, 'w.safetensors');
  await policy.save(path);
  const { tensors } = await readSafetensorsFile(path);
  await rm(dir, { recursive: true, force: true });
  const out = new Map<string, Float32Array>();
  for (const [name, record] of tensors) if (name.startsWith('model.')) out.set(name.slice('model.'.length), record.data as Float32Array);
  return out;
}
