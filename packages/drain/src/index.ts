/**
 * @hindsight/drain: a dependency-free, streaming Drain-style log template miner.
 * See README.md for the contract and the defaults.
 */
export { TemplateMiner } from './miner.js';
export { DEFAULT_OPTIONS } from './options.js';
export type { MinerOptions } from './options.js';
export type { MatchResult, MatchChange, TemplateInfo, MinerStats, MinerState, LoadResult } from './types.js';
export { maskToken, WILDCARD } from './mask.js';
export { mergeTokens } from './template-token.js';
export { templateId } from './hash.js';
export { parseLogFormat } from './log-format.js';
export type { LineParser, ParsedLine, LogFormatResult } from './log-format.js';
