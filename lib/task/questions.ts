/**
 * Question families over a {@link Scene}. Every question needs the image to answer (its text says
 * nothing about the scene), and each comes with its answer word and a short "reasoning" phrase for
 * the supervised target `<think> reasoning </think> <answer> answer </answer>`.
 *
 * The families draw their parameters so that no single answer dominates (a constant guess must not
 * score well): see each family's notes in {@link askQuestion}.
 * @packageDocumentation
 */
import { COLORS, SHAPES, countAttribute, objectAt, type Color, type Prng, type Scene, type Shape } from './scene.js';

/** The question families, in a fixed order. */
export const QUESTION_FAMILIES = ['count', 'color-at', 'shape-at', 'compare', 'sum'] as const;
/**
 * A question family:
 * - `count`: "how many red ?" / "how many square ?" → a digit;
 * - `color-at`: "color at 2 3 ?" (row, column, 1-based) → a colour word or "none";
 * - `shape-at`: "shape at 2 3 ?" → a shape word or "none";
 * - `compare`: "more red than blue ?" → "yes" / "no" (strictly more);
 * - `sum`: "red plus blue ?" → a digit (count of the first plus count of the second).
 */
export type QuestionFamily = (typeof QUESTION_FAMILIES)[number];

/** A question about one scene, with everything the task needs to build an example. */
export interface Question {
  family: QuestionFamily;
  /** The question's words separated by single spaces, ending with "?". */
  text: string;
  /** The reference answer: one word. */
  answer: string;
  /** A few words restating the question's operation, e.g. "count red" or "look 2 3". */
  reasoning: string;
  /** The supervised completion: `<think> reasoning </think> <answer> answer </answer>`. */
  target: string;
}

/** The largest answer a single-digit answer word can express. */
const MAX_DIGIT = 9;

/** Probability of asking about an empty cell in the `*-at` families: one answer among |colors|+1. */
const EMPTY_CELL_PROBABILITY = 1 / (COLORS.length + 1);

/** The supervised completion for a reasoning phrase and an answer word. */
export function formatTarget(reasoning: string, answer: string): string {
  return reasoning === '' ? `<think> </think> <answer> ${answer} </answer>` : `<think> ${reasoning} </think> <answer> ${answer} </answer>`;
}

/** Throws RangeError unless `family` is a known question family. */
export function checkFamily(family: unknown, name = 'family'): QuestionFamily {
  if (!(QUESTION_FAMILIES as readonly unknown[]).includes(family)) {
    throw new RangeError(`${name} must be one of ${QUESTION_FAMILIES.join(', ')}, got ${String(family)}`);
  }
  return family as QuestionFamily;
}

function make(family: QuestionFamily, text: string, reasoning: string, answer: string): Question {
  return { family, text, answer, reasoning, target: formatTarget(reasoning, answer) };
}

/** A cell position for the `*-at` families: empty with probability 1/5 when possible, else occupied. */
function pickCell(scene: Scene, rng: Prng): { row: number; col: number } {
  const empty: number[] = [];
  const occupied: number[] = [];
  scene.cells.forEach((o, i) => (o === null ? empty : occupied).push(i));
  // Uniform cells would answer "none" ~65% of the time with the default 3..8 objects in 16 cells;
  // a fixed share of empty cells makes "none" about as frequent as each colour or shape.
  const wantEmpty = rng.bool(EMPTY_CELL_PROBABILITY);
  const pool = (wantEmpty && empty.length > 0) || occupied.length === 0 ? empty : occupied;
  const i = rng.pick(pool);
  return { row: Math.floor(i / scene.cols), col: i % scene.cols };
}

/** Colours or shapes (chosen at random), the attribute kinds that count, compare and sum range over. */
function pickKind(rng: Prng): readonly (Color | Shape)[] {
  return rng.bool() ? COLORS : SHAPES;
}

/**
 * Draws a question of `family` about `scene`.
 *
 * Parameter choices, made so that answers are spread out:
 * - `count`: a colour or shape uniformly among those with at most 9 objects;
 * - `color-at` / `shape-at`: an empty cell with probability 1/5 (when there is one), else an
 *   occupied cell, uniformly;
 * - `compare`: colours or shapes; a fair coin picks whether the answer should be "yes", then an
 *   ordered pair with that answer is drawn ("yes" needs a strictly larger first count, so a scene
 *   where all counts tie answers "no");
 * - `sum`: colours or shapes, an ordered pair of distinct attributes whose counts add up to ≤ 9
 *   (the other kind is tried when none does).
 *
 * @param scene - The scene asked about; rows and columns ≤ 9 so positions are single digits.
 * @param family - Which family to draw from.
 * @param rng - The random source; the question depends only on its state and the scene.
 * @returns The question, or null when the scene cannot pose one of this family with a
 *   single-digit answer (a count or sum over 9; only possible with more than 16 objects), so the
 *   caller can draw another scene.
 * @throws RangeError for an unknown family.
 */
export function askQuestion(scene: Scene, family: QuestionFamily, rng: Prng): Question | null {
  checkFamily(family);
  switch (family) {
    case 'count': {
      const eligible = [...COLORS, ...SHAPES].filter((a) => countAttribute(scene, a) <= MAX_DIGIT);
      if (eligible.length === 0) return null;
      const a = rng.pick(eligible);
      return make(family, `how many ${a} ?`, `count ${a}`, String(countAttribute(scene, a)));
    }
    case 'color-at':
    case 'shape-at': {
      const { row, col } = pickCell(scene, rng);
      const o = objectAt(scene, row, col);
      const what = family === 'color-at' ? 'color' : 'shape';
      const answer = o === null ? 'none' : family === 'color-at' ? o.color : o.shape;
      const pos = `${row + 1} ${col + 1}`;
      return make(family, `${what} at ${pos} ?`, `look ${pos}`, answer);
    }
    case 'compare': {
      const kind = pickKind(rng);
      const wantYes = rng.bool();
      const yes: [Color | Shape, Color | Shape][] = [];
      const no: [Color | Shape, Color | Shape][] = [];
      for (const a of kind) {
        for (const b of kind) {
          if (a === b) continue;
          (countAttribute(scene, a) > countAttribute(scene, b) ? yes : no).push([a, b]);
        }
      }
      const useYes = wantYes && yes.length > 0;
      const [a, b] = rng.pick(useYes ? yes : no);
      return make(family, `more ${a} than ${b} ?`, `compare ${a} ${b}`, useYes ? 'yes' : 'no');
    }
    case 'sum': {
      const first = pickKind(rng);
      for (const kind of [first, first === COLORS ? SHAPES : COLORS]) {
        const pairs: [Color | Shape, Color | Shape][] = [];
        for (const a of kind) {
          for (const b of kind) {
            if (a !== b && countAttribute(scene, a) + countAttribute(scene, b) <= MAX_DIGIT) pairs.push([a, b]);
          }
        }
        if (pairs.length === 0) continue;
        const [a, b] = rng.pick(pairs);
        const total = countAttribute(scene, a) + countAttribute(scene, b);
        return make(family, `${a} plus ${b} ?`, `add ${a} ${b}`, String(total));
      }
      return null;
    }
  }
}
