// The shared vectors (/work/shared/docs/vectors), copied beside the tests so the repository tests itself
// without the shared folder.
import { readFileSync } from 'node:fs';

export function loadVectors<T>(file: string): T {
  return JSON.parse(readFileSync(new URL(`./vectors/${file}`, import.meta.url), 'utf8')) as T;
}
