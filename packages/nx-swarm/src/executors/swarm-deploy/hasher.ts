/** Nx's hash of the task's inputs plus the engine's state for the project (lib/docker/engine-state-hasher.ts). */
import { engineStateHasher } from '../../lib/docker/engine-state-hasher';

export default engineStateHasher();
