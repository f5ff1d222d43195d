/**
 * Independent float64 oracle for dyco-rl, written from the method spec and the TSDoc contract in
 * lib/*.ts (never from the C++). Same argument shapes as the public API; results are Float64Array
 * or number.
 */
export {
  fisherRaoRef,
  fisherRaoAcos64,
  fisherRaoNaiveFloat32,
  fisherRaoAdjacentRef,
  frContiguous,
  frOverIndices,
  type FisherRaoShape,
  type FisherRaoAdjacentShape,
} from './fisher-rao.js';
export { attentionStatsRef, type AttentionStatsRef, type AttentionStatsShape } from './attention-stats.js';
export {
  coordinationScoresRef,
  normalizeScoresRef,
  reweightAdvantagesRef,
  reweightWeightsRef,
  sigmoid,
  unbiasedStd,
  type CoordinationInputsRef,
  type CoordinationOptionsRef,
  type CoordinationScoresRef,
  type ReweightOptionsRef,
} from './coordination.js';
export { groupAdvantagesRef, type GroupAdvantageOptionsRef } from './advantages.js';
export {
  policyLossRef,
  policyLossValueRef,
  policyLossFiniteDiff,
  resolveConfig,
  type PolicyAlgorithmRef,
  type PolicyLossConfigRef,
  type PolicyLossInputsRef,
  type PolicyLossRefResult,
} from './policy-loss.js';
export {
  logitsPolicyLossRef,
  logitsPolicyLossFiniteDiff,
  selectiveLogSoftmaxRef,
  type LogitsPolicyLossInputsRef,
  type LogitsPolicyLossRefResult,
} from './logits-policy-loss.js';
