/**
 * Every validation error of the public API: the error class AND a message naming the offending
 * argument (regexes, not exact strings). Functions with async variants are checked twice: the
 * sync call throws, the async call does not throw but returns a promise that rejects with the
 * same class and a matching message.
 *
 * Class convention (from the TSDoc): a value of the wrong type, or a missing required value, is
 * a TypeError; a value of the right type that is out of range (sizes that do not match the
 * shape, non-integer or negative shapes, NaN/Inf/negative entries, unknown choices, bad labels)
 * is a RangeError.
 */
import { describe, it } from 'vitest';
import * as api from '../lib/index.js';
import { expectRejectsNamed, expectThrowsNamed } from './helpers/assert.js';

type Cls = typeof TypeError | typeof RangeError;
type Case = [name: string, args: unknown[], cls: Cls, pattern: RegExp];
type AnyFn = (...args: unknown[]) => unknown;

function suite(name: string, sync: AnyFn, asyncFn: AnyFn | undefined, cases: Case[]): void {
  describe(name, () => {
    for (const [what, args, cls, pattern] of cases) {
      it(`${what} → ${cls.name} ${pattern}`, () => expectThrowsNamed(() => sync(...args), cls, pattern));
      if (asyncFn) {
        it(`${name}Async: ${what} → rejects with ${cls.name} ${pattern}`, () =>
          expectRejectsNamed(() => asyncFn(...args) as Promise<unknown>, cls, pattern));
      }
    }
  });
}

const f32 = (n: number, v = 0.25) => new Float32Array(n).fill(v);
const withAt = (a: Float32Array, i: number, v: number) => {
  const b = a.slice();
  b[i] = v;
  return b;
};

// ---------------------------------------------------------------------------------------------
// fisherRao(p, q, {rows, cols}) with rows = 2, cols = 3
{
  const p = f32(6);
  const q = f32(6);
  const shape = { rows: 2, cols: 3 };
  const P = /\bp\b/;
  const Q = /\bq\b/;
  suite('fisherRao', api.fisherRao as AnyFn, api.fisherRaoAsync as AnyFn, [
    ['p is a Float64Array', [new Float64Array(6), q, shape], TypeError, P],
    ['p is a plain array', [[0.2, 0.2, 0.2, 0.2, 0.2, 0.2], q, shape], TypeError, P],
    ['q is a Float64Array', [p, new Float64Array(6), shape], TypeError, Q],
    ['q is missing', [p, undefined, shape], TypeError, Q],
    ['p is too short', [f32(5), q, shape], RangeError, P],
    ['q is too long', [p, f32(7), shape], RangeError, Q],
    ['rows is negative', [p, q, { rows: -1, cols: 3 }], RangeError, /rows/],
    ['rows is not an integer', [p, q, { rows: 1.5, cols: 4 }], RangeError, /rows/],
    ['rows is NaN', [p, q, { rows: NaN, cols: 3 }], RangeError, /rows/],
    ['cols is 0', [f32(0), f32(0), { rows: 2, cols: 0 }], RangeError, /cols/],
    ['cols is not an integer', [p, q, { rows: 2, cols: 2.5 }], RangeError, /cols/],
    ['rows is a string', [p, q, { rows: '2', cols: 3 }], TypeError, /rows/],
    ['cols is missing', [p, q, { rows: 2 }], TypeError, /cols/],
    ['shape is missing', [p, q, undefined], TypeError, /shape/],
    ['shape is null', [p, q, null], TypeError, /shape/],
    ['p has NaN (message names p and index 4)', [withAt(p, 4, NaN), q, shape], RangeError, /\bp\b[\s\S]*\b4\b/],
    ['p has -Infinity', [withAt(p, 0, -Infinity), q, shape], RangeError, P],
    ['q has +Infinity (message names q and index 5)', [p, withAt(q, 5, Infinity), shape], RangeError, /\bq\b[\s\S]*\b5\b/],
    ['q has a negative entry', [p, withAt(q, 2, -0.5), shape], RangeError, Q],
  ]);
}

