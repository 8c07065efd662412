// Every controller the operator runs is registered here. Each lives in its own folder under controllers/.
import type { Logger } from 'pino';
import type { Manager } from '../runtime/manager.js';

export interface ControllerDeps {
  maxConcurrentReconciles: number;
  log: Logger;
}

/** Registers the controllers and returns their names. */
export function registerControllers(_manager: Manager, _deps: ControllerDeps): string[] {
  // The BareMetalHost, AutoinstallTemplate and ProxmoxTemplate controllers arrive with their issues (3 and 8);
  // until then the operator runs the runtime (caches, leader election, metrics, health) with no controllers.
  return [];
}
