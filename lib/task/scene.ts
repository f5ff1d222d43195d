/**
 * Procedural scenes for the built-in visual-reasoning task: a grid of cells, each empty or holding
 * one coloured shape, rendered to a small RGB image in which every cell is one `cellSize × cellSize`
 * block. With the defaults (4 × 4 cells of 4 × 4 pixels) the 16 × 16 image matches the tiny-vl
 * model's 4 × 4 patches exactly, so each vision token sees exactly one cell.
 *
 * Everything here is deterministic given a seed: scenes come from {@link Prng}, a small mulberry32
 * generator, so the task needs no download and reproduces bit for bit.
 * @packageDocumentation
 */

/** The shapes an object can have, in a fixed order (the order is part of the scene encoding). */
import { mulberry32 } from '../random.js';

export { mulberry32 };

export const SHAPES = ['square', 'cross', 'dot', 'bar'] as const;
/** A shape word. */
export type Shape = (typeof SHAPES)[number];

/** The colours an object can have, in a fixed order (the order is part of the scene encoding). */
export const COLORS = ['red', 'green', 'blue', 'yellow'] as const;
/** A colour word. */
export type Color = (typeof COLORS)[number];

/**
 * RGB in [0, 1] of each colour. Saturated primaries (and red+green for yellow) keep every pair at
 * least one full unit apart in some channel, so a colour is unambiguous from any single pixel.
 */
export const COLOR_RGB: Readonly<Record<Color, readonly [number, number, number]>> = Object.freeze({
  red: Object.freeze([1, 0, 0] as const),
  green: Object.freeze([0, 1, 0] as const),
  blue: Object.freeze([0, 0, 1] as const),
  yellow: Object.freeze([1, 1, 0] as const),
});

/** One object: a shape drawn in a colour, filling (part of) its cell. */
export interface SceneObject {
  readonly shape: Shape;
  readonly color: Color;
}

/** A `rows × cols` grid; `cells[r * cols + c]` is the object at 0-based (r, c), or null when empty. */
export interface Scene {
  readonly rows: number;
  readonly cols: number;
  readonly cells: readonly (SceneObject | null)[];
}

/** How {@link generateScene} lays out a scene. Every field is optional. */
export interface SceneOptions {
  /** Grid rows, an integer in [1, 9] (questions name rows with one digit). Default 4. */
  rows?: number;
  /** Grid columns, an integer in [1, 9]. Default 4. */
  cols?: number;
  /** Fewest objects, an integer in [0, rows·cols]. Default 3. */
  minObjects?: number;
  /** Most objects, an integer in [minObjects, rows·cols]. Default 8. */
  maxObjects?: number;
}

/** The 4 × 4 templates the shape patterns are scaled from ('#' = drawn). */
const TEMPLATES: Readonly<Record<Shape, readonly string[]>> = {
  // Four distinct pixel counts (16, 12, 4, 8) as well as distinct layouts, so even a model that only
  // looks at a patch's mean intensity can tell the shapes apart.
  square: ['####', '####', '####', '####'],
  cross: ['.##.', '####', '####', '.##.'],
  dot: ['....', '.##.', '.##.', '....'],
  bar: ['....', '####', '####', '....'],
};

/** The template grid's side: the smallest cell size at which every pattern is drawn exactly. */
export const MIN_CELL_SIZE = 4;

/** murmur3's 32-bit finaliser: every input bit flips about half of the output bits. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Hashes a list of integers to one well-mixed 32-bit value, e.g. to seed a {@link Prng} per
 * (task seed, split, example index). Both 32-bit halves of each number take part, so safe integers
 * above 2^32 (and negative ones) do not collide with their low bits.
 * @param parts - Finite numbers (integers are intended; fractions are truncated toward −∞).
 * @returns An unsigned 32-bit integer.
 */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    const hi = Math.floor(part / 4294967296);
    h = fmix32((h ^ (part >>> 0)) + 0x7f4a7c15);
    h = fmix32((h ^ (hi >>> 0)) + 0x165667b1);
  }
  return h;
}

