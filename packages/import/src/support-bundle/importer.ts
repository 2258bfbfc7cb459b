import { z } from 'zod';
import { defineImporter } from '../importer.js';
import { importSupportBundle } from './import.js';

/** `hindsight import support-bundle`: a Replicated troubleshoot support bundle. */
export const supportBundleImporter = defineImporter({
  name: 'support-bundle',
  summary: 'a troubleshoot support bundle (.tar.gz or its folder): pods, events, logs, rollouts, Helm',
  input: {
    name: 'file',
    description: 'the support bundle, .tar.gz or unpacked folder',
    noun: 'support bundle',
  },
  flags: [],
  schema: z.object({}),
  examples: ['hindsight import support-bundle support-bundle.tar.gz --out-dir sb-bundle'],
  run: (input, _options, ctx) =>
    importSupportBundle(input, ctx.output, {
      overwrite: ctx.overwrite,
      ...(ctx.redactPatterns && ctx.redactPatterns.length > 0 ? { redactPatterns: ctx.redactPatterns } : {}),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    }),
});
