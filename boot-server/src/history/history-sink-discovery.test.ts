// Unknown machines are recorded once: a flood of boot requests of MACs without a host adds no boot_requests rows,
// one discovered row per MAC, and no more MACs than the discovery budget allows.
import { MemoryHistoryStore } from '@anvil/core/db';
import { silentLogger } from '@anvil/core/logging';
import type { BootRequestRecord } from '../spool/records.js';
import { DiscoveryBudget } from './discovery-budget.js';
import { HistorySink } from './history-sink.js';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const mac = (i: number) => `52:54:00:${((i >> 16) & 0xff).toString(16).padStart(2, '0')}:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
const unknownBoot = (i: number, m: string, clientIP = '10.0.0.66'): BootRequestRecord => ({
  kind: 'boot-request',
  time: new Date(T0 + i).toISOString(),
  mac: m,
  clientIP,
  path: `/ipxe/${m.replace(/:/g, '-')}`,
  served: 'Rejected',
  facts: { arch: 'x86_64', platform: i % 2 ? 'efi' : 'pcbios' },
});

describe('HistorySink: machines without a host', () => {
  it('stores no boot request rows for them and one discovered row per MAC, counting every sighting', async () => {
    const store = new MemoryHistoryStore();
    const sink = new HistorySink(store, silentLogger());
    const boots = Array.from({ length: 5000 }, (_, i) => unknownBoot(i, mac(i % 4)));
    for (let i = 0; i < boots.length; i += 2000) await sink.ship(boots.slice(i, i + 2000));
    expect(store.bootRequests.size).toBe(0);
    expect(store.discovered.size).toBe(4);
    expect([...store.discovered.values()].map((d) => d.seenCount)).toEqual([1250, 1250, 1250, 1250]);
    expect(store.discovered.get(mac(3))).toMatchObject({ lastIp: '10.0.0.66', arch: 'x86_64', platform: 'efi' });
    // A known host's boot requests are still its history.
    await sink.ship([{ ...unknownBoot(9999, mac(7)), served: 'InstallScript', host: { namespace: 'lab', name: 'n7', uid: 'u7' } }]);
    expect(store.bootRequests.size).toBe(1);
    expect(store.discovered.size).toBe(4);
  });

  it('records invented MACs only within the discovery budget', async () => {
    const store = new MemoryHistoryStore();
    const sink = new HistorySink(store, silentLogger(), new DiscoveryBudget({ perSource: 32, total: 100, windowMs: 3_600_000 }));
    // 5,000 random MACs from one address, then 5,000 from 1,000 addresses.
    await sink.ship(Array.from({ length: 5000 }, (_, i) => unknownBoot(i, mac(0x10000 + i))));
    expect(store.discovered.size).toBe(32);
    await sink.ship(Array.from({ length: 5000 }, (_, i) => unknownBoot(i, mac(0x20000 + i), `10.1.${i % 250}.${i % 4}`)));
    expect(store.discovered.size).toBe(100);
    expect(store.bootRequests.size).toBe(0);
  });
});
