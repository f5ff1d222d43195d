/**
 * dyco-rl: DyCo-RL kernels for Node.js. Fisher–Rao attention statistics, role alignment,
 * advantage reweighting and fused policy losses, in C++ behind N-API.
 * @packageDocumentation
 */
export { capabilities, type Capabilities } from './capabilities.js';
export {
  fisherRao,
  fisherRaoAsync,
  fisherRaoAdjacent,
  fisherRaoAdjacentAsync,
  type FisherRaoShape,
  type FisherRaoAdjacentShape,
} from './fisher-rao.js';
export {
  attentionStats,
  attentionStatsAsync,
  Modality,
  type AttentionStats,
  type AttentionStatsShape,
} from './attention-stats.js';
export {
  coordinationScores,
  coordinationScoresAsync,
  normalizeScores,
  reweightAdvantages,
  type CoordinationInputs,
  type CoordinationOptions,
  type CoordinationScores,
  type NormalizeOptions,
  type ReweightOptions,
} from './coordination.js';
export { groupAdvantages, type GroupAdvantageOptions } from './advantages.js';
export {
  policyLoss,
  policyLossAsync,
  type PolicyAlgorithm,
  type PolicyLossConfig,
  type PolicyLossInputs,
  type PolicyLossResult,
} from './policy-loss.js';
