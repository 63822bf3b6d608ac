// The Engine API versions Dockhand speaks: docker CLI 28 negotiates 1.50; moby's default minimum is 1.40.
export const MAX_API_VERSION = '1.50';
export const MIN_API_VERSION = '1.40';

/** Compares dotted API versions numerically (1.9 < 1.10), as moby's versions.LessThan does. */
export function compareApiVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

export function isValidApiVersion(v: string): boolean {
  return /^\d+(\.\d+)*$/.test(v);
}
