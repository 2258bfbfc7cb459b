import { hostname } from 'node:os';
import { z } from 'zod';

/** The shop's validated configuration (see README.md for the environment variables). */
export interface ShopConfig {
  port: number;
  host: string;
  podName: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  redis: {
    masterUrl: string;
    replicaUrls: string[];
    password: string;
    commandTimeoutMs: number;
    /** Connections per replica URL; reads are spread over them per request. */
    replicaPoolSize: number;
    /** A replica connection older than this is replaced by a new one (0 = never), as pools that rebalance do. */
    replicaMaxConnAgeSeconds: number;
  };
  session: {
    readFrom: 'master' | 'replicas';
    readYourWrites: boolean;
    ttlSeconds: number;
    rolling: boolean;
    secret: string;
  };
  postgres: {
    host: string | undefined;
    port: number | undefined;
    user: string | undefined;
    password: string | undefined;
    database: string | undefined;
    poolMax: number;
    connectTimeoutMs: number;
    statementTimeoutMs: number;
    idleInTransactionTimeoutMs: number;
    /**
     * How long PostgreSQL checks may fail without a break before /readyz answers 503 (0 = at the first
     * failure). Every pod shares the database: an unready verdict on a short outage empties the
     * Service at once, and the proxy answers 502 where the shop would answer its JSON 503.
     */
    readinessGraceMs: number;
  };
  /**
   * After SIGTERM, how long the shop keeps serving (unready, every answer `Connection: close`) before
   * it closes: longer than the proxy's idle keep-alive timeout, so the proxy closes its idle
   * connections itself and never sends a request on one the shop is closing.
   */
  shutdownDrainMs: number;
  checkout: {
    stuckAfterSeconds: number;
    sweepIntervalSeconds: number;
    paymentLatencyMs: number;
  };
}

/** Why a configuration was refused: one entry per bad variable. */
export interface ConfigIssue {
  variable: string;
  message: string;
}

/** The result of {@link loadConfig}: a value, never a throw. */
export type ConfigResult =
  | { ok: true; config: ShopConfig }
  | { ok: false; code: 'SHOP_CONFIG_INVALID'; issues: ConfigIssue[]; message: string };

const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);
const bool = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');
const redisUrl = z
  .string()
  .regex(/^rediss?:\/\/[^\s/]+(:\d+)?\/?\d*$/, { message: 'expected redis://host:port' });
const emptyAsUndefined = (v: unknown) => (v === '' ? undefined : v);

const envSchema = z
  .object({
    PORT: int(8080).pipe(z.number().max(65535)),
    HOST: z.string().min(1).default('0.0.0.0'),
    POD_NAME: z.string().min(1).optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    REDIS_MASTER_URL: redisUrl,
    REDIS_REPLICA_URLS: z
      .string()
      .default('')
      .transform((s) =>
        s
          .split(',')
          .map((u) => u.trim())
          .filter((u) => u !== ''),
      )
      .pipe(z.array(redisUrl)),
    REDIS_PASSWORD: z.string().default(''),
    REDIS_COMMAND_TIMEOUT_MS: int(500, 1),
    REDIS_REPLICA_POOL_SIZE: int(4, 1).pipe(z.number().max(64)),
    REDIS_REPLICA_MAX_CONN_AGE_SECONDS: int(60),
    SESSION_READ_FROM: z.enum(['master', 'replicas']).default('master'),
    SESSION_READ_YOUR_WRITES: bool(true),
    SESSION_TTL_SECONDS: int(1800, 1),
    SESSION_ROLLING: bool(false),
    SESSION_SECRET: z.string().min(16, { message: 'must be at least 16 characters' }),
    PGHOST: z.preprocess(emptyAsUndefined, z.string().optional()),
    PGPORT: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(65535).optional()),
    PGUSER: z.preprocess(emptyAsUndefined, z.string().optional()),
    PGPASSWORD: z.preprocess(emptyAsUndefined, z.string().optional()),
    PGDATABASE: z.preprocess(emptyAsUndefined, z.string().optional()),
    PG_POOL_MAX: int(10, 1),
    PG_CONNECT_TIMEOUT_MS: int(2000, 1),
    PG_STATEMENT_TIMEOUT_MS: int(5000),
    PG_IDLE_IN_TX_TIMEOUT_MS: int(10000),
    PG_READINESS_GRACE_MS: int(10000),
    CHECKOUT_STUCK_AFTER_SECONDS: int(300),
    SWEEP_INTERVAL_SECONDS: int(30, 1),
    PAYMENT_LATENCY_MS: int(50),
    SHUTDOWN_DRAIN_MS: int(3000),
  })
  .superRefine((env, ctx) => {
    if (env.SESSION_READ_FROM === 'replicas' && env.REDIS_REPLICA_URLS.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['REDIS_REPLICA_URLS'],
        message: 'must name at least one replica when SESSION_READ_FROM=replicas',
      });
    }
  });

/**
 * Reads and validates the shop's environment. A bad or missing variable gives a result naming it
 * (`REDIS_MASTER_URL: expected redis://host:port`), so a pod fails at start with the reason in its log.
 */
export function loadConfig(env: Record<string, string | undefined>): ConfigResult {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => {
      const variable = String(issue.path[0] ?? '(environment)');
      const message = issue.message.startsWith('Invalid input: expected string, received undefined')
        ? 'is required'
        : issue.message;
      return { variable, message };
    });
    return {
      ok: false,
      code: 'SHOP_CONFIG_INVALID',
      issues,
      message: `SHOP_CONFIG_INVALID: ${issues.map((i) => `${i.variable}: ${i.message}`).join('; ')}`,
    };
  }
  const e = parsed.data;
  return {
    ok: true,
    config: {
      port: e.PORT,
      host: e.HOST,
      podName: e.POD_NAME ?? hostname(),
      logLevel: e.LOG_LEVEL,
      redis: {
        masterUrl: e.REDIS_MASTER_URL,
        replicaUrls: e.REDIS_REPLICA_URLS,
        password: e.REDIS_PASSWORD,
        commandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS,
        replicaPoolSize: e.REDIS_REPLICA_POOL_SIZE,
        replicaMaxConnAgeSeconds: e.REDIS_REPLICA_MAX_CONN_AGE_SECONDS,
      },
      session: {
        readFrom: e.SESSION_READ_FROM,
        readYourWrites: e.SESSION_READ_YOUR_WRITES,
        ttlSeconds: e.SESSION_TTL_SECONDS,
        rolling: e.SESSION_ROLLING,
        secret: e.SESSION_SECRET,
      },
      postgres: {
        host: e.PGHOST,
        port: e.PGPORT,
        user: e.PGUSER,
        password: e.PGPASSWORD,
        database: e.PGDATABASE,
        poolMax: e.PG_POOL_MAX,
        connectTimeoutMs: e.PG_CONNECT_TIMEOUT_MS,
        statementTimeoutMs: e.PG_STATEMENT_TIMEOUT_MS,
        idleInTransactionTimeoutMs: e.PG_IDLE_IN_TX_TIMEOUT_MS,
        readinessGraceMs: e.PG_READINESS_GRACE_MS,
      },
      shutdownDrainMs: e.SHUTDOWN_DRAIN_MS,
      checkout: {
        stuckAfterSeconds: e.CHECKOUT_STUCK_AFTER_SECONDS,
        sweepIntervalSeconds: e.SWEEP_INTERVAL_SECONDS,
        paymentLatencyMs: e.PAYMENT_LATENCY_MS,
      },
    },
  };
}
