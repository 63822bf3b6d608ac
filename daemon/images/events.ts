// Image events for GET /events: a bounded history for `since`, and live subscribers.

import type { EventMessage, ImageEventAction } from '../../api-spec/types.ts';
import type { EventLog } from './image-service.ts';

const HISTORY = 1000;

export class ImageEvents implements EventLog {
  readonly #history: EventMessage[] = [];
  readonly #listeners = new Set<(event: EventMessage) => void>();

  history(): EventMessage[] {
    return [...this.#history];
  }

  subscribe(listener: (event: EventMessage) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  publish(action: ImageEventAction, id: string, attributes: Record<string, string> = {}): void {
    const nanos = BigInt(Date.now()) * 1_000_000n;
    const event: EventMessage = {
      Type: 'image',
      Action: action,
      Actor: { ID: id, Attributes: { name: id, ...attributes } },
      scope: 'local',
      time: Number(nanos / 1_000_000_000n),
      timeNano: Number(nanos),
      id,
      status: action,
    };
    this.#history.push(event);
    if (this.#history.length > HISTORY) this.#history.shift();
    for (const listener of this.#listeners) listener(event);
  }
}