// ---------------------------------------------------------------------------------------------
// fisherRaoAdjacent(x, {batch, steps, width, lengths}) with batch 2, steps 3, width 4
{
  const x = f32(24);
  const lengths = new Int32Array([4, 4, 3, 2, 4, 1]);
  const shape = { batch: 2, steps: 3, width: 4, lengths };
  const X = /\bx\b/;
  suite('fisherRaoAdjacent', api.fisherRaoAdjacent as AnyFn, api.fisherRaoAdjacentAsync as AnyFn, [
    ['x is a Float64Array', [new Float64Array(24), shape], TypeError, X],
    ['x is a plain array', [Array.from(x), shape], TypeError, X],
    ['x has the wrong length', [f32(23), shape], RangeError, X],
    ['lengths is a Float32Array', [x, { ...shape, lengths: new Float32Array(6).fill(4) }], TypeError, /lengths/],
    ['lengths is a plain array', [x, { ...shape, lengths: [4, 4, 4, 4, 4, 4] }], TypeError, /lengths/],
    ['lengths has the wrong size', [x, { ...shape, lengths: new Int32Array(5).fill(4) }], RangeError, /lengths/],
    ['a length exceeds width', [x, { ...shape, lengths: new Int32Array([4, 4, 5, 4, 4, 4]) }], RangeError, /lengths/],
    ['a length is negative', [x, { ...shape, lengths: new Int32Array([4, -1, 4, 4, 4, 4]) }], RangeError, /lengths/],
    ['batch is negative', [x, { ...shape, batch: -1 }], RangeError, /batch/],
    ['steps is not an integer', [x, { ...shape, steps: 2.5 }], RangeError, /steps/],
    ['width is a string', [x, { ...shape, width: 'x' }], TypeError, /width/],
    ['steps is missing', [x, { batch: 2, width: 4 }], TypeError, /steps/],
    ['shape is missing', [x, undefined], TypeError, /shape/],
    ['x has NaN inside a row length', [withAt(x, 4 + 2, NaN), shape], RangeError, X],
    ['x has a negative entry inside a row length', [withAt(x, 12 + 0, -1), shape], RangeError, X],
    ['x has Infinity (no lengths)', [withAt(x, 23, Infinity), { batch: 2, steps: 3, width: 4 }], RangeError, X],
  ]);
}

// ---------------------------------------------------------------------------------------------
// attentionStats(attn, {batch, steps, keys, modality, lengths}) with batch 2, steps 3, keys 5
{
  const attn = f32(30, 0.2);
  const modality = new Uint8Array([0, 1, 1, 2, 2]);
  const shape = { batch: 2, steps: 3, keys: 5, modality };
  const A = /attn/;
  suite('attentionStats', api.attentionStats as AnyFn, api.attentionStatsAsync as AnyFn, [
    ['attn is a Float64Array', [new Float64Array(30), shape], TypeError, A],
    ['attn is missing', [undefined, shape], TypeError, A],
    ['attn has the wrong length', [f32(29), shape], RangeError, A],
    ['modality is an Int8Array', [attn, { ...shape, modality: new Int8Array([0, 1, 1, 2, 2]) }], TypeError, /modality/],
    ['modality is a plain array', [attn, { ...shape, modality: [0, 1, 1, 2, 2] }], TypeError, /modality/],
    ['modality is missing', [attn, { batch: 2, steps: 3, keys: 5 }], TypeError, /modality/],
    ['modality has the wrong length', [attn, { ...shape, modality: new Uint8Array([0, 1, 2, 2]) }], RangeError, /modality/],
    ['a modality label is 3', [attn, { ...shape, modality: new Uint8Array([0, 1, 3, 2, 2]) }], RangeError, /modality/],
    ['lengths has the wrong size', [attn, { ...shape, lengths: new Int32Array(5).fill(5) }], RangeError, /lengths/],
    ['a length exceeds keys', [attn, { ...shape, lengths: new Int32Array([5, 5, 5, 6, 5, 5]) }], RangeError, /lengths/],
    ['a length is negative', [attn, { ...shape, lengths: new Int32Array([5, 5, -2, 5, 5, 5]) }], RangeError, /lengths/],
    ['lengths is a Uint32Array', [attn, { ...shape, lengths: new Uint32Array(6).fill(5) }], TypeError, /lengths/],
    ['keys is not an integer', [attn, { ...shape, keys: 5.5 }], RangeError, /keys/],
    ['batch is a string', [attn, { ...shape, batch: '2' }], TypeError, /batch/],
    ['steps is negative', [attn, { ...shape, steps: -3 }], RangeError, /steps/],
    ['shape is missing', [attn, undefined], TypeError, /shape/],
    ['attn has NaN on a vision key (message names attn and index 6)', [withAt(attn, 5 + 1, NaN), shape], RangeError, /attn[\s\S]*\b6\b/],
    ['attn has a negative weight on a text key', [withAt(attn, 10 + 4, -0.1), shape], RangeError, A],
    ['attn has Infinity on a text key', [withAt(attn, 25 + 3, Infinity), shape], RangeError, A],
  ]);
}

