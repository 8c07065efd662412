// Every resource's endpoints, composed in one table for the router.
import type { SimContext } from './context.js';
import { nodeRoutes, type VersionInfo } from './nodes.js';
import type { Route } from './router.js';
import { storageRoutes } from './storage.js';
import { taskRoutes } from './tasks.js';
import { vmConfigRoutes } from './vm-config.js';
import { vmCreateRoutes } from './vm-create.js';
import { diskRoutes } from './vm-disks.js';
import { vmLifecycleRoutes } from './vm-lifecycle.js';
import { vmPowerRoutes } from './vm-power.js';
import { vmRegistryRoutes } from './vms.js';

export interface RouteOptions {
  /** Read per request: a test may change the simulator's versionInfo. */
  version: () => VersionInfo;
  /** VMIDs whose next create loses the race to another client. */
  races: Set<number>;
}

export function allRoutes(ctx: SimContext, { version, races }: RouteOptions): Route[] {
  return [
    ...nodeRoutes(version),
    ...storageRoutes(ctx),
    ...vmRegistryRoutes(ctx),
    ...vmCreateRoutes(ctx, races),
    ...vmConfigRoutes(ctx),
    ...diskRoutes(ctx),
    ...vmLifecycleRoutes(ctx),
    ...vmPowerRoutes(ctx),
    ...taskRoutes(ctx),
  ];
}