/** A seeded random source for scene and question generation (mulberry32 underneath). */
export class Prng {
  private readonly next: () => number;
  /** @param seed - Only the low 32 bits are used; see {@link mixSeed} to combine several numbers. */
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  /** Uniform in [0, 1). */
  uniform(): number {
    return this.next();
  }
  /** Integer uniform in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  /** True with probability `p`. */
  bool(p = 0.5): boolean {
    return this.next() < p;
  }
  /** One element of a non-empty array. */
  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new RangeError('Prng.pick: xs is empty');
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  /** `k` distinct elements of `xs` in random order (partial Fisher–Yates on a copy). */
  sample<T>(xs: readonly T[], k: number): T[] {
    const copy = xs.slice();
    const n = Math.min(k, copy.length);
    for (let i = 0; i < n; i++) {
      const j = this.int(i, copy.length - 1);
      const t = copy[i]!;
      copy[i] = copy[j]!;
      copy[j] = t;
    }
    return copy.slice(0, n);
  }
}

/** TypeError when `value` is not a number, RangeError when it is not an integer in [lo, hi]. */
export function checkInt(name: string, value: unknown, lo: number, hi: number): number {
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number, got ${typeof value}`);
  if (!Number.isInteger(value) || value < lo || value > hi) {
    throw new RangeError(`${name} must be an integer in [${lo}, ${hi}], got ${value}`);
  }
  return value;
}

/** {@link SceneOptions} with defaults filled in and every field validated. */
export interface ResolvedSceneOptions {
  rows: number;
  cols: number;
  minObjects: number;
  maxObjects: number;
}

/**
 * Fills in defaults and validates scene options.
 * @throws TypeError for a non-number field; RangeError for an out-of-range one (named in the message).
 */
export function resolveSceneOptions(options: SceneOptions = {}): ResolvedSceneOptions {
  const rows = checkInt('rows', options.rows ?? 4, 1, 9);
  const cols = checkInt('cols', options.cols ?? 4, 1, 9);
  const cells = rows * cols;
  // The defaults are clamped to small grids so that e.g. `{ rows: 1, cols: 2 }` works on its own.
  const minObjects = checkInt('minObjects', options.minObjects ?? Math.min(3, cells), 0, cells);
  const maxObjects = checkInt('maxObjects', options.maxObjects ?? Math.max(minObjects, Math.min(8, cells)), 0, cells);
  if (maxObjects < minObjects) {
    throw new RangeError(`maxObjects (${maxObjects}) must be at least minObjects (${minObjects})`);
  }
  return { rows, cols, minObjects, maxObjects };
}

/**
 * Draws a scene: an object count uniform in [minObjects, maxObjects], that many distinct cells
 * chosen uniformly, and each object's shape and colour uniform and independent.
 * @param rng - The random source; the scene depends only on its state.
 * @param options - Grid and object-count settings (see {@link SceneOptions}).
 * @throws TypeError / RangeError for invalid options (see {@link resolveSceneOptions}).
 */
export function generateScene(rng: Prng, options: SceneOptions = {}): Scene {
  const { rows, cols, minObjects, maxObjects } = resolveSceneOptions(options);
  const n = rng.int(minObjects, maxObjects);
  const cells: (SceneObject | null)[] = new Array<SceneObject | null>(rows * cols).fill(null);
  const indices = Array.from({ length: rows * cols }, (_, i) => i);
  for (const i of rng.sample(indices, n)) {
    cells[i] = { shape: rng.pick(SHAPES), color: rng.pick(COLORS) };
  }
  return { rows, cols, cells };
}

/** The object at 0-based (row, col), or null when the cell is empty. */
export function objectAt(scene: Scene, row: number, col: number): SceneObject | null {
  return scene.cells[row * scene.cols + col] ?? null;
}

/** Number of objects whose colour or shape equals `attribute`. */
export function countAttribute(scene: Scene, attribute: Color | Shape): number {
  let n = 0;
  for (const o of scene.cells) if (o !== null && (o.color === attribute || o.shape === attribute)) n++;
  return n;
}

/**
 * The pixel pattern of `shape` in a `cellSize × cellSize` cell: 1 where the shape is drawn.
 *
 * Pixel (y, x) takes the 4 × 4 template's entry (⌊4y/s⌋, ⌊4x/s⌋) (nearest-neighbour scaling), so
 * the pattern is exact at cellSize 4, an exact block upscale at multiples of 4, and keeps its
 * proportions at any other size ≥ 4.
 * @param cellSize - An integer ≥ 4.
 * @returns `Uint8Array(cellSize²)`, row-major.
 * @throws RangeError for an unknown shape or a cellSize that is not an integer ≥ 4.
 */
export function shapePattern(shape: Shape, cellSize: number): Uint8Array {
  checkInt('cellSize', cellSize, MIN_CELL_SIZE, Number.MAX_SAFE_INTEGER);
  const template = TEMPLATES[shape];
  if (template === undefined) throw new RangeError(`shape must be one of ${SHAPES.join(', ')}, got ${String(shape)}`);
  const out = new Uint8Array(cellSize * cellSize);
  for (let y = 0; y < cellSize; y++) {
    const line = template[Math.floor((MIN_CELL_SIZE * y) / cellSize)]!;
    for (let x = 0; x < cellSize; x++) {
      out[y * cellSize + x] = line[Math.floor((MIN_CELL_SIZE * x) / cellSize)] === '#' ? 1 : 0;
    }
  }
  return out;
}

/**
 * Renders a scene to an RGB image: `(rows·cellSize) × (cols·cellSize) × 3` values, row-major,
 * black (0) background, each object's pattern ({@link shapePattern}) in its colour ({@link COLOR_RGB}).
 * @param scene - The scene to draw.
 * @param cellSize - Pixels per cell side, an integer ≥ 4. Default 4.
 * @returns A new `Float32Array` with values in {0, 1}.
 * @throws RangeError for a cellSize that is not an integer ≥ 4, or a scene whose cells array does
 *   not have rows·cols entries.
 * @example
 * ```ts
 * const scene = generateScene(new Prng(1));
 * const image = renderScene(scene); // Float32Array(16 * 16 * 3)
 * ```
 */
export function renderScene(scene: Scene, cellSize = MIN_CELL_SIZE): Float32Array {
  checkInt('cellSize', cellSize, MIN_CELL_SIZE, Number.MAX_SAFE_INTEGER);
  const { rows, cols } = scene;
  if (scene.cells.length !== rows * cols) {
    throw new RangeError(`scene.cells must have rows*cols = ${rows * cols} entries, got ${scene.cells.length}`);
  }
  const width = cols * cellSize;
  const image = new Float32Array(rows * cellSize * width * 3);
  // Patterns are computed once per shape, not once per object.
  const patterns = new Map<Shape, Uint8Array>();
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const o = scene.cells[r * cols + c];
      if (o === null || o === undefined) continue;
      let pattern = patterns.get(o.shape);
      if (pattern === undefined) {
        pattern = shapePattern(o.shape, cellSize);
        patterns.set(o.shape, pattern);
      }
      const rgb = COLOR_RGB[o.color];
      if (rgb === undefined) throw new RangeError(`scene cell (${r}, ${c}) has unknown color ${String(o.color)}`);
      for (let y = 0; y < cellSize; y++) {
        for (let x = 0; x < cellSize; x++) {
          if (pattern[y * cellSize + x] === 0) continue;
          const p = ((r * cellSize + y) * width + (c * cellSize + x)) * 3;
          image[p] = rgb[0];
          image[p + 1] = rgb[1];
          image[p + 2] = rgb[2];
        }
      }
    }
  }
  return image;
}

/**
 * A 32-bit hash of a scene's content (grid size and every cell), independent of how it was drawn
 * or rendered: equal scenes always hash equal. The task uses one bit of it to split scenes between
 * training and held-out evaluation.
 */
export function sceneHash(scene: Scene): number {
  let h = mixSeed(scene.rows, scene.cols);
  for (const o of scene.cells) {
    // 0 = empty; otherwise 1 + shape index · |colors| + colour index (an injective code).
    const code = o === null ? 0 : 1 + SHAPES.indexOf(o.shape) * COLORS.length + COLORS.indexOf(o.color);
    h = mixSeed(h, code);
  }
  return h;
}
