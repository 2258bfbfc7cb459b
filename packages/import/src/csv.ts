import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import type { Warning } from '@hindsight/core';
import { errorMessage } from '@hindsight/core';

/** One data row of a CSV file with its 1-based line number in the file. */
export interface CsvRow {
  fields: string[];
  line: number;
}

/** Reports a malformed place in a file being imported; the import goes on. */
export type ImportProblem = (file: string, line: number | undefined, message: string) => void;

/** Turns a problem into a Warning of stage `import` naming the file and line. */
export function importWarning(file: string, line: number | undefined, message: string): Warning {
  return {
    stage: 'import',
    name: file,
    code: 'HINDSIGHT_IMPORT',
    message,
    where: line === undefined ? file : `${file}:${line}`,
  };
}

/** Reads the header row of a CSV (the first record), or undefined when the file has none. */
export async function readCsvHeader(file: string): Promise<string[] | undefined> {
  for await (const row of csvRecords(file, () => undefined)) return row.fields;
  return undefined;
}

/**
 * Streams the records of a CSV file, header included, one at a time (memory stays flat whatever
 * the file's size). A record the parser cannot read (an unclosed quote) is reported with its line
 * and skipped.
 */
export async function* csvRecords(file: string, problem: ImportProblem): AsyncGenerator<CsvRow> {
  const parser = createReadStream(file).pipe(
    parse({
      relax_column_count: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      bom: true,
      info: true,
      on_skip: (err) => {
        problem(
          file,
          typeof err?.lines === 'number' ? err.lines : undefined,
          `unreadable CSV record: ${err ? errorMessage(err) : 'unknown error'}`,
        );
        return undefined;
      },
    }),
  );
  for await (const rec of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    yield { fields: rec.record, line: rec.info.lines };
  }
}

/**
 * Streams the data rows of a CSV after its header; a row with a different number of fields than
 * the header is reported with its file and line and skipped.
 */
export async function* csvRows(
  file: string,
  problem: ImportProblem,
): AsyncGenerator<CsvRow & { header: string[] }> {
  let header: string[] | undefined;
  for await (const row of csvRecords(file, problem)) {
    if (!header) {
      header = row.fields;
      continue;
    }
    if (row.fields.length !== header.length) {
      problem(
        file,
        row.line,
        `row has ${row.fields.length} fields, the header has ${header.length}; skipped`,
      );
      continue;
    }
    yield { ...row, header };
  }
}
