// The registry protocol shared by the daemon and the client SDK (and the small helpers both sides need).
export * from './abort.ts';
export * from './digest.ts';
export * from './error-body.ts';
export * from './errors.ts';
export * from './loopback.ts';
export * from './manifest.ts';
export * from './media-types.ts';
export * from './read-limited.ts';
export * from './realm-policy.ts';
export * from './reference.ts';
export * from './scope.ts';
export * from './token-cache.ts';
export * from './token-client.ts';
export * from './token-grant.ts';
export * from './token-response.ts';
export * from './www-authenticate.ts';
