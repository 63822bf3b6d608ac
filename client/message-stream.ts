// Reads a pull/push JSON message stream to its end: each message is checked at the edge, handed on, and an
// errorDetail ends the operation as a rejection (dockerode's followProgress resolves instead, dockerode#639).

import type { Readable } from 'node:stream';
import {
  type AuthChallengeInfo,
  isAuthChallengeAux,
  type JSONMessage,
  parseJsonLines,
} from '../api-spec/index.ts';
import { challengeFromStream } from './daemon-challenge.ts';
import { InvalidStreamMessageError, StreamError } from './errors.ts';

/** A challenge the daemon put in the stream to be answered on the side channel (authChannel). */
export type StreamChallenge = AuthChallengeInfo & { id: string };

export async function consumeMessages(
  body: Readable,
  onMessage: (message: JSONMessage) => void,
  onChallenge?: (challenge: StreamChallenge) => void,
): Promise<void> {
  try {
    for await (const value of parseJsonLines(body)) {
      const message = parseJsonMessage(value);
      const noError = message.errorDetail === undefined && message.error === undefined;
      if (
        noError &&
        onChallenge &&
        isAuthChallengeAux(message.aux) &&
        typeof message.aux.authChallenge.id === 'string'
      ) {
        onChallenge({ ...message.aux.authChallenge, id: message.aux.authChallenge.id });
        continue;
      }
      if (!noError) {
        const text = message.errorDetail?.message ?? message.error ?? 'unknown error';
        if (isAuthChallengeAux(message.aux)) {
          const challenged = challengeFromStream(message.aux.authChallenge, text);
          if (challenged !== undefined) throw challenged;
        }
        throw new StreamError(text, message.errorDetail?.code);
      }
      onMessage(message);
    }
  } finally {
    body.destroy();
  }
}

const STRING_FIELDS = ['status', 'id', 'progress', 'stream', 'error'] as const;

/** One stream message, checked field by field (the daemon is trusted to speak JSON, not to be right). */
export function parseJsonMessage(value: unknown): JSONMessage {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidStreamMessageError('stream message is not a JSON object');
  }
  const raw = value as Record<string, unknown>;
  for (const field of STRING_FIELDS) {
    if (raw[field] !== undefined && typeof raw[field] !== 'string') {
      throw new InvalidStreamMessageError(`stream message field "${field}" must be a string`);
    }
  }
  for (const field of ['progressDetail', 'errorDetail'] as const) {
    const v = raw[field];
    if (v !== undefined && (typeof v !== 'object' || v === null || Array.isArray(v))) {
      throw new InvalidStreamMessageError(`stream message field "${field}" must be an object`);
    }
  }
  const detail = raw['errorDetail'] as Record<string, unknown> | undefined;
  if (detail?.['code'] !== undefined && typeof detail['code'] !== 'number') {
    throw new InvalidStreamMessageError('stream message field "errorDetail.code" must be a number');
  }
  if (detail?.['message'] !== undefined && typeof detail['message'] !== 'string') {
    throw new InvalidStreamMessageError('stream message field "errorDetail.message" must be a string');
  }
  return raw as JSONMessage;
}
