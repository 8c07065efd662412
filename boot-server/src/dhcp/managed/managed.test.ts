// The managed DHCP: the lease table (pool, reservations, offers held, leases on disk across a restart) and the
// packets it answers (RFC 2131's DISCOVER/OFFER, REQUEST/ACK or NAK, RELEASE, DECLINE), each on the wire and parsed back.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DhcpOption, MessageType } from '../codes.js';
import type { ProxyDhcpPolicy } from '../decide.js';
import { encodeDhcp, parseDhcp, type DhcpPacket } from '../packet.js';
import { clients, rawRequest } from '../testing/requests.js';
import { decideManaged, type ManagedDecision } from './decide-managed.js';
import { LeaseTable, parsePool, type Reservations } from './lease-table.js';

const SERVER = '10.20.0.2';
const A = '52:54:00:00:00:0a';
const B = '52:54:00:00:00:0b';
const HOST = '52:54:00:00:00:01';
const T0 = 1_800_000_000_000;
const proxy: ProxyDhcpPolicy = { serverAddress: SERVER, httpBaseURL: 'http://10.20.0.2:8080', answerUnknown: false, bootFiles: { bios: 'undionly.kpxe', uefiX64: 'snponly.efi' } };
const policy = { netmask: '255.255.255.0', router: '10.20.0.1', dns: ['10.20.0.1', '9.9.9.9'], leaseSeconds: 600 };

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'anvil-dhcp-leases-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const reservations = (map: Record<string, string> = {}): Reservations => ({
  reservationOf: (mac) => map[mac],
  reserved: () => new Map(Object.entries(map).map(([mac, ip]) => [ip, mac])),
});
const table = (pool = '10.20.0.100-10.20.0.102', reserved: Record<string, string> = {}) => new LeaseTable(parsePool(pool) as { start: number; end: number }, join(dir, 'leases.json'), reservations(reserved));

/** A plain DHCP client's (udhcpc, an installed system) messages. */
const discover = (mac: string, requested?: string) => rawRequest({ mac, type: MessageType.Discover, options: requested ? [[DhcpOption.RequestedAddress, requested.split('.').map(Number)]] : [] });
const request = (mac: string, address: string, serverId?: string) =>
  rawRequest({ mac, type: MessageType.Request, options: [[DhcpOption.RequestedAddress, address.split('.').map(Number)], ...(serverId ? ([[DhcpOption.ServerId, serverId.split('.').map(Number)]] as [number, number[]][]) : [])] });

function run(t: LeaseTable, raw: Buffer, now = T0, known: string[] = [HOST]): ManagedDecision {
  const parsed = parseDhcp(raw);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return decideManaged(parsed.packet, t, policy, proxy, (mac) => known.includes(mac), now);
}
function wire(d: ManagedDecision): DhcpPacket {
  if (d.action !== 'reply') throw new Error(`no reply: ${JSON.stringify(d)}`);
  const back = parseDhcp(encodeDhcp(d.reply));
  if (!back.ok) throw new Error(back.error.message);
  return back.packet;
}
const ip = (b: Buffer | undefined) => (b ? [...b].join('.') : undefined);

