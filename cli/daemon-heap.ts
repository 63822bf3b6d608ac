// V8's heap settings for the daemon process, imported first by the daemon command so that they apply before the
// daemon's modules load (the other commands are short-lived and skip node:v8, which costs start-up time).
import { setFlagsFromString } from 'node:v8';

// V8 grows its young generation up to 3 × 16 MiB under the allocation bursts of start-up and of a pull, and keeps it:
// a third of an idle daemon's memory. At 1 MiB the collections that reclaim network chunks come sooner, which also
// lowers the peak during a pull. Set before anything allocates much (this flag is read at each growth).
// The small young generation has a cost: V8 then sets the old generation's next limit just above what a full
// collection left, and a 537 MB pull ran about 24 full collections (10-60 ms pauses each, counted with --trace-gc).
// Letting the old generation grow 4x between collections leaves 2, and cut the daemon's CPU time for that pull by
// about a fifth (read at each full collection).
// undici, which carries the daemon's requests with a body (pushes), parses HTTP in WebAssembly. V8 recompiled that
// parser's large state machine with its optimizing compiler during a big transfer through it: about 6% of a 537 MB
// pull's CPU and a transient 35 MiB on a compiler thread (seen with perf and a malloc probe, when pulls went through
// undici). The baseline code is enough for a parser that spans body bytes rather than reading them one by one, so
// the tier-up budget is set beyond reach.
setFlagsFromString(
  '--semi-space-growth-factor=1 --heap-growing-percent=300 --wasm-tiering-budget=2147483647',
);
