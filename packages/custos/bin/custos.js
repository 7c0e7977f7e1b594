#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `npx custos` works right after `npm ci`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/interfaces/cli/main.ts');
process.exitCode = await main(process.argv);
