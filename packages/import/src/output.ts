import { readdir, stat } from 'node:fs/promises';
import { HindsightError } from '@hindsight/core';

/** Refuses an output folder that holds files, unless told to overwrite it (checked before any work). */
export async function checkOutput(out: string, overwrite: boolean): Promise<void> {
  const info = await stat(out).catch(() => undefined);
  if (!info) return;
  if (!info.isDirectory())
    throw new HindsightError('HINDSIGHT_USAGE', 'output path exists and is not a folder', out);
  if (!overwrite && (await readdir(out)).length > 0)
    throw new HindsightError(
      'HINDSIGHT_USAGE',
      'output folder is not empty; choose another path or remove it',
      out,
    );
}
