// The filtered-list section's listers, in a process of their own: a few clients send GET /images/json without pause
// and read each answer whole. Apart from the bench, so the GET /_ping probe's latency is the daemon's, not that of an
// event loop busy reading a hundred megabytes a second of answers.
//   node --import tsx bench/list-clients.ts <socket> <scenario> <clients> <start at, epoch ms> <duration ms>
// Prints {"lists": <answers read>} on stdout.
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'undici';
import { LIST_FILTERS, type ListScenario } from './sections/filtered-list.ts';

async function listUntil(socket: string, filters: (n: number) => object, clients: number, until: number) {
  let lists = 0;
  let sent = 0;
  const lister = async () => {
    const client = new Client('http://localhost', { socketPath: socket });
    try {
      while (Date.now() < until) {
        const path = `/images/json?filters=${encodeURIComponent(JSON.stringify(filters(sent++)))}`;
        const response = await client.request({ method: 'GET', path });
        await response.body.dump();
        if (response.statusCode !== 200) throw new Error(`GET ${path}: HTTP ${response.statusCode}`);
        lists++;
      }
    } finally {
      await client.close();
    }
  };
  await Promise.all(Array.from({ length: clients }, lister));
  return lists;
}

const [socket, scenario, clients, startAt, duration] = process.argv.slice(2);
const filters = LIST_FILTERS[scenario as ListScenario];
if (!socket || !filters) throw new Error('usage: list-clients.ts <socket> <scenario> <clients> <start> <ms>');
const late = Date.now() - Number(startAt);
// Started after the probe: its figures would include idle time.
if (late > 100) throw new Error(`list-clients: started ${late} ms after the run's start; give it more time`);
await sleep(-late);
const lists = await listUntil(socket, filters, Number(clients), Number(startAt) + Number(duration));
process.stdout.write(`${JSON.stringify({ lists })}\n`);
