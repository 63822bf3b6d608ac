// GET /_ping, one request at a time with a short pause between, for as long as something else runs: the latency a
// client sees while the daemon is busy (a pull), not under a load of its own.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'undici';

const PAUSE_MS = 10;

export interface PingProbe {
  /** Stops after the request in flight and gives every latency measured, in ms; any failure is thrown here. */
  stop(): Promise<number[]>;
}

export function probePing(socket: string): PingProbe {
  const client = new Client('http://localhost', { socketPath: socket });
  const latencies: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      const response = await client.request({ method: 'GET', path: '/_ping' });
      await response.body.dump();
      if (response.statusCode !== 200) throw new Error(`GET /_ping: HTTP ${response.statusCode}`);
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
