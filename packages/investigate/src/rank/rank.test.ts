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
  type Report,
  type SyntheticChange,
} from '../index.js';

// Rollouts on a quiet synthetic bundle, with the anomalies scripted by an analyzer of the test's
// own, so that each case says exactly what moved, when, and for how long.
const start = Date.parse('2026-03-02T09:00:00Z');
const at = (min: number): number => start + min * 60_000;

let tmp: string;
let n = 0;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'hs-rank-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A burst that ended: an episode from `fromMin` to `toMin`. */
function burst(id: string, component: string, fromMin: number, toMin: number, strength: number): Finding {
  return {
    id: `scripted:${id}`,
    analyzer: 'scripted',
    kind: 'anomaly',
    component,
    signal: id,
    title: `${id} increased`,
    time: at(fromMin),
    end: at(toMin),
    strength,
    direction: 'up',
    userFacing: true,
    evidence: [],
  };
}

/** A level that moved at `fromMin` from `before` to `after` and stayed there to the end. */
function level(id: string, component: string, fromMin: number, before: number, after: number): Finding {
  const points: Array<[number, number]> = [];
  for (let m = 0; m <= 40; m += 0.25) points.push([at(m), m < fromMin ? before : after]);
  return {
    id: `scripted:${id}`,
    analyzer: 'scripted',
    kind: 'anomaly',
    component,
    signal: id,
    title: `${id} up ${before} -> ${after}`,
    time: at(fromMin),
    strength: 0.6,
    direction: 'up',
    evidence: [{ type: 'series', name: id, labels: {}, unit: 'value', points, before, after }],
  };
}

async function investigateScripted(
  changes: SyntheticChange[],
  findings: Finding[],
  incidentAt?: number,
): Promise<Report> {
  const dir = path.join(tmp, `b${n++}`);
  await writeSyntheticBundle(dir, quietScenario({ changes }));
  const scripted: Analyzer = { name: 'scripted', needs: [], analyze: () => Promise.resolve(findings) };
  const changesOnly = analyzers.filter((a) => a.name === 'config-changes');
  return investigate(dir, {
    analyzers: [...changesOnly, scripted],
    now: new Date(at(60)),
    ...(incidentAt !== undefined ? { incidentAt } : {}),
  });
}

/** The component a report names first, when its verdict is a component. */
const component = (r: Report): string | undefined => {
  const c = r.hypotheses[0]?.cause;
  return c?.type === 'component' ? c.component : undefined;
};

const revisionOf = (r: Report, i: number): number | undefined => {
  const c = r.hypotheses[i]?.cause;
  return c?.type === 'change' ? c.revision : undefined;
};

