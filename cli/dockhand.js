#!/usr/bin/env node
// The CLI runs the JavaScript that `npm ci` builds into dist/ (npm's `prepare`): no TypeScript compiler at run time.
import { existsSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';

// V8 grows its young generation up to 3 × 16 MiB under the allocation bursts of start-up and of a pull, and keeps it:
// a third of an idle daemon's memory. At 1 MiB the collections that reclaim network chunks come sooner, which also
// lowers the peak during a pull. Set before anything allocates much (this flag is read at each growth).
setFlagsFromString('--semi-space-growth-factor=1');

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(
    'dockhand: dist/ is missing; run `npm ci` (or `npm run build`) in the project first\n',
  );
  process.exit(1);
}
await import(main.href);
