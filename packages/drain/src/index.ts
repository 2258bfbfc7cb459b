/**
 * @hindsight/drain: a dependency-free, streaming Drain-style log template miner.
 * See README.md for the contract and the defaults.
 */
export { TemplateMiner, DEFAULT_OPTIONS } from './miner.js';
export type {
  MinerOptions,
  MatchResult,
  MatchChange,
  TemplateInfo,
  MinerStats,
  MinerState,
  LoadResult,
} from './miner.js';
export { maskToken, mergeTokens, WILDCARD } from './mask.js';
export { templateId } from './hash.js';
export { parseLogFormat } from './log-format.js';
export type { LineParser, ParsedLine, LogFormatResult } from './log-format.js';
