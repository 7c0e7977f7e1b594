// Development entry of a bundle-checking thread, used when the verifier runs from its TypeScript
// sources (tests): workers do not inherit the TypeScript loader, so this registers tsx first. The
// built package starts the compiled dist/node/bundle-check-worker.js directly and needs no tsx.
import { register } from 'tsx/esm/api';

register();
await import('./bundle-check-worker.ts');
