const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK_64 = 0xffffffffffffffffn;
const encoder = new TextEncoder();

/**
 * The id of a template: FNV-1a 64 over the template's UTF-8 bytes, as 16 lowercase hex digits.
 * It depends on the text alone, so the same template has the same id in every run, process and
 * machine. Computed only when a template is created or changes, never per line.
 */
export function templateId(template: string): string {
  let h = FNV_OFFSET;
  for (const b of encoder.encode(template)) {
    h ^= BigInt(b);
    h = (h * FNV_PRIME) & MASK_64;
  }
  return h.toString(16).padStart(16, '0');
}
