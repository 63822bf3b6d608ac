#!/usr/bin/env node
// The CLI runs the JavaScript that `npm ci` builds into dist/ (npm's `prepare`): no TypeScript compiler at run time.
// The daemon's V8 heap settings are in daemon-heap.ts, which the daemon command imports first.
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(
    'dockhand: dist/ is missing; run `npm ci` (or `npm run build`) in the project first\n',
  );
  process.exit(1);
}
await import(main.href);
