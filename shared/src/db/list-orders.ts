// The order of every HistoryStore list, one definition for both stores (and so for their cursors): newest first by
// a time, then by id; an installation's events oldest first, by the installer's time, then the time received.
import type { BootRequest, DiscoveredMachine, Installation, RolloutDecision, StoredInstallerEvent, TemplateBuild } from './history-store.js';
import type { Keyset } from './paging.js';

export const installationsNewestFirst: Keyset<Installation> = { direction: 'desc', parts: 2, key: (i) => [i.startedAt, i.id] };

/** By when the server received the result (failures are listed only once they have one). */
export const failuresNewestFirst: Keyset<Installation> = { direction: 'desc', parts: 2, key: (i) => [i.finishReceivedAt!, i.id] };

export const eventsInTimeOrder: Keyset<StoredInstallerEvent> = { direction: 'asc', parts: 3, key: (e) => [e.eventTime, e.receivedAt, e.id] };

export const bootRequestsNewestFirst: Keyset<BootRequest> = { direction: 'desc', parts: 2, key: (r) => [r.time, r.id] };

export const discoveredLatestFirst: Keyset<DiscoveredMachine> = { direction: 'desc', parts: 2, key: (d) => [d.lastSeen, d.id] };

export const buildsNewestFirst: Keyset<TemplateBuild> = { direction: 'desc', parts: 2, key: (b) => [b.startedAt, b.id] };

export const decisionsNewestFirst: Keyset<RolloutDecision> = { direction: 'desc', parts: 2, key: (d) => [d.time, d.id] };
