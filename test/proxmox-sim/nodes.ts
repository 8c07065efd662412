// The node: the PVE version it answers with, and the one node name it serves (any other node is a failed lookup).
import type { SimContext } from './context.js';
import { fail500 } from './errors.js';
import type { Route } from './router.js';
import type { PveMajor } from './schema.js';

export interface VersionInfo {
  version: string;
  release: string;
  repoid: string;
}

export const VERSIONS: Record<PveMajor, VersionInfo> = {
  8: { version: '8.4.1', release: '8.4', repoid: '2a5fa54a8503f96d' },
  9: { version: '9.1.2', release: '9.1', repoid: '9d436f37a0ac4172' },
};

/** PVE proxies a request for another node to it: this simulator has one node, so any other name fails its lookup. */
export function checkNode(ctx: Pick<SimContext, 'node'>, params: Record<string, string>): void {
  const node = params.node;
  if (node !== undefined && node !== ctx.node) {
    throw fail500(`hostname lookup '${node}' failed - failed to get address info for: ${node}: Name or service not known`);
  }
}

/** `version` is read per request: a test may change the simulator's versionInfo. */
export function nodeRoutes(version: () => VersionInfo): Route[] {
  return [{ method: 'GET', template: '/version', handle: () => ({ data: { ...version() } }) }];
}
