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
 * Decodes the `release` field of a Helm record. Accepts the field as stored (base64 of gzip of
 * JSON) and, for Secrets read raw from the API, base64 of that; gzip is optional, as in Helm.
 * A broken record is a HINDSIGHT_RELEASE_RECORD error naming it.
 */
export function decodeRelease(data: string, where: string): HelmRelease {
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
    json = isGzip ? gunzipSync(bytes).toString('utf8') : bytes.toString('utf8');
  } catch (err) {
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
  return r as HelmRelease;
}
