// Docker's progress vocabulary and bar, so the docker CLI renders our stream as it renders dockerd's.

import type { JSONMessage } from '../../api-spec/json-message.ts';
import { progressBar } from '../../api-spec/progress-bar.ts';
import type { RegistryWarning } from './registry-warnings.ts';

/** Where an operation's JSON messages go (the response stream). */
export type Progress = (message: JSONMessage) => void;

export function shortId(digest: string): string {
  return digest.slice(digest.indexOf(':') + 1, digest.indexOf(':') + 13);
}

/** A registry's Warning, as a line people read and an aux clients can tell apart. */
export function warningMessage(warning: RegistryWarning): JSONMessage {
  return { status: `Warning from ${warning.registry}: ${warning.text}`, aux: { registryWarning: warning } };
}

export function layerStatus(digest: string, status: string): JSONMessage {
  return { status, progressDetail: {}, id: shortId(digest) };
}

export function layerProgress(digest: string, status: string, current: number, total: number): JSONMessage {
  return {
    status,
    progressDetail: { current, total },
    progress: progressBar(current, total),
    id: shortId(digest),
  };
}

/** Emits Downloading updates at most every `intervalMs` per layer (dockerd sends ~110 for 1 GiB). */
export function throttled(intervalMs: number, emit: (current: number) => void): (current: number) => void {
  let last = 0;
  return (current) => {
    const now = Date.now();
    if (now - last >= intervalMs) {
      last = now;
      emit(current);
    }
  };
}

/** dockerd's retry notice, counted in whole seconds. */
export function retryingStatus(delayMs: number): string {
  const seconds = Math.max(1, Math.round(delayMs / 1000));
  return `Retrying in ${seconds} second${seconds === 1 ? '' : 's'}`;
}
