/**
 * @hindsight/investigate: analyzers, ranking and reporters. `investigate(bundle)` runs the
 * pipeline (analyzers -> findings -> rank -> hypotheses) and returns a {@link Report} as a value;
 * the reporters turn it into text. See README.md and docs/report.md for the contract.
 */
export { investigate, bucketFor, analysisWindow } from './investigate.js';
export type { InvestigateOptions } from './investigate.js';
export { analyzers } from './analyzers/index.js';
export { latencyAnalyzer, DEFAULT_LATENCY_PARAMS } from './analyzers/latency.js';
export type { LatencyParams } from './analyzers/latency-compare.js';
export { reporters, isReporterName } from './reporters/index.js';
export type { ReporterName } from './reporters/index.js';
export type { Reporter, RenderOptions, Style } from './reporters/types.js';
export { detectExcursions, detectShifts, median, mad } from './stats.js';
export type { Excursion, ExcursionOptions, Shift, ShiftOptions } from './stats.js';
export { parseLogLine } from './log-line.js';
export type { ParsedLogLine, LogLevel } from './log-line.js';
export { changeMechanisms, effectMechanisms, MECHANISMS } from './rank/mechanism.js';
export type { Mechanism, MechanismKind, Mechanisms } from './rank/mechanism.js';
export { DEFAULT_RANK_WEIGHTS } from './rank/weights.js';
export { revisionMechanisms } from './rank/candidates.js';
export type { RankWeights } from './rank/weights.js';
export { BundleData } from './data.js';
export type { BundleDataOptions, BundleRecords } from './data.js';
export type { PreparedSeries } from './data.js';
export type { LogGroup, LogModel, MinedLogs, TemplateStats, SampleLine } from './log-model.js';
export { templateMatcher } from './mine.js';
export { probeRoutes, isProbeRequest } from './probes.js';
export type { Grid } from './log-model.js';
export { writeSyntheticBundle, storyScenario, quietScenario } from './testing/synthetic-bundle.js';
export type { SyntheticScenario, SyntheticChange } from './testing/synthetic-bundle.js';
export type {
  Analyzer,
  AnalyzerContext,
  Need,
  Finding,
  FindingFamily,
  Evidence,
  SeriesEvidence,
  LinesEvidence,
  DiffEvidence,
  EventEvidence,
  Hypothesis,
  Cause,
  ChainStep,
  Report,
  AtCollection,
} from './types.js';
