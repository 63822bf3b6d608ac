// The two progress views: plain lines for pipes (one per state change, no escape byte or carriage return, even
// when a status carries one) and the terminal view (lines updated in place, redraws throttled, robust bars).

import { afterEach, describe, expect, it, vi } from 'vitest';
import { PlainProgress } from '../../../cli/progress/plain-progress.ts';
import { formatLine, TerminalProgress } from '../../../cli/progress/terminal-progress.ts';
import type { JSONMessage } from '../../../client/index.ts';

function sink(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, out: { isTTY, columns: 120, write: (text: string) => writes.push(text) } };
}

const layer = (id: string, status: string, current?: number, total?: number): JSONMessage => ({
  id,
  status,
  progressDetail: current === undefined ? {} : { current, ...(total === undefined ? {} : { total }) },
});

afterEach(() => {
  vi.useRealTimers();
});

describe('PlainProgress', () => {
  it('prints one line per state change and never an escape byte or carriage return', () => {
    const { out, writes } = sink(false);
    const view = new PlainProgress(out);
    view.update({ id: '1', status: 'Pulling from small' });
    for (let i = 0; i < 5; i++) view.update(layer('aaa', 'Downloading', i * 100, 500));
    view.update(layer('aaa', 'Download complete'));
    view.update(layer('aaa', 'Pull\u001b[2J complete\r'));
    view.update({ status: 'Digest: sha256:abc' });
    view.finish();
    const text = writes.join('');
    expect(text).toBe(
      '1: Pulling from small\naaa: Downloading\naaa: Download complete\naaa: Pull[2J complete\nDigest: sha256:abc\n',
    );
    expect(text).not.toMatch(/[\u001b\r]/);
  });
});

describe('TerminalProgress', () => {
  it('keeps one line per layer and rewrites it in place', () => {
    vi.useFakeTimers();
    const { out, writes } = sink(true);
    const view = new TerminalProgress(out);
    view.update(layer('aaa', 'Pulling fs layer'));
    view.update(layer('bbb', 'Pulling fs layer'));
    vi.advanceTimersByTime(200);
    view.update(layer('aaa', 'Downloading', 250, 500));
    vi.advanceTimersByTime(200);
    view.update(layer('aaa', 'Pull complete'));
    view.finish();
    const screen = render(writes.join(''));
    expect(screen).toEqual(['aaa: Pull complete', 'bbb: Pulling fs layer']);
    expect(writes.join('')).toContain(`aaa: Downloading [${'='.repeat(24)}>${' '.repeat(25)}]`);
  });

  it('never moves the cursor above the screen: lines scrolled off keep what they showed', () => {
    vi.useFakeTimers();
    const writes: string[] = [];
    const view = new TerminalProgress({
      isTTY: true,
      columns: 80,
      rows: 4,
      write: (t: string) => writes.push(t),
    });
    for (const id of ['a', 'b', 'c', 'd', 'e', 'f']) view.update(layer(id, 'Waiting'));
    vi.advanceTimersByTime(200);
    view.update(layer('a', 'Pull complete'));
    view.update(layer('f', 'Pull complete'));
    view.finish();
    const ups = [...writes.join('').matchAll(/\u001b\[(\d+)A/g)].map((m) => Number(m[1]));
    expect(Math.max(...ups)).toBeLessThanOrEqual(3);
    expect(render(writes.join('')).at(-1)).toBe('f: Pull complete');
  });

  it('redraws at most every 100 ms however many messages arrive', () => {
    vi.useFakeTimers();
    const { out, writes } = sink(true);
    const view = new TerminalProgress(out);
    for (let i = 0; i <= 1000; i++) view.update(layer('aaa', 'Downloading', i, 1000));
    expect(writes.length).toBe(1);
    vi.advanceTimersByTime(100);
    expect(writes.length).toBe(2);
    view.finish();
    expect(render(writes.join(''))).toEqual([formatLine(layer('aaa', 'Downloading', 1000, 1000))]);
  });

  it('draws a bar for an unknown total (-1) and for a current past the total', () => {
    expect(formatLine(layer('aaa', 'Downloading', 12_500_000, -1))).toBe('aaa: Downloading 12.5MB');
    expect(formatLine(layer('aaa', 'Downloading', 600, 500))).toBe(
      `aaa: Downloading [${'='.repeat(50)}]     600B/500B`,
    );
    expect(formatLine(layer('aaa', 'Downloading', 12_500_000, 45_200_000))).toBe(
      `aaa: Downloading [${'='.repeat(12)}>${' '.repeat(37)}]   12.5MB/45.2MB`,
    );
  });
});

/** Plays the cursor-up / clear-line / newline sequences the view writes onto a list of screen lines. */
function render(stream: string): string[] {
  const lines: string[] = [];
  let row = 0;
  const pattern = /\u001b\[(\d+)A\r|\u001b\[2K|\n|[^\u001b\n]+/g;
  for (const match of stream.matchAll(pattern)) {
    const token = match[0];
    if (match[1] !== undefined) row -= Number(match[1]);
    else if (token === '\u001b[2K') lines[row] = '';
    else if (token === '\n') row++;
    else lines[row] = (lines[row] ?? '') + token;
  }
  return lines;
}
