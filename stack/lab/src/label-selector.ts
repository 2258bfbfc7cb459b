/** One requirement of a Kubernetes label selector. */
type Requirement =
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | 'notexists'; key: string };

/**
 * Parses a label selector in the API's string form (`a=b,c!=d,e in (x,y),f,!g`). Throws on one
 * it cannot read, so that a wrong selector is an error rather than "matches everything".
 */
export function parseLabelSelector(selector: string): Requirement[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of selector) {
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  const out: Requirement[] = [];
  for (const raw of parts.map((p) => p.trim()).filter((p) => p !== '')) {
    let m: RegExpExecArray | null;
    if ((m = /^([^\s!=]+)\s*(notin|in)\s*\(([^)]*)\)$/.exec(raw))) {
      out.push({ op: m[2] as 'in' | 'notin', key: m[1]!, values: m[3]!.split(',').map((v) => v.trim()) });
    } else if ((m = /^([^\s!=]+)\s*!=\s*(\S*)$/.exec(raw))) {
      out.push({ op: 'neq', key: m[1]!, value: m[2]! });
    } else if ((m = /^([^\s!=]+)\s*==?\s*(\S*)$/.exec(raw))) {
      out.push({ op: 'eq', key: m[1]!, value: m[2]! });
    } else if ((m = /^!\s*([^\s!=]+)$/.exec(raw))) {
      out.push({ op: 'notexists', key: m[1]! });
    } else if ((m = /^([^\s!=()]+)$/.exec(raw))) {
      out.push({ op: 'exists', key: m[1]! });
    } else throw new Error(`unable to parse label selector requirement: ${raw}`);
  }
  return out;
}

/** Whether `labels` satisfy every requirement. */
export function matchesSelector(
  labels: Record<string, string> | undefined,
  reqs: readonly Requirement[],
): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case 'eq':
        return has && l[r.key] === r.value;
      case 'neq':
        return !has || l[r.key] !== r.value;
      case 'in':
        return has && r.values.includes(l[r.key]!);
      case 'notin':
        return !has || !r.values.includes(l[r.key]!);
      case 'exists':
        return has;
      case 'notexists':
        return !has;
    }
  });
}

/** Whether `obj` matches a field selector (`involvedObject.name=x,type!=Normal`). */
export function matchesFieldSelector(obj: unknown, selector: string): boolean {
  return selector
    .split(',')
    .filter((p) => p.trim() !== '')
    .every((part) => {
      const m = /^([^!=]+)(!=|==|=)(.*)$/.exec(part.trim());
      if (!m) return false;
      let v: unknown = obj;
      for (const k of m[1]!.split('.')) v = (v as Record<string, unknown> | undefined)?.[k];
      const s = v === undefined || v === null ? '' : String(v);
      return m[2] === '!=' ? s !== m[3] : s === m[3];
    });
}
