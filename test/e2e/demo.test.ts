// `hindsight demo --quick` through the built CLI, with real processes: the story's lab loses
// sessions after the replica upgrade, the investigation names redis.replica.replicaCount, the
// suggested fix is applied and the lab is shut down, leaving no process behind.
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hindsight, type CliResult } from './helpers.js';

/** Pids of processes whose command line names `text`. */
async function processesNaming(text: string): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).replace(/\0/g, ' ');
      if (cmdline.includes(text)) out.push(Number(entry));
    } catch {
      // gone since readdir
    }
  }
  return out;
}

const figure = (stderr: string, label: string): number | undefined => {
  const m = new RegExp(`${label}: (\\d+)`).exec(stderr);
  return m ? Number(m[1]) : undefined;
};

describe('hindsight demo --quick (CLI, real processes)', () => {
  let dir: string;
  let r: CliResult;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hindsight-e2e-demo-'));
    r = await hindsight(['demo', '--quick', '--dir', dir], {}, 330_000);
  }, 340_000);
  afterAll(async () => {
    // The demo brings its lab down itself; this is only for a run that failed half-way.
    await hindsight(['lab', 'down', '--purge', '--dir', join(dir, 'lab')]);
    await rm(dir, { recursive: true, force: true });
  });

  it('exits 0 and names redis.replica.replicaCount as the likely cause', () => {
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    const likely = r.stdout.split('\n').find((l) => l.startsWith('Likely cause:'));
    expect(likely).toMatch(/redis\.replica\.replicaCount: 2 -> 6/);
    expect(r.stdout).toMatch(/^1\. .*redis\.replica\.replicaCount: 2 -> 6/m);
  });

  it('writes the HTML report and says where it is', async () => {
    const html = join(dir, 'report.html');
    expect(r.stdout).toContain(`HTML report: ${html}`);
    expect(existsSync(html)).toBe(true);
    expect(await readFile(html, 'utf8')).toContain('redis.replica.replicaCount');
  });

  it('names the Redis nodes it sampled, and their findings, by pod, not by address', async () => {
    const text = await readFile(join(dir, 'bundle', 'series', 'redis.jsonl'), 'utf8');
    const series = text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { labels: Record<string, string> });
    expect(series.length).toBeGreaterThan(0);
    const pods = new Set(series.map((s) => s.labels['pod']));
    // The master, and the sixth replica the story's upgrade adds.
    expect(pods).toContain('shop-redis-master-0');
    expect(pods).toContain('shop-redis-replica-5');
    expect([...pods].filter((p) => !/^shop-redis-(master|replica)-\d+$/.test(p ?? ''))).toEqual([]);
    // The report's metric titles name those pods too.
    const places = [...r.stdout.matchAll(/\bredis_\w+ on (\S+)/g)].map((m) => m[1]);
    expect(places.filter((p) => !p?.startsWith('shop-redis-'))).toEqual([]);
  });

  // The bundle holds what the lab's Prometheus scraped (the exporters beside Redis, PostgreSQL and
  // nginx, the shops' /metrics) beside what collect sampled. Without the samples it is the bundle
  // `collect --prometheus` writes with no --redis or --postgres: the story must still rank first.
  it('ranks the replica upgrade first from what Prometheus scraped alone, without Redis samples', async () => {
    const only = join(dir, 'bundle-prometheus-only');
    await cp(join(dir, 'bundle'), only, { recursive: true });
    await rm(join(only, 'series', 'redis.jsonl'));
    await rm(join(only, 'series', 'postgres.jsonl'), { force: true });
    const manifestPath = join(only, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as { sources: Array<{ name: string }> };
    expect(manifest.sources.map((s) => s.name)).toContain('prometheus');
    manifest.sources = manifest.sources.filter((s) => s.name !== 'redis' && s.name !== 'postgres');
    await writeFile(manifestPath, JSON.stringify(manifest, null, 2));
    const scraped = (await readFile(join(only, 'series', 'prometheus.jsonl'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { name: string; labels: Record<string, string> });
    // The exporters' series, under the names the redis source gives them, by pod.
    const replicas = scraped.filter((s) => s.name === 'redis_connected_slaves').map((s) => s.labels['pod']);
    expect(replicas).toContain('shop-redis-master-0');
    // The sixth replica the upgrade added, found by the lab's discovery as it started. (Which names
    // are read depends on the series limit: past it, those with most series are left out.)
    expect(
      scraped.some((s) => s.name.startsWith('redis_') && s.labels['pod'] === 'shop-redis-replica-5'),
    ).toBe(true);
    for (const name of ['pg_up', 'nginx_up', 'http_requests_total'])
      expect(scraped.some((s) => s.name === name)).toBe(true);
    const inv = await hindsight(['investigate', only, '--json'], {}, 120_000);
    expect(inv.code, inv.stderr.slice(-2000)).toBe(0);
    const report = JSON.parse(inv.stdout) as {
      hypotheses: Array<{ cause: { type: string; diff?: Array<{ path: string }> } }>;
      findings: Array<{ analyzer: string; title: string }>;
    };
    expect(report.hypotheses[0]?.cause.diff?.map((d) => d.path)).toContain('redis.replica.replicaCount');
    expect(report.findings.some((f) => f.analyzer === 'redis')).toBe(true);
  });

  it('shows progress on stderr: phases, elapsed time and sessions lost so far', () => {
    for (const phase of ['up', 'traffic', 'upgrade', 'collect', 'investigate', 'fix', 'down'])
      expect(r.stderr).toMatch(new RegExp(`\\[\\s*\\d+ s\\] ${phase} `));
    expect(r.stderr).toMatch(/sessions lost so far \d+/);
  });

  // Measured: the ground truth of the incident's traffic (from the first change to the collection)
  // and of 8 s of traffic after the fix. The story's team runs with the read-your-writes guard
  // off, so a replica lagging behind a fresh write can still lose a session after the fix (seen:
  // 0, 1 and 3 in three runs on 2 loaded cores, against 73 and 76 during the incident).
  it('loses sessions before the fix, and at most a tenth as many after it', () => {
    const before = figure(r.stderr, 'sessions lost before the fix');
    const after = figure(r.stderr, 'sessions lost after the fix');
    console.log(`demo: sessions lost before the fix ${before}, after ${after}`);
    expect(before).toBeGreaterThan(0);
    expect(r.stderr).toMatch(
      /applied: upgrade --set redis\.replica\.readinessRequiresSync=true --set redis\.replica\.replicaCount=2/,
    );
    expect(after).toBeDefined();
    expect((after ?? Infinity) * 10).toBeLessThanOrEqual(before ?? 0);
  });

  it('leaves no process behind and removes the lab', async () => {
    expect(await processesNaming(dir)).toEqual([]);
    expect(existsSync(join(dir, 'lab'))).toBe(false);
  });
});
