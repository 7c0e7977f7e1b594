// Entry point of the ledger hashing thread. Workers do not inherit the TypeScript loader, so this
// small JavaScript file registers tsx before loading the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./hasher-worker.ts');
