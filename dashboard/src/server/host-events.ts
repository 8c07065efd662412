// The Kubernetes Events about a host (events.k8s.io/v1: what the operator recorded, the dashboard's actions, power
// changes), newest first, for the host view. Read from the API server when asked (events are not cached), only for a
// user whose RBAC lets them list events in the host's namespace.
import { CoreResources, type KubeClient, type KubeObject } from '@anvil/core/kube';
import type { HostEventReader, HostEventView } from './ports.js';

/** The newest events shown. */
export const HOST_EVENTS = 50;

interface EventObject extends KubeObject {
  eventTime?: string;
  series?: { count?: number; lastObservedTime?: string };
  type?: string;
  reason?: string;
  action?: string;
  note?: string;
  reportingController?: string;
  deprecatedLastTimestamp?: string;
  deprecatedCount?: number;
}

export class KubeHostEventReader implements HostEventReader {
  constructor(private readonly client: KubeClient) {}

  async hostEvents(namespace: string, uid: string): Promise<HostEventView[]> {
    const items: EventObject[] = [];
    let cont: string | undefined;
    do {
      const page = await this.client.list<EventObject>(CoreResources.event, { namespace, fieldSelector: `regarding.uid=${uid}`, limit: 500, ...(cont ? { continue: cont } : {}) });
      items.push(...page.items);
      cont = page.continue;
    } while (cont && items.length < 5000);
    return items
      .map((e) => ({
        time: e.series?.lastObservedTime ?? e.deprecatedLastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp ?? '',
        type: e.type ?? '',
        reason: e.reason ?? '',
        action: e.action ?? '',
        note: e.note ?? '',
        count: e.series?.count ?? e.deprecatedCount ?? 1,
        reportingController: e.reportingController ?? '',
      }))
      .sort((a, b) => b.time.localeCompare(a.time))
      .slice(0, HOST_EVENTS);
  }
}
