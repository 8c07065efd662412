// The Ignition config route: a host's config (installer: ignition) as application/json, for its current install
// token only; the token never reaches the record or the log; hosts of other kinds have no config there.
import { toSecret } from '@anvil/core/bootconfig';
import { installConfig, serveBootApp, type ServedBootApp } from './testing/serve-boot-app.js';

const MAC = '52:54:00:2c:00:01';
const DASHED = MAC.replace(/:/g, '-');
const TOKEN = 'tok-ignition-0123456789';
const CONFIG = '{\n  "ignition": {\n    "version": "3.3.0"\n  }\n}\n';

describe('boot-server HTTP: Ignition configs', () => {
  let app: ServedBootApp;
  beforeAll(async () => {
    app = await serveBootApp({ rateLimit: { perSecond: 0, burst: 0 } });
    app.index.upsert(toSecret(installConfig(MAC, TOKEN, { installer: 'ignition', userData: '', metaData: '', ignition: CONFIG }), 'lab'));
  });
  afterAll(async () => app.close());
  beforeEach(() => (app.spooled.length = 0));
  const get = (path: string) => fetch(`${app.base}${path}`);

  it('serves the config as JSON with the valid token and records it, without the token', async () => {
    const res = await get(`/ignition/${DASHED}/${TOKEN}/config.ign`);
    expect({ status: res.status, type: res.headers.get('content-type'), body: await res.text() }).toEqual({ status: 200, type: 'application/json; charset=utf-8', body: CONFIG });
    expect(app.spooled).toMatchObject([{ kind: 'boot-request', mac: MAC, served: 'IgnitionConfig', path: `/ignition/${DASHED}/REDACTED/config.ign`, installationId: '55555555-5555-4555-8555-555555555555' }]);
    expect(JSON.stringify(app.spooled)).not.toContain(TOKEN);
  });

  it('serves no NoCloud files to an Ignition host', async () => {
    for (const file of ['user-data', 'meta-data', 'vendor-data', 'network-config']) {
      expect({ file, status: (await get(`/nocloud/${DASHED}/${TOKEN}/${file}`)).status }).toEqual({ file, status: 404 });
    }
    expect(app.spooled).toEqual([]);
  });

  it('answers 404 for a wrong token, an unknown host, another file or a host of another kind, logging no token', async () => {
    const ubuntu = '52:54:00:2c:00:02';
    app.index.upsert(toSecret(installConfig(ubuntu, TOKEN), 'lab'));
    for (const url of [
      `/ignition/${DASHED}/wrong-token/config.ign`,
      `/ignition/52-54-00-2c-ff-ff/${TOKEN}/config.ign`,
      `/ignition/not-a-mac/${TOKEN}/config.ign`,
      `/ignition/${DASHED}/${TOKEN}/user-data`,
      `/ignition/${ubuntu.replace(/:/g, '-')}/${TOKEN}/config.ign`,
    ]) {
      const res = await get(url);
      expect({ url, status: res.status, body: await res.text() }).toEqual({ url, status: 404, body: 'not found\n' });
    }
    expect(app.spooled).toEqual([]);
    const refused = app.logs.filter((l) => l.msg === 'ignition request refused');
    expect(refused).toHaveLength(3);
    expect(refused[0]).toMatchObject({ path: `/ignition/${DASHED}/REDACTED/config.ign` });
    expect(JSON.stringify(app.logs)).not.toContain(TOKEN);
  });

  it('serves nothing to a host in local mode', async () => {
    const local = '52:54:00:2c:00:03';
    app.index.upsert(toSecret({ ...installConfig(local, TOKEN), mode: 'local', install: undefined }, 'lab'));
    expect((await get(`/ignition/${local.replace(/:/g, '-')}/${TOKEN}/config.ign`)).status).toBe(404);
  });
});

describe('boot-server HTTP: the request log of Ignition configs', () => {
  it('logs each request with its token redacted, whatever the case of the route', async () => {
    const app = await serveBootApp({ logLevel: 'debug', rateLimit: { perSecond: 0, burst: 0 } });
    try {
      app.index.upsert(toSecret(installConfig(MAC, TOKEN, { installer: 'ignition', userData: '', metaData: '', ignition: CONFIG }), 'lab'));
      expect((await fetch(`${app.base}/ignition/${DASHED}/${TOKEN}/config.ign`)).status).toBe(200);
      expect((await fetch(`${app.base}/Ignition/${DASHED}/${TOKEN}/config.ign`)).status).toBe(200);
      expect((await fetch(`${app.base}/ignition/${DASHED}/${TOKEN}/other`)).status).toBe(404);
      const paths = app.logs.filter((l) => l.msg === 'request').map((l) => l.path);
      expect(paths).toEqual([`/ignition/${DASHED}/REDACTED/config.ign`, `/ignition/${DASHED}/REDACTED/config.ign`, `/ignition/${DASHED}/REDACTED`]);
      expect(JSON.stringify(app.logs)).not.toContain(TOKEN);
    } finally {
      await app.close();
    }
  });
});
