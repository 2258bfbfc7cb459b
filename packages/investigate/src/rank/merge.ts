import type { Finding } from '../types.js';

/** Total order of findings: strongest first, then earliest, then by id. */
export function compareFindings(a: Finding, b: Finding): number {
  return b.strength - a.strength || a.time - b.time || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** One finding per signal and moment: the domain check's words, the strongest strength, the earliest onset. */
export function mergeFindings(findings: Finding[], bucketMs: number): Finding[] {
  const bySignal = new Map<string, Finding[]>();
  for (const f of [...findings].sort((a, b) => a.time - b.time || (a.id < b.id ? -1 : 1))) {
    const list = bySignal.get(f.signal) ?? [];
    const near = list.find((g) => Math.abs(g.time - f.time) <= 2 * bucketMs && f.kind !== 'change');
    if (!near) {
      list.push({ ...f });
      bySignal.set(f.signal, list);
      continue;
    }
    const domain = !f.generic && near.generic === true;
    if (domain) {
      near.id = f.id;
      near.analyzer = f.analyzer;
      if (f.family) near.family = f.family;
      else delete near.family;
      delete near.generic;
      near.title = f.title;
      near.kind = f.kind;
    }
    near.strength = Math.max(near.strength, f.strength);
    near.userFacing = (near.userFacing ?? false) || (f.userFacing ?? false);
    near.time = Math.min(near.time, f.time);
    // An episode merged with another ends with the later; without an end, one is still going on.
    if (near.end !== undefined && f.end !== undefined) near.end = Math.max(near.end, f.end);
    else delete near.end;
  }
  return [...bySignal.values()].flat().sort(compareFindings);
}
