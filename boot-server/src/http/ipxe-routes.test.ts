// The iPXE routes: the entry script every machine chains through, and each machine's own script by MAC (recorded as
// a boot request, with the facts iPXE sends).
import { toSecret } from '@anvil/core/bootconfig';
import type { BootRequestRecord } from '../spool/records.js';
import { installConfig, serveBootApp, type ServedBootApp } from './testing/serve-boot-app.js';

const MAC = '52:54:00:1a:00:01';
const DASHED = MAC.replace(/:/g, '-');

describe('boot-server HTTP: iPXE scripts', () => {
  let app: ServedBootApp;
  beforeAll(async () => {
    app = await serveBootApp();
    app.index.upsert(toSecret(installConfig(MAC, 'tok-ipxe-0123456789'), 'lab'));
  });
  afterAll(async () => app.close());
  beforeEach(() => (app.spooled.length = 0));

  it('serves the entry script, chaining to this server by MAC', async () => {
    const res = await fetch(`${app.base}/boot.ipxe`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const script = await res.text();
    expect(script).toContain('chain --autofree http://boot.test/ipxe/${net0/mac:hexhyp}?arch=${buildarch}&platform=${platform}&uuid=${uuid}');
    // SMBIOS strings may hold spaces and '&': URI-encoded by iPXE
    expect(script).toContain('&manufacturer=${manufacturer:uristring}&product=${product:uristring}&serial=${serial:uristring}&asset=${asset:uristring} ||');
    expect(app.spooled).toEqual([]);
  });

  it('serves a known machine its script and records the boot request with the facts iPXE sent', async () => {
    const res = await fetch(`${app.base}/ipxe/${DASHED}?arch=x86_64&platform=efi&uuid=${'u'.repeat(129)}&manufacturer=QEMU&product=Standard%20PC%20(i440FX%20%2B%20PIIX%2C%201996)&serial=%01bad&asset=%20&other=1`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await res.text()).toBe('#!ipxe\nkernel x\n');
    const [record] = app.spooled as BootRequestRecord[];
    expect(record).toMatchObject({
      kind: 'boot-request',
      mac: MAC,
      clientIP: expect.stringMatching(/127\.0\.0\.1/),
      path: `/ipxe/${DASHED}`,
      served: 'InstallScript',
      host: { namespace: 'lab', name: 'host-5254001a0001', uid: `uid-${MAC}` },
      installationId: '55555555-5555-4555-8555-555555555555',
      install: { installationId: '55555555-5555-4555-8555-555555555555', revision: 1, attempt: 1 },
    });
    // Only the facts iPXE sends, printable, none empty or longer than status.discovery allows (128 characters).
    expect(record!.facts).toEqual({ arch: 'x86_64', platform: 'efi', manufacturer: 'QEMU', product: 'Standard PC (i440FX + PIIX, 1996)' });
  });

  it('tells a machine in local mode to boot from its disk', async () => {
    const mac = '52:54:00:1a:00:02';
    app.index.upsert(toSecret({ ...installConfig(mac, 'unused'), mode: 'local', ipxe: '#!ipxe\nexit\n', install: undefined }, 'lab'));
    const res = await fetch(`${app.base}/ipxe/${mac}`);
    expect(await res.text()).toBe('#!ipxe\nexit\n');
    expect(app.spooled).toMatchObject([{ served: 'LocalBootScript', mac }]);
    expect(app.spooled[0]).not.toHaveProperty('installationId');
    expect(app.spooled[0]).not.toHaveProperty('facts');
  });

  it('tells an unknown machine to boot locally (or to wait in the shell) and records it as rejected', async () => {
    const res = await fetch(`${app.base}/ipxe/52-54-00-1A-FF-FF`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('#!ipxe\necho anvil: no BareMetalHost has boot MAC 52:54:00:1a:ff:ff; it was recorded as discovered\nexit\n');
    expect(app.spooled).toMatchObject([{ kind: 'boot-request', mac: '52:54:00:1a:ff:ff', served: 'Rejected' }]);
    expect(app.spooled[0]).not.toHaveProperty('host');

    const shell = await serveBootApp({ unknownMachine: 'shell' });
    try {
      expect(await (await fetch(`${shell.base}/ipxe/52-54-00-1a-ff-ff`)).text()).toMatch(/\nshell\n$/);
    } finally {
      await shell.close();
    }
  });

  it('refuses a malformed MAC with 400 and records nothing', async () => {
    const res = await fetch(`${app.base}/ipxe/not-a-mac`);
    expect(res.status).toBe(400);
    expect(await res.text()).toBe('malformed MAC address\n');
    expect(app.spooled).toEqual([]);
  });

  it('answers 500 without internals when the boot request cannot be recorded, and logs why', async () => {
    app.failNextAppend();
    const res = await fetch(`${app.base}/ipxe/${DASHED}`);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: 'internal error' });
    expect(app.logs.at(-1)).toMatchObject({ level: 50, msg: 'request failed', err: 'disk full', path: `/ipxe/${DASHED}` });
  });
});
