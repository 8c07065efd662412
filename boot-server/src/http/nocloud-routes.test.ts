// The NoCloud seed routes: a host's user-data, meta-data, vendor-data and network-config, for its current install
// token only; the token never reaches the record or the log.
import { toSecret } from '@anvil/core/bootconfig';
import { installConfig, serveBootApp, type ServedBootApp } from './testing/serve-boot-app.js';

const MAC = '52:54:00:2b:00:01';
const DASHED = MAC.replace(/:/g, '-');
const TOKEN = 'tok-nocloud-0123456789';

describe('boot-server HTTP: NoCloud seeds', () => {
  let app: ServedBootApp;
  beforeAll(async () => {
    app = await serveBootApp({ rateLimit: { perSecond: 0, burst: 0 } });
    app.index.upsert(toSecret(installConfig(MAC, TOKEN, { networkConfig: 'version: 2\n' }), 'lab'));
  });
  afterAll(async () => app.close());
  beforeEach(() => (app.spooled.length = 0));
  const seed = (file: string, token = TOKEN, route = 'nocloud') => fetch(`${app.base}/${route}/${DASHED}/${token}/${file}`);

  it('serves each seed file with the valid token and records which one, without the token', async () => {
    for (const [file, body, served] of [
      ['user-data', '#cloud-config\n', 'UserData'],
      ['meta-data', 'instance-id: x\n', 'MetaData'],
      ['vendor-data', '', 'VendorData'],
      ['network-config', 'version: 2\n', 'NetworkConfig'],
    ] as const) {
      app.spooled.length = 0;
      const res = await seed(file);
      expect({ file, status: res.status, type: res.headers.get('content-type'), body: await res.text() }).toEqual({ file, status: 200, type: 'text/plain; charset=utf-8', body });
      expect(app.spooled).toMatchObject([{ kind: 'boot-request', mac: MAC, served, path: `/nocloud/${DASHED}/REDACTED/${file}`, installationId: '55555555-5555-4555-8555-555555555555' }]);
    }
    expect(JSON.stringify(app.spooled)).not.toContain(TOKEN);
  });

  it('routes case-insensitively, as every express route', async () => {
    expect(await (await seed('user-data', TOKEN, 'NoCloud')).text()).toBe('#cloud-config\n');
  });

  it('answers 404 for a wrong token, an unknown file, an unknown host or a host without that file, and logs no token', async () => {
    const noNetwork = '52:54:00:2b:00:02';
    app.index.upsert(toSecret(installConfig(noNetwork, TOKEN), 'lab'));
    for (const url of [
      `/nocloud/${DASHED}/wrong-token/user-data`,
      `/nocloud/${DASHED}/${TOKEN}/passwd`,
      `/nocloud/52-54-00-2b-ff-ff/${TOKEN}/user-data`,
      `/nocloud/not-a-mac/${TOKEN}/user-data`,
      `/nocloud/${noNetwork.replace(/:/g, '-')}/${TOKEN}/network-config`,
    ]) {
      const res = await fetch(`${app.base}${url}`);
      expect({ url, status: res.status, body: await res.text() }).toEqual({ url, status: 404, body: 'not found\n' });
    }
    expect(app.spooled).toEqual([]);
    const refused = app.logs.filter((l) => l.msg === 'nocloud request refused');
    expect(refused).toHaveLength(4);
    expect(refused[0]).toMatchObject({ level: 30, path: `/nocloud/${DASHED}/REDACTED/user-data` });
    expect(JSON.stringify(app.logs)).not.toContain(TOKEN);
  });

  it('serves nothing to a host in local mode', async () => {
    const local = '52:54:00:2b:00:03';
    app.index.upsert(toSecret({ ...installConfig(local, TOKEN), mode: 'local' }, 'lab'));
    expect((await fetch(`${app.base}/nocloud/${local.replace(/:/g, '-')}/${TOKEN}/user-data`)).status).toBe(404);
  });
});
