// Kubernetes events (events.k8s.io/v1), deduplicated like client-go's recorder: a repeat of the same event within
// the series window updates the existing object's series count instead of creating a new object.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { CoreResources, type KubeClient, type KubeObject } from '@anvil/core/kube';
import { microTime } from '@anvil/core/conditions';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  /** Records an event about `regarding`; never throws and never blocks the caller. */
  event(regarding: KubeObject, type: EventType, reason: string, action: string, note: string): void;
}

interface SeriesEntry {
  name: string;
  namespace: string;
  count: number;
  sentCount: number;
  firstSeen: number;
  inFlight: Promise<void> | undefined;
}

const SERIES_WINDOW_MS = 6 * 60 * 1000;
const MAX_NOTE = 1024;

export class KubeEventRecorder implements EventRecorder {
  private readonly series = new Map<string, SeriesEntry>();
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly client: KubeClient,
    private readonly controller: string,
    private readonly instance: string,
    private readonly log: Logger,
  ) {}

  event(regarding: KubeObject, type: EventType, reason: string, action: string, note: string): void {
    const p = this.record(regarding, type, reason, action, note.slice(0, MAX_NOTE)).catch((err: unknown) =>
      this.log.warn({ err: String(err), reason, object: regarding.metadata.name }, 'could not record event'),
    );
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Waits for events already recorded to be written (used on shutdown and in tests). */
  async flush(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  private async record(regarding: KubeObject, type: EventType, reason: string, action: string, note: string): Promise<void> {
    const now = Date.now();
    const key = [regarding.metadata.uid, type, reason, action, note].join('\u0000');
    const existing = this.series.get(key);
    if (existing && now - existing.firstSeen < SERIES_WINDOW_MS) {
      existing.count++;
      if (!existing.inFlight) existing.inFlight = this.sendSeries(existing).finally(() => (existing.inFlight = undefined));
      return existing.inFlight;
    }
    this.prune(now);
    const namespace = regarding.metadata.namespace || 'default';
    const name = `${regarding.metadata.name}.${now.toString(16)}${randomBytes(3).toString('hex')}`;
    const entry: SeriesEntry = { name, namespace, count: 1, sentCount: 1, firstSeen: now, inFlight: undefined };
    this.series.set(key, entry);
    const create = this.client
      .create(CoreResources.event, {
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name, namespace },
        eventTime: microTime(new Date(now)),
        reportingController: this.controller,
        reportingInstance: this.instance,
        action,
        reason,
        note,
        type,
        regarding: {
          apiVersion: regarding.apiVersion,
          kind: regarding.kind,
          name: regarding.metadata.name,
          namespace: regarding.metadata.namespace,
          uid: regarding.metadata.uid,
          resourceVersion: regarding.metadata.resourceVersion,
        },
      })
      .then(() => undefined);
    entry.inFlight = create.finally(() => {
      entry.inFlight = undefined;
      if (entry.count > entry.sentCount) entry.inFlight = this.sendSeries(entry).finally(() => (entry.inFlight = undefined));
    });
    return create;
  }

  /** Coalesces repeats: whatever the count is when a write starts is what gets written. */
  private async sendSeries(entry: SeriesEntry): Promise<void> {
    while (entry.count > entry.sentCount) {
      const count = entry.count;
      await this.client.patch(CoreResources.event, { namespace: entry.namespace, name: entry.name }, 'merge', {
        series: { count, lastObservedTime: microTime() },
      });
      entry.sentCount = count;
    }
  }

  private prune(now: number): void {
    for (const [key, e] of this.series) if (now - e.firstSeen >= SERIES_WINDOW_MS && !e.inFlight) this.series.delete(key);
  }
}

/** Collects events in memory: the fake for unit tests. */
export class MemoryEventRecorder implements EventRecorder {
  readonly events: { object: string; type: EventType; reason: string; action: string; note: string }[] = [];
  event(regarding: KubeObject, type: EventType, reason: string, action: string, note: string): void {
    this.events.push({ object: `${regarding.metadata.namespace}/${regarding.metadata.name}`, type, reason, action, note });
  }
}
