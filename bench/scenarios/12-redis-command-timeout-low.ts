// 12. The shop's Redis command timeout lowered below a loaded Redis round trip.
import type { Scenario } from '../../packages/cli/dist/index.js';

// REDIS_COMMAND_TIMEOUT_MS 500 -> 1: under load a session read or write that takes over a
// millisecond (an event-loop pause is enough) fails, and the request with it.
export const scenario: Scenario = {
  name: 'redis-command-timeout-low',
  mechanism: "the shop's Redis command timeout below a loaded round trip (session reads and writes fail)",
  up: ['shop.redisCommandTimeoutMs=500'],
  fault: ['shop.redisCommandTimeoutMs=1'],
  decoys: [['redis.logLevel=warning'], ['shop.podLabels.team=checkout']],
  expected: ['shop.redisCommandTimeoutMs'],
};
