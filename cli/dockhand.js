#!/usr/bin/env node
// The CLI runs the JavaScript that `npm ci` builds into dist/ (npm's `prepare`): no TypeScript compiler at run time.
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(
    'dockhand: dist/ is missing; run `npm ci` (or `npm run build`) in the project first\n',
  );
  process.exit(1);
}
// The daemon's V8 heap settings act only on what is allocated after them, and the CLI's own modules come first:
// loaded here, ahead of them, when the command line names the daemon (other commands skip node:v8).
if (process.argv.slice(2).includes('daemon')) {
  await import(new URL('../dist/cli/daemon-heap.js', import.meta.url).href);
}
await import(main.href);
