import type { DiffEntry } from './bundle/schema.js';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Flattens nested values to dotted paths (`redis.replica.replicaCount`); arrays are leaves. */
export function flattenValues(
  value: unknown,
  prefix = '',
  out: Map<string, unknown> = new Map(),
): Map<string, unknown> {
  if (isPlainObject(value)) {
    const keys = Object.keys(value);
    if (keys.length === 0 && prefix) out.set(prefix, {});
    for (const k of keys) flattenValues(value[k], prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out.set(prefix, value);
  }
  return out;
}

/**
 * The structured diff between two value trees, by dotted path, sorted by path: what a values change
 * did, as `redis.replica.replicaCount: 2 -> 6`. A path present on one side only has no `from` or `to`.
 */
export function diffValues(before: unknown, after: unknown): DiffEntry[] {
  const a = flattenValues(before ?? {});
  const b = flattenValues(after ?? {});
  const paths = new Set([...a.keys(), ...b.keys()]);
  const out: DiffEntry[] = [];
  for (const p of [...paths].sort()) {
    const x = a.get(p);
    const y = b.get(p);
    if (JSON.stringify(x) === JSON.stringify(y)) continue;
    out.push({ path: p, ...(a.has(p) ? { from: x } : {}), ...(b.has(p) ? { to: y } : {}) });
  }
  return out;
}
