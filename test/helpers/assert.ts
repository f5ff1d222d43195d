/**
 * Assertion helpers shared by the test files: element-wise closeness with an explicit
 * `abs + rel·|expected|` tolerance (reporting the worst element), bit-identity of typed arrays,
 * and "throws/rejects with this class and a message naming this argument".
 */
import { expect } from 'vitest';

export interface Tolerance {
  /** Absolute part of the bound. */
  abs: number;
  /** Relative part of the bound (times |expected|). */
  rel: number;
}

export interface CloseReport {
  ok: boolean;
  worst: number;
  index: number;
  got: number;
  expected: number;
  /** Worst |got − expected| / (abs + rel·|expected|); ≤ 1 means within tolerance. */
  ratio: number;
}

/** Compares element-wise: |got − exp| ≤ abs + rel·|exp|. NaN only matches NaN. */
export function closeReport(got: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance): CloseReport {
  let worst = -1;
  let ratio = 0;
  let ok = got.length === expected.length;
  for (let i = 0; i < Math.min(got.length, expected.length); i++) {
    const g = got[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e) && Number.isNaN(g)) continue;
    const bound = tol.abs + tol.rel * Math.abs(e);
    const err = Math.abs(g - e);
    const r = Number.isNaN(err) ? Infinity : err === 0 ? 0 : err / bound;
    if (!(r <= 1)) ok = false;
    if (r > ratio || worst < 0) {
      if (r > ratio) ratio = r;
      worst = i;
    }
  }
  const i = Math.max(worst, 0);
  return { ok, worst: ratio, index: i, got: got[i] ?? NaN, expected: expected[i] ?? NaN, ratio };
}

/** Asserts element-wise closeness; on failure the message shows the worst element. */
export function expectAllClose(
  got: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: Tolerance,
  label = 'values',
): void {
  expect(got.length, `${label}: length`).toBe(expected.length);
  const rep = closeReport(got, expected, tol);
  if (!rep.ok) {
    expect.fail(
      `${label}: element ${rep.index} is ${rep.got}, expected ${rep.expected} ` +
        `(|diff| = ${Math.abs(rep.got - rep.expected)}, tolerance ${tol.abs} + ${tol.rel}·|expected|)`,
    );
  }
}

/** Asserts |got − expected| ≤ abs + rel·|expected| for one scalar. */
export function expectClose(got: number, expected: number, tol: Tolerance, label = 'value'): void {
  expectAllClose([got], [expected], tol, label);
}

/**
 * The Fisher–Rao accuracy criterion of the test plan: relative error ≤ 1e-4 wherever the exact
 * (float64 oracle) distance is ≥ 1e-3; absolute error ≤ 1e-7 below that.
 * Returns the indices that violate it.
 */
export function frViolations(got: ArrayLike<number>, expected: ArrayLike<number>): number[] {
  const bad: number[] = [];
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const g = got[i]!;
    const ok = e >= 1e-3 ? Math.abs(g - e) <= 1e-4 * e : Math.abs(g - e) <= 1e-7;
    if (!ok) bad.push(i);
  }
  return bad;
}

export function expectFrClose(got: ArrayLike<number>, expected: ArrayLike<number>, label = 'FR'): void {
  expect(got.length, `${label}: length`).toBe(expected.length);
  const bad = frViolations(got, expected);
  if (bad.length > 0) {
    const i = bad[0]!;
    expect.fail(
      `${label}: ${bad.length} of ${expected.length} entries off; first at ${i}: got ${got[i]}, ` +
        `expected ${expected[i]} (criterion: rel ≤ 1e-4 where FR ≥ 1e-3, else abs ≤ 1e-7)`,
    );
  }
}

/** Bit-identity of two typed arrays (distinguishes −0 from +0 and NaN payloads). */
export function expectBitEqual(a: ArrayBufferView, b: ArrayBufferView, label = 'arrays'): void {
  expect(a.constructor, `${label}: type`).toBe(b.constructor);
  const ba = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  const bb = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  expect(ba.equals(bb), `${label}: bit-identical`).toBe(true);
}

type ErrorClass = new (...args: never[]) => Error;

function checkError(err: unknown, cls: ErrorClass, pattern: RegExp, what: string): void {
  if (!(err instanceof Error)) {
    expect.fail(`${what}: expected a ${cls.name}, got a non-Error value: ${String(err)}`);
  }
  expect(err, `${what}: error class (message was: ${(err as Error).message})`).toBeInstanceOf(cls);
  expect((err as Error).message, `${what}: message should name the argument`).toMatch(pattern);
}

/** `fn()` throws synchronously an instance of `cls` whose message matches `pattern`. */
export function expectThrowsNamed(fn: () => unknown, cls: ErrorClass, pattern: RegExp): void {
  let thrown: unknown;
  let threw = false;
  try {
    fn();
  } catch (e) {
    threw = true;
    thrown = e;
  }
  if (!threw) expect.fail(`expected a ${cls.name} matching ${pattern}, but nothing was thrown`);
  checkError(thrown, cls, pattern, 'sync');
}

/**
 * `fn()` returns a promise (it must NOT throw synchronously) that rejects with an instance of
 * `cls` whose message matches `pattern`.
 */
export async function expectRejectsNamed(fn: () => Promise<unknown>, cls: ErrorClass, pattern: RegExp): Promise<void> {
  let p: Promise<unknown> | undefined;
  try {
    p = fn();
  } catch (e) {
    expect.fail(
      `expected a rejected promise (${cls.name} matching ${pattern}), but the call threw synchronously: ` +
        `${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`,
    );
  }
  expect(p).toBeInstanceOf(Promise);
  let rejected = false;
  let reason: unknown;
  try {
    await p;
  } catch (e) {
    rejected = true;
    reason = e;
  }
  if (!rejected) expect.fail(`expected the promise to reject with a ${cls.name} matching ${pattern}, but it resolved`);
  checkError(reason, cls, pattern, 'async');
}
