import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';

/** What `lab up` decides once and every later command reads (lab.json in the state folder). */
export interface LabConfig {
  release: string;
  namespace: string;
  chartDir: string;
  /** Multiplies probe periods, back-offs and grace periods: 1 runs the chart's timings as rendered. */
  timeScale: number;
  /**
   * Secrets the chart would generate on each `helm template` (no cluster for `lookup`): the lab
   * makes them once and supplies them as values, so that revisions keep cookies and the database.
   */
  secrets: { sessionSecret: string; postgresPassword: string };
  /**
   * The loopback port of the lab's trace receiver (OTLP/HTTP in, Tempo's query API out), chosen at
   * the first `up` with tracing and kept, since the endpoint is a value of every revision
   * (`shop.otel.endpoint`). Absent: the lab does not trace the shop.
   */
  tracesPort?: number;
  /**
   * Runs the chart's exporter sidecars and a Prometheus that scrapes them and the shops, chosen at
   * the first `up` with monitoring and kept. Absent: neither runs (the sidecars are left out of
   * their pods, said in `lab status`), which spares a lab that nobody scrapes 5 to 9 processes.
   */
  monitoring?: boolean;
  createdAt: string;
}

/** Reads lab.json, or undefined when the folder holds no lab. */
export async function readLabConfig(file: string): Promise<LabConfig | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as LabConfig;
  } catch {
    return undefined;
  }
}

export async function writeLabConfig(file: string, config: LabConfig): Promise<void> {
  await writeFile(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}

/** A new lab's settings, with fresh secrets. */
export function newLabConfig(
  p: Pick<LabConfig, 'release' | 'namespace' | 'chartDir' | 'timeScale'>,
): LabConfig {
  return {
    ...p,
    secrets: {
      sessionSecret: randomBytes(24).toString('hex'),
      postgresPassword: randomBytes(12).toString('hex'),
    },
    createdAt: new Date().toISOString(),
  };
}
