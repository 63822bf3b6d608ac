// Progress for pipes and CI logs: one line per state change of each layer ("<id>: Pull complete"), never a bar,
// an escape byte or a carriage return.

import type { JSONMessage } from '../../client/index.ts';
import type { ProgressOutput, ProgressView } from './progress-view.ts';

export class PlainProgress implements ProgressView {
  readonly #out: ProgressOutput;
  readonly #lastStatus = new Map<string, string>();

  constructor(out: ProgressOutput) {
    this.#out = out;
  }

  update(message: JSONMessage): void {
    const status = printable(message.status ?? '');
    if (status === '') return;
    if (message.id === undefined) {
      this.#out.write(`${status}\n`);
      return;
    }
    const id = printable(message.id);
    if (this.#lastStatus.get(id) === status) return;
    this.#lastStatus.set(id, status);
    this.#out.write(`${id}: ${status}\n`);
  }

  finish(): void {}
}

/** Drops control characters a registry or daemon could slip into a status (ESC, CR, NUL, …). */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '');
}
