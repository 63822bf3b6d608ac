// What a section started, stopped in reverse order however the section ends.

export class Cleanup {
  readonly #stops: (() => Promise<void>)[] = [];

  /** Registers something with a stop() and gives it back. */
  add<T extends { stop(): Promise<void> }>(thing: T): T {
    this.#stops.push(() => thing.stop());
    return thing;
  }

  /** Stops everything registered, newest first; the first error is thrown after all were tried. */
  async run(): Promise<void> {
    let failure: unknown;
    for (const stop of this.#stops.reverse()) {
      try {
        await stop();
      } catch (error) {
        failure ??= error;
      }
    }
    this.#stops.length = 0;
    if (failure !== undefined) throw failure;
  }
}
