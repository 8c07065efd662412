// An install's installer events in timeline order (see docs/history.md, "Timeline"): start and finish events by
// the installer's clock, then by when they were received; the order of delivery only pairs starts with finishes.
// Phases (phases.ts) and the failed stage (derive-failure.ts) are both read from this order.

export interface TimelineEvent {
  name: string;
  eventType: string;
  result: string | null;
  description: string | null;
  /** The installer's timestamp (durations are measured on this clock). */
  eventTime: Date;
  /** When the server received it; orders events with equal installer timestamps (installers' clocks are coarse). */
  receivedAt?: Date;
}

/** Names may end in `/` (a subiquity context with an empty child name): that is the same context. */
export const normalizePhaseName = (name: string): string => name.replace(/\/+$/, '') || name;

export const segments = (name: string): string[] => name.split('/');
export const lastSegment = (name: string): string => name.slice(name.lastIndexOf('/') + 1);

export interface Ordered {
  event: TimelineEvent;
  name: string;
  /** Position in the timeline (the sort order below). */
  pos: number;
}

/**
 * Start and finish events in timeline order: by installer time, then by receive time, then as given. A finish that
 * would come before its own start with the same installer and receive times (a coarse clock, one batch) is put after it.
 */
export function ordered(events: readonly TimelineEvent[]): Ordered[] {
  const recv = (e: TimelineEvent) => (e.receivedAt ? e.receivedAt.getTime() : 0);
  const items = events
    .map((event, i) => ({ event, i, name: normalizePhaseName(event.name), time: event.eventTime.getTime(), recv: recv(event) }))
    .filter((x) => x.event.eventType === 'start' || x.event.eventType === 'finish')
    .sort((a, b) => a.time - b.time || a.recv - b.recv || a.i - b.i);
  type Item = (typeof items)[number];
  const out: Item[] = [];
  const open = new Map<string, number>();
  const emit = (x: Item) => {
    out.push(x);
    open.set(x.name, Math.max(0, (open.get(x.name) ?? 0) + (x.event.eventType === 'start' ? 1 : -1)));
  };
  for (let from = 0; from < items.length; ) {
    let to = from + 1;
    while (to < items.length && items[to]!.time === items[from]!.time && items[to]!.recv === items[from]!.recv) to++;
    if (to === from + 1) {
      emit(items[from++]!);
      continue;
    }
    // Within a group of equal times: starts not yet emitted, by name, so a finish can pull its own start ahead.
    const pending = new Map<string, Item[]>();
    for (let k = from; k < to; k++) {
      const x = items[k]!;
      if (x.event.eventType === 'start') (pending.get(x.name) ?? pending.set(x.name, []).get(x.name)!).push(x);
    }
    const emitted = new Set<Item>();
    for (let k = from; k < to; k++) {
      const x = items[k]!;
      if (emitted.has(x)) continue;
      if (x.event.eventType === 'start') pending.get(x.name)!.shift();
      else if (!open.get(x.name)) {
        const own = pending.get(x.name)?.shift();
        if (own) {
          emit(own);
          emitted.add(own);
        }
      }
      emit(x);
    }
    from = to;
  }
  return out.map((x, pos) => ({ event: x.event, name: x.name, pos }));
}

// subiquity: @with_context(description="executing curtin install {name} step") async def run_curtin_step(...)
export const CURTIN_STEP_RE = /^executing curtin install (.+) step$/;
