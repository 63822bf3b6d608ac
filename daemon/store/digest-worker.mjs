// The hashing side of the store's ingests, on a thread of its own (see digest-thread.ts): while the main thread
// receives and parses a pull, this one hashes. Plain JavaScript, so the build output and the tests (which run the
// TypeScript sources) start the same file. One hash per ingest, fed in order with the batches the ingest writes,
// read from shared memory without a copy.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';

const READ_BYTES = 1 << 20;
const hashes = new Map();

function hashOf(id) {
  const hash = hashes.get(id);
  if (!hash) throw new Error(`no hash ${id}`);
  return hash;
}

/** The first `length` bytes of the file at `path`, through `hash`. */
function hashFile(hash, path, length) {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(Math.min(READ_BYTES, Math.max(length, 1)));
    for (let at = 0; at < length; ) {
      const read = readSync(fd, buffer, 0, Math.min(buffer.length, length - at), at);
      if (read === 0)
        throw Object.assign(new Error(`${path} ended at byte ${at} of ${length}`), { code: 'ESHORT' });
      hash.update(buffer.subarray(0, read));
      at += read;
    }
  } finally {
    closeSync(fd);
  }
}

function run(message) {
  switch (message.op) {
    case 'start': {
      const hash = createHash(message.algorithm);
      if (message.length > 0) hashFile(hash, message.path, message.length);
      hashes.set(message.id, hash);
      return undefined;
    }
    case 'update':
      hashOf(message.id).update(new Uint8Array(message.buffer, 0, message.length));
      return undefined;
    case 'digest':
      return hashOf(message.id).copy().digest('hex');
    case 'end':
      hashes.delete(message.id);
      return undefined;
    default:
      throw new Error(`unknown op ${message.op}`);
  }
}

parentPort.on('message', (message) => {
  try {
    parentPort.postMessage({ seq: message.seq, value: run(message) });
  } catch (error) {
    parentPort.postMessage({ seq: message.seq, error: { message: error.message, code: error.code } });
  }
});
