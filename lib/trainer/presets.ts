/**
 * Named starting points for `dyco-rl train`: `smoke` (end to end in well under a minute, for
 * tests) and `default` (the main job: a supervised warm start then RL on the built-in task, sized
 * to finish within 15 minutes on a 2-core CPU).
 * @packageDocumentation
 */
import type { TrainerConfig } from './config.js';

export const presets = {
  smoke: {
    model: { hidden: 32, layers: 2, heads: 4, kvHeads: 2, intermediate: 64, visionLayers: 1, maxContext: 64 },
    sftSteps: 8,
    sftBatch: 16,
    steps: 6,
    promptsPerStep: 4,
    groupSize: 4,
    maxNewTokens: 12,
    evalSize: 32,
    evalEvery: 3,
    checkpointEvery: 3,
    learningRate: 1e-3,
  },
  default: {
    model: { hidden: 64, layers: 2, heads: 4, kvHeads: 2, intermediate: 128, visionLayers: 1, maxContext: 64 },
    sftSteps: 60,
    sftBatch: 32,
    steps: 200,
    promptsPerStep: 16,
    groupSize: 8,
    maxNewTokens: 12,
    evalSize: 300,
    evalEvery: 25,
    checkpointEvery: 25,
    learningRate: 5e-4,
  },
} satisfies Record<string, TrainerConfig>;

export type PresetName = keyof typeof presets;
export const presetNames = Object.keys(presets) as PresetName[];
