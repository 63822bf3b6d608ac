// How a pull or push shows its JSON message stream: live per-layer lines on a terminal, plain lines elsewhere.

import type { JSONMessage } from '../../client/index.ts';
import { PlainProgress } from './plain-progress.ts';
import { TerminalProgress } from './terminal-progress.ts';

export interface ProgressView {
  update(message: JSONMessage): void;
  /** Draws what is pending; called once the operation has ended, however it ended. */
  finish(): void;
}

export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
  rows?: number;
}

export function createProgressView(out: ProgressOutput): ProgressView {
  return out.isTTY ? new TerminalProgress(out) : new PlainProgress(out);
}

/** Runs a streamed operation with its progress shown (none when quiet), drawing what is pending at the end. */
export async function withProgress<T>(
  out: ProgressOutput,
  quiet: boolean,
  operation: (onProgress: ((message: JSONMessage) => void) | undefined) => Promise<T>,
): Promise<T> {
  const view = quiet ? undefined : createProgressView(out);
  try {
    return await operation(view ? (message) => view.update(message) : undefined);
  } finally {
    view?.finish();
  }
}
