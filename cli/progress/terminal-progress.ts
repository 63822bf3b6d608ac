// Progress on a terminal, drawn as docker draws it: one live line per layer id, in the order ids first appear,
// updated in place (`<id>: Downloading [=====>     ]  12.5MB/45.2MB`), other messages as lines of their own.
// Redraws at most every 100 ms: the lines from the first changed one down are rewritten after moving the cursor
// up; each line is cut to the terminal's width, so that no line wraps and the cursor arithmetic stays right.

import { type JSONMessage, progressBar } from '../../client/index.ts';
import { printable } from './plain-progress.ts';
import type { ProgressOutput, ProgressView } from './progress-view.ts';

const REDRAW_INTERVAL_MS = 100;
const ESC = '\u001b[';

export class TerminalProgress implements ProgressView {
  readonly #out: ProgressOutput;
  readonly #lines: string[] = [];
  readonly #lineOfId = new Map<string, number>();
  /** Lines already on the screen, and the first one changed since. */
  #drawn = 0;
  #firstDirty = Number.POSITIVE_INFINITY;
  #lastDraw = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(out: ProgressOutput) {
    this.#out = out;
  }

  update(message: JSONMessage): void {
    const text = formatLine(message);
    if (text === undefined) return;
    const id = message.id === undefined ? undefined : printable(message.id);
    let index = id === undefined ? undefined : this.#lineOfId.get(id);
    if (index === undefined) {
      index = this.#lines.push(text) - 1;
      if (id !== undefined) this.#lineOfId.set(id, index);
    } else {
      if (this.#lines[index] === text) return;
      this.#lines[index] = text;
    }
    this.#firstDirty = Math.min(this.#firstDirty, index);
    this.#schedule();
  }

  finish(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#draw();
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    const wait = this.#lastDraw + REDRAW_INTERVAL_MS - Date.now();
    if (wait <= 0) {
      this.#draw();
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#draw();
    }, wait);
  }

  #draw(): void {
    if (this.#firstDirty >= this.#lines.length) return;
    const width = Math.max((this.#out.columns ?? 80) - 1, 20);
    // Lines scrolled off the top cannot be reached with the cursor: they keep what they last showed.
    const reachable = Math.max(this.#drawn - ((this.#out.rows ?? 24) - 1), 0);
    const from = Math.max(Math.min(this.#firstDirty, this.#drawn), reachable);
    let text = this.#drawn > from ? `${ESC}${this.#drawn - from}A\r` : '';
    for (let i = from; i < this.#lines.length; i++) text += `${ESC}2K${this.#lines[i]?.slice(0, width)}\n`;
    this.#out.write(text);
    this.#drawn = this.#lines.length;
    this.#firstDirty = Number.POSITIVE_INFINITY;
    this.#lastDraw = Date.now();
  }
}

/** `<id>: <status> <bar>`, the bar drawn from progressDetail (robust to an unknown or overrun total). */
export function formatLine(message: JSONMessage): string | undefined {
  const status = printable(message.status ?? '');
  if (status === '') return undefined;
  const detail = message.progressDetail;
  const bar =
    detail !== undefined && typeof detail.current === 'number'
      ? ` ${progressBar(detail.current, typeof detail.total === 'number' ? detail.total : -1)}`
      : '';
  return message.id === undefined ? `${status}${bar}` : `${printable(message.id)}: ${status}${bar}`;
}
