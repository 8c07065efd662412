// --discovery=create: the sink that makes Discovered BareMetalHosts, and its counts as metrics.
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import type { KubeClient } from '@anvil/core/kube';
import type { BootServerConfig } from '../config.js';
import { DiscoveredHostSink, type DiscoveryCounts } from './discovered-host-sink.js';

export function discoveredHostSink(
  config: Pick<BootServerConfig, 'discoveryNamespace' | 'namespaces' | 'discoveryCreatesPerMinute'>,
  client: KubeClient,
  log: Logger,
  registry: Registry,
): DiscoveredHostSink {
  const sink = new DiscoveredHostSink(client, log.child({ sink: 'discovered-hosts' }), {
    namespace: config.discoveryNamespace,
    scope: config.namespaces,
    createsPerMinute: config.discoveryCreatesPerMinute,
  });
  new Gauge({
    name: 'anvil_discovery_sightings',
    help: 'Unknown machines seen with --discovery=create, by outcome: created (a Discovered BareMetalHost), declared (a host has the MAC), deferred (over the budget or rate; a later boot creates it), refused (the API server refused the host)',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      for (const [outcome, n] of Object.entries(sink.counts) as [keyof DiscoveryCounts, number][]) this.set({ outcome }, n);
    },
  });
  log.info({ namespace: config.discoveryNamespace }, 'discovery: unknown machines get a Discovered BareMetalHost');
  return sink;
}
