export { errorCatalogue, HindsightError, errorMessage } from './errors.js';
export type { ErrorCode, Warning } from './errors.js';
export {
  REDACTED,
  CUSTOM_KIND,
  Redactor,
  compileRedactPatterns,
  isSecretKey,
  redactText,
  redactValue,
  redactAtPath,
} from './redact.js';
export type { RedactionCounts, RedactorOptions } from './redact.js';
export { secretRules } from './redact-catalogue.js';
export type { SecretRule } from './redact-catalogue.js';
export {
  BUNDLE_FORMAT_VERSION,
  manifestSchema,
  seriesSchema,
  changeSchema,
  diffEntrySchema,
  eventSchema,
  podSchema,
  topologySchema,
} from './bundle/schema.js';
export type {
  Manifest,
  Series,
  DiffEntry,
  Change,
  BundleEvent,
  Pod,
  Topology,
  SourceStatus,
} from './bundle/schema.js';
export { parseRfc3339, formatLogTimestamp, subMillisecondNanos } from './bundle/time.js';
export { spanSchema, spanStartMs, formatUnixNanos } from './bundle/spans.js';
export type { Span } from './bundle/spans.js';
export { otlpSpans, otlpId } from './bundle/otlp.js';
export type { OtlpSpans } from './bundle/otlp.js';
export { bundleLayout, logFilePath, parseLogFilePath } from './bundle/layout.js';
export type { LogFileRef } from './bundle/layout.js';
export {
  podOwner,
  podWorkload,
  workloadOfPodName,
  looksLikePodName,
  seriesKey,
  changeId,
  counterRate,
  isCounter,
} from './identity.js';
export type { PodOwnership, WorkloadRef } from './identity.js';
export { histogramQuantiles, isHistogramBucket, HISTOGRAM_QUANTILES } from './histogram.js';
export { BundleWriter } from './bundle/writer.js';
export type { BundleWriterOptions, LogSink } from './bundle/writer.js';
export { Bundle, openBundle, validateBundle } from './bundle/reader.js';
export type { BundleProblem, LogLine, OpenBundleOptions } from './bundle/reader.js';
export {
  packBundle,
  unpackBundle,
  isArchivePath,
  ARCHIVE_LIMITS,
  RATIO_CHECKED_AFTER,
} from './bundle/archive.js';
export type { ArchiveLimits } from './bundle/archive.js';
export { diffValues, flattenValues } from './diff.js';
export { seededRandom } from './random.js';
export {
  encodeRelease,
  decodeRelease,
  releaseRecordName,
  releaseRecordLabels,
  MAX_RELEASE_BYTES,
} from './helm-release.js';
export type { HelmRelease } from './helm-release.js';
