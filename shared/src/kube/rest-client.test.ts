// The REST adapter against a local HTTP server standing in for the API server: what it sends, what it makes of the
// answers, and that a hung or refused request fails instead of waiting.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { ApiError } from './errors.js';
import { RestKubeClient } from './rest-client.js';
import type { KubeObject, ResourceType } from './types.js';

const HOSTS: ResourceType = { group: 'anvil.dev', version: 'v1alpha1', plural: 'baremetalhosts', kind: 'BareMetalHost', namespaced: true };

function kubeConfig(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'secret-token' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

describe('RestKubeClient', () => {
  let server: Server;
  let base: string;
  let answer: (req: IncomingMessage, body: string, res: ServerResponse) => void;
  const seen: { method?: string; url?: string; headers: IncomingMessage['headers']; body: string }[] = [];
  const hung: ServerResponse[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body });
        answer(req, body, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const res of hung) res.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => (seen.length = 0));

  const json = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));

  it('patches the status subresource with the patch type, field manager and credentials, and returns the object', async () => {
    answer = (_req, body, res) => json(res, 200, { apiVersion: 'anvil.dev/v1alpha1', kind: 'BareMetalHost', metadata: { name: 'h1', namespace: 'lab' }, ...(JSON.parse(body) as object) });
    const client = new RestKubeClient(kubeConfig(base), { userAgent: 'anvil-test' });
    const patched = await client.patch<KubeObject & { status?: unknown }>(HOSTS, { namespace: 'lab', name: 'h1' }, 'apply', { status: { phase: 'Provisioning' } }, { subresource: 'status', force: true });
    expect(patched.status).toEqual({ phase: 'Provisioning' });
    expect(seen).toMatchObject([
      {
        method: 'PATCH',
        url: '/apis/anvil.dev/v1alpha1/namespaces/lab/baremetalhosts/h1/status?fieldManager=anvil&force=true',
        headers: { 'content-type': 'application/apply-patch+yaml', authorization: 'Bearer secret-token', accept: 'application/json', 'user-agent': 'anvil-test' },
        body: '{"status":{"phase":"Provisioning"}}',
      },
    ]);
  });

  it('turns a Status into an ApiError, and a 404 of a get into undefined', async () => {
    answer = (_req, _body, res) => json(res, 409, { kind: 'Status', code: 409, reason: 'Conflict', message: 'the object has been modified' });
    const client = new RestKubeClient(kubeConfig(base));
    const err = await client.create(HOSTS, { metadata: { name: 'h1', namespace: 'lab' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 409, reason: 'Conflict', message: 'the object has been modified' });

    answer = (_req, _body, res) => res.writeHead(502).end('bad gateway');
    expect(await client.list(HOSTS, { namespace: 'lab' }).catch((e: unknown) => e)).toMatchObject({ code: 502, message: expect.stringContaining('GET /apis/anvil.dev/v1alpha1/namespaces/lab/baremetalhosts: HTTP 502: bad gateway') });

    answer = (_req, _body, res) => json(res, 404, { kind: 'Status', code: 404, reason: 'NotFound', message: 'not found' });
    expect(await client.get(HOSTS, { namespace: 'lab', name: 'gone' })).toBeUndefined();
  });

  it('cuts a request whose answer does not come within its timeout', async () => {
    answer = (_req, _body, res) => void hung.push(res);
    const client = new RestKubeClient(kubeConfig(base), { requestTimeoutMs: 300 });
    await expect(client.get(HOSTS, { namespace: 'lab', name: 'h1' })).rejects.toMatchObject({ code: 'UND_ERR_HEADERS_TIMEOUT' });
  });

  it('fails with the reason when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const client = new RestKubeClient(kubeConfig(`http://127.0.0.1:${port}`));
    await expect(client.get(HOSTS, { namespace: 'lab', name: 'h1' })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
