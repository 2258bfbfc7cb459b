import { z } from 'zod';
import { defineImporter } from './importer.js';
import { importRcaDataset } from './rca-dataset.js';

/** `hindsight import rca-dataset`: a folder of metric, log and span CSVs (Nezha, RCAEval). */
export const rcaDatasetImporter = defineImporter({
  name: 'rca-dataset',
  summary: 'a folder of metric, log and span CSVs (Nezha, RCAEval layouts); every column kept',
  input: { name: 'dir', description: 'the dataset folder', noun: 'dataset' },
  flags: [
    { flags: '--from <time>', description: 'keep records from this time (RFC 3339)' },
    { flags: '--to <time>', description: 'keep records up to this time (RFC 3339)' },
    {
      flags: '--namespace <ns>',
      description: 'namespace given to the pods (the datasets record none)',
      default: 'default',
    },
    {
      flags: '--baseline <dir>',
      description:
        "a sub-folder of fault-free reference data, imported whole and declared the bundle's baseline (default: construct_data when present)",
    },
    { flags: '--no-baseline', description: 'import no baseline, even when the dataset has one' },
  ],
  schema: z.object({
    from: z.string().optional(),
    to: z.string().optional(),
    namespace: z.string().optional(),
    // A folder name, or false for --no-baseline; absent lets the importer choose.
    baseline: z.union([z.string(), z.literal(false)]).optional(),
  }),
  examples: [
    'hindsight import rca-dataset ../shared/data/nezha-tt-dev --out-dir tt --from 2023-01-29T09:52:00Z --to 2023-01-29T10:12:00Z',
  ],
  run: (input, options, ctx) =>
    importRcaDataset(input, ctx.output, {
      ...(ctx.redactPatterns && ctx.redactPatterns.length > 0 ? { redactPatterns: ctx.redactPatterns } : {}),
      ...(options.from ? { from: options.from } : {}),
      ...(options.to ? { to: options.to } : {}),
      ...(options.namespace ? { namespace: options.namespace } : {}),
      ...(options.baseline !== undefined ? { baseline: options.baseline } : {}),
      overwrite: ctx.overwrite,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    }),
});
