export * from './api-version.ts';
export * from './auth-challenge.ts';
export * from './auth-config.ts';
export * from './bool-param.ts';
export * from './filters.ts';
export * from './json-message.ts';
export * from './progress-bar.ts';
export * from './types.ts';
