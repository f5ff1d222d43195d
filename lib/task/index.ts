/**
 * The task layer: the contract between tasks and the trainer, and the built-in procedural
 * visual-reasoning task (scenes, questions, word tokenizer, verifiable rewards).
 * @packageDocumentation
 */
export type { Tokenizer, Example, RewardContext, RewardFunction, ImageShape } from './types.js';
export {
  SHAPES,
  COLORS,
  COLOR_RGB,
  MIN_CELL_SIZE,
  Prng,
  mulberry32,
  mixSeed,
  generateScene,
  renderScene,
  shapePattern,
  sceneHash,
  objectAt,
  countAttribute,
  type Shape,
  type Color,
  type SceneObject,
  type Scene,
  type SceneOptions,
} from './scene.js';
export { QUESTION_FAMILIES, askQuestion, formatTarget, type QuestionFamily, type Question } from './questions.js';
export { WordTokenizer, builtInTokenizer } from './tokenizer.js';
export { accuracyReward, formatReward, parseAnswer } from './rewards.js';
export { VisualTask, type VisualTaskOptions, type VisualSample, type Split } from './visual-task.js';
