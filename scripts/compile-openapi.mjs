// Part of `npm run build`, after tsc: openapi.yaml as JSON in dist/, which the daemon reads at start instead of the
// YAML (no YAML parser in a running daemon). The parsing is openapi.ts's own.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { COMPILED_OPENAPI_PATH, OPENAPI_PATH, parseOpenApiYaml } from '../dist/daemon/server/openapi.js';

mkdirSync(dirname(COMPILED_OPENAPI_PATH), { recursive: true });
writeFileSync(COMPILED_OPENAPI_PATH, JSON.stringify(parseOpenApiYaml(readFileSync(OPENAPI_PATH, 'utf8'))));
