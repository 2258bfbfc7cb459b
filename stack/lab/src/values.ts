/** Helm values: a tree of plain JSON values. */
export type Values = Record<string, unknown>;

function isObject(v: unknown): v is Values {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Types a `--set` value as Helm's strvals does (pkg/strvals/parser.go, typedVal): true/false,
 * null, and base-10 integers without a leading zero become typed; everything else, floats
 * included, stays a string.
 */
export function typedSetValue(raw: string): unknown {
  if (raw.toLowerCase() === 'true') return true;
  if (raw.toLowerCase() === 'false') return false;
  if (raw.toLowerCase() === 'null') return null;
  if (/^-?[1-9]\d*$|^0$/.test(raw)) {
    const n = Number(raw);
    if (Number.isSafeInteger(n)) return n;
  }
  return raw;
}

function splitUnescaped(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
    } else if (c === sep) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function setPath(target: Values, path: string, value: unknown): void {
  // `a.b[1].c`: dots separate keys (an escaped `\.` stays in the key), [n] indexes lists.
  const keys: (string | number)[] = [];
  for (const part of path.replace(/\\\./g, '\uE000').split('.')) {
    const m = /^([^[]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) throw new Error(`invalid --set key: ${path}`);
    if (m[1]) keys.push(m[1].replace(/\uE000/g, '.'));
    for (const idx of m[2]!.matchAll(/\[(\d+)\]/g)) keys.push(Number(idx[1]));
  }
  if (keys.length === 0) throw new Error(`invalid --set key: ${path}`);
  let node: Values | unknown[] = target;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const last = i === keys.length - 1;
    const nextIsIndex = typeof keys[i + 1] === 'number';
    const rec = node as Record<string | number, unknown>;
    if (last) {
      rec[k] = value;
      break;
    }
    let child = rec[k];
    if (nextIsIndex ? !Array.isArray(child) : !isObject(child)) {
      child = nextIsIndex ? [] : {};
      rec[k] = child;
    }
    node = child as Values | unknown[];
  }
}

/**
 * Parses `--set` arguments (`a.b=1,c=x`) into a values tree, as `helm --set` does. Throws on a
 * malformed pair.
 */
export function parseSetValues(sets: readonly string[]): Values {
  const out: Values = {};
  for (const set of sets) {
    for (const pair of splitUnescaped(set.replace(/\\,/g, '\uE001'), ',')) {
      const restored = pair.replace(/\uE001/g, ',');
      const eq = restored.indexOf('=');
      if (eq <= 0) throw new Error(`--set expects key=value, got: ${restored}`);
      setPath(out, restored.slice(0, eq), typedSetValue(restored.slice(eq + 1)));
    }
  }
  return out;
}

/** Merges `over` onto `base` as Helm coalesces user values: maps merge, anything else replaces; null deletes. */
export function mergeValues(base: Values, over: Values): Values {
  const out: Values = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k];
    else if (isObject(v) && isObject(out[k])) out[k] = mergeValues(out[k], v);
    else out[k] = v;
  }
  return out;
}

/** Reads a dotted path (`redis.replica.replicaCount`) from a values tree. */
export function getPath(values: Values, path: string): unknown {
  let node: unknown = values;
  for (const k of path.split('.')) {
    if (!isObject(node)) return undefined;
    node = node[k];
  }
  return node;
}
