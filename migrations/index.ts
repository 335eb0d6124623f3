import { Initial1764201600000 } from './1764201600000-Initial';
import { LabModules1795000000000 } from './1795000000000-LabModules';
import { CheckpointBlobs1796000000000 } from './1796000000000-CheckpointBlobs';

/**
 * Every migration, in order. `npm run migration:generate` writes a new file
 * here; add its class to this list (the app and the CLI both read it).
 */
export const MIGRATIONS = [Initial1764201600000, LabModules1795000000000, CheckpointBlobs1796000000000];