describe('rank', () => {
  it('ranks the change whose effects last above an earlier one whose rollout burst ended', async () => {
    const r = await investigateScripted(
      [
        { atMin: 10, revision: 5, diff: [{ path: 'nginx.proxyConnectTimeout', from: '5s', to: '6s' }] },
        { atMin: 20, revision: 6, diff: [{ path: 'redis.replica.replicaCount', from: 2, to: 6 }] },
      ],
      [
        burst('nginx_5xx', 'nginx', 10.2, 12, 0.9),
        burst('shop_errors', 'shop', 10.2, 12, 0.8),
        level('redis_connected_replicas', 'redis', 20.5, 2, 6),
        level('redis_repl_output', 'redis', 20.5, 70, 220),
      ],
    );
    expect(revisionOf(r, 0)).toBe(6);
    expect(revisionOf(r, 1)).toBe(5);
  });

  it('credits a burst to the rollout it followed most closely, not to an earlier change', async () => {
    const r = await investigateScripted(
      [
        { atMin: 10, revision: 5, diff: [{ path: 'shop.session.ttlSeconds', from: 1800, to: 3600 }] },
        { atMin: 10.5, revision: 6, diff: [{ path: 'shop.postgres.poolMax', from: 10, to: 20 }] },
      ],
      [burst('shop_errors', 'shop', 10.75, 11.5, 0.8)],
    );
    const explains = (rev: number): string[] =>
      r.hypotheses.find((h) => h.cause.type === 'change' && h.cause.revision === rev)?.explains ?? [];
    expect(explains(6)).toContain('scripted:shop_errors');
    expect(explains(5)).not.toContain('scripted:shop_errors');
  });

  it('with no change and no incident time, starts the incident at the first large episode, not a blip', async () => {
    // A lone small blip in alpha, then beta's storm 18 minutes later.
    const storm = await investigateScripted(
      [],
      [
        burst('alpha_errors', 'alpha', 2, 2.5, 0.3),
        burst('beta_errors', 'beta', 20, 30, 0.9),
        burst('beta_timeouts', 'beta', 20.5, 30, 0.9),
        burst('gamma_errors', 'gamma', 21, 30, 0.6),
      ],
    );
    expect(component(storm)).toBe('beta');
    expect(storm.summary).toContain('(the first large episode, from its first strong user-facing anomaly)');
    // Two episodes of about the same size: the first, and the summary names both.
    const twice = await investigateScripted(
      [],
      [
        burst('alpha_errors', 'alpha', 5, 6, 0.9),
        burst('alpha_timeouts', 'alpha', 5.5, 6, 0.8),
        burst('beta_errors', 'beta', 25, 26, 0.9),
        burst('beta_timeouts', 'beta', 25.5, 26, 0.9),
      ],
    );
    expect(component(twice)).toBe('alpha');
    expect(twice.summary).toContain(
      '(the first of 2 large episodes (09:05 and 09:25 UTC), from its first strong user-facing anomaly;' +
        ' give an incident time (--incident-at) to rank another)',
    );
  });

  it('with no change, anchors the components on the incident time when it is given', async () => {
    // alpha's errors rose long before and stayed; beta's rose when the incident was reported.
    const findings = [
      { ...level('alpha_errors', 'alpha', 5, 0, 10), userFacing: true },
      { ...level('beta_errors', 'beta', 25, 0, 10), userFacing: true, strength: 0.9 },
    ];
    expect(component(await investigateScripted([], findings))).toBe('alpha');
    expect(component(await investigateScripted([], findings, at(25.5)))).toBe('beta');
  });

  it('ranks 150,000 findings without overflowing the stack', async () => {
    // Math.min(...xs) puts every element on the stack: past about 120,000 it throws.
    const many: Finding[] = [];
    for (let i = 0; i < 150_000; i++)
      many.push({ ...burst(`s${i}`, `c${i % 500}`, 1 + (i % 1000) / 100, 12, 0.5), userFacing: false });
    const r = await investigateScripted(
      [{ atMin: 30, revision: 5, diff: [{ path: 'shop.replicaCount', from: 2, to: 3 }] }],
      many,
      at(5),
    );
    expect(r.verdict).toBe('component');
    expect(r.findings.length).toBeGreaterThanOrEqual(150_000);
  });

  it('links an OOM kill 20 s after a lowered memory limit to that change, not to a nearer one that cannot cause it', async () => {
    const oom: Finding = {
      id: 'scripted:oom',
      analyzer: 'scripted',
      kind: 'health',
      component: 'worker',
      signal: 'k8s:pod/worker-7d4f8b7c9d-aaaaa/worker:restarts',
      title: 'container worker-7d4f8b7c9d-aaaaa/worker restarted 3 times (last: OOMKilled, exit 137)',
      time: at(10 + 20 / 60),
      strength: 0.9,
      evidence: [],
    };
    const ranked = (from: string, to: string) =>
      investigateScripted(
        [
          { atMin: 10, revision: 5, diff: [{ path: 'worker.resources.limits.memory', from, to }] },
          { atMin: 10.25, revision: 6, diff: [{ path: 'worker.batchSize', from: 10, to: 20 }] },
        ],
        [oom],
      );
    const lowered = await ranked('256Mi', '64Mi');
    expect(revisionOf(lowered, 0)).toBe(5);
    expect(lowered.hypotheses[0]?.reasons).toContain(
      'its kind of setting can cause what followed: memory (1)',
    );
    // Raised, a memory limit cannot starve the container: the nearer change keeps it.
    expect(revisionOf(await ranked('64Mi', '256Mi'), 0)).toBe(6);
  });
});
