// Test vectors for the protocol parsers (references, WWW-Authenticate, scopes, token responses), kept as JSON beside
// the tests.
import { readFileSync } from 'node:fs';

export function loadVectors<T>(file: string): T {
  return JSON.parse(readFileSync(new URL(`./vectors/${file}`, import.meta.url), 'utf8')) as T;
}
