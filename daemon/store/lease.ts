// Leases, as containerd's: an operation in flight (a pull) holds the digests it needs, and the garbage collector
// keeps every digest a live lease holds. Leases live in memory: when the process dies its operations die with it,
// and their partial downloads stay on disk for a resume (or for `gc({ partials: true })`).
import { randomUUID } from 'node:crypto';
import { parseDigest } from './digest.ts';

export class Lease {
  readonly id: string;
  readonly #manager: LeaseManager;
  readonly #digests = new Set<string>();
  #released = false;

  /** @internal made by LeaseManager.create */
  constructor(manager: LeaseManager, id: string) {
    this.#manager = manager;
    this.id = id;
  }

  /** Protects `digest` (present yet or not) from garbage collection until release. */
  add(digest: string): void {
    if (this.#released) throw new Error(`lease ${this.id} is released`);
    const value = parseDigest(digest).value;
    if (this.#digests.has(value)) return;
    this.#digests.add(value);
    this.#manager.hold(value);
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    for (const digest of this.#digests) this.#manager.unhold(digest);
  }
}

export class LeaseManager {
  // How many live leases hold each digest.
  readonly #holds = new Map<string, number>();

  create(id: string = randomUUID()): Lease {
    return new Lease(this, id);
  }

  /** Whether any live lease holds `digest` (canonical `alg:hex`). */
  holds(digest: string): boolean {
    return this.#holds.has(digest);
  }

  /** @internal */
  hold(digest: string): void {
    this.#holds.set(digest, (this.#holds.get(digest) ?? 0) + 1);
  }

  /** @internal */
  unhold(digest: string): void {
    const count = (this.#holds.get(digest) ?? 0) - 1;
    if (count > 0) this.#holds.set(digest, count);
    else this.#holds.delete(digest);
  }
}
