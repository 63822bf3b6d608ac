import type { SectionReport } from '../report.ts';
import type { BenchSettings } from '../settings.ts';
import type { WorkDir } from '../workdir.ts';

export interface SectionContext {
  settings: BenchSettings;
  work: WorkDir;
  /** Progress for the console (the report is returned, not logged). */
  say(text: string): void;
}

export type Section = (context: SectionContext) => Promise<SectionReport>;

export const MIB = 1024 * 1024;

/** The order of contenders in round `round`: rotated, so none always runs first on a cold cache. */
export function rotated<T>(items: readonly T[], round: number): T[] {
  const shift = round % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}
