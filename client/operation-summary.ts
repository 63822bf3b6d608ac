// What a finished pull or push reports, read from its progress messages as the CLI prints them.

import type { JSONMessage } from '../api-spec/index.ts';

export interface PullResult {
  /** The manifest or index digest ("Digest: sha256:…"), when the daemon reported it. */
  digest?: string;
  /** The final status line, e.g. "Status: Downloaded newer image for alpine:latest". */
  status?: string;
}

export interface PushResult {
  tag?: string;
  digest?: string;
  size?: number;
}

export function summarizePull(summary: PullResult, message: JSONMessage): void {
  const status = message.status;
  if (status === undefined) return;
  const digest = /^Digest: (\S+)$/.exec(status)?.[1];
  if (digest !== undefined) summary.digest = digest;
  if (status.startsWith('Status: ')) summary.status = status;
}

export function summarizePush(summary: PushResult, message: JSONMessage): void {
  const aux = message.aux as { Tag?: unknown; Digest?: unknown; Size?: unknown } | undefined;
  if (typeof aux === 'object' && aux !== null && typeof aux.Digest === 'string') {
    summary.digest = aux.Digest;
    if (typeof aux.Tag === 'string') summary.tag = aux.Tag;
    if (typeof aux.Size === 'number') summary.size = aux.Size;
    return;
  }
  // "<tag>: digest: sha256:… size: 528", the line the CLI shows at the end of a push.
  const m = /^(\S+): digest: (\S+) size: (\d+)$/.exec(message.status ?? '');
  if (m !== null) {
    summary.tag = m[1];
    summary.digest = m[2];
    summary.size = Number(m[3]);
  }
}
