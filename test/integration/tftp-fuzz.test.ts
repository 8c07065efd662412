// Robustness: thousands of random and mutated TFTP packets (random opcodes, truncations, no NUL terminators, huge
// option lists, traversal names, symlink escapes) against the listening port and live transfer ports. The server
// stays up, answers a normal request afterwards, leaks no session, and never sends a byte from outside its root.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TftpServer } from '@anvil/boot-server/src/tftp/server.js';
import { VirtualFiles } from '@anvil/boot-server/src/tftp/virtual-files.js';
import { ErrorCode, encodeAck, encodeError, encodeRequest } from '@anvil/boot-server/src/tftp/packet.js';
import { RawPeer, TftpClientError, tftpGet } from '../tftp/client.js';
import { prng } from '../tftp/tools.js';

const PACKETS = 6000;
let dir: string;
let root: string;
let secret: Buffer;
let served: Buffer[]; // everything the server may legitimately send as DATA
let server: TftpServer;
let port: number;
const peers: RawPeer[] = [];

const TRAVERSALS = [
  '../secret.bin',
  '../../etc/passwd',
  '/../secret.bin',
  '..\\secret.bin',
  '\\..\\..\\etc\\passwd',
  'sub/../../secret.bin',
  '%2e%2e/secret.bin',
  '%2E%2E%2Fsecret.bin',
  '..%2fsecret.bin',
  '%252e%252e%252fsecret.bin',
  'sub%5c..%5c..%5csecret.bin',
  '//etc/passwd',
  '/etc/passwd',
  'C:\\secret.bin',
  'escape.bin',
  'escape-dir/secret.bin',
  'sub/escape-rel.bin',
  '....//secret.bin',
  './../secret.bin',
  '..\u0000',
  '../secret.bin\u0000\u00ff',
];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'anvil-tftp-fuzz-'));
  root = join(dir, 'root');
  await mkdir(join(root, 'sub'), { recursive: true });
  secret = Buffer.concat([Buffer.from('ANVIL-SECRET-'), randomBytes(4096)]);
  await writeFile(join(dir, 'secret.bin'), secret);
  const a = randomBytes(3000);
  const b = Buffer.from('#!ipxe\nchain http://example/boot\n');
  await writeFile(join(root, 'a.bin'), a);
  await writeFile(join(root, 'sub', 'b.txt'), b);
  await symlink(join(dir, 'secret.bin'), join(root, 'escape.bin'));
  await symlink(dir, join(root, 'escape-dir'));
  await symlink('../../secret.bin', join(root, 'sub', 'escape-rel.bin'));
  const v = Buffer.from('#!ipxe\necho generated\n');
  served = [a, b, v];
  server = new TftpServer({
    host: '127.0.0.1',
    port: 0,
    root,
    virtualFiles: new VirtualFiles({ 'boot.ipxe': v }),
    timeoutMs: 20,
    maxTimeoutMs: 40,
    retries: 1,
    maxSessions: 32,
  });
  port = (await server.start()).port;
  for (let i = 0; i < 8; i++) peers.push(await RawPeer.open());
});

