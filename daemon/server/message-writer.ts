// Writes a JSON message stream without outrunning its client. While the socket refuses more (write() returned
// false, until 'drain'), messages wait here instead of piling up in the socket's buffer, and a progress update for
// a layer replaces the one still waiting for that layer: a slow reader gets every status, in order, and the latest
// progress, with memory bounded by the number of layers rather than by the number of updates.
//
// A burst (a pull of many layers announces them all at once) can leave thousands of distinct lines waiting for a
// client that reads as fast as it can: what tells a client that stopped reading is time, not the count. Beyond
// `maxWaiting` lines the client must drain within `stallMs`, or it is cut off; `hardMaxWaiting` bounds memory
// meanwhile. A client cut off gets an error line after what its socket already holds, if its format has one.
import type { ServerResponse } from 'node:http';
import { errorMessage, formatMessageLine, type JSONMessage } from '../../api-spec/json-message.ts';

export interface StreamLimits {
  /** Waiting lines beyond which the client must show, within `stallMs`, that it is reading. */
  maxWaiting: number;
  stallMs: number;
  /** Waiting lines beyond which the client is cut off at once. */
  hardMaxWaiting: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  maxWaiting: 4096,
  stallMs: 30_000,
  hardMaxWaiting: 65_536,
};

export const STALLED_CLIENT_MESSAGE = 'the client stopped reading the stream';

/** How long the error line of a cut-off stream may wait for its client before the connection is closed. */
const CUT_OFF_GRACE_MS = 5_000;

export interface LineFormat<T> {
  line(value: T): string;
  /** The layer a value reports on and whether it is a progress update a newer one may replace; none for events. */
  layerOf?(value: T): { id: string; progress: boolean } | undefined;
  /** The stream's last line when it is cut off; events have none. */
  failure?(message: string): T;
}

/** Pull and push messages: "\r\n"-terminated, progress updates per layer id. */
export const JSON_MESSAGES: LineFormat<JSONMessage> = {
  line: formatMessageLine,
  layerOf: (message) =>
    message.id === undefined ? undefined : { id: message.id, progress: isProgress(message) },
  failure: errorMessage,
};

export interface MessageWriterOptions {
  limits?: StreamLimits;
  /** Called once when the client is cut off, to stop the work that feeds the stream. */
  onCutOff?: (reason: Error) => void;
}

export class MessageWriter<T> {
  readonly #raw: ServerResponse;
  readonly #format: LineFormat<T>;
  #waiting: T[] = [];
  /** Layer id → index in #waiting of its progress update that a newer one may still replace. */
  #progressAt = new Map<string, number>();
  #blocked = false;
  readonly #limits: StreamLimits;
  readonly #onCutOff: ((reason: Error) => void) | undefined;
  #stallTimer: NodeJS.Timeout | undefined;

  constructor(raw: ServerResponse, format: LineFormat<T>, options: MessageWriterOptions = {}) {
    this.#raw = raw;
    this.#format = format;
    this.#limits = options.limits ?? DEFAULT_STREAM_LIMITS;
    this.#onCutOff = options.onCutOff;
    raw.once('close', () => clearTimeout(this.#stallTimer));
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
    if (this.#waiting.length > this.#limits.hardMaxWaiting) this.#cutOff();
    else if (this.#waiting.length > this.#limits.maxWaiting && this.#stallTimer === undefined) {
      this.#stallTimer = setTimeout(() => this.#cutOff(), this.#limits.stallMs);
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
    clearTimeout(this.#stallTimer);
    this.#stallTimer = undefined;
    if (this.#raw.writableEnded || this.#raw.destroyed) return;
    const lines = this.#takeWaiting();
    if (lines.length > 0 && !this.#raw.write(lines.join(''))) this.#block();
  }

  #cutOff(): void {
    clearTimeout(this.#stallTimer);
    this.#waiting = [];
    this.#progressAt.clear();
    if (this.#raw.writableEnded || this.#raw.destroyed) return;
    const reason = new Error(STALLED_CLIENT_MESSAGE);
    this.#onCutOff?.(reason);
    const last = this.#format.failure?.(STALLED_CLIENT_MESSAGE);
    if (last === undefined) {
      this.#raw.destroy(reason);
      return;
    }
    this.#raw.end(this.#format.line(last));
    setTimeout(() => {
      if (!this.#raw.writableFinished) this.#raw.destroy(reason);
    }, CUT_OFF_GRACE_MS).unref();
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
