import { RequestError } from './errors.js';
import type { Cluster } from './context.js';
import { BareMetalHostResource } from './resources.js';
import type { Host } from './table.js';

/** The host, or a RequestError naming it and its namespace. */
export async function getHost(cluster: Cluster, name: string): Promise<Host> {
  const host = await cluster.client.get<Host>(BareMetalHostResource, { namespace: cluster.namespace, name });
  if (!host) throw new RequestError(`BareMetalHost ${cluster.namespace}/${name} not found`, `'anvil hosts -n ${cluster.namespace}' lists the hosts there; -n picks another namespace.`);
  return host;
}
