#!/usr/bin/env node
// The sources are TypeScript run through tsx, so `npx dockhand` needs no build step after `npm ci`.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
