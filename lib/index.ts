/**
 * dyco-rl: DyCo-RL for Node.js. Fisher–Rao attention statistics, role alignment, advantage
 * reweighting and fused policy losses in C++ behind N-API, and a LibTorch vision-language policy
 * (`Policy`) that samples with streamed DyCo statistics and trains on those losses.
 * @packageDocumentation
 */
export { capabilities, type Capabilities, type CudaDeviceInfo, type LoadedBinary, type TorchCapability } from './capabilities.js';
export {
  DeviceArray,
  type DeviceArrayConstructor,
  type DeviceArrayDType,
  type HalfHostArray,
  type HostArrayOf,
  type UploadOptions,
} from './device-array.js';
export type {
  Device,
  ExecutionOptions,
  FieldOf,
  Float32Input,
  Float32Output,
  FloatInput,
  Int32Input,
  Int8Output,
  Placement,
  Uint8Input,
} from './device.js';
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
export {
  logitsPolicyLoss,
  type LogitsDtype,
  type LogitsInput,
  type LogitsPolicyLossInputs,
  type LogitsPolicyLossOptions,
  type LogitsPolicyLossResult,
} from './logits-policy-loss.js';
export {
  Policy,
  type TinyVLConfig,
  type PolicyOptions,
  type PolicyInfo,
  type ImageData,
  type PromptBatch,
  type GenerateRequest,
  type CompletionBatch,
  type Rollout,
  type AttentionMaps,
  type TrainStepOptions,
  type TrainStepResult,
  type SftStepResult,
  type GradientsResult,
} from './policy.js';
export {
  encodeSafetensors,
  decodeSafetensors,
  readSafetensorsFile,
  writeSafetensorsFile,
  SafetensorsFormatError,
  type SafetensorsDtype,
  type TensorRecord,
} from './safetensors.js';
export * from './task/index.js';
export * from './data/index.js';
export { renderMetricsChart, writeMetricsChart, type MetricsRecord, type ChartOptions } from './chart.js';
export {
  resolveTrainerConfig,
  type TrainerConfig,
  type ResolvedTrainerConfig,
  type TrainerAlgorithm,
  type DycoMode,
  type DycoOptions,
  type BuiltInTaskOptions,
} from './trainer/config.js';
export { train, type TrainerEvent, type TrainerOptions, type TrainingSummary, type StepMetrics } from './trainer/trainer.js';
export { builtInTask, exampleTask, type ExampleTaskOptions } from './trainer/tasks.js';
export type { TrainingTask } from './trainer/training-task.js';
export { presets, type PresetName } from './trainer/presets.js';
