// fast-check runs for the tests: bounded so they fit in `npm test`, reproducible from the seed printed on failure
// (FC_SEED=<seed> replays it; FC_RUNS raises the number of runs for a longer local search).
import fc from 'fast-check';

const seedFromEnv = process.env['FC_SEED'] === undefined ? undefined : Number(process.env['FC_SEED']);
const runsFromEnv = process.env['FC_RUNS'] === undefined ? undefined : Number(process.env['FC_RUNS']);

export function checkProperty<Ts extends [unknown, ...unknown[]]>(
  property: fc.IProperty<Ts>,
  options: { numRuns: number },
): void {
  const seed = newSeed();
  report(fc.check(property, { numRuns: runsFromEnv ?? options.numRuns, seed }), seed);
}

/** checkProperty for a property whose check is asynchronous. */
export async function checkAsyncProperty<Ts extends [unknown, ...unknown[]]>(
  property: fc.IAsyncProperty<Ts>,
  options: { numRuns: number },
): Promise<void> {
  const seed = newSeed();
  report(await fc.check(property, { numRuns: runsFromEnv ?? options.numRuns, seed }), seed);
}

function newSeed(): number {
  return seedFromEnv ?? (Date.now() ^ (Math.random() * 0x100000000)) | 0;
}

function report<Ts>(details: fc.RunDetails<Ts>, seed: number): void {
  if (details.failed) {
    throw new Error(`${fc.defaultReportMessage(details)}\nreplay with FC_SEED=${seed}`);
  }
}

/**
 * What every parser of untrusted input promises: it returns, or throws one of its typed errors, within `maxMs`
 * (generous: it catches runaway work, not slowness). Anything else is the counterexample fast-check reports.
 */
export function parsesOrRefuses<T>(
  parse: (input: T) => unknown,
  isTyped: (error: unknown) => boolean,
  maxMs = 1000,
): (input: T) => void {
  return (input) => {
    const start = performance.now();
    try {
      parse(input);
    } catch (error) {
      if (!isTyped(error)) throw error;
    }
    const elapsed = performance.now() - start;
    if (elapsed > maxMs) throw new Error(`took ${elapsed.toFixed(0)} ms (over ${maxMs} ms)`);
  };
}