// ---------------------------------------------------------------------------------------------
// coordinationScores(inputs, options) with batch 2, steps 3
{
  const base = () => ({
    frVis: f32(6, 0.3),
    frTxt: f32(6, 0.1),
    ratioVis: f32(6, 0.6),
    ratioTxt: f32(6, 0.4),
    mask: new Uint8Array([1, 1, 1, 1, 1, 0]),
    batch: 2,
    steps: 3,
  });
  suite('coordinationScores', api.coordinationScores as AnyFn, api.coordinationScoresAsync as AnyFn, [
    ['frVis is a Float64Array', [{ ...base(), frVis: new Float64Array(6) }], TypeError, /frVis/],
    ['frTxt is missing', [{ ...base(), frTxt: undefined }], TypeError, /frTxt/],
    ['ratioVis is a plain array', [{ ...base(), ratioVis: [0.5, 0.5, 0.5, 0.5, 0.5, 0.5] }], TypeError, /ratioVis/],
    ['ratioTxt has the wrong length', [{ ...base(), ratioTxt: f32(5) }], RangeError, /ratioTxt/],
    ['frVis has the wrong length', [{ ...base(), frVis: f32(7) }], RangeError, /frVis/],
    ['mask is an Int8Array', [{ ...base(), mask: new Int8Array(6).fill(1) }], TypeError, /mask/],
    ['mask has a value 2', [{ ...base(), mask: new Uint8Array([1, 1, 2, 1, 1, 1]) }], RangeError, /mask/],
    ['mask has the wrong length', [{ ...base(), mask: new Uint8Array(5).fill(1) }], RangeError, /mask/],
    ['frTxt has NaN on an unmasked token', [{ ...base(), frTxt: withAt(f32(6, 0.1), 1, NaN) }], RangeError, /frTxt/],
    ['frVis has Infinity on an unmasked token', [{ ...base(), frVis: withAt(f32(6, 0.3), 4, Infinity) }], RangeError, /frVis/],
    ['ratioVis has NaN on an unmasked vision token', [{ ...base(), ratioVis: withAt(f32(6, 0.6), 2, NaN) }], RangeError, /ratioVis/],
    ['tauVis is NaN', [base(), { tauVis: NaN }], RangeError, /tauVis/],
    ['tauTxt is Infinity', [base(), { tauTxt: Infinity }], RangeError, /tauTxt/],
    ['tauVis is a string', [base(), { tauVis: '0' }], TypeError, /tauVis/],
    ['batch is negative', [{ ...base(), batch: -1 }], RangeError, /batch/],
    ['steps is not an integer', [{ ...base(), steps: 1.5 }], RangeError, /steps/],
    ['steps is missing', [{ ...base(), steps: undefined }], TypeError, /steps/],
    ['inputs is missing', [undefined], TypeError, /inputs/],
  ]);
}

// ---------------------------------------------------------------------------------------------
// normalizeScores(scores, {groupSize})
{
  const s = new Float32Array([0.1, 0.5, 0.6, 0.4, 0.3, 0.9]);
  suite('normalizeScores', api.normalizeScores as AnyFn, undefined, [
    ['scores is a Float64Array', [new Float64Array(6)], TypeError, /scores/],
    ['scores is missing', [undefined], TypeError, /scores/],
    ['scores has NaN', [withAt(s, 3, NaN)], RangeError, /scores/],
    ['scores has Infinity', [withAt(s, 0, -Infinity)], RangeError, /scores/],
    ['groupSize does not divide the length', [s, { groupSize: 4 }], RangeError, /groupSize/],
    ['groupSize is 0', [s, { groupSize: 0 }], RangeError, /groupSize/],
    ['groupSize is not an integer', [s, { groupSize: 1.5 }], RangeError, /groupSize/],
    ['groupSize is a string', [s, { groupSize: 'two' }], TypeError, /groupSize/],
  ]);
}

