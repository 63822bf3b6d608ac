// What a bench run measures, from the environment. Parsed once at the edge; a bad value stops the run with the
// variable's name and the reason.

export const SECTIONS = [
  'pull',
  'throttled',
  'cli',
  'fanout',
  'clientauth',
  'renewal',
  'api',
  'filteredlist',
] as const;
export type SectionName = (typeof SECTIONS)[number];

export interface BenchSettings {
  rounds: number;
  /** Size of the big pull image, split into 4 equal layers. */
  sizeMiB: number;
  /** Size of the one layer pulled through the throttling front. */
  throttledSizeMiB: number;
  /** Size of the clientAuth image, one layer. */
  authSizeMiB: number;
  sections: SectionName[];
}

function positiveInt(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name}: expected an integer >= ${min}, got "${raw}"`);
  }
  return value;
}

function sectionsFromEnv(): SectionName[] {
  const raw = process.env['BENCH_ONLY'];
  if (raw === undefined || raw.trim() === '') return [...SECTIONS];
  const wanted = raw.split(',').map((s) => s.trim());
  for (const name of wanted) {
    if (!(SECTIONS as readonly string[]).includes(name)) {
      throw new Error(`BENCH_ONLY: unknown section "${name}" (expected ${SECTIONS.join(', ')})`);
    }
  }
  return SECTIONS.filter((s) => wanted.includes(s));
}

export function readSettings(): BenchSettings {
  return {
    rounds: positiveInt('BENCH_ROUNDS', 3),
    // 4 layers of whole MiB each.
    sizeMiB: positiveInt('BENCH_SIZE_MIB', 512, 4),
    throttledSizeMiB: positiveInt('BENCH_THROTTLED_MIB', 128),
    authSizeMiB: positiveInt('BENCH_AUTH_SIZE_MIB', 64),
    sections: sectionsFromEnv(),
  };
}
