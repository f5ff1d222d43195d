/**
 * Small seeded inputs for the Policy tests: images with values in [0, 1], prompts that hold the
 * image token once at a varying position (so prompts have different lengths and left padding).
 */
import { Rng } from './prng.js';
import type { TinyVLConfig } from '../../lib/index.js';

/** The config the runner tests use: small enough for fast CPU tests, every structural feature on. */
export const testConfig: Required<Pick<TinyVLConfig, 'vocabSize' | 'hidden' | 'layers' | 'heads' | 'kvHeads' | 'intermediate' | 'maxContext' | 'imageHeight' | 'imageWidth' | 'imageChannels' | 'patchSize' | 'visionLayers' | 'imageTokenId'>> = {
  vocabSize: 48,
  hidden: 32,
  layers: 2,
  heads: 4,
  kvHeads: 2,
  intermediate: 64,
  maxContext: 96,
  imageHeight: 8,
  imageWidth: 8,
  imageChannels: 3,
  patchSize: 4,
  visionLayers: 1,
  imageTokenId: 1,
};

export const eosId = 2;

export function makeImages(rng: Rng, count: number, config = testConfig): Float32Array {
  const n = count * config.imageHeight * config.imageWidth * config.imageChannels;
  return Float32Array.from({ length: n }, () => rng.uniform());
}

/** Prompts of different lengths: `before` other tokens, the image token, then question tokens. */
export function makePrompts(rng: Rng, count: number, config = testConfig): Int32Array[] {
  const prompts: Int32Array[] = [];
  for (let p = 0; p < count; p++) {
    const before = p % 3;
    const after = 2 + ((p * 5) % 6);
    const tokens: number[] = [];
    const token = () => 3 + Math.floor(rng.uniform() * (config.vocabSize - 3));
    for (let i = 0; i < before; i++) tokens.push(token());
    tokens.push(config.imageTokenId);
    for (let i = 0; i < after; i++) tokens.push(token());
    prompts.push(Int32Array.from(tokens));
  }
  return prompts;
}
