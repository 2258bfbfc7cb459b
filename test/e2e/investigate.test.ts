import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hindsight, repoRoot } from './helpers.js';

const fixture = (name: string): string => path.join(repoRoot, 'test/fixtures', `${name}.tar.gz`);
let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'hs-e2e-investigate-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('hindsight investigate', () => {
  it('names the replicaCount change first when sessions go missing, with its evidence and the fix', async () => {
    const r = await hindsight(['investigate', fixture('redis-replicas-2-to-6')]);
    expect(r.code).toBe(0);
    const first = r.stdout.split('\n').find((l) => /^1\. /.test(l)) ?? '';
    expect(first).toMatch(/redis\.replica\.replicaCount: 2 -> 6/);
    expect(r.stdout).toMatch(/connected replicas up 2 -> 6/);
    expect(r.stdout).toMatch(/effect .*session missing/);
    expect(r.stdout).toMatch(/next: roll shop back to revision 5/);
    // The fix as commands, each alone on its line, with the namespace the release lives in.
    const lines = r.stdout.split('\n').map((l) => l.trim());
    expect(lines).toContain('helm rollback shop 5 -n shop');
    expect(lines).toContain('helm get values shop --revision 5 -n shop -o yaml > values-rev5.yaml');
  });

  it('prints the JSON report whose first cause holds the release, the revision and the diff paths', async () => {
    const r = await hindsight(['investigate', fixture('redis-replicas-2-to-6'), '--json', '--top', '3']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as {
      schema: string;
      version: number;
      verdict: string;
      hypotheses: Array<{
        rank: number;
        score: number;
        cause: Record<string, unknown>;
        chain: unknown[];
        nextStep: string;
        nextCommands?: string[];
      }>;
    };
    expect(report).toMatchObject({ schema: 'hindsight-report', version: 1, verdict: 'change' });
    expect(report.hypotheses).toHaveLength(3);
    expect(report.hypotheses[0]?.cause).toMatchObject({
      type: 'change',
      kind: 'helm',
      release: 'shop',
      revision: 6,
      paths: ['redis.replica.replicaCount'],
    });
    expect(report.hypotheses[0]?.nextStep).toMatch(/^roll shop back to revision 5 /);
    expect(report.hypotheses[0]?.nextCommands?.[0]).toBe('helm rollback shop 5 -n shop');
  });

  it('writes Markdown and a self-contained HTML report', async () => {
    const md = path.join(tmp, 'report.md');
    const html = path.join(tmp, 'report.html');
    const r = await hindsight([
      'investigate',
      fixture('redis-replicas-2-to-6'),
      '--markdown',
      md,
      '--html',
      html,
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/HTML report: /);
    expect(await readFile(md, 'utf8')).toMatch(/`redis\.replica\.replicaCount`/);
    const page = await readFile(html, 'utf8');
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).toMatch(/<svg/);
    expect(page).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it('says plainly that nothing points to a cause on a quiet bundle', async () => {
    const r = await hindsight(['investigate', fixture('quiet-no-change')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /No change was recorded and no signal moved in this window: nothing points to a cause\./,
    );
    expect(r.stdout).not.toMatch(/^1\. /m);
  });

  it('investigates a bundle with corrupt parts and lists the warnings', async () => {
    const r = await hindsight(['investigate', fixture('redis-replicas-2-to-6-corrupt')]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').find((l) => /^1\. /.test(l))).toMatch(/redis\.replica\.replicaCount/);
    expect(r.stdout).toMatch(/\d+ warnings:/);
    expect(r.stdout).toMatch(/changes\.jsonl:\d+/);
  });

  it('rejects a bad --top and an unknown --format with a usage error listing the formats', async () => {
    const top = await hindsight(['investigate', fixture('quiet-no-change'), '--top', 'zero']);
    expect(top.code).toBe(2);
    const fmt = await hindsight(['investigate', fixture('quiet-no-change'), '--format', 'yaml']);
    expect(fmt.code).toBe(2);
    expect(fmt.stderr).toMatch(/text, json, markdown, html/);
  });

  it('leaves out anomalies that ended before a given incident time, and says so', async () => {
    const lab = fixture('lab-redis-replicas-2-to-6');
    const all = await hindsight(['investigate', lab, '--json']);
    // Ten minutes after the window: every anomaly that recovered is an earlier episode.
    const later = await hindsight(['investigate', lab, '--json', '--incident-at', '2026-11-25T20:45:00Z']);
    expect(later.code, later.stderr).toBe(0);
    const before = JSON.parse(all.stdout) as { findings: unknown[]; incident?: unknown };
    const after = JSON.parse(later.stdout) as {
      findings: unknown[];
      incident: { at: string; earlierEpisodes: number };
      hypotheses: Array<{ cause: { revision?: number } }>;
    };
    expect(before.incident).toBeUndefined();
    expect(after.incident.at).toBe('2026-11-25T20:45:00.000Z');
    expect(after.incident.earlierEpisodes).toBeGreaterThan(0);
    expect(after.findings.length).toBeLessThan(before.findings.length);
    // The lasting effects of the replica change remain: it still ranks first.
    expect(after.hypotheses[0]?.cause.revision).toBe(3);
    const text = await hindsight(['investigate', lab, '--incident-at', '2026-11-25T20:45:00Z']);
    expect(text.stdout).toMatch(
      /incident under way at 2026-11-25 20:45:00Z: \d+ anomalies that ended before it left out/,
    );
  });

  it('names workloads alike in a bundle that recorded them as Kind/name (collected before one form)', async () => {
    // The lab fixture's pods.jsonl says `workload: "Deployment/shop-nginx"`; newer bundles say `shop-nginx`.
    const r = await hindsight(['investigate', fixture('lab-redis-replicas-2-to-6'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { findings: Array<{ id: string }> };
    const logFindings = report.findings.filter((f) => f.id.startsWith('log'));
    expect(logFindings.length).toBeGreaterThan(0);
    expect(logFindings.filter((f) => /(Deployment|StatefulSet)\//.test(f.id))).toEqual([]);
  });

  it('rejects an --incident-at that is not a time, naming the option', async () => {
    const r = await hindsight(['investigate', fixture('quiet-no-change'), '--incident-at', 'yesterday']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--incident-at is not a time: "yesterday"/);
  });

  it('fails with exit code 3 naming the bundle when it does not exist', async () => {
    const r = await hindsight(['investigate', path.join(tmp, 'nope')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/HINDSIGHT_BUNDLE_MISSING/);
  });
});
