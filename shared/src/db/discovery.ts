// How sightings of a machine become its one discovered_machines row, shared by the SQL and in-memory stores so both
// count and merge the same way. A row is updated in place for every sighting; it never multiplies.
import type { DiscoveredMachine, DiscoveredMachineInput } from './history-store.js';
import { normalizeMac } from '../bootconfig/boot-config.js';
import { clean, toDate } from './store-util.js';

export const FACT_KEYS = ['lastIp', 'arch', 'platform', 'systemUuid'] as const;
export type DiscoveryFacts = Pick<DiscoveredMachine, (typeof FACT_KEYS)[number]>;
export type DiscoveredState = Pick<DiscoveredMachine, 'firstSeen' | 'lastSeen' | 'seenCount'> & DiscoveryFacts;

export interface Sighting {
  seen: Date;
  facts: DiscoveryFacts;
}

/** The valid sightings (a MAC and a time) by normalised MAC, each MAC's oldest first; the rest are dropped. */
export function sightingsByMac(inputs: readonly DiscoveredMachineInput[]): Map<string, Sighting[]> {
  const byMac = new Map<string, Sighting[]>();
  for (const m of inputs) {
    const seen = toDate(m.seenAt);
    if (!seen || typeof m.mac !== 'string' || !m.mac.trim()) continue;
    const mac = normalizeMac(m.mac);
    const facts = { lastIp: clean(m.ip), arch: clean(m.arch), platform: clean(m.platform), systemUuid: clean(m.systemUuid) };
    let list = byMac.get(mac);
    if (!list) byMac.set(mac, (list = []));
    list.push({ seen, facts });
  }
  for (const list of byMac.values()) list.sort((a, b) => a.seen.getTime() - b.seen.getTime());
  return byMac;
}

/**
 * A row after its sightings (oldest first). first_seen keeps the earliest sighting; a sighting at or after the latest
 * one sets the facts it carries, an older one only fills facts still unknown. Every sighting is counted: concurrent
 * boot requests arrive out of order and within the same millisecond, so no time rule can tell a repeat from a new
 * one; a batch shipped again after a crash counts again (the count is at least the number of sightings).
 */
export function applySightings(prev: DiscoveredState | undefined, sightings: readonly Sighting[]): DiscoveredState {
  let row: DiscoveredState | undefined = prev && { firstSeen: prev.firstSeen, lastSeen: prev.lastSeen, seenCount: prev.seenCount, lastIp: prev.lastIp, arch: prev.arch, platform: prev.platform, systemUuid: prev.systemUuid };
  for (const s of sightings) {
    if (!row) {
      row = { firstSeen: s.seen, lastSeen: s.seen, seenCount: 1, ...s.facts };
      continue;
    }
    if (s.seen < row.firstSeen) row.firstSeen = s.seen;
    const newer = s.seen >= row.lastSeen;
    row.seenCount++;
    if (newer) row.lastSeen = s.seen;
    for (const k of FACT_KEYS) row[k] = newer ? (s.facts[k] ?? row[k]) : (row[k] ?? s.facts[k]);
  }
  if (!row) throw new Error('applySightings needs a row or a sighting');
  return row;
}
