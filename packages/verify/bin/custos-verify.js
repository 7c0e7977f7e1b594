#!/usr/bin/env node
// The verifier ships compiled JavaScript (built by `prepare`), so it needs no runtime dependency.
import { main } from '../dist/cli.js';

process.exitCode = await main(process.argv.slice(2));