afterAll(async () => {
  for (const p of peers) p.close();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function neverOutsideRoot(): void {
  for (const peer of peers) {
    for (const { raw, packet } of peer.received) {
      expect(raw.includes(secret.subarray(0, 13))).toBe(false);
      if (packet.op !== 'DATA' || packet.data.length === 0) continue;
      // Every DATA payload is a piece of a file we serve, and (if long enough to tell) not a piece of the secret.
      expect(served.some((f) => f.includes(packet.data))).toBe(true);
      if (packet.data.length >= 8) expect(secret.includes(packet.data)).toBe(false);
    }
  }
}

describe('TFTP fuzzing', () => {
  it('refuses every traversal and symlink escape with ERROR 2 (or 1), never with data', async () => {
    for (const name of TRAVERSALS) {
      for (const options of [{}, { tsize: 0, blksize: 8 }] as Array<Record<string, number>>) {
        const err = await tftpGet({ port, file: Buffer.from(name, 'latin1'), options, timeoutMs: 200, retries: 5 }).then(
          (r) => new Error(`${JSON.stringify(name)} was served ${r.data.length} bytes`),
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(TftpClientError);
        expect([ErrorCode.ACCESS_VIOLATION, ErrorCode.FILE_NOT_FOUND]).toContain((err as TftpClientError).code);
      }
    }
  });

  it(`survives ${PACKETS} random and mutated packets`, async () => {
    const random = prng(4242);
    const int = (n: number): number => Math.floor(random() * n);
    const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
    const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(256)));
    const names = [...TRAVERSALS, 'a.bin', 'sub/b.txt', 'boot.ipxe', 'missing', '', 'x'.repeat(3000)];
    const valid = (): Buffer => encodeRequest('RRQ', Buffer.from(pick(names), 'latin1'), pick(['octet', 'netascii', 'OCTET', 'mail', 'bogus', '']), pick<Record<string, number>>([{}, { tsize: 0 }, { blksize: pick([0, 7, 8, 512, 65464, 99999, -1]), windowsize: pick([0, 1, 8, 65535, 70000]) }, { timeout: pick([0, 1, 255, 256]) }]));
    const generators: Array<() => Buffer> = [
      () => bytes(int(600)),
      () => Buffer.concat([Buffer.from([0, int(10)]), bytes(int(100))]),
      () => valid(),
      () => {
        const p = Buffer.from(valid());
        for (let i = 0, n = 1 + int(4); i < n; i++) p[int(p.length)] = int(256);
        return p;
      },
      () => {
        const p = valid();
        return p.subarray(0, int(p.length));
      },
      () => Buffer.concat([Buffer.from([0, 1]), Buffer.from(pick(names), 'latin1'), Buffer.from('octet')]), // no NULs
      () => {
        const opts: Record<string, string> = {};
        for (let i = 0, n = int(200); i < n; i++) opts[`o${i}${'x'.repeat(int(20))}`] = String(int(1e6));
        return encodeRequest('RRQ', 'a.bin', 'octet', opts);
      },
      () => encodeRequest('WRQ', pick(names)),
      () => encodeAck(int(65536)),
      () => encodeError(int(10), 'x'.repeat(int(100))),
      () => Buffer.concat([Buffer.from([0, 3]), bytes(int(600))]),
      () => Buffer.concat([Buffer.from([0, 6]), bytes(int(100))]),
    ];
    // Live transfer ports: any DATA/OACK source port seen; junk is also sent there (from the owner and from others).
    const tids = new Set<number>();
    for (let i = 0; i < PACKETS; i++) {
      const peer = pick(peers);
      for (const r of peer.received.slice(-4)) if (r.from !== port) tids.add(r.from);
      const target = tids.size && random() < 0.25 ? pick([...tids]) : port;
      peer.send(pick(generators)(), target);
      if (i % 50 === 49) await new Promise((r) => setTimeout(r, 2)); // let the server breathe; bounded in time
    }
    // Let the short-lived sessions run out (20-40 ms timers, one retry).
    for (let i = 0; i < 3000 && server.activeSessions > 0; i++) await new Promise((r) => setTimeout(r, 10)); // up to 30 s on a loaded machine
    expect(server.activeSessions).toBe(0);
    const replies = peers.reduce((n, p) => n + p.received.length, 0);
    expect(replies).toBeGreaterThan(PACKETS / 10); // it answered (errors, OACKs, data) all along
    const dataPackets = peers.reduce((n, p) => n + p.received.filter((r) => r.packet.op === 'DATA').length, 0);
    expect(dataPackets).toBeGreaterThan(0); // some requests were served, so the check below has teeth
    neverOutsideRoot();
  }, 60_000);

  it('still serves a normal request afterwards', async () => {
    const r = await tftpGet({ port, file: 'a.bin', options: { blksize: 1468, tsize: 0 } });
    expect(r.data.equals(await readFile(join(root, 'a.bin')))).toBe(true);
    expect((await tftpGet({ port, file: 'boot.ipxe' })).data.toString()).toContain('generated');
  });
});
