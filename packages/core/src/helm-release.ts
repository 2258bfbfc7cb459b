import { gunzipSync, gzipSync } from 'node:zlib';
import { HindsightError, errorMessage } from './errors.js';

/**
 * A Helm 3 release as Helm stores it (pkg/release in helm/helm): the fields hindsight reads.
 * Helm writes JSON with these snake_case names; unknown fields are kept as they are.
 */
export interface HelmRelease {
  name: string;
  namespace: string;
  version: number;
  info: {
    first_deployed?: string;
    last_deployed?: string;
    deleted?: string;
    description?: string;
    status: string;
    notes?: string;
  };
  chart: {
    metadata: {
      name: string;
      version: string;
      appVersion?: string;
      apiVersion?: string;
      description?: string;
    };
    values?: Record<string, unknown>;
    [k: string]: unknown;
  };
  /** The values the user supplied (`-f`, `--set`), not the chart's defaults. */
  config?: Record<string, unknown>;
  manifest: string;
  [k: string]: unknown;
}

/** The name of the Secret (or ConfigMap) Helm 3 stores a revision in. */
export function releaseRecordName(name: string, version: number): string {
  return `sh.helm.release.v1.${name}.v${version}`;
}

/** The labels Helm 3 puts on a release record. */
export function releaseRecordLabels(
  release: Pick<HelmRelease, 'name' | 'version' | 'info'>,
): Record<string, string> {
  return { name: release.name, owner: 'helm', status: release.info.status, version: String(release.version) };
}

/**
 * Encodes a release as Helm 3 does in a record's `release` field: JSON, gzip, base64. (In a Secret
 * the API shows that string base64-encoded once more, as for any Secret data.)
 */
export function encodeRelease(release: HelmRelease): string {
  return gzipSync(Buffer.from(JSON.stringify(release))).toString('base64');
}

const GZIP_MAGIC = [0x1f, 0x8b, 0x08];

/**
 * The most a release record may decompress to: 64 MiB. Helm itself caps a record at 1 MiB (the size
 * of a Secret), and rendered manifests of large charts decompress to a few MiB, so this is generous;
 * past it the record is refused before it is decompressed any further, as a 4 MB record made of
 * zeros would otherwise take gigabytes (anyone who can create a Secret labelled owner=helm can plant one).
 */
export const MAX_RELEASE_BYTES = 64 * 1024 * 1024;

/**
 * Decodes the `release` field of a Helm record. Accepts the field as stored (base64 of gzip of
 * JSON) and, for Secrets read raw from the API, base64 of that; gzip is optional, as in Helm.
 * A broken record, or one that decompresses past `maxBytes` (default {@link MAX_RELEASE_BYTES}),
 * is a HINDSIGHT_RELEASE_RECORD error naming it (its record name carries the release and revision).
 */
export function decodeRelease(data: string, where: string, maxBytes = MAX_RELEASE_BYTES): HelmRelease {
  if (data.length > maxBytes * 2) throw tooLarge(where, maxBytes);
  let bytes: Buffer;
  try {
    bytes = Buffer.from(data, 'base64');
    // A Secret's data read from the API is base64 once more: it then decodes to base64 text, not gzip or JSON.
    const head = bytes.subarray(0, 3);
    const isGzip = GZIP_MAGIC.every((b, i) => head[i] === b);
    if (!isGzip && bytes[0] !== 0x7b /* { */) bytes = Buffer.from(bytes.toString('latin1'), 'base64');
  } catch (err) {
    throw new HindsightError(
      'HINDSIGHT_RELEASE_RECORD',
      `release record is not base64: ${errorMessage(err)}`,
      where,
    );
  }
  let json: string;
  try {
    const isGzip = GZIP_MAGIC.every((b, i) => bytes[i] === b);
    // maxOutputLength stops zlib as soon as the output passes the cap, so a bomb costs at most that.
    json = isGzip
      ? gunzipSync(bytes, { maxOutputLength: maxBytes }).toString('utf8')
      : bytes.toString('utf8');
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(where, maxBytes);
    throw new HindsightError(
      'HINDSIGHT_RELEASE_RECORD',
      `release record is not valid gzip: ${errorMessage(err)}`,
      where,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw new HindsightError(
      'HINDSIGHT_RELEASE_RECORD',
      `release record is not valid JSON: ${errorMessage(err)}`,
      where,
    );
  }
  const r = parsed as Partial<HelmRelease> | null;
  if (!r || typeof r.name !== 'string' || typeof r.version !== 'number' || typeof r.manifest !== 'string') {
    throw new HindsightError(
      'HINDSIGHT_RELEASE_RECORD',
      'release record lacks name, version or manifest',
      where,
    );
  }
  // Readers go on to read info.status and chart.metadata: a record without them is refused here.
  if (!isObject(r.info) || !isObject(r.chart) || !isObject(r.chart.metadata)) {
    throw new HindsightError(
      'HINDSIGHT_RELEASE_RECORD',
      'release record lacks info or chart.metadata',
      where,
    );
  }
  return r as HelmRelease;
}

function tooLarge(where: string, maxBytes: number): HindsightError {
  return new HindsightError(
    'HINDSIGHT_RELEASE_RECORD',
    `release record decompresses to more than ${Math.round(maxBytes / 1024 / 1024)} MiB (the cap of a record); refused, is it genuine?`,
    where,
  );
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
