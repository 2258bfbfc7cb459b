import { z } from 'zod';
import { defineImporter } from '../importer.js';
import { importOtlp } from './import.js';

/** `hindsight import otlp`: OpenTelemetry traces in OTLP/JSON, as the collector's file exporter writes them. */
export const otlpImporter = defineImporter({
  name: 'otlp',
  summary:
    "OpenTelemetry traces in OTLP/JSON (the collector's file exporter: a request a line, .gz too): spans and their call graph",
  input: {
    name: 'path',
    description: 'an OTLP/JSON file, or a folder of *.json, *.jsonl, *.ndjson (.gz)',
    noun: 'OTLP file or folder',
  },
  flags: [
    {
      flags: '--from <time>',
      description: 'keep spans that start from this time (RFC 3339; default: the first)',
    },
    {
      flags: '--to <time>',
      description: 'keep spans that start up to this time (RFC 3339; default: the last end)',
    },
  ],
  schema: z.object({ from: z.string().optional(), to: z.string().optional() }),
  examples: ['hindsight import otlp /var/lib/otelcol/traces.jsonl --out-dir traces-bundle'],
  run: (input, options, ctx) =>
    importOtlp(input, ctx.output, {
      ...(options.from ? { from: options.from } : {}),
      ...(options.to ? { to: options.to } : {}),
      overwrite: ctx.overwrite,
      ...(ctx.redactPatterns && ctx.redactPatterns.length > 0 ? { redactPatterns: ctx.redactPatterns } : {}),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    }),
});
