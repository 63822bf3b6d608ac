// How long a reader kept its source paused on our side (waiting for the disk, or the hash): while
// it does, the registry's bytes pile up in the connection's socket buffers, and a share of the time that large means
// our side, not the registry, sets the pace (connection-growth.ts).
export class HeldTime {
  #since: number | undefined;
  #ms = 0;

  /** The source is paused from now (a pause under way goes on). */
  hold(): void {
    this.#since ??= performance.now();
  }

  /** The source flows again. */
  release(): void {
    if (this.#since === undefined) return;
    this.#ms += performance.now() - this.#since;
    this.#since = undefined;
  }

  /** Milliseconds held since the last take, a pause under way counted up to now. */
  take(): number {
    let ms = this.#ms;
    this.#ms = 0;
    if (this.#since !== undefined) {
      const now = performance.now();
      ms += now - this.#since;
      this.#since = now;
    }
    return ms;
  }
}
