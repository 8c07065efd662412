// The dgram adapter end to end on loopback with our own test client and raw packets (fast; the interop tests with
// real clients are in test/integration/tftp-*.test.ts).
import { createSocket, type Socket } from 'node:dgram';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { RawPeer, type TftpClientError, tftpGet } from '../../../test/tftp/client.js';
import { ErrorCode, decodePacket, encodeAck, encodeError, encodeRequest, type Decoded } from './packet.js';
import { TftpServer, type TftpServerOptions } from './server.js';
import { VirtualFiles } from './virtual-files.js';

let dir: string;
let root: string;
const servers: TftpServer[] = [];
const peers: RawPeer[] = [];
const sockets: Socket[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'anvil-tftp-'));
  root = join(dir, 'root');
  await mkdir(join(root, 'sub'), { recursive: true });
  await writeFile(join(dir, 'secret.txt'), 'TOP-SECRET');
  await writeFile(join(root, 'hello.txt'), 'hello world\n');
  await writeFile(join(root, 'sub', 'big.bin'), Buffer.alloc(5000, 7));
  await symlink(join(dir, 'secret.txt'), join(root, 'escape'));
  await symlink('hello.txt', join(root, 'inside-link'));
});

afterAll(async () => {
  for (const p of peers) p.close();
  for (const socket of sockets) socket.close();
  await Promise.all(servers.map((s) => s.stop()));
  await rm(dir, { recursive: true, force: true });
});

async function server(options: TftpServerOptions = {}): Promise<{ s: TftpServer; port: number; registry: Registry }> {
  const registry = new Registry();
  const s = new TftpServer({ host: '127.0.0.1', port: 0, root, registry, ...options });
  servers.push(s);
  const { port } = await s.start();
  return { s, port, registry };
}

async function peer(): Promise<RawPeer> {
  const p = await RawPeer.open();
  peers.push(p);
  return p;
}

/** A UDP socket on another loopback address (Linux routes all of 127/8 to lo): a second machine for the server. */
interface Peer {
  send(buf: Buffer, port: number): void;
  received: Decoded[];
}

async function peerFrom(address: string): Promise<Peer> {
  const socket = createSocket('udp4');
  sockets.push(socket);
  await new Promise<void>((r) => socket.bind(0, address, () => r()));
  const received: Decoded[] = [];
  socket.on('message', (msg) => received.push(decodePacket(msg)));
  return { send: (buf, port) => socket.send(buf, port, '127.0.0.1'), received };
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 3000 && !cond(); i++) await new Promise((r) => setTimeout(r, 10)); // up to 30 s on a loaded machine
  if (!cond()) throw new Error('condition not reached');
}

async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val) && !('metricName' in x && String(x.metricName).endsWith('_bucket')));
  return v?.value ?? 0;
}

