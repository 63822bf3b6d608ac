// Writes a JSON message stream without outrunning its client. While the socket refuses more (write() returned
// false, until 'drain'), messages wait here instead of piling up in the socket's buffer, and a progress update for
// a layer replaces the one still waiting for that layer: a slow reader gets every status, in order, and the latest
// progress, with memory bounded by the number of layers rather than by the number of updates.
import type { ServerResponse } from 'node:http';
import { formatMessageLine, type JSONMessage } from '../../api-spec/json-message.ts';

/** Beyond this many waiting messages the client is not reading at all: it is disconnected. */
export const MAX_WAITING_MESSAGES = 4096;

export interface LineFormat<T> {
  line(value: T): string;
  /** The layer a value reports on and whether it is a progress update a newer one may replace; none for events. */
  layerOf?(value: T): { id: string; progress: boolean } | undefined;
}

/** Pull and push messages: "\r\n"-terminated, progress updates per layer id. */
export const JSON_MESSAGES: LineFormat<JSONMessage> = {
  line: formatMessageLine,
  layerOf: (message) =>
    message.id === undefined ? undefined : { id: message.id, progress: isProgress(message) },
};

export class MessageWriter<T> {
  readonly #raw: ServerResponse;
  readonly #format: LineFormat<T>;
  #waiting: T[] = [];
  /** Layer id → index in #waiting of its progress update that a newer one may still replace. */
  #progressAt = new Map<string, number>();
  #blocked = false;

  constructor(raw: ServerResponse, format: LineFormat<T>) {
    this.#raw = raw;
    this.#format = format;
  }

  write(value: T): void {
    if (this.#raw.writableEnded || this.#raw.destroyed) return;
    if (!this.#blocked) {
      if (!this.#raw.write(this.#format.line(value))) this.#block();
      return;
    }
    const layer = this.#format.layerOf?.(value);
    if (layer?.progress) {
      const at = this.#progressAt.get(layer.id);
      if (at !== undefined) {
        this.#waiting[at] = value;
        return;
      }
      this.#progressAt.set(layer.id, this.#waiting.length);
    } else if (layer) {
      // A status after a progress update: the next update must come after this status, not replace the earlier one.
      this.#progressAt.delete(layer.id);
    }
    this.#waiting.push(value);
    if (this.#waiting.length > MAX_WAITING_MESSAGES) {
      this.#waiting = [];
      this.#raw.destroy(new Error('the client stopped reading the stream'));
    }
  }

  /** Ends the response after everything waiting (and `last`, if given); the socket buffers what is left. */
  end(last?: T): void {
    if (this.#raw.writableEnded || this.#raw.destroyed) return;
    const lines = this.#takeWaiting();
    if (last !== undefined) lines.push(this.#format.line(last));
    this.#raw.end(lines.join(''));
  }

  #block(): void {
    this.#blocked = true;
    this.#raw.once('drain', () => this.#drain());
  }

  #drain(): void {
    this.#blocked = false;
    if (this.#raw.writableEnded || this.#raw.destroyed) return;
    const lines = this.#takeWaiting();
    if (lines.length > 0 && !this.#raw.write(lines.join(''))) this.#block();
  }

  #takeWaiting(): string[] {
    const lines = this.#waiting.map((value) => this.#format.line(value));
    this.#waiting = [];
    this.#progressAt.clear();
    return lines;
  }
}

function isProgress(message: JSONMessage): boolean {
  const detail = message.progressDetail;
  return detail !== undefined && (detail.current !== undefined || detail.total !== undefined);
}
