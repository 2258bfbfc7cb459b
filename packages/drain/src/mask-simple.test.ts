import { describe, expect, it } from 'vitest';
import { maskToken } from './mask.js';
import { maskSimple } from './mask-simple.js';
import { DEFAULT_OPTIONS } from './options.js';
import { Tokenizer } from './tokenizer.js';

/** Tokens from a fixed-seed generator over the characters the maskers treat apart. */
function tokens(count: number): string[] {
  const chars = 'ab1-.:=_/x9Z0f@*,()<>';
  let x = 18;
  const next = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let t = '';
    const n = 1 + (next() % 16);
    for (let k = 0; k < n; k++) t += chars[next() % chars.length];
    out.push(t);
  }
  return out;
}

describe('the one-pass masker and the shape hash', () => {
  it('mask a token as the general masker does, wherever they mask it', () => {
    for (const t of tokens(8_000)) {
      const s = maskSimple(`x ${t} y`, 2, 2 + t.length);
      if (s !== undefined) expect(s).toBe(maskToken(t));
    }
  });

  it('give two lines the same shape hash exactly when their masked tokens are the same', () => {
    const tk = new Tokenizer(DEFAULT_OPTIONS);
    const byShape = new Map<string, string>();
    const byHash = new Map<string, string>();
    const ts = tokens(6_000);
    for (let i = 0; i + 3 < ts.length; i += 3) {
      const line = `open ${ts[i]} ${ts[i + 1]}  from ${ts[i + 2]}`;
      const shape = tk.split(line).join(' ');
      if (!tk.shapeHash(line)) continue;
      const hash = `${tk.lastHash} ${tk.lastCheck} ${tk.lastCount}`;
      expect(byShape.get(shape) ?? hash).toBe(hash);
      expect(byHash.get(hash) ?? shape).toBe(shape);
      byShape.set(shape, hash);
      byHash.set(hash, shape);
    }
    expect(byShape.size).toBeGreaterThan(1500);
  });
});