describe('TftpServer', () => {
  it('serves files, generated files and answers tsize', async () => {
    const virtualFiles = new VirtualFiles({ 'boot.ipxe': '#!ipxe\nexit\n', 'who.txt': (r) => `you are ${r.remoteAddress}` });
    const { s, port, registry } = await server({ virtualFiles });
    expect((await tftpGet({ port, file: 'hello.txt' })).data.toString()).toBe('hello world\n');
    expect((await tftpGet({ port, file: '/boot.ipxe' })).data.toString()).toBe('#!ipxe\nexit\n');
    expect((await tftpGet({ port, file: 'who.txt' })).data.toString()).toBe('you are 127.0.0.1');
    const big = await tftpGet({ port, file: 'sub\\big.bin', options: { tsize: 0, blksize: 1024, windowsize: 3, foo: 1 } });
    expect(big.data.equals(Buffer.alloc(5000, 7))).toBe(true);
    expect(big.oack).toEqual({ tsize: '5000', blksize: '1024', windowsize: '3' });
    expect((await tftpGet({ port, file: 'inside-link', mode: 'netascii' })).data.toString()).toBe('hello world\n');
    await until(() => s.activeSessions === 0); // the last ACK may still be in flight
    expect(await metric(registry, 'anvil_tftp_transfers_total', { result: 'ok' })).toBe(5);
    expect(await metric(registry, 'anvil_tftp_bytes_sent_total')).toBe(12 + 12 + 17 + 5000 + 12);
  });

  it('refuses unknown files, traversal, symlink escapes, writes and unknown modes with the right codes', async () => {
    const { port, registry } = await server();
    const code = (file: string, mode = 'octet'): Promise<number | undefined> => tftpGet({ port, file, mode }).then(() => undefined, (e: TftpClientError) => e.code);
    expect(await code('nope.bin')).toBe(ErrorCode.FILE_NOT_FOUND);
    expect(await code('sub')).toBe(ErrorCode.ACCESS_VIOLATION);
    expect(await code('../secret.txt')).toBe(ErrorCode.ACCESS_VIOLATION);
    expect(await code('escape')).toBe(ErrorCode.ACCESS_VIOLATION);
    expect(await code('%2e%2e/secret.txt')).toBe(ErrorCode.ACCESS_VIOLATION);
    expect(await code('hello.txt', 'mail')).toBe(ErrorCode.ILLEGAL_OPERATION);
    const p = await peer();
    p.send(encodeRequest('WRQ', 'upload.bin'), port);
    const [reply] = await p.waitFor(1);
    expect(reply?.packet).toMatchObject({ op: 'ERROR', code: ErrorCode.ACCESS_VIOLATION });
    expect(await metric(registry, 'anvil_tftp_transfers_total', { result: 'error' })).toBe(7);
  });

  it('answers ERROR 5 to an unknown TID without disturbing the transfer, and ignores duplicate RRQs', async () => {
    const { s, port } = await server({ timeoutMs: 60_000 });
    const client = await peer();
    const intruder = await peer();
    client.send(encodeRequest('RRQ', 'sub/big.bin'), port);
    client.send(encodeRequest('RRQ', 'sub/big.bin'), port); // duplicate: ignored
    const [first] = await client.waitFor(1);
    expect(first?.packet).toMatchObject({ op: 'DATA', block: 1 });
    const tid = first?.from as number;
    intruder.send(encodeAck(1), tid);
    const [err] = await intruder.waitFor(1);
    expect(err?.packet).toMatchObject({ op: 'ERROR', code: ErrorCode.UNKNOWN_TID });
    for (let b = 1; b <= 9; b++) {
      client.send(encodeAck(b), tid);
      await client.waitFor(b + 1);
    }
    client.send(encodeAck(10), tid);
    await until(() => s.activeSessions === 0);
    const blocks = client.received.map((r) => (r.packet.op === 'DATA' ? r.packet.block : -1));
    expect(blocks).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]); // one session only, no duplicates
    expect(client.received.every((r) => r.from === tid)).toBe(true);
  });

  it('does not retransmit on a duplicate ACK, only on its timer, and gives up after the retries', async () => {
    const { s, port, registry } = await server({ timeoutMs: 30, retries: 2 });
    const client = await peer();
    client.send(encodeRequest('RRQ', 'sub/big.bin'), port);
    const [first] = await client.waitFor(1);
    const tid = first?.from as number;
    client.send(encodeAck(1), tid);
    await client.waitFor(2);
    client.send(encodeAck(1), tid); // duplicate
    client.send(encodeAck(1), tid);
    await until(() => s.activeSessions === 0); // 2 retransmissions of DATA 2, then timeout
    const blocks = client.received.map((r) => (r.packet.op === 'DATA' ? r.packet.block : -1));
    // DATA 2 once, then once per timer expiry (2 retries); the two duplicate ACKs added nothing. (DATA 1 may repeat
    // if this machine is so loaded that our ACK 1 took longer than the timer.)
    expect(blocks.filter((b) => b === 2)).toHaveLength(3);
    expect(blocks.filter((b) => b !== 1 && b !== 2)).toEqual([]);
    expect(await metric(registry, 'anvil_tftp_retransmits_total')).toBe(blocks.length - 2);
    expect(await metric(registry, 'anvil_tftp_transfers_total', { result: 'timeout' })).toBe(1);
  });

  it('ends quietly when a PXE ROM answers the OACK with an ERROR (tsize probe)', async () => {
    const { s, port, registry } = await server({ timeoutMs: 60_000 });
    const client = await peer();
    client.send(encodeRequest('RRQ', 'hello.txt', 'octet', { tsize: 0 }), port);
    const [oack] = await client.waitFor(1);
    expect(oack?.packet).toMatchObject({ op: 'OACK' });
    client.send(encodeError(8, 'tsize only'), oack?.from as number);
    await until(() => s.activeSessions === 0);
    expect(await metric(registry, 'anvil_tftp_transfers_total', { result: 'aborted' })).toBe(1);
    // the same client asks again and gets the file
    expect((await tftpGet({ port, file: 'hello.txt', options: { blksize: 1468 } })).data.toString()).toBe('hello world\n');
  });

  it('a PXE ROM that re-requests from the same port right after its tsize probe gets the file', async () => {
    const { s, port } = await server({ timeoutMs: 60_000 });
    const rom = await peer();
    rom.send(encodeRequest('RRQ', 'sub/big.bin', 'octet', { tsize: 0 }), port);
    const [oack] = await rom.waitFor(1);
    expect(oack?.packet).toMatchObject({ op: 'OACK', options: new Map([['tsize', '5000']]) });
    // The ERROR and the new RRQ leave back to back; the new RRQ may be handled first. Here it is even sent first.
    rom.send(encodeRequest('RRQ', 'sub/big.bin', 'octet', { blksize: 1468 }), port);
    rom.send(encodeError(0, 'TFTP Aborted'), oack?.from as number);
    const [, second] = await rom.waitFor(2);
    expect(second?.packet).toMatchObject({ op: 'OACK', options: new Map([['blksize', '1468']]) });
    const tid = second?.from as number;
    expect(tid).not.toBe(oack?.from);
    rom.send(encodeAck(0), tid);
    for (let b = 1; b <= 4; b++) {
      await rom.waitFor(2 + b);
      rom.send(encodeAck(b), tid);
    }
    await until(() => s.activeSessions === 0);
    const data = rom.received.slice(2).map((r) => (r.packet.op === 'DATA' ? r.packet.data : Buffer.alloc(0)));
    expect(Buffer.concat(data).equals(Buffer.alloc(5000, 7))).toBe(true);
    expect(rom.received.every((r) => r.packet.op !== 'ERROR')).toBe(true); // the old transfer ended quietly
  });

  it('answers "server busy" beyond max sessions', async () => {
    const { s, port } = await server({ maxSessions: 1, timeoutMs: 60_000 });
    const a = await peer();
    a.send(encodeRequest('RRQ', 'hello.txt'), port);
    await a.waitFor(1);
    const b = await peerFrom('127.0.0.2'); // another machine: 127.0.0.1 is at its own cap (1) too
    b.send(encodeRequest('RRQ', 'hello.txt'), port);
    await until(() => b.received.length > 0);
    expect(b.received[0]).toMatchObject({ op: 'ERROR', code: 0, message: 'server busy' });
    await s.stop();
    // the live transfer is told the server stops
    const [, bye] = await a.waitFor(2);
    expect(bye?.packet).toMatchObject({ op: 'ERROR', code: 0 });
  });

  it('caps the sessions of one source address, and other addresses still get files', async () => {
    const { s, port, registry } = await server({ maxSessionsPerClient: 2, timeoutMs: 60_000 });
    const flooder = await Promise.all([1, 2, 3].map(() => peerFrom('127.0.0.2')));
    for (const p of flooder) {
      p.send(encodeRequest('RRQ', 'sub/big.bin'), port);
      await until(() => p.received.length > 0);
    }
    expect(flooder.map((p) => p.received[0])).toEqual([
      expect.objectContaining({ op: 'DATA', block: 1 }),
      expect.objectContaining({ op: 'DATA', block: 1 }),
      { op: 'ERROR', code: ErrorCode.NOT_DEFINED, message: 'too many transfers from your address' },
    ]);
    expect((await tftpGet({ port, file: 'hello.txt' })).data.toString()).toBe('hello world\n'); // from 127.0.0.1
    expect(await metric(registry, 'anvil_tftp_session_limit_refusals_total', { limit: 'client' })).toBe(1);
    expect(await metric(registry, 'anvil_tftp_session_limit_refusals_total', { limit: 'server' })).toBe(0);
    await until(() => s.activeSessions === 2); // the flooder's two, never acknowledged, still waiting
  });

  it('reclaims the never-acknowledged sessions of a source refused for its cap at their first timeout; others keep their retries', async () => {
    const { s, port, registry } = await server({ maxSessionsPerClient: 2, timeoutMs: 1000, maxTimeoutMs: 1000, retries: 1000 });
    const [a, b, refused] = (await Promise.all([1, 2, 3].map(() => peerFrom('127.0.0.2')))) as [Peer, Peer, Peer];
    const bystander = await peer(); // half-open too, from 127.0.0.1, whose source was never refused
    bystander.send(encodeRequest('RRQ', 'sub/big.bin', 'octet', { tsize: 0 }), port);
    await bystander.waitFor(1);
    for (const p of [a, b, refused]) {
      p.send(encodeRequest('RRQ', 'sub/big.bin', 'octet', { tsize: 0 }), port);
      await until(() => p.received.length > 0);
    }
    expect(refused.received[0]).toMatchObject({ op: 'ERROR', message: 'too many transfers from your address' });
    // Without the reclaim these two would be retransmitted for 1000 s.
    await until(() => s.activeSessions === 1);
    expect(await metric(registry, 'anvil_tftp_reclaimed_sessions_total')).toBe(2);
    expect(await metric(registry, 'anvil_tftp_transfers_total', { result: 'timeout' })).toBe(2);
    expect([a.received, b.received]).toEqual([[expect.objectContaining({ op: 'OACK' })], [expect.objectContaining({ op: 'OACK' })]]); // never retransmitted
    await bystander.waitFor(2); // the bystander's OACK is retransmitted: its session lives on
    expect(bystander.received.map((r) => r.packet.op)).toEqual(['OACK', 'OACK']);
    expect(s.activeSessions).toBe(1);
    // The source gets slots again (a refused source is not banned, it is held to its cap).
    refused.send(encodeRequest('RRQ', 'hello.txt', 'octet', { blksize: 1468 }), port);
    await until(() => (refused.received.length ?? 0) > 1);
    expect(refused.received[1]).toMatchObject({ op: 'OACK' });
  });

  it('"server busy" makes every never-acknowledged session reclaimable', async () => {
    const { s, port, registry } = await server({ maxSessions: 2, maxSessionsPerClient: 2, timeoutMs: 1000, maxTimeoutMs: 1000, retries: 1000 });
    const [a, b, c] = (await Promise.all(['127.0.0.2', '127.0.0.3', '127.0.0.4'].map((address) => peerFrom(address)))) as [Peer, Peer, Peer];
    for (const p of [a, b, c]) {
      p.send(encodeRequest('RRQ', 'sub/big.bin'), port);
      await until(() => p.received.length > 0);
    }
    expect(c.received[0]).toEqual({ op: 'ERROR', code: ErrorCode.NOT_DEFINED, message: 'server busy' });
    await until(() => s.activeSessions === 0);
    expect(await metric(registry, 'anvil_tftp_reclaimed_sessions_total')).toBe(2);
    expect(await metric(registry, 'anvil_tftp_session_limit_refusals_total', { limit: 'server' })).toBe(1);
  });

  it('serves only virtual files when no root is configured', async () => {
    const { port } = await server({ root: undefined, virtualFiles: new VirtualFiles({ 'a/b.txt': Buffer.from('x') }) });
    expect((await tftpGet({ port, file: 'a/b.txt' })).data.toString()).toBe('x');
    await expect(tftpGet({ port, file: 'hello.txt' })).rejects.toMatchObject({ code: ErrorCode.FILE_NOT_FOUND });
  });
});
