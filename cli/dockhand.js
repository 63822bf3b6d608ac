#!/usr/bin/env node
// The CLI runs the JavaScript that `npm ci` builds into dist/ (npm's `prepare`): no TypeScript compiler at run time.
import { existsSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';

// V8 grows its young generation up to 3 × 16 MiB under the allocation bursts of start-up and of a pull, and keeps it:
// a third of an idle daemon's memory. At 1 MiB the collections that reclaim network chunks come sooner, which also
// lowers the peak during a pull. Set before anything allocates much (this flag is read at each growth).
// The small young generation has a cost: V8 then sets the old generation's next limit just above what a full
// collection left, and a 537 MB pull ran about 24 full collections (10-60 ms pauses each, counted with --trace-gc).
// Letting the old generation grow 4x between collections leaves 2, and cut the daemon's CPU time for that pull by
// about a fifth (read at each full collection).
setFlagsFromString('--semi-space-growth-factor=1 --heap-growing-percent=300');

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(
    'dockhand: dist/ is missing; run `npm ci` (or `npm run build`) in the project first\n',
  );
  process.exit(1);
}
await import(main.href);
