// The syslog receiver on a real UDP socket: d-i's main-menu lines from the address a host booted from become that
// host's installer events in the spool (the webhook's records, with its install); datagrams that are not syslog, from
// an address no boot request came from, for a host without a debian-preseed install, or beyond the sender's rate are
// dropped and counted; nothing throws.
import { createSocket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { toSecret } from '@anvil/core/bootconfig';
import { silentLogger } from '@anvil/core/logging';
import { BootConfigIndex } from '../bootconfigs/index.js';
import { installConfig } from '../http/testing/serve-boot-app.js';
import type { InstallerEventRecord, SpoolRecord } from '../spool/records.js';
import { BootSenders } from './senders.js';
import { startSyslog, type SyslogServer } from './wiring.js';

const PRESEED_MAC = '52:54:00:2e:00:01';
const UBUNTU_MAC = '52:54:00:2e:00:02';
const TOKEN = 'tok-syslog-0123456789';

const bootRequest = (mac: string, clientIP: string, hostName?: string): SpoolRecord => ({
  kind: 'boot-request',
  time: new Date().toISOString(),
  mac,
  clientIP,
  path: '/boot.ipxe',
  served: 'InstallScript',
  ...(hostName ? { host: { namespace: 'lab', name: hostName, uid: `uid-${mac}` } } : {}),
});

describe('the syslog receiver', () => {
  const index = new BootConfigIndex();
  const registry = new Registry();
  const spooled: SpoolRecord[] = [];
  const senders = new BootSenders();
  const client = createSocket('udp4');
  let server: SyslogServer;

  beforeAll(async () => {
    index.upsert(toSecret(installConfig(PRESEED_MAC, TOKEN, { installer: 'debian-preseed', userData: '', metaData: '', preseed: 'd-i x/y string z\n' }), 'lab'));
    index.upsert(toSecret(installConfig(UBUNTU_MAC, TOKEN), 'lab'));
    server = await startSyslog({
      host: '127.0.0.1',
      port: 0,
      index,
      senders,
      spool: { append: async (records) => void spooled.push(...records) },
      eventGraceMs: 60_000,
      registry,
      log: silentLogger(),
      rateLimit: { perSecond: 1, burst: 20 },
    });
    client.bind(0, '127.0.0.1');
    await new Promise((r) => client.once('listening', r));
  });
  afterAll(async () => {
    client.close();
    await server.stop();
  });

  const send = (line: string): Promise<void> => new Promise((resolve, reject) => client.send(Buffer.from(line), server.port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  async function counts(expected: Record<string, number>): Promise<Record<string, number>> {
    let seen: Record<string, number> = {};
    for (let i = 0; i < 500; i++) {
      const metric = await registry.getSingleMetric('anvil_syslog_datagrams_total')!.get();
      seen = Object.fromEntries(metric.values.map((v) => [String(v.labels.outcome), v.value]));
      if (Object.entries(expected).every(([k, n]) => (seen[k] ?? 0) >= n)) break;
      await sleep(20);
    }
    return seen;
  }

  it('drops datagrams from an address no host booted from, and ones that are not syslog', async () => {
    await send("<13>Dec  7 06:01:02 main-menu[312]: INFO: Menu item 'netcfg' selected");
    await send('no priority here');
    expect(await counts({ 'unknown-sender': 1, malformed: 1 })).toEqual({ 'unknown-sender': 1, malformed: 1 });
    expect(spooled).toEqual([]);
  });

  it("turns main-menu's steps into the host's installer events, spooled with its install", async () => {
    senders.observe([bootRequest(PRESEED_MAC, '::ffff:127.0.0.1', `host-${PRESEED_MAC.replace(/\W/g, '')}`)]);
    expect(senders.macOf('127.0.0.1')).toBe(PRESEED_MAC);
    await send("<13>Dec  7 06:01:02 main-menu[312]: INFO: Menu item 'netcfg' selected");
    await send('<13>Dec  7 06:01:03 netcfg[400]: DHCP lease obtained');
    await send("<13>Dec  7 06:01:04 main-menu[312]: INFO: Menu item 'choose-mirror' selected");
    await send("<11>Dec  7 06:01:05 main-menu[312]: WARNING **: Configuring 'choose-mirror' failed with error code 1");
    expect(await counts({ event: 3, ignored: 1 })).toMatchObject({ event: 3, ignored: 1 });
    const events = spooled.filter((r): r is InstallerEventRecord => r.kind === 'installer-event');
    expect(events.map((r) => [r.mac, r.installationId, r.event.name, r.event.event_type, r.event.result ?? ''])).toEqual([
      [PRESEED_MAC, '55555555-5555-4555-8555-555555555555', 'debian-installer/netcfg', 'start', ''],
      [PRESEED_MAC, '55555555-5555-4555-8555-555555555555', 'debian-installer/netcfg', 'finish', 'SUCCESS'],
      [PRESEED_MAC, '55555555-5555-4555-8555-555555555555', 'debian-installer/choose-mirror', 'start', ''],
      [PRESEED_MAC, '55555555-5555-4555-8555-555555555555', 'debian-installer/choose-mirror', 'finish', 'FAIL'],
    ]);
    expect(events.at(-1)!.event).toMatchObject({ origin: 'd-i-syslog', description: 'choosing a Debian mirror failed (error code 1)' });
    expect(JSON.stringify(spooled)).not.toContain(TOKEN);
  });

  it('follows only hosts with a debian-preseed install, and limits each sender', async () => {
    spooled.length = 0;
    senders.observe([bootRequest(UBUNTU_MAC, '127.0.0.1', `host-${UBUNTU_MAC.replace(/\W/g, '')}`)]);
    await send("<13>Dec  7 06:01:02 main-menu[312]: INFO: Menu item 'netcfg' selected");
    expect(await counts({ 'not-installing': 1 })).toMatchObject({ 'not-installing': 1 });
    for (let i = 0; i < 30; i++) await send('<13>Dec  7 06:01:02 kernel: flood');
    expect((await counts({ 'rate-limited': 1 }))['rate-limited']).toBeGreaterThanOrEqual(1);
    expect(spooled).toEqual([]);
  });
});

describe('the senders of boot requests', () => {
  it('keeps a bounded map, the least recently seen address forgotten first', () => {
    const senders = new BootSenders(2);
    senders.observe([bootRequest('52:54:00:00:00:01', '10.0.0.1', 'a'), bootRequest('52:54:00:00:00:02', '10.0.0.2', 'b')]);
    senders.observe([bootRequest('52:54:00:00:00:01', '10.0.0.1', 'a'), bootRequest('52:54:00:00:00:03', '10.0.0.3', 'c')]);
    expect([senders.macOf('10.0.0.1'), senders.macOf('10.0.0.2'), senders.macOf('10.0.0.3'), senders.size]).toEqual(['52:54:00:00:00:01', undefined, '52:54:00:00:00:03', 2]);
    // an unknown machine's request (no host) maps nothing
    senders.observe([bootRequest('52:54:00:00:00:04', '10.0.0.4')]);
    expect(senders.macOf('10.0.0.4')).toBeUndefined();
  });
});
