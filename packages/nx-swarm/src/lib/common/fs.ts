/** Small file helpers shared by the executors and libraries. */
import * as fs from 'node:fs';

/** The file's text, or undefined when it can't be read (missing, a directory, no permission). */
export function readTextOrUndefined(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
