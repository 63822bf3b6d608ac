// GET /events: a never-ending stream of JSON lines, read as typed EventMessages.

import type { Readable } from 'node:stream';
import { type EventMessage, parseJsonLines } from '../api-spec/index.ts';
import { InvalidStreamMessageError } from './errors.ts';

export async function* readEvents(body: Readable): AsyncGenerator<EventMessage> {
  try {
    for await (const value of parseJsonLines(body)) yield parseEventMessage(value);
  } finally {
    // Also reached when the consumer breaks out of its loop: closing the body ends the subscription.
    body.destroy();
  }
}

export function parseEventMessage(value: unknown): EventMessage {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidStreamMessageError('event is not a JSON object');
  }
  const raw = value as Record<string, unknown>;
  for (const field of ['Type', 'Action'] as const) {
    if (typeof raw[field] !== 'string')
      throw new InvalidStreamMessageError(`event field "${field}" must be a string`);
  }
  for (const field of ['time', 'timeNano'] as const) {
    if (typeof raw[field] !== 'number')
      throw new InvalidStreamMessageError(`event field "${field}" must be a number`);
  }
  const actor = raw['Actor'] as Record<string, unknown> | undefined;
  if (typeof actor !== 'object' || actor === null || typeof actor['ID'] !== 'string') {
    throw new InvalidStreamMessageError('event field "Actor.ID" must be a string');
  }
  return raw as unknown as EventMessage;
}
