// The preseed route: a host's preseed file (installer: debian-preseed) as text/plain, for its current install token
// only; the token never reaches the record or the log; hosts of other kinds have no preseed file.
import { toSecret } from '@anvil/core/bootconfig';
import { installConfig, serveBootApp, type ServedBootApp } from './testing/serve-boot-app.js';

const MAC = '52:54:00:2d:00:01';
const DASHED = MAC.replace(/:/g, '-');
const TOKEN = 'tok-preseed-0123456789';
const PRESEED = 'd-i debian-installer/locale string en_US.UTF-8\nd-i finish-install/reboot_in_progress note\n';

describe('boot-server HTTP: preseed files', () => {
  let app: ServedBootApp;
  beforeAll(async () => {
    app = await serveBootApp({ logLevel: 'debug', rateLimit: { perSecond: 0, burst: 0 } });
    app.index.upsert(toSecret(installConfig(MAC, TOKEN, { installer: 'debian-preseed', userData: '', metaData: '', preseed: PRESEED }), 'lab'));
  });
  afterAll(async () => app.close());
  beforeEach(() => {
    app.spooled.length = 0;
    app.logs.length = 0;
  });
  const get = (path: string) => fetch(`${app.base}${path}`);

  it('serves the file as text with the valid token and records it, without the token', async () => {
    const res = await get(`/preseed/${DASHED}/${TOKEN}/preseed.cfg`);
    expect({ status: res.status, type: res.headers.get('content-type'), body: await res.text() }).toEqual({ status: 200, type: 'text/plain; charset=utf-8', body: PRESEED });
    expect(app.spooled).toMatchObject([{ kind: 'boot-request', mac: MAC, served: 'PreseedFile', path: `/preseed/${DASHED}/REDACTED/preseed.cfg`, installationId: '55555555-5555-4555-8555-555555555555' }]);
    expect(app.logs.filter((l) => l.msg === 'request').map((l) => l.path)).toEqual([`/preseed/${DASHED}/REDACTED/preseed.cfg`]);
    expect(JSON.stringify([app.spooled, app.logs])).not.toContain(TOKEN);
  });

  it('serves no NoCloud files to a preseed host', async () => {
    for (const file of ['user-data', 'meta-data']) expect({ file, status: (await get(`/nocloud/${DASHED}/${TOKEN}/${file}`)).status }).toEqual({ file, status: 404 });
    expect(app.spooled).toEqual([]);
  });

  it('answers 404 for a wrong token, an unknown host, another file or a host of another kind, logging no token', async () => {
    const ubuntu = '52:54:00:2d:00:02';
    app.index.upsert(toSecret(installConfig(ubuntu, TOKEN), 'lab'));
    for (const url of [
      `/preseed/${DASHED}/wrong-token/preseed.cfg`,
      `/preseed/52-54-00-2d-ff-ff/${TOKEN}/preseed.cfg`,
      `/preseed/${DASHED}/${TOKEN}/user-data`,
      `/preseed/${ubuntu.replace(/:/g, '-')}/${TOKEN}/preseed.cfg`,
    ]) {
      const res = await get(url);
      expect({ url, status: res.status, body: await res.text() }).toEqual({ url, status: 404, body: 'not found\n' });
    }
    expect(app.spooled).toEqual([]);
    const refused = app.logs.filter((l) => l.msg === 'preseed request refused');
    expect(refused).toHaveLength(2);
    expect(refused[0]).toMatchObject({ path: `/preseed/${DASHED}/REDACTED/preseed.cfg` });
    expect(JSON.stringify(app.logs)).not.toContain(TOKEN);
  });
});
