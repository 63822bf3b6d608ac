// The floor for GET /_ping: a bare fastify answering "OK" on a unix socket, nothing else, so the API section shows
// what the load generator and this machine allow before any daemon code runs.
//   node --import tsx bench/ping-floor.ts <socket>
import Fastify from 'fastify';

const socket = process.argv[2];
if (socket === undefined) throw new Error('usage: ping-floor.ts <socket>');
const app = Fastify();
app.get('/_ping', async (_request, reply) => reply.type('text/plain; charset=utf-8').send('OK'));
await app.listen({ path: socket });
