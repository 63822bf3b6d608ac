// The SDK's own version: the package's, read once from package.json (the sources and dist/ both find it).

import { readFileSync } from 'node:fs';
import { packageFile } from '../api-spec/package-file.ts';

const pkg = JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as { version?: string };

export const SDK_VERSION: string = pkg.version ?? 'unknown';
