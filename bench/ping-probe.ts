// GET /_ping, one request at a time with a short pause between, for as long as something else runs: the latency a
// client sees while the daemon is busy (a pull), not under a load of its own. One ping before the measured ones opens
// the connection and runs the probe's request path once: uncounted, since a first request costs the probe 20-27 ms
// of its own (connecting, compiling), even against an idle daemon, and would be the p99 of every round.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'undici';

const PAUSE_MS = 10;

interface PingProbe {
  /** Stops after the request in flight and gives every latency measured, in ms; any failure is thrown here. */
  stop(): Promise<number[]>;
}

/** Resolves once the probe's connection is open and its first, uncounted, ping answered. */
async function probePing(socket: string): Promise<PingProbe> {
  const client = new Client('http://localhost', { socketPath: socket });
  const ping = async (): Promise<void> => {
    const response = await client.request({ method: 'GET', path: '/_ping' });
    await response.body.dump();
    if (response.statusCode !== 200) throw new Error(`GET /_ping: HTTP ${response.statusCode}`);
  };
  try {
    await ping();
  } catch (error) {
    await client.close().catch(() => {});
    throw error;
  }
  const latencies: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      await ping();
      latencies.push(performance.now() - started);
      await sleep(PAUSE_MS);
    }
  })();
  loop.catch(() => {});
  return {
    async stop() {
      running = false;
      try {
        await loop;
      } finally {
        await client.close().catch(() => {});
      }
      return latencies;
    },
  };
}

/** GET /_ping latencies at `socket` while `work` runs, and what it gave; the probe stops either way. */
export async function pingWhile<T>(
  socket: string,
  work: () => Promise<T>,
): Promise<{ result: T; pings: number[] }> {
  const probe = await probePing(socket);
  let result: T;
  try {
    result = await work();
  } catch (error) {
    await probe.stop().catch(() => []);
    throw error;
  }
  return { result, pings: await probe.stop() };
}
