import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { probe, probeTcp } from './probes.js';
import { applyProbes, startHealth, type HealthPolicy } from './verdict.js';

const policy: HealthPolicy = { timeoutSeconds: 600, monitorSeconds: 120, intervalSeconds: 10 };
const T0 = Date.parse('2026-12-07T21:00:00Z');
const at = (s: number): Date => new Date(T0 + s * 1000);
const ok = { ok: true, message: 'tcp/22: open' };
const down = { ok: false, message: 'tcp/22: ECONNREFUSED' };

describe('the health verdict over time', () => {
  it('passes after every check kept passing for the monitoring window', () => {
    let s = applyProbes(startHealth(at(0)), [down], at(5), policy);
    expect(s).toMatchObject({ state: { verdict: 'pending', failures: 1, message: 'not healthy yet: tcp/22: ECONNREFUSED' }, probeAgainInMs: 10_000 });
    s = applyProbes(s.state, [down], at(15), policy);
    expect(s.probeAgainInMs).toBe(20_000);
    s = applyProbes(s.state, [ok, ok], at(40), policy);
    expect(s).toMatchObject({ state: { verdict: 'pending', passingSince: at(40).toISOString() }, probeAgainInMs: 10_000 });
    s = applyProbes(s.state, [ok, ok], at(150), policy);
    expect(s.probeAgainInMs).toBe(10_000);
    s = applyProbes(s.state, [ok, ok], at(160), policy);
    expect(s).toEqual({ state: expect.objectContaining({ verdict: 'passed', message: 'healthy: tcp/22: open; tcp/22: open' }) });
    expect(applyProbes(s.state, [down], at(170), policy).state.verdict).toBe('passed');
  });

  it('fails when a check stops passing during the window', () => {
    const s = applyProbes(applyProbes(startHealth(at(0)), [ok], at(10), policy).state, [ok, down], at(30), policy);
    expect(s).toEqual({ state: expect.objectContaining({ verdict: 'failed', message: 'stopped passing during the monitoring window: tcp/22: ECONNREFUSED' }) });
  });

  it('fails when nothing passes within the timeout, backing off meanwhile (capped)', () => {
    let s = applyProbes(startHealth(at(0)), [down], at(1), policy);
    const delays: number[] = [];
    let t = 1;
    while (s.state.verdict === 'pending') {
      delays.push(s.probeAgainInMs!);
      t += s.probeAgainInMs! / 1000;
      s = applyProbes(s.state, [down], at(t), policy);
    }
    expect(delays.slice(0, 6)).toEqual([10_000, 20_000, 40_000, 60_000, 60_000, 60_000]);
    expect(s.state).toMatchObject({ verdict: 'failed', message: 'not healthy within 600 s: tcp/22: ECONNREFUSED' });
  });
});

describe('probes against real servers on loopback', () => {
  let http: Server;
  let tcp: TcpServer;
  let httpPort: number;
  let tcpPort: number;
  let closedPort: number;
  beforeAll(async () => {
    http = createHttpServer((req, res) => {
      if (req.url === '/healthz') res.end('status: ok');
      else if (req.url === '/slow') return; // never answers; closed in afterAll
      else res.writeHead(503).end('starting');
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    httpPort = (http.address() as AddressInfo).port;
    tcp = createTcpServer((s) => s.end());
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    tcpPort = (tcp.address() as AddressInfo).port;
    const spare = createTcpServer();
    await new Promise<void>((r) => spare.listen(0, '127.0.0.1', r));
    closedPort = (spare.address() as AddressInfo).port;
    await new Promise<void>((r) => spare.close(() => r()));
  });
  afterAll(async () => {
    http.closeAllConnections();
    await new Promise<void>((r) => http.close(() => r()));
    await new Promise<void>((r) => tcp.close(() => r()));
  });

  it('tcp: open and refused', async () => {
    expect(await probeTcp('127.0.0.1', tcpPort, 5_000)).toEqual({ ok: true, message: `tcp/${tcpPort}: open` });
    expect(await probeTcp('127.0.0.1', closedPort, 5_000)).toEqual({ ok: false, message: `tcp/${closedPort}: ECONNREFUSED` });
  });

  it('http: status, body, wrong status, slow answer', async () => {
    expect(await probe('127.0.0.1', { kind: 'http', port: httpPort, path: '/healthz', bodyContains: 'ok' }, 5_000)).toEqual({ ok: true, message: `http://:${httpPort}/healthz: HTTP 200` });
    expect(await probe('127.0.0.1', { kind: 'http', port: httpPort, path: '/healthz', bodyContains: 'ready' }, 5_000)).toEqual({ ok: false, message: `http://:${httpPort}/healthz: the body does not contain "ready"` });
    expect(await probe('127.0.0.1', { kind: 'http', port: httpPort, path: '/' }, 5_000)).toEqual({ ok: false, message: `http://:${httpPort}/: HTTP 503, expected 200` });
    expect(await probe('127.0.0.1', { kind: 'http', port: httpPort, path: '/', expectStatus: 503 }, 5_000)).toMatchObject({ ok: true });
    expect(await probe('127.0.0.1', { kind: 'http', port: httpPort, path: '/slow' }, 200)).toEqual({ ok: false, message: `http://:${httpPort}/slow: no answer within 200 ms` });
    expect(await probe('127.0.0.1', { kind: 'http', port: closedPort }, 5_000)).toEqual({ ok: false, message: `http://:${closedPort}/: ECONNREFUSED` });
  });
});