describe('managed DHCP', () => {
  it('parses pools and says what is wrong', () => {
    expect(parsePool('10.0.0.10-10.0.0.20')).toEqual({ start: 167772170, end: 167772180 });
    expect(parsePool('10.0.0.20-10.0.0.10')).toMatch(/after its last/);
    expect(parsePool('10.0.0.300-10.0.1.1')).toMatch(/two IPv4 addresses/);
    expect(parsePool('10.0.0.0-10.2.0.0')).toMatch(/at most 65,536/);
  });

  it('offers an address with mask, router, DNS and lease times, and acks it once the lease is on disk', () => {
    const t = table();
    const offer = wire(run(t, discover(A)));
    expect(offer.yiaddr).toBe('10.20.0.100');
    expect(offer.options.get(DhcpOption.MessageType)).toEqual(Buffer.from([MessageType.Offer]));
    expect(ip(offer.options.get(DhcpOption.ServerId))).toBe(SERVER);
    expect(ip(offer.options.get(DhcpOption.SubnetMask))).toBe('255.255.255.0');
    expect(ip(offer.options.get(DhcpOption.Router))).toBe('10.20.0.1');
    expect([...offer.options.get(DhcpOption.DnsServer)!]).toEqual([10, 20, 0, 1, 9, 9, 9, 9]);
    expect(offer.options.get(DhcpOption.LeaseTime)!.readUInt32BE()).toBe(600);
    expect(offer.options.get(DhcpOption.RenewalTime)!.readUInt32BE()).toBe(300);
    expect(offer.file).toBe(''); // not a PXE client: an address only
    // another client meanwhile gets another address (the offer is held)
    expect(wire(run(t, discover(B))).yiaddr).toBe('10.20.0.101');

    const ack = wire(run(t, request(A, '10.20.0.100', SERVER)));
    expect(ack.options.get(DhcpOption.MessageType)).toEqual(Buffer.from([MessageType.Ack]));
    expect(ack.yiaddr).toBe('10.20.0.100');
    expect(JSON.parse(readFileSync(join(dir, 'leases.json'), 'utf8'))).toEqual({ leases: [{ mac: A, address: '10.20.0.100', expires: T0 + 600_000 }] });
  });

  it('keeps leases across a restart: the address stays with its machine, and is not offered to another', () => {
    const first = table();
    run(first, discover(A));
    run(first, request(A, '10.20.0.100', SERVER));
    const restarted = table();
    expect(wire(run(restarted, discover(B))).yiaddr).toBe('10.20.0.101');
    expect(wire(run(restarted, discover(A))).yiaddr).toBe('10.20.0.100');
    // after it expired, the address is free again
    const later = table();
    expect(wire(run(later, discover(B, '10.20.0.100'), T0 + 601_000)).yiaddr).toBe('10.20.0.100');
  });

  it('gives a host its reservation (even outside the pool), and never gives a reserved address to another', () => {
    const t = table('10.20.0.100-10.20.0.101', { [HOST]: '10.20.0.50', [B]: '10.20.0.100' });
    expect(wire(run(t, discover(HOST))).yiaddr).toBe('10.20.0.50');
    expect(wire(run(t, discover(A, '10.20.0.100'))).yiaddr).toBe('10.20.0.101');
    expect(run(t, request(A, '10.20.0.100'))).toMatchObject({ action: 'reply', kind: 'lease-nak' });
    expect(run(t, request(HOST, '10.20.0.100'))).toMatchObject({ kind: 'lease-nak' });
    expect(run(t, request(HOST, '10.20.0.50', SERVER))).toMatchObject({ kind: 'lease-ack', address: '10.20.0.50' });
  });

  it('gives a PXE client anvil answers its boot file with the address; a stranger an address only', () => {
    const t = table();
    const pxe = wire(run(t, clients.ipxe(HOST)));
    expect(pxe.yiaddr).toBe('10.20.0.100');
    expect(pxe.file).toBe('http://10.20.0.2:8080/boot.ipxe');
    expect(pxe.siaddr).toBe(SERVER);
    const firmware = wire(run(t, clients.ovmfX64(HOST)));
    expect(firmware.file).toBe('snponly.efi');
    expect(firmware.options.get(DhcpOption.VendorClass)?.toString()).toBe('PXEClient');
    const stranger = wire(run(t, clients.ipxe(A)));
    expect(stranger.yiaddr).toBe('10.20.0.101');
    expect(stranger.file).toBe('');
  });

  it('ignores a REQUEST for another server, NAKs an address the client may not have, and says when the pool is empty', () => {
    const t = table('10.20.0.100-10.20.0.100');
    expect(run(t, request(A, '10.20.0.100', '10.20.0.9'))).toMatchObject({ action: 'ignore', reason: 'other-server' });
    expect(run(t, request(A, '10.99.0.1'))).toMatchObject({ kind: 'lease-nak' });
    const nak = wire(run(t, request(A, '10.99.0.1')));
    expect(nak.options.get(DhcpOption.MessageType)).toEqual(Buffer.from([MessageType.Nak]));
    expect(nak.yiaddr).toBe('0.0.0.0');
    run(t, discover(A));
    run(t, request(A, '10.20.0.100', SERVER));
    expect(run(t, discover(B))).toMatchObject({ action: 'ignore', reason: 'pool-exhausted' });
  });

  it('frees an address on RELEASE, and holds back a DECLINEd one', () => {
    const t = table('10.20.0.100-10.20.0.101');
    run(t, discover(A));
    run(t, request(A, '10.20.0.100', SERVER));
    expect(run(t, rawRequest({ mac: A, type: MessageType.Release, ciaddr: '10.20.0.100', options: [[DhcpOption.ServerId, [10, 20, 0, 2]]] }))).toMatchObject({ action: 'done', kind: 'release' });
    expect(t.leaseOf(A)).toBeUndefined();
    run(t, discover(B));
    expect(run(t, rawRequest({ mac: B, type: MessageType.Decline, options: [[DhcpOption.RequestedAddress, [10, 20, 0, 100]]] }))).toMatchObject({ action: 'done', kind: 'decline' });
    expect(wire(run(t, discover(A))).yiaddr).toBe('10.20.0.101');
  });
});
