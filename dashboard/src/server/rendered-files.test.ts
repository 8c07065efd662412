// The host's rendered files: masked (token, password hashes), only with RBAC to get Secrets, and said plainly when
// there is nothing published.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { BootConfig } from '@anvil/core/bootconfig';
import { maskSecrets, renderedFiles } from './rendered-files.js';
import { FakeAuthorizer, FakeHostSource, fakeHost } from './testing/fakes.js';
import { serveRouter } from './testing/serve-router.js';

const TOKEN = 'tok-Q2xhc3NpZmllZC1hdHRlbXB0LXRva2Vu';
const HASH = '$6$exDY1mhS4KUYCE/2$zmn9ToZwTKLhCw.b4/b.ZRTIZM30JZ4QrOQ2aOXJ8yk96xpcCof0kxKwuX1kqLG/ygbJ1f8wxED22bTL4F46P0';
const config: BootConfig = {
  mode: 'install',
  hostName: 'node-01',
  hostNamespace: 'lab',
  hostUID: 'u',
  mac: '52:54:00:00:00:01',
  ipxe: `#!ipxe\nkernel http://10.0.0.2:8080/assets/k initrd=i ds=nocloud-net;s=http://10.0.0.2:8080/nocloud/52-54-00-00-00-01/${TOKEN}/\nboot\n`,
  install: {
    installationId: '55555555-5555-4555-8555-555555555555',
    revision: 2,
    attempt: 3,
    token: TOKEN,
    tokenSha256: 'f'.repeat(64),
    userData: `#cloud-config\nautoinstall:\n  identity:\n    password: "${HASH}"\n  reporting:\n    anvil: {type: webhook, endpoint: "http://10.0.0.2:8080/webhook/52-54-00-00-00-01/${TOKEN}"}\n`,
    metaData: 'instance-id: node-01-2-3\n',
    kernel: { url: 'http://mirror/k', sha256: 'a'.repeat(64) },
    initrd: { url: 'http://mirror/i', sha256: 'b'.repeat(64) },
    template: { name: 'ubuntu-2404', contentHash: 'sha256:abc' },
  },
};

describe('renderedFiles', () => {
  it('shows every file the machine gets, with the token and password hashes masked', () => {
    const view = renderedFiles(config);
    expect(view).toMatchObject({ mode: 'install', attempt: 3, revision: 2, template: { name: 'ubuntu-2404' } });
    expect(view.files.map((f) => f.name)).toEqual(['boot.ipxe', 'user-data', 'meta-data']);
    const all = JSON.stringify(view);
    expect(all).not.toContain(TOKEN);
    expect(all).not.toContain('zmn9ToZwTKLhCw');
    expect(view.files[1]!.content).toContain('password: "<password hash>"');
    expect(view.files[1]!.content).toContain('/webhook/52-54-00-00-00-01/<token>');
  });

  it('masks every crypt(3) hash family', () => {
    for (const h of ['$1$abc$def', '$5$rounds=5000$x$y', '$y$j9T$abc$def', '$2b$12$abcdefghijklmnopqrstuv']) expect(maskSecrets(`pw: ${h}\n`, undefined)).toBe('pw: <password hash>\n');
  });
});

describe('GET /api/hosts/:namespace/:name/rendered', () => {
  const hosts = new FakeHostSource([fakeHost('lab', 'node-01'), fakeHost('lab', 'node-02')]);
  const authorizer = new FakeAuthorizer({ 'ops-token': { username: 'ops', groups: [] }, 'viewer-token': { username: 'viewer', groups: [] } }, { ops: ['lab'], viewer: ['lab'] });
  authorizer.secretRbac = { ops: ['lab'] };
  let served: Awaited<ReturnType<typeof serveRouter>>;
  let base: string;

  beforeAll(async () => {
    const bootConfigs = { bootConfigOf: (namespace: string, name: string) => (namespace === 'lab' && name === 'node-01' ? config : undefined) };
    served = await serveRouter({ hosts, authorizer, bootConfigs });
    base = served.base;
  });
  afterAll(() => served.close());

  const get = async (path: string, token: string) => {
    const res = await fetch(`${base}/api/hosts/${path}/rendered`, { headers: { Authorization: `Bearer ${token}` } });
    return { status: res.status, body: (await res.json()) as { message?: string; files?: { name: string }[] } };
  };

  it('answers who may get Secrets in the namespace; 403 for who may only list hosts; 404 without a boot config', async () => {
    const ok = await get('lab/node-01', 'ops-token');
    expect(ok.status).toBe(200);
    expect(ok.body.files?.map((f) => f.name)).toEqual(['boot.ipxe', 'user-data', 'meta-data']);
    expect(JSON.stringify(ok.body)).not.toContain(TOKEN);
    expect(await get('lab/node-01', 'viewer-token')).toEqual({ status: 403, body: { error: 'Forbidden', message: expect.stringContaining('viewer may not get secrets in namespace lab') } });
    expect(await get('lab/node-02', 'ops-token')).toMatchObject({ status: 404, body: { message: expect.stringContaining('has no published boot config') } });
  });
});