// ---------------------------------------------------------------------------------------------
// reweightAdvantages(advantages, normalizedScores, options) with batch 2
{
  const adv = new Float32Array([1, -1]);
  const sc = new Float32Array([0.5, -0.5]);
  const SC = /normalizedScores|\bscores\b/;
  suite('reweightAdvantages', api.reweightAdvantages as AnyFn, undefined, [
    ['advantages is a Float64Array', [new Float64Array(2), sc], TypeError, /advantages/],
    ['normalizedScores is a plain array', [adv, [0.5, -0.5]], TypeError, SC],
    ['advantages length is not a multiple of the batch', [f32(5), sc], RangeError, /advantages/],
    ['advantages has NaN', [withAt(adv, 1, NaN), sc], RangeError, /advantages/],
    ['normalizedScores has NaN', [adv, withAt(sc, 0, NaN)], RangeError, SC],
    ['minLength > 0 without lengths', [adv, sc, { minLength: 3 }], TypeError, /lengths/],
    ['scaleByLength without lengths', [adv, sc, { minLength: 3, scaleByLength: true }], TypeError, /lengths/],
    ['lengths has the wrong size', [adv, sc, { minLength: 3, lengths: new Int32Array(3) }], RangeError, /lengths/],
    ['lengths is a Float32Array', [adv, sc, { minLength: 3, lengths: new Float32Array(2) }], TypeError, /lengths/],
    ['a length is negative', [adv, sc, { minLength: 3, lengths: new Int32Array([5, -1]) }], RangeError, /lengths/],
    ['alpha is NaN', [adv, sc, { alpha: NaN }], RangeError, /alpha/],
    ['min is -Infinity', [adv, sc, { min: -Infinity }], RangeError, /\bmin\b/],
    ['minLength is negative', [adv, sc, { minLength: -1 }], RangeError, /minLength/],
    ['minLength is not an integer', [adv, sc, { minLength: 2.5, lengths: new Int32Array([5, 5]) }], RangeError, /minLength/],
    ['scaleByLength is a string', [adv, sc, { scaleByLength: 'yes', minLength: 3, lengths: new Int32Array([5, 5]) }], TypeError, /scaleByLength/],
  ]);
}

// ---------------------------------------------------------------------------------------------
// groupAdvantages(rewards, {groupSize, scale, eps})
{
  const r = new Float32Array([1, 0, 0, 1]);
  suite('groupAdvantages', api.groupAdvantages as AnyFn, undefined, [
    ['options are missing', [r], TypeError, /options|groupSize/],
    ['groupSize is missing', [r, {}], TypeError, /groupSize/],
    ['groupSize does not divide the length', [r, { groupSize: 3 }], RangeError, /groupSize/],
    ['groupSize is 0', [r, { groupSize: 0 }], RangeError, /groupSize/],
    ['groupSize is negative', [r, { groupSize: -2 }], RangeError, /groupSize/],
    ['scale is unknown', [r, { groupSize: 2, scale: 'std' }], RangeError, /scale/],
    ['scale is not a string', [r, { groupSize: 2, scale: 1 }], TypeError, /scale/],
    ['eps is NaN', [r, { groupSize: 2, eps: NaN }], RangeError, /eps/],
    ['rewards is a Float64Array', [new Float64Array(4), { groupSize: 2 }], TypeError, /rewards/],
    ['rewards has Infinity', [withAt(r, 2, Infinity), { groupSize: 2 }], RangeError, /rewards/],
    ['rewards has NaN', [withAt(r, 0, NaN), { groupSize: 2 }], RangeError, /rewards/],
  ]);
}

