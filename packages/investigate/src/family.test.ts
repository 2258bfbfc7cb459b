import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  analyzers,
  investigate,
  quietScenario,
  writeSyntheticBundle,
  type Analyzer,
  type Finding,
  type FindingFamily,
} from './index.js';

const start = Date.parse('2026-03-02T09:00:00Z');
const at = (min: number): number => start + min * 60_000;

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'hs-family-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function anomaly(name: string, signal: string): Finding {
  return {
    id: `${name}:${signal}`,
    analyzer: name,
    kind: 'anomaly',
    component: 'shop',
    signal,
    title: `${signal} increased`,
    time: at(20.5),
    strength: 0.8,
    direction: 'up',
    evidence: [],
  };
}

function scripted(name: string, signal: string, family?: FindingFamily): Analyzer {
  return {
    name,
    ...(family ? { family } : {}),
    needs: [],
    analyze: () => Promise.resolve([anomaly(name, signal)]),
  };
}

describe('finding families', () => {
  it("ranks by the family an analyzer declares, never by the analyzer's name", async () => {
    const dir = path.join(tmp, 'b');
    await writeSyntheticBundle(
      dir,
      quietScenario({
        changes: [{ atMin: 20, revision: 6, diff: [{ path: 'shop.logLevel', from: 'info', to: 'warn' }] }],
      }),
    );
    const r = await investigate(dir, {
      analyzers: [
        ...analyzers.filter((a) => a.name === 'config-changes'),
        scripted('my-log-reader', 'template-1', 'logs'),
        // Named as a built-in analyzer, but declaring no family: its findings are metrics.
        scripted('kubernetes-health', 'shop_errors'),
      ],
      now: new Date(at(60)),
    });
    const families = Object.fromEntries(r.findings.map((f) => [f.signal, f.family]));
    expect(families).toMatchObject({ 'template-1': 'logs', shop_errors: 'metrics' });
    expect(r.findings.find((f) => f.kind === 'change')?.family).toBe('config');
    const top = r.hypotheses[0];
    expect(top?.cause.type === 'change' && top.cause.revision).toBe(6);
    expect(top?.reasons.join('\n')).toMatch(/2 anomalies follow it \(shop; logs, metrics\)/);
  });
});
