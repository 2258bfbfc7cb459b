export { buildApp, drainApp, sweepOnce, startSweeper, type BuildAppOptions } from './app.js';
export { loadConfig, type ShopConfig, type ConfigResult, type ConfigIssue } from './config.js';
export { migrate, seed, SEED_PRODUCTS, SEED_USERS } from './db.js';
export { ShopError, SHOP_ERRORS, type ShopErrorCode } from './errors.js';
export { main } from './main.js';
export { hashPassword, verifyPassword } from './password.js';
export { SESSION_COOKIE, type RequestSession } from './plugins/session.js';
export { type ShopMetrics } from './plugins/metrics.js';
export { type RedisNodes, type RedisNodeClient } from './plugins/redis.js';
export { type SessionData, type SessionEvent, sessionHandle, sessionKey } from './session-store.js';
export { type StuckOrder, type PaymentResult, type SweepResult } from './checkout.js';
export {
  startRedisReplicaSet,
  startPostgres,
  freePort,
  type RedisNode,
  type RedisReplicaSet,
  type PostgresServer,
} from './testing/servers.js';
export {
  startShopTestStack,
  captureLogs,
  InjectClient,
  stockDrift,
  type InjectResponse,
  type ShopTestStack,
  type LogCapture,
} from './testing/stack.js';
export {
  spawnShop,
  HttpClient,
  SHOP_MAIN,
  type ShopProcess,
  type HttpAnswer,
} from './testing/shop-process.js';