// ---------------------------------------------------------------------------------------------
// policyLoss(inputs, config) with batch 2, steps 3 (token 5 masked)
{
  const base = () => ({
    logp: f32(6, -1),
    oldLogp: f32(6, -1.1),
    refLogp: f32(6, -0.9),
    advantages: new Float32Array([0.5, -0.5]),
    mask: new Uint8Array([1, 1, 1, 1, 1, 0]),
    batch: 2,
    steps: 3,
  });
  const grpo = { algorithm: 'grpo' };
  const LOGP = /\blogp\b/;
  suite('policyLoss', api.policyLoss as AnyFn, api.policyLossAsync as AnyFn, [
    ['config is missing', [base(), undefined], TypeError, /config|algorithm/],
    ['algorithm is missing', [base(), {}], TypeError, /algorithm/],
    ['algorithm is unknown', [base(), { algorithm: 'ppo' }], RangeError, /algorithm/],
    ['algorithm is not a string', [base(), { algorithm: 3 }], TypeError, /algorithm/],
    ['inputs is missing', [undefined, grpo], TypeError, /inputs/],
    ['logp is a Float64Array', [{ ...base(), logp: new Float64Array(6) }, grpo], TypeError, LOGP],
    ['logp is missing', [{ ...base(), logp: undefined }, grpo], TypeError, LOGP],
    ['logp has the wrong length', [{ ...base(), logp: f32(5, -1) }, grpo], RangeError, LOGP],
    ['oldLogp has the wrong length', [{ ...base(), oldLogp: f32(7, -1) }, grpo], RangeError, /oldLogp/],
    ['oldLogp is a plain array', [{ ...base(), oldLogp: [-1, -1, -1, -1, -1, -1] }, grpo], TypeError, /oldLogp/],
    ['refLogp has the wrong length', [{ ...base(), refLogp: f32(3, -1) }, grpo], RangeError, /refLogp/],
    ['advantages has neither batch nor batch*steps entries', [{ ...base(), advantages: f32(4) }, grpo], RangeError, /advantages/],
    ['advantages is a Float64Array', [{ ...base(), advantages: new Float64Array(2) }, grpo], TypeError, /advantages/],
    ['mask is a Float32Array', [{ ...base(), mask: f32(6, 1) }, grpo], TypeError, /mask/],
    ['mask is missing', [{ ...base(), mask: undefined }, grpo], TypeError, /mask/],
    ['mask has a value 2', [{ ...base(), mask: new Uint8Array([1, 2, 1, 1, 1, 0]) }, grpo], RangeError, /mask/],
    ['mask has a value 255', [{ ...base(), mask: new Uint8Array([1, 1, 1, 255, 1, 0]) }, grpo], RangeError, /mask/],
    ['mask has the wrong length', [{ ...base(), mask: new Uint8Array(7).fill(1) }, grpo], RangeError, /mask/],
    ['logp has NaN on an unmasked token', [{ ...base(), logp: withAt(f32(6, -1), 2, NaN) }, grpo], RangeError, LOGP],
    ['logp has +Infinity on an unmasked token', [{ ...base(), logp: withAt(f32(6, -1), 0, Infinity) }, grpo], RangeError, LOGP],
    ['oldLogp has NaN on an unmasked token', [{ ...base(), oldLogp: withAt(f32(6, -1), 3, NaN) }, grpo], RangeError, /oldLogp/],
    ['refLogp has -Infinity on an unmasked token', [{ ...base(), refLogp: withAt(f32(6, -1), 4, -Infinity) }, grpo], RangeError, /refLogp/],
    ['advantages has NaN for a sequence with unmasked tokens', [{ ...base(), advantages: new Float32Array([NaN, 1]) }, grpo], RangeError, /advantages/],
    ['per-token advantages have Infinity on an unmasked token', [{ ...base(), advantages: withAt(f32(6, 1), 1, Infinity) }, grpo], RangeError, /advantages/],
    ['delta ≤ 1', [base(), { algorithm: 'grpo', delta: 0.5 }], RangeError, /delta/],
    ['delta is NaN', [base(), { algorithm: 'dapo', delta: NaN }], RangeError, /delta/],
    ['epsLow is negative', [base(), { algorithm: 'grpo', epsLow: -0.1 }], RangeError, /epsLow/],
    ['epsHigh is NaN', [base(), { algorithm: 'dapo', epsHigh: NaN }], RangeError, /epsHigh/],
    ['epsHigh is a string', [base(), { algorithm: 'dapo', epsHigh: '0.2' }], TypeError, /epsHigh/],
    ['beta is NaN', [base(), { algorithm: 'grpo', beta: NaN }], RangeError, /beta/],
    ['importanceLevel is unknown', [base(), { algorithm: 'grpo', importanceLevel: 'batch' }], RangeError, /importanceLevel/],
    ['maxCompletionLength is 0', [base(), { algorithm: 'dr_grpo', maxCompletionLength: 0 }], RangeError, /maxCompletionLength/],
    ['maxCompletionLength is not an integer', [base(), { algorithm: 'dr_grpo', maxCompletionLength: 2.5 }], RangeError, /maxCompletionLength/],
    ['tauPos is 0', [base(), { algorithm: 'sapo', tauPos: 0 }], RangeError, /tauPos/],
    ['tauNeg is Infinity', [base(), { algorithm: 'sapo', tauNeg: Infinity }], RangeError, /tauNeg/],
    ['batch is negative', [{ ...base(), batch: -2 }, grpo], RangeError, /batch/],
    ['steps is a string', [{ ...base(), steps: '3' }, grpo], TypeError, /steps/],
    ['steps is not an integer', [{ ...base(), steps: 1.5 }, grpo], RangeError, /steps/],
  ]);
}
