// A promise with its resolve and reject in hand (Promise.withResolvers arrives in Node 22), for tests that decide
// when a piece of work finishes.
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
