/**
 * The package's one small seeded PRNG, shared by the built-in task (scenes, questions), the
 * trainer (example order of user data) and the tests and benchmarks (their inputs).
 * @packageDocumentation
 */

/**
 * mulberry32: a 32-bit-state PRNG (period 2^32), ample for generating data.
 * @param seed - Any number; only its low 32 bits are used.
 * @returns A function giving floats in [0, 1).
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
