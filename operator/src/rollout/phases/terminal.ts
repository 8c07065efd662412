// Completed, RolledBack, RollbackFailed: nothing to do until the template's revision changes (step.ts starts over).
import type { PhaseHandler } from '../types.js';
import { stay } from '../waves.js';

export const terminal: PhaseHandler = (_snap, status) => stay(status);
