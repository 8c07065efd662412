// 10,000 random and mutated packets from a seeded generator (the same ones on every run): parsing and deciding never
// throw, and every answer encodes and is well formed.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decide, type ProxyDhcpPolicy, type Via } from './decide.js';
import { decideManaged } from './managed/decide-managed.js';
import { LeaseTable } from './managed/lease-table.js';
import { encodeDhcp, parseDhcp } from './packet.js';
import { answerProblems, clients, rawRequest } from './testing/requests.js';

/** mulberry32: small, fast and deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SERVER = '10.20.0.2';
const policy: ProxyDhcpPolicy = {
  serverAddress: SERVER,
  httpBaseURL: 'http://10.20.0.2:8080',
  answerUnknown: true,
  bootFiles: { bios: 'undionly.kpxe', uefiX64: 'snponly.efi', arm64: 'snponly-arm64.efi', httpBootURL: 'http://10.20.0.2:8080/snponly.efi' },
};
const MAC = '52:54:00:aa:bb:cc';
const seeds = [clients.biosPxeRom(MAC), clients.ipxe(MAC), clients.ovmfX64(MAC), clients.arm64Uefi(MAC), clients.httpBoot(MAC), clients.ipxeProxyRequest(MAC, '10.20.0.9', SERVER)];
const INTERESTING_CODES = [0, 1, 43, 52, 53, 54, 60, 61, 67, 77, 93, 94, 97, 175, 255];

function packets(count: number, seed: number): Buffer[] {
  const rnd = prng(seed);
  const int = (n: number): number => Math.floor(rnd() * n);
  const randomBytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(256)));
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const base = Buffer.from(seeds[int(seeds.length)]!);
    switch (i % 5) {
      case 0: // pure noise, any length
        out.push(randomBytes(int(700)));
        break;
      case 1: {
        // a few bytes flipped anywhere
        for (let k = int(4) + 1; k > 0; k--) base[int(base.length)] = int(256);
        out.push(base);
        break;
      }
      case 2: // truncated, maybe with junk appended
        out.push(Buffer.concat([base.subarray(0, int(base.length)), randomBytes(int(3) === 0 ? int(40) : 0)]));
        break;
      case 3: {
        // bytes flipped in the options only, where the parser's bookkeeping is
        for (let k = int(3) + 1; k > 0; k--) base[240 + int(base.length - 240)] = rnd() < 0.5 ? INTERESTING_CODES[int(INTERESTING_CODES.length)]! : int(256);
        out.push(base);
        break;
      }
      default: {
        // a valid header with random, often interesting, options (random lengths and values)
        const options: [number, number[]][] = [];
        for (let k = int(8); k > 0; k--) options.push([rnd() < 0.7 ? INTERESTING_CODES[int(INTERESTING_CODES.length - 2) + 1]! : int(254) + 1, [...randomBytes(int(rnd() < 0.8 ? 20 : 255))]]);
        if (rnd() < 0.5) options.push([60, [...Buffer.from(rnd() < 0.5 ? 'PXEClient:Arch:0000' + String(int(10)) : 'HTTPClient')]]);
        const mac = [0x52, 0x54, int(256), int(256), int(256), int(256)].map((b) => b.toString(16).padStart(2, '0')).join(':');
        const raw = rawRequest({ mac, type: int(10), options });
        if (rnd() < 0.2) raw[240 + 2 + int(raw.length - 243)] = 52; // an overload option somewhere
        out.push(raw);
      }
    }
  }
  return out;
}

describe('fuzz: 10,000 seeded random and mutated packets', () => {
  it('never throws, and every answer is well formed', () => {
    const tally = { malformed: 0, ignored: 0, answered: 0 };
    for (const buf of packets(10_000, 0x5eed)) {
      const parsed = parseDhcp(buf);
      if (!parsed.ok) {
        expect(parsed.error.code).toMatch(/^(too-short|bad-op|bad-hlen|no-magic-cookie|truncated-option|missing-end|bad-option)$/);
        tally.malformed++;
        continue;
      }
      for (const via of ['dhcp', 'pxe'] as Via[]) {
        const d = decide(parsed.packet, via, () => false, policy);
        if (d.action === 'ignore') {
          tally.ignored++;
          continue;
        }
        tally.answered++;
        const problems = answerProblems(encodeDhcp(d.reply), buf, SERVER);
        if (problems.length) throw new Error(`answer to ${buf.toString('hex')} via ${via}: ${problems.join('; ')}`);
      }
    }
    // Every path was exercised (the numbers are fixed by the seed).
    expect(tally.malformed).toBeGreaterThan(1000);
    expect(tally.ignored).toBeGreaterThan(1000);
    expect(tally.answered).toBeGreaterThan(1000);
  });

  it('the managed DHCP never throws either: every reply parses back, with an address or a NAK, and the lease file stays readable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'anvil-dhcp-fuzz-'));
    try {
      const file = join(dir, 'leases.json');
      const table = new LeaseTable({ start: 0x0a140064, end: 0x0a1400c7 }, file, { reservationOf: () => undefined, reserved: () => new Map() });
      const tally = { replies: 0, other: 0 };
      let now = 1_800_000_000_000;
      for (const buf of packets(10_000, 0xd4c9)) {
        const parsed = parseDhcp(buf);
        if (!parsed.ok) continue;
        const d = decideManaged(parsed.packet, table, { netmask: '255.255.255.0', dns: [], leaseSeconds: 60 }, policy, () => false, (now += 1000));
        if (d.action !== 'reply') {
          tally.other++;
          continue;
        }
        tally.replies++;
        const back = parseDhcp(encodeDhcp(d.reply));
        if (!back.ok) throw new Error(`reply to ${buf.toString('hex')} does not parse: ${back.error.message}`);
        expect(d.kind === 'lease-nak' ? back.packet.yiaddr === '0.0.0.0' : /^10\.20\.0\.\d+$/.test(back.packet.yiaddr)).toBe(true);
      }
      expect(tally.replies).toBeGreaterThan(100);
      expect(tally.other).toBeGreaterThan(100);
      if (existsSync(file)) expect(Array.isArray((JSON.parse(readFileSync(file, 'utf8')) as { leases: unknown }).leases)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
