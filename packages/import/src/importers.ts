import { HindsightError } from '@hindsight/core';
import type { Importer } from './importer.js';
import { rcaDatasetImporter } from './rca-dataset-importer.js';
import { supportBundleImporter } from './support-bundle/importer.js';
import { otlpImporter } from './otlp/importer.js';

/**
 * Every importer, in the order `hindsight import --help` lists them. Add an importer here and
 * nowhere else: the CLI derives its subcommand, argument, flags and help from the entry.
 */
export const importers: readonly Importer[] = [supportBundleImporter, rcaDatasetImporter, otlpImporter];

/** The importer called `name`; an unknown name is a usage error listing the valid ones. */
export function importerNamed(name: string): Importer {
  const found = importers.find((i) => i.name === name);
  if (!found) {
    throw new HindsightError(
      'HINDSIGHT_USAGE',
      `unknown importer ${JSON.stringify(name)}; valid: ${importers.map((i) => i.name).join(', ')}`,
    );
  }
  return found;
}
