// The README's SDK program is client/examples/oauth-pull.ts: tsc compiles that file and
// test/e2e/client-auth-stores.test.ts runs it, so the README copy must not drift from it.
import { promises as fs } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = (relative: string) => fileURLToPath(new URL(`../../../${relative}`, import.meta.url));

it('shows client/examples/oauth-pull.ts verbatim in the SDK section', async () => {
  const readme = await fs.readFile(root('README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Using the SDK'));
  const block = /```ts\n([\s\S]*?)```\n/.exec(section)?.[1];
  expect(block).toBe(await fs.readFile(root('client/examples/oauth-pull.ts'), 'utf8'));
});
