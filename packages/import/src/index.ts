export { importRcaDataset } from './rca-dataset.js';
export type { RcaDatasetOptions, ImportResult } from './rca-dataset.js';
export { parseTimeCell, findLineTime } from './time.js';
export type { LineTime } from './time.js';
export { serviceOfPod } from './names.js';
export { importSupportBundle } from './support-bundle/import.js';
export type { SupportBundleOptions } from './support-bundle/import.js';
export { importOtlp } from './otlp/import.js';
export type { OtlpImportOptions, OtlpImportResult } from './otlp/import.js';
