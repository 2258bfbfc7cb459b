export { collect, selectSources } from './collect.js';
export type { CollectResult } from './collect.js';
export { optionKey } from './source.js';
export type {
  CommonOptions,
  ProgressEvent,
  Source,
  SourceContext,
  SourceFlag,
  SourceResult,
  TimeWindow,
} from './source.js';
export { sources } from './sources/index.js';
export type { CollectOptions, SourceSettings } from './sources/index.js';
export { parseDuration, parseTime, resolveWindow } from './window.js';
export {
  CHART_LOG_FORMAT,
  COMBINED_LOG_FORMAT,
  compileLogFormat,
  logFormatFromConfig,
} from './nginx-log-format.js';
export type { NginxLogFormat } from './nginx-log-format.js';
export { parseInfo } from './sources/redis.js';
export { manifestWorkloads, revisionChanges } from './sources/helm.js';
export { DEFAULT_VALUES_GLOB } from './sources/git.js';
export { COMPONENT_LABEL, DEPENDS_ON_ANNOTATION } from './labels.js';
