// The Kubernetes client keeps its connections: many requests, one TLS handshake; a rotated CA file gives a new pool
// and the old connections are closed. A real HTTPS server counts the handshakes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { dispatchersBuilt } from '@anvil/core/src/kube/connection-pool.js';
import { RestKubeClient } from '@anvil/core/kube/rest-client';
import type { ResourceType } from '@anvil/core/kube';
import { issueCertificate } from '../harness/tls.js';

const CONFIGMAPS: ResourceType = { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true };

describe('Kubernetes client connection pool', () => {
  let dir: string;
  let server: Server;
  let handshakes = 0;
  let closed = 0;
  const authHeaders: string[] = [];
  let kc: KubeConfig;
  let client: RestKubeClient;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'anvil-pool-'));
    const first = issueCertificate(dir, 'apiserver-1');
    writeFileSync(join(dir, 'ca.crt'), first.cert);
    server = createServer({ cert: first.cert, key: first.key }, (req, res) => {
      authHeaders.push(req.headers.authorization ?? '');
      const name = req.url!.split('?')[0]!.split('/').pop();
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' } }));
    });
    server.on('secureConnection', (socket) => {
      handshakes += 1;
      socket.on('close', () => (closed += 1));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `https://127.0.0.1:${port}`, caFile: join(dir, 'ca.crt') }],
      users: [{ name: 'u', token: 'secret-token' }],
      contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
      currentContext: 'ctx',
    });
    client = new RestKubeClient(kc);
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends many requests over one connection, each with the credentials', async () => {
    for (let i = 0; i < 20; i++) {
      const cm = await client.get(CONFIGMAPS, { namespace: 'default', name: `cm-${i}` });
      expect(cm?.metadata.name).toBe(`cm-${i}`);
    }
    // Without the pool this was 20. undici may open a second connection while the first one's response is being
    // released; after that every request reuses one.
    expect(handshakes).toBeLessThanOrEqual(2);
    expect(dispatchersBuilt(kc)).toBe(1);
    expect(new Set(authHeaders)).toEqual(new Set(['Bearer secret-token']));
  });

  it('opens more connections only for concurrent requests, and reuses them afterwards', async () => {
    await Promise.all(Array.from({ length: 8 }, (_, i) => client.get(CONFIGMAPS, { namespace: 'default', name: `p-${i}` })));
    const afterBurst = handshakes;
    expect(afterBurst).toBeGreaterThanOrEqual(1);
    expect(afterBurst).toBeLessThanOrEqual(9);
    await Promise.all(Array.from({ length: 8 }, (_, i) => client.get(CONFIGMAPS, { namespace: 'default', name: `q-${i}` })));
    await client.get(CONFIGMAPS, { namespace: 'default', name: 'again' });
    expect(handshakes).toBeLessThanOrEqual(afterBurst + 8);
    expect(dispatchersBuilt(kc)).toBe(1);
  });

  it('builds a new pool when the CA file changes (rotation) and closes the old connections', async () => {
    const second = issueCertificate(dir, 'apiserver-2');
    server.setSecureContext({ cert: second.cert, key: second.key });
    writeFileSync(join(dir, 'ca.crt'), second.cert);
    const before = handshakes;
    const cm = await client.get(CONFIGMAPS, { namespace: 'default', name: 'after-rotation' });
    expect(cm?.metadata.name).toBe('after-rotation');
    expect(dispatchersBuilt(kc)).toBe(2);
    expect(handshakes).toBe(before + 1);
    // Every connection of the old pool is closed once idle; the one of the new pool stays open.
    for (let i = 0; i < 1500 && closed < before; i++) await new Promise((r) => setTimeout(r, 20)); // up to 30 s on a loaded machine
    expect(closed).toBe(before);
  });
});
