// Runs once before the suite: makes sure the real components the tests drive are installed.
import { ensureTools } from './packages.ts';

export default async function setup(): Promise<void> {
  ensureTools();
}
